//! Amazon SQS (`broker=sqs` and `broker=sqs-fifo`), behaviour by behaviour, with exact counts
//! where the run is deterministic: the visibility timeout is not a lock, a crash before
//! DeleteMessage comes back after the timeout, the redrive policy dead-letters, a standard
//! queue's extra copies, FIFO's five-minute send deduplication and its message groups, and
//! the refusals.

use dsim_core::{Broker, Mode, Scenario, Simulation, Status, TraceKind, presets::preset};

use crate::support::{assert_conserved, replay, run, scenario};

/// Payments spaced 500 ms apart, so each is alone in the queue: two consumers, one message per
/// receive.
fn one_at_a_time(extra: &str) -> Scenario {
    scenario(&format!(
        "broker=sqs&mode=at-least-once&messages=100&producers=1&consumers=2&publish-rate=2&receive-batch=1&jitter-ms=0{extra}"
    ))
}

#[test]
fn a_visibility_timeout_shorter_than_processing_applies_every_payment_twice() {
    // 300 ms of work, a 200 ms timeout: 200 ms after consumer A received a payment, B receives
    // it too; A's delete at 300 ms removes it, but B charges it again.
    let s = one_at_a_time("&processing-ms=300&visibility-timeout-ms=200");
    let r = run(&s);
    let q = r.sqs.as_ref().expect("an SQS run reports its queue");
    assert_eq!(
        (r.duplicates, r.lost, r.in_flight),
        (100, 0, 0),
        "{}",
        replay(&s)
    );
    assert_eq!((q.receives, q.visibility_timeouts_expired), (200, 100));
    assert_eq!((q.visible_at_end, q.in_flight_at_end), (0, 0));
    assert!(r.guarantee.held, "at-least-once allows duplicates");
    assert_conserved(&r);
    // Under the processing time there is none, and the idempotent consumer skips them.
    let r = run(&one_at_a_time(
        "&processing-ms=300&visibility-timeout-ms=400",
    ));
    assert_eq!(
        (r.duplicates, r.sqs.unwrap().visibility_timeouts_expired),
        (0, 0)
    );
    let s = one_at_a_time("&processing-ms=300&mode=idempotent-consumer");
    let r = run(&s);
    assert_eq!(
        (r.duplicates, r.cost.dedup_skips),
        (0, 100),
        "{}",
        replay(&s)
    );
}

#[test]
fn the_preset_is_the_same_story() {
    let s = preset("sqs-visibility-timeout-too-short")
        .unwrap()
        .scenario()
        .unwrap();
    let r = run(&s);
    assert_eq!(r.duplicates, 100, "{}", replay(&s));
    assert_eq!(r.sqs.unwrap().visibility_timeouts_expired, 100);
}

/// One producer far faster than one consumer: a backlog, ten messages per receive.
fn backlog(extra: &str) -> Scenario {
    scenario(&format!(
        "broker=sqs&mode=at-least-once&messages=60&producers=1&consumers=1&publish-rate=10000&processing-ms=10&jitter-ms=0{extra}"
    ))
}

#[test]
fn a_crash_before_delete_comes_back_only_after_the_visibility_timeout() {
    let s = backlog("&script=100ms:crash-consumer-0-after");
    let all: Vec<u32> = (0..60).collect();
    let mut sim = Simulation::with_traces(&s, &all);
    sim.run_to_end();
    let r = sim.report();
    let q = r.sqs.as_ref().unwrap();
    // The payment it processed and never deleted is applied again; the rest of its receive
    // comes back unprocessed. SQS never hears of the crash: nothing returns early.
    assert_eq!((r.duplicates, r.lost), (1, 0), "{}", replay(&s));
    // It held two: the one it processed and the next of its receive.
    assert_eq!(q.visibility_timeouts_expired, 2);
    let vt_us = 200_000;
    let mut again = 0;
    for msg in 0..60 {
        let trace = sim.trace_of(msg).unwrap_or(&[]);
        let received: Vec<u64> = trace
            .iter()
            .filter(|e| matches!(e.kind, TraceKind::Delivered | TraceKind::Replayed))
            .map(|e| e.at_us)
            .collect();
        if received.len() > 1 {
            again += 1;
            assert!(
                received[1] >= received[0] + vt_us,
                "message {msg} came back before its timeout: {received:?}"
            );
        }
    }
    assert_eq!(again, q.visibility_timeouts_expired);
    assert_conserved(&r);
}

