//! Kafka's consumer offsets, as stories with exact counts. A consumer's progress is one
//! offset per partition, committed cumulatively; whoever reads a partition after a crash
//! starts from the committed offset, so every record after it is read again (`replayed`),
//! and every one of those that had been applied is applied again (`duplicates`).
//!
//! The expected counts are rebuilt from the run's event history (every message traced), not
//! from the report: a record is safe once an offset commit covering it was accepted
//! (`Ack` rows) before the crash.

use dsim_core::export::{HistoryEvent, run_history};
use dsim_core::{Mode, TraceKind};

use crate::support::{replay, run, scenario};

/// Counts, from the history, the records a crash of `consumer` at `crash_us` leaves behind
/// the committed offset: those fetched for it before it (`Delivered`, arrived or still on the
/// wire) and those it applied before it (`Processed`), with no accepted commit covering them
/// before it.
fn uncommitted_at(history: &[HistoryEvent], crash_us: u64, consumer: u32) -> (usize, usize) {
    let at = |m: u32, kind: TraceKind, by: Option<u32>| {
        history.iter().any(|e| {
            e.message == m
                && e.kind == kind
                && e.at_us <= crash_us
                && by.is_none_or(|c| e.node == Some(c))
        })
    };
    let messages: std::collections::BTreeSet<u32> = history.iter().map(|e| e.message).collect();
    let mut read = 0;
    let mut applied = 0;
    for &m in &messages {
        if at(m, TraceKind::Ack, None) {
            continue;
        }
        read += usize::from(at(m, TraceKind::Delivered, Some(consumer)));
        applied += usize::from(at(m, TraceKind::Processed, Some(consumer)));
    }
    (read, applied)
}

fn crash_time(history: &[HistoryEvent]) -> u64 {
    history
        .iter()
        .find(|e| e.kind == TraceKind::Crash)
        .expect("the scripted crash struck")
        .at_us
}

/// One consumer, one partition, a scripted crash after processing at 1.5 s, commits every
/// second: the crash replays exactly what was read since the commit at 1 s, and applies
/// again exactly what had been applied since then.
#[test]
fn a_crash_after_processing_replays_exactly_what_was_processed_since_the_last_commit() {
    for interval in [1000, 0] {
        let s = scenario(&format!(
            "mode=at-least-once&messages=4000&consumers=1&partitions=1\
             &commit-interval-ms={interval}&script=1.5s:crash-consumer-0-after"
        ));
        let r = run(&s);
        let history = run_history(&s).unwrap();
        let (read, applied) = uncommitted_at(&history, crash_time(&history), 0);
        assert!(applied > 0, "{}", replay(&s));
        assert_eq!(r.duplicates as usize, applied, "{}", replay(&s));
        assert_eq!(r.replayed as usize, read, "{}", replay(&s));
        assert_eq!(r.lost, 0);
        if interval == 1000 {
            // Half a second of work by a consumer that applies about 1,000 records a second
            // (1 ms each, below the 2,000 offered): the commit at about 1 s to the crash.
            assert!((400..600).contains(&applied), "{applied}");
        } else {
            // Committing after each poll leaves only the crashing poll behind.
            assert!(applied <= s.max_poll as usize, "{applied}");
        }
    }
}

/// The same crash in at-most-once: it committed its poll before processing, so what the
/// crash leaves in its hands is gone, and nothing comes back twice.
#[test]
fn at_most_once_commits_before_processing_so_a_crash_loses_the_rest_of_its_poll() {
    let s = scenario(
        "mode=at-most-once&messages=4000&consumers=1&partitions=1&processing-ms=0.4\
         &publish-rate=20000&script=0.1s:crash-consumer-0-after",
    );
    let r = run(&s);
    let history = run_history(&s).unwrap();
    let crash = crash_time(&history);
    // Lost: received and covered by a commit before the crash, never applied.
    let lost = (0..s.messages)
        .filter(|&m| {
            let at = |kind: TraceKind| {
                history
                    .iter()
                    .any(|e| e.message == m && e.kind == kind && e.at_us <= crash)
            };
            at(TraceKind::AckedBeforeProcessing) && !at(TraceKind::Processed)
        })
        .count();
    assert!(lost > 0, "{}", replay(&s));
    assert_eq!(r.lost as usize, lost, "{}", replay(&s));
    assert_eq!(r.duplicates, 0);
}

