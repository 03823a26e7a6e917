//! `dsim bench`: simulated messages per second of wall time on standard scenarios.
//!
//! The core never reads a clock or counts its bytes; measuring wall time and heap is the
//! CLI's business (its global allocator counts what is allocated, see `main.rs`).

use std::time::Instant;

use dsim_core::presets::bench_scenario;
use dsim_core::{Mode, Scenario, Simulation};
use peakmem_alloc::PeakMemAllocTrait;
use serde::Serialize;

use crate::HEAP;

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
    /// The most heap the run held at once, from `Simulation::new` to its end (the report
    /// aside): bounded by what is in flight, not by `messages`.
    pub peak_heap_bytes: usize,
    /// Heap per message in flight: the slope of peak heap against peak messages in flight
    /// between two backlogs (see `heap_per_in_flight`). `None` if it could not be measured.
    pub heap_per_in_flight_bytes: Option<f64>,
}

/// Backlog sizes for the memory slope: small enough to take a fraction of a second.
const BACKLOGS: [u32; 2] = [10_000, 50_000];

/// One run to its end, timed, with the most heap it held.
struct Run {
    sim: Simulation,
    seconds: f64,
    peak_heap_bytes: usize,
}

fn run_once(scenario: &Scenario) -> Run {
    HEAP.reset_peak_memory();
    let start = Instant::now();
    let mut sim = Simulation::new(scenario);
    sim.run_to_end();
    Run {
        seconds: start.elapsed().as_secs_f64(),
        peak_heap_bytes: HEAP.get_peak_memory(),
        sim,
    }
}

/// Runs `scenario` `runs` times (at least once) and summarises the wall times.
pub fn measure(scenario: &Scenario, faults: &str, runs: u32) -> BenchRow {
    let mut seconds = Vec::new();
    let mut last = None;
    let mut peak_heap_bytes = 0;
    for _ in 0..runs.max(1) {
        // Every run is the same run, so every run's peak is the same: any one will do.
        let run = run_once(scenario);
        seconds.push(run.seconds);
        peak_heap_bytes = run.peak_heap_bytes;
        last = Some(run.sim);
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
        peak_heap_bytes,
        heap_per_in_flight_bytes: heap_per_in_flight(scenario),
    }
}

/// The scenario published ten times faster than its consumers can process (the standard
/// scenarios' consumers keep up with their rate with room to spare), so most messages wait
/// in flight. Not all at once: a broker crash would then lose a whole backlog published
/// within its failover.
fn backlog(scenario: &Scenario, messages: u32) -> Scenario {
    let capacity = scenario.consumers as f64 * 1000.0 / scenario.processing_ms.max(0.001);
    Scenario {
        messages,
        publish_rate: (10.0 * capacity).min(1_000_000.0),
        ..scenario.clone()
    }
}

/// Peak heap and peak messages in flight of one run.
fn peak_of(scenario: &Scenario) -> (f64, f64) {
    let run = run_once(scenario);
    let in_flight = run.sim.report().cost.peak_in_flight_messages;
    (run.peak_heap_bytes as f64, in_flight as f64)
}

/// Bytes of heap per message in flight: the growth of peak heap from a backlog of 10,000
/// messages to one of 50,000, over the growth of peak messages in flight. A difference
/// leaves out what every run holds whatever its size (the histograms, the time series, the
/// ledger's accounts, the event wheel), so what remains is what a message in flight costs:
/// its state, its log record, its queued events and timers, its place in the dedup store.
fn heap_per_in_flight(scenario: &Scenario) -> Option<f64> {
    let (small_heap, small_in_flight) = peak_of(&backlog(scenario, BACKLOGS[0]));
    let (large_heap, large_in_flight) = peak_of(&backlog(scenario, BACKLOGS[1]));
    let in_flight = large_in_flight - small_in_flight;
    (in_flight > 0.0).then(|| (large_heap - small_heap) / in_flight)
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
        "{:<20} {:>6} {:>9} {:>11} {:>8} {:>10} {:>21} {:>11} {:>10} {:>10} {:>12}\n",
        "mode",
        "faults",
        "messages",
        "events",
        "seconds",
        "msgs/s",
        "msgs/s range",
        "events/s",
        "peak live",
        "peak heap",
        "B/in flight"
    );
    for r in rows {
        let range = format!("{:.0}-{:.0}", r.messages_per_s_min, r.messages_per_s_max);
        out.push_str(&format!(
            "{:<20} {:>6} {:>9} {:>11} {:>8.3} {:>10.0} {:>21} {:>11.0} {:>10} {:>10} {:>12}\n",
            r.mode,
            r.faults,
            r.messages,
            r.events,
            r.seconds,
            r.messages_per_s,
            range,
            r.events_per_s,
            r.peak_in_flight_messages,
            mebibytes(r.peak_heap_bytes),
            r.heap_per_in_flight_bytes
                .map_or("-".to_string(), |b| format!("{b:.0}")),
        ));
    }
    if let Some(runs) = rows.first().map(|r| r.runs).filter(|&n| n > 1) {
        out.push_str(&format!(
            "(median of {runs} runs per scenario; the range is the slowest and fastest run)\n"
        ));
    }
    out.push_str(&format!(
        "(peak live: most messages in flight at once; peak heap: most heap the run held; \
         B/in flight: heap per message in flight, the slope of peak heap between backlogs of \
         {} and {} messages published ten times faster than they are consumed)\n",
        BACKLOGS[0], BACKLOGS[1]
    ));
    out
}

fn mebibytes(bytes: usize) -> String {
    format!("{:.2} MiB", bytes as f64 / (1024.0 * 1024.0))
}
