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
//! With `R` = `max-retries` (so at most `R + 1` attempts or deliveries):
//!
//! | faults (all others 0) | mode | duplicates per message | lost per message |
//! |---|---|---|---|
//! | none | every mode | 0 | 0 |
//! | only `ack-loss` = q | at-least-once | q + q² + … + q^R (→ q/(1−q)) | 0 |
//! | only `publish-ack-loss` = q | at-least-once without an idempotent producer | the same | 0 |
//! | the same | every other mode (and an idempotent producer) | 0 | 0 |
//! | only `duplicate` = d | at-least-once without an idempotent producer | 2d + d² | 0 |
//! | the same | at-least-once with an idempotent producer | d | 0 |
//! | the same | dedup modes, exactly-once | 0 | 0 |
//! | any of `publish-loss` p, `delivery-loss` l, `producer-crash` c | every mode | 0 | 1 − (1−c')(1−p')(1−l') |
//!
//! In the last row each stage's loss depends on the mode's mechanism: at-most-once never
//! retries (p' = p, l' = l); the retrying modes lose a message only when all `R + 1` attempts
//! are lost (p' = p^(R+1)), except the outbox relay and exactly-once's transactional
//! producer, which never give up (p' = 0), and exactly-once, whose broker never dead-letters
//! (l' = 0); only the outbox survives a producer
//! crash (c' = 0, else c' = c). Duplicate-causing faults mixed with each other or with losses
//! have no formula here, nor do `producer-restart` and `relay-crash` (what a restart resends
//! that had already landed depends on timing), nor `publish-loss` with an idempotent producer
//! that may give up (at-least-once and the idempotent consumer with acks=all): it keeps its
//! records in order, so their losses are correlated. The publish-loss column above is for a
//! producer without idempotence.

use serde::{Deserialize, Serialize};

use crate::scenario::{Mode, Scenario};

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
    // Faults no formula covers: crashes and delays change timing and state in ways that need
    // a simulation, which is the point of having one.
    let unmodelled = [
        s.broker_crash,
        s.crash_before_process,
        s.crash_after_process,
        s.delay,
        // A restart resends what the producer has no ack for, under a new producer ID (or
        // fenced by epoch): how many had landed depends on timing, not on a simple law.
        s.producer_restart,
        s.relay_crash,
    ];
    // Nor does any formula cover a fault timeline: it strikes whatever the run is doing then.
    if unmodelled.iter().any(|&p| p > 0.0) || !s.script.is_empty() {
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
        (Mode::AtLeastOnce, DuplicateFault::AckLoss(q)) => Some(geometric_sum(q, s.max_retries)),
        // The idempotent producer's broker drops every retry of a batch it retains; the
        // producer's window (at most five in flight) keeps a retry within those five.
        (Mode::AtLeastOnce, DuplicateFault::PublishAckLoss(_)) if s.idempotent_producer() => {
            Some(0.0)
        }
        (Mode::AtLeastOnce, DuplicateFault::PublishAckLoss(q)) => {
            Some(geometric_sum(q, s.max_retries))
        }
        // With an idempotent producer a duplicated publish is dropped by its sequence number,
        // so only the record's delivery may be duplicated: d extra applications.
        (Mode::AtLeastOnce, DuplicateFault::NetworkDuplicate(d)) if s.idempotent_producer() => {
            Some(d)
        }
        // Without one, a duplicated publish stores a second record, and each record's
        // delivery may be duplicated: d(1 + d) + d extra applications.
        (Mode::AtLeastOnce, DuplicateFault::NetworkDuplicate(d)) => Some(2.0 * d + d * d),
        // At-most-once trusts the network not to duplicate (it relies on TCP); how many copies
        // get applied then depends on the consumer's position, not on a simple law.
        (Mode::AtMostOnce, DuplicateFault::NetworkDuplicate(_)) => None,
        // Acks do not matter to a sender that never retries and a broker that never redelivers.
        (Mode::AtMostOnce, _) => Some(0.0),
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
    let delivery = match s.mode {
        Mode::AtMostOnce => s.delivery_loss,
        Mode::ExactlyOnce => 0.0,
        _ => power(s.delivery_loss, attempts),
    };
    // 1 − (1−c)(1−p)(1−l), summed stage by stage so that a single stage's rate comes out
    // exactly as given (0.05, not 0.050000000000000044).
    crash + (1.0 - crash) * (publish + (1.0 - publish) * delivery)
}

