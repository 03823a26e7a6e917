//! The checker's words: why a message was duplicated or lost, read off its trace.
//!
//! The checker itself is simple (a mode's promise against the counts, in `report`); what
//! needs care is the explanation, because that is what people learn from.

use crate::observe::trace::{TraceEvent, TraceKind};
use crate::scenario::Mode;

fn has(trace: &[TraceEvent], kind: TraceKind) -> bool {
    trace.iter().any(|e| e.kind == kind)
}

fn count(trace: &[TraceEvent], kind: TraceKind) -> usize {
    trace.iter().filter(|e| e.kind == kind).count()
}

/// A sentence on why `message` broke its promise, from the evidence in its trace, followed
/// by the scripted faults that struck it, if any did.
pub fn explain(message: u32, problem: &str, mode: Mode, trace: &[TraceEvent]) -> String {
    let mut scripted: Vec<&str> = Vec::new();
    for e in trace {
        if let Some(what) = e
            .note
            .strip_prefix("scripted: ")
            .and_then(|rest| rest.split(';').next())
            && !scripted.contains(&what)
        {
            scripted.push(what);
        }
    }
    let sentence = explain_evidence(message, problem, mode, trace);
    if scripted.is_empty() {
        sentence
    } else {
        format!("{sentence} Scripted: {}.", scripted.join("; "))
    }
}

