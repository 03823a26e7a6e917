//! What probability theory expects of a run, for the fault mixes where it can say.
//!
//! A sweep overlays these expectations on its measured curves, so they must only be given
//! where they really hold. Every formula here assumes independent faults (which the
//! `FaultPlan` guarantees), a run that drains before its horizon, and calm timing: no timer
//! fires while the thing it waits for is merely slow. Outside those conditions `expected`
//! answers `None` rather than a curve that looks authoritative and is not. The formulas are
//! the ones `tests/statistics.rs` checks against measured runs; `tests/sweep.rs` checks them
//! again through sweeps.
//!
//! The broker is Kafka: consumers commit offsets cumulatively, and a partition is read again
//! from its committed offset only after a crash, a rebalance or an aborted transaction.
//! With `R` = `max-retries` (so at most `R + 1` publish attempts):
//!
//! | faults (all others 0) | mode | duplicates per message | lost per message |
//! |---|---|---|---|
//! | none | every mode | 0 | 0 |
//! | only `ack-loss` = q (offset commits lost) | every mode | 0 | 0 |
//! | only `publish-ack-loss` = q | at-least-once without an idempotent producer | q + q² + … + q^R (→ q/(1−q)) | 0 |
//! | the same | every other mode, and an idempotent producer | 0 | 0 |
//! | only `duplicate` = d | at-most-once, and at-least-once without an idempotent producer | d | 0 |
//! | the same | every other mode, and an idempotent producer | 0 | 0 |
//! | the same | dedup modes, exactly-once | 0 | 0 |
//! | any of `publish-loss` p, `delivery-loss`, `producer-crash` c | every mode | 0 | 1 − (1−c')(1−p') |
//!
//! A lost offset commit duplicates nothing by itself: the next commit carries a later offset
//! and covers it. A lost fetch response loses nothing: the consumer asks again from the same
//! position. The network duplicates only publishes (a second record without an idempotent
//! producer, whose broker drops the copy by its sequence number); TCP does not duplicate a
//! fetch response. In the last row each stage's loss depends on the mode's mechanism:
//! at-most-once never retries (p' = p); the retrying modes lose a message only when all
//! `R + 1` attempts are lost (p' = p^(R+1)), except the outbox relay and exactly-once's
//! transactional producer, which never give up (p' = 0); only the outbox survives a producer
//! crash (c' = 0, else c' = c). The publish-loss column is for a producer without
//! idempotence: an idempotent producer that may give up (at-least-once and the idempotent
//! consumer with acks=all) keeps its records in order, so their losses are correlated and
//! have no formula here. Duplicate-causing faults mixed with each other or with losses have
//! no formula here, nor has any scenario with broker crashes, replica lag (`replica-lag`),
//! consumer crashes or stalls, producer restarts (`producer-restart`: what a restart resends
//! that had already landed depends on timing), relay crashes (`relay-crash`), delays or a
//! fault timeline. The knobs with a formula are listed once, in `MODELLED`; every other
//! probability knob of the knob table turns the formulas off, including one added later.
//!
//! RabbitMQ (`broker=rabbitmq`) follows the same table, with no idempotent producer, except
//! `ack-loss`: there a lost basic.ack is a dropped connection, which requeues every delivery
//! the consumer held unacknowledged, so how many come back depends on timing: no formula.
//!
//! SQS (`broker=sqs`, `sqs-fifo`) has no formula here: whether a message is received twice
//! depends on whether its visibility timeout passes before its DeleteMessage arrives, which
//! is timing (processing behind the rest of a receive's batch, a crashed consumer's messages
//! coming back all at once), and a FIFO queue drops a resend by when it arrives.

use serde::{Deserialize, Serialize};

use crate::scenario::knobs::{Kind, knobs};
use crate::scenario::{Broker, Mode, Scenario};

/// The probability knobs (keys of the knob table) some formula here covers. Any other
/// probability knob above 0 gets no formula: `expected` answers `None`.
/// `tests/theory_drift.rs` runs every probability knob, alone, in pairs and all at once, and
/// requires each answer to be `None` or to agree with the runs within five standard errors.
pub const MODELLED: &[&str] = &[
    "publish-loss",
    "publish-ack-loss",
    "producer-crash",
    "ack-loss",
    "delivery-loss",
    "duplicate",
];

/// What theory expects of one run, per message the scenario publishes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Expected {
    pub duplicates_per_message: f64,
    pub lost_per_message: f64,
}

/// The fault that makes a message be applied more than once, when it is the only one.
#[derive(Clone, Copy, Debug, PartialEq)]
enum DuplicateFault {
    AckLoss(f64),
    PublishAckLoss(f64),
    NetworkDuplicate(f64),
}

