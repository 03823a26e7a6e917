//! The `Scenario`: everything a run depends on, and nothing else.
//!
//! The URL query, the JS API, the CLI flags, scenario JSON files and the presets all parse into
//! this one type (see `knobs` for the key table that drives them). Durations are given in
//! milliseconds as `f64` because people type them; the engine converts them once to integer
//! microseconds so that nothing after parsing depends on floating-point rounding.

pub mod element;
pub mod knobs;
pub mod presets;
pub mod script;
mod script_json;

use serde::{Deserialize, Serialize};

use crate::scenario::script::ScriptedFault;

/// The delivery mode: which mechanisms the producer, broker and consumer use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Fire and forget: no retries; the consumer commits its offsets before it processes.
    AtMostOnce,
    /// Producer retries until acked; the consumer processes, then commits its offsets.
    AtLeastOnce,
    /// At-least-once plus a dedup store of processed IDs, written atomically with the effect.
    IdempotentConsumer,
    /// Transactional consume-process-produce (output and offsets in one transaction) with
    /// generation fencing; the broker drops a retried publish it already has.
    ExactlyOnce,
    /// Business write and outbox row in one local transaction; a relay publishes at-least-once;
    /// the consumer is idempotent.
    Outbox,
}

impl Mode {
    pub const ALL: [Mode; 5] = [
        Mode::AtMostOnce,
        Mode::AtLeastOnce,
        Mode::IdempotentConsumer,
        Mode::ExactlyOnce,
        Mode::Outbox,
    ];

    /// The name used on the command line, in URLs and in JSON.
    pub fn key(self) -> &'static str {
        match self {
            Mode::AtMostOnce => "at-most-once",
            Mode::AtLeastOnce => "at-least-once",
            Mode::IdempotentConsumer => "idempotent-consumer",
            Mode::ExactlyOnce => "exactly-once",
            Mode::Outbox => "outbox",
        }
    }

    pub fn from_key(key: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.key() == key)
    }

    /// A human title for tables and the page.
    pub fn title(self) -> &'static str {
        match self {
            Mode::AtMostOnce => "At-most-once",
            Mode::AtLeastOnce => "At-least-once",
            Mode::IdempotentConsumer => "Idempotent consumer",
            Mode::ExactlyOnce => "Exactly-once",
            Mode::Outbox => "Transactional outbox",
        }
    }

    /// One line on the mechanism on a broker family, in our own words: a refused mode says
    /// why.
    pub fn mechanism_on(self, broker: Broker) -> &'static str {
        if let Some(why) = broker.refuses(self) {
            return why;
        }
        match (broker, self) {
            (Broker::RabbitMq, Mode::AtMostOnce) => {
                "Publish without confirms and never republish; the consumer subscribes with auto-ack (basic.consume no-ack), so the broker forgets each message as it pushes it, and prefetch does not limit it: everything in a crashed consumer's buffer is lost."
            }
            (Broker::RabbitMq, Mode::AtLeastOnce) => {
                "The producer republishes until a publisher confirm arrives (RabbitMQ has no idempotent producer: a lost confirm means a second copy); the consumer acks each delivery after processing (manual ack), and when its connection closes the broker requeues every unacknowledged delivery at its old position, marked redelivered. Nothing is lost, but redeliveries and republished copies apply a payment twice."
            }
            (Broker::RabbitMq, Mode::IdempotentConsumer) => {
                "At-least-once on RabbitMQ (publisher confirms, manual ack, requeue on close), plus a dedup store of processed message IDs written in the same local transaction as the payment: redeliveries and republished copies are skipped."
            }
            (Broker::Sqs | Broker::SqsFifo, Mode::AtMostOnce) => {
                "SendMessage once, never retried; the consumer deletes each message it receives (DeleteMessage) and processes it only once the delete succeeded, so a crash after the delete loses it. A delete that gets no answer leaves the message unprocessed; it comes back after the visibility timeout."
            }
            (Broker::Sqs, Mode::AtLeastOnce) => {
                "The producer resends until SendMessage succeeds (no idempotence on a standard queue: a lost response means a second message); the consumer processes each received message and then deletes it (DeleteMessage). A message not deleted within the visibility timeout (a crash, a lost delete, slow processing) becomes visible again and is received again; a standard queue also delivers an extra copy now and then. Nothing is lost, but payments apply twice."
            }
            (Broker::SqsFifo, Mode::AtLeastOnce) => {
                "The producer resends until SendMessage succeeds; the queue drops a resend with the same deduplication ID within five minutes of the first send, but not after. One message group per account: while a group has a message in flight, no later one of it is received. The consumer deletes after processing; a consumer that crashes after processing and before deleting still applies the payment twice when the visibility timeout passes: FIFO's exactly-once processing covers the queue, not your side effects."
            }
            (Broker::Sqs | Broker::SqsFifo, Mode::IdempotentConsumer) => {
                "At-least-once on SQS (resend until SendMessage succeeds, delete after processing, redelivery after the visibility timeout), plus a dedup store of processed message IDs written in the same local transaction as the payment: redeliveries, extra copies and resent messages are skipped."
            }
            _ => self.mechanism(),
        }
    }

    /// One line on the mechanism on Kafka, in our own words.
    pub fn mechanism(self) -> &'static str {
        match self {
            Mode::AtMostOnce => {
                "Send once (acks=0), never retry; the consumer commits its offsets when records arrive, before it processes them. Anything dropped or cut short by a crash stays lost."
            }
            Mode::AtLeastOnce => {
                "The producer retries until the broker acks (Kafka's idempotent producer, on by default with acks=all, lets the broker drop its retries within one producer session); the consumer commits its offsets after processing, so after a crash its partition is read again from the last commit. Nothing is lost, but re-reads, and retries across a producer restart or without idempotence, can apply a payment twice."
            }
            Mode::IdempotentConsumer => {
                "At-least-once delivery, but the consumer records each message ID in a dedup store in the same local transaction as the payment, and skips IDs it has seen."
            }
            Mode::ExactlyOnce => {
                "Kafka's consume-process-produce: the consumer writes each payment to an output topic and commits it with its input offsets in one transaction, read by a read-committed ledger; a crash aborts it, stale consumers are fenced by their generation. Its producer is transactional: the broker drops its retries by sequence number, and a restarted producer fences its old instance by epoch."
            }
            Mode::Outbox => {
                "The payment request and an outbox row commit in one local transaction; a relay publishes the outbox at-least-once and the consumer dedups, so a crash between the write and the publish loses nothing."
            }
        }
    }

    /// Whether the consumer keeps a dedup store of processed message IDs.
    pub fn dedups(self) -> bool {
        matches!(self, Mode::IdempotentConsumer | Mode::Outbox)
    }

    /// Whether the producer (or relay) retries unacknowledged publishes.
    pub fn retries_publish(self) -> bool {
        !matches!(self, Mode::AtMostOnce)
    }

    /// Whether the consumer commits its offsets after processing, outside any transaction
    /// (at-most-once commits before; exactly-once inside its transaction).
    pub fn commits_after_processing(self) -> bool {
        !matches!(self, Mode::AtMostOnce | Mode::ExactlyOnce)
    }

    /// What the mode promises, as the textbooks state it.
    pub fn promise(self) -> Promise {
        match self {
            Mode::AtMostOnce => Promise {
                no_loss: false,
                no_duplicates: true,
            },
            Mode::AtLeastOnce => Promise {
                no_loss: true,
                no_duplicates: false,
            },
            _ => Promise {
                no_loss: true,
                no_duplicates: true,
            },
        }
    }
}

