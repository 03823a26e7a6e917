//! Scripted faults: a timeline ("at 2 s crash consumer 1 after processing; from 3 s to 4 s
//! partition the broker from producer 0") fires at its time in every mode, strikes exactly the
//! traffic it names, shows in the traces of the messages it strikes and in the report, and
//! reads and writes the same way through every door (URL, JSON, CLI text).

use std::collections::BTreeSet;

use dsim_core::export::run_history;
use dsim_core::script::{self, MAX_SCRIPT_ENTRIES};
use dsim_core::{
    CrashPoint, Link, Mode, Report, Scenario, ScriptedFault, Simulation, TraceKind, trace_message,
};
use proptest::prelude::*;

use crate::support::{any_scripted_fault, fuzz_config, replay, run, scenario};

/// The one firing of a one-entry script.
fn fired_at_ms(r: &Report) -> f64 {
    assert_eq!(r.scripted_faults.len(), 1, "{:?}", r.scripted_faults);
    r.scripted_faults[0]
        .from_ms
        .unwrap_or_else(|| panic!("the scripted fault never fired: {}", replay(&r.scenario)))
}

#[test]
fn a_scripted_crash_after_processing_fires_at_its_time_in_every_mode() {
    // No random faults at all: whatever goes wrong is the script's doing.
    let q = "messages=10000&script=2s:crash-consumer-1-after";
    for mode in Mode::ALL {
        let s = scenario(q).with_mode(mode);
        let r = run(&s);
        let at = fired_at_ms(&r);
        // Consumer 1 finishes a record every few ms, so the crash comes right after 2 s.
        assert!(
            (2000.0..2050.0).contains(&at),
            "{mode:?}: fired at {at} ms; {}",
            replay(&s)
        );
        assert_eq!(r.cost.consumer_crashes, 1, "{mode:?}: {}", replay(&s));
        assert_eq!(r.scripted_faults[0].struck, 1);
        assert!(
            r.guarantee.held,
            "{mode:?} broke its promise: {}",
            replay(&s)
        );
        match mode {
            // Processed, its offset not yet committed (committing after every poll, only the
            // record in hand is behind): the consumer restarts, reads it again from the
            // committed offset, and the ledger charges it twice, only that once.
            Mode::AtLeastOnce => {
                assert_eq!(r.duplicates, 1, "{}", replay(&s));
                assert_eq!(r.lost, 0);
                let m = r.example_duplicate.expect("the duplicate");
                let trace = trace_message(&s, m);
                let crash = trace
                    .iter()
                    .find(|e| e.kind == TraceKind::Crash)
                    .expect("the crash is in the duplicate's trace");
                assert!(
                    crash.note.starts_with(
                        "scripted: consumer 1 crashes after processing at 2 s; consumer 1 crashes after processing"
                    ),
                    "{}",
                    crash.note
                );
                assert_eq!(
                    crash.at_us as f64 / 1000.0,
                    at,
                    "the trace and the report agree"
                );
                let applied: Vec<u64> = trace
                    .iter()
                    .filter(|e| e.kind == TraceKind::Processed)
                    .map(|e| e.at_us)
                    .collect();
                assert_eq!(applied.len(), 2);
                assert_eq!(
                    applied[0], crash.at_us,
                    "applied, then the crash, same instant"
                );
                // Read again once the consumer is back (`restart-ms`, 100 ms), within a poll.
                let restart_us = 100_000;
                assert!(applied[1] >= crash.at_us + restart_us);
                assert!(applied[1] < crash.at_us + 2 * restart_us);
            }
            // At-most-once committed before processing: what the consumer held is lost, never
            // doubled.
            Mode::AtMostOnce => assert_eq!(r.duplicates, 0),
            // The strong modes keep their promise: the dedup store or the aborted transaction.
            _ => {
                assert_eq!((r.duplicates, r.lost), (0, 0), "{mode:?}: {}", replay(&s));
            }
        }
    }
}

#[test]
fn a_scripted_crash_before_processing_loses_only_what_at_most_once_acked() {
    // The seeds' "message acknowledged before processing": only at-most-once loses.
    let q = "messages=6000&script=1s:crash-consumer-0-before";
    for mode in Mode::ALL {
        let s = scenario(q).with_mode(mode);
        let r = run(&s);
        let at = fired_at_ms(&r);
        assert!((1000.0..1050.0).contains(&at), "{mode:?}: {at}");
        assert_eq!(r.duplicates, 0, "{mode:?}: {}", replay(&s));
        if mode == Mode::AtMostOnce {
            assert!(r.lost >= 1);
            let m = r.example_loss.expect("a lost message");
            let trace = trace_message(&s, m);
            assert!(
                trace
                    .iter()
                    .any(|e| e.note.starts_with("scripted: consumer 0 crashes")
                        || e.kind == TraceKind::DroppedByCrash),
                "{trace:#?}"
            );
        } else {
            assert_eq!(r.lost, 0, "{mode:?}: {}", replay(&s));
        }
    }
}

