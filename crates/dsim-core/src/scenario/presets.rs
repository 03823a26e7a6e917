//! The textbook failure cases as named scenarios. Each is a URL query over the defaults, so a
//! preset is exactly what a shared link would carry, and parses through the same code.

use crate::scenario::Scenario;
use crate::scenario::knobs::ScenarioError;

pub struct Preset {
    pub key: &'static str,
    pub title: &'static str,
    /// What happens, and what to try next, in a few sentences.
    pub explanation: &'static str,
    pub query: &'static str,
}

impl Preset {
    pub fn scenario(&self) -> Result<Scenario, ScenarioError> {
        let (scenario, errors) = Scenario::from_query(self.query, &[]);
        match errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(scenario),
        }
    }
}

static PRESETS: &[Preset] = &[
    Preset {
        key: "consumer-crash-after-processing",
        title: "Consumer crashes after processing",
        explanation: "The consumer applies the payment, then dies before its ack reaches the broker. The broker cannot tell this from a message that was never processed, so after the visibility timeout it delivers it again and the payment is applied twice. At-least-once keeps its promise (nothing is lost) but charges customers twice. Switch to the idempotent consumer or exactly-once and the duplicates disappear, at a price in latency.",
        query: "mode=at-least-once&crash-after-process=0.002",
    },
    Preset {
        key: "ack-before-processing",
        title: "Ack before processing",
        explanation: "The consumer commits its offset as soon as a message arrives and only then processes it. When it crashes in between, the broker believes the message was handled and never sends it again: the payment is simply gone, along with everything else the consumer had buffered. This is at-most-once; acking only after processing (at-least-once) trades these losses for possible duplicates.",
        query: "mode=at-most-once&crash-before-process=0.002",
    },
    Preset {
        key: "network-failure-during-commit",
        title: "Network failure during commit",
        explanation: "The consumer processed the payment, but its ack (its offset commit) is lost on the network. The consumer cannot know whether the commit landed, and the broker redelivers. With plain at-least-once that is a duplicate; with exactly-once the commit is part of a transaction that is retried until its outcome is known, and the payment becomes visible only with the commit.",
        query: "mode=at-least-once&ack-loss=0.1",
    },
    Preset {
        key: "double-charge",
        title: "Double charge in payments",
        explanation: "A payments pipeline with a flaky network: the broker's acks to producers get lost (so producers retry and the log holds the same payment twice: the idempotent producer is off here, as before Kafka 3.0) and consumers' acks get lost (so the broker redelivers). Every duplicate is a customer charged twice; the counters show how many and how much. The fix the textbooks recommend is at-least-once delivery with an idempotent consumer: try it, then compare all modes.",
        query: "mode=at-least-once&publish-ack-loss=0.05&ack-loss=0.05&producer-idempotence=off",
    },
    Preset {
        key: "lossy-metrics",
        title: "Lossy metrics pipeline",
        explanation: "For CPU samples or log lines, a lost data point is harmless and the next one comes soon. At-most-once sends each once and never retries: a few per cent are lost, but latency is lowest and it costs the fewest network messages. Compare the modes to see what the stronger guarantees would cost here.",
        query: "mode=at-most-once&publish-loss=0.02&delivery-loss=0.02",
    },
    Preset {
        key: "dedup-window-too-short",
        title: "Dedup window too short",
        explanation: "The idempotent consumer only remembers IDs for its retention window (an SQS FIFO queue keeps five minutes). Here producer retries arrive long after the first copy was processed, because the ack timeout backs off (and the producer is not idempotent, so the broker stores each retry), and the window is shorter than that: the store has already forgotten the ID, and the duplicate goes through. Lengthen the window and the duplicates vanish, at the cost of a bigger store.",
        query: "mode=idempotent-consumer&publish-ack-loss=0.1&dedup-window-ms=30&producer-idempotence=off",
    },
    Preset {
        key: "broker-crash-acks-leader",
        title: "Broker crash with acks=leader",
        explanation: "The partition leader acks a publish as soon as it has written it, then crashes before its followers copied it. The new leader never had the message, and the producer, holding its ack, never retries: a silent loss even in at-least-once. Switch acks to all and the broker only acks what every replica has, so a crash makes the producer retry instead.",
        query: "mode=at-least-once&broker-crash=0.0003&acks=leader",
    },
    Preset {
        key: "broker-crash-acks-all",
        title: "Broker crash with acks=all",
        explanation: "The same crashes, but the broker acks only once every replica has the message. A crash can only take appends nobody was told about, so producers retry them and nothing is lost; the retries can still produce duplicates unless the producer is idempotent (exactly-once).",
        query: "mode=at-least-once&broker-crash=0.0003&acks=all",
    },
    Preset {
        key: "dual-write",
        title: "Dual write: crash between database and publish",
        explanation: "The producer writes the payment to its own database and then publishes it; when it crashes in between, the database says the payment exists but no message will ever carry it. No broker setting can fix this, since the broker never saw it. The transactional outbox commits the payment and an outbox row together, and a relay publishes the row: switch to outbox and the losses disappear.",
        query: "mode=at-least-once&producer-crash=0.01",
    },
    Preset {
        key: "slow-consumer",
        title: "Visibility timeout shorter than processing",
        explanation: "No faults at all, yet duplicates: the consumer takes longer to work through its poll than the broker's visibility timeout, so the broker assumes the worst and hands the same records out again. A timeout must cover the slowest processing, not the typical one.",
        query: "mode=at-least-once&processing-ms=2&visibility-timeout-ms=40&max-poll=50",
    },
    Preset {
        key: "exactly-once-trap",
        title: "The exactly-once trap: an external charge",
        explanation: "Each payment also charges the customer's card through an external payment API, and the consumer sometimes crashes after that call and before its transaction commits. Exactly-once aborts the transaction and reads the records again, so the broker's ledger stays exact and the promise holds, but the card provider has no part in the transaction: it charges the same payment a second time. Exactly-once covers the broker, not the world outside it. Turn on the idempotency key (the message ID sent with the call) and the provider answers a repeat with the first charge's result: no card is charged twice.",
        query: "mode=exactly-once&external-effect=on&crash-after-process=0.01&messages=1000&publish-rate=50&consumers=8&max-poll=10&visibility-timeout-ms=2000",
    },
    Preset {
        key: "zombie-consumer",
        title: "Zombie consumer without fencing",
        explanation: "Now and then a consumer freezes for a second (a long GC pause) holding records it has processed but not yet committed. That is longer than its session timeout, so the group gives its partitions to the others, which process those records again. When it wakes it does not know it was replaced and commits anyway. Here fencing is switched off, so the coordinator accepts that stale commit and the payments count twice, breaking exactly-once. Switch fencing on and the zombie's commit is rejected (the trace says fenced); at-least-once has no commit to fence and duplicates either way.",
        query: "mode=exactly-once&fencing=off&consumer-stall=0.0005",
    },
    Preset {
        key: "producer-restart-new-pid",
        title: "Producer restart: a new producer ID (Kafka)",
        explanation: "Kafka's idempotent producer (on by default since 3.0, with acks=all) numbers its records so that the broker drops its retries. That holds within one producer session only: here producers now and then die after sending, before the ack, and restart, resending every record they have no ack for. Without a transactional.id, InitProducerId gives the new instance a new producer ID, so the broker cannot tell a resend from a new record, and each record that had landed is stored twice. Switch to exactly-once: its transactional.id brings the same producer ID back with the epoch bumped, its open transaction is aborted (records_aborted counts its records, which read-committed readers skip), any write of the old epoch still on the network is fenced (producer_fenced), and nothing is charged twice.",
        query: "mode=at-least-once&producer-restart=0.005&messages=5000",
    },
];