/// The broker family: which real system's mechanisms the broker and its clients model.
///
/// Each value names one real system and is built with that system's own mechanisms; a
/// setting that a family does not have is refused for it (see `Knob::applies_to`). Issue 25
/// adds `rabbitmq`, `sqs` and `sqs-fifo` here.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Broker {
    /// Apache Kafka: a partitioned log read by a consumer group.
    #[default]
    Kafka,
    /// RabbitMQ: one queue whose broker pushes deliveries to competing consumers, each
    /// acknowledged (or not) one by one.
    #[serde(rename = "rabbitmq")]
    RabbitMq,
    /// Amazon SQS, standard queue: consumers poll, a received message is invisible for the
    /// visibility timeout, and deleting it is the acknowledgement.
    Sqs,
    /// Amazon SQS, FIFO queue: a standard queue's receive/delete cycle, plus message groups
    /// delivered in order and send-side deduplication within five minutes.
    SqsFifo,
}

impl Broker {
    pub const ALL: [Broker; 4] = [
        Broker::Kafka,
        Broker::RabbitMq,
        Broker::Sqs,
        Broker::SqsFifo,
    ];

    /// The name used on the command line, in URLs and in JSON.
    pub fn key(self) -> &'static str {
        match self {
            Broker::Kafka => "kafka",
            Broker::RabbitMq => "rabbitmq",
            Broker::Sqs => "sqs",
            Broker::SqsFifo => "sqs-fifo",
        }
    }

    pub fn from_key(key: &str) -> Option<Broker> {
        Broker::ALL.into_iter().find(|b| b.key() == key)
    }

    /// The real system's name, for tables and the page.
    pub fn title(self) -> &'static str {
        match self {
            Broker::Kafka => "Kafka",
            Broker::RabbitMq => "RabbitMQ",
            Broker::Sqs => "SQS",
            Broker::SqsFifo => "SQS FIFO",
        }
    }

    /// One line on what the family is, naming the real system.
    pub fn description(self) -> &'static str {
        match self {
            Broker::Kafka => {
                "Apache Kafka: a replicated, partitioned log; each partition is read in order by one member of a consumer group, and acks=all, idempotent producers and transactions give its guarantees."
            }
            Broker::RabbitMq => {
                "RabbitMQ: one queue (classic, or a replicated quorum queue); the broker pushes each message to one of the competing consumers, at most `prefetch` unacknowledged at a time (basic.qos), and requeues a consumer's unacknowledged deliveries when its connection closes. Publisher confirms, no idempotent producer, and no transaction that spans the queue and a consumer's database (AMQP channel transactions, tx.select, cover only one channel's publishes and acks)."
            }
            Broker::Sqs => {
                "Amazon SQS standard queue: consumers poll (ReceiveMessage, up to 10 at a time); a received message is invisible for the visibility timeout and comes back if it is not deleted by then; after max-receives receives it moves to a dead-letter queue. At-least-once with an occasional extra copy, best-effort order, no idempotent send, no transactions."
            }
            Broker::SqsFifo => {
                "Amazon SQS FIFO queue: the standard queue's receive, visibility timeout and delete, plus one message group per account delivered in order (nothing more of a group while one of its messages is in flight) and a send deduplicated by its ID within five minutes of the first. Not modelled: the per-API throughput quota (300 API calls per second per action, so up to 3,000 messages/s in batches of ten, more in high-throughput mode), so faster runs go as if the quota were raised."
            }
        }
    }

    /// The modes the family runs, in `Mode::ALL` order.
    pub fn modes(self) -> impl Iterator<Item = Mode> {
        Mode::ALL
            .into_iter()
            .filter(move |&m| self.refuses(m).is_none())
    }

    /// Why the family refuses a mode, or `None` if it runs it: RabbitMQ has no transaction
    /// that spans the queue and the consumer's database.
    pub fn refuses(self, mode: Mode) -> Option<&'static str> {
        match (self, mode) {
            (Broker::RabbitMq, Mode::ExactlyOnce) => Some(
                "RabbitMQ has no transaction that spans the queue and your database, so a crash between the two always leaves one done and the other not; use idempotent-consumer or outbox (exactly-once effects by deduplication)",
            ),
            (Broker::Sqs, Mode::ExactlyOnce) => Some(
                "an SQS standard queue delivers at least once and may deliver a message twice, and no transaction spans the queue and your database; use idempotent-consumer or outbox (exactly-once effects by deduplication)",
            ),
            (Broker::SqsFifo, Mode::ExactlyOnce) => Some(
                "SQS FIFO's exactly-once processing only deduplicates sends within five minutes: a consumer that crashes after its side effect and before DeleteMessage gets the message again, and no transaction spans the queue and your database; use idempotent-consumer or outbox (exactly-once effects by deduplication)",
            ),
            _ => None,
        }
    }
}

