//! The knob table: one row per scenario setting, with its key, label, unit, group and allowed
//! range. The URL query, the CLI flags, the JSON readers, the page's sliders and validation are
//! all driven by this table, so a setting exists in one place and is checked the same way
//! everywhere.

use std::fmt;

use crate::scenario::script::{self, ScriptedFault};
use crate::scenario::{Acks, Broker, Idempotence, Isolation, Mode, Scenario};

/// Where a knob sits in the page's control panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Load,
    Producer,
    Broker,
    Consumer,
    Network,
    Costs,
    Bounds,
}

impl Group {
    pub const ALL: [Group; 7] = [
        Group::Producer,
        Group::Broker,
        Group::Consumer,
        Group::Network,
        Group::Load,
        Group::Costs,
        Group::Bounds,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Group::Load => "Load",
            Group::Producer => "Producer side",
            Group::Broker => "Broker",
            Group::Consumer => "Consumer side",
            Group::Network => "Network",
            Group::Costs => "Costs",
            Group::Bounds => "Bounds",
        }
    }
}

/// What kind of value a knob holds, which decides how it is parsed and shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A probability in `0..=1`; a fault rate.
    Probability,
    /// A duration in milliseconds.
    Millis,
    /// A whole number.
    Count,
    /// A rate per second.
    Rate,
    /// One of a few names (mode, broker, acks).
    Choice(&'static [&'static str]),
}

/// One scenario setting.
pub struct Knob {
    /// The kebab-case key used in URLs and as a CLI flag (`--publish-loss`).
    pub key: &'static str,
    /// The camelCase key used in JSON and JavaScript.
    pub json_key: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub group: Group,
    pub kind: Kind,
    pub unit: &'static str,
    pub min: f64,
    pub max: f64,
    /// A sensible slider step.
    pub step: f64,
    /// The broker families that have this setting. Given for any other broker, in any door
    /// (URL, JSON, CLI flag, JavaScript), it is refused with one line naming the setting and
    /// the broker, and it stays at its default. Every row says it; today that is `KAFKA`.
    pub brokers: &'static [Broker],
    /// Why the setting does not apply, for each broker family missing from `brokers`: the
    /// real system's own reason, in a sentence (`Kafka has no visibility timeout: ...`).
    pub why_not: &'static [(Broker, &'static str)],
    get: fn(&Scenario) -> f64,
    set: fn(&mut Scenario, f64),
}

/// The brokers of a setting only Kafka has.
pub const KAFKA: &[Broker] = &[Broker::Kafka];
/// The brokers of a setting every family has (the load, the network, the clients' faults).
pub const EVERY: &[Broker] = &Broker::ALL;
/// The brokers of a setting that Kafka and both SQS queues have.
pub const KAFKA_SQS: &[Broker] = &[Broker::Kafka, Broker::Sqs, Broker::SqsFifo];
/// The brokers of a setting both SQS queue types have.
pub const SQS: &[Broker] = &[Broker::Sqs, Broker::SqsFifo];

impl Knob {
    /// The same row with the broker families that have it, and the reason each other family
    /// refuses it, e.g. `knob!(...).only_on(&[Broker::Sqs], &[(Broker::Kafka, "Kafka has no
    /// visibility timeout: ...")])`.
    pub const fn only_on(
        self,
        brokers: &'static [Broker],
        why_not: &'static [(Broker, &'static str)],
    ) -> Knob {
        Knob {
            brokers,
            why_not,
            ..self
        }
    }

    /// Whether the broker family has this setting.
    pub fn applies_to(&self, broker: Broker) -> bool {
        self.brokers.contains(&broker)
    }

    /// `Ok` if the broker family has this setting; otherwise the one-line refusal:
    /// `visibility-timeout-ms: does not apply to broker kafka (Kafka has no visibility ...)`.
    pub fn check_broker(&self, broker: Broker) -> Result<(), ScenarioError> {
        if self.applies_to(broker) {
            return Ok(());
        }
        let reason = self
            .why_not
            .iter()
            .find(|(b, _)| *b == broker)
            .map_or(String::new(), |(_, why)| format!(" ({why})"));
        Err(self.error(format!("does not apply to broker {}{reason}", broker.key())))
    }
}

impl Knob {
    /// The knob's numeric value in a scenario (a choice's index for `Kind::Choice`).
    pub fn get(&self, s: &Scenario) -> f64 {
        (self.get)(s)
    }

    /// The value as text, as it appears in a URL or on the command line.
    pub fn get_text(&self, s: &Scenario) -> String {
        let v = self.get(s);
        match self.kind {
            Kind::Choice(names) => names[v as usize].to_string(),
            _ => format_number(v),
        }
    }

    /// Parses `text` and sets the knob, or says what is wrong without touching the scenario.
    pub fn set_text(&self, s: &mut Scenario, text: &str) -> Result<(), ScenarioError> {
        let value = self.parse(text)?;
        self.set_number(s, value)
    }

    /// `set_text` for a door that sets many settings at once and checks the pairs that bound
    /// each other once all are in (`Scenario::check_min_insync`), in whatever order they came.
    fn set_text_of_many(&self, s: &mut Scenario, text: &str) -> Result<(), ScenarioError> {
        let value = self.parse(text)?;
        self.check(value)?;
        (self.set)(s, value);
        Ok(())
    }

    /// The number a text stands for, as this knob reads it.
    fn parse(&self, text: &str) -> Result<f64, ScenarioError> {
        let text = text.trim();
        let value = match self.kind {
            Kind::Choice(names) => match names.iter().position(|n| *n == text) {
                Some(i) => i as f64,
                None => {
                    // Accept the aliases the enums know (acks=1, acks=-1).
                    let alias = if self.key == "acks" {
                        Acks::from_key(text).map(|a| a as usize as f64)
                    } else {
                        None
                    };
                    match alias {
                        Some(v) => v,
                        None => {
                            return Err(self.error(format!(
                                "must be one of {} (got {:?})",
                                names.join(", "),
                                clip(text)
                            )));
                        }
                    }
                }
            },
            _ => match text.parse::<f64>() {
                Ok(v) => v,
                Err(_) => {
                    return Err(self.error(format!("must be a number (got {:?})", clip(text))));
                }
            },
        };
        Ok(value)
    }

    /// Checks `value` against the knob's range and kind, then sets it. A single change (a
    /// slider, a flag) that would leave `min-insync-replicas` above `replication-factor` is
    /// refused too, naming both, and the scenario stays as it was.
    /// A setting the scenario's broker does not have is refused, whatever the value, as every
    /// door refuses it (`Scenario::refuse_inapplicable`).
    pub fn set_number(&self, s: &mut Scenario, value: f64) -> Result<(), ScenarioError> {
        self.check(value)?;
        self.check_broker(s.broker)?;
        self.set_number_for_any_broker(s, value)
    }

    /// `set_number` without the broker check, for `sample_scenario`, which draws the broker
    /// after some of the settings only other brokers have and puts those back afterwards.
    fn set_number_for_any_broker(&self, s: &mut Scenario, value: f64) -> Result<(), ScenarioError> {
        self.check(value)?;
        let before = self.get(s);
        (self.set)(s, value);
        if matches!(self.key, "min-insync-replicas" | "replication-factor")
            && s.min_insync_replicas > s.replication_factor
        {
            (self.set)(s, before);
            return Err(if self.key == "replication-factor" {
                self.error(format!(
                    "must be at least min-insync-replicas, {} (got {})",
                    s.min_insync_replicas,
                    format_number(value)
                ))
            } else {
                s.check_min_insync_of(value)
            });
        }
        if let Err(e) = s.check_combinations() {
            (self.set)(s, before);
            return Err(e);
        }
        Ok(())
    }

    /// Whether `value` is allowed for this knob.
    pub fn check(&self, value: f64) -> Result<(), ScenarioError> {
        if !value.is_finite() {
            return Err(self.error(format!("must be a finite number (got {value})")));
        }
        if matches!(self.kind, Kind::Count | Kind::Choice(_)) && value.fract() != 0.0 {
            return Err(self.error(format!(
                "must be a whole number (got {})",
                format_number(value)
            )));
        }
        if value < self.min || value > self.max {
            return Err(self.error(format!(
                "must be between {} and {}{} (got {})",
                format_number(self.min),
                format_number(self.max),
                if self.unit.is_empty() {
                    String::new()
                } else {
                    format!(" {}", self.unit)
                },
                format_number(value)
            )));
        }
        Ok(())
    }