/// Messages `m` that producer `p` of `producers` creates in `[from_ms, to_ms)`, at the
/// default 2,000 per second (one every 0.5 ms).
fn produced_in(p: u32, producers: u32, from_ms: f64, to_ms: f64, messages: u32) -> BTreeSet<u32> {
    (0..messages)
        .filter(|m| m % producers == p)
        .filter(|&m| {
            let t = m as f64 * 0.5;
            t >= from_ms && t < to_ms
        })
        .collect()
}

#[test]
fn a_partition_window_loses_exactly_the_publishes_sent_in_it() {
    let q = "mode=at-most-once&messages=10000&script=3s-4s:partition-broker-producer-0";
    let s = scenario(q);
    let r = run(&s);
    let expected = produced_in(0, 2, 3000.0, 4000.0, 10_000);
    assert_eq!(expected.len(), 1000);
    assert_eq!(r.lost, 1000, "{}", replay(&s));
    let f = &r.scripted_faults[0];
    assert_eq!(
        (f.from_ms, f.to_ms, f.window),
        (Some(3000.0), Some(4000.0), true)
    );
    assert_eq!(f.struck, 1000);
    // Exactly those: every lost message is one of producer 0's sent in the window, and its
    // trace says the script lost it.
    let history = run_history(&s).expect("history");
    let lost: BTreeSet<u32> = history
        .iter()
        .filter(|e| e.kind == TraceKind::PublishLost)
        .map(|e| {
            assert_eq!(
                e.note,
                "scripted: partition broker↔producer 0 from 3 s to 4 s; the publish was lost on the network"
            );
            e.message
        })
        .collect();
    assert_eq!(lost, expected);
}

#[test]
fn a_partition_window_delays_the_retrying_modes_until_it_heals() {
    let q = "messages=10000&script=3s-4s:partition-broker-producer-0";
    for mode in [
        Mode::AtLeastOnce,
        Mode::IdempotentConsumer,
        Mode::ExactlyOnce,
        Mode::Outbox,
    ] {
        let s = scenario(q).with_mode(mode);
        let r = run(&s);
        assert_eq!(r.lost, 0, "{mode:?}: {}", replay(&s));
        assert!(r.guarantee.held, "{mode:?}: {}", replay(&s));
        // Messages of producer 0 from inside the window are stored only once it heals; those
        // of producer 1 never notice it.
        // (The outbox relay publishes at its next poll, 10 ms at most after the write.)
        for m in [6000, 7000, 7900] {
            let trace = trace_message(&s, m);
            let stored = trace
                .iter()
                .find(|e| e.kind == TraceKind::Stored)
                .expect("stored");
            assert!(
                stored.at_us >= 4_000_000,
                "{mode:?} message {m}: {trace:#?}"
            );
            // Each was dropped by the partition, or (an idempotent producer's window being
            // full of records the partition dropped) waited in the producer until it healed.
            let first_publish = trace
                .iter()
                .find(|e| e.kind == TraceKind::Publish)
                .expect("published");
            assert!(
                trace
                    .iter()
                    .any(|e| e.note.starts_with("scripted: partition"))
                    || first_publish.at_us >= 4_000_000,
                "{mode:?} message {m}: {trace:#?}"
            );
        }
        let first = trace_message(&s, 6000);
        assert!(
            first
                .iter()
                .any(|e| e.note.starts_with("scripted: partition"))
        );
        for m in [6001, 7001] {
            let trace = trace_message(&s, m);
            let stored = trace
                .iter()
                .find(|e| e.kind == TraceKind::Stored)
                .expect("stored");
            assert!(stored.at_us < 3_600_000, "{mode:?} message {m}: {trace:#?}");
            assert!(!trace.iter().any(|e| e.note.starts_with("scripted:")));
        }
    }
}