/// The two halves a mode can promise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promise {
    pub no_loss: bool,
    pub no_duplicates: bool,
}

impl Promise {
    pub fn describe(self) -> &'static str {
        match (self.no_loss, self.no_duplicates) {
            (true, true) => "no loss and no duplicates",
            (true, false) => "no loss (duplicates allowed)",
            (false, true) => "no duplicates (loss allowed)",
            (false, false) => "nothing",
        }
    }
}

/// When the broker acknowledges a publish.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Acks {
    /// As soon as the partition leader has appended it (Kafka `acks=1`).
    Leader,
    /// Once every replica in the in-sync set has it (Kafka `acks=all`): with followers out of
    /// sync, possibly the leader alone (see `min_insync_replicas`).
    All,
}

impl Acks {
    pub fn key(self) -> &'static str {
        match self {
            Acks::Leader => "leader",
            Acks::All => "all",
        }
    }

    pub fn from_key(key: &str) -> Option<Acks> {
        match key {
            "leader" | "1" => Some(Acks::Leader),
            "all" | "-1" => Some(Acks::All),
            _ => None,
        }
    }
}

/// What a reader of exactly-once's output sees (Kafka's `isolation.level`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// Only records of committed transactions; aborted ones are skipped.
    ReadCommitted,
    /// Every record as it is written, aborted transactions' included (Kafka's default
    /// `read_uncommitted`).
    ReadUncommitted,
}

impl Isolation {
    pub fn key(self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "read-committed",
            Isolation::ReadUncommitted => "read-uncommitted",
        }
    }
}