    fn error(&self, message: String) -> ScenarioError {
        ScenarioError {
            key: self.key.to_string(),
            message,
        }
    }
}

/// What is wrong with one setting. The key is always named, so a page can show the message
/// next to the right control and a CLI can print it on one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub key: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// Prints a number without a trailing `.0`, as people write it in a URL, and always short:
/// whole numbers up to 2^53 in full (seeds), very large or very small ones with an exponent
/// (`1e300`, `5e-324`) rather than hundreds of digits. The text parses back to the same value.
pub fn format_number(v: f64) -> String {
    const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0; // 2^53
    if v.fract() == 0.0 && v.abs() < EXACT_INTEGERS {
        format!("{}", v as i64)
    } else if v.is_finite() && (v.abs() >= 1e16 || (v != 0.0 && v.abs() < 1e-6)) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// Keeps error messages one line long whatever the user pasted.
fn clip(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// The largest seed that survives a round trip through a JavaScript number.
pub const MAX_SEED: u64 = (1 << 53) - 1;

macro_rules! knob {
    ($key:literal, $json:literal, $field:ident, $kind:expr, $group:expr, $label:literal,
     $unit:literal, $min:expr, $max:expr, $step:expr, $help:literal) => {
        Knob {
            key: $key,
            json_key: $json,
            label: $label,
            help: $help,
            group: $group,
            kind: $kind,
            unit: $unit,
            min: $min as f64,
            max: $max as f64,
            step: $step as f64,
            brokers: EVERY,
            why_not: &[],
            get: |s| s.$field as f64,
            set: |s, v| s.$field = v as _,
        }
    };
}

const MODES: &[&str] = &[
    "at-most-once",
    "at-least-once",
    "idempotent-consumer",
    "exactly-once",
    "outbox",
];
const ACKS: &[&str] = &["leader", "all"];
const ISOLATION: &[&str] = &["read-committed", "read-uncommitted"];
/// `Broker::ALL`'s keys, in order, so that a broker's index is its choice index.
const BROKERS: &[&str] = &["kafka", "rabbitmq", "sqs", "sqs-fifo"];
/// `Idempotence::ALL`'s keys, in order.
const IDEMPOTENCE: &[&str] = &["auto", "on", "off"];
/// `QueueType::ALL`'s keys, in order.
const QUEUE_TYPES: &[&str] = &["classic", "quorum"];
/// The names of a switch, off first so that its index is the boolean.
pub const OFF_ON: &[&str] = &["off", "on"];

/// A setting that is on or off: a choice of `off` and `on`, a `bool` in the scenario.
macro_rules! switch {
    ($key:literal, $json:literal, $field:ident, $group:expr, $label:literal, $help:literal) => {
        Knob {
            key: $key,
            json_key: $json,
            label: $label,
            help: $help,
            group: $group,
            kind: Choice(OFF_ON),
            unit: "",
            min: 0.0,
            max: 1.0,
            step: 1.0,
            brokers: EVERY,
            why_not: &[],
            get: |s| s.$field as u8 as f64,
            set: |s, v| s.$field = v != 0.0,
        }
    };
}

use Group::*;
use Kind::*;

static KNOBS: &[Knob] = &[
    Knob {
        key: "mode",
        json_key: "mode",
        label: "Mode",
        help: "Which delivery mechanism producer, broker and consumer use.",
        group: Load,
        kind: Choice(MODES),
        unit: "",
        min: 0.0,
        max: 4.0,
        step: 1.0,
        brokers: EVERY,
        why_not: &[],
        get: |s| s.mode as usize as f64,
        set: |s, v| s.mode = Mode::ALL[v as usize],
    },
    knob!(
        "seed",
        "seed",
        seed,
        Count,
        Load,
        "Seed",
        "",
        0,
        MAX_SEED,
        1,
        "Every random decision derives from it: same seed, same run."
    ),
    // Producer side.
    knob!(
        "publish-loss",
        "publishLoss",
        publish_loss,
        Probability,
        Producer,
        "Publish lost",
        "",
        0,
        1,
        0.01,
        "A publish from producer to broker is lost on the network."
    ),
    knob!(
        "publish-ack-loss",
        "publishAckLoss",
        publish_ack_loss,
        Probability,
        Producer,
        "Publish ack lost",
        "",
        0,
        1,
        0.01,
        "The broker stored the message but its ack to the producer is lost, so the producer retries."
    ),
    knob!(
        "producer-crash",
        "producerCrash",
        producer_crash,
        Probability,
        Producer,
        "Producer crash (dual write)",
        "",
        0,
        1,
        0.01,
        "The producer crashes after its own database write and before publishing."
    ),
    knob!(
        "ack-timeout-ms",
        "ackTimeoutMs",
        ack_timeout_ms,
        Millis,
        Producer,
        "Ack timeout",
        "ms",
        1,
        60_000,
        1,
        "How long the producer waits for an ack, and an exactly-once consumer for its commit's answer, before retrying; doubles on each retry."
    ),
    knob!(
        "max-retries",
        "maxRetries",
        max_retries,
        Count,
        Producer,
        "Max retries",
        "",
        0,
        100,
        1,
        "Publish retries before the producer gives up and reports the failure (Kafka has no dead-letter queue); the outbox relay and exactly-once's transactional producer never give up."
    ),
    knob!(
        "outbox-poll-ms",
        "outboxPollMs",
        outbox_poll_ms,
        Millis,
        Producer,
        "Outbox poll interval",
        "ms",
        1,
        10_000,
        1,
        "How often the outbox relay looks for rows to publish."
    ),
    // Broker.
    knob!(
        "broker-crash",
        "brokerCrash",
        broker_crash,
        Probability,
        Broker,
        "Broker crash",
        "",
        0,
        1,
        0.001,
        "The partition leader crashes right after appending a message, before replicating it (Kafka); the RabbitMQ node crashes after receiving it, before writing it to disk, and every connection closes; the SQS endpoint fails before storing it and stays unavailable for failover-ms."
    ),
    Knob {
        key: "acks",
        json_key: "acks",
        label: "Acks",
        help: "leader: ack once the leader has the message; all: once every in-sync replica has it (with followers behind, maybe the leader alone: see min-insync-replicas).",
        group: Broker,
        kind: Choice(ACKS),
        unit: "",
        min: 0.0,
        max: 1.0,
        step: 1.0,
        brokers: KAFKA,
        why_not: &[(Broker::RabbitMq, "RabbitMQ has no acks setting: a publisher confirm comes once a classic queue has the message on disk, or once a majority of a quorum queue's replicas have it"), (Broker::Sqs, "SQS has no acks setting: SendMessage succeeds once the queue has stored the message"), (Broker::SqsFifo, "SQS has no acks setting: SendMessage succeeds once the queue has stored the message")],
        get: |s| s.acks as usize as f64,
        set: |s, v| s.acks = if v == 0.0 { Acks::Leader } else { Acks::All },
    },
    knob!(
        "replication-factor",
        "replicationFactor",
        replication_factor,
        Count,
        Broker,
        "Replication factor",
        "",
        1,
        5,
        1,
        "Copies of each partition, leader included."
    )
    .only_on(KAFKA, &[(Broker::RabbitMq, "RabbitMQ's replication is its queue type (queue-type): a classic queue lives on one node, a quorum queue keeps three Raft replicas"), (Broker::Sqs, "SQS stores every message on several servers itself; how many is not a setting"), (Broker::SqsFifo, "SQS stores every message on several servers itself; how many is not a setting")]),
    knob!(
        "replication-ms",
        "replicationMs",
        replication_ms,
        Millis,
        Broker,
        "Replication time",
        "ms",
        0,
        1_000,
        0.5,
        "Time to copy an append to the followers (or flush it, with one replica); on RabbitMQ, to write a message to disk before its publisher confirm; on SQS, to store it before SendMessage succeeds."
    ),
    knob!(
        "failover-ms",
        "failoverMs",
        failover_ms,
        Millis,
        Broker,
        "Failover time",
        "ms",
        0,
        60_000,
        10,
        "How long the partition is unavailable after its leader crashes (Kafka), the node takes to restart (RabbitMQ), or the SQS endpoint stays unavailable."
    ),
    knob!(
        "visibility-timeout-ms",
        "visibilityTimeoutMs",
        visibility_timeout_ms,
        Millis,
        Broker,
        "Visibility timeout",
        "ms",
        1,
        600_000,
        10,
        "SQS: how long a received message stays invisible to other receives. Not deleted by then, it is visible again and received again, even if its first consumer is still working on it (SQS takes whole seconds, 30 s by default; this simulation's times are scaled down)."
    )
    .only_on(
        SQS,
        &[
            (
                Broker::Kafka,
                "Kafka has no visibility timeout: a consumer's progress is its committed offset, and whoever reads the partition next starts from it",
            ),
            (
                Broker::RabbitMq,
                "RabbitMQ has no visibility timeout: an unacknowledged delivery comes back only when its consumer's channel or connection closes",
            ),
        ],
    ),
    // Consumer side.
    knob!(
        "crash-before-process",
        "crashBeforeProcess",
        crash_before_process,
        Probability,
        Consumer,
        "Crash before processing",
        "",
        0,
        1,
        0.01,
        "The consumer crashes after receiving a message, before applying it."
    ),
    knob!(
        "crash-after-process",
        "crashAfterProcess",
        crash_after_process,
        Probability,
        Consumer,
        "Crash after processing",
        "",
        0,
        1,
        0.01,
        "The consumer crashes after applying a message, before its offset or transaction commit (Kafka: its partition is read again from the committed offset) or its basic.ack (RabbitMQ: the broker requeues it) or DeleteMessage (SQS: it comes back after the visibility timeout)."
    ),
    knob!(
        "ack-loss",
        "ackLoss",
        ack_loss,
        Probability,
        Consumer,
        "Ack / commit lost",
        "",
        0,
        1,
        0.01,
        "Kafka: an offset commit or transaction commit is lost on its way to the group coordinator; commits are cumulative, so the next one covers it. RabbitMQ: the consumer's connection drops before a basic.ack arrives, so the broker requeues every delivery it had unacknowledged. SQS: a DeleteMessage is lost, so the message comes back when its visibility timeout passes."
    ),
    knob!(
        "processing-ms",
        "processingMs",
        processing_ms,
        Millis,
        Consumer,
        "Processing time",
        "ms",
        0,
        1_000,
        0.1,
        "Time to apply one payment to the ledger."
    ),
    knob!(
        "max-poll",
        "maxPoll",
        max_poll,
        Count,
        Consumer,
        "Records per poll",
        "",
        1,
        1_000,
        1,
        "Records fetched per poll; with exactly-once, the most records per transaction."
    )
    .only_on(KAFKA, &[(Broker::RabbitMq, "RabbitMQ pushes deliveries instead of answering polls; prefetch (basic.qos) bounds how many a consumer holds unacknowledged"), (Broker::Sqs, "an SQS ReceiveMessage returns at most 10 messages: see receive-batch"), (Broker::SqsFifo, "an SQS ReceiveMessage returns at most 10 messages: see receive-batch")]),
    knob!(
        "restart-ms",
        "restartMs",
        restart_ms,
        Millis,
        Consumer,
        "Restart time",
        "ms",
        1,
        600_000,
        10,
        "Time until a crashed consumer, or a restarted producer or outbox relay, is back."
    ),
    knob!(
        "session-timeout-ms",
        "sessionTimeoutMs",
        session_timeout_ms,
        Millis,
        Consumer,
        "Session timeout",
        "ms",
        1,
        600_000,
        10,
        "Time until the group notices a silent consumer and hands its partitions to the others (Kafka session.timeout.ms, 45 s by default; this simulation's times are scaled down)."
    )
    .only_on(KAFKA, &[(Broker::RabbitMq, "RabbitMQ has no consumer group: a crashed consumer's connection closes and the broker requeues its unacknowledged deliveries at once"), (Broker::Sqs, "SQS has no consumer group: a crashed consumer's messages come back when their visibility timeout passes"), (Broker::SqsFifo, "SQS has no consumer group: a crashed consumer's messages come back when their visibility timeout passes")]),
    knob!(
        "commit-interval-ms",
        "commitIntervalMs",
        commit_interval_ms,
        Millis,
        Consumer,
        "Commit interval",
        "ms",
        0,
        600_000,
        10,
        "Kafka's auto.commit.interval.ms: how often a consumer commits its offsets, inside its poll; 0 commits after each poll's records are processed. A crash replays everything processed since the last commit."
    )
    .only_on(KAFKA, &[(Broker::RabbitMq, "RabbitMQ has no offsets to commit: the consumer acknowledges each delivery (basic.ack)"), (Broker::Sqs, "SQS has no offsets to commit: the consumer deletes each message it has processed (DeleteMessage)"), (Broker::SqsFifo, "SQS has no offsets to commit: the consumer deletes each message it has processed (DeleteMessage)")]),
    Knob {
        key: "isolation",
        json_key: "isolation",
        label: "Isolation",
        help: "Kafka's isolation.level for exactly-once's output: read-committed skips records of aborted transactions; read-uncommitted applies them, so an aborted and retried transaction charges twice.",
        group: Consumer,
        kind: Choice(ISOLATION),
        unit: "",
        min: 0.0,
        max: 1.0,
        step: 1.0,
        brokers: KAFKA,
        why_not: &[(Broker::RabbitMq, "a RabbitMQ queue never holds an uncommitted message to read or skip: a channel transaction's (tx.select) publishes reach the queue only when it commits"), (Broker::Sqs, "SQS has no transactions over its queue, so nothing is uncommitted to read or skip"), (Broker::SqsFifo, "SQS has no transactions over its queue, so nothing is uncommitted to read or skip")],
        get: |s| s.isolation as usize as f64,
        set: |s, v| {
            s.isolation = if v == 0.0 {
                Isolation::ReadCommitted
            } else {
                Isolation::ReadUncommitted
            }
        },
    },
    knob!(
        "dedup-window-ms",
        "dedupWindowMs",
        dedup_window_ms,
        Millis,
        Consumer,
        "Dedup window",
        "ms",
        0,
        86_400_000,
        100,
        "How long the dedup store remembers a processed message ID."
    ),
    // Network.
    knob!(
        "latency-ms",
        "latencyMs",
        latency_ms,
        Millis,
        Network,
        "Latency",
        "ms",
        0,
        10_000,
        0.1,
        "One-way latency of every network hop."
    ),
    knob!(
        "jitter-ms",
        "jitterMs",
        jitter_ms,
        Millis,
        Network,
        "Jitter",
        "ms",
        0,
        10_000,
        0.1,
        "Random spread added to or taken from each hop's latency."
    ),
    knob!(
        "delivery-loss",
        "deliveryLoss",
        delivery_loss,
        Probability,
        Network,
        "Delivery lost",
        "",
        0,
        1,
        0.01,
        "A delivery from broker to consumer is lost on the network (SQS: a ReceiveMessage response; its messages stay invisible until their visibility timeout passes, their receives counted)."
    )
    .only_on(KAFKA_SQS, &[(Broker::RabbitMq, "RabbitMQ pushes deliveries over the consumer's TCP connection, which never loses one alone; a lost connection is what ack-loss models")]),
    knob!(
        "duplicate",
        "duplicate",
        duplicate,
        Probability,
        Network,
        "Network duplicate",
        "",
        0,
        1,
        0.01,
        "A publish or a delivery arrives twice, copied on the way. TCP never repeats a request, so Kafka's and RabbitMQ's own connections never do this: it stands for a layer in between that resends (a retrying proxy or gateway)."
    ),
    knob!(
        "delay",
        "delay",
        delay,
        Probability,
        Network,
        "Delay",
        "",
        0,
        1,
        0.01,
        "A message on any hop is held back by the extra delay."
    ),
    knob!(
        "delay-ms",
        "delayMs",
        delay_ms,
        Millis,
        Network,
        "Extra delay",
        "ms",
        0,
        60_000,
        10,
        "How long a delayed message is held back."
    ),
    // Load.
    knob!(
        "messages",
        "messages",
        messages,
        Count,
        Load,
        "Messages",
        "",
        1,
        2_000_000,
        100,
        "Payments to publish."
    ),
    knob!(
        "publish-rate",
        "publishRate",
        publish_rate,
        Rate,
        Load,
        "Publish rate",
        "msg/s",
        1,
        1_000_000,
        100,
        "Payments published per second of simulated time, over all producers."
    ),
    knob!(
        "producers",
        "producers",
        producers,
        Count,
        Load,
        "Producers",
        "",
        1,
        64,
        1,
        "Producer instances; payments are spread over them."
    ),
    knob!(
        "consumers",
        "consumers",
        consumers,
        Count,
        Load,
        "Consumers",
        "",
        0,
        64,
        1,
        "Consumers in the group; with none, nothing reads the topic and the run stalls."
    ),
    knob!(
        "partitions",
        "partitions",
        partitions,
        Count,
        Load,
        "Partitions",
        "",
        1,
        256,
        1,
        "Partitions of the topic; each is read by one consumer at a time."
    )
    .only_on(KAFKA, &[(Broker::RabbitMq, "a RabbitMQ queue is one ordered queue shared by competing consumers, not a partitioned log"), (Broker::Sqs, "an SQS queue is one queue shared by competing consumers, not a partitioned log"), (Broker::SqsFifo, "an SQS FIFO queue orders messages by message group (one per account), not by partition")]),
    knob!(
        "accounts",
        "accounts",
        accounts,
        Count,
        Load,
        "Customer accounts",
        "",
        1,
        10_000,
        1,
        "Accounts the payments are spread over."
    ),
    // Costs.
    knob!(
        "txn-write-ms",
        "txnWriteMs",
        txn_write_ms,
        Millis,
        Costs,
        "Transaction write",
        "ms",
        0,
        1_000,
        0.1,
        "Transaction log write, paid by each exactly-once commit and each outbox write."
    )
    .only_on(KAFKA, &[(Broker::RabbitMq, "RabbitMQ has no transaction that spans the queue and your database, so it does not run exactly-once"), (Broker::Sqs, "SQS has no transaction that spans the queue and your database, so it does not run exactly-once"), (Broker::SqsFifo, "SQS has no transaction that spans the queue and your database, so it does not run exactly-once")]),
    knob!(
        "txn-ack-ms",
        "txnAckMs",
        txn_ack_ms,
        Millis,
        Costs,
        "Transaction ack",
        "ms",
        0,
        1_000,
        0.1,
        "Acknowledgement of a transaction commit."
    )
    .only_on(KAFKA, &[(Broker::RabbitMq, "RabbitMQ has no transaction that spans the queue and your database, so it does not run exactly-once"), (Broker::Sqs, "SQS has no transaction that spans the queue and your database, so it does not run exactly-once"), (Broker::SqsFifo, "SQS has no transaction that spans the queue and your database, so it does not run exactly-once")]),
    knob!(
        "dedup-lookup-ms",
        "dedupLookupMs",
        dedup_lookup_ms,
        Millis,
        Costs,
        "Dedup look-up",
        "ms",
        0,
        100,
        0.01,
        "Time of one look-up in the dedup store."
    ),
    // Bounds.
    knob!(
        "horizon-ms",
        "horizonMs",
        horizon_ms,
        Millis,
        Bounds,
        "Horizon",
        "ms",
        1_000,
        3_600_000,
        1_000,
        "Simulated time after which the run stops, whatever is still in flight."
    ),
    // The exactly-once trap (`external.rs`) and zombie consumers (`zombie.rs`). Kept last in
    // the table so that the sampler's draws for the knobs above are what they always were.
    switch!(
        "external-effect",
        "externalEffect",
        external_effect,
        Consumer,
        "External charge",
        "Each payment also charges the card through an external API, outside the broker's transaction."
    ),
    switch!(
        "idempotency-key",
        "idempotencyKey",
        idempotency_key,
        Consumer,
        "Idempotency key",
        "The external call carries the message ID as an idempotency key: the provider charges each key once."
    ),
    knob!(
        "consumer-stall",
        "consumerStall",
        consumer_stall,
        Probability,
        Consumer,
        "Consumer stall (GC pause)",
        "",
        0,
        1,
        0.001,
        "The consumer freezes after processing a record, before its offset or transaction commit, and later wakes up."
    )
    .only_on(KAFKA, &[(Broker::RabbitMq, "a stalled RabbitMQ consumer keeps its deliveries unacknowledged until consumer_timeout (30 min by default) closes its channel; the playground does not model that timeout yet"), (Broker::Sqs, "a stalled SQS consumer is a slow one: the playground shows it with processing-ms longer than visibility-timeout-ms"), (Broker::SqsFifo, "a stalled SQS consumer is a slow one: the playground shows it with processing-ms longer than visibility-timeout-ms")]),
    knob!(
        "stall-ms",
        "stallMs",
        stall_ms,
        Millis,
        Consumer,
        "Stall length",
        "ms",
        1,
        600_000,
        10,
        "How long a stall lasts; past the session timeout the group gives its partitions away."
    )
    .only_on(KAFKA, &[(Broker::RabbitMq, "a stalled RabbitMQ consumer keeps its deliveries unacknowledged until consumer_timeout (30 min by default) closes its channel; the playground does not model that timeout yet"), (Broker::Sqs, "a stalled SQS consumer is a slow one: the playground shows it with processing-ms longer than visibility-timeout-ms"), (Broker::SqsFifo, "a stalled SQS consumer is a slow one: the playground shows it with processing-ms longer than visibility-timeout-ms")]),
    switch!(
        "fencing",
        "fencing",
        fencing,
        Broker,
        "Fencing",
        "Exactly-once: reject a commit from a consumer whose records were handed to another (a zombie)."
    )
    .only_on(KAFKA, &[(Broker::RabbitMq, "RabbitMQ has no consumer group generations to fence a zombie with"), (Broker::Sqs, "SQS has no consumer generations to fence a slow consumer with: its DeleteMessage still succeeds"), (Broker::SqsFifo, "SQS has no consumer generations to fence a slow consumer with: its DeleteMessage still succeeds")]),
    knob!(
        "external-latency-ms",
        "externalLatencyMs",
        external_latency_ms,
        Millis,
        Costs,
        "External call",
        "ms",
        0,
        60_000,
        1,
        "Round trip of the external charge, paid per payment while the consumer waits."
    ),
    // Replication (`brokers/kafka/replication.rs`): last in the table, like the settings
    // above, so the sampler's draws for the knobs before them do not move.
    knob!(
        "replica-lag",
        "replicaLag",
        replica_lag,
        Probability,
        Broker,
        "Replica lag",
        "",
        0,
        1,
        0.001,
        "After an append, a follower falls out of the in-sync replicas (it stops copying) for the replica lag time."
    )
    .only_on(KAFKA, &[(Broker::RabbitMq, "RabbitMQ has no in-sync replica set for a follower to fall out of: a classic queue lives on one node, a quorum queue (queue-type=quorum) commits by Raft majority"), (Broker::Sqs, "SQS replicates inside the service: no follower's lag is a setting"), (Broker::SqsFifo, "SQS replicates inside the service: no follower's lag is a setting")]),
    knob!(
        "replica-lag-ms",
        "replicaLagMs",
        replica_lag_ms,
        Millis,
        Broker,
        "Replica lag time",
        "ms",
        1,
        600_000,
        10,
        "How long a lagging follower stays out of the in-sync replicas before it has caught up (Kafka removes it after replica.lag.time.max.ms)."
    )
    .only_on(KAFKA, &[(Broker::RabbitMq, "RabbitMQ has no in-sync replica set for a follower to fall out of: a classic queue lives on one node, a quorum queue (queue-type=quorum) commits by Raft majority"), (Broker::Sqs, "SQS replicates inside the service: no follower's lag is a setting"), (Broker::SqsFifo, "SQS replicates inside the service: no follower's lag is a setting")]),
    knob!(
        "min-insync-replicas",
        "minInsyncReplicas",
        min_insync_replicas,
        Count,
        Broker,
        "Min in-sync replicas",
        "",
        1,
        5,
        1,
        "With acks=all, a partition with fewer in-sync replicas refuses writes (NotEnoughReplicas); at most the replication factor (Kafka min.insync.replicas)."
    )
    .only_on(KAFKA, &[(Broker::RabbitMq, "RabbitMQ has no in-sync replica set to size: a classic queue lives on one node, a quorum queue (queue-type=quorum) commits by Raft majority"), (Broker::Sqs, "SQS replicates inside the service: there is no in-sync replica set to size"), (Broker::SqsFifo, "SQS replicates inside the service: there is no in-sync replica set to size")]),
    switch!(
        "unclean-election",
        "uncleanElection",
        unclean_election,
        Broker,
        "Unclean leader election",
        "When the last in-sync replica dies, a lagging follower may lead: the partition is back at once but loses what that follower lacks (Kafka unclean.leader.election.enable)."
    )
    .only_on(KAFKA, &[(Broker::RabbitMq, "RabbitMQ has no unclean election to allow: a classic queue lives on one node, and a quorum queue (queue-type=quorum) elects its leader by Raft among the replicas that have every committed message"), (Broker::Sqs, "SQS replicates inside the service: there is no leader election to allow"), (Broker::SqsFifo, "SQS replicates inside the service: there is no leader election to allow")]),
    // The producer (issue 24): Kafka's idempotent producer, `max.in.flight` and restarts.
    Knob {
        key: "producer-idempotence",
        json_key: "producerIdempotence",
        label: "Idempotent producer",
        help: "Kafka enable.idempotence: a producer ID, an epoch and per-partition sequence numbers let the broker drop retries. auto: on exactly when acks=all (Kafka >= 3.0); on is refused with acks=leader. At-most-once (acks=0) never is, exactly-once always is.",
        group: Producer,
        kind: Choice(IDEMPOTENCE),
        unit: "",
        min: 0.0,
        max: 2.0,
        step: 1.0,
        brokers: KAFKA,
        why_not: &[(Broker::RabbitMq, "RabbitMQ has no idempotent producer: a republish after a lost confirm is a second message, which the consumer must deduplicate"), (Broker::Sqs, "an SQS standard queue has no idempotent send: a resend after a lost response is a second message"), (Broker::SqsFifo, "SQS FIFO deduplicates sends by deduplication ID within five minutes, always on; there is no producer setting")],
        get: |s| s.producer_idempotence as usize as f64,
        set: |s, v| s.producer_idempotence = Idempotence::ALL[v as usize],
    },
    knob!(
        "max-in-flight",
        "maxInFlight",
        max_in_flight,
        Count,
        Producer,
        "Max in flight",
        "",
        1,
        5,
        1,
        "Kafka max.in.flight.requests.per.connection: unacknowledged produce requests per connection, modelled per producer and partition since each partition here has its own leader (an idempotent producer's request carries a batch of up to 16 records); more wait in the producer. Above 1, without idempotence, a retried record can land behind a later one."
    )
    .only_on(KAFKA, &[(Broker::RabbitMq, "RabbitMQ has no idempotent producer whose in-flight requests it bounds: publishes stream on the channel, each confirmed on its own"), (Broker::Sqs, "SQS has no idempotent producer whose in-flight requests it bounds: each SendMessage is answered on its own"), (Broker::SqsFifo, "SQS has no idempotent producer whose in-flight requests it bounds: each SendMessage is answered on its own")]),
    knob!(
        "producer-restart",
        "producerRestart",
        producer_restart,
        Probability,
        Producer,
        "Producer restart",
        "",
        0,
        1,
        0.001,
        "Per message: its producer dies after sending it, before its ack, and restarts after the restart time, resending every record it has no ack for. Without a transactional.id it gets a new producer ID, so the broker cannot recognise the resends."
    ),
    knob!(
        "relay-crash",
        "relayCrash",
        relay_crash,
        Probability,
        Producer,
        "Outbox relay crash",
        "",
        0,
        1,
        0.001,
        "Outbox, per row: the relay dies after the row's publish was acked, before marking it sent, and publishes it again when it restarts."
    ),
    knob!(
        "transaction-timeout-ms",
        "transactionTimeoutMs",
        transaction_timeout_ms,
        Millis,
        Producer,
        "Transaction timeout",
        "ms",
        1,
        900_000,
        100,
        "Kafka transaction.timeout.ms (exactly-once): the coordinator aborts a transaction left open longer and fences the instance that opened it, so a consumer stalled past it, or a producer down longer, cannot commit it."
    )
    .only_on(KAFKA, &[(Broker::RabbitMq, "RabbitMQ has no transaction coordinator"), (Broker::Sqs, "SQS has no transaction coordinator"), (Broker::SqsFifo, "SQS has no transaction coordinator")]),
    // Last in the table, so that the sampler's draws for the knobs above stay what they were.
    // Setting it resets every setting the new broker does not have (`Scenario::set_broker`).
    Knob {
        key: "broker",
        json_key: "broker",
        label: "Broker",
        help: "Which real system the broker models (kafka: Apache Kafka's partitioned log and consumer group; rabbitmq: a classic queue with pushed deliveries; sqs and sqs-fifo: Amazon SQS's polled queues); a setting that system does not have is refused.",
        group: Load,
        kind: Choice(BROKERS),
        unit: "",
        min: 0.0,
        max: (BROKERS.len() - 1) as f64,
        step: 1.0,
        brokers: &Broker::ALL,
        why_not: &[],
        get: |s| s.broker as usize as f64,
        set: |s, v| s.set_broker(Broker::ALL[v as usize]),
    },
    // After `broker`, for the same reason.
    knob!(
        "prefetch",
        "prefetch",
        prefetch,
        Count,
        Consumer,
        "Prefetch",
        "",
        0,
        1_000,
        1,
        "RabbitMQ basic.qos: the most unacknowledged deliveries the broker pushes to one consumer (0 = unlimited). An auto-ack consumer (at-most-once) is not limited: the broker pushes it everything."
    )
    .only_on(
        &[Broker::RabbitMq],
        &[(
            Broker::Kafka,
            "Kafka has no prefetch: a consumer fetches up to max-poll records from its position",
        ), (Broker::Sqs, "SQS has no prefetch: a consumer polls and receives up to receive-batch messages"), (Broker::SqsFifo, "SQS has no prefetch: a consumer polls and receives up to receive-batch messages")],
    ),
    // After `broker` too: SQS's own settings.
    knob!(
        "receive-batch",
        "receiveBatch",
        receive_batch,
        Count,
        Consumer,
        "Receive batch",
        "",
        1,
        10,
        1,
        "SQS ReceiveMessage MaxNumberOfMessages: the most messages one receive returns (SQS allows 1 to 10). Each becomes invisible for the visibility timeout at once, so the last of a batch waits behind the others' processing."
    )
    .only_on(
        SQS,
        &[
            (Broker::Kafka, "Kafka fetches up to max-poll records: see max-poll"),
            (Broker::RabbitMq, "RabbitMQ pushes deliveries instead of answering receives; prefetch (basic.qos) bounds how many a consumer holds unacknowledged"),
        ],
    ),
    knob!(
        "max-receives",
        "maxReceives",
        max_receives,
        Count,
        Broker,
        "Max receives",
        "",
        0,
        1_000,
        1,
        "SQS redrive policy maxReceiveCount: a message received this many times moves to the dead-letter queue at its next receive (0 = no redrive policy). SQS advises against 1: a receive can count without reaching the consumer."
    )
    .only_on(
        SQS,
        &[
            (Broker::Kafka, "Kafka has no receive count or dead-letter queue: a partition is read again from its committed offset as often as it takes"),
            (Broker::RabbitMq, "RabbitMQ counts returns, not receives: a quorum queue's limit is delivery-limit, and a classic queue has none"),
        ],
    ),
    knob!(
        "extra-copy",
        "extraCopy",
        extra_copy,
        Probability,
        Broker,
        "Extra copy",
        "",
        0,
        0.1,
        0.0001,
        "SQS standard queue: the chance that a DeleteMessage misses a copy of the message kept on a server that was unavailable, so the message is received again later. SQS documents that a standard queue may deliver a message more than once."
    )
    .only_on(
        &[Broker::Sqs],
        &[
            (Broker::Kafka, "Kafka keeps one log per partition: a record is read again only from a committed offset behind it"),
            (Broker::RabbitMq, "RabbitMQ keeps one copy of a classic queue's message: an acked message is gone"),
            (Broker::SqsFifo, "an SQS FIFO queue introduces no duplicates of its own: a message comes back only if it is not deleted within the visibility timeout"),
        ],
    ),
    Knob {
        key: "queue-type",
        json_key: "queueType",
        label: "Queue type",
        help: "RabbitMQ x-queue-type: classic (one node, confirms after the disk write) or quorum (Raft-replicated on three nodes, confirms once a majority has the message, and may dead-letter after delivery-limit).",
        group: Broker,
        kind: Choice(QUEUE_TYPES),
        unit: "",
        min: 0.0,
        max: 1.0,
        step: 1.0,
        brokers: &[Broker::RabbitMq],
        why_not: &[
            (
                Broker::Kafka,
                "Kafka has no queue types: a topic's partitions are replicated logs (see replication-factor)",
            ),
            (
                Broker::Sqs,
                "SQS chooses standard or FIFO by the broker setting itself (sqs, sqs-fifo)",
            ),
            (
                Broker::SqsFifo,
                "SQS chooses standard or FIFO by the broker setting itself (sqs, sqs-fifo)",
            ),
        ],
        get: |s| s.queue_type as usize as f64,
        set: |s, v| s.queue_type = crate::scenario::QueueType::ALL[v as usize],
    },
    knob!(
        "delivery-limit",
        "deliveryLimit",
        delivery_limit,
        Count,
        Broker,
        "Delivery limit",
        "",
        0,
        100,
        1,
        "A quorum queue's x-delivery-limit: a message returned more often than this (its consumer's channel closed while holding it) is dead-lettered (to its dead-letter exchange, which this model assumes; without one it is dropped) instead of delivered again; 0 = no limit (RabbitMQ 3.x; 4.0 defaults to 20). Classic queues have none."
    )
    .only_on(
        &[Broker::RabbitMq],
        &[
            (
                Broker::Kafka,
                "Kafka never gives up on a record: a consumer reads it again from its committed offset however often it fails",
            ),
            (
                Broker::Sqs,
                "SQS counts receives, not returns: its redrive policy's maxReceiveCount is max-receives",
            ),
            (
                Broker::SqsFifo,
                "SQS counts receives, not returns: its redrive policy's maxReceiveCount is max-receives",
            ),
        ],
    ),
];

/// The query key that names a preset to start from (`?preset=dual-write`).
pub const PRESET_KEY: &str = "preset";

/// Every knob, in the order the page shows them within a group.
pub fn knobs() -> &'static [Knob] {
    KNOBS
}

/// The knob for a key, given in kebab-case (`publish-loss`) or camelCase (`publishLoss`).
pub fn knob(key: &str) -> Option<&'static Knob> {
    knob_in(KNOBS, key)
}

