//! What a run reports: counters, latency, time series, the ledger, costs and the guarantee
//! check. A `Report` can be taken at any point of a run (partial results) or at its end.

pub mod checker;
#[cfg(feature = "claims")]
pub mod claims;
pub mod export;
pub mod in_flight;
pub mod matrix;
pub mod stats;
pub mod sweep;
pub mod theory;
pub mod time_travel;

use serde::{Deserialize, Serialize};

use crate::engine::Status;
use crate::observe::trace::TraceEvent;
use crate::scenario::script::Compiled;
use crate::scenario::{Mode, Scenario};
use crate::simulation::Simulation;
use crate::time::{Micros, us_to_ms};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct LatencySummary {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

/// One bar of the latency histogram, `[from_ms, to_ms)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct HistogramBin {
    pub from_ms: f64,
    pub to_ms: f64,
    pub count: u64,
}

/// Measurements per bucket of simulated time; every vector has one value per bucket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct SeriesReport {
    pub bucket_ms: f64,
    /// Start of each bucket.
    pub t_ms: Vec<f64>,
    /// Messages applied for the first time, per second, in each bucket.
    pub throughput_per_s: Vec<f64>,
    /// Side effects (first or not) in each bucket.
    pub applied: Vec<u64>,
    pub duplicates_cumulative: Vec<u64>,
    pub lost_cumulative: Vec<u64>,
    /// Approximate latency percentiles of the messages first applied in each bucket.
    pub latency_p50_ms: Vec<Option<f64>>,
    pub latency_p99_ms: Vec<Option<f64>>,
    /// What `backlog` counts, one name per line: Kafka's partitions (`partition 0`, ...; past
    /// eight partitions, `all partitions` and `largest partition`), RabbitMQ's `ready` and
    /// `unacked`, SQS's `visible` and `in flight`.
    pub backlog_lines: Vec<String>,
    /// What waited in the broker at the end of each bucket (at the run's last event for the
    /// last one), one list per line of `backlog_lines`, each as long as `t_ms`. Kafka: each
    /// partition's consumer lag, its log end offset minus the group's committed offset;
    /// RabbitMQ: messages ready and unacknowledged; SQS: messages visible and in flight.
    pub backlog: Vec<Vec<u64>>,
}

impl SeriesReport {
    /// The largest backlog sampled and where: `(line, value, ms)`, the time being the end of
    /// its bucket, where it was sampled; the earliest of equal peaks. `None` when nothing was
    /// sampled.
    pub fn peak_backlog(&self) -> Option<(usize, u64, f64)> {
        let mut peak: Option<(usize, u64, f64)> = None;
        for (line, values) in self.backlog.iter().enumerate() {
            for (i, &v) in values.iter().enumerate() {
                let t = self.t_ms.get(i).copied().unwrap_or(0.0) + self.bucket_ms;
                match peak {
                    Some((_, best, at)) if v < best || (v == best && t >= at) => {}
                    _ => peak = Some((line, v, t)),
                }
            }
        }
        peak
    }

