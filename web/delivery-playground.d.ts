// The <delivery-playground> element: its attributes and its class.
// Generated from the playground's settings (crates/dsim-web/src/model/element_types.rs);
// do not edit by hand.

/** Every attribute is a string, as in HTML; numbers are written as the URL writes them. */
export interface DeliveryPlaygroundAttributes {
  /** Mode: Which delivery mechanism producer, broker and consumer use. */
  "mode"?: "at-most-once" | "at-least-once" | "idempotent-consumer" | "exactly-once" | "outbox";
  /** Seed: Every random decision derives from it: same seed, same run. */
  "seed"?: string;
  /** Publish lost: A publish from producer to broker is lost on the network. */
  "publish-loss"?: string;
  /** Publish ack lost: The broker stored the message but its ack to the producer is lost, so the producer retries. */
  "publish-ack-loss"?: string;
  /** Producer crash (dual write): The producer crashes after its own database write and before publishing. */
  "producer-crash"?: string;
  /** Ack timeout (ms): How long the producer waits for an ack, and an exactly-once consumer for its commit's answer, before retrying; doubles on each retry. */
  "ack-timeout-ms"?: string;
  /** Max retries: Publish retries before the producer gives up and reports the failure (Kafka has no dead-letter queue); the outbox relay and exactly-once's transactional producer never give up. */
  "max-retries"?: string;
  /** Outbox poll interval (ms): How often the outbox relay looks for rows to publish. */
  "outbox-poll-ms"?: string;
  /** Broker crash: The partition leader crashes right after appending a message, before replicating it (Kafka); the RabbitMQ node crashes after receiving it, before writing it to disk, and every connection closes; the SQS endpoint fails before storing it and stays unavailable for failover-ms. */
  "broker-crash"?: string;
  /** Acks: leader: ack once the leader has the message; all: once every in-sync replica has it (with followers behind, maybe the leader alone: see min-insync-replicas). */
  "acks"?: "leader" | "all";
  /** Replication factor: Copies of each partition, leader included. */
  "replication-factor"?: string;
  /** Replication time (ms): Time to copy an append to the followers (or flush it, with one replica); on RabbitMQ, to write a message to disk before its publisher confirm; on SQS, to store it before SendMessage succeeds. */
  "replication-ms"?: string;
  /** Failover time (ms): How long the partition is unavailable after its leader crashes (Kafka), the node takes to restart (RabbitMQ), or the SQS endpoint stays unavailable. */
  "failover-ms"?: string;
  /** Visibility timeout (ms): SQS: how long a received message stays invisible to other receives. Not deleted by then, it is visible again and received again, even if its first consumer is still working on it (SQS takes whole seconds, 30 s by default; this simulation's times are scaled down). */
  "visibility-timeout-ms"?: string;
  /** Crash before processing: The consumer crashes after receiving a message, before applying it. */
  "crash-before-process"?: string;
  /** Crash after processing: The consumer crashes after applying a message, before its offset or transaction commit (Kafka: its partition is read again from the committed offset) or its basic.ack (RabbitMQ: the broker requeues it) or DeleteMessage (SQS: it comes back after the visibility timeout). */
  "crash-after-process"?: string;
  /** Ack / commit lost: Kafka: an offset commit or transaction commit is lost on its way to the group coordinator; commits are cumulative, so the next one covers it. RabbitMQ: the consumer's connection drops before a basic.ack arrives, so the broker requeues every delivery it had unacknowledged. SQS: a DeleteMessage is lost, so the message comes back when its visibility timeout passes. */
  "ack-loss"?: string;
  /** Processing time (ms): Time to apply one payment to the ledger. */
  "processing-ms"?: string;
  /** Records per poll: Records fetched per poll; with exactly-once, the most records per transaction. */
  "max-poll"?: string;
  /** Restart time (ms): Time until a crashed consumer, or a restarted producer or outbox relay, is back. */
  "restart-ms"?: string;
  /** Session timeout (ms): Time until the group notices a silent consumer and hands its partitions to the others (Kafka session.timeout.ms, 45 s by default; this simulation's times are scaled down). */
  "session-timeout-ms"?: string;
  /** Commit interval (ms): Kafka's auto.commit.interval.ms: how often a consumer commits its offsets, inside its poll; 0 commits after each poll's records are processed. A crash replays everything processed since the last commit. */
  "commit-interval-ms"?: string;
  /** Isolation: Kafka's isolation.level for exactly-once's output: read-committed skips records of aborted transactions; read-uncommitted applies them, so an aborted and retried transaction charges twice. */
  "isolation"?: "read-committed" | "read-uncommitted";
  /** Dedup window (ms): How long the dedup store remembers a processed message ID. */
  "dedup-window-ms"?: string;
  /** Latency (ms): One-way latency of every network hop. */
  "latency-ms"?: string;
  /** Jitter (ms): Random spread added to or taken from each hop's latency. */
  "jitter-ms"?: string;
  /** Delivery lost: A delivery from broker to consumer is lost on the network (SQS: a ReceiveMessage response; its messages stay invisible until their visibility timeout passes, their receives counted). */
  "delivery-loss"?: string;
  /** Network duplicate: A publish or a delivery arrives twice, copied on the way. TCP never repeats a request, so Kafka's and RabbitMQ's own connections never do this: it stands for a layer in between that resends (a retrying proxy or gateway). */
  "duplicate"?: string;
  /** Delay: A message on any hop is held back by the extra delay. */
  "delay"?: string;
  /** Extra delay (ms): How long a delayed message is held back. */
  "delay-ms"?: string;
  /** Messages: Payments to publish. */
  "messages"?: string;
  /** Publish rate (msg/s): Payments published per second of simulated time, over all producers. */
  "publish-rate"?: string;
  /** Producers: Producer instances; payments are spread over them. */
  "producers"?: string;
  /** Consumers: Consumers in the group; with none, nothing reads the topic and the run stalls. */
  "consumers"?: string;
  /** Partitions: Partitions of the topic; each is read by one consumer at a time. */
  "partitions"?: string;
  /** Customer accounts: Accounts the payments are spread over. */
  "accounts"?: string;
  /** Transaction write (ms): Transaction log write, paid by each exactly-once commit and each outbox write. */
  "txn-write-ms"?: string;
  /** Transaction ack (ms): Acknowledgement of a transaction commit. */
  "txn-ack-ms"?: string;
  /** Dedup look-up (ms): Time of one look-up in the dedup store. */
  "dedup-lookup-ms"?: string;
  /** Horizon (ms): Simulated time after which the run stops, whatever is still in flight. */
  "horizon-ms"?: string;
  /** External charge: Each payment also charges the card through an external API, outside the broker's transaction. */
  "external-effect"?: "off" | "on";
  /** Idempotency key: The external call carries the message ID as an idempotency key: the provider charges each key once. */
  "idempotency-key"?: "off" | "on";
  /** Consumer stall (GC pause): The consumer freezes after processing a record, before its offset or transaction commit, and later wakes up. */
  "consumer-stall"?: string;
  /** Stall length (ms): How long a stall lasts; past the session timeout the group gives its partitions away. */
  "stall-ms"?: string;
  /** Fencing: Exactly-once: reject a commit from a consumer whose records were handed to another (a zombie). */
  "fencing"?: "off" | "on";
  /** External call (ms): Round trip of the external charge, paid per payment while the consumer waits. */
  "external-latency-ms"?: string;
  /** Replica lag: After an append, a follower falls out of the in-sync replicas (it stops copying) for the replica lag time. */
  "replica-lag"?: string;
  /** Replica lag time (ms): How long a lagging follower stays out of the in-sync replicas before it has caught up (Kafka removes it after replica.lag.time.max.ms). */
  "replica-lag-ms"?: string;
  /** Min in-sync replicas: With acks=all, a partition with fewer in-sync replicas refuses writes (NotEnoughReplicas); at most the replication factor (Kafka min.insync.replicas). */
  "min-insync-replicas"?: string;
  /** Unclean leader election: When the last in-sync replica dies, a lagging follower may lead: the partition is back at once but loses what that follower lacks (Kafka unclean.leader.election.enable). */
  "unclean-election"?: "off" | "on";
  /** Idempotent producer: Kafka enable.idempotence: a producer ID, an epoch and per-partition sequence numbers let the broker drop retries. auto: on exactly when acks=all (Kafka >= 3.0); on is refused with acks=leader. At-most-once (acks=0) never is, exactly-once always is. */
  "producer-idempotence"?: "auto" | "on" | "off";
  /** Max in flight: Kafka max.in.flight.requests.per.connection: unacknowledged produce requests per connection, modelled per producer and partition since each partition here has its own leader (an idempotent producer's request carries a batch of up to 16 records); more wait in the producer. Above 1, without idempotence, a retried record can land behind a later one. */
  "max-in-flight"?: string;
  /** Producer restart: Per message: its producer dies after sending it, before its ack, and restarts after the restart time, resending every record it has no ack for. Without a transactional.id it gets a new producer ID, so the broker cannot recognise the resends. */
  "producer-restart"?: string;
  /** Outbox relay crash: Outbox, per row: the relay dies after the row's publish was acked, before marking it sent, and publishes it again when it restarts. */
  "relay-crash"?: string;
  /** Transaction timeout (ms): Kafka transaction.timeout.ms (exactly-once): the coordinator aborts a transaction left open longer and fences the instance that opened it, so a consumer stalled past it, or a producer down longer, cannot commit it. */
  "transaction-timeout-ms"?: string;
  /** Broker: Which real system the broker models (kafka: Apache Kafka's partitioned log and consumer group; rabbitmq: a classic queue with pushed deliveries; sqs and sqs-fifo: Amazon SQS's polled queues); a setting that system does not have is refused. */
  "broker"?: "kafka" | "rabbitmq" | "sqs" | "sqs-fifo";
  /** Prefetch: RabbitMQ basic.qos: the most unacknowledged deliveries the broker pushes to one consumer (0 = unlimited). An auto-ack consumer (at-most-once) is not limited: the broker pushes it everything. */
  "prefetch"?: string;
  /** Receive batch: SQS ReceiveMessage MaxNumberOfMessages: the most messages one receive returns (SQS allows 1 to 10). Each becomes invisible for the visibility timeout at once, so the last of a batch waits behind the others' processing. */
  "receive-batch"?: string;
  /** Max receives: SQS redrive policy maxReceiveCount: a message received this many times moves to the dead-letter queue at its next receive (0 = no redrive policy). SQS advises against 1: a receive can count without reaching the consumer. */
  "max-receives"?: string;
  /** Extra copy: SQS standard queue: the chance that a DeleteMessage misses a copy of the message kept on a server that was unavailable, so the message is received again later. SQS documents that a standard queue may deliver a message more than once. */
  "extra-copy"?: string;
  /** Queue type: RabbitMQ x-queue-type: classic (one node, confirms after the disk write) or quorum (Raft-replicated on three nodes, confirms once a majority has the message, and may dead-letter after delivery-limit). */
  "queue-type"?: "classic" | "quorum";
  /** Delivery limit: A quorum queue's x-delivery-limit: a message returned more often than this (its consumer's channel closed while holding it) is dead-lettered (to its dead-letter exchange, which this model assumes; without one it is dropped) instead of delivered again; 0 = no limit (RabbitMQ 3.x; 4.0 defaults to 20). Classic queues have none. */
  "delivery-limit"?: string;
  /** Start from a named preset; the other attributes change it. */
  "preset"?: "consumer-crash-after-processing" | "ack-before-processing" | "network-failure-during-commit" | "double-charge" | "lossy-metrics" | "dedup-window-too-short" | "broker-crash-acks-leader" | "broker-crash-acks-all" | "min-insync-1-loses-acked" | "dual-write" | "kafka-auto-commit-replay" | "exactly-once-trap" | "zombie-consumer" | "read-uncommitted-sees-aborted" | "producer-restart-new-pid" | "rabbitmq-auto-ack-crash" | "rabbitmq-requeue-on-close" | "sqs-visibility-timeout-too-short" | "sqs-fifo-retry-after-window";
  /** A fault timeline, as the playground's URL writes it. */
  "script"?: string;
  /** What the element shows; counters when absent. */
  view?: "counters" | "dashboard" | "compare" | "timeline" | "matrix";
  /** Its height in CSS pixels, 100 to 4000; the content's own when absent. */
  height?: string;
  /** Its colours; the reader's system decides when absent or auto. Changing it re-runs nothing. */
  theme?: "light" | "dark" | "auto";
}

export declare class DeliveryPlayground extends HTMLElement {}

declare global {
  interface HTMLElementTagNameMap {
    "delivery-playground": DeliveryPlayground;
  }
}