#[test]
fn a_partition_from_a_consumer_is_a_network_failure_during_commit() {
    // Offset commits of consumer 0 vanish for 300 ms. On Kafka that alone charges nobody
    // twice: commits are cumulative, and the first one after the partition heals covers the
    // lost ones. Its fetches wait for the link to heal, so nothing is sent to it meanwhile.
    let q = "messages=6000&script=1s-1.3s:partition-broker-consumer-0";
    for mode in Mode::ALL {
        let r = run(&scenario(q).with_mode(mode));
        assert_eq!(
            (r.duplicates, r.lost, r.replayed),
            (0, 0, 0),
            "{mode:?}: {}",
            replay(&r.scenario)
        );
    }
    let alo = scenario(q).with_mode(Mode::AtLeastOnce);
    let history = run_history(&alo).expect("history");
    assert!(
        history.iter().any(|e| e.kind == TraceKind::AckLost
            && e.note
                .starts_with("scripted: partition broker↔consumer 0 from 1 s to 1.3 s;")),
        "a commit was lost to the partition"
    );
    assert!(
        !history.iter().any(|e| e.kind == TraceKind::Delivered
            && e.node == Some(0)
            && (1_000_000..1_300_000).contains(&e.at_us)),
        "nothing is sent to consumer 0 while it is cut off"
    );
    // The same partition with a crash of consumer 0 right after it: the lost commits leave
    // the committed offset behind, so the crash replays what consumer 0 applied during the
    // partition, and at-least-once charges those payments twice.
    let crash = format!("{q};1.35s:crash-consumer-0-after");
    let r = run(&scenario(&crash).with_mode(Mode::AtLeastOnce));
    let healed = run(&scenario(
        "messages=6000&script=1.35s:crash-consumer-0-after",
    ));
    assert!(
        r.duplicates > healed.duplicates,
        "{} vs {}: {}",
        r.duplicates,
        healed.duplicates,
        replay(&r.scenario)
    );
}

#[test]
fn a_scripted_broker_crash_fires_at_its_time_and_acks_decide_the_damage() {
    let q = "messages=6000&script=2s:crash-broker";
    for mode in Mode::ALL {
        let r = run(&scenario(q).with_mode(mode));
        assert_eq!(fired_at_ms(&r), 2000.0);
        assert_eq!(r.cost.broker_crashes, 1);
        assert!(
            r.guarantee.held,
            "{mode:?} with acks=all: {}",
            replay(&r.scenario)
        );
    }
    // acks=leader: the crash takes records the producer was told were safe.
    let r = run(&scenario(&format!("{q}&acks=leader")).with_mode(Mode::AtLeastOnce));
    assert!(r.lost > 0 && !r.guarantee.held, "{}", replay(&r.scenario));
    let ce = r.guarantee.counterexample.expect("a counterexample");
    assert!(
        ce.trace.iter().any(|e| e.kind == TraceKind::Truncated
            && e.note.starts_with("scripted: the broker crashes at 2 s;")),
        "{:#?}",
        ce.trace
    );
}

#[test]
fn scripted_faults_at_the_same_instant_fire_in_script_order_every_time() {
    let q = "messages=4000&script=1s:crash-consumer-2;1s:crash-broker;1s:crash-consumer-0";
    let s = scenario(q);
    let a = run(&s);
    for f in &a.scripted_faults {
        assert_eq!(f.from_ms, Some(1000.0), "{f:?}");
    }
    // However the run is stepped, the same report.
    let mut sim = Simulation::new(&s);
    while !sim.is_finished() {
        sim.step(7);
    }
    assert_eq!(sim.full_report(), a);
    // A consumer already down when its crash comes has nothing to lose: it does not fire.
    let r = run(&scenario(
        "messages=4000&script=1s:crash-consumer-1;1.05s:crash-consumer-1",
    ));
    assert_eq!(r.scripted_faults[0].from_ms, Some(1000.0));
    assert_eq!(r.scripted_faults[1].from_ms, None);
    assert_eq!(r.cost.consumer_crashes, 1);
}

#[test]
fn a_scripted_run_without_a_script_is_the_run_it_always_was() {
    // The same scenario with an empty script and without the key: identical reports, and
    // the report leaves the script and its firings out of JSON.
    let plain = run(&scenario("messages=3000&ack-loss=0.1"));
    let with_empty = run(&scenario("messages=3000&ack-loss=0.1&script="));
    assert_eq!(plain, with_empty);
    let json = serde_json::to_string(&plain).expect("json");
    assert!(!json.contains("script"), "{json}");
}

// ----- Reading and writing -----

