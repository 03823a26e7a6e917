//! Helpers shared by the test stories: build a scenario from a URL query, run it, check an
//! expectation, and compare readable snapshots.

use std::path::PathBuf;

use dsim_core::{CrashPoint, Link, Mode, Report, Scenario, ScriptedFault, TraceEvent, simulate};
use proptest::prelude::*;

/// Cases for a property test or fuzz target: `DSIM_FUZZ_CASES` if set (to run longer), else
/// `ci`, doubled with `DSIM_SLOW_TESTS` (as CI sets). Each case may take at most a minute, so
/// a hang fails the test rather than the CI job's clock.
pub fn fuzz_config(ci: u32) -> proptest::test_runner::Config {
    let cases = match std::env::var("DSIM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(n) => n,
        None if std::env::var_os("DSIM_SLOW_TESTS").is_some() => ci * 2,
        None => ci,
    };
    proptest::test_runner::Config {
        cases,
        timeout: 60_000,
        ..proptest::test_runner::Config::default()
    }
}

/// The scenario a URL query describes; panics (a test bug) if the query has a bad key.
pub fn scenario(query: &str) -> Scenario {
    let (scenario, errors) = Scenario::from_query(query, &[]);
    assert!(errors.is_empty(), "bad test query {query:?}: {errors:?}");
    scenario
}

/// The scenario on a broker that runs its mode: a drawn scenario on a broker that refuses
/// the mode a test asks for (exactly-once on RabbitMQ) moves to Kafka, keeping its faults.
pub fn runnable(mut s: Scenario) -> Scenario {
    if s.broker.refuses(s.mode).is_some() {
        s.set_broker(dsim_core::Broker::Kafka);
    }
    s
}

/// Runs a scenario; on any later assertion failure the caller should print `replay(&s)`.
pub fn run(s: &Scenario) -> Report {
    simulate(s).unwrap_or_else(|e| panic!("invalid scenario ({e}): {}", replay(s)))
}

/// How to replay a failing case by hand.
pub fn replay(s: &Scenario) -> String {
    format!(
        "replay with: dsim run {}",
        s.to_query()
            .split('&')
            .map(|kv| format!("--{}", kv.replacen('=', " ", 1)))
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// What a test expects of one mode's run.
#[derive(Clone, Copy, Debug)]
pub struct Expect {
    pub duplicates: Outcome,
    pub lost: Outcome,
    pub guarantee_held: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outcome {
    None,
    Some,
}

pub const CLEAN: Expect = Expect {
    duplicates: Outcome::None,
    lost: Outcome::None,
    guarantee_held: true,
};

/// Runs `query` in `mode` and checks duplicates, losses and the checker's verdict.
pub fn check(query: &str, mode: Mode, expect: Expect) -> Report {
    let s = scenario(query).with_mode(mode);
    let r = run(&s);
    let seen = |n: u64| if n == 0 { Outcome::None } else { Outcome::Some };
    let context = format!(
        "{} in {:?}: duplicates {}, lost {} (gave up {}, dead-lettered {}), guarantee held {}\n{}",
        query,
        mode,
        r.duplicates,
        r.lost,
        r.gave_up,
        r.dead_lettered,
        r.guarantee.held,
        replay(&s)
    );
    assert_eq!(
        seen(r.duplicates),
        expect.duplicates,
        "duplicates: {context}"
    );
    assert_eq!(seen(r.lost), expect.lost, "losses: {context}");
    assert_eq!(
        r.guarantee.held, expect.guarantee_held,
        "guarantee: {context}"
    );
    assert_eq!(r.in_flight, 0, "every textbook case drains: {context}");
    assert_conserved(&r);
    r
}

/// Every produced message is applied, lost, or still in flight; effects are unique plus
/// duplicates.
pub fn assert_conserved(r: &Report) {
    assert_eq!(
        r.produced,
        r.unique_processed + r.lost + r.in_flight,
        "conservation: {}",
        replay(&r.scenario)
    );
    assert_eq!(
        r.side_effects,
        r.unique_processed + r.duplicates,
        "effects: {}",
        replay(&r.scenario)
    );
    assert_eq!(
        r.lost,
        r.lost_silently + r.gave_up + r.dead_lettered,
        "loss breakdown: {}",
        replay(&r.scenario)
    );
}

/// A trace as short readable lines: time, lane, what happened.
pub fn trace_text(trace: &[TraceEvent]) -> String {
    trace
        .iter()
        .map(|e| {
            let to = e.to.map(|a| format!(" -> {a:?}")).unwrap_or_default();
            format!(
                "{:>9.3} ms  {:?}{}  {:?}  #{} c{}  {}\n",
                e.at_us as f64 / 1000.0,
                e.actor,
                to,
                e.kind,
                e.attempt,
                e.copy,
                e.note
            )
        })
        .collect()
}

/// Compares `text` with `tests/snapshots/<name>.txt`; `DSIM_BLESS=1` rewrites the file.
pub fn assert_snapshot(name: &str, text: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join(format!("{name}.txt"));
    if std::env::var_os("DSIM_BLESS").is_some() {
        std::fs::write(&path, text).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {} (run with DSIM_BLESS=1 to create it)",
            path.display()
        )
    });
    assert_eq!(
        expected, text,
        "snapshot {name} changed (run with DSIM_BLESS=1 if intended)"
    );
}

/// Any scripted fault for a scenario with `consumers` and `producers` (at least 1 each), at
/// whole-microsecond times (as people type them: 2s, 2.5s, 250ms, 0.001ms) before `until_us`.
pub fn any_scripted_fault(
    consumers: u16,
    producers: u16,
    until_us: u64,
) -> impl Strategy<Value = ScriptedFault> {
    let time = (0..until_us).prop_map(|us| us as f64 / 1000.0);
    let link = prop_oneof![
        (0..producers).prop_map(Link::Producer),
        (0..consumers).prop_map(Link::Consumer),
    ];
    let point = prop_oneof![
        Just(CrashPoint::Now),
        Just(CrashPoint::BeforeProcessing),
        Just(CrashPoint::AfterProcessing),
    ];
    prop_oneof![
        (time.clone(), 0..consumers, point).prop_map(|(at_ms, consumer, point)| {
            ScriptedFault::CrashConsumer {
                at_ms,
                consumer,
                point,
            }
        }),
        time.clone()
            .prop_map(|at_ms| ScriptedFault::CrashBroker { at_ms }),
        (time.clone(), time, link).prop_filter_map("an empty window", |(a, b, link)| {
            (a != b).then(|| ScriptedFault::Partition {
                from_ms: a.min(b),
                to_ms: a.max(b),
                link,
            })
        }),
    ]
}
