// Generated from the Rust types by crates/dsim-wasm/src/typescript.rs; do not edit.
// Regenerate with: DSIM_BLESS=1 cargo test -p dsim-wasm typescript

/** A scenario as functions take it: any subset of the settings, the rest keep their defaults.
 * kebab-case keys (`"ack-loss"`) are accepted as well. */
export type ScenarioInput = Partial<Scenario>;

/**
 * A complete, self-contained description of one run.
 *
 * Field docs give the unit and the default. Probabilities are in `0..=1` and apply
 * independently, per message per hop per attempt.
 */
export type Scenario = {
  /**
   * Delivery mode. Default `at-least-once`.
   */
  mode: Mode,
  /**
   * Broker family: which real system is modelled. Default `kafka`. A setting that the
   * family does not have is refused for it, and stays at its default.
   */
  broker: Broker,
  /**
   * Seed of every random decision. Default 42.
   */
  seed: number,
  /**
   * Payments to publish. Default 10,000.
   */
  messages: number,
  /**
   * Producer instances; messages are spread round-robin. Default 2.
   */
  producers: number,
  /**
   * Consumers in the group. Default 4.
   */
  consumers: number,
  /**
   * Partitions of the topic; each is owned by one live consumer. Default 8.
   */
  partitions?: number,
  /**
   * Total publish rate, messages per second of simulated time. Default 2,000.
   */
  publishRate: number,
  /**
   * Customer accounts the payments are spread over. Default 100.
   */
  accounts: number,
  /**
   * One-way network latency, ms. Default 1.
   */
  latencyMs: number,
  /**
   * Uniform jitter added to or removed from each hop's latency, ms. Default 0.5.
   */
  jitterMs: number,
  /**
   * Probability that a message on any hop is delayed by `delay_ms` more. Default 0.
   */
  delay: number,
  /**
   * Extra delay of a delayed message, ms. Default 250.
   */
  delayMs: number,
  /**
   * Probability that the network delivers a publish or a delivery twice. Default 0.
   */
  duplicate: number,
  /**
   * Probability that a delivery (broker to consumer) is lost. Default 0.
   */
  deliveryLoss?: number,
  /**
   * Probability that a publish (producer to broker) is lost. Default 0.
   */
  publishLoss: number,
  /**
   * Probability that the broker's ack to the producer is lost. Default 0.
   */
  publishAckLoss: number,
  /**
   * Probability that a producer crashes after its own database write and before publishing
   * (the dual-write problem the outbox solves). Default 0.
   */
  producerCrash: number,
  /**
   * How long the producer waits for an ack (an exactly-once consumer for its commit's answer)
   * before retrying, ms; doubles per retry. Default 50.
   */
  ackTimeoutMs: number,
  /**
   * Publish retries before the producer gives up and reports the failure; the outbox relay
   * and exactly-once's transactional producer never give up. Default 8.
   */
  maxRetries: number,
  /**
   * How often the outbox relay polls for unpublished rows, ms. Default 10.
   */
  outboxPollMs: number,
  /**
   * Probability that the partition leader crashes right after appending a message. Default 0.
   */
  brokerCrash: number,
  /**
   * When the broker acks a publish. Default `all`. Exactly-once always uses `all`.
   */
  acks?: Acks,
  /**
   * Copies of each partition (leader included). Default 3.
   */
  replicationFactor?: number,
  /**
   * Time to replicate (or, with one replica, flush) an append, ms. Default 5.
   */
  replicationMs: number,
  /**
   * How long the broker is unavailable after a crash while a new leader is elected, ms.
   * Default 200.
   */
  failoverMs: number,
  /**
   * SQS's visibility timeout, ms: how long a received message stays invisible to other
   * receives; not deleted by then, it is visible again. Default 200 (SQS's own default is
   * 30 s; the playground's runs are short). Only `sqs` and `sqs-fifo` have it; left out of
   * JSON at its default.
   */
  visibilityTimeoutMs?: number,
  /**
   * Probability that the consumer crashes after receiving a message, before processing it.
   * Default 0.
   */
  crashBeforeProcess: number,
  /**
   * Probability that the consumer crashes after processing, before its offset or transaction commit.
   * Default 0.
   */
  crashAfterProcess: number,
  /**
   * Probability that the consumer's ack or transaction commit is lost on the way to the
   * broker. Default 0.
   */
  ackLoss: number,
  /**
   * Time to apply one payment to the ledger, ms. Default 1.
   */
  processingMs: number,
  /**
   * Records fetched per poll; with exactly-once, also the most records per transaction.
   * Default 50.
   */
  maxPoll?: number,
  /**
   * Time until a crashed consumer (or a restarted producer or outbox relay) is back, ms.
   * Default 100.
   */
  restartMs: number,
  /**
   * Time until the group notices a silent consumer and hands its partitions over, ms.
   * Default 300.
   */
  sessionTimeoutMs?: number,
  /**
   * How often a consumer commits its offsets, ms (Kafka's `auto.commit.interval.ms`; the
   * commit runs inside the poll); 0 commits after each poll's records are processed.
   * Default 0.
   */
  commitIntervalMs?: number,
  /**
   * Exactly-once: what the ledger's reader of the output topic sees (Kafka's
   * `isolation.level`). Default `read-committed`.
   */
  isolation?: Isolation,
  /**
   * Time of one dedup-store look-up, ms. Default 0.1.
   */
  dedupLookupMs: number,
  /**
   * How long the consumer's dedup store remembers a processed ID, ms. Default 300,000
   * (five minutes).
   */
  dedupWindowMs: number,
  /**
   * Transaction log write, ms. Default 1.
   */
  txnWriteMs?: number,
  /**
   * Transaction commit acknowledgement, ms. Default 1.
   */
  txnAckMs?: number,
  /**
   * The run stops here even if messages are still in flight, ms of simulated time.
   * Default 600,000.
   */
  horizonMs: number,
  /**
   * Whether each payment also charges the customer's card through an external API, outside
   * the broker's transaction. Default off.
   */
  externalEffect?: boolean,
  /**
   * Whether that call carries an idempotency key (the message ID), so the provider charges
   * a key once however often it is called. Default off.
   */
  idempotencyKey?: boolean,
  /**
   * Round trip of the external call, paid per payment while the consumer waits, ms.
   * Default 100.
   */
  externalLatencyMs?: number,
  /**
   * Probability that a consumer stalls (a stop-the-world GC pause) right after processing
   * a record, before its offset or transaction commit. Default 0.
   */
  consumerStall?: number,
  /**
   * How long a stall lasts, ms; longer than the session timeout, the group hands the
   * consumer's partitions to the others while it sleeps. Default 1,000.
   */
  stallMs?: number,
  /**
   * Exactly-once: whether the transaction coordinator rejects a commit from a consumer
   * whose records another consumer has since been given (generation fencing). Default on.
   */
  fencing?: boolean,
  /**
   * Probability, per append, that a follower falls out of the in-sync replica set (ISR)
   * for `replica_lag_ms`: it stops copying appends until it is back. Default 0.
   */
  replicaLag?: number,
  /**
   * How long a lagging follower stays out of the ISR before it has caught up and rejoins,
   * ms. Default 1,000 (Kafka removes a follower after `replica.lag.time.max.ms`, 30 s, of
   * lag; a run here lasts seconds, so the lag is scaled to the run).
   */
  replicaLagMs?: number,
  /**
   * With `acks=all`, the fewest in-sync replicas (leader included) a partition needs to
   * accept a write; below it the write is refused (NotEnoughReplicas) and the producer
   * retries. 1 to `replication_factor`. Default 1, as Kafka's `min.insync.replicas`.
   */
  minInsyncReplicas?: number,
  /**
   * Whether a follower that is not in sync may become leader when the ISR's last member
   * dies (Kafka's `unclean.leader.election.enable`): the partition comes back at once, but
   * every record that follower lacks is lost, acknowledged or not. Default off: the
   * partition waits for the old leader instead.
   */
  uncleanElection?: boolean,
  /**
   * Kafka `enable.idempotence`: `auto` (on exactly when the effective acks is `all`), `on`
   * (refused with `acks=leader`) or `off`. At-most-once (acks=0) is never idempotent;
   * exactly-once always is (its `transactional.id` implies it). Default `auto`.
   */
  producerIdempotence?: Idempotence,
  /**
   * Kafka `max.in.flight.requests.per.connection`: unacknowledged sends a producer may have
   * per partition, 1 to 5; further records wait in the producer. Default 5.
   */
  maxInFlight?: number,
  /**
   * Probability per message that its producer instance dies after sending it (its first
   * send) and before its ack, and restarts after `restart_ms`, resending every record it has no ack for. Default 0.
   */
  producerRestart?: number,
  /**
   * Outbox: probability per row that the relay dies after the row's first publish was
   * acked and before it marked the row sent, and publishes the row again when it restarts. Default 0.
   */
  relayCrash?: number,
  /**
   * Kafka `transaction.timeout.ms` (exactly-once): the transaction coordinator aborts a
   * transaction left open longer, and bumps its producer's epoch, so the late commit of the
   * instance that opened it is refused (a consumer stalled past it, or a producer down
   * longer). Default 60,000, Kafka's.
   */
  transactionTimeoutMs?: number,
  /**
   * RabbitMQ `basic.qos` prefetch count: the most unacknowledged deliveries the broker
   * pushes to one consumer; 0 is unlimited (RabbitMQ's own default when the consumer sets
   * none). An auto-ack consumer (at-most-once) is not limited by it. Default 10.
   */
  prefetch?: number,
  /**
   * RabbitMQ `x-queue-type`: classic (one node) or quorum (replicated on three). Default
   * classic.
   */
  queueType?: QueueType,
  /**
   * A quorum queue's `x-delivery-limit`: a message returned to the queue more often than
   * this (its consumers' channels closed while they held it) is dead-lettered instead of
   * delivered again. 0 is no limit, as in RabbitMQ 3.x (4.0 defaults to 20). Default 0.
   */
  deliveryLimit?: number,
  /**
   * SQS ReceiveMessage `MaxNumberOfMessages`: the most messages one receive returns, 1 to
   * 10. Default 10.
   */
  receiveBatch?: number,
  /**
   * SQS redrive policy `maxReceiveCount`: a message received this many times moves to the
   * dead-letter queue at its next receive; 0 is no redrive policy. Default 0.
   */
  maxReceives?: number,
  /**
   * Probability that a DeleteMessage on a standard queue misses a copy of the message on
   * a server that was unavailable, so the message is received again later (SQS documents
   * at-least-once delivery with occasional duplicates). Default 0.
   */
  extraCopy?: number,
  /**
   * Faults at given times, besides the random ones (see `script`): in JSON a list of
   * objects, in URLs and on the command line the compact text
   * `2s:crash-consumer-1-after;3s-4s:partition-broker-producer-0`. Default empty, and left
   * out of JSON when empty.
   */
  script?: Array<ScriptedFault>,
};