/// A RabbitMQ queue's type (`x-queue-type`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum QueueType {
    /// One node's queue: it writes a persistent message to disk before it confirms.
    #[default]
    Classic,
    /// A Raft-replicated queue on three nodes: it confirms once a majority has the message,
    /// and may dead-letter a message after `delivery-limit` returns.
    Quorum,
}

impl QueueType {
    pub const ALL: [QueueType; 2] = [QueueType::Classic, QueueType::Quorum];

    pub fn key(self) -> &'static str {
        match self {
            QueueType::Classic => "classic",
            QueueType::Quorum => "quorum",
        }
    }
}

/// Kafka's `enable.idempotence`: whether each producer numbers its records so that the broker
/// can drop its retries (a producer ID, an epoch and a sequence number per partition).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Idempotence {
    /// On exactly when the effective acks is `all`: Kafka >= 3.0 enables idempotence by
    /// default and silently disables a defaulted one that conflicts with its other settings.
    Auto,
    /// Asked for explicitly: refused with `acks=leader`, as Kafka's `ConfigException`.
    On,
    Off,
}

impl Idempotence {
    pub const ALL: [Idempotence; 3] = [Idempotence::Auto, Idempotence::On, Idempotence::Off];

    pub fn key(self) -> &'static str {
        match self {
            Idempotence::Auto => "auto",
            Idempotence::On => "on",
            Idempotence::Off => "off",
        }
    }
}

