//! The one place the event loop and the clients meet the broker family a run simulates, on the
//! broker's side. `Family` holds what only one family has (RabbitMQ's queue, SQS's queue and
//! its visibility timers); every `impl Brokers` method here is a dispatch point: one
//! `match` on the family, each arm calling that family's folder. The consumer's side of the
//! same dispatch is `clients/family_side.rs`; nothing else asks which broker a run has
//! (`cargo xtask test boundary` refuses a match on `Family`'s variants anywhere else). Events that only one
//! family has (`RabbitAckArrive`, `SqsDeleteArrive`, ...) go from the event loop straight to that
//! family's handler; a family folder reaches its own state with `rabbit_mut`, `sqs_mut`.
//!
//! Kafka's log (`kafka::Entries`, the partition logs, replication and the in-sync replica
//! set) is not in the `Kafka` variant: it is the store every family's messages live in (a
//! RabbitMQ or SQS queue is a partition of one whose offsets are queue positions), so it
//! stays in `Brokers`, and `rabbitmq` and `sqs` use `kafka`, never the other way round.
//!
//! The dispatchers sit on the hot path of every event (a record becoming ready, a publish
//! stored; a delivery and the end of processing on the consumer's side): a `match` on the
//! variant's tag, the same test the `Option`s it replaced made; no trait objects, no
//! allocation. Each dispatcher keeps the inlining attributes of the function it replaced, and
//! the family bodies it calls are `#[inline]`, so LLVM sees the one function it saw before
//! (instruction counts in the commit message).

use super::kafka::{EntryState, Writer};
use super::rabbitmq::RabbitQueue;
use super::sqs::SqsQueue;
use crate::brokers::Brokers;
use crate::engine::World;
use crate::engine::timers::TimerList;
use crate::scenario::{Broker, Mode, Scenario};
use crate::time::Micros;

/// The broker family of a run (`Scenario::broker`), with the state only that family has.
#[derive(Clone)]
pub(crate) enum Family {
    /// Kafka: partitioned logs read by a consumer group that commits offsets. Its state is
    /// the shared log in `Brokers` (see the module's doc).
    Kafka,
    /// RabbitMQ: one classic queue that pushes deliveries (`brokers/rabbitmq`).
    RabbitMq(RabbitQueue),
    /// Amazon SQS, standard or FIFO (`brokers/sqs`): its queue, and the visibility timeouts
    /// of its messages in flight as `(queue position, receive)` timers.
    Sqs {
        queue: SqsQueue,
        visibility: TimerList<(u64, u32)>,
    },
}

impl Family {
    /// The family a scenario names, for `consumers` consumers.
    pub(crate) fn new(s: &Scenario, consumers: usize) -> Family {
        match s.broker {
            Broker::Kafka => Family::Kafka,
            Broker::RabbitMq => Family::RabbitMq(RabbitQueue::new(
                consumers,
                s.prefetch,
                s.mode == Mode::AtMostOnce,
            )),
            Broker::Sqs | Broker::SqsFifo => Family::Sqs {
                queue: SqsQueue::new(s.broker == Broker::SqsFifo),
                visibility: TimerList::default(),
            },
        }
    }

    /// Whether the family is one queue rather than partitioned logs: a RabbitMQ or SQS queue
    /// holds every message in partition 0.
    pub(crate) fn is_queue(&self) -> bool {
        !matches!(self, Family::Kafka)
    }

    pub(crate) fn rabbit(&self) -> Option<&RabbitQueue> {
        match self {
            Family::RabbitMq(q) => Some(q),
            _ => None,
        }
    }

    pub(crate) fn rabbit_mut(&mut self) -> Option<&mut RabbitQueue> {
        match self {
            Family::RabbitMq(q) => Some(q),
            _ => None,
        }
    }

    pub(crate) fn sqs(&self) -> Option<&SqsQueue> {
        match self {
            Family::Sqs { queue, .. } => Some(queue),
            _ => None,
        }
    }

    pub(crate) fn sqs_mut(&mut self) -> Option<&mut SqsQueue> {
        match self {
            Family::Sqs { queue, .. } => Some(queue),
            _ => None,
        }
    }

    /// SQS's visibility timers (`None` on any other family).
    pub(crate) fn visibility_timers_mut(&mut self) -> Option<&mut TimerList<(u64, u32)>> {
        match self {
            Family::Sqs { visibility, .. } => Some(visibility),
            _ => None,
        }
    }

    /// What a consumer that crashes after processing a record has not yet done, for its
    /// trace. Kafka: its offset commit; RabbitMQ: its `basic.ack`; SQS: its `DeleteMessage`
    /// (which FIFO's exactly-once processing does not cover).
    pub(crate) fn unconfirmed_after_processing(&self) -> &'static str {
        match self {
            Family::Kafka => "before its offset commit",
            Family::RabbitMq(_) => "before its basic.ack",
            Family::Sqs { queue, .. } if queue.fifo => {
                "before its DeleteMessage (FIFO's exactly-once processing does not cover this payment: the message comes back when its visibility timeout passes)"
            }
            Family::Sqs { .. } => "before its DeleteMessage",
        }
    }
}

