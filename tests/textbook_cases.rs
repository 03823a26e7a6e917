//! The failure cases the textbooks teach, one test each, named after the case. Each checks
//! every mode's outcome (duplicates, losses, the checker's verdict) and snapshots the trace
//! of the message that shows the failure, so a change in behaviour is a readable diff.

use dsim_core::{Mode, presets::preset, trace_message};

use crate::support::{CLEAN, Expect, Outcome, assert_snapshot, check, run, scenario, trace_text};

const DUPLICATES: Expect = Expect {
    duplicates: Outcome::Some,
    lost: Outcome::None,
    guarantee_held: true,
};
const LOSSES_ALLOWED: Expect = Expect {
    duplicates: Outcome::None,
    lost: Outcome::Some,
    guarantee_held: true,
};
const LOSSES_BREAK_IT: Expect = Expect {
    duplicates: Outcome::None,
    lost: Outcome::Some,
    guarantee_held: false,
};
const DUPLICATES_BREAK_IT: Expect = Expect {
    duplicates: Outcome::Some,
    lost: Outcome::None,
    guarantee_held: false,
};

fn preset_query(key: &str) -> &'static str {
    preset(key)
        .unwrap_or_else(|| panic!("no preset {key}"))
        .query
}

/// Snapshots the trace of a mode's counterexample, which must exist.
fn snapshot_counterexample(name: &str, query: &str, mode: Mode, problem: &str) {
    let r = run(&scenario(query).with_mode(mode));
    let ce = r
        .guarantee
        .counterexample
        .unwrap_or_else(|| panic!("{name}: no counterexample"));
    assert_eq!(ce.problem, problem);
    let text = format!("{}\n\n{}", ce.explanation, trace_text(&ce.trace));
    assert_snapshot(name, &text);
}

#[test]
fn consumer_crashes_after_processing() {
    let q = preset_query("consumer-crash-after-processing");
    check(q, Mode::AtMostOnce, LOSSES_ALLOWED);
    let alo = check(q, Mode::AtLeastOnce, DUPLICATES);
    check(q, Mode::IdempotentConsumer, CLEAN);
    check(q, Mode::ExactlyOnce, CLEAN);
    check(q, Mode::Outbox, CLEAN);
    // The duplicate is a real double charge in the ledger.
    assert!(alo.ledger.overcharged_cents > 0 && alo.ledger.accounts_double_charged > 0);
    // At-least-once keeps its promise, so there is no counterexample; trace the first
    // duplicate through the message a crash-after-processing hits instead.
    let s = scenario(q).with_mode(Mode::AtLeastOnce);
    let duplicated = (0..s.messages)
        .find(|&m| {
            let t = trace_message(&s, m);
            t.iter()
                .filter(|e| e.kind == dsim_core::TraceKind::Processed)
                .count()
                > 1
                && t.iter().any(|e| e.kind == dsim_core::TraceKind::Crash)
        })
        .expect("some message is applied twice after a crash");
    assert_snapshot(
        "consumer_crashes_after_processing",
        &trace_text(&trace_message(&s, duplicated)),
    );
}

#[test]
fn message_acknowledged_before_processing() {
    let q = preset_query("ack-before-processing");
    let amo = check(q, Mode::AtMostOnce, LOSSES_ALLOWED);
    assert!(
        amo.ledger.missing_cents > 0,
        "the lost payments are missing from the ledger"
    );
    // At-least-once loses nothing, but a crash before processing still replays the records
    // of its poll that it had applied and not yet committed: duplicates, on Kafka.
    check(q, Mode::AtLeastOnce, DUPLICATES);
    check(q, Mode::IdempotentConsumer, CLEAN);
    check(q, Mode::ExactlyOnce, CLEAN);
    // Mirror image: the mode that promises no loss but acks before processing breaks it, so
    // the checker must name one message and explain it.
    let s = scenario(q).with_mode(Mode::AtMostOnce);
    let lost = (0..s.messages)
        .find(|&m| {
            trace_message(&s, m)
                .iter()
                .any(|e| e.kind == dsim_core::TraceKind::AckedBeforeProcessing)
                && trace_message(&s, m)
                    .iter()
                    .any(|e| e.kind == dsim_core::TraceKind::DroppedByCrash)
        })
        .expect("a message acked before processing is dropped by a crash");
    let trace = trace_message(&s, lost);
    assert!(
        !trace
            .iter()
            .any(|e| e.kind == dsim_core::TraceKind::Processed),
        "it was never applied"
    );
    assert_snapshot(
        "message_acknowledged_before_processing",
        &trace_text(&trace),
    );
}