export type Report = {
  mode: Mode,
  seed: number,
  messages: number,
  status: Status,
  produced: number,
  /**
   * Payments applied to the ledger, duplicates included.
   */
  side_effects: number,
  /**
   * Messages applied at least once.
   */
  unique_processed: number,
  /**
   * `side_effects - unique_processed`.
   */
  duplicates: number,
  /**
   * Produced and never applied, once nothing can apply them any more.
   */
  lost: number,
  /**
   * Of `lost`: vanished without anyone being told.
   */
  lost_silently: number,
  /**
   * Of `lost`: the producer ran out of retries and reported a failure.
   */
  gave_up: number,
  /**
   * Of `lost`: the broker ran out of redeliveries and dead-lettered it.
   */
  dead_lettered: number,
  /**
   * Produced, never applied, and still in flight when the run stopped (only a stalled or
   * partial run has any).
   */
  in_flight: number,
  /**
   * Producers' resends: a publish sent again because its ack did not come in time (or the
   * broker refused it and the producer may retry). At-most-once (acks=0) never resends.
   */
  retries: number,
  /**
   * Consumers' resends: an offset commit (or, in exactly-once, a transaction commit) sent
   * again because its answer did not come in time. Apart from `retries`, so that an
   * at-most-once run, whose producer never resends, does not seem to retry publishes.
   */
  commit_retries: number,
  /**
   * Records a consumer read again because its partition's reader restarted from the
   * group's committed offset (after a crash, a session timeout, a rebalance or an aborted
   * transaction): every record after that offset is delivered again.
   */
  replayed: number,
  /**
   * Offset commits the group coordinator accepted (every mode but exactly-once, which
   * commits its offsets inside its transactions).
   */
  offset_commits: number,
  /**
   * Exactly-once: output records of aborted transactions that the read-committed reader
   * skipped. A read-uncommitted reader applies them instead (they show as duplicates when
   * the retried transaction applies them again), so with it this stays 0.
   */
  aborted_skipped: number,
  /**
   * A stalled run on Kafka: the first partition whose committed offset never got past a
   * record, and that offset (a record that keeps crashing its consumer blocks it).
   */
  stuck_at?: StuckAt,
  /**
   * Payments applied to the ledger in another order than they were produced, per account
   * (accounts map to partitions by key): first applications of a payment after a
   * later-produced payment of the same account was first applied.
   */
  reordered: number,
  network_messages: number,
  events: number,
  /**
   * Simulated time the run covered.
   */
  duration_ms: number,
  /**
   * Unique messages applied per second, from the first publish to the last application.
   */
  throughput_per_s: number,
  /**
   * The most messages per second this scenario's consumers could sustain, measured from
   * the run's busy time (`BusyTime`): each record costs the consumer's measured mean time
   * per record (processing, dedup look-up, external call) plus, in exactly-once, its share
   * of a transaction's commit, the measured mean commit wait over `max-poll` records (a
   * saturated consumer's poll, and the most records a transaction holds); the consumers
   * that can own partitions at once (`min(consumers, partitions)`) work in parallel. So
   * `min(consumers, partitions) × 1 s / (record time + commit time / max-poll)`. Below it
   * the throughput is the offered load; a saturated run's throughput stays under it by the
   * share of time its consumers wait for fetches (a round trip per `max-poll` records),
   * which is not counted as busy. Absent (`null`) when nothing was measured: no record handled, or
   * handling took no time (`processing-ms` 0 and no other cost).
   */
  capacity_per_s: number | null,
  latency_ms: LatencySummary,
  latency_histogram: Array<HistogramBin>,
  series: SeriesReport,
  ledger: LedgerReport,
  cost: CostReport,
  guarantee: Guarantee,
  /**
   * The first message applied more than once, whether or not the mode allows it.
   */
  example_duplicate: number | null,
  /**
   * The first message never applied, whether or not the mode allows it.
   */
  example_loss: number | null,
  /**
   * The first message delivered again (`replayed`); left out when none was.
   */
  example_replayed?: number,
  /**
   * The first message whose write or transactional commit fencing refused; left out when
   * none was.
   */
  example_fenced?: number,
  /**
   * When each entry of the scenario's script struck, in script order; left out when the
   * script is empty.
   */
  scripted_faults?: Array<ScriptedFiring>,
  scenario: Scenario,
  /**
   * The external provider's books; only with `external-effect` on.
   */
  external?: ExternalReport,
  /**
   * Stalls and zombies; only with `consumer-stall` above 0.
   */
  zombies?: ZombieReport,
  /**
   * The in-sync replicas at work; only with `replica-lag` above 0, `min-insync-replicas`
   * above 1 or `unclean-election` on.
   */
  replication?: ReplicationReport,
  /**
   * RabbitMQ's queue (`broker=rabbitmq` only): what its management UI shows.
   */
  queue?: QueueReport,
  /**
   * SQS's queue (`broker=sqs` or `sqs-fifo` only).
   */
  sqs?: SqsReport,
};