/// A complete, self-contained description of one run.
///
/// Field docs give the unit and the default. Probabilities are in `0..=1` and apply
/// independently, per message per hop per attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Scenario {
    /// Delivery mode. Default `at-least-once`.
    pub mode: Mode,
    /// Broker family: which real system is modelled. Default `kafka`. A setting that the
    /// family does not have is refused for it, and stays at its default.
    pub broker: Broker,
    /// Seed of every random decision. Default 42.
    pub seed: u64,

    // --- Load ---
    /// Payments to publish. Default 10,000.
    pub messages: u32,
    /// Producer instances; messages are spread round-robin. Default 2.
    pub producers: u32,
    /// Consumers in the group. Default 4.
    pub consumers: u32,
    /// Partitions of the topic; each is owned by one live consumer. Default 8.
    // Left out of JSON at its default, so that a broker without it never carries it.
    #[serde(skip_serializing_if = "is_default_partitions")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<u32>", optional))]
    pub partitions: u32,
    /// Total publish rate, messages per second of simulated time. Default 2,000.
    pub publish_rate: f64,
    /// Customer accounts the payments are spread over. Default 100.
    pub accounts: u32,

    // --- Network ---
    /// One-way network latency, ms. Default 1.
    pub latency_ms: f64,
    /// Uniform jitter added to or removed from each hop's latency, ms. Default 0.5.
    pub jitter_ms: f64,
    /// Probability that a message on any hop is delayed by `delay_ms` more. Default 0.
    pub delay: f64,
    /// Extra delay of a delayed message, ms. Default 250.
    pub delay_ms: f64,
    /// Probability that the network delivers a publish or a delivery twice. Default 0.
    pub duplicate: f64,
    /// Probability that a delivery (broker to consumer) is lost. Default 0.
    // Left out of JSON at its default, so that a broker without it never carries it.
    #[serde(skip_serializing_if = "is_zero")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<f64>", optional))]
    pub delivery_loss: f64,

    // --- Producer side ---
    /// Probability that a publish (producer to broker) is lost. Default 0.
    pub publish_loss: f64,
    /// Probability that the broker's ack to the producer is lost. Default 0.
    pub publish_ack_loss: f64,
    /// Probability that a producer crashes after its own database write and before publishing
    /// (the dual-write problem the outbox solves). Default 0.
    pub producer_crash: f64,
    /// How long the producer waits for an ack (an exactly-once consumer for its commit's answer)
    /// before retrying, ms; doubles per retry. Default 50.
    pub ack_timeout_ms: f64,
    /// Publish retries before the producer gives up and reports the failure; the outbox relay
    /// and exactly-once's transactional producer never give up. Default 8.
    pub max_retries: u32,
    /// How often the outbox relay polls for unpublished rows, ms. Default 10.
    pub outbox_poll_ms: f64,

    // --- Broker ---
    /// Probability that the partition leader crashes right after appending a message. Default 0.
    pub broker_crash: f64,
    /// When the broker acks a publish. Default `all`. Exactly-once always uses `all`.
    // Left out of JSON at its default, so that a broker without it never carries it.
    #[serde(skip_serializing_if = "is_acks_all")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<Acks>", optional))]
    pub acks: Acks,
    /// Copies of each partition (leader included). Default 3.
    // Left out of JSON at its default, so that a broker without it never carries it.
    #[serde(skip_serializing_if = "is_default_replication_factor")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<u32>", optional))]
    pub replication_factor: u32,
    /// Time to replicate (or, with one replica, flush) an append, ms. Default 5.
    pub replication_ms: f64,
    /// How long the broker is unavailable after a crash while a new leader is elected, ms.
    /// Default 200.
    pub failover_ms: f64,
    /// SQS's visibility timeout, ms: how long a received message stays invisible to other
    /// receives; not deleted by then, it is visible again. Default 200 (SQS's own default is
    /// 30 s; the playground's runs are short). Only `sqs` and `sqs-fifo` have it; left out of
    /// JSON at its default.
    #[serde(skip_serializing_if = "is_default_visibility")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<f64>", optional))]
    pub visibility_timeout_ms: f64,

    // --- Consumer side ---
    /// Probability that the consumer crashes after receiving a message, before processing it.
    /// Default 0.
    pub crash_before_process: f64,
    /// Probability that the consumer crashes after processing, before its offset or transaction commit.
    /// Default 0.
    pub crash_after_process: f64,
    /// Probability that the consumer's ack or transaction commit is lost on the way to the
    /// broker. Default 0.
    pub ack_loss: f64,
    /// Time to apply one payment to the ledger, ms. Default 1.
    pub processing_ms: f64,
    /// Records fetched per poll; with exactly-once, also the most records per transaction.
    /// Default 50.
    // Left out of JSON at its default, so that a broker without it never carries it.
    #[serde(skip_serializing_if = "is_default_max_poll")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<u32>", optional))]
    pub max_poll: u32,
    /// Time until a crashed consumer (or a restarted producer or outbox relay) is back, ms.
    /// Default 100.
    pub restart_ms: f64,
    /// Time until the group notices a silent consumer and hands its partitions over, ms.
    /// Default 300.
    // Left out of JSON at its default, so that a broker without it never carries it.
    #[serde(skip_serializing_if = "is_default_session_timeout")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<f64>", optional))]
    pub session_timeout_ms: f64,
    /// How often a consumer commits its offsets, ms (Kafka's `auto.commit.interval.ms`; the
    /// commit runs inside the poll); 0 commits after each poll's records are processed.
    /// Default 0.
    #[serde(skip_serializing_if = "is_zero")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<f64>", optional))]
    pub commit_interval_ms: f64,
    /// Exactly-once: what the ledger's reader of the output topic sees (Kafka's
    /// `isolation.level`). Default `read-committed`.
    #[serde(skip_serializing_if = "is_read_committed")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<Isolation>", optional))]
    pub isolation: Isolation,
    /// Time of one dedup-store look-up, ms. Default 0.1.
    pub dedup_lookup_ms: f64,
    /// How long the consumer's dedup store remembers a processed ID, ms. Default 300,000
    /// (five minutes).
    pub dedup_window_ms: f64,

    // --- Transaction costs ---
    /// Transaction log write, ms. Default 1.
    // Left out of JSON at its default, so that a broker without it never carries it.
    #[serde(skip_serializing_if = "is_one_ms")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<f64>", optional))]
    pub txn_write_ms: f64,
    /// Transaction commit acknowledgement, ms. Default 1.
    // Left out of JSON at its default, so that a broker without it never carries it.
    #[serde(skip_serializing_if = "is_one_ms")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<f64>", optional))]
    pub txn_ack_ms: f64,

    // --- Bounds ---
    /// The run stops here even if messages are still in flight, ms of simulated time.
    /// Default 600,000.
    pub horizon_ms: f64,

    // --- The exactly-once trap and zombie consumers (see `external` and `zombie`) ---
    // Each is left out of the JSON while at its default (so optional in TypeScript), so
    // scenarios and reports that do not use them read exactly as they did before these
    // settings existed.
    /// Whether each payment also charges the customer's card through an external API, outside
    /// the broker's transaction. Default off.
    #[serde(skip_serializing_if = "is_false")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<bool>", optional))]
    pub external_effect: bool,
    /// Whether that call carries an idempotency key (the message ID), so the provider charges
    /// a key once however often it is called. Default off.
    #[serde(skip_serializing_if = "is_false")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<bool>", optional))]
    pub idempotency_key: bool,
    /// Round trip of the external call, paid per payment while the consumer waits, ms.
    /// Default 100.
    #[serde(skip_serializing_if = "is_default_external_latency")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<f64>", optional))]
    pub external_latency_ms: f64,
    /// Probability that a consumer stalls (a stop-the-world GC pause) right after processing
    /// a record, before its offset or transaction commit. Default 0.
    #[serde(skip_serializing_if = "is_zero")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<f64>", optional))]
    pub consumer_stall: f64,
    /// How long a stall lasts, ms; longer than the session timeout, the group hands the
    /// consumer's partitions to the others while it sleeps. Default 1,000.
    #[serde(skip_serializing_if = "is_default_stall")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<f64>", optional))]
    pub stall_ms: f64,
    /// Exactly-once: whether the transaction coordinator rejects a commit from a consumer
    /// whose records another consumer has since been given (generation fencing). Default on.
    #[serde(skip_serializing_if = "is_true")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<bool>", optional))]
    pub fencing: bool,

    // --- Replication (Kafka's in-sync replicas; see `brokers/kafka/replication.rs`) ---
    // Left out of the JSON while at their defaults, like the settings above.
    /// Probability, per append, that a follower falls out of the in-sync replica set (ISR)
    /// for `replica_lag_ms`: it stops copying appends until it is back. Default 0.
    #[serde(skip_serializing_if = "is_zero")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<f64>", optional))]
    pub replica_lag: f64,
    /// How long a lagging follower stays out of the ISR before it has caught up and rejoins,
    /// ms. Default 1,000 (Kafka removes a follower after `replica.lag.time.max.ms`, 30 s, of
    /// lag; a run here lasts seconds, so the lag is scaled to the run).
    #[serde(skip_serializing_if = "is_default_replica_lag")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<f64>", optional))]
    pub replica_lag_ms: f64,
    /// With `acks=all`, the fewest in-sync replicas (leader included) a partition needs to
    /// accept a write; below it the write is refused (NotEnoughReplicas) and the producer
    /// retries. 1 to `replication_factor`. Default 1, as Kafka's `min.insync.replicas`.
    #[serde(skip_serializing_if = "is_one")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<u32>", optional))]
    pub min_insync_replicas: u32,
    /// Whether a follower that is not in sync may become leader when the ISR's last member
    /// dies (Kafka's `unclean.leader.election.enable`): the partition comes back at once, but
    /// every record that follower lacks is lost, acknowledged or not. Default off: the
    /// partition waits for the old leader instead.
    #[serde(skip_serializing_if = "is_false")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<bool>", optional))]
    pub unclean_election: bool,

    // --- The producer (Kafka's idempotent producer, `max.in.flight`, restarts) ---
    // Left out of the JSON while at their defaults, as the settings above.
    /// Kafka `enable.idempotence`: `auto` (on exactly when the effective acks is `all`), `on`
    /// (refused with `acks=leader`) or `off`. At-most-once (acks=0) is never idempotent;
    /// exactly-once always is (its `transactional.id` implies it). Default `auto`.
    #[serde(skip_serializing_if = "is_auto")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<Idempotence>", optional))]
    pub producer_idempotence: Idempotence,
    /// Kafka `max.in.flight.requests.per.connection`: unacknowledged sends a producer may have
    /// per partition, 1 to 5; further records wait in the producer. Default 5.
    #[serde(skip_serializing_if = "is_default_max_in_flight")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<u32>", optional))]
    pub max_in_flight: u32,
    /// Probability per message that its producer instance dies after sending it (its first
    /// send) and before its ack, and restarts after `restart_ms`, resending every record it has no ack for. Default 0.
    #[serde(skip_serializing_if = "is_zero")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<f64>", optional))]
    pub producer_restart: f64,
    /// Outbox: probability per row that the relay dies after the row's first publish was
    /// acked and before it marked the row sent, and publishes the row again when it restarts. Default 0.
    #[serde(skip_serializing_if = "is_zero")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<f64>", optional))]
    pub relay_crash: f64,
    /// Kafka `transaction.timeout.ms` (exactly-once): the transaction coordinator aborts a
    /// transaction left open longer, and bumps its producer's epoch, so the late commit of the
    /// instance that opened it is refused (a consumer stalled past it, or a producer down
    /// longer). Default 60,000, Kafka's.
    #[serde(skip_serializing_if = "is_default_transaction_timeout")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<f64>", optional))]
    pub transaction_timeout_ms: f64,

    // --- RabbitMQ ---
    /// RabbitMQ `basic.qos` prefetch count: the most unacknowledged deliveries the broker
    /// pushes to one consumer; 0 is unlimited (RabbitMQ's own default when the consumer sets
    /// none). An auto-ack consumer (at-most-once) is not limited by it. Default 10.
    #[serde(skip_serializing_if = "is_default_prefetch")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<u32>", optional))]
    pub prefetch: u32,
    /// RabbitMQ `x-queue-type`: classic (one node) or quorum (replicated on three). Default
    /// classic.
    #[serde(skip_serializing_if = "is_classic")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<QueueType>", optional))]
    pub queue_type: QueueType,
    /// A quorum queue's `x-delivery-limit`: a message returned to the queue more often than
    /// this (its consumers' channels closed while they held it) is dead-lettered instead of
    /// delivered again. 0 is no limit, as in RabbitMQ 3.x (4.0 defaults to 20). Default 0.
    #[serde(skip_serializing_if = "is_zero_u32")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<u32>", optional))]
    pub delivery_limit: u32,

    // --- SQS ---
    /// SQS ReceiveMessage `MaxNumberOfMessages`: the most messages one receive returns, 1 to
    /// 10. Default 10.
    #[serde(skip_serializing_if = "is_default_receive_batch")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<u32>", optional))]
    pub receive_batch: u32,
    /// SQS redrive policy `maxReceiveCount`: a message received this many times moves to the
    /// dead-letter queue at its next receive; 0 is no redrive policy. Default 0.
    #[serde(skip_serializing_if = "is_zero_u32")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<u32>", optional))]
    pub max_receives: u32,
    /// Probability that a DeleteMessage on a standard queue misses a copy of the message on
    /// a server that was unavailable, so the message is received again later (SQS documents
    /// at-least-once delivery with occasional duplicates). Default 0.
    #[serde(skip_serializing_if = "is_zero")]
    #[cfg_attr(feature = "typescript", ts(as = "Option<f64>", optional))]
    pub extra_copy: f64,

    // --- Scripted faults ---
    /// Faults at given times, besides the random ones (see `script`): in JSON a list of
    /// objects, in URLs and on the command line the compact text
    /// `2s:crash-consumer-1-after;3s-4s:partition-broker-producer-0`. Default empty, and left
    /// out of JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub script: Vec<ScriptedFault>,
}