impl Brokers {
    // ----- The broker's side -----

    /// A stored record becomes deliverable. Kafka: it is below the high watermark, so the
    /// partition's owner's parked `Fetch` is answered (`serve_fetch`); RabbitMQ: the confirmed
    /// message joins the queue and is pushed (`basic.deliver`) to a consumer with room under
    /// its prefetch; SQS: the message becomes visible to `ReceiveMessage`.
    // Inlined: in wasm, LLVM kept it a call on the hot path (docs/performance-notes.md, wasm inlining).
    #[inline]
    pub(crate) fn make_ready(&mut self, world: &mut World, entry: u32, partition: u16) {
        // A record of a producer's open transaction is ready too: the fetch path stops before
        // it (the last stable offset) until its transaction commits or aborts.
        self.entries.get_mut(entry).state = EntryState::Ready;
        match self.family {
            Family::Kafka => {
                if let Some(owner) = self.owner_of(partition) {
                    self.serve_fetch(world, owner);
                }
            }
            Family::RabbitMq(_) => {
                let generation = self.entries.get(entry).generation;
                self.rabbit_enqueue(world, entry, generation);
            }
            Family::Sqs { .. } => {
                let generation = self.entries.get(entry).generation;
                self.sqs_enqueue(world, entry, generation);
            }
        }
    }

    /// Whether the broker stores a send it has already checked the producer's sequence of.
    /// Kafka and RabbitMQ: always; SQS FIFO: not a `MessageDeduplicationId` seen in the last
    /// five minutes (`sqs_fifo_accepts`).
    #[inline]
    pub(crate) fn accepts_send(
        &mut self,
        world: &mut World,
        msg: u32,
        attempt: u16,
        copy: u8,
        writer: Writer,
    ) -> bool {
        match self.family {
            Family::Kafka | Family::RabbitMq(_) => true,
            Family::Sqs { .. } => self.sqs_fifo_accepts(world, msg, attempt, copy, writer),
        }
    }

    /// Where an arriving publish is stored: `None` for Kafka, which appends it to its
    /// partition's log at the next offset; RabbitMQ's and SQS's queue position otherwise.
    #[inline]
    pub(crate) fn next_queue_position(&mut self) -> Option<u64> {
        match &mut self.family {
            Family::Kafka => None,
            Family::RabbitMq(q) => Some(q.next_position()),
            Family::Sqs { queue, .. } => Some(queue.next_position()),
        }
    }

    /// Whether the producer is acknowledged at the append, before replication. Kafka:
    /// `acks=1`, or `acks=all` with the leader alone in sync and `min.insync.replicas=1`
    /// (acks=all waits for the current ISR); RabbitMQ: never, a publisher confirm waits for
    /// the disk write; SQS: never, SendMessage succeeds once the message is stored.
    #[inline]
    pub(crate) fn acks_at_append(&self, world: &World, in_sync: u8) -> bool {
        match self.family {
            Family::Kafka => {
                world.acks == crate::scenario::Acks::Leader
                    || (in_sync == 1 && self.min_insync == 1)
            }
            Family::RabbitMq(_) | Family::Sqs { .. } => false,
        }
    }

    /// The trace note of a stored publish. Kafka: appended to its partition's log at an
    /// offset; RabbitMQ: received by the queue at a position, confirmed once on disk; SQS:
    /// SendMessage stored at a position. Only for traced messages (inside `trace!`).
    #[cold]
    pub(crate) fn stored_note(
        &self,
        world: &World,
        entry: u32,
        partition: u16,
        copy: u8,
        in_sync: u8,
    ) -> String {
        match self.family {
            Family::Kafka => self.kafka_stored_note(world, partition, copy, in_sync),
            Family::RabbitMq(_) => self.rabbit_stored_note(entry, copy),
            Family::Sqs { .. } => self.sqs_stored_note(entry, copy),
        }
    }

    /// The broker's side of a crash (see the event loop's `crash_broker`). Kafka: the partition
    /// leader, with a clean or unclean election and `failover-ms` of unavailability
    /// (`kafka_crash_broker`); RabbitMQ: the node, losing what was not yet on disk; SQS: an
    /// endpoint outage.
    #[cold]
    pub(crate) fn broker_goes_down(
        &mut self,
        world: &mut World,
        trigger: Option<u32>,
        scripted: Option<u16>,
    ) {
        match self.family {
            Family::Kafka => self.kafka_crash_broker(world, trigger, scripted),
            Family::RabbitMq(_) => self.rabbit_crash_broker(world, trigger, scripted),
            Family::Sqs { .. } => self.sqs_crash_broker(world, trigger, scripted),
        }
    }

