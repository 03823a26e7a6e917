//! RabbitMQ (`broker=rabbitmq`), behaviour by behaviour, with exact counts where the run is
//! deterministic: prefetch and requeue on close, auto-ack's lost buffer, publisher confirms
//! without an idempotent producer, a lost basic.ack as a dropped connection, a node restart,
//! and the refusals.

use dsim_core::{Mode, Scenario, Simulation, TraceKind};

use crate::support::{assert_conserved, replay, run, scenario};

/// One producer far faster than one slow consumer, so the queue always has a backlog: the
/// consumer's prefetch window is always full.
fn backlog(extra: &str) -> Scenario {
    scenario(&format!(
        "broker=rabbitmq&messages=60&producers=1&consumers=1&publish-rate=10000&processing-ms=10{extra}"
    ))
}

#[test]
fn a_crash_after_processing_duplicates_one_payment_and_requeues_the_whole_prefetch_window() {
    for prefetch in [1u32, 5, 10] {
        let s = backlog(&format!(
            "&prefetch={prefetch}&script=100ms:crash-consumer-0-after"
        ));
        let r = run(&s);
        let q = r.queue.as_ref().expect("a RabbitMQ run reports its queue");
        // The payment it processed and never acked is applied again; every delivery it held
        // unacknowledged (that one and the rest of the window) comes back, marked redelivered.
        assert_eq!(r.duplicates, 1, "prefetch {prefetch}: {}", replay(&s));
        assert_eq!(q.redelivered, prefetch as u64, "prefetch {prefetch}");
        assert_eq!(q.peak_unacked, prefetch as u64, "prefetch {prefetch}");
        assert_eq!((r.lost, r.in_flight, q.connections_lost), (0, 0, 0));
        assert_eq!((q.ready_at_end, q.unacked_at_end), (0, 0));
        assert_conserved(&r);
    }
}

#[test]
fn requeued_deliveries_go_out_first_in_their_old_order_marked_redelivered() {
    let s = backlog("&prefetch=5&script=100ms:crash-consumer-0-after");
    let all: Vec<u32> = (0..60).collect();
    let mut sim = Simulation::with_traces(&s, &all);
    sim.run_to_end();
    // When each message was pushed, and whether as a redelivery.
    let mut pushes: Vec<(u64, u32, bool)> = Vec::new();
    for msg in 0..60 {
        for e in sim.trace_of(msg).unwrap_or(&[]) {
            match e.kind {
                TraceKind::Delivered => pushes.push((e.at_us, msg, false)),
                TraceKind::Replayed => pushes.push((e.at_us, msg, true)),
                _ => {}
            }
        }
    }
    pushes.sort();
    let first_redelivery = pushes.iter().position(|p| p.2).expect("a redelivery");
    let redelivered: Vec<u32> = pushes[first_redelivery..first_redelivery + 5]
        .iter()
        .map(|p| {
            assert!(
                p.2,
                "the five requeued come back before anything new: {pushes:?}"
            );
            p.1
        })
        .collect();
    // Five consecutive positions, in order: the window the consumer held.
    let lowest = redelivered[0];
    assert_eq!(redelivered, (lowest..lowest + 5).collect::<Vec<_>>());
    // What comes next is the first message never delivered before.
    assert_eq!(
        pushes[first_redelivery + 5],
        (pushes[first_redelivery + 5].0, lowest + 5, false)
    );
    assert_eq!(pushes.iter().filter(|p| p.2).count(), 5);
}

#[test]
fn auto_ack_loses_everything_pushed_to_a_crashed_consumer_whatever_the_prefetch() {
    let mut lost = Vec::new();
    for prefetch in [1u32, 10] {
        let s = backlog(&format!(
            "&mode=at-most-once&prefetch={prefetch}&script=100ms:crash-consumer-0-before"
        ));
        let r = run(&s);
        let q = r.queue.as_ref().unwrap();
        assert!(q.auto_ack);
        // The broker forgot each message as it pushed it: nothing is ever redelivered or
        // unacknowledged, and the messages in the dead consumer's buffer are gone.
        assert_eq!((q.redelivered, q.peak_unacked, r.duplicates), (0, 0, 0));
        assert_eq!(r.lost + r.unique_processed, 60);
        lost.push(r.lost);
    }
    // Prefetch does not limit an auto-ack consumer: the same buffer is lost with 1 or 10,
    // far more than either window.
    assert_eq!(lost[0], lost[1]);
    assert_eq!(lost[0], 50, "the consumer had applied 10 of 60 by 100 ms");
}