/// Defaults of the settings that are serialised only when changed.
const DEFAULT_EXTERNAL_LATENCY_MS: f64 = 100.0;
const DEFAULT_STALL_MS: f64 = 1_000.0;
const DEFAULT_REPLICA_LAG_MS: f64 = 1_000.0;
/// Kafka's default `transaction.timeout.ms`.
const DEFAULT_TRANSACTION_TIMEOUT_MS: f64 = 60_000.0;

/// The playground's prefetch: a bound most client guides recommend setting, small enough that
/// a crash's requeue is visible message by message.
pub const DEFAULT_PREFETCH: u32 = 10;

fn is_classic(v: &QueueType) -> bool {
    *v == QueueType::Classic
}

/// SQS's largest ReceiveMessage batch (`MaxNumberOfMessages`).
pub const MAX_RECEIVE_BATCH: u32 = 10;

fn is_default_receive_batch(v: &u32) -> bool {
    *v == MAX_RECEIVE_BATCH
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

fn is_default_prefetch(v: &u32) -> bool {
    *v == DEFAULT_PREFETCH
}

fn is_default_transaction_timeout(v: &f64) -> bool {
    *v == DEFAULT_TRANSACTION_TIMEOUT_MS
}

/// Kafka's default `max.in.flight.requests.per.connection`, and the most an idempotent
/// producer may have (the broker keeps the last five batches per producer and partition).
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 5;

fn is_auto(v: &Idempotence) -> bool {
    *v == Idempotence::Auto
}

fn is_default_max_in_flight(v: &u32) -> bool {
    *v == DEFAULT_MAX_IN_FLIGHT
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn is_default_partitions(v: &u32) -> bool {
    *v == 8
}

fn is_acks_all(v: &Acks) -> bool {
    *v == Acks::All
}

fn is_default_replication_factor(v: &u32) -> bool {
    *v == 3
}

fn is_default_max_poll(v: &u32) -> bool {
    *v == 50
}

fn is_default_session_timeout(v: &f64) -> bool {
    *v == 300.0
}

fn is_one_ms(v: &f64) -> bool {
    *v == 1.0
}

fn is_default_visibility(v: &f64) -> bool {
    *v == 200.0
}

fn is_read_committed(i: &Isolation) -> bool {
    *i == Isolation::ReadCommitted
}

fn is_default_external_latency(v: &f64) -> bool {
    *v == DEFAULT_EXTERNAL_LATENCY_MS
}

fn is_default_stall(v: &f64) -> bool {
    *v == DEFAULT_STALL_MS
}

fn is_default_replica_lag(v: &f64) -> bool {
    *v == DEFAULT_REPLICA_LAG_MS
}

fn is_one(v: &u32) -> bool {
    *v == 1
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            mode: Mode::AtLeastOnce,
            broker: Broker::Kafka,
            seed: 42,
            messages: 10_000,
            producers: 2,
            consumers: 4,
            partitions: 8,
            publish_rate: 2_000.0,
            accounts: 100,
            latency_ms: 1.0,
            jitter_ms: 0.5,
            delay: 0.0,
            delay_ms: 250.0,
            duplicate: 0.0,
            delivery_loss: 0.0,
            publish_loss: 0.0,
            publish_ack_loss: 0.0,
            producer_crash: 0.0,
            ack_timeout_ms: 50.0,
            max_retries: 8,
            outbox_poll_ms: 10.0,
            broker_crash: 0.0,
            acks: Acks::All,
            replication_factor: 3,
            replication_ms: 5.0,
            failover_ms: 200.0,
            visibility_timeout_ms: 200.0,
            crash_before_process: 0.0,
            crash_after_process: 0.0,
            ack_loss: 0.0,
            processing_ms: 1.0,
            max_poll: 50,
            restart_ms: 100.0,
            session_timeout_ms: 300.0,
            commit_interval_ms: 0.0,
            isolation: Isolation::ReadCommitted,
            dedup_lookup_ms: 0.1,
            dedup_window_ms: 300_000.0,
            txn_write_ms: 1.0,
            txn_ack_ms: 1.0,
            horizon_ms: 600_000.0,
            external_effect: false,
            idempotency_key: false,
            external_latency_ms: DEFAULT_EXTERNAL_LATENCY_MS,
            consumer_stall: 0.0,
            stall_ms: DEFAULT_STALL_MS,
            fencing: true,
            replica_lag: 0.0,
            replica_lag_ms: DEFAULT_REPLICA_LAG_MS,
            min_insync_replicas: 1,
            unclean_election: false,
            producer_idempotence: Idempotence::Auto,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            producer_restart: 0.0,
            relay_crash: 0.0,
            transaction_timeout_ms: DEFAULT_TRANSACTION_TIMEOUT_MS,
            prefetch: DEFAULT_PREFETCH,
            queue_type: QueueType::Classic,
            delivery_limit: 0,
            receive_batch: MAX_RECEIVE_BATCH,
            max_receives: 0,
            extra_copy: 0.0,
            script: Vec::new(),
        }
    }
}

