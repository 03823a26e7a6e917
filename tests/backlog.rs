//! What waits in the broker over time (`SeriesReport::backlog`), as each system's operators
//! watch it: Kafka's consumer lag per partition (log end offset minus the group's committed
//! offset), RabbitMQ's messages ready and unacknowledged, SQS's messages visible and in flight.
//! Each number is sampled at a bucket's end, the state between the events around it.

use crate::support::{replay, run, scenario};

/// A topic nobody reads: nothing is ever committed, so each partition's lag is every record
/// appended to it, growing and never shrinking, and at the end the lags add up to every
/// payment produced (no fault, so no retry appends a second copy).
#[test]
fn a_topic_nobody_reads_lags_by_every_record_produced() {
    let s = scenario("consumers=0&messages=500");
    let r = run(&s);
    let b = &r.series.backlog;
    assert_eq!(r.series.backlog_lines.len(), 8, "{}", replay(&s));
    assert_eq!(r.series.backlog_lines[3], "partition 3");
    assert_eq!(b.len(), 8);
    for (p, lag) in b.iter().enumerate() {
        assert_eq!(lag.len(), r.series.t_ms.len(), "partition {p}");
        assert!(
            lag.windows(2).all(|w| w[0] <= w[1]),
            "partition {p}'s lag shrank: {lag:?}"
        );
    }
    let at_end: u64 = r.series.final_backlog().iter().sum();
    assert_eq!(at_end, 500, "{}", replay(&s));
    assert_eq!(r.produced, 500);
}

/// A run that drains ends with every offset committed: no lag left anywhere, after a peak
/// while the consumers were busy.
#[test]
fn a_drained_kafka_run_ends_with_no_lag() {
    let s = scenario("mode=at-least-once&messages=3000");
    let r = run(&s);
    assert_eq!(r.status, dsim_core::Status::Drained, "{}", replay(&s));
    assert!(
        r.series.final_backlog().iter().all(|&lag| lag == 0),
        "{:?}",
        r.series.final_backlog()
    );
    let (_, peak, _) = r.series.peak_backlog().expect("sampled");
    assert!(peak > 0, "{}", replay(&s));
}

/// Kafka's `auto.commit.interval.ms`: committing once a second instead of after every poll
/// leaves up to a second of processed records uncommitted, and the lag shows it.
#[test]
fn auto_commit_once_a_second_keeps_more_lag_than_a_commit_per_poll() {
    let per_poll = run(&scenario(
        "mode=at-least-once&messages=3000&commit-interval-ms=0",
    ));
    let auto = run(&scenario(
        "mode=at-least-once&messages=3000&commit-interval-ms=1000",
    ));
    let peak = |r: &dsim_core::Report| r.series.peak_backlog().expect("sampled").1;
    assert!(
        peak(&auto) > 2 * peak(&per_poll),
        "auto-commit's peak lag {} against {} committing per poll",
        peak(&auto),
        peak(&per_poll)
    );
}

/// RabbitMQ with nobody consuming: every confirmed message waits ready, none unacknowledged.
#[test]
fn a_rabbitmq_queue_nobody_consumes_holds_every_message_ready() {
    let s = scenario("broker=rabbitmq&consumers=0&messages=400");
    let r = run(&s);
    assert_eq!(r.series.backlog_lines, ["ready", "unacked"]);
    assert_eq!(r.series.final_backlog(), [400, 0], "{}", replay(&s));
}

/// `basic.qos`: a manual-ack consumer holds at most `prefetch` unacknowledged deliveries, so
/// the queue's unacked count never passes consumers × prefetch, and here, with processing far
/// slower than publishing, it reaches that bound while the rest waits ready.
#[test]
fn unacked_never_passes_consumers_times_prefetch() {
    for prefetch in [1u32, 4, 10] {
        let s = scenario(&format!(
            "broker=rabbitmq&mode=at-least-once&messages=600&consumers=3&prefetch={prefetch}&processing-ms=20"
        ));
        let r = run(&s);
        let unacked = &r.series.backlog[1];
        let bound = 3 * prefetch as u64;
        assert!(
            unacked.iter().all(|&u| u <= bound),
            "prefetch {prefetch}: {unacked:?}"
        );
        assert_eq!(unacked.iter().max().copied(), Some(bound), "{}", replay(&s));
        assert!(r.series.backlog[0].iter().any(|&ready| ready > 0));
        assert_eq!(r.series.final_backlog(), [0, 0], "{}", replay(&s));
    }
}

/// SQS with nobody receiving: every message stays visible, none in flight.
#[test]
fn an_sqs_queue_nobody_receives_from_keeps_every_message_visible() {
    let s = scenario("broker=sqs&consumers=0&messages=300");
    let r = run(&s);
    assert_eq!(r.series.backlog_lines, ["visible", "in flight"]);
    assert_eq!(r.series.final_backlog(), [300, 0], "{}", replay(&s));
}

/// The samples are the run's, not the stepping's: a run stepped a few events at a time has the
/// same backlog as one run at once.
#[test]
fn the_backlog_is_the_same_however_the_run_is_stepped() {
    let s =
        scenario("mode=exactly-once&messages=1500&crash-after-process=0.002&delivery-loss=0.05");
    let whole = run(&s).series;
    let mut sim = dsim_core::Simulation::new(&s);
    while !sim.is_finished() {
        sim.step(37);
    }
    let stepped = sim.report().series;
    assert_eq!(whole.backlog, stepped.backlog);
    assert_eq!(whole.t_ms, stepped.t_ms);
}

/// Past eight partitions the report keeps Kafka's lag as the sum and the largest partition's,
/// so that a report stays the same size however many partitions a topic has: here, with
/// nobody reading, the sum is every record produced and the largest is at least its share.
#[test]
fn past_eight_partitions_the_lag_is_their_sum_and_their_largest() {
    let s = scenario("consumers=0&messages=480&partitions=16");
    let r = run(&s);
    assert_eq!(
        r.series.backlog_lines,
        ["all partitions", "largest partition"]
    );
    let [sum, largest] = r.series.final_backlog()[..] else {
        panic!("two lines: {:?}", r.series.final_backlog());
    };
    assert_eq!(sum, 480, "{}", replay(&s));
    assert!((30..480).contains(&largest), "largest partition {largest}");
}