/**
 * A light view of a run in progress, for animation.
 */
export type Snapshot = {
  now_ms: number,
  progress: number,
  status: Status,
  produced: number,
  side_effects: number,
  unique_processed: number,
  duplicates: number,
  lost: number,
  in_flight: number,
  retries: number,
  replayed: number,
  network_messages: number,
  events: number,
  latency_p50_ms: number,
  latency_p99_ms: number,
};

/**
 * One step in a message's life.
 */
export type TraceEvent = {
  /**
   * Simulated time, microseconds.
   */
  at_us: number,
  kind: TraceKind,
  /**
   * The lane where it happened.
   */
  actor: Actor,
  /**
   * Where it was going, for arrows between lanes.
   */
  to: Actor | null,
  /**
   * Which producer or consumer, where that matters.
   */
  node: number | null,
  /**
   * The publish attempt (producer lanes) or delivery number (broker and consumer lanes),
   * from 1.
   */
  attempt: number,
  /**
   * Which copy, one encoding for every event: log entry × 4 + network copy (the broker's
   * `delivery_key`; entries past 63 count as 63). Retries without an idempotent producer
   * create further log entries, network duplicates further network copies; an event before
   * the broker has stored the publish has entry 0 (its network copy alone). 0 is the first
   * entry's first network copy.
   */
  copy: number,
  /**
   * A sentence for people.
   */
  note: string,
};