/// The expectation for this scenario (its mode included), or `None` if no formula here is
/// valid for it.
pub fn expected(s: &Scenario) -> Option<Expected> {
    if !timing_is_calm(s) {
        return None;
    }
    // Faults no formula covers: crashes, stalls, restarts and delays change timing and state
    // in ways that need a simulation, which is the point of having one. Which those are is
    // read off the knob table, not listed here: any probability knob that `MODELLED` does
    // not name turns the formulas off, so a knob added to the table cannot be silently
    // taken for 0 by being left off a list. The unmodelled ones today, and why:
    // - `broker-crash`, `crash-before-process`, `crash-after-process`, `consumer-stall`: a
    //   partition is read again from its committed offset, and how much that replays depends
    //   on where the commits stood (timing).
    // - `replica-lag`: it changes nothing by itself, but with `min-insync-replicas` it refuses
    //   writes for as long as it lasts, which retries and timing decide.
    // - `producer-restart`, `relay-crash`: a restart resends what the producer has no ack for,
    //   under a new producer ID (or fenced by epoch); how many had landed depends on timing.
    // - `delay`, and SQS's `extra-copy` (SQS has no formula at all, below).
    let unmodelled = knobs().iter().any(|k| {
        matches!(k.kind, Kind::Probability) && !MODELLED.contains(&k.key) && k.get(s) > 0.0
    });
    // Nor does any formula cover a fault timeline: it strikes whatever the run is doing then.
    if unmodelled || !s.script.is_empty() {
        return None;
    }
    if s.broker == Broker::RabbitMq && s.ack_loss > 0.0 {
        return None;
    }
    if matches!(s.broker, Broker::Sqs | Broker::SqsFifo) {
        return None;
    }
    let duplicating: Vec<DuplicateFault> = [
        DuplicateFault::AckLoss(s.ack_loss),
        DuplicateFault::PublishAckLoss(s.publish_ack_loss),
        DuplicateFault::NetworkDuplicate(s.duplicate),
    ]
    .into_iter()
    .filter(|f| f.rate() > 0.0)
    .collect();
    let losing = s.publish_loss > 0.0 || s.delivery_loss > 0.0 || s.producer_crash > 0.0;
    // An idempotent producer that may give up keeps its records in order: a record waits
    // while one before it is missing, and what it loses then is correlated with that one's
    // losses. No simple law (the outbox relay and exactly-once never give up, so their
    // publish losses are 0 whatever the producer).
    let gives_up_in_order =
        s.idempotent_producer() && matches!(s.mode, Mode::AtLeastOnce | Mode::IdempotentConsumer);
    if gives_up_in_order && s.publish_loss > 0.0 {
        return None;
    }
    match (duplicating.as_slice(), losing) {
        ([], _) => Some(Expected {
            duplicates_per_message: 0.0,
            lost_per_message: lost_fraction(s),
        }),
        ([fault], false) => duplicates(s, *fault).map(|d| Expected {
            duplicates_per_message: d,
            lost_per_message: 0.0,
        }),
        _ => None,
    }
}

impl DuplicateFault {
    fn rate(self) -> f64 {
        match self {
            DuplicateFault::AckLoss(q)
            | DuplicateFault::PublishAckLoss(q)
            | DuplicateFault::NetworkDuplicate(q) => q,
        }
    }
}

/// Extra applications per message under a single duplicating fault.
fn duplicates(s: &Scenario, fault: DuplicateFault) -> Option<f64> {
    match (s.mode, fault) {
        // Each attempt (a publish, or a delivery) fails independently with probability q and
        // still applied the payment, so the attempts until the first success are geometric,
        // cut off after R + 1 of them: E[extra] = q + q² + … + q^R.
        // The idempotent producer's broker drops every retry of a batch it retains; the
        // producer's window (at most five in flight) keeps a retry within those five.
        (Mode::AtLeastOnce, DuplicateFault::PublishAckLoss(_)) if s.idempotent_producer() => {
            Some(0.0)
        }
        (Mode::AtLeastOnce, DuplicateFault::PublishAckLoss(q)) => {
            Some(geometric_sum(q, s.max_retries))
        }
        // Offset commits are cumulative: the next one covers a lost one, and nobody reads the
        // partition again unless its reader crashes or loses it.
        (_, DuplicateFault::AckLoss(_)) => Some(0.0),
        // An idempotent producer's duplicated publish is dropped by its sequence number.
        (Mode::AtLeastOnce, DuplicateFault::NetworkDuplicate(_)) if s.idempotent_producer() => {
            Some(0.0)
        }
        // A duplicated publish stores a second record, which is read once like any other.
        (Mode::AtLeastOnce | Mode::AtMostOnce, DuplicateFault::NetworkDuplicate(d)) => Some(d),
        // A sender that never retries never makes a second record of a lost ack.
        (Mode::AtMostOnce, DuplicateFault::PublishAckLoss(_)) => Some(0.0),
        // The idempotent producer and the transactional consumer drop every copy.
        (Mode::ExactlyOnce, _) => Some(0.0),
        // The dedup store drops every copy, provided it still remembers the ID when the last
        // copy arrives.
        (Mode::IdempotentConsumer | Mode::Outbox, fault) => {
            dedup_outlasts_copies(s, fault).then_some(0.0)
        }
    }
}