    /// The backlog at the run's end (the last sample), one number per line.
    pub fn final_backlog(&self) -> Vec<u64> {
        self.backlog
            .iter()
            .map(|l| l.last().copied().unwrap_or(0))
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct LedgerReport {
    /// What the producers meant to charge, in cents.
    pub expected_cents: u64,
    /// What the ledger actually charged, in cents.
    pub actual_cents: u64,
    pub overcharged_cents: u64,
    pub missing_cents: u64,
    pub accounts_double_charged: u32,
    pub accounts_missing_payments: u32,
}

/// What the mechanisms cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct CostReport {
    pub network_messages_per_message: f64,
    pub log_appends: u64,
    pub duplicates_dropped_by_broker: u64,
    pub dedup_lookups: u64,
    pub dedup_skips: u64,
    /// Most IDs the dedup store held at once.
    pub dedup_store_peak: u64,
    /// Exactly-once: transactions the coordinator committed.
    pub transactions: u64,
    /// Exactly-once: open transactions aborted, because their consumer crashed (Kafka's
    /// coordinator aborts them when the restarted instance registers its transactional.id, or
    /// at transaction.timeout.ms) or because the coordinator refused their commit (fenced, or
    /// too late). Their output records stay in the log as aborted ones (`aborted_skipped`).
    pub aborted_transactions: u64,
    pub fenced_commits: u64,
    /// Transactions the coordinator aborted after `transaction.timeout.ms` (a consumer's whose
    /// commit came too late, or a dead producer's).
    pub transactions_timed_out: u64,
    pub consumer_crashes: u64,
    pub broker_crashes: u64,
    pub producer_crashes: u64,
    /// Producer instances that died after sending, before the ack, and restarted
    /// (`producer-restart`).
    pub producer_restarts: u64,
    /// Outbox relays that died after a row's ack, before marking it sent (`relay-crash`).
    pub relay_crashes: u64,
    /// Writes refused because a newer instance of the transactional ID bumped the epoch
    /// (Kafka's `ProducerFencedException`).
    pub producer_fenced: u64,
    /// Records of an aborted producer transaction: left in the log, marked aborted, skipped by
    /// read-committed readers.
    pub records_aborted: u64,
    /// Writes refused by an idempotent producer's sequence check (out of order, or an older
    /// epoch) and retried by the producer.
    pub sequence_rejections: u64,
    /// Most messages in flight (produced, not yet applied or given up) at once.
    pub peak_in_flight_messages: u64,
    /// Most message slots the simulator held at once: a window from the oldest unresolved
    /// message to the newest, less the stragglers moved out of it, plus those. At most five
    /// times the most messages in flight plus a constant: memory follows what is in flight,
    /// not the run's length.
    pub peak_tracked_messages: u64,
    /// Most records the broker's log held at once (bounded by `MAX_LOG_RECORDS`).
    pub peak_log_records: u64,
}

/// The external payment provider's books (`external-effect` on): what the cards were really
/// charged. Outside every mode's promise, which covers the broker's ledger only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ExternalReport {
    /// Whether the calls carried an idempotency key.
    pub idempotency_key: bool,
    /// Calls the consumers made, repeats included.
    pub calls: u64,
    /// Charges the provider made.
    pub charges: u64,
    /// Charges beyond the first for a payment: a card charged twice.
    pub double_charges: u64,
    /// Repeated calls the provider answered from its idempotency keys, charging nothing.
    pub deduplicated_by_key: u64,
    pub charged_cents: u64,
    pub overcharged_cents: u64,
    pub accounts_double_charged: u32,
    /// The first payment the provider charged twice. Always written, `null` when none was:
    /// the page's worker sends this struct in a format that has no field names.
    #[serde(default)]
    pub example_double_charge: Option<u32>,
    /// What these numbers mean for the mode's promise, in a sentence or two.
    pub note: String,
}

/// Consumer stalls (`consumer-stall` above 0): how many, and what became of the zombies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ZombieReport {
    pub fencing: bool,
    pub stalls: u64,
    /// Stalls longer than the session timeout: the group removed the consumer and gave its
    /// partitions away, so it woke as a zombie.
    pub expelled: u64,
    /// Exactly-once commits rejected because another consumer held their records (also in
    /// `cost.fenced_commits`).
    pub fenced_commits: u64,
    /// Exactly-once commits accepted although another consumer held their records (only with
    /// fencing off).
    pub stale_commits_accepted: u64,
}

/// A RabbitMQ queue over the run, in the counts its management UI shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct QueueReport {
    /// `basic.qos` prefetch (0 = unlimited; an auto-ack consumer ignores it).
    pub prefetch: u32,
    /// Whether consumers subscribed with auto-ack (at-most-once).
    pub auto_ack: bool,
    /// Deliveries sent with `redelivered=true`: requeued after a channel closed.
    pub redelivered: u64,
    /// Consumer connections that dropped (a lost basic.ack, a node restart), each requeueing
    /// what it had unacknowledged.
    pub connections_lost: u64,
    /// Most messages ready at once (`messages_ready`).
    pub peak_ready: u64,
    /// Most deliveries unacknowledged at once (`messages_unacknowledged`).
    pub peak_unacked: u64,
    /// Ready and unacknowledged when the run ended.
    pub ready_at_end: u64,
    pub unacked_at_end: u64,
}

/// An SQS queue over the run, in the numbers its CloudWatch metrics and queue attributes
/// show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct SqsReport {
    /// A FIFO queue (`sqs-fifo`).
    pub fifo: bool,
    pub visibility_timeout_ms: f64,
    /// ReceiveMessage `MaxNumberOfMessages`.
    pub receive_batch: u32,
    /// The redrive policy's `maxReceiveCount` (0: none).
    pub max_receives: u32,
    /// Messages handed out by ReceiveMessage (`NumberOfMessagesReceived`), first receives and
    /// receives again.
    pub receives: u64,
    /// Receives whose visibility timeout passed before a DeleteMessage: each put its message
    /// back to be received again.
    pub visibility_timeouts_expired: u64,
    /// Messages the redrive policy moved to the dead-letter queue.
    pub redriven_to_dlq: u64,
    /// Standard queue: deletes that missed a copy on an unavailable server (`extra-copy`).
    pub extra_copies: u64,
    /// FIFO: sends dropped as duplicates of one within its five-minute deduplication window.
    pub dedup_dropped: u64,
    /// Most messages visible at once (`ApproximateNumberOfMessagesVisible`).
    pub peak_visible: u64,
    /// Most messages in flight (received, not deleted, invisible) at once
    /// (`ApproximateNumberOfMessagesNotVisible`).
    pub peak_in_flight: u64,
    /// Visible and in flight when the run ended.
    pub visible_at_end: u64,
    pub in_flight_at_end: u64,
}

