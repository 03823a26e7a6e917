//! Fuzzing, as property tests: hostile URL queries, hostile scenario JSON, and the engine on
//! arbitrary valid scenarios. Nothing may panic, loop forever, or apply a value the knob
//! table refuses, and every run must keep its books.
//!
//! CI runs a bounded number of cases per target (`DSIM_SLOW_TESTS=1` doubles them); run
//! longer with `DSIM_FUZZ_CASES`, e.g. overnight:
//!
//! ```sh
//! DSIM_FUZZ_CASES=200000 cargo test --release -p dsim-tests --lib fuzz
//! ```
//!
//! A failure prints the minimal input proptest shrank it to (and, for the engine, the `dsim`
//! command that replays it); proptest also records it under `proptest-regressions/` so the
//! next run tries it first.

use std::sync::mpsc;
use std::time::Duration;

use dsim_core::knobs::{OFF_ON, encode_component, sample_scenario};
use dsim_core::{Kind, Scenario, Simulation, Status, event_budget, knob, knobs};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::support::{fuzz_config as config, replay};

/// Strings people (and attackers) put where a setting goes.
const HOSTILE: &[&str] = &[
    "",
    " ",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "1e309",
    "-1e309",
    "5e-324",
    "-0",
    "0x10",
    "1_000",
    "+3",
    " 7 ",
    "9007199254740993",
    "18446744073709551616",
    "%",
    "%zz",
    "%ff%fe",
    "%00",
    "+",
    "&",
    "=",
    "==",
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "'; DROP TABLE ledger; --",
    "\u{202e}1.0",
    "٣",
    "１",
];

/// A query key: a real one (kebab or camel case), one of the page's, or anything at all.
fn query_key() -> impl Strategy<Value = String> {
    let real: Vec<String> = knobs()
        .iter()
        .flat_map(|k| [k.key.to_string(), k.json_key.to_string()])
        .chain(["embed", "view", "message"].map(String::from))
        .collect();
    prop_oneof![
        6 => proptest::sample::select(real),
        1 => proptest::sample::select(HOSTILE).prop_map(String::from),
        1 => ".{0,12}",
    ]
}

/// A query value: a number inside or just outside some knob's range, a hostile string, a
/// choice name, or anything at all.
fn query_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (-2.0..2.0f64).prop_map(|v| format!("{v}")),
        2 => (0u64..3_000_000).prop_map(|v| v.to_string()),
        1 => any::<f64>().prop_map(|v| format!("{v}")),
        2 => proptest::sample::select(HOSTILE).prop_map(String::from),
        1 => proptest::sample::select(vec![
            "at-most-once", "at-least-once", "idempotent-consumer", "exactly-once", "outbox",
            "leader", "all", "1", "-1", "compare", "run",
        ]).prop_map(String::from),
        1 => ".{0,16}",
    ]
}

/// A raw query: pairs, sometimes percent-encoded, sometimes mangled, joined by `&`.
fn query() -> impl Strategy<Value = String> {
    proptest::collection::vec((query_key(), query_value(), 0u8..6), 0..12).prop_map(|pairs| {
        let mut parts = Vec::new();
        for (k, v, how) in &pairs {
            parts.push(match how {
                0 => format!("{}={}", encode_component(k), encode_component(v)),
                1 => format!("{k}={v}"),
                2 => encode_component(k),
                3 => format!("{}={}&", encode_component(k), encode_component(v)),
                4 => format!("?{}={}", encode_component(k), encode_component(v)),
                _ => format!("{}=={}", encode_component(k), encode_component(v)),
            });
        }
        parts.join("&")
    })
}

proptest! {
    #![proptest_config(config(256))]

    /// The core's URL parser on anything: no panic, only valid values applied, each error one
    /// short line naming its key, and the last valid value given for a knob is the one that
    /// counts (a later bad one does not undo it, an earlier one does not win).
    #[test]
    fn fuzz_url_queries(q in query()) {
        let (s, errors) = Scenario::from_query(&q, &["embed", "view", "message"]);
        prop_assert!(s.validate().is_ok(), "{q:?} applied an invalid value");
        for e in &errors {
            let line = e.to_string();
            prop_assert!(!line.contains('\n'), "{line:?}");
            prop_assert!(line.chars().count() <= 200, "{line:?}");
            prop_assert!(e.key.chars().count() <= 41, "{line:?}");
        }
        // The oracle: replay the decoded pairs one knob at a time. `min-insync-replicas` is
        // bounded by the final `replication-factor` (checked once every key is in): replayed
        // against the largest factor, then refused (back to 1) if it exceeds the real one.
        let pairs = dsim_core::knobs::parse_query(&q);
        for k in knobs() {
            // A setting the chosen broker does not have is refused and stays at its default.
            if !k.applies_to(s.broker) {
                prop_assert_eq!(k.get(&s), k.get(&Scenario::default()), "{} from {:?}", k.key, q);
                continue;
            }
            let mut expected = Scenario::default();
            if k.key == "min-insync-replicas" {
                expected.replication_factor = 5;
            }
            for (key, value) in &pairs {
                if key == k.key || key == k.json_key {
                    let _ = k.set_text(&mut expected, value);
                }
            }
            if k.key == "min-insync-replicas" && expected.min_insync_replicas > s.replication_factor {
                expected.min_insync_replicas = 1;
            }
            prop_assert_eq!(k.get(&s), k.get(&expected), "{} from {:?}", k.key, q);
        }
        // What the page writes back reads back as the same scenario, with no errors.
        let (back, errors) = Scenario::from_query(&s.to_query(), &[]);
        prop_assert!(errors.is_empty(), "{errors:?}");
        prop_assert_eq!(back, s);
    }

    /// Raw text, not only well-formed pairs: percent signs, lone `=`, invalid UTF-8 escapes.
    #[test]
    fn fuzz_url_text(q in "[a-z%=&+?0-9.\\-<>\"' ]{0,80}|.{0,80}") {
        let (s, _) = Scenario::from_query(&q, &[]);
        prop_assert!(s.validate().is_ok());
    }
}

