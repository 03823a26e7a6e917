//! The `Simulation` class: a run that JavaScript steps itself, for authors who animate their
//! own views of it, and moves back through (`seekTo`, `stepBack`) by the core's time travel.

use dsim_core::{Report, TimeTravel};
use wasm_bindgen::prelude::*;

use crate::api::message_id_from_js;
use crate::convert::{error, scenario_error, to_js};
use crate::install_panic_hook;
use crate::scenario_input::{scenario_from_js, shown};

/// Events `step()` runs when not told how many: a few milliseconds of work, about one frame.
const DEFAULT_STEP_EVENTS: u64 = 1_000;

/// The bytes of snapshots a run keeps for `seekTo` and `stepBack`, by estimate (besides the
/// count bound of `TimeTravel::DEFAULT_CAPACITY`).
const SNAPSHOT_BYTES: usize = TimeTravel::DEFAULT_BYTE_BUDGET;

/// A run in progress. Create it from a scenario, then call `step(events)` or `advanceTo(ms)`
/// from your animation loop and draw the snapshot each returns; `report()` gives the full
/// report at any point. Call `free()` when done if you create many: the run's memory lives in
/// the module, not in the JavaScript heap.
///
/// `seekTo(ms)` and `stepBack()` move back through the part of the run simulated so far
/// (snapshots plus an exact replay, so a past position is exactly a fresh run stopped there);
/// `step` and `advanceTo` then move forward from that position, and past the furthest point
/// simulated they carry on simulating.
#[wasm_bindgen]
pub struct Simulation {
    tape: TimeTravel,
    /// The end-of-run report, kept because completing its counterexample replays the run.
    final_report: Option<Report>,
}