proptest! {
    #![proptest_config(fuzz_config(200))]

    /// Scenario -> URL query -> Scenario, and Scenario -> JSON -> Scenario, give it back.
    #[test]
    fn a_script_round_trips_through_the_url_and_json(
        faults in proptest::collection::vec(any_scripted_fault(4, 2, 600_000_000), 0..6),
        ack_loss in 0.0..0.5f64,
    ) {
        let mut s = Scenario { ack_loss, ..Scenario::default() };
        s.set_script(faults.clone()).expect("valid by construction");
        let (back, errors) = Scenario::from_query(&s.to_query(), &[]);
        prop_assert!(errors.is_empty(), "{:?} from {}", errors, s.to_query());
        prop_assert_eq!(&back, &s);
        let json = serde_json::to_string(&s).expect("json");
        prop_assert_eq!(&Scenario::from_json(&json).expect("reads back"), &s);
        prop_assert_eq!(script::parse(&script::format(&faults)).expect("text"), faults);
    }
}

#[test]
fn the_url_form_is_readable() {
    let s = scenario("script=2s:crash-consumer-1-after;3s-4.5s:partition-broker-producer-1");
    assert_eq!(
        s.to_query(),
        "mode=at-least-once&seed=42&script=2s:crash-consumer-1-after;3s-4.5s:partition-broker-producer-1"
    );
    assert_eq!(
        s.script,
        [
            ScriptedFault::CrashConsumer {
                at_ms: 2000.0,
                consumer: 1,
                point: CrashPoint::AfterProcessing
            },
            ScriptedFault::Partition {
                from_ms: 3000.0,
                to_ms: 4500.0,
                link: Link::Producer(1)
            },
        ]
    );
    // Spaces, new lines and milliseconds are fine too; the printed form is the short one.
    let s = scenario("script=%202000ms%20:%20crash-broker%0A250ms:crash-consumer-0");
    assert_eq!(
        script::format(&s.script),
        "2s:crash-broker;250ms:crash-consumer-0"
    );
}

#[test]
fn scenario_json_holds_a_script_people_can_read() {
    let s = Scenario::from_json(
        r#"{"consumers": 2, "script": [
            {"fault": "crash-consumer", "atMs": 2000, "consumer": 1, "point": "after-processing"},
            {"fault": "partition", "fromMs": 3000, "toMs": 4000, "link": "broker-producer-0"},
            "5s:crash-broker"
        ]}"#,
    )
    .expect("valid");
    assert_eq!(
        script::format(&s.script),
        "2s:crash-consumer-1-after;3s-4s:partition-broker-producer-0;5s:crash-broker"
    );
    let json = serde_json::to_value(&s).expect("json");
    assert_eq!(
        json["script"][0],
        serde_json::json!({"fault": "crash-consumer", "atMs": 2000.0, "consumer": 1, "point": "after-processing"})
    );
    // The compact text is accepted in JSON as well.
    let t = Scenario::from_json(r#"{"script": "2s:crash-consumer-1-after"}"#).expect("valid");
    assert_eq!(t.script[0], s.script[0]);
}

