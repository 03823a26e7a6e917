//! The module's free functions: whole runs, comparisons, traces, and the tables a page needs
//! to build its own controls (presets, knobs, modes, defaults).

use dsim_core::{Broker, Kind, Mode, Scenario};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::convert::{error, scenario_error, to_js};
use crate::install_panic_hook;
use crate::scenario_input::{scenario_from_js, shown};

/// Runs a scenario to the end and returns its report: the same fields and values as
/// `dsim run --json`. Settings left out keep the playground's defaults, so
/// `simulate({ mode: "at-least-once", ackLoss: 0.1 })` is a complete call.
///
/// Throws an `Error` naming the field (`"ackLoss: must be between 0 and 1 (got 2)"`, with the
/// field also in `error.field`) if a setting is unknown, of the wrong type or out of range.
#[wasm_bindgen(unchecked_return_type = "Report")]
pub fn simulate(
    #[wasm_bindgen(unchecked_param_type = "ScenarioInput")] scenario: JsValue,
) -> Result<JsValue, JsValue> {
    install_panic_hook();
    let scenario = scenario_from_js(&scenario).map_err(|e| scenario_error(&e))?;
    let report = dsim_core::simulate(&scenario).map_err(|e| scenario_error(&e))?;
    to_js(&report)
}

/// Runs the scenario once in every mode, same seed and faults, and returns the five reports in
/// the order at-most-once, at-least-once, idempotent consumer, exactly-once, outbox. The
/// scenario's own `mode` is ignored. Throws like `simulate`.
#[wasm_bindgen(unchecked_return_type = "Report[]")]
pub fn compare(
    #[wasm_bindgen(unchecked_param_type = "ScenarioInput")] scenario: JsValue,
) -> Result<JsValue, JsValue> {
    install_panic_hook();
    let scenario = scenario_from_js(&scenario).map_err(|e| scenario_error(&e))?;
    let reports = dsim_core::compare(&scenario).map_err(|e| scenario_error(&e))?;
    to_js(&reports)
}

/// The real-world systems table: every broker family × every mode on the scenario's faults
/// and seed, brokers in `brokers()` order, modes in `modes()` order. A cell is one run of the
/// scenario on that broker (its settings that broker lacks back at their defaults) and mode,
/// with its query for loading it; a mode the broker refuses carries the reason instead. The
/// scenario's own `mode` and `broker` are ignored. Throws like `simulate`.
#[wasm_bindgen(unchecked_return_type = "MatrixCell[]")]
pub fn matrix(
    #[wasm_bindgen(unchecked_param_type = "ScenarioInput")] scenario: JsValue,
) -> Result<JsValue, JsValue> {
    install_panic_hook();
    let scenario = scenario_from_js(&scenario).map_err(|e| scenario_error(&e))?;
    let cells = dsim_core::matrix::matrix(&scenario).map_err(|e| scenario_error(&e))?;
    to_js(&cells)
}

/// The life of one message (numbered from 0) in a run of the scenario, as events across the
/// producer, broker, consumer and ledger lanes. Throws if the scenario is bad or the message
/// number is not one of the scenario's messages.
#[wasm_bindgen(unchecked_return_type = "TraceEvent[]")]
pub fn trace(
    #[wasm_bindgen(unchecked_param_type = "ScenarioInput")] scenario: JsValue,
    #[wasm_bindgen(js_name = messageId, unchecked_param_type = "number")] message_id: JsValue,
) -> Result<JsValue, JsValue> {
    install_panic_hook();
    let scenario = scenario_from_js(&scenario).map_err(|e| scenario_error(&e))?;
    let message = message_id_from_js(&scenario, &message_id)?;
    to_js(&dsim_core::trace_message(&scenario, message))
}