/// q + q² + … + q^n, by multiplication only (no `powf`), so it is the same everywhere.
fn geometric_sum(q: f64, n: u32) -> f64 {
    let (mut sum, mut term) = (0.0, 1.0);
    for _ in 0..n {
        term *= q;
        sum += term;
    }
    sum
}

/// q^n by multiplication.
fn power(q: f64, n: u32) -> f64 {
    (0..n).fold(1.0, |acc, _| acc * q)
}

/// The fraction of messages never applied when only losses (no duplicates) are in play.
fn lost_fraction(s: &Scenario) -> f64 {
    let attempts = s.max_retries + 1;
    let crash = if s.mode == Mode::Outbox {
        0.0
    } else {
        s.producer_crash
    };
    let publish = match s.mode {
        Mode::AtMostOnce => s.publish_loss,
        Mode::Outbox | Mode::ExactlyOnce => 0.0,
        _ => power(s.publish_loss, attempts),
    };
    // A lost fetch response loses nothing: the consumer fetches again from its position.
    // 1 − (1−c)(1−p), summed stage by stage so that a single stage's rate comes out exactly
    // as given (0.05, not 0.050000000000000044).
    crash + (1.0 - crash) * publish
}

/// The slowest one-way network trip, ms.
fn slowest_hop_ms(s: &Scenario) -> f64 {
    s.latency_ms + s.jitter_ms
}

/// From a fetch to the coordinator having the commit of the poll's last record, ms, at worst.
fn poll_ms(s: &Scenario) -> f64 {
    let per_record = s.processing_ms + s.dedup_lookup_ms;
    let transaction = s.txn_write_ms + s.replication_ms + s.txn_ack_ms;
    s.max_poll as f64 * per_record + transaction + 2.0 * slowest_hop_ms(s)
}

/// Whether every timer comfortably outlasts what it waits for, so that only injected faults
/// cause retries and redeliveries, and whether the run has time to drain.
fn timing_is_calm(s: &Scenario) -> bool {
    let publish_round_trip =
        2.0 * slowest_hop_ms(s) + s.replication_ms + s.txn_write_ms + s.txn_ack_ms;
    let produce_span_ms = s.messages as f64 * 1000.0 / s.publish_rate;
    let parallel = s.consumers.min(s.partitions).max(1) as f64;
    let drain_ms = s.messages as f64 * (s.processing_ms + s.dedup_lookup_ms) / parallel;
    // A minute of slack for the retries and redeliveries themselves.
    let needed_horizon_ms = 2.0 * produce_span_ms.max(drain_ms) + 60_000.0;
    s.ack_timeout_ms >= 2.0 * publish_round_trip && s.horizon_ms >= needed_horizon_ms
}

/// Whether the dedup store remembers an ID for as long as copies of its message can arrive,
/// except with a negligible probability.
fn dedup_outlasts_copies(s: &Scenario, fault: DuplicateFault) -> bool {
    let window = s.dedup_window_ms / 2.0;
    match fault {
        // A network copy arrives within a few hops of the original.
        DuplicateFault::NetworkDuplicate(_) => window >= poll_ms(s) + 4.0 * slowest_hop_ms(s),
        // A lost offset commit makes no copy.
        DuplicateFault::AckLoss(_) => true,
        // Publish retries wait an ack timeout that doubles each time; the outbox relay retries
        // without a limit.
        DuplicateFault::PublishAckLoss(q) => {
            let unlimited = s.mode == Mode::Outbox;
            copies_fit(q, s.max_retries, unlimited, |k| {
                // Time from the first attempt to attempt k + 1: the ack timeouts of attempts
                // 1..=k, each doubled per retry for six doublings at most (the producer's
                // backoff), so 1 + 2 + … + 64 + 64 + ….
                let waits: f64 = (0..k).map(|i| power(2.0, i.min(6))).sum();
                s.ack_timeout_ms * waits + poll_ms(s) <= window
            })
        }
    }
}

