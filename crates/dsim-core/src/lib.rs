//! A deterministic simulation of message delivery semantics.
//!
//! Producers publish payments to a broker, the broker delivers them to a consumer group, and
//! consumers apply them to a ledger; every hop crosses a network that can lose, duplicate or
//! delay, and every node can crash, as the scenario's fault rates say. Five delivery modes
//! (at-most-once, at-least-once, idempotent consumer, exactly-once, transactional outbox)
//! decide how producer, broker and consumer react. A run is a pure function of its
//! `Scenario`: time is virtual, every random decision derives from the seed, and only ordered
//! collections are iterated, so the same scenario gives the same `Report` on every platform.
//!
//! The compiler holds the core to that: `clippy.toml` beside this crate's `Cargo.toml` bans
//! clocks, platform `ln`/`exp`/`powf` and std's hash maps here, and these lints are errors.

#![deny(clippy::disallowed_methods, clippy::disallowed_types)]

mod brokers;
mod clients;
mod effects;
mod engine;
mod observe;
pub mod report;
pub mod scenario;
mod simulation;
pub mod time;

// The public paths the CLI, the page and the tests use, whichever folder holds the module.
pub use engine::faults;
pub use observe::{money, trace};
#[cfg(feature = "claims")]
pub use report::claims;
pub use report::{checker, export, in_flight, matrix, stats, sweep, theory, time_travel};
pub use scenario::{element, knobs, presets, script};

pub use engine::{MAX_EVENTS, MAX_LOG_RECORDS, Status, event_budget};
pub use in_flight::{ConsumerStatus, ConsumerView, PartitionQueue, QueueState, WireCounts};
pub use knobs::{Group, Kind, Knob, ScenarioError, knob, knobs};
pub use presets::{Preset, presets};
pub use report::{
    Counterexample, ExternalReport, Guarantee, QueueReport, ReplicationReport, Report,
    ScriptedFiring, Snapshot, SqsReport, ZombieReport,
};
pub use scenario::{Acks, Broker, Idempotence, Mode, Promise, QueueType, Scenario};
pub use script::{CrashPoint, Link, ScriptedFault};
pub use simulation::Simulation;
pub use stats::Estimate;
pub use sweep::{Sweep, SweepProgress, SweepResult, SweepSpec, sweep};
pub use time_travel::{Replay, Target, TimeTravel};
pub use trace::{Actor, TraceEvent, TraceKind};

/// Runs a scenario to the end and returns its report, with the counterexample's trace filled
/// in when the mode broke its promise. The scenario is validated first.
pub fn simulate(scenario: &Scenario) -> Result<Report, ScenarioError> {
    scenario.validate()?;
    let mut sim = Simulation::new(scenario);
    sim.run_to_end();
    Ok(sim.full_report())
}

impl Simulation {
    /// The report with the counterexample's trace filled in (by replaying the run with that
    /// message traced) and explained from it. `report` is the cheap version for animation.
    pub fn full_report(&self) -> Report {
        let mut report = self.report();
        if let Some(ce) = report.guarantee.counterexample.as_mut() {
            ce.trace = trace_message(&self.world.scenario, ce.message);
            ce.explanation = checker::explain(ce.message, &ce.problem, self.world.mode, &ce.trace);
        }
        report
    }
}

/// Runs every mode the scenario's broker runs (`Broker::modes`) on the same scenario, seed
/// and faults.
pub fn compare(scenario: &Scenario) -> Result<Vec<Report>, ScenarioError> {
    scenario
        .broker
        .modes()
        .map(|mode| simulate(&scenario.with_mode(mode)))
        .collect()
}

/// The full life of one message, by replaying the run with that message traced. The replay
/// stops as soon as nothing can happen to the message any more.
pub fn trace_message(scenario: &Scenario, message: u32) -> Vec<TraceEvent> {
    let mut sim = Simulation::with_traces(scenario, &[message]);
    while !sim.is_finished() && !sim.is_resolved(message) {
        sim.step(1024);
    }
    sim.trace_of(message)
        .map(<[TraceEvent]>::to_vec)
        .unwrap_or_default()
}
