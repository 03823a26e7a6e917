//! Hopeless fault mixes end, in bounded time, with a status that says what happened: gave up
//! (retries exhausted), or stalled (stopped at the horizon with messages in flight).

use dsim_core::{Mode, Scenario, Status};

use crate::support::{assert_conserved, run};

fn ends(s: Scenario) -> dsim_core::Report {
    let r = run(&s);
    assert_ne!(r.status, Status::Running);
    assert_conserved(&r);
    r
}

#[test]
fn total_publish_loss_gives_up_or_stalls_in_every_mode() {
    let base = Scenario {
        messages: 200,
        publish_loss: 1.0,
        ..Scenario::default()
    };
    let amo = ends(base.with_mode(Mode::AtMostOnce));
    assert_eq!(
        (amo.status, amo.lost, amo.lost_silently),
        (Status::Drained, 200, 200)
    );
    for mode in [
        Mode::AtLeastOnce,
        Mode::IdempotentConsumer,
        Mode::ExactlyOnce,
    ] {
        let r = ends(base.with_mode(mode));
        assert_eq!(r.status, Status::GaveUp, "{mode:?}");
        assert_eq!(r.gave_up, 200, "{mode:?}");
        assert!(!r.guarantee.held);
        assert!(
            r.guarantee
                .counterexample
                .unwrap()
                .explanation
                .contains("gave up")
        );
    }
    // The outbox row outlives any retry budget: the relay keeps trying until the horizon.
    let outbox = ends(Scenario {
        horizon_ms: 20_000.0,
        ..base.with_mode(Mode::Outbox)
    });
    assert_eq!(outbox.status, Status::Stalled);
    assert_eq!(outbox.in_flight, 200);
    assert_eq!(outbox.lost, 0);
}

#[test]
fn a_consumer_that_always_crashes_dead_letters_or_stalls() {
    let base = Scenario {
        messages: 100,
        crash_before_process: 1.0,
        horizon_ms: 20_000.0,
        ..Scenario::default()
    };
    for mode in [Mode::AtLeastOnce, Mode::IdempotentConsumer, Mode::Outbox] {
        let r = ends(base.with_mode(mode));
        assert_eq!(r.status, Status::GaveUp, "{mode:?}");
        assert_eq!(r.dead_lettered, 100, "{mode:?}");
        assert_eq!(r.side_effects, 0);
    }
    // Kafka has no dead-letter queue: the partition is stuck until the horizon.
    let eos = ends(base.with_mode(Mode::ExactlyOnce));
    assert_eq!(eos.status, Status::Stalled);
    assert_eq!(eos.in_flight, 100);
    // At-most-once acked everything on receipt: all lost, and it said nothing.
    let amo = ends(base.with_mode(Mode::AtMostOnce));
    assert_eq!((amo.status, amo.lost_silently), (Status::Drained, 100));
}

#[test]
fn crashing_after_processing_every_time_still_ends() {
    let s = Scenario {
        messages: 100,
        crash_after_process: 1.0,
        horizon_ms: 20_000.0,
        ..Scenario::default()
    };
    for mode in Mode::ALL {
        ends(s.with_mode(mode));
    }
}

#[test]
fn a_dedup_window_of_zero_remembers_nothing() {
    let s = Scenario {
        messages: 2_000,
        ack_loss: 0.2,
        dedup_window_ms: 0.0,
        mode: Mode::IdempotentConsumer,
        ..Scenario::default()
    };
    let r = ends(s);
    assert!(r.duplicates > 0);
    assert_eq!(r.cost.dedup_skips, 0);
}

#[test]
fn huge_latency_only_slows_things_down() {
    let s = Scenario {
        messages: 200,
        latency_ms: 5_000.0,
        ack_timeout_ms: 60_000.0,
        visibility_timeout_ms: 120_000.0,
        ..Scenario::default()
    };
    let r = ends(s);
    assert_eq!(r.status, Status::Drained);
    assert!(r.latency_ms.p50 > 10_000.0);
}

#[test]
fn a_short_horizon_stops_a_long_run_midway() {
    let s = Scenario {
        messages: 100_000,
        horizon_ms: 1_000.0,
        ..Scenario::default()
    };
    let r = ends(s);
    assert_eq!(r.status, Status::Stalled);
    assert!(r.produced < 100_000 && r.in_flight > 0);
}