/// Whether the retries that still fit in the dedup window (`fits(k)`: the (k + 1)-th attempt
/// does) cover every attempt the mode makes, or leave out only a chance below one in 100,000.
fn copies_fit(q: f64, retries: u32, unlimited: bool, fits: impl Fn(u32) -> bool) -> bool {
    let mut k = 0;
    while k < 200 && fits(k + 1) {
        k += 1;
    }
    (!unlimited && k >= retries) || power(q, k + 1) < 1e-5
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(query: &str) -> Scenario {
        let (s, errors) = Scenario::from_query(query, &[]);
        assert!(errors.is_empty(), "{errors:?}");
        s
    }

    #[test]
    fn the_geometric_law_is_cut_off_by_the_retry_budget() {
        assert_eq!(geometric_sum(0.5, 0), 0.0);
        assert_eq!(geometric_sum(0.5, 3), 0.875);
        // Many retries: q / (1 - q).
        assert!((geometric_sum(0.2, 100) - 0.25).abs() < 1e-12);
        let q = "mode=at-least-once&publish-ack-loss=0.5&max-retries=2&producer-idempotence=off";
        let e = expected(&s(q)).unwrap();
        assert_eq!(e.duplicates_per_message, 0.75);
        assert_eq!(e.lost_per_message, 0.0);
        // Offset commits are cumulative: losing some duplicates nothing.
        let e = expected(&s("mode=at-least-once&ack-loss=0.5")).unwrap();
        assert_eq!(e.duplicates_per_message, 0.0);
    }

    #[test]
    fn the_idempotent_producer_removes_the_publish_side_duplicates() {
        let q = "mode=at-least-once&publish-ack-loss=0.5&max-retries=2";
        assert_eq!(expected(&s(q)).unwrap().duplicates_per_message, 0.0);
        let off = format!("{q}&producer-idempotence=off");
        assert_eq!(expected(&s(&off)).unwrap().duplicates_per_message, 0.75);
        // auto follows acks: acks=leader turns a defaulted idempotence off.
        let leader = format!("{q}&acks=leader");
        assert_eq!(expected(&s(&leader)).unwrap().duplicates_per_message, 0.75);
        // A duplicated publish is dropped by its sequence number; without idempotence it is
        // a second record (TCP never duplicates a fetch response).
        let d = "mode=at-least-once&duplicate=0.1";
        assert_eq!(expected(&s(d)).unwrap().duplicates_per_message, 0.0);
        let d_off = format!("{d}&producer-idempotence=off");
        assert_eq!(expected(&s(&d_off)).unwrap().duplicates_per_message, 0.1);
    }

    #[test]
    fn every_mode_expects_nothing_without_faults() {
        for mode in Mode::ALL {
            let e = expected(&Scenario::default().with_mode(mode)).expect("calm defaults");
            assert_eq!((e.duplicates_per_message, e.lost_per_message), (0.0, 0.0));
        }
    }

    #[test]
    fn losses_compound_per_stage_and_mechanism() {
        let q = "publish-loss=0.5&delivery-loss=0.2&producer-crash=0.1&max-retries=1\
                 &producer-idempotence=off";
        let lost = |mode: &str| {
            expected(&s(&format!("mode={mode}&{q}")))
                .unwrap()
                .lost_per_message
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(lost("at-most-once"), 1.0 - 0.9 * 0.5));
        assert!(close(lost("at-least-once"), 1.0 - 0.9 * 0.75));
        // The transactional producer never gives up a record.
        assert!(close(lost("exactly-once"), 1.0 - 0.9));
        assert!(close(lost("outbox"), 0.0));
    }

    #[test]
    fn no_curve_where_the_formulas_do_not_hold() {
        // Two duplicating faults at once, a duplicate with a loss, crashes, delays.
        for query in [
            "publish-ack-loss=0.1&duplicate=0.1",
            "publish-ack-loss=0.1&publish-loss=0.1",
            "crash-after-process=0.1",
            "delay=0.1",
            "consumer-stall=0.1",
            "ack-loss=0.1&script=2s:crash-broker",
            "ack-loss=0.1&replica-lag=0.001",
            "replica-lag=0.001&min-insync-replicas=2",
            "producer-restart=0.01",
            "mode=outbox&relay-crash=0.01",
            "mode=exactly-once&producer-restart=0.001&publish-loss=0.1",
            // An idempotent producer's losses hold back the records behind them.
            "publish-loss=0.1",
        ] {
            assert_eq!(expected(&s(query)), None, "{query}");
        }
        // Timers that fire while the work is merely slow.
        assert_eq!(expected(&s("publish-ack-loss=0.1&ack-timeout-ms=5")), None);
        // A run that cannot drain before its horizon.
        assert_eq!(expected(&s("messages=100000&horizon-ms=60000")), None);
        // A dedup window shorter than the redeliveries lets copies through.
        let short = "mode=idempotent-consumer&publish-ack-loss=0.3&dedup-window-ms=300";
        assert_eq!(expected(&s(short)), None);
        let long = "mode=idempotent-consumer&publish-ack-loss=0.3";
        assert_eq!(expected(&s(long)).unwrap().duplicates_per_message, 0.0);
    }
}