/// Kafka's replication settings at work (`replica-lag`, `min-insync-replicas` or
/// `unclean-election` away from their defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ReplicationReport {
    pub replication_factor: u32,
    pub min_insync_replicas: u32,
    pub unclean_election: bool,
    /// Followers that fell out of the in-sync replicas (the fault `replica-lag`).
    pub isr_shrinks: u64,
    /// Replicas that caught up and rejoined (lagging followers, and crashed leaders back).
    pub isr_expands: u64,
    /// Publishes the leader refused because fewer replicas were in sync than
    /// `min-insync-replicas` (Kafka's NotEnoughReplicas); the producer retried them.
    pub not_enough_replicas: u64,
    /// Appends whose ack the leader withheld because the in-sync replicas fell below
    /// `min-insync-replicas` before the append was replicated (Kafka's
    /// NotEnoughReplicasAfterAppend); the producer retried them, so without an idempotent
    /// producer they are stored twice.
    pub not_enough_replicas_after_append: u64,
    /// Leader crashes that elected a follower out of sync (unclean leader election).
    pub unclean_elections: u64,
    /// Records those elections truncated from the partition, acknowledged or not; the ones a
    /// consumer had not read and no producer retried are lost.
    pub unclean_truncated: u64,
    /// In-sync replicas, the leader included, when the run stopped.
    pub in_sync_replicas: u32,
}