fn knob_in(table: &'static [Knob], key: &str) -> Option<&'static Knob> {
    table.iter().find(|k| k.key == key || k.json_key == key)
}

fn unknown_key(key: &str) -> ScenarioError {
    ScenarioError {
        key: clip(key),
        message: "is not a scenario setting".into(),
    }
}

impl Scenario {
    /// Sets one setting from text, or says what is wrong and leaves the scenario unchanged.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ScenarioError> {
        self.set_in(KNOBS, key, value, true).map(|_| ())
    }

    /// `set` through `table`; returns the knob that was set (none for the script).
    /// `alone`: the one change (a slider, a flag), checked against the rest of the scenario at
    /// once; otherwise one key of many (a query), whose cross-checks wait for the others.
    fn set_in(
        &mut self,
        table: &'static [Knob],
        key: &str,
        value: &str,
        alone: bool,
    ) -> Result<Option<&'static Knob>, ScenarioError> {
        if key == script::SCRIPT_KEY {
            return self.set_script_text(value).map(|_| None);
        }
        let k = knob_in(table, key).ok_or_else(|| unknown_key(key))?;
        if alone {
            k.set_text(self, value)?;
        } else {
            // Settings checked against one another wait for every key
            // (`check_min_insync_given`).
            k.set_text_of_many(self, value)?;
        }
        Ok(Some(k))
    }

    /// Chooses the broker family, and puts every setting it does not have back to its
    /// default, so that a scenario never carries a value its broker would ignore.
    pub fn set_broker(&mut self, broker: Broker) {
        self.broker = broker;
        let defaults = Scenario::default();
        for k in KNOBS.iter().filter(|k| !k.applies_to(broker)) {
            (k.set)(self, k.get(&defaults));
        }
    }

    /// `set_broker` for a person switching brokers (the page's picker): a mode the new broker
    /// refuses also falls back to the default mode, which every broker runs. The doors that
    /// read a whole input (URL, JSON, flags) use `set_broker` and refuse the pair instead.
    pub fn switch_broker(&mut self, broker: Broker) {
        self.set_broker(broker);
        if broker.refuses(self.mode).is_some() {
            self.mode = Scenario::default().mode;
        }
    }

    /// Refuses each of `given` (the settings an input named explicitly, whatever their value)
    /// that the scenario's broker does not have: one error per setting, naming it and the
    /// broker, and the setting back at its default. The other settings are kept. Every door
    /// calls it once all of its input is in, so `broker` may come before or after them.
    pub fn refuse_inapplicable(&mut self, given: &[&Knob]) -> Vec<ScenarioError> {
        let defaults = Scenario::default();
        let mut errors: Vec<ScenarioError> = Vec::new();
        for k in given {
            if let Err(e) = k.check_broker(self.broker) {
                (k.set)(self, k.get(&defaults));
                if !errors.iter().any(|seen| seen.key == e.key) {
                    errors.push(e);
                }
            }
        }
        errors
    }

    /// One setting as text.
    pub fn get(&self, key: &str) -> Option<String> {
        if key == script::SCRIPT_KEY {
            return Some(script::format(&self.script));
        }
        knob(key).map(|k| k.get_text(self))
    }

    /// Replaces the script with the compact text (`2s:crash-broker;...`), checked against
    /// this scenario; on error the scenario is unchanged.
    pub fn set_script_text(&mut self, text: &str) -> Result<(), ScenarioError> {
        let parsed = script::parse(text)?;
        self.set_script(parsed)
    }

    /// Replaces the script, checked against this scenario; on error the scenario is unchanged.
    pub fn set_script(&mut self, faults: Vec<ScriptedFault>) -> Result<(), ScenarioError> {
        let previous = std::mem::replace(&mut self.script, faults);
        if let Err(e) = script::check(self) {
            self.script = previous;
            return Err(e);
        }
        Ok(())
    }

    /// Checks every setting against its range, then the settings that bound one another and
    /// the combinations the scenario refuses.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        self.validate_in(KNOBS)
    }

    /// `validate` against `table`: every value in its range, and every setting the broker does
    /// not have at its default (the doors refuse it; this catches a scenario built in code).
    fn validate_in(&self, table: &'static [Knob]) -> Result<(), ScenarioError> {
        let defaults = Scenario::default();
        for k in table {
            k.check(k.get(self))?;
            if k.get(self) != k.get(&defaults) {
                k.check_broker(self.broker)?;
            }
        }
        self.check_min_insync()?;
        self.check_combinations()?;
        script::check(self)
    }

    /// `min-insync-replicas` counts replicas, so it cannot exceed `replication-factor`
    /// (Kafka would refuse every acks=all write). Checked once all settings are in, since
    /// either may be given first.
    pub fn check_min_insync(&self) -> Result<(), ScenarioError> {
        self.check_min_insync_given(true)
    }

    /// The same, naming `min-insync-replicas` if the door was given it, else
    /// `replication-factor` (lowered below a `min-insync-replicas` set before).
    fn check_min_insync_given(&self, min_given: bool) -> Result<(), ScenarioError> {
        if self.min_insync_replicas <= self.replication_factor {
            return Ok(());
        }
        Err(if min_given {
            self.check_min_insync_of(self.min_insync_replicas as f64)
        } else {
            ScenarioError {
                key: "replication-factor".into(),
                message: format!(
                    "must be at least min-insync-replicas, {} (got {})",
                    self.min_insync_replicas, self.replication_factor
                ),
            }
        })
    }

    fn check_min_insync_of(&self, value: f64) -> ScenarioError {
        ScenarioError {
            key: "min-insync-replicas".into(),
            message: format!(
                "must be at most replication-factor, {} (got {})",
                self.replication_factor,
                format_number(value)
            ),
        }
    }

    /// Settings that are each in range but refused together: an explicit idempotent producer
    /// with `acks=leader`, which Kafka refuses with a `ConfigException` (a defaulted one is
    /// silently turned off instead: `auto`). Named after `producer-idempotence` whichever of
    /// the two was set last, so the message sits by the control that asks for idempotence.
    pub fn check_combinations(&self) -> Result<(), ScenarioError> {
        if self.delivery_limit > 0 && self.queue_type == crate::scenario::QueueType::Classic {
            return Err(ScenarioError {
                key: "delivery-limit".into(),
                message: "needs queue-type=quorum: a classic RabbitMQ queue has no x-delivery-limit (it requeues a returned message for ever)".into(),
            });
        }
        if let Some(why) = self.broker.refuses(self.mode) {
            return Err(ScenarioError {
                key: "mode".into(),
                message: format!(
                    "{} is not available on broker {}: {why}",
                    self.mode.key(),
                    self.broker.key()
                ),
            });
        }
        if self.producer_idempotence == Idempotence::On && self.acks == Acks::Leader {
            return Err(ScenarioError {
                key: "producer-idempotence".into(),
                message: "on requires acks=all (Kafka refuses enable.idempotence=true with acks=1: ConfigException); set acks=all, or producer-idempotence to auto or off".into(),
            });
        }
        Ok(())
    }

    /// Reads a URL query (`mode=at-most-once&publish-loss=0.3&seed=42`, with or without `?`)
    /// on top of the defaults. Bad or unknown keys are reported and skipped; the rest of the
    /// scenario still loads. Keys that are not scenario settings but belong to the page
    /// (`embed`, `view`, ...) are passed over if listed in `page_keys`.
    pub fn from_query(query: &str, page_keys: &[&str]) -> (Scenario, Vec<ScenarioError>) {
        let mut scenario = Scenario::default();
        let errors = scenario.apply_query(query, page_keys);
        (scenario, errors)
    }

    /// Applies a URL query onto this scenario; see `from_query`.
    pub fn apply_query(&mut self, query: &str, page_keys: &[&str]) -> Vec<ScenarioError> {
        self.apply_query_in(KNOBS, query, page_keys)
    }

    fn apply_query_in(
        &mut self,
        table: &'static [Knob],
        query: &str,
        page_keys: &[&str],
    ) -> Vec<ScenarioError> {
        let mut errors = Vec::new();
        // `preset=NAME` starts from that preset, wherever it stands, and the query's other
        // keys change it, as `--preset` and flags do on the command line.
        if let Some((_, name)) = parse_query(query)
            .into_iter()
            .find(|(k, _)| k == PRESET_KEY)
        {
            match crate::presets::preset(name.trim()) {
                Some(p) => match p.scenario() {
                    Ok(s) => *self = s,
                    Err(e) => errors.push(e),
                },
                None => errors.push(ScenarioError {
                    key: PRESET_KEY.into(),
                    message: format!(
                        "no preset named {:?} (see `dsim presets`)",
                        clip(name.trim())
                    ),
                }),
            }
        }
        let (min_insync_before, replication_before) =
            (self.min_insync_replicas, self.replication_factor);
        let mut min_given = false;
        // The script is checked once every other key is in (`consumers` may follow it).
        let mut script = None;
        // Settings the query names, checked against the broker once it is final.
        let mut given = Vec::new();
        for (key, value) in parse_query(query) {
            if page_keys.contains(&key.as_str()) || key == PRESET_KEY {
                continue;
            }
            min_given |= knob(&key).is_some_and(|k| k.key == "min-insync-replicas");
            let applied = if key == script::SCRIPT_KEY {
                script::parse(&value).map(|s| script = Some(s))
            } else {
                self.set_in(table, &key, &value, false)
                    .map(|k| given.extend(k))
            };
            if let Err(e) = applied {
                // A refused value is still a setting the query names.
                given.extend(knob_in(table, &key));
                errors.push(e);
            }
        }
        // Checked once every key is in, like the script: the refused setting (the one given)
        // falls back to what it was (`min-insync-replicas` to 1 if that no longer fits), and
        // every other setting stands.
        if let Err(e) = self.check_min_insync_given(min_given) {
            errors.push(e);
            if min_given {
                self.min_insync_replicas = if min_insync_before <= self.replication_factor {
                    min_insync_before
                } else {
                    1
                };
            } else {
                self.replication_factor = replication_before;
            }
        }
        // Also once every key is in, so either order of `acks` and `producer-idempotence`
        // is refused the same way: the idempotence asked for goes back to its default.
        // The mode a broker refuses goes back to the default mode, which every broker runs.
        while let Err(e) = self.check_combinations() {
            errors.retain(|seen| seen.key != e.key);
            if e.key == "mode" {
                self.mode = Scenario::default().mode;
            } else if e.key == "delivery-limit" {
                self.delivery_limit = 0;
            } else {
                self.producer_idempotence = Idempotence::Auto;
            }
            errors.push(e);
        }
        for e in self.refuse_inapplicable(&given) {
            // One line per setting: a bad value of a setting the broker lacks is named once.
            errors.retain(|seen| seen.key != e.key);
            errors.push(e);
        }
        if let Some(faults) = script
            && let Err(e) = self.set_script(faults)
        {
            errors.push(e);
        }
        errors
    }

    /// The scenario as a URL query: mode and seed always, then every setting that differs from
    /// the default, in table order.
    pub fn to_query(&self) -> String {
        let defaults = Scenario::default();
        let mut parts = Vec::new();
        for k in KNOBS {
            let always = matches!(k.key, "mode" | "seed");
            if always || k.get(self) != k.get(&defaults) {
                parts.push(format!("{}={}", k.key, encode_component(&k.get_text(self))));
            }
        }
        if !self.script.is_empty() {
            let text = script::format(&self.script);
            parts.push(format!("{}={}", script::SCRIPT_KEY, encode_script(&text)));
        }
        parts.join("&")
    }

    /// Reads scenario JSON: an object whose keys are settings in camelCase or kebab-case;
    /// switches (`fencing`) take `"on"`/`"off"` or `true`/`false`.
    /// Missing keys keep their defaults; the first bad key is named in the error.
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| ScenarioError {
            key: "scenario".into(),
            message: format!("is not valid JSON ({e})"),
        })?;
        let mut scenario = Scenario::default();
        scenario.apply_json(&value)?;
        Ok(scenario)
    }

    /// Applies a JSON object onto this scenario. On error the scenario is left unchanged.
    pub fn apply_json(&mut self, value: &serde_json::Value) -> Result<(), ScenarioError> {
        self.apply_json_in(KNOBS, value)
    }

    fn apply_json_in(
        &mut self,
        table: &'static [Knob],
        value: &serde_json::Value,
    ) -> Result<(), ScenarioError> {
        let object = value.as_object().ok_or_else(|| ScenarioError {
            key: "scenario".into(),
            message: format!("must be an object of settings (got {})", json_type(value)),
        })?;
        let mut next = self.clone();
        let mut script = None;
        let mut min_given = false;
        // A setting the broker lacks is refused before any value is looked at, so that the
        // error says what is really wrong, wherever `broker` stands in the object.
        let given: Vec<&Knob> = object
            .keys()
            .filter_map(|key| knob_in(table, key))
            .collect();
        let mut probe = Scenario {
            broker: next.broker,
            ..Scenario::default()
        };
        if let Some(serde_json::Value::String(text)) = object.get("broker")
            && let Some(k) = knob_in(table, "broker")
        {
            k.set_text(&mut probe, text)?;
        }
        if let Some(e) = probe.refuse_inapplicable(&given).into_iter().next() {
            return Err(e);
        }
        for (key, v) in object {
            if key == script::SCRIPT_KEY {
                script = Some(script::from_json(v)?);
                continue;
            }
            let k = knob_in(table, key).ok_or_else(|| unknown_key(key))?;
            min_given |= k.key == "min-insync-replicas";
            match (k.kind, v) {
                (Kind::Choice(_), serde_json::Value::String(text)) => {
                    k.set_text_of_many(&mut next, text)?
                }
                // A switch is a `bool` in the serialised scenario, so `true` and `false` read
                // back as well as `"on"` and `"off"`.
                // Set without the cross-checks, like every other key here: they run once the
                // whole object is in (a switch read before `queueType` must not judge
                // `deliveryLimit` against the default queue type).
                (Kind::Choice(names), serde_json::Value::Bool(on)) if names == OFF_ON => {
                    (k.set)(&mut next, *on as u8 as f64)
                }
                (Kind::Choice(_), other) => {
                    return Err(k.error(format!("must be a string (got {})", json_type(other))));
                }
                (_, serde_json::Value::Number(n)) => {
                    let number = n.as_f64().unwrap_or(f64::NAN);
                    k.check(number)?;
                    (k.set)(&mut next, number)
                }
                (_, other) => {
                    return Err(k.error(format!("must be a number (got {})", json_type(other))));
                }
            }
        }
        next.check_min_insync_given(min_given)?;
        next.check_combinations()?;
        // Checked last, against the scenario's final consumers, producers and horizon.
        if let Some(faults) = script {
            next.set_script(faults)?;
        }
        *self = next;
        Ok(())
    }
}