#[test]
fn invalid_scripts_get_one_line_naming_the_entry_and_what_is_wrong() {
    let cases: &[(&str, &str)] = &[
        (
            "2s:crash-consumer-4",
            "\"2s:crash-consumer-4\": there is no consumer 4: consumers are numbered 0 to 3",
        ),
        (
            "2s:crash-consumer-0;3s-4s:partition-broker-producer-2",
            "\"3s-4s:partition-broker-producer-2\": there is no producer 2: producers are numbered 0 to 1",
        ),
        (
            "4s-3s:partition-broker-consumer-0",
            "the window ends (3 s) before it starts (4 s)",
        ),
        (
            "3s-3s:partition-broker-consumer-0",
            "the window ends (3 s) before it starts (3 s)",
        ),
        (
            "700s:crash-broker",
            "the time 700 s is past the horizon (600 s)",
        ),
        (
            "1s-700s:partition-broker-producer-0",
            "the end 700 s is past the horizon (600 s)",
        ),
        (
            "2:crash-broker",
            "a time needs its unit, like 2s or 250ms (got \"2\")",
        ),
        (
            "-1s:crash-broker",
            "a time is 0 or more, like 2s or 250ms (got \"-1s\")",
        ),
        ("1e3ms:crash-broker", "a time is a number with s or ms"),
        ("2s crash-broker", "an entry is WHEN:WHAT"),
        ("2s:explode-broker", "unknown fault \"explode-broker\""),
        (
            "2s-3s:crash-broker",
            "a crash happens at one time: write 2s:crash-broker",
        ),
        (
            "2s:partition-broker-producer-0",
            "a partition lasts a while: give a window, like 2s-3s:partition-broker-producer-0",
        ),
        (
            "2s:partition-producer-0",
            "a link is broker-producer-N or broker-consumer-N",
        ),
        (
            "2s:crash-consumer-x",
            "expected a number, from 0 (got \"x\")",
        ),
        (
            "2s:crash-consumer-1-during",
            "a consumer crash ends with -before or -after, or nothing",
        ),
        ("2s:crash-consumer-99999999", "far too large"),
    ];
    for (text, expected) in cases {
        let mut s = Scenario {
            ack_loss: 0.2,
            ..Scenario::default()
        };
        let e = s.set_script_text(text).expect_err(text);
        assert_eq!(e.key, "script");
        let line = e.to_string();
        assert!(line.contains(expected), "{text}: {line}");
        assert!(!line.contains('\n') && line.len() < 200, "{text}: {line}");
        // The scenario is untouched.
        assert_eq!(
            s,
            Scenario {
                ack_loss: 0.2,
                ..Scenario::default()
            }
        );
    }
    let too_many = vec!["1s:crash-broker"; MAX_SCRIPT_ENTRIES + 1].join(";");
    let e = Scenario::default()
        .set_script_text(&too_many)
        .expect_err("too many");
    assert_eq!(
        e.to_string(),
        format!("script: at most {MAX_SCRIPT_ENTRIES} entries (got 33)")
    );
}

#[test]
fn a_bad_script_in_a_link_is_named_and_the_other_settings_still_load() {
    // The script is checked against the final scenario, whatever the order of the keys.
    let (s, errors) =
        Scenario::from_query("script=2s:crash-consumer-1&consumers=2&ack-loss=0.1", &[]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(s.script.len(), 1);
    let (s, errors) =
        Scenario::from_query("consumers=2&script=2s:crash-consumer-5&ack-loss=0.1", &[]);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "script: \"2s:crash-consumer-5\": there is no consumer 5: consumers are numbered 0 to 1"
    );
    assert_eq!((s.consumers, s.ack_loss, s.script.len()), (2, 0.1, 0));
    // JSON is all or nothing, and names the entry.
    let e = Scenario::from_json(r#"{"ackLoss": 0.1, "script": [{"fault": "crash-broker"}]}"#)
        .expect_err("no time");
    assert_eq!(e.to_string(), "script: entry 1: missing field `atMs`");
    let e = Scenario::from_json(r#"{"script": [{"fault": "crash-broker", "atMs": 1, "x": 2}]}"#)
        .expect_err("unknown field");
    assert!(
        e.to_string()
            .starts_with("script: entry 1: unknown field `x`"),
        "{e}"
    );
    let e = Scenario::from_json(r#"{"script": 3}"#).expect_err("a number");
    assert!(e.to_string().ends_with("(got a number)"), "{e}");
    let e = Scenario::from_json(r#"{"script": [{"fault": "partition", "fromMs": 5, "toMs": 1, "link": "broker-consumer-0"}]}"#)
        .expect_err("backwards");
    assert_eq!(
        e.to_string(),
        "script: \"5ms-1ms:partition-broker-consumer-0\": the window ends (1 ms) before it starts (5 ms)"
    );
}

#[test]
fn the_engine_never_panics_on_a_script_validation_would_refuse() {
    // The page may run a scenario whose consumers were lowered under its script: the entries
    // that name what is not there never strike.
    let mut s = Scenario {
        messages: 2000,
        consumers: 1,
        producers: 1,
        ..Scenario::default()
    };
    s.script = vec![
        ScriptedFault::CrashConsumer {
            at_ms: 100.0,
            consumer: 9,
            point: CrashPoint::Now,
        },
        ScriptedFault::CrashConsumer {
            at_ms: 100.0,
            consumer: 9,
            point: CrashPoint::AfterProcessing,
        },
        ScriptedFault::Partition {
            from_ms: 100.0,
            to_ms: 200.0,
            link: Link::Producer(7),
        },
    ];
    assert!(s.validate().is_err());
    let mut sim = Simulation::new(&s);
    sim.run_to_end();
    let r = sim.report();
    assert_eq!((r.lost, r.duplicates, r.cost.consumer_crashes), (0, 0, 0));
    assert!(r.scripted_faults.iter().all(|f| f.struck == 0));
}
