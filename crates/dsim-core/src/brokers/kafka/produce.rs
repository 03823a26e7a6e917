//! The produce path: a publish arriving at the partition leader, its append, and the ack
//! back to the producer (Kafka's `acks`).

use super::log::{EntryState, Txn, Writer, delivery_key};
use super::producer_state::{Batch, Check};
use crate::brokers::Brokers;
use crate::engine::faults::{FaultSite, Verdict};
use crate::engine::messages::Cause;
use crate::engine::queue::Lane;
use crate::engine::{Event, Status, World, trace};
use crate::observe::trace::{Actor, TraceKind};
use crate::scenario::Mode;
use crate::scenario::script::Link;

/// What came of a publish at the broker: what the event loop does with the publish's reference,
/// and what the producer learns at once (`simulation/handoffs.rs`). The broker never edits a
/// producer's session itself.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Arrival {
    /// Nothing more to do: the message is gone, or the run stopped at the log's bound with
    /// this publish still in flight (its reference is kept, so it is not miscounted as lost).
    Kept,
    /// Not stored: the publish's reference goes.
    Dropped,
    /// Appended as a new record, which took over the publish's reference (a hold and a
    /// release that cancel out are two look-ups saved on every append). `entry` is the
    /// record, `(entry, generation)`, that the producer's ack will name. `crashes`: the
    /// broker crashes right after this append (`broker-crash`), which the event loop carries out.
    Appended {
        producer: u16,
        partition: u16,
        entry: (u32, u32),
        crashes: bool,
    },
    /// Refused by the idempotent producer's checks with an error its client acts on.
    Refused(Refusal),
}

/// An idempotent producer's write the partition refused with an error that changes the
/// producer's session (Kafka's error response, taken at once here).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Refusal {
    /// `OUT_OF_ORDER_SEQUENCE_NUMBER`: the partition expects sequence `expected`.
    OutOfOrder {
        producer: u16,
        partition: u16,
        batch: Batch,
        expected: u32,
    },
    /// `INVALID_PRODUCER_EPOCH`: an epoch older than the partition's.
    StaleEpoch {
        producer: u16,
        partition: u16,
        batch: Batch,
    },
}

impl Brokers {
    pub(crate) fn broker_down(&self, world: &World) -> bool {
        self.broker_down_until.is_some_and(|t| t > world.now)
    }

    /// A publish reaches the partition leader (the queue, for RabbitMQ and SQS). The engine
    /// takes the outcome to the producer (`simulation/handoffs.rs`).
    pub(crate) fn on_publish_arrive(
        &mut self,
        world: &mut World,
        msg: u32,
        attempt: u16,
        net_copy: u8,
        batch: Batch,
    ) -> Arrival {
        if world.msgs.get(msg).is_none() {
            return Arrival::Kept;
        }
        if self.entries.is_full() {
            // The log is at its bound: stop the run here, with this publish still in flight.
            world.status = Status::Stalled;
            return Arrival::Kept;
        }
        self.publish_arrived(world, msg, attempt, net_copy, batch)
    }