#[test]
fn manual_ack_turns_the_same_crash_into_no_loss() {
    let s = backlog("&mode=at-least-once&script=100ms:crash-consumer-0-before");
    let r = run(&s);
    assert_eq!((r.lost, r.duplicates), (0, 0), "{}", replay(&s));
    assert_eq!(r.queue.unwrap().redelivered, 10);
}

#[test]
fn a_lost_publisher_confirm_is_a_republish_and_a_second_message() {
    for seed in 1..6 {
        let q = format!("broker=rabbitmq&messages=2000&publish-ack-loss=0.05&seed={seed}");
        let r = run(&scenario(&q));
        // No idempotent producer: every extra message the queue received is applied again.
        assert!(r.duplicates > 0);
        assert_eq!(r.duplicates, r.cost.log_appends - r.produced, "{q}");
        assert_eq!(r.cost.duplicates_dropped_by_broker, 0);
        let r = run(&scenario(&format!("{q}&mode=idempotent-consumer")));
        assert_eq!(r.duplicates, 0, "{q}");
        assert_eq!(r.cost.dedup_skips, r.cost.log_appends - r.produced, "{q}");
    }
}

#[test]
fn a_lost_basic_ack_drops_the_connection_and_applies_exactly_that_payment_again() {
    for seed in 1..6 {
        let q = format!("broker=rabbitmq&messages=3000&ack-loss=0.005&seed={seed}");
        let r = run(&scenario(&q));
        let queue = r.queue.as_ref().unwrap();
        assert!(queue.connections_lost > 0, "{q}");
        // Each drop requeues the window; only the payment whose ack was lost had been applied.
        assert_eq!(r.duplicates, queue.connections_lost, "{q}");
        assert!(queue.redelivered >= queue.connections_lost);
        assert_eq!(r.lost, 0);
    }
}

#[test]
fn a_node_restart_closes_every_connection_and_loses_no_confirmed_message() {
    for mode in [Mode::AtLeastOnce, Mode::IdempotentConsumer, Mode::Outbox] {
        let s = scenario("broker=rabbitmq&messages=3000&broker-crash=0.002&failover-ms=50")
            .with_mode(mode);
        let r = run(&s);
        assert!(r.cost.broker_crashes > 0);
        assert_eq!(r.lost + r.in_flight, 0, "{mode:?}: {}", replay(&s));
        let q = r.queue.as_ref().unwrap();
        assert!(q.connections_lost >= r.cost.broker_crashes);
        if mode.dedups() {
            assert_eq!(r.duplicates, 0, "{mode:?}");
        }
        assert_conserved(&r);
    }
}

#[test]
fn the_idempotent_consumer_keeps_its_promise_under_every_rabbitmq_fault() {
    let q = "broker=rabbitmq&mode=idempotent-consumer&messages=3000&crash-before-process=0.003&crash-after-process=0.003&ack-loss=0.003&publish-ack-loss=0.05&duplicate=0.02&broker-crash=0.001&failover-ms=50";
    let r = run(&scenario(q));
    assert_eq!((r.duplicates, r.lost, r.in_flight), (0, 0, 0));
    assert!(r.guarantee.held);
    assert!(r.queue.unwrap().redelivered > 0);
}

#[test]
fn exactly_once_is_refused_with_the_reason_and_the_other_settings_kept() {
    let (s, errors) =
        Scenario::from_query("broker=rabbitmq&mode=exactly-once&publish-loss=0.1", &[]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].key, "mode");
    assert!(
        errors[0]
            .message
            .contains("no transaction that spans the queue and your database"),
        "{}",
        errors[0]
    );
    assert!(errors[0].message.contains("idempotent-consumer or outbox"));
    assert_eq!((s.mode, s.publish_loss), (Mode::AtLeastOnce, 0.1));
    // The same in the other order, and from JSON.
    let (_, errors) = Scenario::from_query("mode=exactly-once&broker=rabbitmq", &[]);
    assert_eq!(errors.len(), 1);
    let e = Scenario::from_json(r#"{"broker": "rabbitmq", "mode": "exactly-once"}"#).unwrap_err();
    assert_eq!(e.key, "mode");
}