#[test]
fn network_failure_during_commit() {
    let q = preset_query("network-failure-during-commit");
    let alo = check(q, Mode::AtLeastOnce, DUPLICATES);
    check(q, Mode::IdempotentConsumer, CLEAN);
    let eos = check(q, Mode::ExactlyOnce, CLEAN);
    check(q, Mode::Outbox, CLEAN);
    // Exactly-once pays with commit retries instead of duplicates.
    assert!(eos.commit_retries > 0, "lost commits are retried");
    // The same crashes with every commit getting through replay less: a lost commit widens
    // what a crash replays, because the committed offset stays further behind.
    let delivered = run(&scenario(&format!("{q}&ack-loss=0")).with_mode(Mode::AtLeastOnce));
    assert!(
        alo.replayed > delivered.replayed && alo.duplicates > delivered.duplicates,
        "replayed {} vs {}, duplicates {} vs {}",
        alo.replayed,
        delivered.replayed,
        alo.duplicates,
        delivered.duplicates
    );
    // And without the crashes, lost commits alone duplicate nothing: the next commit covers
    // a lost one (Kafka's offsets are cumulative).
    let alone = check("ack-loss=0.5", Mode::AtLeastOnce, CLEAN);
    assert_eq!(alone.replayed, 0);
}

/// The same case where the commit's outcome stays unknown for long: the transaction log is
/// slow (300 ms a commit), half the commit requests are lost, and fencing is off. A consumer
/// that gave up on a commit after its retries and read the records again would apply them a
/// second time when the first commit landed after all. It keeps retrying the same commit
/// instead, and the coordinator, which decides, answers it; nothing is aborted, nothing doubled.
#[test]
fn network_failure_during_commit_never_makes_exactly_once_abandon_a_commit_that_may_land() {
    let q = "messages=10000&ack-loss=0.5&processing-ms=500&consumers=16&partitions=16\
             &txn-write-ms=300&fencing=off";
    let eos = check(q, Mode::ExactlyOnce, CLEAN);
    assert!(eos.commit_retries > 0, "lost commits are retried");
    assert_eq!(eos.cost.aborted_transactions, 0, "no commit is given up");
}

/// A commit round trip longer than the ack timeout times every retry: the coordinator's
/// answer always comes after the consumer's next try. The retries must not end in an abort
/// (then the records are read and committed again, and again, until the horizon), but in
/// the commit, answered once it is written.
#[test]
fn exactly_once_commits_when_the_commit_round_trip_outlasts_the_ack_timeout() {
    let q = "messages=300&latency-ms=20&jitter-ms=0&ack-timeout-ms=5&max-retries=0\
             &txn-write-ms=10";
    let eos = check(q, Mode::ExactlyOnce, CLEAN);
    assert!(
        eos.commit_retries > 0,
        "every commit timed out at least once"
    );
    assert_eq!(eos.cost.aborted_transactions, 0);
}

#[test]
fn double_charge_in_payments() {
    let q = preset_query("double-charge");
    let alo = check(q, Mode::AtLeastOnce, DUPLICATES);
    assert!(alo.ledger.actual_cents > alo.ledger.expected_cents);
    assert_eq!(
        alo.ledger.actual_cents - alo.ledger.expected_cents,
        alo.ledger.overcharged_cents
    );
    for mode in [Mode::IdempotentConsumer, Mode::ExactlyOnce, Mode::Outbox] {
        let r = check(q, mode, CLEAN);
        assert_eq!(
            r.ledger.actual_cents, r.ledger.expected_cents,
            "{mode:?} charges exactly what was meant"
        );
    }
    // The idempotent-consumer mode's counterexample would be a duplicate; there is none, but
    // the same scenario in a mode that promises no duplicates and lacks dedup must show one.
    snapshot_counterexample(
        "double_charge_without_dedup",
        &format!("{q}&dedup-window-ms=0"),
        Mode::IdempotentConsumer,
        "duplicate",
    );
}

#[test]
fn lossy_metrics_pipeline_is_fine_with_at_most_once() {
    let q = preset_query("lossy-metrics");
    let amo = check(q, Mode::AtMostOnce, LOSSES_ALLOWED);
    let alo = check(q, Mode::AtLeastOnce, CLEAN);
    // At-most-once sends each publish once and nothing else can lose it (a lost fetch is
    // fetched again), so each of the n messages is lost independently with the preset's
    // publish-loss p: a binomial, mean n p and standard deviation sqrt(n p (1 - p)).
    // At-least-once retried the same losses instead, at a price in messages.
    let (n, p) = (amo.produced as f64, amo.scenario.publish_loss);
    let sigma = (n * p * (1.0 - p)).sqrt();
    assert!(
        (amo.lost as f64 - n * p).abs() <= 5.0 * sigma,
        "lost {} of {n}, theory {} ± {}",
        amo.lost,
        n * p,
        5.0 * sigma
    );
    assert!(alo.retries > 0);
}

