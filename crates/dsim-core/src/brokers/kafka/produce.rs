//! The produce path: a publish arriving at the partition leader, its append, and the ack
//! back to the producer (Kafka's `acks`).

use super::log::{EntryState, Txn, Writer, delivery_key};
use super::producer_state::{Batch, Check};
use crate::engine::faults::{FaultSite, Verdict};
use crate::engine::messages::Cause;
use crate::engine::queue::Lane;
use crate::engine::{Event, Simulation, Status, trace};
use crate::observe::trace::{Actor, TraceKind};
use crate::scenario::Mode;
use crate::scenario::script::Link;

impl Simulation {
    pub(crate) fn broker_down(&self) -> bool {
        self.broker_down_until.is_some_and(|t| t > self.now)
    }

    pub(crate) fn on_publish_arrive(&mut self, msg: u32, attempt: u16, net_copy: u8, batch: Batch) {
        if self.msgs.get(msg).is_none() {
            return;
        }
        if self.entries.is_full() {
            // The log is at its bound: stop the run here, with this publish still in flight
            // (its reference is kept, so it is not miscounted as lost).
            self.status = Status::Stalled;
            return;
        }
        if !self.publish_arrived(msg, attempt, net_copy, batch) {
            self.release(msg);
        }
    }

    /// Handles a publish that reached the broker. Returns whether its reference passed to a
    /// new log record (otherwise the caller drops it): a hold and a release that cancel out
    /// are two look-ups saved on every append.
    pub(super) fn publish_arrived(
        &mut self,
        msg: u32,
        attempt: u16,
        net_copy: u8,
        batch: Batch,
    ) -> bool {
        if self.broker_down() {
            if let Some(m) = self.msgs.get_mut(msg) {
                m.cause = Cause::BrokerUnavailable;
            }
            trace!(
                self,
                msg,
                TraceKind::BrokerUnavailable,
                Actor::Broker,
                None,
                None,
                attempt as u32,
                net_copy as u32,
                "the partition has no leader (failover in progress): publish refused",
            );
            return false;
        }
        if self.isr.rejoin_due(self.now) {
            self.isr_rejoin(Some(msg));
        }
        if self.isr.in_sync() < self.min_insync {
            self.refuse_not_enough_replicas(msg, attempt, net_copy);
            return false;
        }
        let m = self.msgs.get(msg).expect("checked by caller");
        let (producer, partition) = (m.producer, m.partition);
        let writer = Writer {
            producer_id: batch.producer_id,
            epoch: batch.epoch,
        };
        if self.idempotent && !self.sequence_allows_append(msg, attempt, net_copy, batch, partition)
        {
            return false;
        }
        if !self.accepts_send(msg, attempt, net_copy, writer) {
            return false;
        }
        let m = self.msgs.get_mut(msg).expect("checked by caller");
        let partition = m.partition;
        let copy = m.entries;
        m.entries = m.entries.saturating_add(1);
        // Saturating, like `entries`: without an idempotent producer a message duplicated on
        // every hop and retried for an hour can be appended more than 255 times (tests/fuzz.rs
        // found it). Nothing decides on it any more: the idempotent producer's sequence numbers
        // (`producer_state`) replaced the look-up of a live record that once stood for them.
        m.live_entries = m.live_entries.saturating_add(1);
        let append_no = self.metrics.counters.appends as u32;
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
        if self.scenario.transactional_producer() {
            e.txn = Txn::Open;
        }
        if self.idempotent {
            self.producer_states
                .appended(batch, partition, entry, generation);
        }
        self.note_append(producer, partition, msg, batch, (entry, generation));
        self.metrics.counters.appends += 1;
        if self
            .faults
            .replica_lags(msg, attempt as u32, net_copy as u32)
        {
            self.follower_falls_behind(msg, append_no, attempt);
        }
        self.isr.note_append(append_no, entry, generation);
        // Copies go to the followers in sync; with one replica there is nobody to wait for,
        // and with an ISR of the leader alone neither, so `all` acks as early as `leader`
        // (Kafka's acks=all waits for the current ISR, not for every replica), unless
        // `min.insync.replicas` asks for more (see `on_durable`).
        let in_sync = self.isr.in_sync();
        self.metrics.counters.network_messages += in_sync as u64 - 1;
        // A RabbitMQ confirm waits for the disk write (`on_durable`), SendMessage's success
        // for the message to be stored.
        let ack_now = self.acks_at_append(in_sync);
        self.replicating.push_back((entry, generation));
        self.queue.schedule_in_lane(
            Lane::Replication,
            self.now + self.timing.replication,
            Event::Durable {
                entry,
                generation,
                acked: ack_now,
            },
        );
        trace!(
            self,
            msg,
            TraceKind::Stored,
            Actor::Broker,
            None,
            None,
            attempt as u32,
            // The one copy encoding of every trace event: this log entry, and the network
            // copy of the publish that made it.
            delivery_key(copy, net_copy) as u32,
            self.stored_note(entry, partition, copy, in_sync)
        );
        if ack_now {
            self.send_publish_ack(msg, producer, attempt, writer);
        }
        if self
            .faults
            .crash(
                FaultSite::BrokerAppend,
                0,
                self.now,
                msg,
                attempt as u32,
                net_copy as u32,
            )
            .struck()
        {
            // The crash truncates the new record and drops its reference: the message must
            // stay until the caller drops the publish's own, as with any other record.
            self.hold(msg);
            self.crash_broker(Some(msg), None);
            return false;
        }
        true
    }

