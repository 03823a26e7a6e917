//! Aggregate measurements of a run: counters, the latency distribution and time series.
//! Everything here is bounded in size whatever the number of messages.

use hdrhistogram::Histogram;

use crate::time::Micros;

/// The first message each of these happened to: the report offers its timeline, so every
/// counter of something gone wrong leads to one message it counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Examples {
    /// Delivered again: a replay from the committed offset (Kafka), a requeued delivery
    /// (RabbitMQ) or a receive after the visibility timeout (SQS).
    pub replayed: Option<u32>,
    /// A write or a transactional commit refused by fencing (epoch or group generation).
    pub fenced: Option<u32>,
}

/// Counters of everything that happened.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    pub produced: u64,
    pub side_effects: u64,
    pub unique_processed: u64,
    pub duplicates: u64,
    pub lost: u64,
    pub gave_up: u64,
    pub dead_lettered: u64,
    /// Producers' resends of a publish whose ack did not come (or was refused).
    pub retries: u64,
    /// Consumers' resends of an offset commit or a transaction commit whose answer did not
    /// come.
    pub commit_retries: u64,
    pub replayed: u64,
    pub offset_commits: u64,
    pub aborted_skipped: u64,
    pub network_messages: u64,
    pub appends: u64,
    pub duplicates_dropped_by_broker: u64,
    pub dedup_skips: u64,
    pub consumer_crashes: u64,
    pub broker_crashes: u64,
    /// RabbitMQ consumer connections that dropped (see `brokers/rabbitmq`).
    pub connections_lost: u64,
    pub producer_crashes: u64,
    pub transactions: u64,
    pub aborted_transactions: u64,
    pub fenced_commits: u64,
    pub consumer_stalls: u64,
    /// Stalls that outlasted the session timeout: the group removed the consumer.
    pub stall_expulsions: u64,
    /// Commits accepted from a consumer that no longer held its records (fencing off).
    pub stale_commits_accepted: u64,
    /// Transactions the coordinator aborted after `transaction.timeout.ms`.
    pub transactions_timed_out: u64,
    /// Publishes refused because the ISR was smaller than `min-insync-replicas`.
    pub not_enough_replicas: u64,
    /// Appends whose ack was withheld because the ISR shrank below `min-insync-replicas`
    /// before they were replicated (Kafka's NotEnoughReplicasAfterAppend).
    pub not_enough_replicas_after_append: u64,
    /// Followers that fell out of the ISR, and replicas that rejoined it.
    pub isr_shrinks: u64,
    pub isr_expands: u64,
    /// Leader elections of a follower out of sync, and the records they truncated.
    pub unclean_elections: u64,
    pub unclean_truncated: u64,
    /// First applications of a payment after a later-produced payment of the same account.
    pub reordered: u64,
    /// Producer instances that died after sending and restarted (`producer-restart`).
    pub producer_restarts: u64,
    /// Outbox relays that died between a row's ack and marking it sent (`relay-crash`).
    pub relay_crashes: u64,
    /// Writes refused because a newer instance holds the transactional ID (ProducerFenced).
    pub producer_fenced: u64,
    /// Records of a producer's open transaction that were aborted.
    pub records_aborted: u64,
    /// Writes an idempotent producer's partition refused as out of order or of a stale epoch.
    pub sequence_rejections: u64,
    pub events: u64,
}

/// How long the consumers were busy, and with what: what `capacity_per_s` is measured from.
/// A consumer is busy with a record from the moment it starts it (processing, the dedup
/// look-up, the external call) until the record is done, and, in exactly-once, with a commit
/// from sending it until the answer (it does nothing else meanwhile). Not busy: waiting for a
/// fetch, a stall (a GC pause is a fault, not work), being down, and work a crash cut short
/// (its interval is dropped and its record or commit not counted).
#[derive(Clone, Debug, Default)]
pub struct BusyTime {
    /// Per consumer, when its current piece of work began.
    since: Vec<Micros>,
    /// Time all consumers spent on records, µs.
    pub records_us: u64,
    /// Records whose processing completed (applied, staged or skipped as duplicates).
    pub records: u64,
    /// Time all consumers spent blocked on their transactions' commits, µs.
    pub commits_us: u64,
    /// Commits answered (committed or refused).
    pub commits: u64,
}

impl BusyTime {
    fn new(consumers: usize) -> BusyTime {
        BusyTime {
            since: vec![0; consumers],
            ..BusyTime::default()
        }
    }

    /// Consumer `consumer` starts a record or a commit at `now`.
    #[inline(always)]
    pub fn start(&mut self, consumer: u16, now: Micros) {
        self.since[consumer as usize] = now;
    }

