//! The world and its machinery: simulated time, the event queue and its timers, the
//! messages, the fault plan, and the `World` every actor shares (`world.rs`). The event
//! loop that hands each event to a broker or a client is the simulation's
//! (`simulation/`); the engine names neither the brokers nor the clients.

pub(crate) mod consumer_state;
pub mod faults;
pub(crate) mod messages;
pub(crate) mod queue;
pub(crate) mod timers;
mod world;

pub(crate) use world::World;

use crate::engine::messages::Batch;
use crate::engine::timers::TimerKind;
use crate::scenario::Scenario;
use crate::time::{Micros, ms_to_us};

/// Records a trace event for `msg` if it is traced. A macro rather than a method so that the
/// note, often a `format!`, is only built for traced messages: untraced runs never allocate.
macro_rules! trace {
    ($world:expr, $msg:expr, $($rest:expr),+ $(,)?) => {
        if $world.is_traced($msg) {
            $world.record_trace($msg, $($rest),+)
        }
    };
}
pub(crate) use trace;

/// Distinct retry timeouts: the first, and six doublings.
pub(crate) const BACKOFF_STEPS: usize = 7;

/// How many times the ack timeout has doubled for a sender's `attempt`-th try (1 for the
/// first); it stops growing after six doublings.
pub(crate) fn backoff_step(attempt: u32) -> u32 {
    attempt.saturating_sub(1).min(BACKOFF_STEPS as u32 - 1)
}

/// Something that happens at an instant. Events name what they touch by index, and carry a
/// generation or session so that one aimed at something that has since changed is ignored.
#[derive(Clone, Copy, Debug)]
#[repr(align(8))]
pub enum Event {
    Produce {
        msg: u32,
    },
    OutboxPoll {
        producer: u16,
    },
    /// A publish reaches the broker, with its producer's ID, epoch and sequence number.
    PublishArrive {
        msg: u32,
        attempt: u16,
        copy: u8,
        batch: Batch,
    },
    /// A publish ack reaches the producer instance that wrote the record (ID and epoch).
    PublishAckArrive {
        msg: u32,
        producer_id: u32,
        epoch: u32,
    },
    /// A producer (or outbox relay) that died comes back (`producer-restart`, `relay-crash`).
    ProducerRestart {
        producer: u16,
    },
    /// `transaction.timeout.ms` after a transactional producer died: the coordinator aborts
    /// the open transaction of that instance (`epoch`) if it has not come back.
    ProducerTxnTimeout {
        producer: u16,
        epoch: u16,
    },
    Durable {
        entry: u32,
        generation: u32,
        /// Whether the producer was acked at the append already (`acks=leader`, or an ISR of
        /// the leader alone), so that replication completing does not ack it again.
        acked: bool,
    },
    FetchArrive {
        consumer: u16,
        session: u32,
    },
    FetchDone {
        consumer: u16,
        session: u32,
    },
    DeliveryArrive {
        msg: u32,
        entry: u32,
        generation: u32,
        delivery: u32,
        copy: u8,
        consumer: u16,
        session: u32,
    },
    ProcessDone {
        consumer: u16,
        session: u32,
    },
    /// A consumer's `basic.ack` reaches the RabbitMQ broker, for the delivery at a queue
    /// position, on the channel of a consumer session.
    RabbitAckArrive {
        consumer: u16,
        session: u32,
        position: u64,
    },
    /// A consumer's connection close reaches the RabbitMQ broker, after whatever it sent
    /// before: the broker requeues what that session left unacknowledged.
    RabbitChannelClosed {
        consumer: u16,
        session: u32,
    },
    /// A consumer's `DeleteMessage` reaches SQS, with the receipt handle of a receive.
    /// At-most-once waits for its answer before processing (`then_process`).
    SqsDeleteArrive {
        consumer: u16,
        session: u32,
        msg: u32,
        entry: u32,
        generation: u32,
        receive: u32,
        then_process: bool,
    },
    /// The answer to an at-most-once consumer's `DeleteMessage` reaches it.
    SqsDeleteDone {
        consumer: u16,
        session: u32,
        msg: u32,
        receive: u32,
        ok: bool,
    },
    /// An offset commit reaches the group coordinator.
    OffsetCommitArrive {
        consumer: u16,
        session: u32,
        id: u32,
    },
    OffsetCommitResponse {
        consumer: u16,
        session: u32,
        id: u32,
        ok: bool,
    },
    OffsetCommitTimeout {
        consumer: u16,
        session: u32,
        id: u32,
        attempt: u32,
    },
    /// `auto.commit.interval.ms` has passed for a consumer waiting on a long poll.
    CommitDue {
        consumer: u16,
        session: u32,
    },
    CommitArrive {
        consumer: u16,
        session: u32,
        txn: u32,
    },
    CommitApplied {
        consumer: u16,
        session: u32,
        txn: u32,
    },
    CommitResponse {
        consumer: u16,
        session: u32,
        txn: u32,
        ok: bool,
    },
    CommitTimeout {
        consumer: u16,
        session: u32,
        txn: u32,
        attempt: u32,
    },
    ConsumerRestart {
        consumer: u16,
    },
    SessionExpire {
        consumer: u16,
        session: u32,
    },
    BrokerRecover,
    /// A stalled consumer wakes up (see `zombie`).
    StallEnd {
        consumer: u16,
        stall: u32,
    },
    /// A stalled consumer's session times out.
    StallExpire {
        consumer: u16,
        stall: u32,
    },
    /// An entry of the scenario's script that happens at its time (a plain consumer crash, a
    /// broker crash).
    Scripted {
        entry: u16,
    },
    /// A timer list's wake-up: fires its due timers (see `timers`).
    TimerWake {
        kind: TimerKind,
    },
}

