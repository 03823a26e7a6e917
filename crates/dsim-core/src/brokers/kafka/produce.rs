//! The produce path: a publish arriving at the partition leader, its append, and the ack
//! back to the producer (Kafka's `acks`).

use crate::engine::faults::{Hop, Verdict};
use crate::engine::messages::Cause;
use crate::engine::queue::Lane;
use crate::engine::{Event, Simulation, Status, trace};
use crate::report::trace::{Actor, TraceKind};
use crate::scenario::script::Link;
use crate::scenario::{Acks, Mode};

impl Simulation {
    pub(crate) fn broker_down(&self) -> bool {
        self.broker_down_until.is_some_and(|t| t > self.now)
    }

    pub(crate) fn on_publish_arrive(&mut self, msg: u32, attempt: u16, net_copy: u8) {
        if self.msgs.get(msg).is_none() {
            return;
        }
        if self.entries.is_full() {
            // The log is at its bound: stop the run here, with this publish still in flight
            // (its reference is kept, so it is not miscounted as lost).
            self.status = Status::Stalled;
            return;
        }
        if !self.publish_arrived(msg, attempt, net_copy) {
            self.release(msg);
        }
    }

    /// Handles a publish that reached the broker. Returns whether its reference passed to a
    /// new log record (otherwise the caller drops it): a hold and a release that cancel out
    /// are two look-ups saved on every append.
    pub(super) fn publish_arrived(&mut self, msg: u32, attempt: u16, net_copy: u8) -> bool {
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
        let m = self.msgs.get(msg).expect("checked by caller");
        let producer = m.producer;
        if self.mode == Mode::ExactlyOnce && m.live_entries > 0 {
            // Same producer ID and sequence number as a record already in the log.
            let durable = m.durable;
            self.metrics.counters.duplicates_dropped_by_broker += 1;
            trace!(
                self,
                msg,
                TraceKind::DuplicateDropped,
                Actor::Broker,
                None,
                None,
                attempt as u32,
                net_copy as u32,
                "same producer ID and sequence number as a stored record: dropped as a retry",
            );
            if durable {
                self.send_publish_ack(msg, producer, attempt);
            }
            return false;
        }
        let m = self.msgs.get_mut(msg).expect("checked by caller");
        let partition = m.partition;
        let copy = m.entries;
        m.entries = m.entries.saturating_add(1);
        // Saturating, like `entries`: without an idempotent producer a message duplicated on
        // every hop and retried for an hour can be appended more than 255 times (tests/fuzz.rs
        // found it). Only exactly-once reads the count, and there it never exceeds one.
        m.live_entries = m.live_entries.saturating_add(1);
        let (entry, generation) = self.append_record(msg, copy, partition);
        self.metrics.counters.appends += 1;
        let rf = self.scenario.replication_factor.max(1) as u64;
        self.metrics.counters.network_messages += rf - 1;
        self.replicating.push_back((entry, generation));
        self.queue.schedule_in_lane(
            Lane::Replication,
            self.now + self.timing.replication,
            Event::Durable { entry, generation },
        );
        trace!(
            self,
            msg,
            TraceKind::Stored,
            Actor::Broker,
            None,
            None,
            attempt as u32,
            copy as u32,
            if copy == 0 {
                format!("appended to partition {partition}")
            } else {
                format!(
                    "appended to partition {partition} AGAIN, as a second record (no idempotent producer)"
                )
            }
        );
        // With one replica there is nobody to wait for, so `all` acks as early as `leader`.
        let ack_now = self.acks == Acks::Leader || rf == 1;
        if ack_now {
            self.send_publish_ack(msg, producer, attempt);
        }
        if self
            .faults
            .crash(
                Hop::BrokerAppend,
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

    pub(super) fn send_publish_ack(&mut self, msg: u32, producer: u16, attempt: u16) {
        if self.mode == Mode::AtMostOnce {
            // acks=0: fire and forget, nobody waits for an answer.
            return;
        }
        self.metrics.counters.network_messages += 1;
        let link = Link::Producer(producer);
        match self
            .faults
            .network(Hop::PublishAck, link, self.now, msg, attempt as u32, 0)
        {
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
                self.queue
                    .schedule(self.now + delay, Event::PublishAckArrive { msg });
            }
        }
    }
}
