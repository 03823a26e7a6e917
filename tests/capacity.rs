//! `capacity_per_s`: the most messages per second the consumers could sustain, measured from
//! their busy time. Checked against independent formulas where the scenario makes it exact,
//! against exactly-once's transaction cost, and against what a saturated run really sustains.

use dsim_core::{Mode, Report};

use crate::support::{replay, run, scenario};

fn capacity(r: &Report) -> f64 {
    r.capacity_per_s
        .unwrap_or_else(|| panic!("no capacity measured; {}", replay(&r.scenario)))
}

/// Without faults each record costs exactly `processing-ms`, so each consumer that owns
/// partitions handles 1000 / processing-ms records per second of work.
#[test]
fn capacity_is_the_consumers_times_one_second_over_the_processing_time() {
    for (query, owners) in [
        ("processing-ms=2&consumers=4&partitions=4", 4.0),
        ("processing-ms=2&consumers=4&partitions=8", 4.0),
        // Only as many consumers as partitions can work at once.
        ("processing-ms=2&consumers=6&partitions=3", 3.0),
        ("processing-ms=0.5&consumers=1&partitions=1", 1.0),
    ] {
        let s = scenario(query);
        let r = run(&s);
        let expected = owners * 1000.0 / s.processing_ms;
        assert_eq!(capacity(&r), expected, "{}", replay(&s));
        // Below capacity the throughput is the offered load.
        if expected > s.publish_rate * 1.2 {
            assert!(
                r.throughput_per_s <= s.publish_rate * 1.01,
                "{}",
                replay(&s)
            );
        }
    }
    // Nothing handled, or handling that takes no time: nothing measured.
    assert_eq!(
        run(&scenario("consumers=0&horizon-ms=1000")).capacity_per_s,
        None
    );
    assert_eq!(run(&scenario("processing-ms=0")).capacity_per_s, None);
}

/// The idempotent consumer pays a dedup look-up per record, the external call its round trip:
/// both are part of the time a record takes.
#[test]
fn the_dedup_look_up_and_the_external_call_are_part_of_a_records_cost() {
    let s = scenario("mode=idempotent-consumer&processing-ms=1&dedup-lookup-ms=0.25");
    assert_eq!(capacity(&run(&s)), 4.0 * 1000.0 / 1.25, "{}", replay(&s));
    let s = scenario("external-effect=on&external-latency-ms=4&processing-ms=1&messages=2000");
    assert_eq!(capacity(&run(&s)), 4.0 * 1000.0 / 5.0, "{}", replay(&s));
}

/// At the default settings every mode's throughput is the offered 2,000 msg/s; capacity shows
/// what exactly-once costs. Each transaction blocks its consumer for the commit's round trip:
/// one-way latency to the coordinator, the transaction log write, its replication, the
/// commit's ack and the way back, each leg within `jitter-ms` of `latency-ms`. A saturated
/// consumer commits every `max-poll` records, so exactly-once's capacity lies between
/// owners x 1 s / (processing + commit / max-poll) for the slowest and fastest commit.
#[test]
fn exactly_once_capacity_is_lower_by_the_transactions_commit_time() {
    let base = scenario("");
    let alo = run(&base);
    let eos = run(&base.with_mode(Mode::ExactlyOnce));
    for r in [&alo, &eos] {
        assert!(
            (r.throughput_per_s - base.publish_rate).abs() < base.publish_rate * 0.01,
            "the default load is below capacity in every mode"
        );
    }
    let owners = base.consumers.min(base.partitions) as f64;
    assert_eq!(capacity(&alo), owners * 1000.0 / base.processing_ms);
    let commit_ms =
        |leg: f64| 2.0 * leg + base.txn_write_ms + base.replication_ms + base.txn_ack_ms;
    let at_commit = |ms: f64| owners * 1000.0 / (base.processing_ms + ms / base.max_poll as f64);
    let fastest = at_commit(commit_ms(base.latency_ms - base.jitter_ms));
    let slowest = at_commit(commit_ms(base.latency_ms + base.jitter_ms));
    let c = capacity(&eos);
    assert!(
        (slowest..=fastest).contains(&c),
        "exactly-once capacity {c} outside [{slowest}, {fastest}]"
    );
    // The seeds' "exactly-once costs 10-20 % throughput".
    let cost = 1.0 - c / capacity(&alo);
    assert!((0.10..=0.20).contains(&cost), "exactly-once costs {cost}");
}

/// Capacity means what it says: a run offered far more than it can take sustains it, short
/// only of the time its consumers wait for fetches, which is not busy time. With one consumer,
/// one partition and no jitter that wait is exactly a round trip (2 x latency) per poll of
/// `max-poll` records, so throughput = capacity x busy / (busy + round trip) per poll, where a
/// poll keeps the consumer busy for max-poll x 1 s / capacity. What is left is the run's edges:
/// the first record's way in (publish, replication, fetch: 9 ms here) and the last, partial
/// poll (at most a fetch and a commit: 11 ms), so the tolerance is 30 ms over the run's length.
#[test]
fn a_saturated_run_sustains_its_capacity_less_the_fetch_round_trips() {
    let base = scenario("consumers=1&partitions=1&jitter-ms=0&publish-rate=100000&messages=20000");
    for mode in Mode::ALL {
        let s = base.with_mode(mode);
        let r = run(&s);
        let c = capacity(&r);
        let busy_ms = s.max_poll as f64 * 1000.0 / c;
        let expected = c * busy_ms / (busy_ms + 2.0 * s.latency_ms);
        let tolerance = c * 30.0 / r.duration_ms;
        assert!(
            (r.throughput_per_s - expected).abs() <= tolerance,
            "{}: throughput {} against {expected} ± {tolerance} (capacity {c}); {}",
            mode.key(),
            r.throughput_per_s,
            replay(&s)
        );
    }
    // With the default group (4 consumers, 8 partitions) and jitter, no mode runs faster than
    // its capacity: the owners' busy time fits in the run, and a transaction holds at most
    // max-poll records, so records x (record time + commit time / max-poll) <= owners x span.
    let base = scenario("publish-rate=100000&messages=40000");
    for mode in Mode::ALL {
        let s = base.with_mode(mode);
        let r = run(&s);
        let c = capacity(&r);
        assert!(
            r.throughput_per_s <= c,
            "{}: {} > {c}",
            mode.key(),
            r.throughput_per_s
        );
    }
}
