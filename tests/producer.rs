//! The producer as Kafka's works (issue 24, item 3): the idempotent producer (a producer ID,
//! an epoch and per-partition sequence numbers the broker checks against its last five
//! batches), `max.in.flight.requests.per.connection`, ordering, and what a restart does with
//! and without a `transactional.id`; the outbox relay's crash. Exact counts are for the
//! default seed and say why they are what they are; each is also checked against a count
//! taken independently (from the traces, or from another mode's run).

use dsim_core::faults::{FaultPlan, FaultSite};
use dsim_core::{
    Idempotence, Mode, Scenario, Simulation, TraceKind, checker, knobs::knob, simulate,
    trace_message,
};

use crate::support::{assert_conserved, replay, run, scenario};

/// One producer, one partition, one account, no jitter, a rate the consumers keep up with:
/// every reordering and duplicate comes from the producer, none from the network's jitter or
/// the consumer side.
const ONE_LANE: &str =
    "producers=1&partitions=1&accounts=1&messages=2000&publish-rate=200&jitter-ms=0";

fn lane(extra: &str) -> Scenario {
    scenario(&format!("{ONE_LANE}&{extra}"))
}

/// The trace of the first message whose life has a row of `kind`.
fn first_trace_with(s: &Scenario, kind: TraceKind) -> Vec<dsim_core::TraceEvent> {
    (0..s.messages)
        .map(|m| trace_message(s, m))
        .find(|t| t.iter().any(|e| e.kind == kind))
        .unwrap_or_else(|| panic!("no message has a {kind:?} row"))
}

#[test]
fn a_lost_publish_ack_is_dropped_by_the_idempotent_producers_broker_and_duplicated_without_it() {
    // 10 % of publish acks lost: the producer retries 227 times, each a record that landed.
    let on = run(&lane("publish-ack-loss=0.1"));
    let off = run(&lane("publish-ack-loss=0.1&producer-idempotence=off"));
    for r in [&on, &off] {
        assert_conserved(r);
        assert_eq!((r.lost, r.in_flight), (0, 0), "{}", replay(&r.scenario));
    }
    // With idempotence (the default with acks=all) every retry carries the sequence number of
    // a batch the partition retains: not appended again, acked. No payment charged twice.
    assert_eq!(on.retries, 227);
    assert_eq!(on.duplicates, 0);
    assert_eq!(on.cost.duplicates_dropped_by_broker, on.retries);
    assert_eq!(on.cost.log_appends, 2000);
    // Without it, the same retries (the fault plan drops the same acks) are second records.
    assert_eq!(off.retries, 227);
    assert_eq!(off.duplicates, off.retries);
    assert_eq!(off.cost.duplicates_dropped_by_broker, 0);
    assert_eq!(off.cost.log_appends, 2000 + 227);
}

#[test]
fn a_lost_publish_reorders_an_accounts_payments_only_without_idempotence_and_with_several_in_flight()
 {
    // 10 % of publishes lost. Without idempotence, with five sends in flight, the records
    // behind a lost one land first and its retry lands behind them: 208 payments of the
    // account applied after a later one (of 238 retries; a retry with nothing sent behind it
    // since, or itself lost again, reorders nothing more).
    let five = run(&lane("publish-loss=0.1&producer-idempotence=off"));
    assert_eq!(
        (five.retries, five.reordered, five.duplicates),
        (238, 208, 0)
    );
    // One in flight: nothing overtakes the lost record, which waits for its retry. The same
    // 238 retries, and no reordering.
    let one = run(&lane(
        "publish-loss=0.1&producer-idempotence=off&max-in-flight=1",
    ));
    assert_eq!((one.retries, one.reordered), (238, 0));
    // Idempotent, five in flight: the partition refuses a record whose predecessor is
    // missing (OutOfOrderSequence), and the producer resends its window in order.
    let idempotent = run(&lane("publish-loss=0.1"));
    assert_eq!((idempotent.reordered, idempotent.duplicates), (0, 0));
    assert!(idempotent.cost.sequence_rejections > 0);
    for r in [&five, &one, &idempotent] {
        assert_eq!((r.lost, r.in_flight), (0, 0), "{}", replay(&r.scenario));
    }
    // A refused record says why, naming Kafka's exception.
    let s = lane("publish-loss=0.1");
    let refused = first_trace_with(&s, TraceKind::SequenceRejected);
    assert!(
        refused
            .iter()
            .any(|e| e.note.contains("OutOfOrderSequenceException"))
    );
}