/**
 * One of the textbook failure cases, ready to run: `simulate(preset.scenario)`.
 */
export type Preset = {
  /**
   * Stable name, as in the playground's `?preset=` links.
   */
  key: string,
  title: string,
  /**
   * What happens, and what to try next, in a few sentences.
   */
  explanation: string,
  /**
   * The scenario as a URL query over the defaults (`mode=at-least-once&ack-loss=0.1`).
   */
  query: string,
  /**
   * The complete scenario the query describes.
   */
  scenario: Scenario,
};

/**
 * One scenario setting, with what a page needs to build a control for it.
 */
export type Knob = {
  /**
   * The kebab-case key of URLs and CLI flags (`ack-loss`).
   */
  key: string,
  /**
   * The camelCase key of scenario objects (`ackLoss`).
   */
  jsonKey: string,
  label: string,
  /**
   * One sentence on what the setting does.
   */
  help: string,
  /**
   * The control panel section (`"Consumer side"`).
   */
  group: string,
  kind: KnobKind,
  /**
   * `"ms"`, `"msg/s"` or empty.
   */
  unit: string,
  min: number,
  max: number,
  /**
   * A sensible slider step.
   */
  step: number,
  /**
   * The allowed names of a `choice` knob; empty for the others.
   */
  choices: Array<string>,
  /**
   * The playground's default.
   */
  default: KnobValue,
  /**
   * The broker families that have this setting; given for another, it is refused.
   */
  brokers: Array<Broker>,
};

/**
 * A delivery mode and what it promises.
 */
export type ModeInfo = {
  /**
   * The value of a scenario's `mode`.
   */
  key: Mode,
  /**
   * A title for tables (`"Idempotent consumer"`).
   */
  title: string,
  /**
   * How the mode works, in a sentence or two.
   */
  mechanism: string,
  /**
   * What it promises, as a report's `guarantee.promise` says it.
   */
  promise: string,
};

/**
 * A broker family: the real system it models.
 */