/// A JSON value for a setting: every JSON type, numbers inside, at and beyond the ranges.
fn json_setting() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        3 => (-2.0..2.0f64).prop_map(|v| json!(v)),
        2 => (0u64..3_000_000).prop_map(|v| json!(v)),
        1 => any::<i64>().prop_map(|v| json!(v)),
        1 => any::<u64>().prop_map(|v| json!(v)),
        1 => any::<f64>().prop_map(|v| serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)),
        2 => proptest::sample::select(vec![
            "at-most-once", "exactly-once", "outbox", "leader", "all", "1", "-1", "", "0.5", "on", "off",
        ]).prop_map(|s| json!(s)),
        1 => proptest::sample::select(HOSTILE).prop_map(|s| json!(s)),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A scenario object: mostly real keys in either spelling, sometimes unknown ones.
fn json_scenario() -> impl Strategy<Value = Value> {
    let keys: Vec<String> = knobs()
        .iter()
        .flat_map(|k| [k.key.to_string(), k.json_key.to_string()])
        .collect();
    let key = prop_oneof![
        8 => proptest::sample::select(keys),
        1 => proptest::sample::select(HOSTILE).prop_map(String::from),
        1 => ".{0,10}",
    ];
    prop_oneof![
        9 => proptest::collection::vec((key, json_setting()), 0..8)
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        1 => json_setting(),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    /// Scenario JSON onto any valid scenario: all or nothing. Accepted JSON sets exactly the
    /// values it names; refused JSON leaves the scenario as it was and names a key it holds.
    #[test]
    fn fuzz_scenario_json(value in json_scenario(), base_seed in any::<u64>()) {
        let base = sample_scenario(base_seed, 2_000_000);
        let mut s = base.clone();
        match s.apply_json(&value) {
            Ok(()) => {
                prop_assert!(s.validate().is_ok());
                // Both spellings of a key may be present; the last one (in the object's order,
                // which `apply_json` follows too) is the one that counts.
                let mut last = std::collections::BTreeMap::new();
                for (key, v) in value.as_object().expect("only objects are accepted") {
                    let k = knob(key).expect("only known keys are accepted");
                    last.insert(k.key, (k, v));
                }
                for (key, (k, v)) in last {
                    match v {
                        Value::Number(n) => prop_assert_eq!(k.get(&s), n.as_f64().unwrap()),
                        Value::Bool(on) if k.kind == Kind::Choice(OFF_ON) => {
                            prop_assert_eq!(k.get(&s), *on as u8 as f64)
                        }
                        Value::String(text) => {
                            let mut alone = Scenario::default();
                            k.set_text(&mut alone, text).expect("it was accepted");
                            prop_assert_eq!(k.get(&s), k.get(&alone));
                        }
                        other => prop_assert!(false, "accepted {other} for {key}"),
                    }
                }
            }
            Err(e) => {
                prop_assert_eq!(&s, &base, "a refused scenario changed nothing");
                let named = e.key == "scenario"
                    || value.as_object().is_some_and(|o| {
                        o.keys().any(|k| {
                            k.chars().take(40).eq(e.key.chars().take(40))
                                || knob(k).is_some_and(|kn| kn.key == e.key)
                        })
                    });
                prop_assert!(named, "{e} names no key of {value}");
                prop_assert!(!e.to_string().contains('\n'));
            }
        }
        // As text, through `from_json`, the same object gives the same verdict.
        let text = value.to_string();
        let mut from_default = Scenario::default();
        let applied = from_default.apply_json(&value).map(|()| from_default);
        prop_assert_eq!(Scenario::from_json(&text), applied);
    }

    /// Any bytes as a scenario file: an error or a valid scenario, never a panic.
    #[test]
    fn fuzz_scenario_json_text(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(s) = Scenario::from_json(&text) {
            prop_assert!(s.validate().is_ok());
        }
    }

    /// What a scenario serializes to (the page's JSON, the report's `scenario`) reads back
    /// as the same scenario.
    #[test]
    fn any_valid_scenario_round_trips_through_json(seed in any::<u64>()) {
        let s = sample_scenario(seed, 2_000_000);
        let text = serde_json::to_string(&s).unwrap();
        prop_assert_eq!(Scenario::from_json(&text), Ok(s));
    }
}

/// Runs `body` on another thread and fails, naming the scenario, if it takes longer than
/// `limit`: an infinite loop inside one event would otherwise hang the test binary.
fn within<T: Send + 'static>(
    limit: Duration,
    s: &Scenario,
    body: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(body());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("no result within {limit:?}; {}", replay(s))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("the run panicked; {}", replay(s))
        }
    }
}

