//! Time travel: a position reached through snapshots and replay is exactly the state of a
//! fresh run stopped there, for every mode and under every kind of fault; moving back and
//! forth in any order changes nothing; and the snapshots stay within their bound however long
//! the run.

use dsim_core::{Acks, Mode, Scenario, Simulation, Target, TimeTravel};
use proptest::prelude::*;

use crate::support::{fuzz_config, replay};

/// Scenarios over the whole fault space, all five modes, with short horizons and no
/// consumers now and then so that stalled runs are travelled too.
fn any_faulty_scenario() -> impl Strategy<Value = Scenario> {
    (
        (0u64..1_000_000, 40u32..400, 0u32..4, 1u32..6, 0usize..5),
        (
            0.0..0.2f64,
            0.0..0.2f64,
            0.0..0.2f64,
            0.0..0.2f64,
            0.0..0.1f64,
        ),
        (
            0.0..0.05f64,
            0.0..0.05f64,
            0.0..0.1f64,
            0.0..0.01f64,
            0.0..0.05f64,
        ),
        (any::<bool>(), any::<bool>(), 0u32..4),
    )
        .prop_map(|(load, net, nodes, other)| {
            let (seed, messages, consumers, partitions, mode) = load;
            let (publish_loss, publish_ack_loss, delivery_loss, ack_loss, duplicate) = net;
            let (crash_before_process, crash_after_process, delay, broker_crash, producer_crash) =
                nodes;
            let (acks_leader, short_horizon, max_retries) = other;
            Scenario {
                mode: Mode::ALL[mode],
                seed,
                messages,
                consumers,
                partitions,
                publish_loss,
                publish_ack_loss,
                delivery_loss,
                ack_loss,
                duplicate,
                crash_before_process,
                crash_after_process,
                delay,
                broker_crash,
                producer_crash,
                acks: if acks_leader { Acks::Leader } else { Acks::All },
                max_retries: 2 + max_retries * 3,
                horizon_ms: if short_horizon { 1_000.0 } else { 600_000.0 },
                ..Scenario::default()
            }
        })
}

/// A fresh run stopped at simulated time `t_us`.
fn fresh_at(s: &Scenario, t_us: u64) -> Simulation {
    let mut sim = Simulation::new(s);
    sim.advance_to(t_us);
    sim
}

/// A fresh run stepped exactly `events` events.
fn fresh_after(s: &Scenario, events: u64) -> Simulation {
    let mut sim = Simulation::new(s);
    sim.step(events);
    sim
}

/// Everything the page and the JS API show of a state: the report (counters, ledger, charts'
/// series, latency, guarantee so far), the light snapshot and the in-flight view.
fn assert_same_state(travelled: &Simulation, fresh: &Simulation, what: &str, s: &Scenario) {
    assert_eq!(
        travelled.report(),
        fresh.report(),
        "{what}: report differs\n{}",
        replay(s)
    );
    assert_eq!(
        travelled.snapshot(),
        fresh.snapshot(),
        "{what}\n{}",
        replay(s)
    );
    assert_eq!(
        travelled.queue_state(),
        fresh.queue_state(),
        "{what}: in-flight view differs\n{}",
        replay(s)
    );
}