#[test]
fn a_lost_delete_leaves_the_message_to_come_back_until_the_redrive_policy_takes_it() {
    // Every DeleteMessage is lost: each payment is received, applied and comes back after its
    // timeout, three times, and the fourth receive moves it to the dead-letter queue. It was
    // applied, so it counts as applied (three times), not as lost.
    let s = scenario("broker=sqs&mode=at-least-once&messages=10&ack-loss=1&max-receives=3");
    let r = run(&s);
    let q = r.sqs.as_ref().unwrap();
    assert_eq!(
        (r.unique_processed, r.duplicates, r.lost),
        (10, 20, 0),
        "{}",
        replay(&s)
    );
    assert_eq!(
        (q.receives, q.visibility_timeouts_expired, q.redriven_to_dlq),
        (30, 30, 10)
    );
    assert_eq!(r.status, Status::Drained);
    assert_conserved(&r);
}

#[test]
fn max_receives_redrives_to_the_dead_letter_queue() {
    // Every consumer dies on every message before processing it: each is received
    // maxReceiveCount times, then moved to the dead-letter queue at its next receive.
    for max in [1u32, 3] {
        let s = scenario(&format!(
            "broker=sqs&mode=at-least-once&messages=5&crash-before-process=1&max-receives={max}"
        ));
        let r = run(&s);
        let q = r.sqs.as_ref().unwrap();
        assert_eq!(q.redriven_to_dlq, 5, "{}", replay(&s));
        assert_eq!(q.receives, 5 * max as u64);
        assert_eq!((r.dead_lettered, r.lost, r.unique_processed), (5, 5, 0));
        assert_eq!(r.status, Status::GaveUp);
        assert_eq!(r.lost_silently, 0);
        assert_conserved(&r);
    }
}

#[test]
fn a_standard_queue_delivers_an_occasional_extra_copy() {
    let s = scenario("broker=sqs&mode=at-least-once&messages=5000&extra-copy=0.01");
    let r = run(&s);
    let q = r.sqs.as_ref().unwrap();
    // Each missed copy is received once more after its timeout and applied again.
    assert_eq!(r.duplicates, q.extra_copies, "{}", replay(&s));
    assert_eq!(q.visibility_timeouts_expired, q.extra_copies);
    // 1 % of 5,000 deletes (and of the copies' own deletes): 50.5 expected, within 5 sigma.
    let (n, p) = (5_000.0f64, 0.01f64);
    let sd = (n * p * (1.0 - p)).sqrt();
    assert!(
        (q.extra_copies as f64 - n * p).abs() < 5.0 * sd + 1.0,
        "{}",
        q.extra_copies
    );
    assert_eq!(r.lost, 0);
    let r = run(&scenario(
        "broker=sqs&mode=idempotent-consumer&messages=5000&extra-copy=0.01",
    ));
    assert_eq!(r.duplicates, 0);
}

/// Every SendMessage response is lost: the producer resends after 60 s, 180 s and 420 s.
fn resends(broker: &str, mode: &str, max_retries: u32) -> Scenario {
    scenario(&format!(
        "broker={broker}&mode={mode}&messages=20&publish-ack-loss=1&ack-timeout-ms=60000&max-retries={max_retries}&horizon-ms=3600000"
    ))
}