    /// The broker is back. Kafka: the new leader answers the members' parked fetches;
    /// RabbitMQ: the node pushes deliveries again; SQS: parked receives are answered.
    #[cold]
    pub(crate) fn on_broker_recover(&mut self, world: &mut World) {
        if self.broker_down(world) {
            return;
        }
        self.broker_down_until = None;
        match self.family {
            Family::Kafka => {
                for c in self.group.members().to_vec() {
                    self.serve_fetch(world, c);
                }
            }
            Family::RabbitMq(_) => self.rabbit_dispatch(world),
            Family::Sqs { .. } => self.sqs_recover(world),
        }
    }

    /// A wake-up of the family's own timers (`TimerKind::Visibility`): SQS's visibility
    /// timeouts, the only family that has any. Returns when to wake up next.
    pub(crate) fn on_visibility_wake(&mut self, world: &mut World) -> Option<Micros> {
        match self.family {
            Family::Sqs { .. } => self.sqs_visibility_wake(world),
            Family::Kafka | Family::RabbitMq(_) => None,
        }
    }

    // ----- The consumer's requests at the broker -----

    /// A consumer's poll reaches the broker. Kafka: a `Fetch`, parked until records are
    /// below the high watermark; SQS: a `ReceiveMessage` long poll. RabbitMQ pushes: its
    /// consumers never poll.
    pub(crate) fn on_fetch_arrive(&mut self, world: &mut World, consumer: u16, session: u32) {
        match self.family {
            Family::Kafka => self.kafka_fetch_arrive(world, consumer, session),
            Family::Sqs { .. } => self.on_sqs_receive_arrive(world, consumer, session),
            Family::RabbitMq(_) => {}
        }
    }

    // ----- The producer's side -----

    /// Most requests in flight per producer and partition. Kafka:
    /// `max.in.flight.requests.per.connection`, at most the five batches the broker
    /// remembers; RabbitMQ: unbounded, a publisher streams on its channel and takes confirms
    /// as they come (asynchronous confirms); SQS: unbounded, each SendMessage is answered on
    /// its own.
    pub(crate) fn max_requests(&self, world: &World) -> usize {
        match self.family {
            Family::Kafka => world.scenario.max_in_flight.clamp(
                1,
                super::kafka::producer_state::NUM_BATCHES_TO_RETAIN as u32,
            ) as usize,
            Family::RabbitMq(_) | Family::Sqs { .. } => usize::MAX,
        }
    }
}

/// Up to this many Kafka partitions each get a backlog line of their own; more are kept as
/// their sum and their largest, so that a sample, a report and a time-travel snapshot stay
/// the same size however many partitions a topic has.
pub const BACKLOG_PARTITIONS: usize = 8;

/// What waits in the broker, sampled over time (`Series::record_backlog`): what an operator of
/// each system watches.
impl Brokers {
    /// Kafka: the consumer lag of each partition, its log end offset minus the group's
    /// committed offset (kafka-consumer-groups' LAG, which counts from the high watermark: it
    /// trails the log end by the records still replicating); RabbitMQ: the queue's messages
    /// ready and unacknowledged (`messages_ready`, `messages_unacknowledged`); SQS: messages
    /// visible and in flight (`ApproximateNumberOfMessagesVisible`, `...NotVisible`).
    pub(crate) fn backlog(&self, out: &mut Vec<u64>) {
        out.clear();
        match &self.family {
            Family::Kafka => {
                let lags = self
                    .logs
                    .iter()
                    .map(|log| log.end().saturating_sub(log.committed));
                if self.logs.len() <= BACKLOG_PARTITIONS {
                    out.extend(lags);
                } else {
                    let (sum, max) = lags.fold((0, 0), |(s, m), lag| (s + lag, m.max(lag)));
                    out.extend([sum, max]);
                }
            }
            Family::RabbitMq(q) => out.extend([q.ready() as u64, q.unacked() as u64]),
            Family::Sqs { queue, .. } => {
                out.extend([queue.visible() as u64, queue.in_flight() as u64])
            }
        }
    }

    /// The names of `backlog`'s numbers, for the report.
    pub(crate) fn backlog_lines(&self) -> Vec<String> {
        match &self.family {
            Family::Kafka if self.logs.len() <= BACKLOG_PARTITIONS => (0..self.logs.len())
                .map(|p| format!("partition {p}"))
                .collect(),
            Family::Kafka => vec!["all partitions".into(), "largest partition".into()],
            Family::RabbitMq(_) => vec!["ready".into(), "unacked".into()],
            Family::Sqs { .. } => vec!["visible".into(), "in flight".into()],
        }
    }
}