proptest! {
    #![proptest_config(fuzz_config(48))]

    /// The "must show": a time-travel position reproduces the counters (and the whole
    /// partial report) of a fresh run stopped at that time, in every mode, under faults, with
    /// snapshots thinned by a small capacity and the run recorded in uneven slices.
    #[test]
    fn a_position_is_a_fresh_run_stopped_there(
        s in any_faulty_scenario(),
        capacity in 2usize..10,
        slices in proptest::collection::vec(1u64..5_000, 1..6),
        fractions in proptest::collection::vec(0.0..1.0f64, 1..5),
    ) {
        let mut tape = TimeTravel::with_limits(&s, capacity, usize::MAX);
        for slice in &slices {
            tape.step(*slice);
        }
        tape.run_to_end();
        let end_us = tape.live().now_us();
        let end_events = tape.live().events();
        for f in &fractions {
            let t = (end_us as f64 * f) as u64;
            let travelled = tape.state_at(t);
            assert_same_state(&travelled, &fresh_at(&s, t), &format!("at {t} µs"), &s);
            let k = (end_events as f64 * f) as u64;
            let travelled = tape.state_after_events(k);
            assert_same_state(&travelled, &fresh_after(&s, k), &format!("after {k} events"), &s);
        }
        prop_assert!(tape.snapshots() <= capacity.max(2));
    }

    /// A replay run in slices of any size arrives at the same state as one run at once.
    #[test]
    fn a_sliced_replay_arrives_at_the_same_state(
        s in any_faulty_scenario(),
        slice in 1u64..300,
        f in 0.0..1.0f64,
    ) {
        let mut tape = TimeTravel::with_limits(&s, 3, usize::MAX);
        tape.run_to_end();
        let t = (tape.live().now_us() as f64 * f) as u64;
        let mut replay_ = tape.replay_to(Target::Time(t));
        let mut rounds = 0;
        while !replay_.run(slice) {
            rounds += 1;
            prop_assert!(rounds < 10_000_000, "a replay that never arrives");
        }
        assert_same_state(replay_.state(), &fresh_at(&s, t), "sliced replay", &s);
    }

    /// Seeking backwards and forwards in any order gives the same state for the same time, and
    /// a step back followed by a step forward comes back to the same state.
    #[test]
    fn seeking_in_any_order_and_stepping_back_and_forth(
        s in any_faulty_scenario(),
        fractions in proptest::collection::vec(0.0..1.0f64, 2..8),
    ) {
        let mut tape = TimeTravel::with_limits(&s, 4, usize::MAX);
        tape.run_to_end();
        let end_us = tape.live().now_us();
        let end_events = tape.live().events();
        let mut seen = std::collections::BTreeMap::new();
        for f in &fractions {
            let t = (end_us as f64 * f) as u64;
            tape.seek(t);
            let here = tape.current().report();
            if let Some(before) = seen.insert(t, here.clone()) {
                prop_assert_eq!(before, here, "seek to {} µs twice\n{}", t, replay(&s));
            }
            let k = (end_events as f64 * f) as u64;
            tape.seek_events(k);
            let at_k = tape.current().report();
            if tape.step_back() {
                prop_assert_eq!(tape.current().events(), k - 1);
                prop_assert!(tape.step_forward());
                prop_assert_eq!(tape.current().report(), at_k, "back then forward\n{}", replay(&s));
            } else {
                prop_assert_eq!(k, 0);
            }
        }
    }
}

/// Recording a run does not change it: the recorded run's report is the plain run's.
#[test]
fn recording_leaves_the_run_unchanged() {
    for mode in Mode::ALL {
        let s = Scenario {
            mode,
            messages: 2_000,
            ack_loss: 0.1,
            crash_after_process: 0.01,
            seed: 3,
            ..Scenario::default()
        };
        let mut tape = TimeTravel::new(&s);
        tape.run_to_end();
        let mut plain = Simulation::new(&s);
        plain.run_to_end();
        assert_eq!(tape.live().report(), plain.report(), "{mode:?}");
    }
}

/// The bound is a count of snapshots, whatever the run's length: with a capacity of 8, a run
/// of about 200,000 events keeps at most 8, evenly spaced, and any seek replays fewer events
/// than the spacing.
#[test]
fn snapshots_stay_within_their_count_and_replays_within_the_spacing() {
    let s = Scenario {
        messages: 20_000,
        ack_loss: 0.05,
        delivery_loss: 0.05,
        ..Scenario::default()
    };
    let mut tape = TimeTravel::with_limits(&s, 8, usize::MAX);
    let mut most = 0;
    while !tape.live().is_finished() {
        tape.step(777);
        most = most.max(tape.snapshots());
    }
    assert!(most <= 8, "held {most} snapshots");
    assert!(tape.snapshots() >= 4, "thinning keeps half");
    let events = tape.live().events();
    assert!(events > 100_000, "a long run: {events} events");
    let spacing = tape.spacing_events();
    assert!(
        spacing <= events / 4 + TimeTravel::FIRST_SPACING_EVENTS,
        "spacing {spacing} for {events} events"
    );
    let end = tape.live().now_us();
    for i in 0..=20u64 {
        let t = end * i / 20;
        let mut r = tape.replay_to(Target::Time(t));
        let from = r.state().events();
        r.run(u64::MAX);
        let replayed = r.state().events() - from;
        assert!(
            replayed <= spacing,
            "replayed {replayed} events to reach {t} µs, spacing {spacing}"
        );
    }
}