    /// Consumer `consumer` is done with the record it started.
    #[inline(always)]
    pub fn record_done(&mut self, consumer: u16, now: Micros) {
        self.records_us += now - self.since[consumer as usize];
        self.records += 1;
    }

    /// Consumer `consumer` has the answer to the commit it sent.
    #[inline(always)]
    pub fn commit_done(&mut self, consumer: u16, now: Micros) {
        self.commits_us += now - self.since[consumer as usize];
        self.commits += 1;
    }
}

/// Buckets of a log-linear histogram small enough to keep one per time-series bucket:
/// four sub-buckets per power of two, so any percentile read from it is within about 19 %.
const SUB: u32 = 4;
const LOG_BINS: usize = 40 * SUB as usize;

fn log_bin(v: Micros) -> usize {
    if v < SUB as u64 {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros();
    let sub = ((v >> (exp - 2)) & (SUB as u64 - 1)) as u32;
    ((exp - 1) * SUB + sub).min(LOG_BINS as u32 - 1) as usize
}

/// The smallest value that falls into `bin`.
fn log_bin_floor(bin: usize) -> Micros {
    let bin = bin as u32;
    if bin < SUB {
        return bin as u64;
    }
    let exp = bin / SUB + 1;
    let sub = bin % SUB;
    (1u64 << exp) | ((sub as u64) << (exp - 2))
}

/// One time-series bucket.
#[derive(Clone, Debug)]
pub struct Bucket {
    pub applied: u64,
    pub unique: u64,
    pub duplicates: u64,
    pub lost: u64,
    latency: Vec<u32>,
    latency_count: u64,
    /// What waits at the bucket's end, one number per line of the broker's backlog (see
    /// `Family::backlog`); empty until the run has passed that instant.
    pub backlog: Vec<u64>,
}

impl Bucket {
    fn new() -> Bucket {
        Bucket {
            applied: 0,
            unique: 0,
            duplicates: 0,
            lost: 0,
            latency: Vec::new(),
            latency_count: 0,
            backlog: Vec::new(),
        }
    }

    fn merge(&mut self, other: &Bucket) {
        // Two buckets become one that ends where the second ends: its backlog, once sampled.
        if !other.backlog.is_empty() {
            self.backlog.clone_from(&other.backlog);
        }
        self.applied += other.applied;
        self.unique += other.unique;
        self.duplicates += other.duplicates;
        self.lost += other.lost;
        if !other.latency.is_empty() {
            if self.latency.is_empty() {
                self.latency = vec![0; LOG_BINS];
            }
            for (a, b) in self.latency.iter_mut().zip(&other.latency) {
                *a += b;
            }
        }
        self.latency_count += other.latency_count;
    }

    /// An approximate latency quantile of the messages first applied in this bucket.
    pub fn latency_quantile(&self, q: f64) -> Option<Micros> {
        if self.latency_count == 0 {
            return None;
        }
        let rank = ((q * self.latency_count as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (bin, &n) in self.latency.iter().enumerate() {
            seen += n as u64;
            if seen >= rank {
                return Some(log_bin_floor(bin));
            }
        }
        None
    }
}

/// Counts over simulated time in fixed-width buckets. When the run outlasts the buckets, pairs
/// are merged and the width doubles, so the series stays bounded and deterministic.
#[derive(Clone, Debug)]
pub struct Series {
    pub bucket_us: Micros,
    pub buckets: Vec<Bucket>,
    /// The bucket last recorded into and the times it covers, `[from, to)`: records come in
    /// time order, so nearly every one lands there without a 64-bit division.
    last: (Micros, Micros, usize),
    /// The next bucket end at which the backlog is due to be sampled (`next_sample_us`).
    next_sample_us: Micros,
}

const MAX_BUCKETS: usize = 240;

impl Series {
    /// Buckets sized so the publishing phase spans about a hundred of them.
    pub fn new(expected_span: Micros) -> Series {
        let target = (expected_span / 100).max(1_000);
        let mut width = 1_000;
        'outer: loop {
            for m in [1, 2, 5] {
                if width * m >= target {
                    width *= m;
                    break 'outer;
                }
            }
            width *= 10;
        }
        Series {
            bucket_us: width,
            buckets: Vec::new(),
            last: (0, 0, 0),
            next_sample_us: width,
        }
    }

    /// The next bucket end whose backlog has not been sampled: the event loop stops short of
    /// it to sample (`Simulation::step_one`).
    pub fn next_sample_us(&self) -> Micros {
        self.next_sample_us
    }

    /// Records `backlog`, the state before the event at `at`, as the backlog at every bucket
    /// end up to `at` not yet sampled: nothing changed between the last event and this one.
    /// Creates the buckets it fills, so the series reaches the run's last event.
    pub fn record_backlog(&mut self, at: Micros, backlog: &[u64]) {
        while self.next_sample_us <= at {
            let end = self.next_sample_us;
            let bucket = self.bucket(end - 1);
            bucket.backlog.clear();
            bucket.backlog.extend_from_slice(backlog);
            // `bucket` may have merged buckets (twice as wide): the next end is that of the
            // bucket after the one just filled, at the width now in force.
            self.next_sample_us = ((end - 1) / self.bucket_us + 1) * self.bucket_us;
            if self.next_sample_us <= end {
                self.next_sample_us = end + self.bucket_us;
            }
        }
    }

    #[inline]
    fn bucket(&mut self, at: Micros) -> &mut Bucket {
        let (from, to, index) = self.last;
        if at >= from && at < to {
            return &mut self.buckets[index];
        }
        self.bucket_slow(at)
    }

    fn bucket_slow(&mut self, at: Micros) -> &mut Bucket {
        let mut index = (at / self.bucket_us) as usize;
        while index >= MAX_BUCKETS {
            let merged: Vec<Bucket> = self
                .buckets
                .chunks(2)
                .map(|pair| {
                    let mut b = pair[0].clone();
                    if let Some(second) = pair.get(1) {
                        b.merge(second);
                    }
                    b
                })
                .collect();
            self.buckets = merged;
            self.bucket_us *= 2;
            index = (at / self.bucket_us) as usize;
        }
        if self.buckets.len() <= index {
            self.buckets.resize_with(index + 1, Bucket::new);
        }
        let from = index as Micros * self.bucket_us;
        self.last = (from, from + self.bucket_us, index);
        &mut self.buckets[index]
    }

    pub fn record_apply(&mut self, at: Micros, first: bool, latency: Micros) {
        let b = self.bucket(at);
        b.applied += 1;
        if first {
            b.unique += 1;
            if b.latency.is_empty() {
                b.latency = vec![0; LOG_BINS];
            }
            b.latency[log_bin(latency)] += 1;
            b.latency_count += 1;
        } else {
            b.duplicates += 1;
        }
    }

    pub fn record_loss(&mut self, at: Micros) {
        self.bucket(at).lost += 1;
    }
}

/// All measurements of a run.
#[derive(Clone)]
pub struct Metrics {
    pub counters: Counters,
    /// One message each counter of something gone wrong counts, for the page's links.
    pub examples: Examples,
    pub busy: BusyTime,
    pub latency: Histogram<u64>,
    pub series: Series,
    pub first_publish_at: Option<Micros>,
    pub last_apply_at: Micros,
    pub latency_sum_us: u128,
}

impl Metrics {
    pub fn new(expected_span: Micros, consumers: usize) -> Metrics {
        Metrics {
            counters: Counters::default(),
            examples: Examples::default(),
            busy: BusyTime::new(consumers),
            // Three significant figures from 1 µs to an hour: a few tens of KB, fixed.
            latency: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"),
            series: Series::new(expected_span),
            first_publish_at: None,
            last_apply_at: 0,
            latency_sum_us: 0,
        }
    }

    // Inlined: in wasm, LLVM kept it a call on the hot path (docs/performance-notes.md, wasm inlining).
    #[inline(always)]
    pub fn record_apply(&mut self, at: Micros, first: bool, latency: Micros) {
        let c = &mut self.counters;
        c.side_effects += 1;
        if first {
            c.unique_processed += 1;
            self.latency.saturating_record(latency.max(1));
            self.latency_sum_us += latency as u128;
        } else {
            c.duplicates += 1;
        }
        self.last_apply_at = self.last_apply_at.max(at);
        self.series.record_apply(at, first, latency);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_bins_are_monotonic_and_floor_is_inside_the_bin() {
        let mut last = 0;
        for v in (0..100_000u64).chain([1 << 20, 1 << 30, u32::MAX as u64]) {
            let bin = log_bin(v);
            assert!(
                bin >= last || v < 100_000,
                "bins must not go backwards at {v}"
            );
            last = bin;
            assert!(log_bin_floor(bin) <= v, "floor of bin {bin} above {v}");
            assert_eq!(log_bin(log_bin_floor(bin)), bin);
        }
    }

    #[test]
    fn series_merges_buckets_when_the_run_outlasts_them() {
        let mut s = Series::new(100_000);
        for t in (0..10_000_000u64).step_by(1_000) {
            s.record_apply(t, true, 10);
        }
        assert!(s.buckets.len() <= MAX_BUCKETS);
        let total: u64 = s.buckets.iter().map(|b| b.applied).sum();
        assert_eq!(total, 10_000);
    }
}