#[wasm_bindgen]
impl Simulation {
    /// A run of the scenario at simulated time 0. Throws like `simulate` on a bad scenario.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "ScenarioInput")] scenario: JsValue,
    ) -> Result<Simulation, JsValue> {
        install_panic_hook();
        let scenario = scenario_from_js(&scenario).map_err(|e| scenario_error(&e))?;
        // apply_json checked every key it was given; this checks the defaults as well, as
        // `simulate` does, so a class instance can never hold a scenario `simulate` refuses.
        scenario.validate().map_err(|e| scenario_error(&e))?;
        Ok(Simulation {
            tape: TimeTravel::with_limits(&scenario, TimeTravel::DEFAULT_CAPACITY, SNAPSHOT_BYTES),
            final_report: None,
        })
    }

    /// Runs up to `events` more events (1,000 if not given; 0 runs none) and returns the
    /// snapshot after them. Does nothing once the run is finished.
    #[wasm_bindgen(unchecked_return_type = "Snapshot")]
    pub fn step(
        &mut self,
        #[wasm_bindgen(unchecked_optional_param_type = "number")] events: JsValue,
    ) -> Result<JsValue, JsValue> {
        let events = if events.is_undefined() {
            DEFAULT_STEP_EVENTS
        } else {
            match events.as_f64() {
                // `as` saturates, so an enormous count simply runs to the end.
                Some(n) if n >= 0.0 && n.fract() == 0.0 => n as u64,
                _ => {
                    return Err(error(
                        "events",
                        &format!(
                            "must be a whole number of events, 0 or more (got {})",
                            shown(&events)
                        ),
                    ));
                }
            }
        };
        let at = self.tape.current().events();
        let live = self.tape.live().events();
        if !self.tape.is_live() && at.saturating_add(events) < live {
            self.tape.seek_events(at + events);
        } else {
            let beyond = at.saturating_add(events).saturating_sub(live);
            self.tape.go_live();
            self.tape.step(beyond);
        }
        self.snapshot()
    }

    /// Runs every event up to simulated time `ms` (milliseconds since the start, not a
    /// duration) and returns the snapshot there. The run stops at its horizon.
    #[wasm_bindgen(js_name = advanceTo, unchecked_return_type = "Snapshot")]
    pub fn advance_to(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "number")] ms: JsValue,
    ) -> Result<JsValue, JsValue> {
        let until_us = instant_us(&ms)?;
        if self.tape.is_live() || until_us >= self.tape.live().now_us() {
            self.tape.go_live();
            self.tape.advance_to(until_us, u64::MAX);
        } else if until_us > self.tape.current().now_us() {
            self.tape.seek(until_us);
        }
        self.snapshot()
    }

    /// Moves to simulated time `ms` within the part of the run simulated so far (later times
    /// go to the furthest point) and returns the snapshot there: exactly what a fresh run
    /// advanced to `ms` shows. Going back costs at most the replay from the nearest snapshot.
    #[wasm_bindgen(js_name = seekTo, unchecked_return_type = "Snapshot")]
    pub fn seek_to(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "number")] ms: JsValue,
    ) -> Result<JsValue, JsValue> {
        let t_us = instant_us(&ms)?;
        self.tape.seek(t_us);
        self.snapshot()
    }

    /// Moves one event back and returns the snapshot there (at the start, stays there).
    #[wasm_bindgen(js_name = stepBack, unchecked_return_type = "Snapshot")]
    pub fn step_back(&mut self) -> Result<JsValue, JsValue> {
        self.tape.step_back();
        self.snapshot()
    }

    /// Whether this is the furthest point simulated (not a past position).
    #[wasm_bindgen(getter)]
    pub fn live(&self) -> bool {
        self.tape.is_live()
    }

    /// Where the run is now: counters, simulated time, progress and status.
    #[wasm_bindgen(unchecked_return_type = "Snapshot")]
    pub fn snapshot(&self) -> Result<JsValue, JsValue> {
        to_js(&self.tape.current().snapshot())
    }

    /// The report of the run so far; once the run is finished, the same report `simulate`
    /// returns for the scenario. A counterexample found before the end has no trace yet:
    /// ask `trace(counterexample.message)` for it.
    #[wasm_bindgen(unchecked_return_type = "Report")]
    pub fn report(&mut self) -> Result<JsValue, JsValue> {
        let run = self.tape.current();
        if !run.is_finished() {
            return to_js(&run.report());
        }
        to_js(self.final_report.get_or_insert_with(|| run.full_report()))
    }

    /// The whole life of one message of this scenario, numbered from 0, from a replay of the
    /// run: it includes what happens after the current simulated time.
    #[wasm_bindgen(unchecked_return_type = "TraceEvent[]")]
    pub fn trace(
        &self,
        #[wasm_bindgen(js_name = messageId, unchecked_param_type = "number")] message_id: JsValue,
    ) -> Result<JsValue, JsValue> {
        let scenario = self.tape.scenario();
        let message = message_id_from_js(scenario, &message_id)?;
        to_js(&dsim_core::trace_message(scenario, message))
    }

    /// The life of one message as a Mermaid sequence diagram (see `traceMermaid`).
    #[wasm_bindgen(js_name = traceMermaid)]
    pub fn trace_mermaid(
        &self,
        #[wasm_bindgen(js_name = messageId, unchecked_param_type = "number")] message_id: JsValue,
    ) -> Result<String, JsValue> {
        let scenario = self.tape.scenario();
        let message = message_id_from_js(scenario, &message_id)?;
        let trace = dsim_core::trace_message(scenario, message);
        Ok(dsim_core::export::mermaid_sequence(message, &trace))
    }

    /// The metrics so far as CSV (see `metricsCsv`): the run's time series up to now.
    #[wasm_bindgen(js_name = metricsCsv)]
    pub fn metrics_csv(&self) -> String {
        dsim_core::export::series_csv(&self.tape.current().report().series)
    }

    /// The complete scenario this run uses, defaults filled in.
    #[wasm_bindgen(getter, unchecked_return_type = "Scenario")]
    pub fn scenario(&self) -> Result<JsValue, JsValue> {
        to_js(self.tape.scenario())
    }

    /// Whether the run has ended (drained, gave up or stalled).
    #[wasm_bindgen(getter)]
    pub fn finished(&self) -> bool {
        self.tape.current().is_finished()
    }

    /// Fraction of the messages resolved (applied or lost), from 0 to 1.
    #[wasm_bindgen(getter)]
    pub fn progress(&self) -> f64 {
        self.tape.current().progress()
    }

    /// Simulated time now, in milliseconds.
    #[wasm_bindgen(getter = nowMs)]
    pub fn now_ms(&self) -> f64 {
        dsim_core::time::us_to_ms(self.tape.current().now_us())
    }
}

/// A time argument in milliseconds since the start, as microseconds; anything else is a
/// one-line error naming the argument.
fn instant_us(ms: &JsValue) -> Result<dsim_core::time::Micros, JsValue> {
    match ms.as_f64() {
        Some(ms) if ms.is_finite() && ms >= 0.0 => Ok(dsim_core::time::ms_to_us(ms)),
        _ => Err(error(
            "ms",
            &format!(
                "must be a time in milliseconds, 0 or more (got {})",
                shown(ms)
            ),
        )),
    }
}