/// A message that broke the mode's promise, and its life.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Counterexample {
    pub message: u32,
    /// `duplicate` or `loss`.
    pub problem: String,
    /// Why it happened, in a sentence.
    pub explanation: String,
    pub trace: Vec<TraceEvent>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Guarantee {
    /// The mode's promise in words.
    pub promise: String,
    /// Whether no message was lost (so far, for a partial or stalled run).
    pub no_loss: bool,
    pub no_duplicates: bool,
    /// Whether the mode kept its promise.
    pub held: bool,
    pub counterexample: Option<Counterexample>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Report {
    pub mode: Mode,
    pub seed: u64,
    pub messages: u32,
    pub status: Status,
    pub produced: u64,
    /// Payments applied to the ledger, duplicates included.
    pub side_effects: u64,
    /// Messages applied at least once.
    pub unique_processed: u64,
    /// `side_effects - unique_processed`.
    pub duplicates: u64,
    /// Produced and never applied, once nothing can apply them any more.
    pub lost: u64,
    /// Of `lost`: vanished without anyone being told.
    pub lost_silently: u64,
    /// Of `lost`: the producer ran out of retries and reported a failure.
    pub gave_up: u64,
    /// Of `lost`: the broker ran out of redeliveries and dead-lettered it.
    pub dead_lettered: u64,
    /// Produced, never applied, and still in flight when the run stopped (only a stalled or
    /// partial run has any).
    pub in_flight: u64,
    /// Producers' resends: a publish sent again because its ack did not come in time (or the
    /// broker refused it and the producer may retry). At-most-once (acks=0) never resends.
    pub retries: u64,
    /// Consumers' resends: an offset commit (or, in exactly-once, a transaction commit) sent
    /// again because its answer did not come in time. Apart from `retries`, so that an
    /// at-most-once run, whose producer never resends, does not seem to retry publishes.
    pub commit_retries: u64,
    /// Records a consumer read again because its partition's reader restarted from the
    /// group's committed offset (after a crash, a session timeout, a rebalance or an aborted
    /// transaction): every record after that offset is delivered again.
    pub replayed: u64,
    /// Offset commits the group coordinator accepted (every mode but exactly-once, which
    /// commits its offsets inside its transactions).
    pub offset_commits: u64,
    /// Exactly-once: output records of aborted transactions that the read-committed reader
    /// skipped. A read-uncommitted reader applies them instead (they show as duplicates when
    /// the retried transaction applies them again), so with it this stays 0.
    pub aborted_skipped: u64,
    /// A stalled run on Kafka: the first partition whose committed offset never got past a
    /// record, and that offset (a record that keeps crashing its consumer blocks it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub stuck_at: Option<StuckAt>,
    /// Payments applied to the ledger in another order than they were produced, per account
    /// (accounts map to partitions by key): first applications of a payment after a
    /// later-produced payment of the same account was first applied.
    pub reordered: u64,
    pub network_messages: u64,
    pub events: u64,
    /// Simulated time the run covered.
    pub duration_ms: f64,
    /// Unique messages applied per second, from the first publish to the last application.
    pub throughput_per_s: f64,
    /// The most messages per second this scenario's consumers could sustain, measured from
    /// the run's busy time (`BusyTime`): each record costs the consumer's measured mean time
    /// per record (processing, dedup look-up, external call) plus, in exactly-once, its share
    /// of a transaction's commit, the measured mean commit wait over `max-poll` records (a
    /// saturated consumer's poll, and the most records a transaction holds); the consumers
    /// that can own partitions at once (`min(consumers, partitions)`) work in parallel. So
    /// `min(consumers, partitions) × 1 s / (record time + commit time / max-poll)`. Below it
    /// the throughput is the offered load; a saturated run's throughput stays under it by the
    /// share of time its consumers wait for fetches (a round trip per `max-poll` records),
    /// which is not counted as busy. Absent (`null`) when nothing was measured: no record handled, or
    /// handling took no time (`processing-ms` 0 and no other cost).
    pub capacity_per_s: Option<f64>,
    pub latency_ms: LatencySummary,
    pub latency_histogram: Vec<HistogramBin>,
    pub series: SeriesReport,
    pub ledger: LedgerReport,
    pub cost: CostReport,
    pub guarantee: Guarantee,
    /// The first message applied more than once, whether or not the mode allows it.
    pub example_duplicate: Option<u32>,
    /// The first message never applied, whether or not the mode allows it.
    pub example_loss: Option<u32>,
    /// The first message delivered again (`replayed`); left out when none was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub example_replayed: Option<u32>,
    /// The first message whose write or transactional commit fencing refused; left out when
    /// none was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub example_fenced: Option<u32>,
    /// When each entry of the scenario's script struck, in script order; left out when the
    /// script is empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scripted_faults: Vec<ScriptedFiring>,
    pub scenario: Scenario,
    /// The external provider's books; only with `external-effect` on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub external: Option<ExternalReport>,
    /// Stalls and zombies; only with `consumer-stall` above 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub zombies: Option<ZombieReport>,
    /// The in-sync replicas at work; only with `replica-lag` above 0, `min-insync-replicas`
    /// above 1 or `unclean-election` on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub replication: Option<ReplicationReport>,
    /// RabbitMQ's queue (`broker=rabbitmq` only): what its management UI shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub queue: Option<QueueReport>,
    /// SQS's queue (`broker=sqs` or `sqs-fifo` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub sqs: Option<SqsReport>,
}

/// What one entry of the script did in the run, so that a page can draw it from the run
/// itself: a window as a band from `from_ms` to `to_ms`, an instant as a line at `from_ms`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ScriptedFiring {
    /// The entry in the compact form, e.g. `3s-4s:partition-broker-producer-1`.
    pub entry: String,
    /// In words, e.g. `partition broker↔producer 1 from 3 s to 4 s`.
    pub label: String,
    /// Whether it is a window (a partition) rather than an instant (a crash).
    pub window: bool,
    /// When it took effect, ms: a crash when it happened, a window when it opened. `None`
    /// if the run ended first, or a crash found nothing to strike (its consumer was down).
    pub from_ms: Option<f64>,
    /// When a window closed, ms, or the run's end if that came first; `None` for a crash.
    pub to_ms: Option<f64>,
    /// Messages a window dropped, or 1 for a crash that happened.
    pub struck: u64,
}

/// A light view of a run in progress, for animation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Snapshot {
    pub now_ms: f64,
    pub progress: f64,
    pub status: Status,
    pub produced: u64,
    pub side_effects: u64,
    pub unique_processed: u64,
    pub duplicates: u64,
    pub lost: u64,
    pub in_flight: u64,
    pub retries: u64,
    pub replayed: u64,
    pub network_messages: u64,
    pub events: u64,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
}

/// Histogram edges at ten readable steps per decade (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8), in
/// microseconds from 0.1 ms: integer arithmetic only, so every platform draws the same bars.
fn histogram_edges(max: Micros) -> Vec<Micros> {
    const STEPS: [u64; 10] = [10, 12, 15, 20, 25, 30, 40, 50, 60, 80];
    let mut edges = vec![0];
    let mut decade = 100;
    'outer: loop {
        for m in STEPS {
            let edge = decade * m / 10;
            edges.push(edge);
            if edge > max {
                break 'outer;
            }
        }
        decade *= 10;
    }
    edges
}

