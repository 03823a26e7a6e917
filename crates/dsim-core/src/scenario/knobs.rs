//! The knob table: one row per scenario setting, with its key, label, unit, group and allowed
//! range. The URL query, the CLI flags, the JSON readers, the page's sliders and validation are
//! all driven by this table, so a setting exists in one place and is checked the same way
//! everywhere.

use std::fmt;

use crate::scenario::script::{self, ScriptedFault};
use crate::scenario::{Acks, Idempotence, Mode, Scenario};

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
    /// One of a few names (mode, acks).
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
    get: fn(&Scenario) -> f64,
    set: fn(&mut Scenario, f64),
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
        self.set_number(s, value)
    }

    /// Checks `value` against the knob's range and kind, then sets it. A value that makes a
    /// combination the scenario refuses (`producer-idempotence=on` with `acks=leader`) is
    /// refused too, and the previous value kept, whichever of the two came last.
    pub fn set_number(&self, s: &mut Scenario, value: f64) -> Result<(), ScenarioError> {
        self.check(value)?;
        let previous = self.get(s);
        (self.set)(s, value);
        if let Err(e) = s.check_combinations() {
            (self.set)(s, previous);
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
/// `Idempotence::ALL`'s keys, in order.
const IDEMPOTENCE: &[&str] = &["auto", "on", "off"];
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
        "Retries before the producer gives up or the broker dead-letters a message (the outbox relay and exactly-once's transactional producer never give up)."
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
        "The partition leader crashes right after appending a message, before replicating it."
    ),
    Knob {
        key: "acks",
        json_key: "acks",
        label: "Acks",
        help: "leader: ack once the leader has the message; all: once every replica has it.",
        group: Broker,
        kind: Choice(ACKS),
        unit: "",
        min: 0.0,
        max: 1.0,
        step: 1.0,
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
    ),
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
        "Time to copy an append to the followers (or flush it, with one replica)."
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
        "How long the partition is unavailable after its leader crashes."
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
        "How long a delivery may stay unacknowledged before the broker redelivers it."
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
        "The consumer crashes after applying a message, before its ack or commit."
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
        "The consumer's ack or commit is lost on its way to the broker."
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
    ),
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
        "Time until the group notices a silent consumer and hands its partitions to the others."
    ),
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
        "A delivery from broker to consumer is lost on the network."
    ),
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
        "The network delivers a publish or a delivery twice."
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
    ),
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
    ),
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
    ),
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
        "The consumer freezes after processing a record, before its ack or commit, and later wakes up."
    ),
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
    ),
    switch!(
        "fencing",
        "fencing",
        fencing,
        Broker,
        "Fencing",
        "Exactly-once: reject a commit from a consumer whose records were handed to another (a zombie)."
    ),
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
    // The producer (issue 24): Kafka's idempotent producer, `max.in.flight` and restarts.
    // Last in the table, like the settings above, so that the sampler's earlier draws stay.
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
        "Kafka max.in.flight.requests.per.connection: unacknowledged sends per producer and partition; more wait in the producer. Above 1, without idempotence, a retried record can land behind a later one."
    ),
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
];

/// Every knob, in the order the page shows them within a group.
pub fn knobs() -> &'static [Knob] {
    KNOBS
}

/// The knob for a key, given in kebab-case (`publish-loss`) or camelCase (`publishLoss`).
pub fn knob(key: &str) -> Option<&'static Knob> {
    KNOBS.iter().find(|k| k.key == key || k.json_key == key)
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
        if key == script::SCRIPT_KEY {
            return self.set_script_text(value);
        }
        knob(key)
            .ok_or_else(|| unknown_key(key))?
            .set_text(self, value)
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

    /// Checks every setting against its range, and the combinations the scenario refuses.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        for k in KNOBS {
            k.check(k.get(self))?;
        }
        self.check_combinations()?;
        script::check(self)
    }

    /// Settings that are each in range but refused together: an explicit idempotent producer
    /// with `acks=leader`, which Kafka refuses with a `ConfigException` (a defaulted one is
    /// silently turned off instead: `auto`). Named after `producer-idempotence` whichever of
    /// the two was set last, so the message sits by the control that asks for idempotence.
    pub fn check_combinations(&self) -> Result<(), ScenarioError> {
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
        let mut errors = Vec::new();
        // The script is checked once every other key is in (`consumers` may follow it).
        let mut script = None;
        for (key, value) in parse_query(query) {
            if page_keys.contains(&key.as_str()) {
                continue;
            }
            let applied = if key == script::SCRIPT_KEY {
                script::parse(&value).map(|s| script = Some(s))
            } else {
                self.set(&key, &value)
            };
            if let Err(e) = applied {
                errors.push(e);
            }
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
        let object = value.as_object().ok_or_else(|| ScenarioError {
            key: "scenario".into(),
            message: format!("must be an object of settings (got {})", json_type(value)),
        })?;
        let mut next = self.clone();
        let mut script = None;
        for (key, v) in object {
            if key == script::SCRIPT_KEY {
                script = Some(script::from_json(v)?);
                continue;
            }
            let k = knob(key).ok_or_else(|| unknown_key(key))?;
            match (k.kind, v) {
                (Kind::Choice(_), serde_json::Value::String(text)) => {
                    k.set_text(&mut next, text)?
                }
                // A switch is a `bool` in the serialised scenario, so `true` and `false` read
                // back as well as `"on"` and `"off"`.
                (Kind::Choice(names), serde_json::Value::Bool(on)) if names == OFF_ON => {
                    k.set_number(&mut next, *on as u8 as f64)?
                }
                (Kind::Choice(_), other) => {
                    return Err(k.error(format!("must be a string (got {})", json_type(other))));
                }
                (_, serde_json::Value::Number(n)) => {
                    let number = n.as_f64().unwrap_or(f64::NAN);
                    k.set_number(&mut next, number)?
                }
                (_, other) => {
                    return Err(k.error(format!("must be a number (got {})", json_type(other))));
                }
            }
        }
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
        // Every value above lies inside the knob's range, so this cannot fail.
        let _ = k.set_number(&mut s, v.clamp(k.min, max));
    }
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
