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
    /// What the explanation says the runs show, each checked against them
    /// (`report::claims`, run over every preset by the tests): a text never names a number,
    /// or promises a fix, that the simulation does not bear out.
    #[cfg(feature = "claims")]
    pub claims: &'static [Claim],
}

#[cfg(feature = "claims")]
/// One thing a preset's text says: a count of the run, after `after` (the text's advice, a
/// query applied on top of the preset; empty for the preset itself), is what `is` says.
pub struct Claim {
    pub after: &'static str,
    /// The count, by its place in the report's JSON: `duplicates`, `queue.redelivered`,
    /// `external.double_charges`, `guarantee.held` (1 or 0).
    pub count: &'static str,
    pub is: Expect,
}

#[cfg(feature = "claims")]
/// A claim, written on one line in the table above.
const fn claim(after: &'static str, count: &'static str, is: Expect) -> Claim {
    Claim { after, count, is }
}

#[cfg(feature = "claims")]
pub enum Expect {
    Zero,
    /// Above zero.
    Some,
    Equal(u64),
    /// Equal to another count of the same run.
    Equals(&'static str),
    /// Exactly `k` times another count of the same run.
    Times(&'static str, u64),
    /// At least `k` times another count of the same run.
    AtLeastTimes(&'static str, u64),
    /// Below the same count in the preset's own run (the advice reduces it).
    Below,
    /// Above the same count in the preset's own run (the advice costs more of it).
    Above,
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
        explanation: "Kafka. The consumer applies payments from its poll, then dies before its next offset commit. Whoever reads its partitions next (the consumer itself once restarted, or another member after the session timeout) starts from the group's committed offset, so every payment it applied since its last commit is read and applied again: the replayed counter. At-least-once keeps its promise (nothing is lost) but charges customers twice. Switch to the idempotent consumer or exactly-once and the duplicates disappear, at a price in latency.",
        query: "mode=at-least-once&crash-after-process=0.002",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "replayed", Expect::Some),
            claim("", "lost", Expect::Zero),
            claim("", "duplicates", Expect::Some),
            claim("mode=idempotent-consumer", "duplicates", Expect::Zero),
            claim("mode=exactly-once", "duplicates", Expect::Zero),
        ],
    },
    Preset {
        key: "ack-before-processing",
        title: "Ack before processing",
        explanation: "Kafka. The consumer commits the offsets of its whole poll as soon as the records arrive, and only then processes them. When it crashes in between, the group's committed offset is already past them, so nobody reads them again: the payment is gone, along with the rest of that poll. This is at-most-once; committing only after processing (at-least-once) trades these losses for possible duplicates.",
        query: "mode=at-most-once&crash-before-process=0.002",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "lost", Expect::Some),
            claim("", "duplicates", Expect::Zero),
            claim("mode=at-least-once", "lost", Expect::Zero),
        ],
    },
    Preset {
        key: "network-failure-during-commit",
        title: "Network failure during commit",
        explanation: "Kafka. The consumer processed its payments, but some of its offset commits are lost on the network. On its own that costs nothing: commits are cumulative, and the next one covers the lost one. But when the consumer then crashes, its partition is read again from the last commit that got through, so a lost commit widens what a crash replays: set ack-loss to 0 and compare the duplicates. Exactly-once commits offsets and payments in one transaction, retried until its outcome is known, so nothing is applied twice.",
        query: "mode=at-least-once&ack-loss=0.5&crash-after-process=0.001",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "duplicates", Expect::Some),
            claim("ack-loss=0", "duplicates", Expect::Below),
            claim("mode=exactly-once", "duplicates", Expect::Zero),
        ],
    },
    Preset {
        key: "double-charge",
        title: "Double charge in payments",
        explanation: "Kafka, a payments pipeline with a flaky network and crashing consumers: the broker's acks to producers get lost, so producers retry and the log holds the same payment twice (the idempotent producer is off here, as it was by default before Kafka 3.0), and consumers crash between applying payments and committing their offsets, so their partitions are read again. Every duplicate is a customer charged twice; the counters show how many and how much. The fix the textbooks recommend is at-least-once delivery with an idempotent consumer: try it, then compare all modes.",
        query: "mode=at-least-once&publish-ack-loss=0.05&crash-after-process=0.001&producer-idempotence=off",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "duplicates", Expect::Some),
            claim("", "retries", Expect::Some),
            claim("", "replayed", Expect::Some),
            claim("mode=idempotent-consumer", "duplicates", Expect::Zero),
        ],
    },
    Preset {
        key: "lossy-metrics",
        title: "Lossy metrics pipeline",
        explanation: "Kafka, for CPU samples or log lines: a lost data point is harmless and the next one comes soon. At-most-once sends each once with acks=0 and never retries, so the publishes the network drops (2 % here) are gone, and nobody is told. Compare the modes to see what the stronger guarantees cost here.",
        query: "mode=at-most-once&publish-loss=0.02",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "lost", Expect::Some),
            claim("", "retries", Expect::Zero),
            claim("", "duplicates", Expect::Zero),
            claim("mode=at-least-once", "lost", Expect::Zero),
            claim("mode=at-least-once", "network_messages", Expect::Above),
        ],
    },
    Preset {
        key: "dedup-window-too-short",
        title: "Dedup window too short",
        explanation: "Kafka, with an idempotent consumer whose dedup store remembers IDs only for its retention window. Here producer retries land long after the first copy was processed, because the ack timeout backs off (and the producer is not idempotent, so the broker stores each retry), and the window is shorter than that: the store has already forgotten the ID, and the duplicate goes through. Lengthen the window and the duplicates vanish, at the cost of a bigger store. (This is the consumer's own store; SQS FIFO's five-minute deduplication is something else: it drops repeated sends at the broker.)",
        query: "mode=idempotent-consumer&publish-ack-loss=0.1&dedup-window-ms=30&producer-idempotence=off",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "duplicates", Expect::Some),
            claim("dedup-window-ms=300000", "duplicates", Expect::Zero),
        ],
    },
    Preset {
        key: "broker-crash-acks-leader",
        title: "Broker crash with acks=leader",
        explanation: "Kafka. The partition leader acks a publish as soon as it has written it, then crashes before its followers copied it. The new leader never had the message, and the producer, holding its ack, never retries: a silent loss even in at-least-once. Switch acks to all and the leader acks only once every in-sync replica has the record (no follower falls behind here, so that is every replica), so a crash makes the producer retry instead.",
        query: "mode=at-least-once&broker-crash=0.0003&acks=leader",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "lost", Expect::Some),
            claim("acks=all", "lost", Expect::Zero),
        ],
    },
    Preset {
        key: "broker-crash-acks-all",
        title: "Broker crash with acks=all",
        explanation: "Kafka, the same crashes, but the leader acks only once every in-sync replica has the record; no follower falls behind here, so that is every replica (min-insync-1-loses-acked shows what acks=all lets through when one does). A crash can only take appends nobody was told about, so producers retry them and nothing is lost. A retry whose first copy did reach the replicas, its ack lost on the way back, would be a second record unless the producer is idempotent: it is by default with acks=all (since Kafka 3.0), so add publish-ack-loss and turn producer-idempotence off to see one.",
        query: "mode=at-least-once&broker-crash=0.0003&acks=all",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "lost", Expect::Zero),
            claim("", "retries", Expect::Some),
            claim("publish-ack-loss=0.01", "duplicates", Expect::Zero),
            claim(
                "publish-ack-loss=0.01&producer-idempotence=off",
                "duplicates",
                Expect::Some,
            ),
        ],
    },
    Preset {
        key: "min-insync-1-loses-acked",
        title: "acks=all with min.insync.replicas=1 loses acknowledged records",
        explanation: "Kafka, two replicas. acks=all does not mean every replica: it means every replica in the in-sync set, and a follower that falls behind leaves that set (replica.lag.time.max.ms). Here the follower falls behind and, with the default min.insync.replicas=1, the leader alone is the in-sync set, so it acknowledges what only it has. At 2 s the leader crashes; with unclean.leader.election.enable on, the lagging follower becomes leader and everything appended since it fell behind is gone from the partition. The producers were told those records were safe, so nobody retries them, and what the consumers had not read yet is lost. Try min-insync-replicas=2: the leader refuses writes while the follower lags (NotEnoughReplicas), the producers retry, and nothing acknowledged is lost. Or switch unclean-election off: the partition waits for the old leader, which still has every record.",
        query: "mode=at-least-once&replication-factor=2&replica-lag=0.0002&unclean-election=on&script=2s:crash-broker",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "lost", Expect::Some),
            claim("min-insync-replicas=2", "lost", Expect::Zero),
            claim("unclean-election=off", "lost", Expect::Zero),
        ],
    },
    Preset {
        key: "dual-write",
        title: "Dual write: crash between database and publish",
        explanation: "Kafka, or any broker. The producer writes the payment to its own database and then publishes it; when it crashes in between, the database says the payment exists but no message will ever carry it. No broker setting can fix this, since the broker never saw it. The transactional outbox commits the payment and an outbox row together, and a relay publishes the row: switch to outbox and the losses disappear.",
        query: "mode=at-least-once&producer-crash=0.01",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "lost", Expect::Some),
            claim("", "lost", Expect::Equals("cost.producer_crashes")),
            claim("mode=outbox", "lost", Expect::Zero),
        ],
    },
    Preset {
        key: "kafka-auto-commit-replay",
        title: "Auto-commit replays a second of work",
        explanation: "Kafka's consumer commits its offsets every auto.commit.interval.ms (here one second), inside its poll. A consumer that crashes after processing has its partitions read again from the last commit, so everything it applied in up to a second comes back: compare replayed and duplicates with commit-interval-ms at 0, which commits after every poll. Auto-commit is at-least-once here because each poll's records are processed before the next poll, which is where it commits their offsets; a consumer that hands records to another thread can have them committed before they are processed, and a crash then loses them.",
        query: "mode=at-least-once&commit-interval-ms=1000&crash-after-process=0.0005",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "replayed", Expect::Some),
            claim("", "duplicates", Expect::Some),
            claim("commit-interval-ms=0", "replayed", Expect::Below),
            claim("commit-interval-ms=0", "duplicates", Expect::Below),
        ],
    },
    Preset {
        key: "exactly-once-trap",
        title: "The exactly-once trap: an external charge",
        explanation: "Kafka. Each payment also charges the customer's card through an external payment API, and the consumer sometimes crashes after that call and before its transaction commits. Exactly-once aborts the transaction and reads the records again, so the broker's ledger stays exact and the promise holds, but the card provider has no part in the transaction: it charges the same payment a second time. Exactly-once covers the broker, not the world outside it. Turn on the idempotency key (the message ID sent with the call) and the provider answers a repeat with the first charge's result: no card is charged twice.",
        query: "mode=exactly-once&external-effect=on&crash-after-process=0.01&messages=1000&publish-rate=50&consumers=8&max-poll=10",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "guarantee.held", Expect::Equal(1)),
            claim("", "duplicates", Expect::Zero),
            claim("", "external.double_charges", Expect::Some),
            claim(
                "idempotency-key=on",
                "external.double_charges",
                Expect::Zero,
            ),
        ],
    },
    Preset {
        key: "zombie-consumer",
        title: "Zombie consumer without fencing",
        explanation: "Kafka. Now and then a consumer freezes for a second (a long GC pause) holding records it has processed but not yet committed. That is longer than its session timeout, 300 ms here (times in this simulation are scaled down: Kafka's session.timeout.ms defaults to 45 s, so a real pause must last that long), so the group gives its partitions to the others, which read them again from the committed offset. When it wakes it does not know it was replaced and commits anyway. Here fencing is switched off, so the coordinator accepts that stale transaction and the payments count twice, breaking exactly-once. Switch fencing on and the zombie's commit is rejected by its old generation (the trace says fenced). At-least-once's offset commit is rejected the same way, but its payments were applied before the commit, so it duplicates either way.",
        query: "mode=exactly-once&fencing=off&consumer-stall=0.0005",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "guarantee.held", Expect::Equal(0)),
            claim("", "duplicates", Expect::Some),
            claim("fencing=on", "duplicates", Expect::Zero),
            claim("fencing=on", "zombies.fenced_commits", Expect::Some),
            claim("mode=at-least-once&fencing=on", "duplicates", Expect::Some),
        ],
    },
    Preset {
        key: "read-uncommitted-sees-aborted",
        title: "A read-uncommitted reader sees aborted payments",
        explanation: "Kafka exactly-once writes each payment to an output topic inside the consumer's transaction, with the input offsets. When a consumer crashes before the commit, the transaction is aborted: its output records stay in the log behind an abort marker, and the input is read again. The ledger here reads the output with isolation.level=read_uncommitted (Kafka's default), so it applied the aborted payments too, and the retried transaction charges them again. Switch isolation to read-committed and the ledger skips them (aborted skipped).",
        query: "mode=exactly-once&isolation=read-uncommitted&crash-after-process=0.002",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "duplicates", Expect::Some),
            claim("isolation=read-committed", "duplicates", Expect::Zero),
            claim("isolation=read-committed", "aborted_skipped", Expect::Some),
        ],
    },
    Preset {
        key: "producer-restart-new-pid",
        title: "Producer restart: a new producer ID",
        explanation: "Kafka. Its idempotent producer (on by default since 3.0, with acks=all) numbers its records so that the broker drops its retries. That holds within one producer session only: here producers now and then die after sending, before the ack, and restart, resending every record they have no ack for. Without a transactional.id, InitProducerId gives the new instance a new producer ID, so the broker cannot tell a resend from a new record, and each record that had landed is stored twice. Switch to exactly-once: its transactional.id brings the same producer ID back with the epoch bumped, its open transaction is aborted (records aborted counts its records, which read-committed readers skip), any write of the old epoch still on the network is fenced (producer fenced), and nothing is charged twice.",
        query: "mode=at-least-once&producer-restart=0.005&messages=5000",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "duplicates", Expect::Some),
            claim("", "cost.producer_restarts", Expect::Some),
            claim("mode=exactly-once", "duplicates", Expect::Zero),
            claim("mode=exactly-once", "cost.records_aborted", Expect::Some),
        ],
    },
    Preset {
        key: "rabbitmq-auto-ack-crash",
        title: "RabbitMQ: auto-ack loses the consumer's buffer",
        explanation: "RabbitMQ, at-most-once: consumers subscribe with auto-ack, so the broker forgets a message the moment it pushes it, and prefetch (basic.qos) does not limit an auto-ack consumer. The consumers here are slower than the producers, so the broker pushes the whole backlog into their client buffers, and each crash loses everything its consumer had not yet taken: hundreds of payments per crash, where Kafka's at-most-once loses one poll. The queue panel shows how little stays ready in the broker. Switch to at-least-once (manual ack) and the same crashes lose nothing: the broker requeues what the consumer never acknowledged.",
        query: "broker=rabbitmq&mode=at-most-once&crash-before-process=0.002&processing-ms=5",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "lost", Expect::Some),
            claim(
                "",
                "lost",
                Expect::AtLeastTimes("cost.consumer_crashes", 100),
            ),
            claim("mode=at-least-once", "lost", Expect::Zero),
        ],
    },
    Preset {
        key: "rabbitmq-requeue-on-close",
        title: "RabbitMQ: requeue when a connection closes",
        explanation: "RabbitMQ, at-least-once with manual acks and a prefetch of 10: each consumer holds up to 10 unacknowledged deliveries. When one crashes after processing a payment and before its basic.ack, the broker requeues all 10 at once, at their old positions, and pushes them again with redelivered=true, ahead of newer messages. Only the one it had processed is applied twice: per crash, one duplicate and ten redeliveries. Reordered counts the payments applied after a later one of the same producer and account. Switch to the idempotent consumer: the redeliveries stay, the duplicates go.",
        query: "broker=rabbitmq&mode=at-least-once&crash-after-process=0.002&processing-ms=5",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "duplicates", Expect::Equals("cost.consumer_crashes")),
            claim(
                "",
                "queue.redelivered",
                Expect::Times("cost.consumer_crashes", 10),
            ),
            claim("", "lost", Expect::Zero),
            claim("mode=idempotent-consumer", "duplicates", Expect::Zero),
            claim(
                "mode=idempotent-consumer",
                "queue.redelivered",
                Expect::Some,
            ),
        ],
    },
    Preset {
        key: "sqs-visibility-timeout-too-short",
        title: "SQS: visibility timeout shorter than processing",
        explanation: "SQS standard queue, at-least-once. Each payment takes 300 ms to process, and the queue's visibility timeout is 200 ms. The timeout is not a lock: 200 ms after consumer A received a message, SQS makes it visible again and the idle consumer B receives it too, while A is still working. A's DeleteMessage at 300 ms carries a receipt handle that is no longer the latest: SQS answers it with success and may or may not delete the message (this model deletes it), and either way B already has its copy and charges the customer again: every payment here is applied twice, and the sqs panel counts one visibility timeout passed per payment. Raise visibility-timeout-ms above the processing time (AWS advises the time it takes to process and delete a message, or extending it with ChangeMessageVisibility while working) and the duplicates go; or keep it and switch to the idempotent consumer, which skips the second copy.",
        query: "broker=sqs&mode=at-least-once&messages=100&producers=1&consumers=2&publish-rate=2&processing-ms=300&receive-batch=1&visibility-timeout-ms=200",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "duplicates", Expect::Equal(100)),
            claim("", "sqs.visibility_timeouts_expired", Expect::Equal(100)),
            claim("visibility-timeout-ms=1000", "duplicates", Expect::Zero),
            claim("mode=idempotent-consumer", "duplicates", Expect::Zero),
        ],
    },
    Preset {
        key: "sqs-fifo-retry-after-window",
        title: "SQS FIFO: a retry after the five-minute deduplication window",
        explanation: "SQS FIFO queue, at-least-once. Every SendMessage response is lost here, so the producer sends each payment again after its ack timeout (60 s, doubling: at 60 s, 180 s and 420 s). The queue deduplicates by deduplication ID for five minutes from the first send: the resends at 60 s and 180 s succeed without enqueueing anything (sends dropped by deduplication), but the one at 420 s comes after the window and is a new message, processed again: one duplicate per payment. FIFO's exactly-once processing is this five-minute window, not a promise about your side effects. The idempotent consumer's dedup store catches the late copy, as long as it keeps IDs longer than the producer retries (dedup-window-ms).",
        query: "broker=sqs-fifo&mode=at-least-once&messages=20&publish-ack-loss=1&ack-timeout-ms=60000&max-retries=3&horizon-ms=3600000",
        #[cfg(feature = "claims")]
        claims: &[
            claim("", "duplicates", Expect::Equal(20)),
            claim("", "sqs.dedup_dropped", Expect::Equal(40)),
            claim(
                "mode=idempotent-consumer&dedup-window-ms=600000",
                "duplicates",
                Expect::Zero,
            ),
        ],
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