/// Every preset, in the order the page lists them.
pub fn presets() -> &'static [Preset] {
    PRESETS
}

/// A preset by key.
pub fn preset(key: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.key == key)
}

/// The standard benchmark scenario: the default load (which every mode keeps up with), in
/// `mode`, with `messages` payments, and, if `faulty`, the "10 % faults" mix: every
/// per-message network fault at 10 % (publish, publish ack, delivery and ack lost, network
/// duplicates). Crashes take a whole process down and hit every message it holds, so they are
/// rarer: 0.1 % per message at each consumer crash point, 0.01 % per append for the broker. At
/// 10 % per message, consumers would spend most of their time restarting and a benchmark would
/// measure a backlog rather than the simulator. `dsim bench` and the criterion bench share it.
pub fn bench_scenario(mode: crate::Mode, messages: u32, faulty: bool) -> Scenario {
    let base = Scenario {
        mode,
        messages,
        ..Scenario::default()
    };
    if !faulty {
        return base;
    }
    Scenario {
        publish_loss: 0.1,
        publish_ack_loss: 0.1,
        delivery_loss: 0.1,
        ack_loss: 0.1,
        duplicate: 0.1,
        crash_before_process: 0.001,
        crash_after_process: 0.001,
        broker_crash: 0.0001,
        ..base
    }
}