#[test]
fn a_setting_the_broker_lacks_is_refused_naming_it_and_the_broker() {
    let (s, errors) = Scenario::from_query("prefetch=5&publish-loss=0.1", &[]);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .to_string()
            .starts_with("prefetch: does not apply to broker kafka (Kafka has no prefetch"),
        "{}",
        errors[0]
    );
    assert_eq!(s.publish_loss, 0.1);
    let (s, errors) =
        Scenario::from_query("broker=rabbitmq&commit-interval-ms=100&prefetch=3", &[]);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].to_string().starts_with(
            "commit-interval-ms: does not apply to broker rabbitmq (RabbitMQ has no offsets"
        ),
        "{}",
        errors[0]
    );
    assert_eq!(s.prefetch, 3);
}

#[test]
fn a_quorum_queue_dead_letters_a_message_returned_more_often_than_its_delivery_limit() {
    // Two crashes before processing, each closing the channel on a window of five: the
    // second returns three of the first window's messages for the second time.
    let q = "&queue-type=quorum&prefetch=5&processing-ms=50&messages=30\
             &script=100ms:crash-consumer-0-before;300ms:crash-consumer-0-before";
    let expect = [(0, 0, 10), (1, 3, 7), (2, 0, 10)];
    for (limit, dead, redelivered) in expect {
        let s = backlog(&format!("{q}&delivery-limit={limit}"));
        let r = run(&s);
        assert_eq!(r.dead_lettered, dead, "limit {limit}: {}", replay(&s));
        assert_eq!(
            r.queue.as_ref().unwrap().redelivered,
            redelivered,
            "limit {limit}"
        );
        assert_eq!(r.unique_processed + dead, 30);
        // Dead-lettered is reported, never silent: at-least-once's promise shows it broken.
        assert_eq!(r.guarantee.held, dead == 0);
        assert_eq!(r.lost_silently, 0);
    }
}

#[test]
fn delivery_limit_needs_a_quorum_queue() {
    let (s, errors) = Scenario::from_query("broker=rabbitmq&delivery-limit=3&prefetch=4", &[]);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .to_string()
            .starts_with("delivery-limit: needs queue-type=quorum"),
        "{}",
        errors[0]
    );
    assert_eq!((s.delivery_limit, s.prefetch), (0, 4));
    let (s, errors) =
        Scenario::from_query("broker=rabbitmq&queue-type=quorum&delivery-limit=3", &[]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(s.delivery_limit, 3);
}

#[test]
fn a_consumer_receives_its_deliveries_in_the_order_the_broker_pushed_them() {
    // One AMQP connection keeps order: jitter delays a delivery but never lets a later one
    // overtake it (crates/dsim-validate found the model taking a window out of order, which
    // RabbitMQ never does).
    for seed in 1..6 {
        let s = backlog(&format!(
            "&prefetch=10&jitter-ms=0.5&seed={seed}&script=100ms:crash-consumer-0-after"
        ));
        let all: Vec<u32> = (0..60).collect();
        let mut sim = Simulation::with_traces(&s, &all);
        sim.run_to_end();
        let (mut pushed, mut received) = (Vec::new(), Vec::new());
        for msg in 0..60 {
            for e in sim.trace_of(msg).unwrap_or(&[]) {
                match e.kind {
                    TraceKind::Delivered | TraceKind::Replayed => {
                        pushed.push((e.at_us, msg, e.attempt))
                    }
                    TraceKind::Received => received.push((e.at_us, msg, e.attempt)),
                    _ => {}
                }
            }
        }
        pushed.sort_unstable();
        received.sort_unstable();
        let order = |v: &[(u64, u32, u32)]| v.iter().map(|p| (p.1, p.2)).collect::<Vec<_>>();
        assert_eq!(order(&received), order(&pushed), "{}", replay(&s));
    }
}