/// Checks a message number against the scenario before the trace replays the run: an id past
/// the last message would replay the whole run only to return nothing.
pub(crate) fn message_id_from_js(scenario: &Scenario, value: &JsValue) -> Result<u32, JsValue> {
    let last = scenario.messages.saturating_sub(1);
    let wrong = |got: String| {
        error(
            "messageId",
            &format!("must be a whole number from 0 to {last} (got {got})"),
        )
    };
    match value.as_f64() {
        Some(id) if id.fract() == 0.0 && (0.0..=f64::from(last)).contains(&id) => Ok(id as u32),
        _ => Err(wrong(shown(value))),
    }
}

/// A full scenario with every setting at its default, as the playground starts.
#[wasm_bindgen(unchecked_return_type = "Scenario")]
pub fn defaults() -> Result<JsValue, JsValue> {
    install_panic_hook();
    to_js(&full_defaults())
}

/// The default scenario as JSON with every setting, including those the scenario's own JSON
/// leaves out at their defaults (the exactly-once trap's and the zombies' settings), so a page
/// building controls from it finds every key. Switches are booleans, as in the scenario.
fn full_defaults() -> serde_json::Value {
    let s = Scenario::default();
    let mut json = serde_json::to_value(&s).unwrap_or_default();
    if let Some(object) = json.as_object_mut() {
        for k in dsim_core::knobs() {
            object.entry(k.json_key).or_insert_with(|| match k.kind {
                Kind::Choice(names) if names == dsim_core::knobs::OFF_ON => {
                    serde_json::Value::Bool(k.get(&s) != 0.0)
                }
                Kind::Choice(_) => serde_json::Value::String(k.get_text(&s)),
                _ => serde_json::json!(k.get(&s)),
            });
        }
    }
    json
}

/// One of the textbook failure cases, ready to run: `simulate(preset.scenario)`.
#[derive(Serialize)]
#[cfg_attr(all(test, not(target_arch = "wasm32")), derive(ts_rs::TS))]
pub(crate) struct Preset {
    /// Stable name, as in the playground's `?preset=` links.
    key: String,
    title: String,
    /// What happens, and what to try next, in a few sentences.
    explanation: String,
    /// The scenario as a URL query over the defaults (`mode=at-least-once&ack-loss=0.1`).
    query: String,
    /// The complete scenario the query describes.
    scenario: Scenario,
}

/// The textbook failure cases the playground offers as presets.
#[wasm_bindgen(unchecked_return_type = "Preset[]")]
pub fn presets() -> Result<JsValue, JsValue> {
    install_panic_hook();
    let presets = dsim_core::presets()
        .iter()
        .map(|p| {
            Ok(Preset {
                key: p.key.into(),
                title: p.title.into(),
                explanation: p.explanation.into(),
                query: p.query.into(),
                scenario: p.scenario().map_err(|e| scenario_error(&e))?,
            })
        })
        .collect::<Result<Vec<_>, JsValue>>()?;
    to_js(&presets)
}

/// How a knob's value is read and shown.
#[derive(Serialize)]
#[cfg_attr(all(test, not(target_arch = "wasm32")), derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub(crate) enum KnobKind {
    /// A probability from 0 to 1.
    Probability,
    /// A duration in milliseconds.
    Millis,
    /// A whole number.
    Count,
    /// A rate per second.
    Rate,
    /// One of `choices`.
    Choice,
}

/// A knob's value: a number, or a name for a choice.
#[derive(Serialize)]
#[cfg_attr(all(test, not(target_arch = "wasm32")), derive(ts_rs::TS))]
#[serde(untagged)]
pub(crate) enum KnobValue {
    Number(f64),
    Choice(String),
}

