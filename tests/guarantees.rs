//! The guarantees as properties over random scenarios: every message is accounted for, each
//! mode keeps its promise under every fault mix its mechanism is meant to handle, and the
//! same scenario and seed give the same report.

use dsim_core::{Acks, Mode, Scenario, Status};
use proptest::prelude::*;

use crate::support::{assert_conserved, replay, run};

/// Faults every mode's mechanism is meant to survive: network loss, duplication and delay
/// everywhere, consumer crashes, and broker crashes with `acks=all` and at least one
/// follower (with a single replica, `all` is `leader`: nobody else has the data). Retry budgets are large
/// enough that running out of them is vanishingly unlikely, so a loss would be a real bug.
fn survivable_scenario() -> impl Strategy<Value = Scenario> {
    (
        (
            0u64..1_000_000,
            100u32..600,
            1u32..5,
            1u32..9,
            1u32..4,
            1u32..20,
        ),
        (
            0.0..0.3f64,
            0.0..0.3f64,
            0.0..0.3f64,
            0.0..0.3f64,
            0.0..0.2f64,
        ),
        (0.0..0.01f64, 0.0..0.01f64, 0.0..0.1f64, 0.0..0.002f64),
        (500.0..20_000.0f64, 2usize..4),
    )
        .prop_map(|(load, net, nodes, other)| {
            let (seed, messages, consumers, partitions, producers, max_poll) = load;
            let (publish_loss, publish_ack_loss, delivery_loss, ack_loss, duplicate) = net;
            let (crash_before_process, crash_after_process, delay, broker_crash) = nodes;
            let (publish_rate, replication_factor) = other;
            Scenario {
                seed,
                messages,
                consumers,
                partitions,
                producers,
                max_poll,
                publish_rate,
                publish_loss,
                publish_ack_loss,
                delivery_loss,
                ack_loss,
                duplicate,
                crash_before_process,
                crash_after_process,
                delay,
                broker_crash,
                acks: Acks::All,
                replication_factor: replication_factor as u32,
                max_retries: 40,
                ..Scenario::default()
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: if std::env::var_os("DSIM_SLOW_TESTS").is_some() { 96 } else { 24 }, ..ProptestConfig::default() })]

    #[test]
    fn every_message_is_accounted_for_in_every_mode(s in survivable_scenario(), mode_index in 0usize..5) {
        let r = run(&s.with_mode(Mode::ALL[mode_index]));
        assert_conserved(&r);
        prop_assert_ne!(r.status, Status::Running);
    }

    #[test]
    fn strong_modes_never_lose_or_duplicate(s in survivable_scenario(), mode_index in 0usize..3) {
        let mode = [Mode::IdempotentConsumer, Mode::ExactlyOnce, Mode::Outbox][mode_index];
        let r = run(&s.with_mode(mode));
        prop_assert_eq!(r.duplicates, 0, "{}", replay(&r.scenario));
        prop_assert_eq!(r.lost, 0, "{}", replay(&r.scenario));
        prop_assert_eq!(r.in_flight, 0, "{}", replay(&r.scenario));
        prop_assert!(r.guarantee.held);
        prop_assert_eq!(r.ledger.actual_cents, r.ledger.expected_cents);
    }

    #[test]
    fn at_least_once_never_loses(s in survivable_scenario()) {
        let r = run(&s.with_mode(Mode::AtLeastOnce));
        prop_assert_eq!(r.lost, 0, "{}", replay(&r.scenario));
        prop_assert!(r.guarantee.held);
    }

    #[test]
    fn at_most_once_never_duplicates(s in survivable_scenario()) {
        // At-most-once has no dedup anywhere: it relies on the transport (TCP) not to
        // duplicate, so network duplication is outside its promise (and the checker flags it).
        let r = run(&Scenario { duplicate: 0.0, ..s.with_mode(Mode::AtMostOnce) });
        prop_assert_eq!(r.duplicates, 0, "{}", replay(&r.scenario));
        prop_assert_eq!(r.retries + r.redeliveries, 0);
        prop_assert!(r.guarantee.held);
    }

    #[test]
    fn the_outbox_survives_producer_crashes(s in survivable_scenario(), producer_crash in 0.0..0.5f64) {
        let s = Scenario { producer_crash, ..s.with_mode(Mode::Outbox) };
        let r = run(&s);
        prop_assert_eq!(r.lost + r.duplicates, 0, "{}", replay(&r.scenario));
    }

    #[test]
    fn same_scenario_and_seed_give_the_same_report(s in survivable_scenario(), mode_index in 0usize..5) {
        let s = s.with_mode(Mode::ALL[mode_index]);
        let a = serde_json::to_string(&run(&s)).unwrap();
        let b = serde_json::to_string(&run(&s)).unwrap();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn a_fault_strikes_the_same_message_in_every_mode(seed in 0u64..1_000_000) {
        // With only publish loss, at-most-once loses exactly the messages whose first publish
        // the plan drops; every retrying mode sees those same drops as retries.
        let s = Scenario { seed, messages: 300, publish_loss: 0.2, ..Scenario::default() };
        let amo = run(&s.with_mode(Mode::AtMostOnce));
        let alo = run(&s.with_mode(Mode::AtLeastOnce));
        prop_assert_eq!(amo.lost, alo.retries - second_attempt_drops(&s));
    }
}

/// Retries beyond the first in at-least-once, i.e. drops of attempts 2 and later, counted
/// from the fault plan directly.
fn second_attempt_drops(s: &Scenario) -> u64 {
    use dsim_core::faults::{FaultPlan, Hop, Verdict};
    let plan = FaultPlan::new(s);
    let mut extra = 0;
    for m in 0..s.messages {
        if plan.network(Hop::Publish, m, 1, 0) != Verdict::Drop {
            continue;
        }
        let mut attempt = 2;
        while plan.network(Hop::Publish, m, attempt, 0) == Verdict::Drop {
            extra += 1;
            attempt += 1;
        }
    }
    extra
}

#[test]
fn unsurvivable_faults_break_promises_and_the_checker_says_so() {
    // acks=leader with broker crashes: a strong mode can lose, and must say it did.
    let s = Scenario {
        broker_crash: 0.001,
        acks: Acks::Leader,
        mode: Mode::IdempotentConsumer,
        ..Scenario::default()
    };
    let r = run(&s);
    assert!(r.lost > 0, "{}", replay(&s));
    assert!(!r.guarantee.held);
    let ce = r.guarantee.counterexample.expect("a counterexample");
    assert_eq!(ce.problem, "loss");
    assert!(
        ce.trace
            .iter()
            .any(|e| e.kind == dsim_core::TraceKind::Truncated),
        "{:#?}",
        ce.trace
    );
}