impl Report {
    /// How the run ended and why, in one sentence a person can act on: the CLI's table and
    /// the page show it under the status. Derived from the report alone, so any report (from
    /// the CLI, the page or JavaScript) explains itself the same way.
    pub fn status_detail(&self) -> String {
        let detail = self.status_reason();
        match self.stuck_at {
            // Kafka has no dead-letter queue: say where the group could not get on.
            Some(at) => format!(
                "{detail}; partition {} never got past offset {} (Kafka has no dead-letter queue: a record that keeps failing blocks its partition)",
                at.partition, at.offset
            ),
            None => detail,
        }
    }

    fn status_reason(&self) -> String {
        let in_flight = plural(self.in_flight, "message");
        match self.status {
            Status::Running => "running".into(),
            Status::Drained => {
                "drained: every message was applied or lost, and nothing is left in flight".into()
            }
            Status::GaveUp if self.dead_lettered == 0 => format!(
                "gave up: {} ran out of retries (given up by the producer)",
                plural(self.gave_up, "message"),
            ),
            Status::GaveUp => format!(
                "gave up: {} ran out of retries ({} given up by the producer, {} dead-lettered by the broker)",
                plural(self.gave_up + self.dead_lettered, "message"),
                self.gave_up,
                self.dead_lettered
            ),
            Status::Stalled if self.scenario.consumers == 0 => format!(
                "stalled: there are no consumers, so nothing reads the topic; {in_flight} still in flight"
            ),
            Status::Stalled
                if self.cost.peak_log_records >= crate::engine::MAX_LOG_RECORDS as u64 =>
            {
                format!(
                    "stalled: the broker's log reached its bound of {} records (every retry and network copy is one) with {in_flight} in flight",
                    crate::engine::MAX_LOG_RECORDS
                )
            }
            Status::Stalled if self.events >= crate::engine::event_budget(self.messages) => {
                format!(
                    "stalled: the event budget ({} events) ran out with {in_flight} in flight",
                    self.events
                )
            }
            Status::Stalled if self.duration_ms >= self.scenario.horizon_ms => format!(
                "stalled: the horizon ({} ms of simulated time) came with {in_flight} in flight",
                crate::scenario::knobs::format_number(self.scenario.horizon_ms)
            ),
            Status::Stalled => {
                format!("stalled: {in_flight} stuck with nothing left that could deliver them")
            }
        }
    }
}

fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

impl Simulation {
    /// What each scripted fault has done so far.
    pub fn scripted_firings(&self) -> Vec<ScriptedFiring> {
        let plan = self.world.faults.script();
        self.world
            .scenario
            .script
            .iter()
            .zip(plan.entries.iter().zip(&plan.struck))
            .map(|(fault, (compiled, struck))| {
                let (from_ms, to_ms, window) = match *compiled {
                    Compiled::Partition { from, to, .. } => {
                        let opened = self.world.now >= from;
                        (
                            opened.then(|| us_to_ms(from)),
                            opened.then(|| us_to_ms(to.min(self.world.now))),
                            true,
                        )
                    }
                    _ => (struck.first.map(us_to_ms), None, false),
                };
                ScriptedFiring {
                    entry: fault.to_text(),
                    label: fault.describe(),
                    window,
                    from_ms,
                    to_ms,
                    struck: struck.count,
                }
            })
            .collect()
    }
}

impl Simulation {
    /// `Report::capacity_per_s`, from the consumers' busy time so far.
    fn capacity_per_s(&self) -> Option<f64> {
        let busy = &self.world.metrics.busy;
        if busy.records == 0 {
            return None;
        }
        let mut per_record_us = busy.records_us as f64 / busy.records as f64;
        if busy.commits > 0 {
            let per_commit_us = busy.commits_us as f64 / busy.commits as f64;
            per_record_us += per_commit_us / self.world.scenario.max_poll.max(1) as f64;
        }
        let owners = self
            .world
            .scenario
            .consumers
            .min(self.world.scenario.partitions);
        (per_record_us > 0.0).then(|| owners as f64 * 1e6 / per_record_us)
    }