#[test]
fn a_fifo_resend_inside_five_minutes_is_dropped_and_one_after_is_a_second_message() {
    // Resends at 60 s and 180 s: inside the window, dropped.
    let s = resends("sqs-fifo", "at-least-once", 2);
    let r = run(&s);
    assert_eq!(r.cost.duplicates_dropped_by_broker, 40, "{}", replay(&s));
    assert_eq!(r.sqs.as_ref().unwrap().dedup_dropped, 40);
    assert_eq!((r.duplicates, r.lost), (0, 0));
    // One more at 420 s: after the window, a new message.
    let s = resends("sqs-fifo", "at-least-once", 3);
    let r = run(&s);
    assert_eq!(r.cost.duplicates_dropped_by_broker, 40, "{}", replay(&s));
    assert_eq!((r.duplicates, r.lost), (20, 0));
    // A standard queue stores every resend.
    let s = resends("sqs", "at-least-once", 3);
    let r = run(&s);
    assert_eq!((r.duplicates, r.cost.duplicates_dropped_by_broker), (60, 0));
    // The preset is this story.
    let p = preset("sqs-fifo-retry-after-window")
        .unwrap()
        .scenario()
        .unwrap();
    assert_eq!(p, resends("sqs-fifo", "at-least-once", 3));
}

#[test]
fn fifo_does_not_cover_a_crash_after_processing_and_before_delete() {
    let s = scenario(
        "broker=sqs-fifo&mode=at-least-once&messages=60&producers=1&consumers=1&publish-rate=10000&processing-ms=10&script=100ms:crash-consumer-0-after",
    );
    let all: Vec<u32> = (0..60).collect();
    let mut sim = Simulation::with_traces(&s, &all);
    sim.run_to_end();
    let r = sim.report();
    assert_eq!((r.duplicates, r.lost), (1, 0), "{}", replay(&s));
    let dup = r.example_duplicate.expect("one duplicate");
    let crash = sim
        .trace_of(dup)
        .unwrap()
        .iter()
        .find(|e| e.kind == TraceKind::Crash)
        .expect("the crash is in the duplicate's trace");
    assert!(
        crash
            .note
            .contains("exactly-once processing does not cover"),
        "{}",
        crash.note
    );
    assert!(
        Mode::AtLeastOnce
            .mechanism_on(Broker::SqsFifo)
            .contains("not your side effects")
    );
}

#[test]
fn fifo_keeps_each_account_in_order_where_a_standard_queue_does_not() {
    let q = "mode=at-least-once&messages=3000&accounts=10&consumers=4";
    let fifo = run(&scenario(&format!("broker=sqs-fifo&{q}")));
    let standard = run(&scenario(&format!("broker=sqs&{q}")));
    assert_eq!((fifo.reordered, fifo.duplicates), (0, 0));
    assert!(
        standard.reordered > 0,
        "competing consumers race on one account"
    );
    assert_eq!(standard.duplicates, 0);
    // FIFO's order is the order of delivery: an at-most-once consumer deletes before it
    // processes, which unlocks the group, and the next payment can overtake it.
    let amo = run(&scenario(&format!(
        "broker=sqs-fifo&{q}&mode=at-most-once&processing-ms=3"
    )));
    assert!(amo.reordered > 0);
}

#[test]
fn at_most_once_deletes_before_processing_so_a_crash_loses_instead() {
    let s = backlog("&mode=at-most-once&script=100ms:crash-consumer-0-before");
    let r = run(&s);
    assert_eq!(r.duplicates, 0, "{}", replay(&s));
    assert!(r.lost >= 1, "{}", replay(&s));
    assert_eq!(r.lost + r.unique_processed, 60);
    assert_conserved(&r);
}