/// Every duration of the scenario, in integer microseconds, converted once.
#[derive(Clone, Debug)]
pub struct Timing {
    pub publish_interval_ns: u128,
    pub ack_timeout: Micros,
    pub outbox_poll: Micros,
    pub replication: Micros,
    pub failover: Micros,
    pub commit_interval: Micros,
    pub replica_lag: Micros,
    pub processing: Micros,
    pub restart: Micros,
    pub session_timeout: Micros,
    pub dedup_lookup: Micros,
    pub txn_write: Micros,
    pub txn_ack: Micros,
    pub horizon: Micros,
    /// The external call's round trip, or 0 without an external effect.
    pub external_call: Micros,
    pub stall: Micros,
    /// `transaction.timeout.ms`.
    pub txn_timeout: Micros,
    /// SQS's visibility timeout.
    pub visibility_timeout: Micros,
}

impl Timing {
    pub(crate) fn new(s: &Scenario) -> Timing {
        Timing {
            // Nanosecond spacing keeps high publish rates exact enough without floats later.
            publish_interval_ns: (1e9 / s.publish_rate).round() as u128,
            ack_timeout: ms_to_us(s.ack_timeout_ms).max(1),
            outbox_poll: ms_to_us(s.outbox_poll_ms).max(1),
            replication: ms_to_us(s.replication_ms),
            failover: ms_to_us(s.failover_ms),
            commit_interval: ms_to_us(s.commit_interval_ms),
            replica_lag: ms_to_us(s.replica_lag_ms).max(1),
            processing: ms_to_us(s.processing_ms),
            restart: ms_to_us(s.restart_ms).max(1),
            session_timeout: ms_to_us(s.session_timeout_ms).max(1),
            dedup_lookup: ms_to_us(s.dedup_lookup_ms),
            txn_write: ms_to_us(s.txn_write_ms),
            txn_ack: ms_to_us(s.txn_ack_ms),
            horizon: ms_to_us(s.horizon_ms),
            external_call: if s.external_effect {
                ms_to_us(s.external_latency_ms)
            } else {
                0
            },
            stall: ms_to_us(s.stall_ms).max(1),
            txn_timeout: ms_to_us(s.transaction_timeout_ms).max(1),
            visibility_timeout: ms_to_us(s.visibility_timeout_ms),
        }
    }