/// The slowest one-way network trip, ms.
fn slowest_hop_ms(s: &Scenario) -> f64 {
    s.latency_ms + s.jitter_ms
}

/// From a fetch to the broker having the ack of the poll's last record, ms, at worst.
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
    s.visibility_timeout_ms >= 2.0 * poll_ms(s)
        && s.ack_timeout_ms >= 2.0 * publish_round_trip
        && s.horizon_ms >= needed_horizon_ms
}

/// Whether the dedup store remembers an ID for as long as copies of its message can arrive,
/// except with a negligible probability.
fn dedup_outlasts_copies(s: &Scenario, fault: DuplicateFault) -> bool {
    let window = s.dedup_window_ms / 2.0;
    match fault {
        // A network copy arrives within a few hops of the original.
        DuplicateFault::NetworkDuplicate(_) => window >= poll_ms(s) + 4.0 * slowest_hop_ms(s),
        // Redeliveries come one visibility timeout apart, at most R + 1 of them.
        DuplicateFault::AckLoss(q) => {
            let per_try = s.visibility_timeout_ms + poll_ms(s);
            copies_fit(q, s.max_retries, false, |k| k as f64 * per_try <= window)
        }
        // Publish retries wait an ack timeout that doubles each time; the outbox relay retries
        // without a limit.
        DuplicateFault::PublishAckLoss(q) => {
            let unlimited = s.mode == Mode::Outbox;
            copies_fit(q, s.max_retries, unlimited, |k| {
                // Time from the first attempt to attempt k + 1: ack timeout × (2^k − 1).
                let doublings = power(2.0, k.min(64));
                s.ack_timeout_ms * (doublings - 1.0) + poll_ms(s) <= window
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
        let e = expected(&s("mode=at-least-once&ack-loss=0.5&max-retries=2")).unwrap();
        assert_eq!(e.duplicates_per_message, 0.75);
        assert_eq!(e.lost_per_message, 0.0);
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
        let d = "mode=at-least-once&duplicate=0.1";
        assert_eq!(expected(&s(d)).unwrap().duplicates_per_message, 0.1);
        let d_off = format!("{d}&producer-idempotence=off");
        let e = expected(&s(&d_off)).unwrap().duplicates_per_message;
        assert!((e - 0.21).abs() < 1e-12);
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
        assert!(close(lost("at-most-once"), 1.0 - 0.9 * 0.5 * 0.8));
        assert!(close(lost("at-least-once"), 1.0 - 0.9 * 0.75 * 0.96));
        assert!(close(lost("exactly-once"), 1.0 - 0.9));
        assert!(close(lost("outbox"), 1.0 - 0.96));
    }

    #[test]
    fn no_curve_where_the_formulas_do_not_hold() {
        // Two duplicating faults at once, a duplicate with a loss, crashes, delays.
        for query in [
            "ack-loss=0.1&duplicate=0.1",
            "ack-loss=0.1&publish-loss=0.1",
            "crash-after-process=0.1",
            "delay=0.1",
            "mode=at-most-once&duplicate=0.1",
            "ack-loss=0.1&script=2s:crash-broker",
            "producer-restart=0.01",
            "mode=outbox&relay-crash=0.01",
            "mode=exactly-once&producer-restart=0.001&publish-loss=0.1",
            // An idempotent producer's losses hold back the records behind them.
            "publish-loss=0.1",
        ] {
            assert_eq!(expected(&s(query)), None, "{query}");
        }
        // Timers that fire while the work is merely slow.
        assert_eq!(expected(&s("ack-loss=0.1&processing-ms=10")), None);
        assert_eq!(expected(&s("ack-loss=0.1&ack-timeout-ms=5")), None);
        // A run that cannot drain before its horizon.
        assert_eq!(expected(&s("messages=100000&horizon-ms=60000")), None);
        // A dedup window shorter than the redeliveries lets copies through.
        let short = "mode=idempotent-consumer&ack-loss=0.3&dedup-window-ms=300";
        assert_eq!(expected(&s(short)), None);
        let long = "mode=idempotent-consumer&ack-loss=0.3";
        assert_eq!(expected(&s(long)).unwrap().duplicates_per_message, 0.0);
    }
}