export type BrokerInfo = {
  /**
   * The value of a scenario's `broker`.
   */
  key: Broker,
  /**
   * The real system's name (`"Kafka"`).
   */
  title: string,
  /**
   * What the family is, in a sentence.
   */
  description: string,
};

/**
 * What to sweep. The base scenario (every other setting) is given separately.
 */
export type SweepSpec = {
  /**
   * The setting to vary, in kebab-case (`ack-loss`) or camelCase (`ackLoss`).
   */
  knob: string,
  /**
   * The first value.
   */
  from: number,
  /**
   * The last value (it may be below `from`).
   */
  to: number,
  /**
   * Evenly spaced points from `from` to `to`, both included; whole-number settings are
   * rounded at each point.
   */
  steps: number,
  /**
   * Runs per point and mode, with seeds `seed`, `seed + 1`, …; at least two, so that
   * every point has a confidence interval.
   */
  seeds: number,
};

/**
 * A sweep's results so far: every point whose runs are all done, in order.
 */
export type SweepResult = {
  /**
   * The swept setting's kebab-case key.
   */
  knob: string,
  label: string,
  /**
   * `"ms"`, `"msg/s"` or empty.
   */
  unit: string,
  spec: SweepSpec,
  /**
   * Every setting but the swept one; its `mode` is ignored (every mode runs).
   */
  base: Scenario,
  /**
   * The seeds each point averages over, from `base.seed`.
   */
  seeds: Array<number>,
  runs_done: number,
  runs_total: number,
  points: Array<SweepPoint>,
};

/**
 * How far a sweep has got.
 */
export type SweepProgress = {
  runs_done: number,
  runs_total: number,
  /**
   * Points whose runs are all done (they are in `result().points`).
   */
  points_done: number,
  /**
   * `runs_done / runs_total`, from 0 to 1.
   */
  fraction: number,
};

/**
 * One event of the run's history: a trace event with the message it belongs to.
 */
export type HistoryEvent = {
  message: number,
  /**
   * Simulated time, microseconds.
   */
  at_us: number,
  kind: TraceKind,
  actor: Actor,
  to: Actor | null,
  node: number | null,
  /**
   * The publish attempt or the delivery number, from 1; 0 where no attempt applies.
   */
  attempt: number,
  /**
   * Which log entry and network copy.
   */
  copy: number,
  note: string,
};

/**
 * One cell of the table.
 */
export type MatrixCell = {
  broker: Broker,
  mode: Mode,
  /**
   * Why the broker does not run this mode; then there is no outcome.
   */
  refused?: string,
  outcome?: CellOutcome,
};

/**
 * When the broker acknowledges a publish.
 */
export type Acks = "leader" | "all";

/**
 * The swim lanes of a sequence diagram.
 */
export type Actor = "producer" | "broker" | "consumer" | "ledger" | "external";

/**
 * The broker family: which real system's mechanisms the broker and its clients model.
 *
 * Each value names one real system and is built with that system's own mechanisms; a
 * setting that a family does not have is refused for it (see `Knob::applies_to`). Issue 25
 * adds `rabbitmq`, `sqs` and `sqs-fifo` here.
 */
export type Broker = "kafka" | "rabbitmq" | "sqs" | "sqs-fifo";

/**
 * What one broker × mode run measured.
 */
export type CellOutcome = {
  /**
   * Whether the mode kept its promise (`Report::guarantee`).
   */
  held: boolean,
  promise: string,
  status: Status,
  duplicates: number,
  lost: number,
  in_flight: number,
  p99_ms: number,
  throughput_per_s: number,
  capacity_per_s: number | null,
  /**
   * Cards the external provider charged twice, when payments make an external call.
   */
  double_charges: number | null,
  /**
   * The cell's scenario as a URL query: loading it runs exactly this cell.
   */
  query: string,
};

/**
 * What the mechanisms cost.
 */