/// Resends of a record that had landed: per message, the restarts (`ProducerRestarted` rows)
/// that come after one of its records was appended (a `Stored` row), read off every
/// message's trace. Each makes one more record of the message.
fn landed_before_a_restart(s: &Scenario) -> u64 {
    let all: Vec<u32> = (0..s.messages).collect();
    let mut sim = Simulation::with_traces(s, &all);
    sim.run_to_end();
    all.iter()
        .map(|&m| {
            let trace = sim.trace_of(m).unwrap_or_default();
            let Some(stored) = trace.iter().position(|e| e.kind == TraceKind::Stored) else {
                return 0;
            };
            trace[stored..]
                .iter()
                .filter(|e| e.kind == TraceKind::ProducerRestarted)
                .count() as u64
        })
        .sum()
}

#[test]
fn a_producer_restart_without_a_transactional_id_duplicates_exactly_the_unacked_records_that_had_landed()
 {
    // 1 % of sends: the producer dies after sending, before the ack, and 100 ms later resends
    // every record it has no ack for under a NEW producer ID. 18 restarts; 102 of the resent
    // records had landed already (the one whose send triggered it, and those sent just
    // before, still replicating or with their ack on the way, batch mates included).
    let s = lane("producer-restart=0.01");
    let alo = run(&s);
    assert_conserved(&alo);
    assert_eq!(alo.cost.producer_restarts, 18);
    // The fault is drawn once per message, at its first send, always on a live producer
    // (a dead one sends nothing): the restarts are exactly the messages the plan strikes.
    let mut plan = FaultPlan::new(&s);
    let struck = (0..s.messages)
        .filter(|&m| {
            plan.crash(FaultSite::ProducerRestart, 0, 0, m, 1, 0)
                .struck()
        })
        .count() as u64;
    assert_eq!(alo.cost.producer_restarts, struck);
    assert_eq!(alo.duplicates, 102);
    assert_eq!(alo.duplicates, landed_before_a_restart(&s));
    assert_eq!(
        alo.cost.duplicates_dropped_by_broker, 0,
        "a new ID: nothing to match"
    );
    // The checker names the mechanism.
    let duplicated = (0..s.messages)
        .find(|&m| {
            trace_message(&s, m)
                .iter()
                .filter(|e| e.kind == TraceKind::Processed)
                .count()
                > 1
        })
        .expect("a duplicate");
    let why = checker::explain(
        duplicated,
        "duplicate",
        Mode::AtLeastOnce,
        &trace_message(&s, duplicated),
    );
    assert!(
        why.contains("InitProducerId without a transactional.id")
            && why.contains("NEW producer ID"),
        "{why}"
    );
    // Exactly-once's transactional.id brings the same producer ID back with the epoch bumped:
    // the same 18 restarts (the fault plan strikes the same sends), and the same 102 records,
    // now aborted with the old instance's transaction instead of applied twice.
    let eos = run(&s.with_mode(Mode::ExactlyOnce));
    assert_conserved(&eos);
    assert_eq!(eos.cost.producer_restarts, 18);
    assert_eq!((eos.duplicates, eos.lost), (0, 0));
    assert_eq!(eos.cost.records_aborted, alo.duplicates);
    assert!(eos.guarantee.held);
}

#[test]
fn an_old_epoch_still_on_the_network_is_fenced_after_a_transactional_restart() {
    // Publishes held back by 300 ms outlive the 100 ms restart: when they arrive, the
    // transactional ID's epoch has moved on, and the partition refuses them at once.
    let s = lane("mode=exactly-once&producer-restart=0.01&delay=0.3&delay-ms=300");
    let r = run(&s);
    assert_conserved(&r);
    assert_eq!(
        (r.duplicates, r.lost, r.in_flight),
        (0, 0, 0),
        "{}",
        replay(&s)
    );
    assert_eq!(r.cost.producer_fenced, 301);
    assert!(r.cost.records_aborted > 0);
    let fenced = first_trace_with(&s, TraceKind::ProducerFenced);
    assert!(
        fenced
            .iter()
            .any(|e| e.note.contains("ProducerFencedException"))
    );
}

#[test]
fn a_transactional_producer_down_longer_than_its_transaction_timeout_is_aborted_by_the_coordinator()
{
    // Down for 1 s, with transaction.timeout.ms at 300: the coordinator aborts the dead
    // instance's open transaction 300 ms after it died, before the new instance is back.
    let s =
        lane("mode=exactly-once&producer-restart=0.01&restart-ms=1000&transaction-timeout-ms=300");
    let r = run(&s);
    assert_conserved(&r);
    assert_eq!(
        (r.duplicates, r.lost, r.in_flight),
        (0, 0, 0),
        "{}",
        replay(&s)
    );
    assert!(r.cost.producer_restarts > 0);
    // Each death leaves at least the record whose send it followed in an open transaction.
    assert_eq!(r.cost.transactions_timed_out, r.cost.producer_restarts);
    let trace = first_trace_with(&s, TraceKind::ProducerDied);
    let died = trace
        .iter()
        .find(|e| e.kind == TraceKind::ProducerDied)
        .unwrap()
        .at_us;
    let aborted = trace
        .iter()
        .find(|e| e.kind == TraceKind::RecordAborted)
        .expect("its record aborted");
    assert!(
        aborted.note.contains("transaction.timeout.ms"),
        "{}",
        aborted.note
    );
    assert_eq!(aborted.at_us, died + 300_000);
    // With Kafka's default (60 s) the restart aborts it instead, a second later.
    let slow = run(&lane(
        "mode=exactly-once&producer-restart=0.01&restart-ms=1000",
    ));
    assert_eq!(slow.cost.transactions_timed_out, 0);
    assert_eq!(slow.cost.records_aborted, r.cost.records_aborted);
}

