//! Per-message traces: the life of one message as a list of events across the producer, broker,
//! consumer and ledger lanes.
//!
//! Traces are recorded only for the messages a caller asks for. A trace for any message of a
//! finished run is obtained by replaying the same scenario and seed with that message traced,
//! which is exact because runs are deterministic; this keeps a million-message run free of
//! per-message histories.

use serde::{Deserialize, Serialize};

/// The swim lanes of a sequence diagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Actor {
    Producer,
    Broker,
    Consumer,
    Ledger,
    /// An external service the consumer calls (the card payment provider).
    External,
}

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum TraceKind {
    /// The producer's business write (the payment request) committed.
    Created,
    /// The producer crashed between its write and its publish.
    ProducerCrash,
    /// The payment and its outbox row committed in one local transaction.
    OutboxCommitted,
    /// A publish left the producer or the relay.
    Publish,
    /// A publish was lost on the network.
    PublishLost,
    /// The network delivered a publish twice.
    PublishDuplicated,
    /// The broker was down and refused a publish.
    BrokerUnavailable,
    /// The leader appended the message to the partition log.
    Stored,
    /// The idempotent producer's sequence number showed a retry; the broker dropped it.
    DuplicateDropped,
    /// The partition leader crashed (right after appending this message).
    BrokerCrash,
    /// The leader crashed before the append reached the replicas; it was truncated.
    Truncated,
    /// The append reached every replica; consumers may now read it.
    Replicated,
    /// A follower fell out of the in-sync replicas on this append (Kafka's replica lag): it
    /// gets neither this record nor later ones until it catches up.
    IsrShrunk,
    /// Followers caught up and rejoined the in-sync replicas before this append.
    IsrExpanded,
    /// The leader refused the publish: fewer replicas in sync than `min.insync.replicas`
    /// (Kafka's NotEnoughReplicas); not appended, the producer retries.
    NotEnoughReplicas,
    /// A follower that had fallen behind before this record was elected leader (unclean
    /// leader election): the record is gone from the partition, acknowledged or not.
    UncleanTruncated,
    /// The broker acked the publish.
    PublishAck,
    /// The publish ack was lost on the network.
    PublishAckLost,
    /// The producer's ack timer fired; it will retry.
    AckTimeout,
    /// The producer ran out of retries and reported a failure.
    GaveUp,
    /// The broker sent the message to a consumer.
    Delivered,
    /// A delivery was lost on the network.
    DeliveryLost,
    /// The network delivered a delivery twice.
    DeliveryDuplicated,
    /// The consumer received the message.
    Received,
    /// The consumer auto-committed (acked) on receipt, before processing.
    AckedBeforeProcessing,
    /// The consumer crashed.
    Crash,
    /// The message sat in a consumer's buffer when that consumer crashed.
    DroppedByCrash,
    /// The consumer's position showed it had already read this record; it skipped it.
    SkippedByPosition,
    /// The dedup store had the ID; the consumer skipped the payment.
    DedupSkipped,
    /// The payment was applied to the ledger.
    Processed,
    /// The payment was staged in an open transaction.
    Staged,
    /// The transaction committed: payment and offset together.
    Committed,
    /// The transaction was aborted; its staged payments were discarded.
    Aborted,
    /// The commit was rejected because a newer consumer owns the partition (fencing).
    Fenced,
    /// The commit was lost on the network.
    CommitLost,
    /// The consumer acked (committed its offset).
    Ack,
    /// The ack was lost on the network.
    AckLost,
    /// The record was fetched again: its partition's reader restarted from the committed
    /// offset, which lay before it.
    Replayed,
    /// RabbitMQ put an unacknowledged delivery back in the queue, at its position, when its
    /// consumer's connection closed.
    Requeued,
    /// The broker gave up on the message after too many deliveries.
    DeadLettered,
    /// SQS: the visibility timeout of a receive passed before a DeleteMessage; the message is
    /// visible again.
    VisibilityExpired,
    /// SQS standard queue: a DeleteMessage missed a copy on an unavailable server, which will
    /// be received again.
    ExtraCopy,
    /// The consumer's external call charged the card (outside any broker transaction).
    ExternalCharge,
    /// The provider knew the call's idempotency key and charged nothing.
    ExternalDeduplicated,
    /// The consumer froze (a GC pause) holding this record.
    Stalled,
    /// The group removed the stalled consumer and handed its partitions to the others.
    SessionExpired,
    /// The stalled consumer woke up and carried on.
    Woke,
    /// The producer died after sending this record, before its ack (`producer-restart`).
    ProducerDied,
    /// The producer came back (`InitProducerId`) and resends this unacknowledged record, under
    /// a new producer ID (no transactional ID) or the same one with a bumped epoch.
    ProducerRestarted,
    /// The outbox relay died after this row's publish was acked, before marking it sent.
    RelayCrash,
    /// The partition refused an idempotent producer's write: out of order
    /// (`OutOfOrderSequenceException`) or of an older epoch; the producer retries it.
    SequenceRejected,
    /// The partition refused a write of an epoch the transactional ID's newer instance has
    /// fenced (`ProducerFencedException`).
    ProducerFenced,
    /// The record's producer transaction was aborted: it stays in the log, marked aborted,
    /// and read-committed readers skip it.
    RecordAborted,
    /// The producer gave up a record that never landed and bumped its epoch on the partition,
    /// numbering its later records from 0 again (KIP-360).
    EpochBumped,
}

/// One step in a message's life.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct TraceEvent {
    /// Simulated time, microseconds.
    pub at_us: u64,
    pub kind: TraceKind,
    /// The lane where it happened.
    pub actor: Actor,
    /// Where it was going, for arrows between lanes.
    pub to: Option<Actor>,
    /// Which producer or consumer, where that matters.
    pub node: Option<u32>,
    /// The publish attempt (producer lanes) or delivery number (broker and consumer lanes),
    /// from 1.
    pub attempt: u32,
    /// Which copy, one encoding for every event: log entry × 4 + network copy (the broker's
    /// `delivery_key`; entries past 63 count as 63). Retries without an idempotent producer
    /// create further log entries, network duplicates further network copies; an event before
    /// the broker has stored the publish has entry 0 (its network copy alone). 0 is the first
    /// entry's first network copy.
    pub copy: u32,
    /// A sentence for people.
    pub note: String,
}

impl TraceKind {
    /// The kebab-case name used in JSON, e.g. `ack-lost`.
    pub fn key(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}