export type CostReport = {
  network_messages_per_message: number,
  log_appends: number,
  duplicates_dropped_by_broker: number,
  dedup_lookups: number,
  dedup_skips: number,
  /**
   * Most IDs the dedup store held at once.
   */
  dedup_store_peak: number,
  /**
   * Exactly-once: transactions the coordinator committed.
   */
  transactions: number,
  /**
   * Exactly-once: open transactions aborted, because their consumer crashed (Kafka's
   * coordinator aborts them when the restarted instance registers its transactional.id, or
   * at transaction.timeout.ms) or because the coordinator refused their commit (fenced, or
   * too late). Their output records stay in the log as aborted ones (`aborted_skipped`).
   */
  aborted_transactions: number,
  fenced_commits: number,
  /**
   * Transactions the coordinator aborted after `transaction.timeout.ms` (a consumer's whose
   * commit came too late, or a dead producer's).
   */
  transactions_timed_out: number,
  consumer_crashes: number,
  broker_crashes: number,
  producer_crashes: number,
  /**
   * Producer instances that died after sending, before the ack, and restarted
   * (`producer-restart`).
   */
  producer_restarts: number,
  /**
   * Outbox relays that died after a row's ack, before marking it sent (`relay-crash`).
   */
  relay_crashes: number,
  /**
   * Writes refused because a newer instance of the transactional ID bumped the epoch
   * (Kafka's `ProducerFencedException`).
   */
  producer_fenced: number,
  /**
   * Records of an aborted producer transaction: left in the log, marked aborted, skipped by
   * read-committed readers.
   */
  records_aborted: number,
  /**
   * Writes refused by an idempotent producer's sequence check (out of order, or an older
   * epoch) and retried by the producer.
   */
  sequence_rejections: number,
  /**
   * Most messages in flight (produced, not yet applied or given up) at once.
   */
  peak_in_flight_messages: number,
  /**
   * Most message slots the simulator held at once: a window from the oldest unresolved
   * message to the newest, less the stragglers moved out of it, plus those. At most five
   * times the most messages in flight plus a constant: memory follows what is in flight,
   * not the run's length.
   */
  peak_tracked_messages: number,
  /**
   * Most records the broker's log held at once (bounded by `MAX_LOG_RECORDS`).
   */
  peak_log_records: number,
};

/**
 * A message that broke the mode's promise, and its life.
 */
export type Counterexample = {
  message: number,
  /**
   * `duplicate` or `loss`.
   */
  problem: string,
  /**
   * Why it happened, in a sentence.
   */
  explanation: string,
  trace: Array<TraceEvent>,
};

/**
 * Where in its work a scripted consumer crash strikes.
 */
export type CrashPoint = "now" | "before-processing" | "after-processing";

/**
 * A mean and its 95 % confidence interval `[low, high]`.
 */
export type Estimate = {
  mean: number,
  low: number,
  high: number,
};

/**
 * What theory expects of one run, per message the scenario publishes.
 */
export type Expected = {
  duplicates_per_message: number,
  lost_per_message: number,
};

/**
 * The external payment provider's books (`external-effect` on): what the cards were really
 * charged. Outside every mode's promise, which covers the broker's ledger only.
 */
export type ExternalReport = {
  /**
   * Whether the calls carried an idempotency key.
   */
  idempotency_key: boolean,
  /**
   * Calls the consumers made, repeats included.
   */
  calls: number,
  /**
   * Charges the provider made.
   */
  charges: number,
  /**
   * Charges beyond the first for a payment: a card charged twice.
   */
  double_charges: number,
  /**
   * Repeated calls the provider answered from its idempotency keys, charging nothing.
   */
  deduplicated_by_key: number,
  charged_cents: number,
  overcharged_cents: number,
  accounts_double_charged: number,
  /**
   * The first payment the provider charged twice. Always written, `null` when none was:
   * the page's worker sends this struct in a format that has no field names.
   */
  example_double_charge: number | null,
  /**
   * What these numbers mean for the mode's promise, in a sentence or two.
   */
  note: string,
};

export type Guarantee = {
  /**
   * The mode's promise in words.
   */
  promise: string,
  /**
   * Whether no message was lost (so far, for a partial or stalled run).
   */
  no_loss: boolean,
  no_duplicates: boolean,
  /**
   * Whether the mode kept its promise.
   */
  held: boolean,
  counterexample: Counterexample | null,
};

/**
 * One bar of the latency histogram, `[from_ms, to_ms)`.
 */
export type HistogramBin = {
  from_ms: number,
  to_ms: number,
  count: number,
};

/**
 * Kafka's `enable.idempotence`: whether each producer numbers its records so that the broker
 * can drop its retries (a producer ID, an epoch and a sequence number per partition).
 */
export type Idempotence = "auto" | "on" | "off";

/**
 * What a reader of exactly-once's output sees (Kafka's `isolation.level`).
 */
export type Isolation = "read-committed" | "read-uncommitted";

/**
 * How a knob's value is read and shown.
 */
export type KnobKind = "probability" | "millis" | "count" | "rate" | "choice";

/**
 * A knob's value: a number, or a name for a choice.
 */
export type KnobValue = number | string;

export type LatencySummary = {
  p50: number,
  p95: number,
  p99: number,
  max: number,
  mean: number,
};

export type LedgerReport = {
  /**
   * What the producers meant to charge, in cents.
   */
  expected_cents: number,
  /**
   * What the ledger actually charged, in cents.
   */
  actual_cents: number,
  overcharged_cents: number,
  missing_cents: number,
  accounts_double_charged: number,
  accounts_missing_payments: number,
};

/**
 * The far end of a network link from the broker: every link in the model has the broker at
 * one end. Written `broker-producer-1` or `broker-consumer-0`.
 */
export type Link = string;

/**
 * The delivery mode: which mechanisms the producer, broker and consumer use.
 */
export type Mode = "at-most-once" | "at-least-once" | "idempotent-consumer" | "exactly-once" | "outbox";