    /// Handles a publish that reached the broker, with its message still there.
    fn publish_arrived(
        &mut self,
        world: &mut World,
        msg: u32,
        attempt: u16,
        net_copy: u8,
        batch: Batch,
    ) -> Arrival {
        if self.broker_down(world) {
            if let Some(m) = world.msgs.get_mut(msg) {
                m.cause = Cause::BrokerUnavailable;
            }
            trace!(
                world,
                msg,
                TraceKind::BrokerUnavailable,
                Actor::Broker,
                None,
                None,
                attempt as u32,
                net_copy as u32,
                "the partition has no leader (failover in progress): publish refused",
            );
            return Arrival::Dropped;
        }
        if self.isr.rejoin_due(world.now) {
            self.isr_rejoin(world, Some(msg));
        }
        if self.isr.in_sync() < self.min_insync {
            self.refuse_not_enough_replicas(world, msg, attempt, net_copy);
            return Arrival::Dropped;
        }
        let m = world.msgs.get(msg).expect("checked by caller");
        let (producer, partition) = (m.producer, m.partition);
        let writer = Writer {
            producer_id: batch.producer_id,
            epoch: batch.epoch,
        };
        if world.idempotent
            && let Err(refused) = self
                .sequence_allows_append(world, msg, attempt, net_copy, batch, producer, partition)
        {
            return refused.map_or(Arrival::Dropped, Arrival::Refused);
        }
        if !self.accepts_send(world, msg, attempt, net_copy, writer) {
            return Arrival::Dropped;
        }
        let m = world.msgs.get_mut(msg).expect("checked by caller");
        let partition = m.partition;
        let copy = m.entries;
        m.entries = m.entries.saturating_add(1);
        // Saturating, like `entries`: without an idempotent producer a message duplicated on
        // every hop and retried for an hour can be appended more than 255 times (tests/fuzz.rs
        // found it). Nothing decides on it any more: the idempotent producer's sequence numbers
        // (`producer_state`) replaced the look-up of a live record that once stood for them.
        m.live_entries = m.live_entries.saturating_add(1);
        let append_no = world.metrics.counters.appends as u32;
        let (entry, generation) = match self.next_queue_position() {
            // RabbitMQ and SQS: no log; the message takes the next queue position on arrival.
            Some(position) => {
                let (entry, generation) = self.entries.alloc(msg, copy, partition, append_no);
                self.entries.get_mut(entry).offset = position;
                (entry, generation)
            }
            None => self.append_record(msg, copy, partition, append_no),
        };
        let e = self.entries.get_mut(entry);
        e.writer = writer;
        if world.scenario.transactional_producer() {
            e.txn = Txn::Open;
        }
        if world.idempotent {
            self.producer_states
                .appended(batch, partition, entry, generation);
        }
        world.metrics.counters.appends += 1;
        if world
            .faults
            .replica_lags(msg, attempt as u32, net_copy as u32)
        {
            self.follower_falls_behind(world, msg, append_no, attempt);
        }
        self.isr.note_append(append_no, entry, generation);
        // Copies go to the followers in sync; with one replica there is nobody to wait for,
        // and with an ISR of the leader alone neither, so `all` acks as early as `leader`
        // (Kafka's acks=all waits for the current ISR, not for every replica), unless
        // `min.insync.replicas` asks for more (see `on_durable`).
        let in_sync = self.isr.in_sync();
        world.metrics.counters.network_messages += in_sync as u64 - 1;
        // A RabbitMQ confirm waits for the disk write (`on_durable`), SendMessage's success
        // for the message to be stored.
        let ack_now = self.acks_at_append(world, in_sync);
        self.replicating.push_back((entry, generation));
        world.queue.schedule_in_lane(
            Lane::Replication,
            world.now + world.timing.replication,
            Event::Durable {
                entry,
                generation,
                acked: ack_now,
            },
        );
        trace!(
            world,
            msg,
            TraceKind::Stored,
            Actor::Broker,
            None,
            None,
            attempt as u32,
            // The one copy encoding of every trace event: this log entry, and the network
            // copy of the publish that made it.
            delivery_key(copy, net_copy) as u32,
            self.stored_note(world, entry, partition, copy, in_sync)
        );
        if ack_now {
            self.send_publish_ack(world, msg, producer, attempt, writer);
        }
        let crashes = world
            .faults
            .crash(
                FaultSite::BrokerAppend,
                0,
                world.now,
                msg,
                attempt as u32,
                net_copy as u32,
            )
            .struck();
        Arrival::Appended {
            producer,
            partition,
            entry: (entry, generation),
            crashes,
        }
    }

    /// `min.insync.replicas`: with acks=all and fewer replicas in sync, the leader refuses the
    /// write before appending it (Kafka's NotEnoughReplicas, a retriable error). The producer
    /// retries as it does when the leader is unavailable: its ack timeout runs out.
    #[cold]
    fn refuse_not_enough_replicas(
        &mut self,
        world: &mut World,
        msg: u32,
        attempt: u16,
        net_copy: u8,
    ) {
        world.metrics.counters.not_enough_replicas += 1;
        if let Some(m) = world.msgs.get_mut(msg) {
            m.cause = Cause::BrokerUnavailable;
        }
        let (isr, min) = (self.isr.in_sync(), self.min_insync);
        trace!(
            world,
            msg,
            TraceKind::NotEnoughReplicas,
            Actor::Broker,
            None,
            None,
            attempt as u32,
            net_copy as u32,
            format!(
                "NotEnoughReplicas: {isr} in-sync replica(s), fewer than min.insync.replicas={min}: publish refused, not appended; the producer will retry"
            ),
        );
    }