/// The books every report must balance, at any point of any run.
fn check_books(r: &dsim_core::Report) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        r.produced,
        r.unique_processed + r.lost + r.in_flight,
        "conservation; {}",
        replay(&r.scenario)
    );
    prop_assert_eq!(
        r.side_effects,
        r.unique_processed + r.duplicates,
        "effects; {}",
        replay(&r.scenario)
    );
    prop_assert_eq!(
        r.lost,
        r.lost_silently + r.gave_up + r.dead_lettered,
        "losses; {}",
        replay(&r.scenario)
    );
    prop_assert!(r.produced <= r.messages as u64);
    // (Microsecond rounding of the horizon may put the end a fraction of a microsecond past it.)
    prop_assert!(
        r.duration_ms <= r.scenario.horizon_ms + 0.001,
        "past the horizon; {}",
        replay(&r.scenario)
    );
    prop_assert!(
        r.events <= event_budget(r.messages),
        "past the event budget; {}",
        replay(&r.scenario)
    );
    Ok(())
}

/// Up to this many events per case: enough to finish most small runs, bounded in any case.
const FUZZ_EVENTS: u64 = 300_000;

proptest! {
    #![proptest_config(config(48))]

    /// The engine on any valid scenario (every knob anywhere in its range, edges often), for
    /// a bounded number of events in uneven chunks: no panic (debug builds check every
    /// overflow), no event that never returns, books balanced after every chunk, and a finished
    /// run stays finished with a status other than running.
    #[test]
    fn fuzz_engine_on_any_valid_scenario(seed in any::<u64>(), chunk in 1u64..5_000) {
        let s = sample_scenario(seed, 400);
        prop_assert!(s.validate().is_ok());
        let scenario = s.clone();
        let outcome = within(Duration::from_secs(60), &s, move || {
            let mut sim = Simulation::new(&scenario);
            let mut reports = Vec::new();
            let mut ran = 0;
            while ran < FUZZ_EVENTS && !sim.is_finished() {
                let n = sim.step(chunk);
                assert!(n <= chunk);
                ran += n;
                reports.push(sim.report());
            }
            let finished = sim.is_finished();
            let after = sim.step(chunk);
            (reports, finished, after, sim.status(), sim.full_report())
        });
        let (reports, finished, after, status, last) = outcome;
        for r in &reports {
            check_books(r)?;
        }
        check_books(&last)?;
        if finished {
            prop_assert_eq!(after, 0, "a finished run moved");
            prop_assert_ne!(status, Status::Running);
            if status != Status::Stalled {
                prop_assert_eq!(last.in_flight, 0, "only a stalled run leaves messages in flight");
            }
            if let Some(ce) = &last.guarantee.counterexample {
                prop_assert!(!ce.trace.is_empty(), "a counterexample without its trace");
            }
            // The finished run's books against its history, message by message (books.rs).
            if let Some(books) = crate::books::rebuild(&s)
                && let Err(e) = crate::books::check(&last, &books)
            {
                prop_assert!(false, "books: {}; {}", e, replay(&s));
            }
        }
    }
}

#[test]
fn the_sampler_reaches_every_edge_of_the_knob_table() {
    // The fuzzers are only as good as their inputs: over a few thousand seeds, every knob is
    // seen at its minimum and its maximum, and every choice is drawn.
    let samples: Vec<Scenario> = (0..4_000).map(|seed| sample_scenario(seed, 400)).collect();
    // A setting no broker family has yet (kept for the ones to come) stays at its default.
    for k in knobs().iter().filter(|k| !k.brokers.is_empty()) {
        let max = if k.key == "messages" { 400.0 } else { k.max };
        assert!(
            samples.iter().any(|s| k.get(s) == k.min),
            "{} never at its minimum",
            k.key
        );
        assert!(
            samples.iter().any(|s| k.get(s) == max),
            "{} never at its maximum",
            k.key
        );
        if let Kind::Choice(names) = k.kind {
            for (i, name) in names.iter().enumerate() {
                assert!(
                    samples.iter().any(|s| k.get(s) == i as f64),
                    "{} never {name}",
                    k.key
                );
            }
        }
    }
    assert_eq!(
        sample_scenario(7, 400),
        sample_scenario(7, 400),
        "same seed, same scenario"
    );
}
