//! `dsim bench`: simulated messages per second of wall time on standard scenarios.
//!
//! The core never reads a clock; measuring wall time is the CLI's business.

use std::time::Instant;

use dsim_core::presets::bench_scenario;
use dsim_core::{Mode, Scenario, Simulation};
use serde::Serialize;

#[derive(Serialize)]
pub struct BenchRow {
    pub mode: String,
    pub faults: String,
    pub messages: u32,
    pub events: u64,
    pub seconds: f64,
    pub messages_per_s: f64,
    pub events_per_s: f64,
    pub peak_in_flight_messages: u64,
}

pub fn measure(scenario: &Scenario, faults: &str) -> BenchRow {
    let start = Instant::now();
    let mut sim = Simulation::new(scenario);
    sim.run_to_end();
    let seconds = start.elapsed().as_secs_f64();
    let report = sim.report();
    BenchRow {
        mode: scenario.mode.key().to_string(),
        faults: faults.to_string(),
        messages: scenario.messages,
        events: report.events,
        seconds,
        messages_per_s: scenario.messages as f64 / seconds,
        events_per_s: report.events as f64 / seconds,
        peak_in_flight_messages: report.cost.peak_in_flight_messages,
    }
}

pub fn run(messages: u32, modes: &[Mode]) -> Vec<BenchRow> {
    let mut rows = Vec::new();
    for &mode in modes {
        rows.push(measure(&bench_scenario(mode, messages, false), "0%"));
        rows.push(measure(&bench_scenario(mode, messages, true), "10%"));
    }
    rows
}

pub fn table(rows: &[BenchRow]) -> String {
    let mut out = format!(
        "{:<20} {:>6} {:>9} {:>11} {:>8} {:>13} {:>13} {:>10}\n",
        "mode", "faults", "messages", "events", "seconds", "msgs/s", "events/s", "peak live"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<20} {:>6} {:>9} {:>11} {:>8.3} {:>13.0} {:>13.0} {:>10}\n",
            r.mode,
            r.faults,
            r.messages,
            r.events,
            r.seconds,
            r.messages_per_s,
            r.events_per_s,
            r.peak_in_flight_messages
        ));
    }
    out
}