#[test]
fn dedup_window_too_short() {
    let q = preset_query("dedup-window-too-short");
    check(q, Mode::IdempotentConsumer, DUPLICATES_BREAK_IT);
    snapshot_counterexample(
        "dedup_window_too_short",
        q,
        Mode::IdempotentConsumer,
        "duplicate",
    );
    // A window longer than the longest retry keeps every ID long enough.
    check(
        &format!("{q}&dedup-window-ms=60000"),
        Mode::IdempotentConsumer,
        CLEAN,
    );
}

#[test]
fn broker_crash_with_acks_leader_loses_acked_messages() {
    let q = preset_query("broker-crash-acks-leader");
    let r = check(q, Mode::AtLeastOnce, LOSSES_BREAK_IT);
    assert!(
        r.lost_silently > 0,
        "the loss is silent: the producer had its ack"
    );
    snapshot_counterexample(
        "broker_crash_with_acks_leader",
        q,
        Mode::AtLeastOnce,
        "loss",
    );
}

#[test]
fn broker_crash_with_acks_all_loses_nothing() {
    let q = preset_query("broker-crash-acks-all");
    check(q, Mode::AtLeastOnce, CLEAN);
    check(q, Mode::IdempotentConsumer, CLEAN);
    check(q, Mode::ExactlyOnce, CLEAN);
    check(q, Mode::Outbox, CLEAN);
    // Add lost publish acks and the idempotent producer's retries of stored records show up
    // as duplicates the broker drops by sequence number.
    let eos = check(
        &format!("{q}&publish-ack-loss=0.05"),
        Mode::ExactlyOnce,
        CLEAN,
    );
    assert!(eos.cost.duplicates_dropped_by_broker > 0);
}

#[test]
fn dual_write_loses_without_an_outbox() {
    let q = preset_query("dual-write");
    check(q, Mode::AtLeastOnce, LOSSES_BREAK_IT);
    check(q, Mode::ExactlyOnce, LOSSES_BREAK_IT);
    check(q, Mode::Outbox, CLEAN);
    snapshot_counterexample("dual_write", q, Mode::ExactlyOnce, "loss");
}

#[test]
fn kafka_auto_commit_replays_what_a_crash_left_uncommitted() {
    let q = preset_query("kafka-auto-commit-replay");
    let slow = check(q, Mode::AtLeastOnce, DUPLICATES);
    check(q, Mode::IdempotentConsumer, CLEAN);
    check(q, Mode::ExactlyOnce, CLEAN);
    // Committing after every poll instead of every second: the same crashes replay less.
    let every_poll =
        run(&scenario(&format!("{q}&commit-interval-ms=0")).with_mode(Mode::AtLeastOnce));
    assert!(
        slow.replayed > 2 * every_poll.replayed && slow.duplicates > every_poll.duplicates,
        "replayed {} vs {}, duplicates {} vs {}",
        slow.replayed,
        every_poll.replayed,
        slow.duplicates,
        every_poll.duplicates
    );
    assert!(slow.offset_commits < every_poll.offset_commits);
}

#[test]
fn a_read_uncommitted_reader_applies_aborted_transactions() {
    let q = preset_query("read-uncommitted-sees-aborted");
    let dirty = check(q, Mode::ExactlyOnce, DUPLICATES_BREAK_IT);
    // The crashes abort transactions, whose output the read-uncommitted reader had applied:
    // nothing was skipped.
    assert!(dirty.cost.aborted_transactions > 0);
    assert_eq!(dirty.aborted_skipped, 0);
    // Read-committed: the same aborted transactions, their records skipped.
    let clean = check(
        &format!("{q}&isolation=read-committed"),
        Mode::ExactlyOnce,
        CLEAN,
    );
    assert!(clean.aborted_skipped > 0);
    assert_eq!(
        clean.cost.aborted_transactions,
        dirty.cost.aborted_transactions
    );
}