#[test]
fn an_outbox_relay_crash_republishes_the_row_and_the_idempotent_consumer_absorbs_it() {
    let s = scenario("mode=outbox&messages=3000&relay-crash=0.01");
    let r = run(&s);
    assert_conserved(&r);
    assert!(r.cost.relay_crashes > 0);
    assert_eq!(
        (r.duplicates, r.lost, r.in_flight),
        (0, 0, 0),
        "{}",
        replay(&s)
    );
    // Each crash republished at least its row under a new producer ID: a second record that
    // the consumer's dedup store skipped.
    assert!(r.cost.log_appends >= 3000 + r.cost.relay_crashes);
    assert!(r.cost.dedup_skips >= r.cost.relay_crashes);
    // Without the dedup store's memory (a window of 0), the republished rows are charged.
    let forgetful = run(&Scenario {
        dedup_window_ms: 0.0,
        ..s.clone()
    });
    assert!(forgetful.duplicates > 0);
}

#[test]
fn idempotence_on_with_acks_leader_is_refused_naming_the_setting_through_every_door() {
    let line = "producer-idempotence: on requires acks=all";
    // URL, in either order: the later one is refused, the other settings survive.
    for query in [
        "acks=leader&producer-idempotence=on&messages=500",
        "producer-idempotence=on&acks=leader&messages=500",
    ] {
        let (s, errors) = Scenario::from_query(query, &[]);
        assert_eq!(errors.len(), 1, "{query}: {errors:?}");
        assert!(errors[0].to_string().starts_with(line), "{}", errors[0]);
        assert_eq!(s.messages, 500);
        assert!(s.validate().is_ok());
        assert!(!(s.producer_idempotence == Idempotence::On && s.acks == dsim_core::Acks::Leader));
    }
    // JSON: one line, the scenario untouched.
    let e = Scenario::from_json(r#"{"acks": "leader", "producerIdempotence": "on"}"#)
        .expect_err("refused");
    assert!(e.to_string().starts_with(line), "{e}");
    assert!(!e.to_string().contains('\n'));
    // The knob itself, as the CLI's flags and the page's controls set it.
    let mut s = scenario("acks=leader");
    let e = knob("producer-idempotence")
        .unwrap()
        .set_text(&mut s, "on")
        .expect_err("refused");
    assert_eq!(e.key, "producer-idempotence");
    assert_eq!(s.producer_idempotence, Idempotence::Auto);
    // A defaulted idempotence with acks=leader is off (Kafka >= 3.0 disables it silently);
    // off and auto are accepted with either acks.
    for q in [
        "acks=leader",
        "acks=leader&producer-idempotence=off",
        "acks=leader&producer-idempotence=auto",
    ] {
        let s = scenario(q);
        assert!(!s.idempotent_producer(), "{q}");
        assert!(simulate(&s).is_ok());
    }
    // At-most-once (acks=0) never is, exactly-once always is.
    assert!(!scenario("mode=at-most-once&producer-idempotence=on").idempotent_producer());
    assert!(scenario("mode=exactly-once&producer-idempotence=off").idempotent_producer());
}

#[test]
fn restarts_come_once_per_struck_message_at_the_rate_set() {
    // Binomial(n, p) restarts: within five standard deviations of n p.
    let s = scenario("messages=20000&producer-restart=0.02");
    let r = run(&s);
    assert_conserved(&r);
    let (n, p) = (s.messages as f64, s.producer_restart);
    let sigma = (n * p * (1.0 - p)).sqrt();
    let restarts = r.cost.producer_restarts as f64;
    assert!(
        (restarts - n * p).abs() <= 5.0 * sigma,
        "{restarts} restarts, expected {} ± {}",
        n * p,
        5.0 * sigma
    );
    assert_eq!((r.lost, r.in_flight), (0, 0), "{}", replay(&s));
}

#[test]
fn theory_has_no_formula_for_restarts() {
    for q in [
        "producer-restart=0.01",
        "mode=outbox&relay-crash=0.01",
        "mode=exactly-once&producer-restart=0.001",
    ] {
        assert_eq!(dsim_core::theory::expected(&scenario(q)), None, "{q}");
    }
}
