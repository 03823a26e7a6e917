//! The way out to JavaScript: results as plain objects, failures as thrown `Error`s.

use dsim_core::ScenarioError;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// A Rust value as a plain JS object with the same keys and values as its JSON.
///
/// `json_compatible` is what makes the object match `dsim run --json`: `None` becomes `null`
/// (not `undefined`, which would drop `counterexample` from `JSON.stringify`), and integers
/// become numbers rather than BigInts. Every count in a report is far below 2^53, and seeds are
/// limited to 2^53 - 1, so no number loses precision.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| {
            error(
                "result",
                &format!("could not be converted to JavaScript ({e})"),
            )
        })
}

/// A JS `Error` whose message starts with the field it is about, with the field also in a
/// `field` property so a page can put the message next to the right control.
pub fn error(field: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(&format!("{field}: {message}"));
    // Setting a data property on a fresh Error cannot fail; there is nothing to do if it did.
    let _ = js_sys::Reflect::set(&error, &"field".into(), &field.into());
    error.into()
}

/// A core validation error as a JS `Error`. The core names settings in kebab-case (its URL
/// and CLI form); JavaScript callers wrote them in camelCase, so the message uses that name.
pub fn scenario_error(e: &ScenarioError) -> JsValue {
    let field = dsim_core::knob(&e.key).map_or(e.key.as_str(), |k| k.json_key);
    error(field, &e.message)
}