/// Lost commits alone cost nothing: the next commit carries a later offset.
#[test]
fn lost_offset_commits_are_covered_by_the_next_commit() {
    let r = run(&scenario("mode=at-least-once&ack-loss=0.5&messages=3000"));
    assert_eq!((r.duplicates, r.lost, r.replayed), (0, 0, 0));
    assert!(r.commit_retries > 0 && r.offset_commits > 0);
    // Only the commits were retried: no publish ack was lost.
    assert_eq!(r.retries, 0);
}

/// At-most-once's producer sends once with acks=0 and never resends, whatever happens to the
/// consumer's commits: their resends are commit retries, counted apart from the producer's.
#[test]
fn at_most_once_never_resends_a_publish_even_when_its_commits_are_retried() {
    let r = run(&scenario(
        "mode=at-most-once&ack-loss=0.5&publish-ack-loss=0.5&messages=3000",
    ));
    assert_eq!(r.retries, 0);
    assert!(r.commit_retries > 0);
}

/// A rebalance moves partitions between live consumers too: the one giving a partition up
/// commits what it processed first (Kafka's commit before rejoining), so its new owner applies
/// nothing twice. Here consumer 0 crashes and stays down past its session timeout, the group
/// hands all six partitions out again over consumers 1 and 2, and exactly the crashed
/// consumer's uncommitted payments are applied twice. (The others' buffered, unprocessed
/// records of the partitions they give up are fetched again by the new owners: replayed, but
/// never applied twice.)
#[test]
fn a_rebalance_commits_before_handing_partitions_over() {
    let s = scenario(
        "mode=at-least-once&messages=3000&consumers=3&partitions=6&restart-ms=400000\
         &session-timeout-ms=100&script=0.5s:crash-consumer-0-after",
    );
    let r = run(&s);
    let history = run_history(&s).unwrap();
    let (read, applied) = uncommitted_at(&history, crash_time(&history), 0);
    assert!(applied > 0);
    assert_eq!(r.duplicates as usize, applied, "{}", replay(&s));
    assert!(r.replayed as usize >= read, "{}", replay(&s));
    assert_eq!((r.lost, r.status), (0, dsim_core::Status::Drained));
}

/// Exactly-once: the crash aborts the open transaction, and the records are applied once,
/// when the retried transaction commits. A read-uncommitted reader of its output would have
/// applied the aborted ones too.
#[test]
fn an_aborted_transaction_is_skipped_by_a_read_committed_reader() {
    let q = "mode=exactly-once&messages=3000&consumers=1&partitions=1\
             &script=0.8s:crash-consumer-0-after";
    let committed = run(&scenario(q));
    assert_eq!((committed.duplicates, committed.lost), (0, 0));
    let dirty = run(&scenario(&format!("{q}&isolation=read-uncommitted")));
    assert!(dirty.duplicates > 0);
    assert_eq!(dirty.mode, Mode::ExactlyOnce);
    // The one crash aborted one transaction, whatever the reader.
    assert_eq!(committed.cost.aborted_transactions, 1);
    assert_eq!(dirty.cost.aborted_transactions, 1);
    // Each duplicate is an output record of the aborted transaction, applied before the
    // abort and again when the retried one committed: exactly the records the read-committed
    // reader skipped; the read-uncommitted one skipped none.
    assert_eq!(dirty.duplicates, committed.aborted_skipped);
    assert_eq!(dirty.aborted_skipped, 0);
}