fn explain_evidence(message: u32, problem: &str, mode: Mode, trace: &[TraceEvent]) -> String {
    let mut reasons: Vec<String> = Vec::new();
    let crash_after = trace
        .iter()
        .any(|e| e.kind == TraceKind::Crash && e.note.contains("after processing"));
    if problem == "duplicate" {
        let applied = count(trace, TraceKind::Processed);
        // SQS has no offsets: its redeliveries are explained by the visibility timeout below.
        let sqs_redelivery = has(trace, TraceKind::VisibilityExpired);
        if crash_after && !sqs_redelivery {
            reasons.push(
                "a consumer applied it and crashed before its offset was committed, so the partition's next reader started from the committed offset and read it again"
                    .into(),
            );
        }
        if trace
            .iter()
            .any(|e| e.kind == TraceKind::Committed && e.note.contains("fencing is off"))
        {
            reasons.push("a consumer that had lost its records to another (a zombie) committed them anyway: with fencing off the coordinator accepted the stale commit, so both consumers' payments count".into());
        } else if has(trace, TraceKind::SessionExpired) {
            reasons.push("a consumer froze holding it (a GC pause) past its session timeout, the group gave its partition to another consumer that processed it again, and the frozen one woke as a zombie and finished its own copy: nothing fenced it".into());
        }
        if has(trace, TraceKind::AckLost) && has(trace, TraceKind::Replayed) && !sqs_redelivery {
            reasons.push("a consumer applied it but the offset commit covering it was lost on the way to the group coordinator (a network failure during commit); before a later commit got through, its partition was read again from the old committed offset".into());
        }
        // A second log entry: `copy` is entry × 4 + network copy (trace.rs).
        let second_record = |why: &str| {
            trace
                .iter()
                .any(|e| e.kind == TraceKind::Stored && e.copy >= 4 && e.note.contains(why))
        };
        if has(trace, TraceKind::PublishAckLost) && second_record("no idempotent producer") {
            reasons.push("the broker's ack to the producer was lost, the producer retried, and without an idempotent producer the broker stored a second record".into());
        }
        if has(trace, TraceKind::ProducerRestarted) && second_record("another producer ID") {
            let who = if has(trace, TraceKind::RelayCrash) {
                "the outbox relay died after the row's publish was acked and before marking it sent, and published the row again when it restarted"
            } else {
                "the producer died after sending it and before its ack, and resent it when it restarted"
            };
            reasons.push(format!("{who}: InitProducerId without a transactional.id gives a restarted producer a NEW producer ID, so the broker could not tell the resend from a new record (Kafka's idempotence holds within one producer session only) and stored a second record"));
        }
        if has(trace, TraceKind::PublishDuplicated) && !has(trace, TraceKind::DuplicateDropped) {
            reasons.push(
                "the network duplicated the publish and the broker stored both copies".into(),
            );
        }
        if has(trace, TraceKind::VisibilityExpired) {
            reasons.push("its SQS visibility timeout passed before a DeleteMessage reached the queue (a slow or crashed consumer, or a lost delete), so the message was visible again and received again: the timeout is not a lock".into());
        }
        if has(trace, TraceKind::ExtraCopy) {
            reasons.push("a DeleteMessage on the SQS standard queue missed a copy on a server that was unavailable, and that copy was received again (a standard queue delivers at least once)".into());
        }
        if has(trace, TraceKind::PublishAckLost)
            && (second_record("no idempotent send") || second_record("deduplication window"))
        {
            reasons.push("SendMessage's response was lost and the producer sent it again: SQS stored it as a second message (a standard queue has no idempotent send; a FIFO queue deduplicates only within five minutes of the first send)".into());
        }
        if has(trace, TraceKind::DeliveryDuplicated) {
            reasons.push("the network delivered it to the consumer twice".into());
        }
        if has(trace, TraceKind::Replayed) && reasons.is_empty() {
            reasons.push("its partition was read again from a committed offset that lay before it (a crash, a rebalance or an aborted transaction), after it had been applied".into());
        }
        if mode.dedups() {
            // A dedup mode applies a message twice only if the store had forgotten its ID.
            reasons.push("the dedup store no longer remembered the ID when the later copy arrived (its retention window had passed)".into());
        }
        if reasons.is_empty() {
            reasons.push("it was delivered more than once".into());
        }
        format!(
            "Message {message} was charged {applied} times: {}.",
            reasons.join("; and ")
        )
    } else {
        if let Some(e) = trace.iter().find(|e| e.kind == TraceKind::GaveUp) {
            let why = if has(trace, TraceKind::BrokerUnavailable) {
                " (the broker was failing over after a crash)"
            } else {
                ""
            };
            reasons.push(format!("every one of the producer's {} attempts failed{why}, so it gave up and reported the failure", e.attempt));
        }
        if let Some(e) = trace.iter().find(|e| e.kind == TraceKind::DeadLettered) {
            reasons.push(format!("no delivery was acknowledged in {} tries, so the broker moved it to the dead-letter queue", e.attempt));
        }
        if has(trace, TraceKind::ProducerCrash) {
            reasons.push("the producer crashed between its database write and the publish (the dual-write problem); nothing else knew the payment existed".into());
        }
        if trace
            .iter()
            .any(|e| e.kind == TraceKind::Truncated && e.note.contains("acks=leader"))
        {
            reasons.push("the broker acked it and then its leader crashed before any follower had a copy (acks=leader)".into());
        }
        if has(trace, TraceKind::UncleanTruncated) {
            reasons.push("the leader took it while it was the only in-sync replica (acks=all waits for the current in-sync replicas only, and min.insync.replicas=1 lets them shrink to the leader alone), then the leader crashed and a follower that had fallen behind before this record was elected (unclean.leader.election.enable=true): Kafka truncated the record from the partition, and nobody retries a write that was acknowledged. With min.insync.replicas=2 the leader would have refused the write (the producer retries); with unclean election off the partition would have waited for the old leader".into());
        }
        if has(trace, TraceKind::AckedBeforeProcessing) && has(trace, TraceKind::DroppedByCrash) {
            reasons.push("the consumer committed its offset on receipt, before processing, and then crashed: the broker will never send it again".into());
        }
        if has(trace, TraceKind::PublishLost)
            && reasons.is_empty()
            && !has(trace, TraceKind::Stored)
        {
            reasons.push("its only publish was lost and at-most-once never retries".into());
        }
        if has(trace, TraceKind::BrokerUnavailable)
            && reasons.is_empty()
            && !has(trace, TraceKind::Stored)
        {
            reasons.push(
                "the broker was failing over when it was published and at-most-once never retries"
                    .into(),
            );
        }
        if has(trace, TraceKind::DeliveryLost) && reasons.is_empty() {
            reasons.push("its only delivery was lost and at-most-once never redelivers".into());
        }
        if reasons.is_empty() {
            reasons.push("it was never applied".into());
        }
        format!(
            "Message {message} was never applied: {}.",
            reasons.join("; and ")
        )
    }
}