    pub fn snapshot(&self) -> Snapshot {
        let c = &self.world.metrics.counters;
        let h = &self.world.metrics.latency;
        let lost = c.lost + c.gave_up + c.dead_lettered;
        Snapshot {
            now_ms: us_to_ms(self.world.now),
            progress: self.progress(),
            status: self.world.status,
            produced: c.produced,
            side_effects: c.side_effects,
            unique_processed: c.unique_processed,
            duplicates: c.duplicates,
            lost,
            in_flight: c.produced - c.unique_processed - lost,
            retries: c.retries,
            replayed: c.replayed,
            network_messages: c.network_messages,
            events: c.events,
            latency_p50_ms: if h.is_empty() {
                0.0
            } else {
                us_to_ms(h.value_at_quantile(0.5))
            },
            latency_p99_ms: if h.is_empty() {
                0.0
            } else {
                us_to_ms(h.value_at_quantile(0.99))
            },
        }
    }

    /// The report of the run so far. The counterexample's trace is left empty here; `simulate`
    /// fills it by replaying the run with that message traced.
    pub fn report(&self) -> Report {
        let c = &self.world.metrics.counters;
        let h = &self.world.metrics.latency;
        let q = |quantile: f64| {
            if h.is_empty() {
                0.0
            } else {
                us_to_ms(h.value_at_quantile(quantile))
            }
        };
        let latency_ms = LatencySummary {
            p50: q(0.5),
            p95: q(0.95),
            p99: q(0.99),
            max: if h.is_empty() { 0.0 } else { us_to_ms(h.max()) },
            mean: if c.unique_processed == 0 {
                0.0
            } else {
                (self.world.metrics.latency_sum_us as f64 / c.unique_processed as f64) / 1000.0
            },
        };
        let latency_histogram = if h.is_empty() {
            Vec::new()
        } else {
            let edges = histogram_edges(h.max());
            edges
                .windows(2)
                .map(|w| HistogramBin {
                    from_ms: us_to_ms(w[0]),
                    to_ms: us_to_ms(w[1]),
                    count: h.count_between(w[0], w[1].saturating_sub(1).max(w[0])),
                })
                .collect()
        };
        let lost = c.lost + c.gave_up + c.dead_lettered;
        let span = self
            .world
            .metrics
            .last_apply_at
            .saturating_sub(self.world.metrics.first_publish_at.unwrap_or(0));
        let throughput_per_s = if span == 0 {
            0.0
        } else {
            c.unique_processed as f64 * 1e6 / span as f64
        };
        let capacity_per_s = self.capacity_per_s();
        let promise = self.world.mode.promise();
        let no_loss = lost == 0;
        let no_duplicates = c.duplicates == 0;
        let held = (!promise.no_loss || no_loss) && (!promise.no_duplicates || no_duplicates);
        let counterexample = if held {
            None
        } else if promise.no_duplicates && !no_duplicates {
            self.world
                .first_duplicate
                .map(|m| self.counterexample(m, "duplicate"))
        } else {
            self.world
                .first_loss
                .map(|m| self.counterexample(m, "loss"))
        };
        Report {
            mode: self.world.mode,
            seed: self.world.scenario.seed,
            messages: self.world.scenario.messages,
            status: self.world.status,
            produced: c.produced,
            side_effects: c.side_effects,
            unique_processed: c.unique_processed,
            duplicates: c.duplicates,
            lost,
            lost_silently: c.lost,
            gave_up: c.gave_up,
            dead_lettered: c.dead_lettered,
            in_flight: c.produced - c.unique_processed - lost,
            retries: c.retries,
            commit_retries: c.commit_retries,
            replayed: c.replayed,
            offset_commits: c.offset_commits,
            aborted_skipped: c.aborted_skipped,
            stuck_at: self.stuck_at(),
            reordered: c.reordered,
            network_messages: c.network_messages,
            events: c.events,
            duration_ms: us_to_ms(self.world.now),
            throughput_per_s,
            capacity_per_s,
            latency_ms,
            latency_histogram,
            series: self.series_report(),
            ledger: LedgerReport {
                expected_cents: self.world.ledger.expected_cents,
                actual_cents: self.world.ledger.actual_cents,
                overcharged_cents: self.world.ledger.overcharged_cents,
                missing_cents: self.world.ledger.missing_cents,
                accounts_double_charged: self.world.ledger.accounts_double_charged(),
                accounts_missing_payments: self.world.ledger.accounts_missing_payments(),
            },
            cost: CostReport {
                network_messages_per_message: if c.produced == 0 {
                    0.0
                } else {
                    c.network_messages as f64 / c.produced as f64
                },
                log_appends: c.appends,
                duplicates_dropped_by_broker: c.duplicates_dropped_by_broker,
                dedup_lookups: self.world.dedup.lookups,
                dedup_skips: c.dedup_skips,
                dedup_store_peak: self.world.dedup.peak as u64,
                transactions: c.transactions,
                aborted_transactions: c.aborted_transactions,
                fenced_commits: c.fenced_commits,
                transactions_timed_out: c.transactions_timed_out,
                consumer_crashes: c.consumer_crashes,
                broker_crashes: c.broker_crashes,
                producer_crashes: c.producer_crashes,
                producer_restarts: c.producer_restarts,
                relay_crashes: c.relay_crashes,
                producer_fenced: c.producer_fenced,
                records_aborted: c.records_aborted,
                sequence_rejections: c.sequence_rejections,
                peak_in_flight_messages: self.world.peak_in_flight,
                peak_tracked_messages: self.world.msgs.peak as u64,
                peak_log_records: self.brokers.entries.peak() as u64,
            },
            guarantee: Guarantee {
                promise: promise.describe().to_string(),
                no_loss,
                no_duplicates,
                held,
                counterexample,
            },
            example_duplicate: self.world.first_duplicate,
            example_loss: self.world.first_loss,
            example_replayed: self.world.metrics.examples.replayed,
            example_fenced: self.world.metrics.examples.fenced,
            scripted_faults: self.scripted_firings(),
            scenario: self.world.scenario.clone(),
            external: self.external_report(held),
            zombies: (self.world.scenario.consumer_stall > 0.0).then_some(ZombieReport {
                fencing: self.world.scenario.fencing,
                stalls: c.consumer_stalls,
                expelled: c.stall_expulsions,
                fenced_commits: c.fenced_commits,
                stale_commits_accepted: c.stale_commits_accepted,
            }),
            replication: self.replication_report(),
            queue: self.brokers.family.rabbit().map(|q| QueueReport {
                prefetch: self.world.scenario.prefetch,
                auto_ack: q.auto_ack,
                redelivered: c.replayed,
                connections_lost: c.connections_lost,
                peak_ready: q.peak_ready,
                peak_unacked: q.peak_unacked,
                ready_at_end: q.ready() as u64,
                unacked_at_end: q.unacked() as u64,
            }),
            sqs: self.brokers.family.sqs().map(|q| SqsReport {
                fifo: q.fifo,
                visibility_timeout_ms: self.world.scenario.visibility_timeout_ms,
                receive_batch: self.world.scenario.receive_batch,
                max_receives: self.world.scenario.max_receives,
                receives: q.receives,
                visibility_timeouts_expired: q.expired,
                redriven_to_dlq: q.dead_lettered,
                extra_copies: q.extra_copies,
                dedup_dropped: if q.fifo {
                    c.duplicates_dropped_by_broker
                } else {
                    0
                },
                peak_visible: q.peak_visible,
                peak_in_flight: q.peak_in_flight,
                visible_at_end: q.visible() as u64,
                in_flight_at_end: q.in_flight() as u64,
            }),
        }
    }