/// A valid scenario drawn from the whole knob table by `seed`: every setting anywhere in its
/// range, with the edges (each knob's minimum and maximum) drawn often, since that is where
/// bugs live. At most `max_messages` messages keep a run short. The fuzz tests and the
/// native-vs-wasm check use it: the same seed gives the same scenario on every platform (only
/// integer arithmetic and exactly rounded float operations are involved).
pub fn sample_scenario(seed: u64, max_messages: u32) -> Scenario {
    use rand_core::Rng;
    use rand_xoshiro::SplitMix64;
    use rand_xoshiro::rand_core::SeedableRng;

    let mut rng = SplitMix64::seed_from_u64(seed);
    let mut s = Scenario::default();
    for k in KNOBS {
        let max = if k.key == "messages" {
            (max_messages.max(1) as f64).min(k.max)
        } else {
            k.max
        };
        let draw = rng.next_u64();
        let mut v = match draw % 8 {
            0 | 1 => k.min,
            2 => max,
            // Faults stay off half the time, so mixes of a few faults are common.
            3 if matches!(k.kind, Kind::Probability) => 0.0,
            _ => {
                let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                k.min + (max - k.min) * unit
            }
        };
        if matches!(k.kind, Kind::Count | Kind::Choice(_)) {
            v = v.round();
        }
        // The one knob bounded by another (drawn before it): kept valid without another draw.
        if k.key == "min-insync-replicas" {
            v = v.min(s.replication_factor as f64);
        }
        // Every value above lies inside the knob's range, so this cannot fail.
        let _ = k.set_number_for_any_broker(&mut s, v.clamp(k.min, max));
    }
    // Drawn last: the settings its broker does not have go back to their defaults.
    s.set_broker(s.broker);
    s
}