/// A byte budget thins the snapshots too, down to the first two if it must.
#[test]
fn a_byte_budget_thins_the_snapshots() {
    let s = Scenario {
        mode: Mode::IdempotentConsumer,
        messages: 20_000,
        ack_loss: 0.05,
        ..Scenario::default()
    };
    let budget = 4 * 1024 * 1024;
    let mut tape = TimeTravel::with_limits(&s, 64, budget);
    while !tape.live().is_finished() {
        tape.step(5_000);
        assert!(
            tape.snapshots() <= 2 || tape.snapshot_bytes() <= budget,
            "{} snapshots of {} bytes",
            tape.snapshots(),
            tape.snapshot_bytes()
        );
    }
    assert!(tape.snapshots() < 64);
    let t = tape.live().now_us() / 3;
    assert_same_state(
        &tape.state_at(t),
        &fresh_at(&s, t),
        "under a byte budget",
        &s,
    );
}

/// Recording through `advance_to` (the page's Step button moves a chart bucket at a time)
/// takes its snapshots after events, so positions by events are still exact.
#[test]
fn recording_by_time_keeps_positions_exact() {
    let s = Scenario {
        mode: Mode::ExactlyOnce,
        messages: 3_000,
        ack_loss: 0.1,
        broker_crash: 0.002,
        seed: 11,
        ..Scenario::default()
    };
    let mut tape = TimeTravel::with_limits(&s, 6, usize::MAX);
    let mut t = 0;
    for round in 0u32.. {
        if tape.live().is_finished() {
            break;
        }
        t += 7_919;
        tape.advance_to(t, u64::MAX);
        if round % 25 == 0 {
            assert_eq!(tape.live().report(), fresh_at(&s, t).report(), "at {t} µs");
        }
    }
    let events = tape.live().events();
    for k in [0, 1, events / 3, events / 2, events - 1, events] {
        assert_same_state(
            &tape.state_after_events(k),
            &fresh_after(&s, k),
            &format!("after {k} events"),
            &s,
        );
    }
}

/// The in-flight view adds up: mid-run there are records and packets in flight and busy
/// consumers; once a run drains, nothing is left anywhere.
#[test]
fn the_in_flight_view_adds_up() {
    let s = Scenario {
        messages: 5_000,
        ack_loss: 0.1,
        ..Scenario::default()
    };
    let mut tape = TimeTravel::new(&s);
    tape.run_to_end();
    let mid = tape.state_at(tape.live().now_us() / 2).queue_state();
    let held: u32 = mid
        .partitions
        .iter()
        .map(|p| p.replicating + p.ready + p.delivered)
        .sum();
    assert!(held > 0, "records in the log mid-run: {mid:?}");
    assert!(mid.messages_in_flight > 0);
    assert!(mid.wire.publish + mid.wire.delivery + mid.wire.ack + mid.wire.fetch > 0);
    assert_eq!(mid.partitions.len(), s.partitions as usize);
    assert_eq!(mid.consumers.len(), s.consumers as usize);
    assert!(mid.partitions.iter().all(|p| p.owner.is_some()));
    let end = tape.live().queue_state();
    assert_eq!(end.messages_in_flight, 0);
    assert!(
        end.partitions
            .iter()
            .all(|p| p.replicating + p.ready + p.delivered == 0),
        "{end:?}"
    );
    assert_eq!(end.awaiting_publish_ack, 0);
}