#[test]
fn exactly_once_costs_latency_and_throughput_without_faults() {
    // At the default load every mode keeps up, and the transaction's commit (log write,
    // replication, ack) shows in latency.
    let alo = check("", Mode::AtLeastOnce, CLEAN);
    let eos = check("", Mode::ExactlyOnce, CLEAN);
    assert!(
        eos.latency_ms.p50 > alo.latency_ms.p50,
        "p50 {} vs {}",
        eos.latency_ms.p50,
        alo.latency_ms.p50
    );
    assert!(eos.latency_ms.p99 > alo.latency_ms.p99);
    assert!(eos.throughput_per_s < alo.throughput_per_s);
    assert!(eos.cost.transactions > 0);
    // Under a load beyond what consumers can apply, throughput is capacity, and the commits
    // cost exactly-once the 10-20 % the textbooks quote.
    let burst = "publish-rate=50000&messages=20000";
    let alo = check(burst, Mode::AtLeastOnce, CLEAN);
    let eos = check(burst, Mode::ExactlyOnce, CLEAN);
    let ratio = eos.throughput_per_s / alo.throughput_per_s;
    let (expected, tolerance) = saturated_throughput_ratio(&scenario(burst));
    assert!(
        (ratio - expected).abs() <= tolerance,
        "exactly-once/at-least-once throughput {ratio}, theory {expected} ± {tolerance}"
    );
    // Dedup look-ups cost the idempotent consumer a little, too.
    let idem = check(burst, Mode::IdempotentConsumer, CLEAN);
    assert!(idem.throughput_per_s < alo.throughput_per_s);
    assert!(idem.cost.dedup_lookups >= idem.produced);
}

/// Exactly-once's throughput over at-least-once's when both are saturated (every poll full),
/// from the scenario's settings alone, and a tolerance of five standard deviations plus the
/// run's edges.
///
/// Each owner of partitions (owners = min(consumers, partitions)) loops over polls of
/// B = max-poll records: it waits for the fetch's round trip (two legs of latency L), applies
/// the records (p = processing-ms each), and in exactly-once also waits for its transaction's
/// commit: two legs, the transaction log's write, its replication and the commit's ack
/// (w + r + a). At-least-once's offset commit does not block the consumer. So a poll takes
///   T_alo = B p + 2L,    T_eos = B p + 2L + (2L + w + r + a),
/// every owner runs K = messages / (owners B) polls (the same partitions in both modes: the
/// payments, which choose them, depend on the seed alone), and the ratio of the throughputs is
/// the inverse ratio of the run lengths, K T_alo / K T_eos = T_alo / T_eos.
///
/// Noise: each leg is L plus a jitter drawn uniformly from [-j, j] (variance j²/3),
/// independently per leg, so K polls last K T with variance K 2j²/3 for at-least-once (two legs
/// a poll) and K 4j²/3 for exactly-once (four): relative standard deviations
/// j sqrt(2 / 3K) / T_alo and j sqrt(4 / 3K) / T_eos. For the ratio they add in quadrature
/// (a correlation between the two runs' draws, which share the seed, could only be positive and
/// narrow it). Edges, which do not grow with K: the first record's way in and the last, partial
/// poll (and exactly-once's last commit) add at most 30 ms to either run, as in
/// `capacity.rs`, moving the ratio by at most 30 ms over the shorter run, K T_alo.
fn saturated_throughput_ratio(s: &dsim_core::Scenario) -> (f64, f64) {
    const EDGES_MS: f64 = 30.0;
    let owners = s.consumers.min(s.partitions) as f64;
    let batch = s.max_poll as f64;
    let round_trip = 2.0 * s.latency_ms;
    // A single copy has nothing to replicate (the coordinator skips it).
    let replication = if s.replication_factor > 1 {
        s.replication_ms
    } else {
        0.0
    };
    let commit = round_trip + s.txn_write_ms + replication + s.txn_ack_ms;
    let poll_alo = batch * s.processing_ms + round_trip;
    let poll_eos = poll_alo + commit;
    let polls = s.messages as f64 / (owners * batch);
    let expected = poll_alo / poll_eos;
    let relative_sd = |legs: f64, poll: f64| s.jitter_ms * (legs / (3.0 * polls)).sqrt() / poll;
    let sigma = expected * relative_sd(2.0, poll_alo).hypot(relative_sd(4.0, poll_eos));
    let edges = expected * EDGES_MS / (polls * poll_alo);
    (expected, 5.0 * sigma + edges)
}

#[test]
fn every_preset_parses_and_runs() {
    for p in dsim_core::presets() {
        let s = p
            .scenario()
            .unwrap_or_else(|e| panic!("preset {}: {e}", p.key));
        let r = run(&s);
        assert!(r.produced > 0, "preset {}", p.key);
        crate::support::assert_conserved(&r);
    }
}