/// One scenario setting, with what a page needs to build a control for it.
#[derive(Serialize)]
#[cfg_attr(all(test, not(target_arch = "wasm32")), derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct Knob {
    /// The kebab-case key of URLs and CLI flags (`ack-loss`).
    key: String,
    /// The camelCase key of scenario objects (`ackLoss`).
    json_key: String,
    label: String,
    /// One sentence on what the setting does.
    help: String,
    /// The control panel section (`"Consumer side"`).
    group: String,
    kind: KnobKind,
    /// `"ms"`, `"msg/s"` or empty.
    unit: String,
    min: f64,
    max: f64,
    /// A sensible slider step.
    step: f64,
    /// The allowed names of a `choice` knob; empty for the others.
    choices: Vec<String>,
    /// The playground's default.
    default: KnobValue,
    /// The broker families that have this setting; given for another, it is refused.
    brokers: Vec<Broker>,
}

/// Every scenario setting with its keys, label, unit, range, step and group, in the
/// playground's order, so a page can build its own controls.
#[wasm_bindgen(unchecked_return_type = "Knob[]")]
pub fn knobs() -> Result<JsValue, JsValue> {
    install_panic_hook();
    let defaults = Scenario::default();
    let knobs: Vec<Knob> = dsim_core::knobs()
        .iter()
        .map(|k| {
            let (kind, choices) = match k.kind {
                Kind::Probability => (KnobKind::Probability, Vec::new()),
                Kind::Millis => (KnobKind::Millis, Vec::new()),
                Kind::Count => (KnobKind::Count, Vec::new()),
                Kind::Rate => (KnobKind::Rate, Vec::new()),
                Kind::Choice(names) => (
                    KnobKind::Choice,
                    names.iter().map(|n| n.to_string()).collect(),
                ),
            };
            let default = match kind {
                KnobKind::Choice => KnobValue::Choice(k.get_text(&defaults)),
                _ => KnobValue::Number(k.get(&defaults)),
            };
            Knob {
                key: k.key.into(),
                json_key: k.json_key.into(),
                label: k.label.into(),
                help: k.help.into(),
                group: k.group.title().into(),
                kind,
                unit: k.unit.into(),
                min: k.min,
                max: k.max,
                step: k.step,
                choices,
                default,
                brokers: k.brokers.to_vec(),
            }
        })
        .collect();
    to_js(&knobs)
}

/// A broker family: the real system it models.
#[derive(Serialize)]
#[cfg_attr(all(test, not(target_arch = "wasm32")), derive(ts_rs::TS))]
pub(crate) struct BrokerInfo {
    /// The value of a scenario's `broker`.
    key: Broker,
    /// The real system's name (`"Kafka"`).
    title: String,
    /// What the family is, in a sentence.
    description: String,
}

/// The broker families, the default first.
#[wasm_bindgen(unchecked_return_type = "BrokerInfo[]")]
pub fn brokers() -> Result<JsValue, JsValue> {
    install_panic_hook();
    let brokers: Vec<BrokerInfo> = Broker::ALL
        .iter()
        .map(|&b| BrokerInfo {
            key: b,
            title: b.title().into(),
            description: b.description().into(),
        })
        .collect();
    to_js(&brokers)
}

/// A delivery mode and what it promises.
#[derive(Serialize)]
#[cfg_attr(all(test, not(target_arch = "wasm32")), derive(ts_rs::TS))]
pub(crate) struct ModeInfo {
    /// The value of a scenario's `mode`.
    key: Mode,
    /// A title for tables (`"Idempotent consumer"`).
    title: String,
    /// How the mode works, in a sentence or two.
    mechanism: String,
    /// What it promises, as a report's `guarantee.promise` says it.
    promise: String,
}

/// The five delivery modes, in the order `compare` returns them.
#[wasm_bindgen(unchecked_return_type = "ModeInfo[]")]
pub fn modes() -> Result<JsValue, JsValue> {
    install_panic_hook();
    let modes: Vec<ModeInfo> = Mode::ALL
        .iter()
        .map(|&m| ModeInfo {
            key: m,
            title: m.title().into(),
            mechanism: m.mechanism().into(),
            promise: m.promise().describe().into(),
        })
        .collect();
    to_js(&modes)
}