    fn replication_report(&self) -> Option<ReplicationReport> {
        let s = &self.world.scenario;
        if s.replica_lag == 0.0 && s.min_insync_replicas <= 1 && !s.unclean_election {
            return None;
        }
        let c = &self.world.metrics.counters;
        Some(ReplicationReport {
            replication_factor: s.replication_factor,
            min_insync_replicas: s.min_insync_replicas,
            unclean_election: s.unclean_election,
            isr_shrinks: c.isr_shrinks,
            isr_expands: c.isr_expands,
            not_enough_replicas: c.not_enough_replicas,
            not_enough_replicas_after_append: c.not_enough_replicas_after_append,
            unclean_elections: c.unclean_elections,
            unclean_truncated: c.unclean_truncated,
            in_sync_replicas: self.brokers.isr.in_sync_at(self.world.now) as u32,
        })
    }

    fn external_report(&self, held: bool) -> Option<ExternalReport> {
        let p = self.world.external.as_ref()?;
        let overcharged = crate::observe::money::whole_dollars(p.overcharged_cents);
        let note = if p.double_charges > 0 {
            let what = format!(
                "the card provider charged {} twice ({overcharged} too much)",
                plural(p.double_charges, "payment")
            );
            let lead = if held && self.world.mode.promise().no_duplicates {
                format!(
                    "{} held its promise for the broker's ledger, yet {what}",
                    self.world.mode.title()
                )
            } else {
                format!("Besides the ledger, {what}")
            };
            format!(
                "{lead}. The call happens outside any broker transaction, so when a record is processed again (a crash before its offset commit or transaction commit, an aborted transaction, a replay from the committed offset) the card is charged again; no mode's promise covers it. An idempotency key on the call stops it."
            )
        } else if p.deduplicated_by_key > 0 {
            let cards = format!(
                "The idempotency key turned {} into no-ops at the provider: every card was charged once",
                plural(p.deduplicated_by_key, "repeated call")
            );
            // The key guards the card, not the broker's ledger: say so where the ledger
            // counts double charges of its own, so the two books never read as one.
            match self.world.metrics.counters.duplicates {
                0 => format!("{cards}."),
                d => format!(
                    "{cards}. The broker's ledger is a book of its own, which the key does not cover: it applied {}.",
                    plural(d, "duplicate payment")
                ),
            }
        } else {
            "No card was charged twice: no payment was processed a second time.".to_string()
        };
        Some(ExternalReport {
            idempotency_key: self.world.scenario.idempotency_key,
            calls: p.calls,
            charges: p.charged,
            double_charges: p.double_charges,
            deduplicated_by_key: p.deduplicated_by_key,
            charged_cents: p.charged_cents,
            overcharged_cents: p.overcharged_cents,
            accounts_double_charged: p.accounts_double_charged(),
            example_double_charge: p.first_double_charge,
            note,
        })
    }