pub(crate) fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Splits a query string into decoded key/value pairs, in order.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

/// Percent-decoding that never fails: `+` is a space, malformed escapes are kept as typed,
/// and invalid UTF-8 becomes U+FFFD.
pub fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a script for a URL, leaving its `:` and `;` readable: both are allowed
/// in a query and mean nothing to `parse_query`, which splits only at `&` and `=`.
fn encode_script(text: &str) -> String {
    encode_component(text)
        .replace("%3A", ":")
        .replace("%3B", ";")
}

/// Percent-encodes everything but unreserved characters.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The broker refusal, tested against a table of its own with one setting that kafka lacks,
/// so that the tests hold whatever the real table says about each setting today.
#[cfg(test)]
mod broker_refusal {
    use super::*;

    const WHY: &str =
        "Kafka has no visibility timeout: a consumer resumes from its group's committed offset";
    const LINE: &str = "visibility-timeout-ms: does not apply to broker kafka (Kafka has no visibility timeout: a consumer resumes from its group's committed offset)";

    static TABLE: [Knob; 4] = [
        Knob {
            set: |s, v| s.broker = Broker::ALL[v as usize],
            // The broker knob: before the queue brokers' six settings (RabbitMQ's and SQS's)
            // (`broker_knob_is_where_the_test_table_takes_it`).
            ..KNOBS[KNOBS.len() - 7]
        },
        knob!(
            "latency-ms",
            "latencyMs",
            latency_ms,
            Millis,
            Network,
            "Latency",
            "ms",
            0,
            10_000,
            0.1,
            "One-way latency."
        ),
        knob!(
            "visibility-timeout-ms",
            "visibilityTimeoutMs",
            visibility_timeout_ms,
            Millis,
            Broker,
            "Visibility timeout",
            "ms",
            1,
            600_000,
            10,
            "How long a delivery may stay unacknowledged."
        )
        .only_on(&[], &[(Broker::Kafka, WHY)]),
        knob!(
            "jitter-ms",
            "jitterMs",
            jitter_ms,
            Millis,
            Network,
            "Jitter",
            "ms",
            0,
            10_000,
            0.1,
            "Spread."
        ),
    ];

