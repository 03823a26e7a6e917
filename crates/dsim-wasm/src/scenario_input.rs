//! The way in from JavaScript: a settings object becomes a `Scenario`, or an error naming the
//! field that is wrong.
//!
//! The object is copied into a `serde_json::Value` one entry at a time and handed to
//! `Scenario::apply_json`, so JavaScript gets exactly the core's defaults, key spellings
//! (`ackLoss` or `ack-loss`), type checks, ranges and messages, the same as a scenario file
//! given to the CLI. The copy is by hand rather than through `serde_wasm_bindgen::from_value`
//! because only here can JavaScript-only values be told apart and blamed on their field:
//! `undefined` (which serde would turn into `null`), `NaN` and `Infinity` (which JSON cannot
//! hold), BigInt seeds, functions and symbols.

use dsim_core::{Kind, Knob, Scenario, ScenarioError};
use js_sys::{Array, BigInt, Object};
use serde_json::{Map, Number, Value};
use wasm_bindgen::{JsCast, JsValue};

/// Reads a scenario from a JS settings object; missing settings keep their defaults.
pub fn scenario_from_js(value: &JsValue) -> Result<Scenario, ScenarioError> {
    let object = settings_object(value)?;
    let mut settings = Map::new();
    for entry in Object::entries(object).iter() {
        let entry: Array = entry.unchecked_into();
        // Object.entries yields string keys only (symbols are skipped), so this never fails.
        let key = entry.get(0).as_string().unwrap_or_default();
        let value = setting_to_json(&key, &entry.get(1))?;
        settings.insert(key, value);
    }
    let mut scenario = Scenario::default();
    scenario.apply_json(&Value::Object(settings))?;
    Ok(scenario)
}

fn settings_object(value: &JsValue) -> Result<&Object, ScenarioError> {
    if value.is_object() && !Array::is_array(value) {
        Ok(value.unchecked_ref())
    } else {
        Err(ScenarioError {
            key: "scenario".into(),
            message: format!("must be an object of settings (got {})", js_type(value)),
        })
    }
}

/// One setting's value as JSON. Only the JSON type of a value that no setting accepts matters
/// (`apply_json` names it in its message), so arrays and objects are not copied.
fn setting_to_json(key: &str, value: &JsValue) -> Result<Value, ScenarioError> {
    if key == dsim_core::script::SCRIPT_KEY {
        return Ok(script_to_json(value));
    }
    let Some(knob) = dsim_core::knob(key) else {
        // `apply_json` rejects the key itself, in the core's words, whatever its value.
        return Ok(Value::Null);
    };
    if let Some(number) = value.as_f64() {
        return match Number::from_f64(number) {
            Some(n) => Ok(Value::Number(n)),
            None => Err(not_finite(knob, number)),
        };
    }
    if let Some(text) = value.as_string() {
        return Ok(Value::String(text));
    }
    if let Some(flag) = value.as_bool() {
        return Ok(Value::Bool(flag));
    }
    if value.is_null() {
        return Ok(Value::Null);
    }
    if value.is_bigint() {
        return Ok(bigint_to_json(value.unchecked_ref()));
    }
    if Array::is_array(value) {
        return Ok(Value::Array(Vec::new()));
    }
    if value.is_object() && !value.is_function() {
        return Ok(Value::Object(Map::new()));
    }
    // undefined, functions and symbols have no JSON form; say so in the core's words.
    Err(ScenarioError {
        key: knob.key.into(),
        message: format!("must be {} (got {})", expected(knob.kind), js_type(value)),
    })
}

/// The script: its compact text, or a list of entries (objects or texts) copied through
/// `JSON.stringify`, exactly what a scenario file would hold. Anything else keeps only its
/// JSON type, which `apply_json` names in its message.
fn script_to_json(value: &JsValue) -> Value {
    if let Some(text) = value.as_string() {
        return Value::String(text);
    }
    if Array::is_array(value) {
        return js_sys::JSON::stringify(value)
            .ok()
            .and_then(|text| text.as_string())
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Array(Vec::new()));
    }
    if let Some(number) = value.as_f64() {
        return Number::from_f64(number).map_or(Value::Null, Value::Number);
    }
    if let Some(flag) = value.as_bool() {
        return Value::Bool(flag);
    }
    if value.is_object() {
        return Value::Object(Map::new());
    }
    Value::Null
}

/// NaN and the infinities are numbers in JavaScript but not in JSON, so they are checked here,
/// by the knob's own range check, which words the error ("must be a finite number (got NaN)").
fn not_finite(knob: &Knob, number: f64) -> ScenarioError {
    let wrong_type = || ScenarioError {
        key: knob.key.into(),
        message: format!("must be {} (got {number})", expected(knob.kind)),
    };
    match knob.kind {
        Kind::Choice(_) => wrong_type(),
        _ => knob.check(number).err().unwrap_or_else(wrong_type),
    }
}

/// A BigInt (`seed: 42n`) as an exact JSON integer when it fits one; larger ones become a
/// float, which the range check then rejects with the value in the message.
fn bigint_to_json(value: &BigInt) -> Value {
    let digits = value.to_string(10).map(String::from).unwrap_or_default();
    if let Ok(n) = digits.parse::<u64>() {
        Value::Number(n.into())
    } else if let Ok(n) = digits.parse::<i64>() {
        Value::Number(n.into())
    } else {
        let approx = digits.parse::<f64>().unwrap_or(f64::MAX);
        Number::from_f64(approx).map_or(Value::Null, Value::Number)
    }
}

fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Choice(_) => "a string",
        _ => "a number",
    }
}

/// How a value is named in an error, as `typeof` would say it but with null and arrays told
/// apart, and with the same wording as the core uses for JSON values.
pub fn js_type(value: &JsValue) -> &'static str {
    if value.is_undefined() {
        "undefined"
    } else if value.is_null() {
        "null"
    } else if Array::is_array(value) {
        "an array"
    } else if value.is_function() {
        "a function"
    } else if value.is_object() {
        "an object"
    } else if value.as_bool().is_some() {
        "a boolean"
    } else if value.as_f64().is_some() {
        "a number"
    } else if value.is_string() {
        "a string"
    } else if value.is_bigint() {
        "a bigint"
    } else if value.is_symbol() {
        "a symbol"
    } else {
        "an unsupported value"
    }
}

/// A bad argument as an error message shows it: the number itself, or what it was instead.
pub fn shown(value: &JsValue) -> String {
    match value.as_f64() {
        Some(n) => n.to_string(),
        None => js_type(value).to_string(),
    }
}
