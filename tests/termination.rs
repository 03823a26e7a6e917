//! Hopeless fault mixes end, in bounded time, with a status that says what happened: gave up
//! (retries exhausted), or stalled (stopped with messages in flight: no consumers, the horizon,
//! the event budget or the bound on the broker's log). Every case below also checks that the
//! run stayed inside its bounds, balanced its books, and said why it ended in a sentence
//! (`Report::status_detail`, which the CLI and the page show).

use std::time::{Duration, Instant};

use dsim_core::{
    Idempotence, MAX_LOG_RECORDS, Mode, Scenario, Status, TraceKind, event_budget, trace_message,
};

use crate::support::{assert_conserved, replay, run};

/// Far more than any case needs even in a debug build on a busy machine; a run that takes
/// this long has stopped being bounded in any useful sense.
const WALL_CLOCK_LIMIT: Duration = Duration::from_secs(120);

fn ends(s: Scenario) -> dsim_core::Report {
    let start = Instant::now();
    let r = run(&s);
    let took = start.elapsed();
    assert!(took < WALL_CLOCK_LIMIT, "took {took:?}; {}", replay(&s));
    assert_ne!(r.status, Status::Running);
    assert_conserved(&r);
    assert!(r.events <= event_budget(s.messages), "{}", replay(&s));
    assert!(r.duration_ms <= s.horizon_ms + 0.001, "{}", replay(&s));
    assert!(r.cost.peak_log_records <= MAX_LOG_RECORDS as u64);
    let key = match r.status {
        Status::Drained => "drained",
        Status::GaveUp => "gave up",
        Status::Stalled => "stalled",
        Status::Running => unreachable!(),
    };
    assert!(
        r.status_detail().starts_with(key),
        "{:?} explained as {:?}",
        r.status,
        r.status_detail()
    );
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
    for mode in [Mode::AtLeastOnce, Mode::IdempotentConsumer] {
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
    // So does exactly-once's transactional producer (Kafka's application aborts a failed
    // transaction and produces again).
    let eos = ends(Scenario {
        horizon_ms: 20_000.0,
        ..base.with_mode(Mode::ExactlyOnce)
    });
    assert_eq!(
        (eos.status, eos.in_flight, eos.lost),
        (Status::Stalled, 200, 0)
    );
}

/// Under total publish loss every attempt times out, so the trace shows the whole backoff:
/// each wait twice the last, growing for six doublings, then level, until the retry budget
/// is spent. Many messages retry at once, so each step's timer list holds many timers.
#[test]
fn a_producer_that_never_hears_back_backs_off_then_gives_up() {
    // Without an idempotent producer each message backs off on its own timer (with one, the
    // oldest record's timeout resends its whole window: see `tests/producer.rs`).
    let s = Scenario {
        messages: 50,
        publish_loss: 1.0,
        max_retries: 10,
        producer_idempotence: Idempotence::Off,
        ..Scenario::default()
    }
    .with_mode(Mode::AtLeastOnce);
    let r = ends(s.clone());
    assert_eq!((r.status, r.gave_up, r.retries), (Status::GaveUp, 50, 500));
    let ack_timeout_us = dsim_core::time::ms_to_us(s.ack_timeout_ms);
    for message in [0, 17, 49] {
        let trace = trace_message(&s, message);
        let publishes: Vec<u64> = trace
            .iter()
            .filter(|e| e.kind == TraceKind::Publish)
            .map(|e| e.at_us)
            .collect();
        assert_eq!(publishes.len(), 11, "message {message}: {trace:?}");
        let waits: Vec<u64> = publishes.windows(2).map(|w| w[1] - w[0]).collect();
        let doublings = [0, 1, 2, 3, 4, 5, 6, 6, 6, 6];
        let expected: Vec<u64> = doublings.iter().map(|d| ack_timeout_us << d).collect();
        assert_eq!(waits, expected, "message {message}");
        let gave_up = trace.last().expect("a trace");
        assert_eq!(gave_up.kind, TraceKind::GaveUp);
        assert_eq!(gave_up.at_us - publishes[10], ack_timeout_us << 6);
    }
}

#[test]
fn a_consumer_that_always_crashes_blocks_its_partition_at_the_committed_offset() {
    let base = Scenario {
        messages: 100,
        crash_before_process: 1.0,
        horizon_ms: 20_000.0,
        ..Scenario::default()
    };
    // Kafka has no dead-letter queue: every reader of a partition crashes on the record at
    // its committed offset, so the run stops at the horizon and says where it is stuck.
    for mode in [
        Mode::AtLeastOnce,
        Mode::IdempotentConsumer,
        Mode::Outbox,
        Mode::ExactlyOnce,
    ] {
        let r = ends(base.with_mode(mode));
        assert_eq!(r.status, Status::Stalled, "{mode:?}");
        assert_eq!((r.in_flight, r.dead_lettered, r.side_effects), (100, 0, 0));
        let stuck = r.stuck_at.expect("a stalled run names where it is stuck");
        assert_eq!((stuck.partition, stuck.offset), (0, 0), "{mode:?}");
        assert!(r.replayed > 0, "{mode:?}");
    }
    // At-most-once committed each poll before processing it: the crash loses that poll,
    // the next reader moves on, and everything is lost without a word.
    let amo = ends(base.with_mode(Mode::AtMostOnce));
    assert_eq!((amo.status, amo.lost_silently), (Status::Drained, 100));
    assert_eq!(amo.stuck_at, None);
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
        publish_ack_loss: 0.2,
        dedup_window_ms: 0.0,
        mode: Mode::IdempotentConsumer,
        // Otherwise the broker drops the retries and nothing reaches the dedup store twice.
        producer_idempotence: dsim_core::Idempotence::Off,
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
        ..Scenario::default()
    };
    let r = ends(s);
    assert_eq!(r.status, Status::Drained);
    assert!(r.latency_ms.p50 > 10_000.0);
    // With the default timeouts the producer and the broker give up waiting long before an
    // answer can come back: retries and redeliveries pile up, yet the run still ends.
    let impatient = ends(Scenario {
        messages: 200,
        latency_ms: 10_000.0,
        ..Scenario::default()
    });
    assert!(impatient.retries + impatient.replayed > 200);
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

#[test]
fn zero_consumers_stalls_in_every_mode_and_says_why() {
    for mode in Mode::ALL {
        let r = ends(Scenario {
            mode,
            messages: 300,
            consumers: 0,
            ..Scenario::default()
        });
        assert_eq!(r.status, Status::Stalled, "{mode:?}");
        assert_eq!((r.produced, r.in_flight), (300, 300), "{mode:?}");
        assert_eq!((r.side_effects, r.lost), (0, 0), "{mode:?}");
        assert_eq!(
            r.status_detail(),
            "stalled: there are no consumers, so nothing reads the topic; 300 messages still in flight"
        );
        // Nothing could move, so the run ended as soon as the producers were done, not at
        // the horizon.
        assert!(r.duration_ms < r.scenario.horizon_ms, "{mode:?}");
    }
}

#[test]
fn a_run_that_never_ends_by_itself_stops_at_its_event_budget() {
    // Exactly-once has no dead-letter queue: a consumer that always crashes, restarting and
    // timing out within a millisecond, would spin until the one-hour horizon.
    let r = ends(Scenario {
        mode: Mode::ExactlyOnce,
        messages: 10,
        crash_before_process: 1.0,
        restart_ms: 1.0,
        session_timeout_ms: 1.0,
        horizon_ms: 3_600_000.0,
        ..Scenario::default()
    });
    assert_eq!(r.status, Status::Stalled);
    assert_eq!(r.events, event_budget(10));
    assert_eq!(r.in_flight, 10);
    assert!(
        r.status_detail()
            .contains("the event budget (1020000 events) ran out"),
        "{}",
        r.status_detail()
    );
    // No run, whatever its size, gets more than the absolute cap.
    assert_eq!(event_budget(2_000_000), dsim_core::MAX_EVENTS);
}

#[test]
fn a_log_that_would_grow_without_end_stops_at_its_bound() {
    // One slow consumer, every publish duplicated and every publish ack lost, retried every
    // millisecond: the log gains records far faster than anyone reads them. Slow in a debug
    // build (tens of seconds), so it runs with DSIM_SLOW_TESTS, as CI sets.
    if std::env::var_os("DSIM_SLOW_TESTS").is_none() {
        println!("skipped: set DSIM_SLOW_TESTS=1");
        return;
    }
    let r = ends(Scenario {
        mode: Mode::Outbox,
        messages: 2_000_000,
        publish_rate: 1_000_000.0,
        consumers: 1,
        processing_ms: 1_000.0,
        max_poll: 1,
        duplicate: 1.0,
        publish_ack_loss: 1.0,
        ack_timeout_ms: 1.0,
        max_retries: 100,
        // Without idempotence: its broker would drop every retry and duplicate. Each relay
        // has at most five unacknowledged sends per partition (`max-in-flight`), so many
        // relays and partitions keep enough of them retrying.
        producer_idempotence: dsim_core::Idempotence::Off,
        producers: 64,
        partitions: 256,
        ..Scenario::default()
    });
    assert_eq!(r.status, Status::Stalled);
    assert_eq!(r.cost.peak_log_records, MAX_LOG_RECORDS as u64);
    assert_eq!(r.lost, 0, "the bound stops the run; it loses nothing");
    assert!(
        r.status_detail()
            .contains("the broker's log reached its bound of 8000000 records"),
        "{}",
        r.status_detail()
    );
}

#[test]
fn a_relay_retrying_for_an_hour_into_a_log_nobody_reads_keeps_its_message_in_flight() {
    // Every ack lost and every publish doubled by the network: the relay never gives up, and
    // each attempt appends two records. By the horizon one message has over 65,535 records,
    // each of which could still be read. Its reference count once wrapped there, and the
    // message counted as lost, silently, in a run that "drained" (found by a long fuzz run).
    let s = Scenario {
        mode: Mode::Outbox,
        messages: 1,
        consumers: 0,
        publish_ack_loss: 1.0,
        duplicate: 1.0,
        ack_timeout_ms: 1.0,
        horizon_ms: 3_600_000.0,
        // Without an idempotent producer, whose broker would drop every copy after the first.
        producer_idempotence: Idempotence::Off,
        ..Scenario::default()
    };
    let r = ends(s.clone());
    assert!(r.cost.peak_log_records > 65_535, "{}", replay(&s));
    assert_eq!(
        (r.status, r.in_flight, r.lost, r.lost_silently),
        (Status::Stalled, 1, 0, 0),
        "{}",
        replay(&s)
    );
}

#[test]
fn a_fetch_lost_more_than_65535_times_still_draws_a_new_fault_each_time() {
    // A consumer whose fetch responses are nearly all lost asks again after each request
    // timeout (`ack-timeout-ms`, 1 ms here). The count of lost responses keys the next
    // response's fault draw; were it to saturate, every response would draw the same
    // verdict: "lost" for ever, and the run would stall.
    let s = Scenario {
        mode: Mode::ExactlyOnce,
        seed: 2,
        messages: 1,
        delivery_loss: 0.99999,
        ack_timeout_ms: 1.0,
        horizon_ms: 3_600_000.0,
        ..Scenario::default()
    };
    let r = ends(s.clone());
    assert!(r.network_messages > 65_535, "{}", replay(&s));
    // Lost responses are asked for again, not read again: nothing was replayed.
    assert_eq!(r.replayed, 0, "{}", replay(&s));
    assert_eq!(
        (r.status, r.side_effects, r.duplicates),
        (Status::Drained, 1, 0),
        "{}",
        replay(&s)
    );
}
