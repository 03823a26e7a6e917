//! Text exports for documentation authors: a message's life as a Mermaid sequence diagram,
//! a run's history as JSON lines, its metrics as CSV. The same bytes as `dsim trace
//! --mermaid`, `dsim history` and `dsim run --series-csv`.

use dsim_core::export;
use wasm_bindgen::prelude::*;

use crate::api::message_id_from_js;
use crate::convert::scenario_error;
use crate::install_panic_hook;
use crate::scenario_input::scenario_from_js;

/// The life of one message (numbered from 0) as a Mermaid `sequenceDiagram`, ready to paste
/// into Markdown. Every arrow and note names its attempt and copy, so two deliveries of the
/// message are two labelled arrows. Throws like `trace`.
#[wasm_bindgen(js_name = traceMermaid)]
pub fn trace_mermaid(
    #[wasm_bindgen(unchecked_param_type = "ScenarioInput")] scenario: JsValue,
    #[wasm_bindgen(js_name = messageId, unchecked_param_type = "number")] message_id: JsValue,
) -> Result<String, JsValue> {
    install_panic_hook();
    let scenario = scenario_from_js(&scenario).map_err(|e| scenario_error(&e))?;
    scenario.validate().map_err(|e| scenario_error(&e))?;
    let message = message_id_from_js(&scenario, &message_id)?;
    let trace = dsim_core::trace_message(&scenario, message);
    Ok(export::mermaid_sequence(message, &trace))
}

/// Every event of every message of the run, one JSON object per line (`HistoryEvent`), in
/// time order. Runs of more than 20,000 messages are refused (the history is held in memory):
/// the error names `messages`.
#[wasm_bindgen(js_name = historyJsonLines)]
pub fn history_json_lines(
    #[wasm_bindgen(unchecked_param_type = "ScenarioInput")] scenario: JsValue,
) -> Result<String, JsValue> {
    install_panic_hook();
    let scenario = scenario_from_js(&scenario).map_err(|e| scenario_error(&e))?;
    export::history_json_lines(&scenario).map_err(|e| scenario_error(&e))
}

/// The run's metrics over simulated time as CSV: one row per time bucket with throughput,
/// side effects applied, cumulative duplicates and losses, and latency p50 and p99.
#[wasm_bindgen(js_name = metricsCsv)]
pub fn metrics_csv(
    #[wasm_bindgen(unchecked_param_type = "ScenarioInput")] scenario: JsValue,
) -> Result<String, JsValue> {
    install_panic_hook();
    let scenario = scenario_from_js(&scenario).map_err(|e| scenario_error(&e))?;
    scenario.validate().map_err(|e| scenario_error(&e))?;
    let mut sim = dsim_core::Simulation::new(&scenario);
    sim.run_to_end();
    Ok(export::series_csv(&sim.report().series))
}
