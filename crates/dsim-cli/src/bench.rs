//! `dsim bench`: simulated messages per second of wall time on standard scenarios.
//!
//! The core never reads a clock; measuring wall time is the CLI's business.

use std::time::Instant;

use dsim_core::presets::bench_scenario;
use dsim_core::{Mode, Scenario, Simulation};
use serde::Serialize;

/// One scenario's figures. Wall time on a shared VM swings by a third between runs minutes
/// apart, so each scenario runs `runs` times: the rates are the median run's, with the slowest
/// and fastest beside them.
#[derive(Serialize)]
pub struct BenchRow {
    pub mode: String,
    pub faults: String,
    pub messages: u32,
    pub events: u64,
    pub runs: u32,
    pub seconds: f64,
    pub messages_per_s: f64,
    pub messages_per_s_min: f64,
    pub messages_per_s_max: f64,
    pub events_per_s: f64,
    pub peak_in_flight_messages: u64,
}

/// Runs `scenario` `runs` times (at least once) and summarises the wall times.
pub fn measure(scenario: &Scenario, faults: &str, runs: u32) -> BenchRow {
    let mut seconds = Vec::new();
    let mut last = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let mut sim = Simulation::new(scenario);
        sim.run_to_end();
        seconds.push(start.elapsed().as_secs_f64());
        last = Some(sim);
    }
    // Every run is the same run (same scenario and seed): one report describes them all.
    let report = last.expect("at least one run").report();
    seconds.sort_by(f64::total_cmp);
    let median = seconds[seconds.len() / 2];
    let rate = |s: f64| scenario.messages as f64 / s;
    BenchRow {
        mode: scenario.mode.key().to_string(),
        faults: faults.to_string(),
        messages: scenario.messages,
        events: report.events,
        runs: seconds.len() as u32,
        seconds: median,
        messages_per_s: rate(median),
        messages_per_s_min: rate(seconds[seconds.len() - 1]),
        messages_per_s_max: rate(seconds[0]),
        events_per_s: report.events as f64 / median,
        peak_in_flight_messages: report.cost.peak_in_flight_messages,
    }
}

pub fn run(messages: u32, modes: &[Mode], runs: u32) -> Vec<BenchRow> {
    let mut rows = Vec::new();
    for &mode in modes {
        rows.push(measure(&bench_scenario(mode, messages, false), "0%", runs));
        rows.push(measure(&bench_scenario(mode, messages, true), "10%", runs));
    }
    rows
}

pub fn table(rows: &[BenchRow]) -> String {
    let mut out = format!(
        "{:<20} {:>6} {:>9} {:>11} {:>8} {:>10} {:>21} {:>11} {:>10}\n",
        "mode",
        "faults",
        "messages",
        "events",
        "seconds",
        "msgs/s",
        "msgs/s range",
        "events/s",
        "peak live"
    );
    for r in rows {
        let range = format!("{:.0}-{:.0}", r.messages_per_s_min, r.messages_per_s_max);
        out.push_str(&format!(
            "{:<20} {:>6} {:>9} {:>11} {:>8.3} {:>10.0} {:>21} {:>11.0} {:>10}\n",
            r.mode,
            r.faults,
            r.messages,
            r.events,
            r.seconds,
            r.messages_per_s,
            range,
            r.events_per_s,
            r.peak_in_flight_messages
        ));
    }
    if let Some(runs) = rows.first().map(|r| r.runs).filter(|&n| n > 1) {
        out.push_str(&format!(
            "(median of {runs} runs per scenario; the range is the slowest and fastest run)\n"
        ));
    }
    out
}