/**
 * One mode at one point: the mean of its runs, each with a 95 % confidence interval.
 */
export type ModeSummary = {
  mode: Mode,
  runs: number,
  /**
   * Runs that stopped at their horizon with messages still in flight.
   */
  stalled_runs: number,
  /**
   * Extra applications per message published (`duplicates / messages`).
   */
  duplicates_per_message: Estimate,
  /**
   * Messages never applied, per message published (`lost / messages`).
   */
  lost_per_message: Estimate,
  latency_p99_ms: Estimate,
  throughput_per_s: Estimate,
  /**
   * What probability theory expects here, where a formula is valid (see `dsim_core::theory`).
   */
  expected: Expected | null,
};

/**
 * A RabbitMQ queue over the run, in the counts its management UI shows.
 */
export type QueueReport = {
  /**
   * `basic.qos` prefetch (0 = unlimited; an auto-ack consumer ignores it).
   */
  prefetch: number,
  /**
   * Whether consumers subscribed with auto-ack (at-most-once).
   */
  auto_ack: boolean,
  /**
   * Deliveries sent with `redelivered=true`: requeued after a channel closed.
   */
  redelivered: number,
  /**
   * Consumer connections that dropped (a lost basic.ack, a node restart), each requeueing
   * what it had unacknowledged.
   */
  connections_lost: number,
  /**
   * Most messages ready at once (`messages_ready`).
   */
  peak_ready: number,
  /**
   * Most deliveries unacknowledged at once (`messages_unacknowledged`).
   */
  peak_unacked: number,
  /**
   * Ready and unacknowledged when the run ended.
   */
  ready_at_end: number,
  unacked_at_end: number,
};

/**
 * A RabbitMQ queue's type (`x-queue-type`).
 */
export type QueueType = "classic" | "quorum";

/**
 * Kafka's replication settings at work (`replica-lag`, `min-insync-replicas` or
 * `unclean-election` away from their defaults).
 */
export type ReplicationReport = {
  replication_factor: number,
  min_insync_replicas: number,
  unclean_election: boolean,
  /**
   * Followers that fell out of the in-sync replicas (the fault `replica-lag`).
   */
  isr_shrinks: number,
  /**
   * Replicas that caught up and rejoined (lagging followers, and crashed leaders back).
   */
  isr_expands: number,
  /**
   * Publishes the leader refused because fewer replicas were in sync than
   * `min-insync-replicas` (Kafka's NotEnoughReplicas); the producer retried them.
   */
  not_enough_replicas: number,
  /**
   * Appends whose ack the leader withheld because the in-sync replicas fell below
   * `min-insync-replicas` before the append was replicated (Kafka's
   * NotEnoughReplicasAfterAppend); the producer retried them, so without an idempotent
   * producer they are stored twice.
   */
  not_enough_replicas_after_append: number,
  /**
   * Leader crashes that elected a follower out of sync (unclean leader election).
   */
  unclean_elections: number,
  /**
   * Records those elections truncated from the partition, acknowledged or not; the ones a
   * consumer had not read and no producer retried are lost.
   */
  unclean_truncated: number,
  /**
   * In-sync replicas, the leader included, when the run stopped.
   */
  in_sync_replicas: number,
};

/**
 * One entry of a fault timeline. Times are milliseconds of simulated time from the start of
 * the run, like every duration of a scenario.
 */
export type ScriptedFault = {
  "fault": "crash-consumer",
  atMs: number,
  consumer: number,
  point: CrashPoint,
  } | { "fault": "crash-broker",
  atMs: number,
  } | { "fault": "partition",
  fromMs: number,
  toMs: number,
  link: Link,
};

/**
 * What one entry of the script did in the run, so that a page can draw it from the run
 * itself: a window as a band from `from_ms` to `to_ms`, an instant as a line at `from_ms`.
 */
export type ScriptedFiring = {
  /**
   * The entry in the compact form, e.g. `3s-4s:partition-broker-producer-1`.
   */
  entry: string,
  /**
   * In words, e.g. `partition broker↔producer 1 from 3 s to 4 s`.
   */
  label: string,
  /**
   * Whether it is a window (a partition) rather than an instant (a crash).
   */
  window: boolean,
  /**
   * When it took effect, ms: a crash when it happened, a window when it opened. `None`
   * if the run ended first, or a crash found nothing to strike (its consumer was down).
   */
  from_ms: number | null,
  /**
   * When a window closed, ms, or the run's end if that came first; `None` for a crash.
   */
  to_ms: number | null,
  /**
   * Messages a window dropped, or 1 for a crash that happened.
   */
  struck: number,
};

/**
 * Measurements per bucket of simulated time; every vector has one value per bucket.
 */