/// A consumer that dies while its commit's answer is on the way (the coordinator's answer
/// takes a second here) aborts nothing: the coordinator had committed the transaction, so the
/// payment and its offset stand, and nothing is read again.
#[test]
fn a_crash_after_the_coordinator_committed_aborts_nothing() {
    let s = scenario(
        "mode=exactly-once&messages=10&consumers=1&partitions=1&txn-ack-ms=1000\
         &script=0.5s:crash-consumer-0",
    );
    let r = run(&s);
    assert_eq!((r.duplicates, r.lost, r.replayed), (0, 0, 0));
    assert_eq!((r.cost.transactions, r.cost.aborted_transactions), (2, 0));
    let trace = dsim_core::trace_message(&s, 0);
    let crash = trace
        .iter()
        .find(|e| e.kind == TraceKind::DroppedByCrash)
        .expect("the crash reaches message 0's transaction");
    assert!(
        crash.note.contains("the coordinator had committed it"),
        "{}",
        crash.note
    );
}

/// A consumer that dies while the coordinator writes its commit (a second here) leaves the
/// outcome to the coordinator, and the counts follow what it decides: the commit completes
/// (nobody took the partition), is fenced (another member took it), or is overtaken by the
/// restarted instance's commit of the records it read again (aborted).
#[test]
fn a_crash_during_the_commits_write_leaves_its_outcome_to_the_coordinator() {
    let q = "mode=exactly-once&messages=10&partitions=1&txn-write-ms=1000\
             &script=0.5s:crash-consumer-0";
    for (extra, want) in [
        ("consumers=1&restart-ms=3000", (2, 0, 0)),
        (
            "consumers=2&session-timeout-ms=100&restart-ms=3000",
            (1, 1, 1),
        ),
        ("consumers=1&restart-ms=100", (1, 1, 0)),
    ] {
        let r = run(&scenario(&format!("{q}&{extra}")));
        let c = &r.cost;
        assert_eq!(
            (c.transactions, c.aborted_transactions, c.fenced_commits),
            want,
            "{extra}: (committed, aborted, fenced)"
        );
        assert_eq!((r.duplicates, r.lost), (0, 0), "{extra}");
    }
}

#[test]
fn a_partition_waiting_for_its_holder_moves_on_when_the_holder_crashes() {
    // Found by the zombie property test: a woken zombie rejoins and the group gives it the
    // only partition, which it waits for until the busy holder lets go at its next poll.
    // The holder crashes instead. Its partition must go to the new owner at once (a dead
    // process holds nothing), or the owner, parked in a long poll, waits for ever.
    let s = scenario(
        "mode=idempotent-consumer&seed=969617&publish-loss=0.24422911907335612\
         &publish-ack-loss=0.11334329729842625&max-retries=40&replication-factor=2\
         &crash-before-process=0.003386747413841608&crash-after-process=0.008293259117881377\
         &ack-loss=0.26585307123617297&max-poll=7&delivery-loss=0.039131415048087086\
         &duplicate=0.013202823710571788&delay=0.023502443197169542&messages=139\
         &publish-rate=18054.34385629176&producers=1&consumers=2&partitions=1\
         &external-effect=on&idempotency-key=on&consumer-stall=0.009424793775646059\
         &stall-ms=1833.117555372425&external-latency-ms=0.5&replica-lag-ms=1&max-in-flight=2\
         &producer-restart=0.008115975708386727",
    );
    let r = run(&s);
    assert_eq!(r.status, dsim_core::Status::Drained, "{}", replay(&s));
    assert_eq!(
        (r.lost, r.in_flight, r.duplicates),
        (0, 0, 0),
        "{}",
        replay(&s)
    );
    let z = r.zombies.as_ref().expect("a stall");
    assert_eq!(z.expelled, 1);
    assert!(r.cost.consumer_crashes > 0);
}