    /// The idempotent producer's checks on a write (see `producer_state`): whether to append
    /// it. A retry of one of the last five batches is acked without an append; an out-of-order
    /// or stale write is refused (`Err(Some(_))`, the producer retries it later, and the
    /// refusal is traced once the producer has taken it: `trace_refusal`); a write of a
    /// fenced epoch is refused for good.
    #[allow(clippy::too_many_arguments)]
    fn sequence_allows_append(
        &mut self,
        world: &mut World,
        msg: u32,
        attempt: u16,
        net_copy: u8,
        batch: Batch,
        producer: u16,
        partition: u16,
    ) -> Result<(), Option<Refusal>> {
        let (a, c) = (attempt as u32, net_copy as u32);
        let (pid, seq) = (batch.producer_id, batch.seq);
        match self.producer_states.check(batch, partition) {
            Check::Append => return Ok(()),
            Check::Duplicate { entry, generation } => {
                world.metrics.counters.duplicates_dropped_by_broker += 1;
                trace!(
                    world,
                    msg,
                    TraceKind::DuplicateDropped,
                    Actor::Broker,
                    None,
                    None,
                    a,
                    c,
                    format!(
                        "producer ID {pid} and sequence {seq} are one of the last five batches of partition {partition}: a retry, not appended again (DuplicateSequence: acked with the original record)"
                    ),
                );
                // Acked now if the original is on every replica (or consumed since, which
                // it can only be once it is); otherwise its replication acks it.
                let durable = self
                    .entries
                    .live(entry, generation)
                    .is_none_or(|e| e.state != EntryState::Replicating);
                if durable && let Some(m) = world.msgs.get(msg) {
                    let writer = Writer {
                        producer_id: pid,
                        epoch: batch.epoch,
                    };
                    self.send_publish_ack(world, msg, m.producer, attempt, writer);
                }
            }
            Check::OutOfOrder { expected } => {
                world.metrics.counters.sequence_rejections += 1;
                return Err(Some(Refusal::OutOfOrder {
                    producer,
                    partition,
                    batch,
                    expected,
                }));
            }
            Check::StaleEpoch => {
                world.metrics.counters.sequence_rejections += 1;
                return Err(Some(Refusal::StaleEpoch {
                    producer,
                    partition,
                    batch,
                }));
            }
            Check::Fenced => {
                world.metrics.counters.producer_fenced += 1;
                world.metrics.examples.fenced.get_or_insert(msg);
                trace!(
                    world,
                    msg,
                    TraceKind::ProducerFenced,
                    Actor::Broker,
                    None,
                    None,
                    a,
                    c,
                    format!(
                        "producer ID {pid}: a newer instance holds the transactional.id with a higher epoch (ProducerFencedException): every write of the old epoch is refused"
                    ),
                );
            }
        }
        Err(None)
    }

    /// The partition refused an idempotent producer's write (`Refusal`): a row in its
    /// record's trace, written after the producer has taken the error, as it always was.
    pub(crate) fn trace_refusal(
        &mut self,
        world: &mut World,
        msg: u32,
        attempt: u16,
        net_copy: u8,
        refusal: Refusal,
    ) {
        if !world.is_traced(msg) {
            return;
        }
        let note = match refusal {
            Refusal::OutOfOrder {
                partition,
                batch,
                expected,
                ..
            } => format!(
                "producer ID {}, sequence {}: partition {partition} expects sequence {expected} (OutOfOrderSequenceException): refused, the producer retries it later",
                batch.producer_id, batch.seq
            ),
            Refusal::StaleEpoch {
                partition, batch, ..
            } => format!(
                "producer ID {}: an epoch older than partition {partition}'s (InvalidProducerEpochException): refused",
                batch.producer_id
            ),
        };
        trace!(
            world,
            msg,
            TraceKind::SequenceRejected,
            Actor::Broker,
            None,
            None,
            attempt as u32,
            net_copy as u32,
            note
        );
    }

    pub(crate) fn send_publish_ack(
        &mut self,
        world: &mut World,
        msg: u32,
        producer: u16,
        attempt: u16,
        to: Writer,
    ) {
        if world.mode == Mode::AtMostOnce {
            // acks=0: fire and forget, nobody waits for an answer.
            return;
        }
        world.metrics.counters.network_messages += 1;
        let link = Link::Producer(producer);
        match world.faults.network(
            FaultSite::PublishAck,
            link,
            world.now,
            msg,
            attempt as u32,
            0,
        ) {
            Verdict::Drop { scripted } => {
                trace!(
                    world,
                    msg,
                    TraceKind::PublishAckLost,
                    Actor::Broker,
                    Some(Actor::Producer),
                    None,
                    attempt as u32,
                    0,
                    world.scripted_note(
                        scripted,
                        "the broker's ack was lost on the network: the producer will think the publish failed"
                    )
                );
            }
            Verdict::Deliver { delay, .. } => {
                world.queue.schedule(
                    world.now + delay,
                    Event::PublishAckArrive {
                        msg,
                        producer_id: to.producer_id,
                        epoch: to.epoch,
                    },
                );
            }
        }
    }

    /// The trace note of a record appended to its partition's log (a second record for a
    /// message that is already in the log: the idempotent producer did not catch it).
    #[cold]
    pub(crate) fn kafka_stored_note(
        &self,
        world: &World,
        partition: u16,
        copy: u8,
        in_sync: u8,
    ) -> String {
        let rf = self.isr.replicas();
        let isr = if in_sync < rf {
            format!(" ({in_sync} of {rf} replicas in sync)")
        } else {
            String::new()
        };
        if copy == 0 {
            format!("appended to partition {partition}{isr}")
        } else {
            format!(
                "appended to partition {partition} AGAIN, as a second record ({}){isr}",
                if world.idempotent {
                    "the partition's producer state lacks the first one's sequence: another producer ID or epoch, or a leader that never had it"
                } else {
                    "no idempotent producer"
                }
            )
        }
    }
}