    /// `min.insync.replicas`: with acks=all and fewer replicas in sync, the leader refuses the
    /// write before appending it (Kafka's NotEnoughReplicas, a retriable error). The producer
    /// retries as it does when the leader is unavailable: its ack timeout runs out.
    #[cold]
    fn refuse_not_enough_replicas(&mut self, msg: u32, attempt: u16, net_copy: u8) {
        self.metrics.counters.not_enough_replicas += 1;
        if let Some(m) = self.msgs.get_mut(msg) {
            m.cause = Cause::BrokerUnavailable;
        }
        let (isr, min) = (self.isr.in_sync(), self.min_insync);
        trace!(
            self,
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
    /// or stale write is refused and retried later by its producer; a write of a fenced epoch
    /// is refused for good.
    fn sequence_allows_append(
        &mut self,
        msg: u32,
        attempt: u16,
        net_copy: u8,
        batch: Batch,
        partition: u16,
    ) -> bool {
        let (a, c) = (attempt as u32, net_copy as u32);
        let (pid, seq) = (batch.producer_id, batch.seq);
        match self.producer_states.check(batch, partition) {
            Check::Append => return true,
            Check::Duplicate { entry, generation } => {
                self.metrics.counters.duplicates_dropped_by_broker += 1;
                trace!(
                    self,
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
                if durable && let Some(m) = self.msgs.get(msg) {
                    let writer = Writer {
                        producer_id: pid,
                        epoch: batch.epoch,
                    };
                    self.send_publish_ack(msg, m.producer, attempt, writer);
                }
            }
            Check::OutOfOrder { expected } => {
                self.metrics.counters.sequence_rejections += 1;
                if let Some(m) = self.msgs.get(msg) {
                    let (producer, partition) = (m.producer, m.partition);
                    if !self.reset_after_lost_acks(producer, partition, batch, expected) {
                        self.refund_refused_send(producer, partition, msg, batch);
                    }
                }
                self.trace_refused_write(msg, (a, c), || {
                    format!(
                        "producer ID {pid}, sequence {seq}: partition {partition} expects sequence {expected} (OutOfOrderSequenceException): refused, the producer retries it later"
                    )
                });
            }
            Check::StaleEpoch => {
                self.metrics.counters.sequence_rejections += 1;
                // Refunded only if the producer has renumbered the record since: the error
                // names the epoch, and the record's new numbering is on its way.
                if let Some(m) = self.msgs.get(msg) {
                    let (producer, partition) = (m.producer, m.partition);
                    if self
                        .sent(producer, partition, msg)
                        .is_some_and(|s| s.epoch > batch.epoch)
                    {
                        self.refund_refused_send(producer, partition, msg, batch);
                    }
                }
                self.trace_refused_write(msg, (a, c), || {
                    format!(
                        "producer ID {pid}: an epoch older than partition {partition}'s (InvalidProducerEpochException): refused"
                    )
                });
            }
            Check::Fenced => {
                self.metrics.counters.producer_fenced += 1;
                self.metrics.examples.fenced.get_or_insert(msg);
                trace!(
                    self,
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
        false
    }

    /// The partition refused an idempotent producer's write: a row in its record's trace.
    /// The note is built only for a traced message, as `trace!` does.
    fn trace_refused_write(
        &mut self,
        msg: u32,
        (attempt, copy): (u32, u32),
        note: impl FnOnce() -> String,
    ) {
        trace!(
            self,
            msg,
            TraceKind::SequenceRejected,
            Actor::Broker,
            None,
            None,
            attempt,
            copy,
            note()
        );
    }

    pub(crate) fn send_publish_ack(&mut self, msg: u32, producer: u16, attempt: u16, to: Writer) {
        if self.mode == Mode::AtMostOnce {
            // acks=0: fire and forget, nobody waits for an answer.
            return;
        }
        self.metrics.counters.network_messages += 1;
        let link = Link::Producer(producer);
        match self.faults.network(
            FaultSite::PublishAck,
            link,
            self.now,
            msg,
            attempt as u32,
            0,
        ) {
            Verdict::Drop { scripted } => {
                trace!(
                    self,
                    msg,
                    TraceKind::PublishAckLost,
                    Actor::Broker,
                    Some(Actor::Producer),
                    None,
                    attempt as u32,
                    0,
                    self.scripted_note(
                        scripted,
                        "the broker's ack was lost on the network: the producer will think the publish failed"
                    )
                );
            }
            Verdict::Deliver { delay, .. } => {
                self.queue.schedule(
                    self.now + delay,
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
    pub(crate) fn kafka_stored_note(&self, partition: u16, copy: u8, in_sync: u8) -> String {
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
                if self.idempotent {
                    "the partition's producer state lacks the first one's sequence: another producer ID or epoch, or a leader that never had it"
                } else {
                    "no idempotent producer"
                }
            )
        }
    }
}