    fn query(q: &str) -> (Scenario, Vec<String>) {
        let mut s = Scenario::default();
        let errors = s.apply_query_in(&TABLE, q, &[]);
        (s, errors.iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn the_refusal_is_one_line_naming_the_setting_the_broker_and_the_reason() {
        let e = TABLE[2].check_broker(Broker::Kafka).unwrap_err();
        assert_eq!(e.key, "visibility-timeout-ms");
        assert_eq!(e.to_string(), LINE);
        assert!(TABLE[1].check_broker(Broker::Kafka).is_ok());
    }

    #[test]
    fn a_url_setting_the_broker_lacks_is_refused_and_the_others_are_kept() {
        let defaults = Scenario::default();
        // Whatever its value (the default included, or not even a number), and wherever
        // `broker` stands in the query.
        for q in [
            "latency-ms=3&visibility-timeout-ms=100&jitter-ms=2",
            "latency-ms=3&visibility-timeout-ms=200&jitter-ms=2&broker=kafka",
            "broker=kafka&visibility-timeout-ms=abc&latency-ms=3&jitter-ms=2",
            "visibility-timeout-ms=1&latency-ms=3&visibilityTimeoutMs=5&jitter-ms=2",
        ] {
            let (s, errors) = query(q);
            assert_eq!(errors, [LINE], "{q}");
            assert_eq!(s.latency_ms, 3.0, "{q}");
            assert_eq!(s.jitter_ms, 2.0, "{q}");
            assert_eq!(
                s.visibility_timeout_ms, defaults.visibility_timeout_ms,
                "{q}"
            );
        }
        let (s, errors) = query("latency-ms=3&jitter-ms=2");
        assert!(errors.is_empty());
        assert_eq!((s.latency_ms, s.jitter_ms), (3.0, 2.0));
    }

    #[test]
    fn a_json_setting_the_broker_lacks_is_refused_and_the_scenario_is_unchanged() {
        for text in [
            r#"{"latencyMs": 3, "visibilityTimeoutMs": 200}"#,
            r#"{"visibility-timeout-ms": "oops", "broker": "kafka"}"#,
            r#"{"broker": "kafka", "visibilityTimeoutMs": 1e9}"#,
        ] {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            let mut s = Scenario::default();
            let e = s.apply_json_in(&TABLE, &value).unwrap_err();
            assert_eq!(e.to_string(), LINE, "{text}");
            assert_eq!(s, Scenario::default(), "{text}");
        }
        let value = serde_json::json!({"latencyMs": 3, "broker": "kafka"});
        let mut s = Scenario::default();
        s.apply_json_in(&TABLE, &value).unwrap();
        assert_eq!(s.latency_ms, 3.0);
    }

    #[test]
    fn a_scenario_built_in_code_with_a_setting_its_broker_lacks_is_invalid() {
        let mut s = Scenario::default();
        assert!(s.validate_in(&TABLE).is_ok());
        s.visibility_timeout_ms = 100.0;
        assert_eq!(s.validate_in(&TABLE).unwrap_err().to_string(), LINE);
        // What the CLI does with the flags it was given.
        let errors = s.refuse_inapplicable(&[&TABLE[1], &TABLE[2]]);
        assert_eq!(
            errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
            [LINE]
        );
        assert_eq!(
            s.visibility_timeout_ms,
            Scenario::default().visibility_timeout_ms
        );
        assert!(s.validate_in(&TABLE).is_ok());
    }

    /// The real table: every setting a broker lacks says why, and a scenario on any broker
    /// writes and reads back as itself (so a setting the broker lacks is never written).
    #[test]
    fn the_real_table_gives_a_reason_for_every_refusal_and_every_broker_round_trips() {
        for k in knobs() {
            for b in Broker::ALL {
                let why = k.why_not.iter().find(|(w, _)| *w == b);
                assert_eq!(
                    k.applies_to(b),
                    why.is_none(),
                    "{}: on {} either applies or says why not",
                    k.key,
                    b.key()
                );
            }
        }
        for b in Broker::ALL {
            for seed in 0..50 {
                let mut s = sample_scenario(seed, 100);
                s.switch_broker(b);
                assert!(s.validate().is_ok(), "{}", b.key());
                let text = serde_json::to_string(&s).unwrap();
                assert_eq!(Scenario::from_json(&text).as_ref(), Ok(&s), "{text}");
                let (back, errors) = Scenario::from_query(&s.to_query(), &[]);
                assert!(errors.is_empty(), "{errors:?}");
                assert_eq!(back, s);
            }
        }
    }

    #[test]
    fn broker_knob_is_where_the_test_table_takes_it() {
        assert_eq!(TABLE[0].key, "broker");
    }

    #[test]
    fn the_broker_setting_reads_and_writes_in_every_form() {
        let (s, errors) = Scenario::from_query("broker=kafka", &[]);
        assert!(errors.is_empty());
        assert_eq!(s.broker, Broker::Kafka);
        assert_eq!(s.get("broker").as_deref(), Some("kafka"));
        let e = Scenario::default().set("broker", "kinesis").unwrap_err();
        assert_eq!(
            e.to_string(),
            "broker: must be one of kafka, rabbitmq, sqs, sqs-fifo (got \"kinesis\")"
        );
        assert_eq!(
            Scenario::from_json(r#"{"broker": "kafka"}"#),
            Ok(Scenario::default())
        );
        for b in Broker::ALL {
            assert_eq!(Broker::from_key(b.key()), Some(b));
            assert_eq!(BROKERS[b as usize], b.key());
        }
    }
}