    /// How long a sender waits for an answer to its `attempt`-th try (1 for the first) before
    /// it tries again: the ack timeout, doubled per retry, growing for six doublings at most.
    pub fn retry_timeout(&self, attempt: u32) -> Micros {
        self.ack_timeout << backoff_step(attempt)
    }

    /// How far ahead the event queue's wheel should reach: the short hops that make up most
    /// events (network latency with jitter, processing, replication, transaction writes).
    /// Longer constant delays go to the queue's FIFO lanes instead.
    pub(crate) fn wheel_reach(&self, s: &Scenario) -> Micros {
        (ms_to_us(s.latency_ms) + ms_to_us(s.jitter_ms))
            .max(self.processing)
            .max(self.replication)
            .max(self.txn_write)
            .max(self.txn_ack)
    }

    /// When message `msg` is produced.
    pub fn produce_at(&self, msg: u32) -> Micros {
        // In 64 bits whenever the interval is below 2^32 ns (a message every 4.29 s or more
        // often): a `u32` times that cannot overflow. Both a `u128` division and an overflow
        // check on a 64-bit product (`checked_mul`) are library calls in wasm. Same number
        // either way.
        match u64::try_from(self.publish_interval_ns) {
            Ok(ns) if ns <= u32::MAX as u64 => msg as u64 * ns / 1000,
            _ => (msg as u128 * self.publish_interval_ns / 1000) as Micros,
        }
    }
}

/// How a run ended, or that it has not yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Still running.
    Running,
    /// Every message was applied or lost, and nothing is left in flight.
    Drained,
    /// Drained, but some messages ran out of retries (producer gave up or the broker
    /// dead-lettered them): the system reported a failure instead of delivering.
    GaveUp,
    /// The horizon or the event budget was reached with messages still in flight.
    Stalled,
}

/// The most events any run may take, however hopeless the fault mix: under 20 s of wall time
/// natively for the slowest mixes (about a minute in a browser, where the page keeps animating).
/// The heaviest sane mixes take under 40 events per message, so 2,000,000 messages fit.
pub const MAX_EVENTS: u64 = 100_000_000;

/// The most records the broker's log may hold at once. Without consumers to drain it, or with
/// too few, a log fed by retries and network duplicates grows without end: at this bound it
/// takes a few hundred MB, which a browser tab can afford. A run that reaches it stops as
/// `Stalled`, like one that reaches its event budget.
pub const MAX_LOG_RECORDS: usize = 8_000_000;

/// Generous enough for the worst fault mixes the knob limits allow (the heaviest sane mixes
/// take under 40 events per message), small enough that a run always ends quickly. A run that
/// uses it up stops as `Stalled`.
pub fn event_budget(messages: u32) -> u64 {
    (2_000 * messages as u64 + 1_000_000).min(MAX_EVENTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 64-bit path must give the exact `u128` result, on both sides of the interval where
    /// it hands over (2^32 ns), up to the last message number.
    #[test]
    fn produce_times_are_exact_at_every_rate() {
        let mut timing = Timing::new(&Scenario::default());
        let boundary = u32::MAX as u128;
        for ns in [
            1,
            999,
            1_000,
            333_333,
            boundary - 1,
            boundary,
            boundary + 1,
            u64::MAX as u128 + 7,
        ] {
            timing.publish_interval_ns = ns;
            for msg in [0, 1, 2, 999, 1_000_000, u32::MAX - 1, u32::MAX] {
                let want = (msg as u128 * ns / 1000) as Micros;
                assert_eq!(timing.produce_at(msg), want, "message {msg} every {ns} ns");
            }
        }
    }
}