#[test]
fn exactly_once_and_settings_sqs_lacks_are_refused_in_one_line() {
    for broker in ["sqs", "sqs-fifo"] {
        let (_, errors) = Scenario::from_query(&format!("broker={broker}&mode=exactly-once"), &[]);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].to_string().starts_with(&format!(
                "mode: exactly-once is not available on broker {broker}: "
            )),
            "{}",
            errors[0]
        );
        assert!(
            errors[0]
                .to_string()
                .contains("idempotent-consumer or outbox")
        );
        for key in [
            "commit-interval-ms",
            "prefetch",
            "partitions",
            "acks",
            "max-poll",
        ] {
            let value = if key == "acks" { "leader" } else { "7" };
            let (s, errors) = Scenario::from_query(&format!("broker={broker}&{key}={value}"), &[]);
            assert_eq!(errors.len(), 1, "{key}");
            let line = errors[0].to_string();
            assert!(
                line.starts_with(&format!("{key}: does not apply to broker {broker} (")),
                "{line}"
            );
            assert!(!line.contains('\n'));
            assert!(s.validate().is_ok());
        }
    }
    let (_, errors) = Scenario::from_query("broker=sqs-fifo&extra-copy=0.01", &[]);
    assert!(
        errors[0]
            .to_string()
            .starts_with("extra-copy: does not apply to broker sqs-fifo (")
    );
    let (_, errors) = Scenario::from_query("broker=kafka&visibility-timeout-ms=500", &[]);
    assert!(
        errors[0]
            .to_string()
            .starts_with("visibility-timeout-ms: does not apply to broker kafka (")
    );
    let (s, errors) =
        Scenario::from_query("broker=sqs&visibility-timeout-ms=500&receive-batch=3", &[]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!((s.visibility_timeout_ms, s.receive_batch), (500.0, 3));
    let (_, errors) = Scenario::from_query("broker=sqs&receive-batch=11", &[]);
    assert_eq!(errors.len(), 1, "SQS returns at most 10 per receive");
}

#[test]
fn an_endpoint_outage_loses_nothing_acknowledged() {
    for broker in ["sqs", "sqs-fifo"] {
        let s = scenario(&format!(
            "broker={broker}&mode=at-least-once&messages=3000&script=200ms:crash-broker;700ms:crash-broker&broker-crash=0.001"
        ));
        let r = run(&s);
        assert_eq!((r.lost, r.in_flight), (0, 0), "{}", replay(&s));
        assert_eq!(r.lost_silently, 0);
        assert_conserved(&r);
    }
}

/// FNV-1a over the report JSON, as in `determinism`.
fn digest(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn sqs_reports_are_pinned_and_the_same_however_the_run_is_stepped() {
    let queries = [
        "broker=sqs&messages=3000&publish-ack-loss=0.1&delivery-loss=0.1&ack-loss=0.1&duplicate=0.1&extra-copy=0.01",
        "broker=sqs&messages=3000&crash-before-process=0.003&crash-after-process=0.003&delay=0.05&max-receives=3&processing-ms=5",
        "broker=sqs-fifo&messages=3000&publish-ack-loss=0.1&ack-loss=0.1&crash-after-process=0.003&accounts=20",
        "broker=sqs-fifo&messages=3000&broker-crash=0.001&visibility-timeout-ms=20&receive-batch=3",
    ];
    let mut lines = String::new();
    for q in queries {
        for r in dsim_core::compare(&scenario(q)).unwrap() {
            let json = serde_json::to_string(&r).unwrap();
            lines.push_str(&format!(
                "{:016x}  {:<20} {q}\n",
                digest(&json),
                r.mode.key()
            ));
        }
        let s = scenario(q);
        let mut whole = Simulation::new(&s);
        whole.run_to_end();
        for chunk in [1, 7, 1000] {
            let mut stepped = Simulation::new(&s);
            while !stepped.is_finished() {
                stepped.step(chunk);
            }
            assert_eq!(stepped.report(), whole.report(), "chunks of {chunk}: {q}");
        }
    }
    crate::support::assert_snapshot("sqs_determinism_digests", &lines);
}