impl Scenario {
    /// The same scenario in another mode.
    pub fn with_mode(&self, mode: Mode) -> Scenario {
        Scenario {
            mode,
            ..self.clone()
        }
    }

    /// The acks setting the run really uses: an idempotent producer requires `acks=all`,
    /// as Kafka enforces, so exactly-once overrides a `leader` setting.
    pub fn effective_acks(&self) -> Acks {
        // A RabbitMQ publisher confirm comes once the queue has the message on disk: the
        // engine's `all` (acked when durable), never at the append.
        // SendMessage succeeds once SQS has stored the message: likewise.
        if self.mode == Mode::ExactlyOnce || self.broker != Broker::Kafka {
            Acks::All
        } else {
            self.acks
        }
    }

    /// Whether the producers run Kafka's idempotent producer (a producer ID, an epoch and
    /// sequence numbers the broker checks). At-most-once sends with acks=0 and never is;
    /// exactly-once's `transactional.id` implies it; otherwise `auto` follows acks=all, as
    /// Kafka >= 3.0 does.
    pub fn idempotent_producer(&self) -> bool {
        if self.broker != Broker::Kafka {
            // RabbitMQ has no idempotent producer: a republish is a second message.
            return false;
        }
        match self.mode {
            Mode::AtMostOnce => false,
            Mode::ExactlyOnce => true,
            _ => match self.producer_idempotence {
                Idempotence::On => true,
                Idempotence::Off => false,
                Idempotence::Auto => self.effective_acks() == Acks::All,
            },
        }
    }

    /// Copies the broker keeps of each message: Kafka's `replication-factor`; a classic
    /// RabbitMQ queue lives on one node.
    pub fn replicas(&self) -> u32 {
        match self.broker {
            Broker::Kafka => self.replication_factor,
            Broker::RabbitMq => match self.queue_type {
                QueueType::Classic => 1,
                // RabbitMQ's default initial group size for a quorum queue.
                QueueType::Quorum => 3,
            },
            // SQS stores each message on several servers, but how many is not a setting and
            // nothing here waits on them one by one.
            Broker::Sqs | Broker::SqsFifo => 1,
        }
    }

    /// Whether the producers have a `transactional.id` (exactly-once): a restarted instance
    /// gets its producer ID back with the epoch bumped, instead of a new one.
    pub fn transactional_producer(&self) -> bool {
        self.mode == Mode::ExactlyOnce
    }
}