    fn counterexample(&self, message: u32, problem: &str) -> Counterexample {
        let trace = self
            .trace_of(message)
            .map(<[TraceEvent]>::to_vec)
            .unwrap_or_default();
        let explanation = if trace.is_empty() {
            match (problem, self.world.loss_causes.get(&message)) {
                ("loss", Some(cause)) => {
                    format!("Message {message} was lost: {}.", cause.describe())
                }
                _ => format!("Message {message} broke the promise; ask for its trace to see why."),
            }
        } else {
            crate::report::checker::explain(message, problem, self.world.mode, &trace)
        };
        Counterexample {
            message,
            problem: problem.to_string(),
            explanation,
            trace,
        }
    }

    fn series_report(&self) -> SeriesReport {
        let s = &self.world.metrics.series;
        let bucket_s = s.bucket_us as f64 / 1e6;
        let mut dup = 0;
        let mut lost = 0;
        let mut out = SeriesReport {
            bucket_ms: us_to_ms(s.bucket_us),
            t_ms: Vec::with_capacity(s.buckets.len()),
            throughput_per_s: Vec::with_capacity(s.buckets.len()),
            applied: Vec::with_capacity(s.buckets.len()),
            duplicates_cumulative: Vec::with_capacity(s.buckets.len()),
            lost_cumulative: Vec::with_capacity(s.buckets.len()),
            latency_p50_ms: Vec::with_capacity(s.buckets.len()),
            latency_p99_ms: Vec::with_capacity(s.buckets.len()),
            backlog_lines: self.brokers.backlog_lines(),
            backlog: Vec::new(),
        };
        // Bucket ends the run has not passed yet have no sample: what waits now stands there.
        let mut now = Vec::new();
        self.brokers.backlog(&mut now);
        out.backlog = vec![Vec::with_capacity(s.buckets.len()); now.len()];
        for (i, b) in s.buckets.iter().enumerate() {
            dup += b.duplicates;
            lost += b.lost;
            out.t_ms.push(us_to_ms(i as u64 * s.bucket_us));
            out.throughput_per_s.push(b.unique as f64 / bucket_s);
            out.applied.push(b.applied);
            out.duplicates_cumulative.push(dup);
            out.lost_cumulative.push(lost);
            out.latency_p50_ms
                .push(b.latency_quantile(0.5).map(us_to_ms));
            out.latency_p99_ms
                .push(b.latency_quantile(0.99).map(us_to_ms));
            let sample = if b.backlog.len() == now.len() {
                &b.backlog
            } else {
                &now
            };
            for (line, v) in out.backlog.iter_mut().zip(sample) {
                line.push(*v);
            }
        }
        out
    }
}

/// Where a stalled Kafka run could not get on: a partition and its committed offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct StuckAt {
    pub partition: u16,
    pub offset: u64,
}

impl Simulation {
    /// For a stalled run, the first partition whose next record (the first live one at or
    /// after the committed offset) was read more than once and never committed past: a
    /// record that keeps failing its consumer. A backlog the horizon cut short, or a topic
    /// nobody reads, is not stuck on a record, and has none.
    fn stuck_at(&self) -> Option<StuckAt> {
        if self.world.status != Status::Stalled {
            return None;
        }
        self.brokers.logs.iter().enumerate().find_map(|(p, log)| {
            let next = (log.committed..log.end()).find_map(|o| {
                let (e, g) = log.at(o)?;
                self.brokers
                    .entries
                    .live(e, g)
                    .map(|entry| (o, entry.deliveries))
            });
            match next {
                Some((offset, reads)) if reads > 1 => Some(StuckAt {
                    partition: p as u16,
                    offset,
                }),
                _ => None,
            }
        })
    }
}
