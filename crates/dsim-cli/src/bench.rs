//! `dsim bench`: simulated messages per second of wall time on standard scenarios.
//!
//! The core never reads a clock; measuring wall time is the CLI's business.

use std::time::Instant;

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

/// The "10 % faults" mix: every per-message network fault at 10 % (publish, publish ack,
/// delivery and ack lost, network duplicates). Crashes take a whole process down for a
/// while and hit every message it holds, so they are rarer: 0.1 % per message for each
/// consumer crash point, 0.01 % per append for the broker. At 10 % per message, consumers
/// would spend most of their time restarting and the run would measure a backlog, not the
/// simulator.
pub fn with_faults(s: &Scenario) -> Scenario {
    Scenario {
        publish_loss: 0.1,
        publish_ack_loss: 0.1,
        delivery_loss: 0.1,
        ack_loss: 0.1,
        duplicate: 0.1,
        crash_before_process: 0.001,
        crash_after_process: 0.001,
        broker_crash: 0.0001,
        ..s.clone()
    }
}

/// A standard scenario: many messages at a rate the consumers keep up with.
pub fn standard(mode: Mode, messages: u32) -> Scenario {
    Scenario {
        mode,
        messages,
        publish_rate: 2_000.0,
        ..Scenario::default()
    }
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
        let base = standard(mode, messages);
        rows.push(measure(&base, "0%"));
        rows.push(measure(&with_faults(&base), "10%"));
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