export type SeriesReport = {
  bucket_ms: number,
  /**
   * Start of each bucket.
   */
  t_ms: Array<number>,
  /**
   * Messages applied for the first time, per second, in each bucket.
   */
  throughput_per_s: Array<number>,
  /**
   * Side effects (first or not) in each bucket.
   */
  applied: Array<number>,
  duplicates_cumulative: Array<number>,
  lost_cumulative: Array<number>,
  /**
   * Approximate latency percentiles of the messages first applied in each bucket.
   */
  latency_p50_ms: Array<number | null>,
  latency_p99_ms: Array<number | null>,
  /**
   * What `backlog` counts, one name per line: Kafka's partitions (`partition 0`, ...; past
   * eight partitions, `all partitions` and `largest partition`), RabbitMQ's `ready` and
   * `unacked`, SQS's `visible` and `in flight`.
   */
  backlog_lines: Array<string>,
  /**
   * What waited in the broker at the end of each bucket (at the run's last event for the
   * last one), one list per line of `backlog_lines`, each as long as `t_ms`. Kafka: each
   * partition's consumer lag, its log end offset minus the group's committed offset;
   * RabbitMQ: messages ready and unacknowledged; SQS: messages visible and in flight.
   */
  backlog: Array<Array<number>>,
};

/**
 * An SQS queue over the run, in the numbers its CloudWatch metrics and queue attributes
 * show.
 */
export type SqsReport = {
  /**
   * A FIFO queue (`sqs-fifo`).
   */
  fifo: boolean,
  visibility_timeout_ms: number,
  /**
   * ReceiveMessage `MaxNumberOfMessages`.
   */
  receive_batch: number,
  /**
   * The redrive policy's `maxReceiveCount` (0: none).
   */
  max_receives: number,
  /**
   * Messages handed out by ReceiveMessage (`NumberOfMessagesReceived`), first receives and
   * receives again.
   */
  receives: number,
  /**
   * Receives whose visibility timeout passed before a DeleteMessage: each put its message
   * back to be received again.
   */
  visibility_timeouts_expired: number,
  /**
   * Messages the redrive policy moved to the dead-letter queue.
   */
  redriven_to_dlq: number,
  /**
   * Standard queue: deletes that missed a copy on an unavailable server (`extra-copy`).
   */
  extra_copies: number,
  /**
   * FIFO: sends dropped as duplicates of one within its five-minute deduplication window.
   */
  dedup_dropped: number,
  /**
   * Most messages visible at once (`ApproximateNumberOfMessagesVisible`).
   */
  peak_visible: number,
  /**
   * Most messages in flight (received, not deleted, invisible) at once
   * (`ApproximateNumberOfMessagesNotVisible`).
   */
  peak_in_flight: number,
  /**
   * Visible and in flight when the run ended.
   */
  visible_at_end: number,
  in_flight_at_end: number,
};

/**
 * How a run ended, or that it has not yet.
 */
export type Status = "running" | "drained" | "gave-up" | "stalled";

/**
 * Where a stalled Kafka run could not get on: a partition and its committed offset.
 */
export type StuckAt = {
  partition: number,
  offset: number,
};

/**
 * One value of the knob, every mode.
 */
export type SweepPoint = {
  value: number,
  /**
   * In the order at-most-once, at-least-once, idempotent consumer, exactly-once, outbox.
   */
  modes: Array<ModeSummary>,
};

/**
 * What happened.
 */
export type TraceKind = "created" | "producer-crash" | "outbox-committed" | "publish" | "publish-lost" | "publish-duplicated" | "broker-unavailable" | "stored" | "duplicate-dropped" | "broker-crash" | "truncated" | "replicated" | "isr-shrunk" | "isr-expanded" | "not-enough-replicas" | "unclean-truncated" | "publish-ack" | "publish-ack-lost" | "ack-timeout" | "gave-up" | "delivered" | "delivery-lost" | "delivery-duplicated" | "received" | "acked-before-processing" | "crash" | "dropped-by-crash" | "skipped-by-position" | "dedup-skipped" | "processed" | "staged" | "committed" | "aborted" | "fenced" | "commit-lost" | "ack" | "ack-lost" | "replayed" | "requeued" | "dead-lettered" | "visibility-expired" | "extra-copy" | "external-charge" | "external-deduplicated" | "stalled" | "session-expired" | "woke" | "producer-died" | "producer-restarted" | "relay-crash" | "sequence-rejected" | "producer-fenced" | "record-aborted" | "epoch-bumped";

/**
 * Consumer stalls (`consumer-stall` above 0): how many, and what became of the zombies.
 */
export type ZombieReport = {
  fencing: boolean,
  stalls: number,
  /**
   * Stalls longer than the session timeout: the group removed the consumer and gave its
   * partitions away, so it woke as a zombie.
   */
  expelled: number,
  /**
   * Exactly-once commits rejected because another consumer held their records (also in
   * `cost.fenced_commits`).
   */
  fenced_commits: number,
  /**
   * Exactly-once commits accepted although another consumer held their records (only with
   * fencing off).
   */
  stale_commits_accepted: number,
};
