//! Sweeps from JavaScript: `sweep(scenario, spec)` for the whole thing at once, and the `Sweep`
//! class that runs one simulation per `step()`, so a Web Worker can post progress between
//! steps and stop when told to.

use dsim_core::export::sweep_csv;
use dsim_core::{Scenario, ScenarioError, SweepSpec};
use js_sys::Reflect;
use serde_json::{Map, Number, Value};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::convert::{error, scenario_error, to_js};
use crate::install_panic_hook;
use crate::scenario_input::{js_type, scenario_from_js};

const FIELDS: [&str; 5] = ["knob", "from", "to", "steps", "seeds"];

/// Reads `{knob, from, to, steps, seeds}`; the core checks the rest and names the field.
fn spec_from_js(value: &JsValue) -> Result<SweepSpec, ScenarioError> {
    let wrong = |key: &str, message: String| ScenarioError {
        key: key.into(),
        message,
    };
    if !value.is_object() || js_sys::Array::is_array(value) || value.is_function() {
        return Err(wrong(
            "sweep",
            format!(
                "must be an object with knob, from, to, steps and seeds (got {})",
                js_type(value)
            ),
        ));
    }
    let object: &js_sys::Object = value.unchecked_ref();
    let mut fields = Map::new();
    for key in js_sys::Object::keys(object).iter() {
        let key = key.as_string().unwrap_or_default();
        if !FIELDS.contains(&key.as_str()) {
            return Err(wrong(&key, "is not a sweep setting".into()));
        }
    }
    for key in FIELDS {
        let v = Reflect::get(value, &key.into()).unwrap_or(JsValue::UNDEFINED);
        if v.is_undefined() {
            continue; // The core names the missing field.
        }
        let json = match (key, v.as_f64(), v.as_string()) {
            ("knob", _, Some(text)) => Value::String(text),
            ("knob", ..) => {
                return Err(wrong(
                    key,
                    format!("must be the name of a setting (got {})", js_type(&v)),
                ));
            }
            (_, Some(n), _) => Value::Number(
                Number::from_f64(n)
                    .ok_or_else(|| wrong(key, format!("must be a finite number (got {n})")))?,
            ),
            _ => {
                return Err(wrong(
                    key,
                    format!("must be a number (got {})", js_type(&v)),
                ));
            }
        };
        fields.insert(key.into(), json);
    }
    SweepSpec::from_json(&Value::Object(fields))
}

/// An error from the sweep's inputs: scenario settings by their camelCase name, the sweep's
/// own fields as they are.
fn sweep_error(e: &ScenarioError) -> JsValue {
    if FIELDS.contains(&e.key.as_str()) || e.key == "sweep" {
        error(&e.key, &e.message)
    } else {
        scenario_error(e)
    }
}

fn inputs(scenario: &JsValue, spec: &JsValue) -> Result<(Scenario, SweepSpec), JsValue> {
    let base = scenario_from_js(scenario).map_err(|e| scenario_error(&e))?;
    let spec = spec_from_js(spec).map_err(|e| sweep_error(&e))?;
    Ok((base, spec))
}

/// Varies one setting (`spec.knob`) from `spec.from` to `spec.to` in `spec.steps` values and
/// runs every mode at each, `spec.seeds` times (seeds `seed`, `seed + 1`, …). Each point of the
/// result holds, per mode, the mean and 95 % confidence interval of duplicates and losses per
/// message, p99 latency and throughput, and theory's expectation where one is valid. The same
/// inputs always give the same result. Throws an `Error` naming the field on bad input,
/// including a sweep too long to run (more than 20 million simulated messages in all).
///
/// This blocks until every run is done; in a page, use the `Sweep` class in a Worker instead.
#[wasm_bindgen(unchecked_return_type = "SweepResult")]
pub fn sweep(
    #[wasm_bindgen(unchecked_param_type = "ScenarioInput")] scenario: JsValue,
    #[wasm_bindgen(unchecked_param_type = "SweepSpec")] spec: JsValue,
) -> Result<JsValue, JsValue> {
    install_panic_hook();
    let (base, spec) = inputs(&scenario, &spec)?;
    to_js(&dsim_core::sweep(&base, &spec).map_err(|e| sweep_error(&e))?)
}

/// A sweep run one simulation at a time: `step()` until `finished`, reading `progress` (and
/// the points finished so far, from `result()`) in between. To cancel, stop calling `step()`
/// and `free()` it.
#[wasm_bindgen]
pub struct Sweep {
    sweep: dsim_core::Sweep,
}

#[wasm_bindgen]
impl Sweep {
    /// A sweep with nothing run yet. Throws like `sweep` on bad input.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "ScenarioInput")] scenario: JsValue,
        #[wasm_bindgen(unchecked_param_type = "SweepSpec")] spec: JsValue,
    ) -> Result<Sweep, JsValue> {
        install_panic_hook();
        let (base, spec) = inputs(&scenario, &spec)?;
        let sweep = dsim_core::Sweep::new(&base, &spec).map_err(|e| sweep_error(&e))?;
        Ok(Sweep { sweep })
    }

    /// Runs the next simulation to its end and returns the progress after it. Does nothing
    /// once the sweep is finished.
    #[wasm_bindgen(unchecked_return_type = "SweepProgress")]
    pub fn step(&mut self) -> Result<JsValue, JsValue> {
        self.sweep.step();
        to_js(&self.sweep.progress())
    }

    /// Runs done, runs in all, points done, and the fraction done.
    #[wasm_bindgen(getter, unchecked_return_type = "SweepProgress")]
    pub fn progress(&self) -> Result<JsValue, JsValue> {
        to_js(&self.sweep.progress())
    }

    #[wasm_bindgen(getter)]
    pub fn finished(&self) -> bool {
        self.sweep.is_finished()
    }

    /// The points whose runs are all done: all of them once `finished`.
    #[wasm_bindgen(unchecked_return_type = "SweepResult")]
    pub fn result(&self) -> Result<JsValue, JsValue> {
        to_js(&self.sweep.result())
    }

    /// The points done so far as CSV, one row per point and mode (as `dsim sweep --csv`).
    pub fn csv(&self) -> String {
        sweep_csv(&self.sweep.result())
    }
}
