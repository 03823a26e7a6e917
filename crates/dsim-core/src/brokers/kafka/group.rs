//! The consumer group as the broker sees it: which member owns which partition, fetches,
//! deliveries, visibility timeouts, redelivery and acks.

use super::log::{Entries, EntryState, Txn, copy_key};
use crate::clients::consumer::delivery_key;
use crate::engine::faults::{Hop, Verdict};
use crate::engine::messages::Cause;
use crate::engine::time::Micros;
use crate::engine::timers::TimerKind;
use crate::engine::{Event, Simulation, trace};
use crate::report::trace::{Actor, TraceKind};
use crate::scenario::Mode;
use crate::scenario::script::Link;

impl Simulation {
    // ----- The consumer group -----

    pub(crate) fn owner_of(&self, partition: u16) -> Option<u16> {
        if self.members.is_empty() {
            None
        } else {
            Some(self.members[partition as usize % self.members.len()])
        }
    }

    /// Membership changed: hand partitions out again and serve anyone waiting.
    pub(crate) fn rebalance(&mut self) {
        self.members = (0..self.consumers.len() as u16)
            .filter(|&c| self.consumers[c as usize].member)
            .collect();
        for c in self.members.clone() {
            self.serve_fetch(c);
        }
    }

    pub(crate) fn on_fetch_arrive(&mut self, consumer: u16, session: u32) {
        let c = &mut self.consumers[consumer as usize];
        if !c.alive || c.session != session {
            return;
        }
        c.parked_fetch = true;
        self.serve_fetch(consumer);
    }

    /// Answers a consumer's parked fetch with up to `max-poll` ready records from the
    /// partitions it owns; with none ready the fetch waits (a long poll).
    pub(crate) fn serve_fetch(&mut self, consumer: u16) {
        if self.broker_down() {
            return;
        }
        let c = &self.consumers[consumer as usize];
        if !c.parked_fetch || !c.alive || !c.member {
            return;
        }
        let session = c.session;
        let Some(index) = self.members.iter().position(|&m| m == consumer) else {
            return;
        };
        let n = self.members.len();
        let max = self.scenario.max_poll.max(1) as usize;
        // A scratch vector kept between fetches: serving a fetch allocates nothing.
        let mut batch = std::mem::take(&mut self.fetch_scratch);
        batch.clear();
        let mut partition = index;
        // Producer transactions (issue 24, item 3), kept minimal here for the consumer-side
        // rewrite: records of an aborted producer transaction, skipped below.
        let mut aborted = Vec::new();
        while partition < self.ready.len() && batch.len() < max {
            let queue = &mut self.ready[partition];
            while batch.len() < max {
                let Some((entry, generation)) = queue.pop_front() else {
                    break;
                };
                // Records acked while waiting for redelivery are skipped here. The generation
                // matters: the acked record's slot may since hold a new record, of another
                // partition, which this stale reference must not hand to this consumer.
                if let Some(e) = self
                    .entries
                    .live(entry, generation)
                    .filter(|e| e.state == EntryState::Ready)
                {
                    // A read-committed reader never sees an aborted record (there is no
                    // read-uncommitted reader yet): skipped, and done with.
                    if e.txn == Txn::Aborted {
                        aborted.push(entry);
                    } else {
                        batch.push(entry);
                    }
                }
            }
            partition += n;
        }
        for entry in aborted {
            self.finish_entry(entry);
        }
        if batch.is_empty() {
            self.fetch_scratch = batch;
            return;
        }
        self.consumers[consumer as usize].parked_fetch = false;
        // The response is one packet in reality; its records' own verdicts model losses and
        // duplicates within it. The poll completes once its slowest on-time record is in.
        let mut complete = self.faults.latency(
            Link::Consumer(consumer),
            self.now,
            u32::MAX - consumer as u32,
            session,
            0,
        );
        for &entry in &batch {
            complete = complete.max(self.deliver(entry, consumer, session));
        }
        self.fetch_scratch = batch;
        self.metrics.counters.network_messages += 1;
        self.queue
            .schedule(self.now + complete, Event::FetchDone { consumer, session });
    }

    /// Sends one record to a consumer; returns when its first copy arrives (0 if lost).
    pub(super) fn deliver(&mut self, entry: u32, consumer: u16, session: u32) -> Micros {
        let e = self.entries.get_mut(entry);
        // Saturating: exactly-once never dead-letters, so a record whose every delivery is
        // lost is sent again each visibility timeout until the horizon, which can be more
        // than 65,535 times (a 1 ms timeout over an hour; the zombie properties found it).
        e.deliveries = e.deliveries.saturating_add(1);
        e.state = EntryState::Delivered;
        let (msg, generation, delivery, copy) = (e.msg, e.generation, e.deliveries, e.copy);
        if delivery > 1 {
            self.metrics.counters.redeliveries += 1;
        }
        self.metrics.counters.network_messages += 1;
        trace!(
            self,
            msg,
            TraceKind::Delivered,
            Actor::Broker,
            Some(Actor::Consumer),
            Some(consumer as u32),
            delivery,
            copy_key(copy, 0),
            if delivery == 1 {
                format!("sent to consumer {consumer}")
            } else {
                format!("sent again to consumer {consumer} (delivery {delivery})")
            },
        );
        let (key0, key1) = (delivery_key(copy, 0), delivery_key(copy, 1));
        let mut arrival = 0;
        match self.faults.network(
            Hop::Delivery,
            Link::Consumer(consumer),
            self.now,
            msg,
            delivery,
            key0 as u32,
        ) {
            Verdict::Drop { scripted } => {
                if let Some(m) = self.msgs.get_mut(msg) {
                    m.cause = Cause::DeliveryLost;
                }
                trace!(
                    self,
                    msg,
                    TraceKind::DeliveryLost,
                    Actor::Broker,
                    Some(Actor::Consumer),
                    Some(consumer as u32),
                    delivery,
                    copy_key(copy, 0),
                    self.scripted_note(scripted, "the delivery was lost on the network"),
                );
            }
            Verdict::Deliver { delay, twice } => {
                arrival = delay;
                self.hold(msg);
                self.queue.schedule(
                    self.now + delay,
                    Event::DeliveryArrive {
                        msg,
                        entry,
                        generation,
                        delivery,
                        copy: key0,
                        consumer,
                        session,
                    },
                );
                if let Some(second) = twice {
                    self.hold(msg);
                    self.metrics.counters.network_messages += 1;
                    trace!(
                        self,
                        msg,
                        TraceKind::DeliveryDuplicated,
                        Actor::Broker,
                        Some(Actor::Consumer),
                        Some(consumer as u32),
                        delivery,
                        copy_key(copy, 1),
                        "the network delivers this delivery twice",
                    );
                    self.queue.schedule(
                        self.now + second,
                        Event::DeliveryArrive {
                            msg,
                            entry,
                            generation,
                            delivery,
                            copy: key1,
                            consumer,
                            session,
                        },
                    );
                }
            }
        }
        if self.mode.redelivers() {
            self.arm_visibility(entry, generation, delivery);
        } else {
            // At-most-once: the broker forgets the record once sent.
            self.finish_entry(entry);
        }
        arrival
    }

    /// The record needs no more deliveries: acked, committed, sent once, or dead-lettered.
    pub(crate) fn finish_entry(&mut self, entry: u32) {
        let msg = self.entries.get(entry).msg;
        self.entries.free(entry);
        self.release(msg);
    }

    /// Arms the visibility timeout of a delivery; one constant delay, so a FIFO timer list.
    pub(super) fn arm_visibility(&mut self, entry: u32, generation: u32, delivery: u32) {
        let at = self.now + self.timing.visibility;
        if let Some(wake) = self
            .visibility_timers
            .add(at, (entry, generation, delivery))
        {
            self.queue.schedule(
                wake,
                Event::TimerWake {
                    kind: TimerKind::Visibility,
                },
            );
        }
    }

    /// Whether a delivery's visibility timeout still matters: once the entry is acked,
    /// delivered again or recycled, it never will again.
    pub(crate) fn visibility_live(
        entries: &Entries,
        entry: u32,
        generation: u32,
        delivery: u32,
    ) -> bool {
        entries
            .live(entry, generation)
            .is_some_and(|e| e.state == EntryState::Delivered && e.deliveries == delivery)
    }

    pub(crate) fn on_visibility(&mut self, entry: u32, generation: u32, delivery: u32) {
        if !Self::visibility_live(&self.entries, entry, generation, delivery) {
            return;
        }
        let e = *self.entries.get(entry);
        if let Some(up) = self.broker_down_until.filter(|&t| t > self.now) {
            self.queue.schedule(
                up,
                Event::Visibility {
                    entry,
                    generation,
                    delivery,
                },
            );
            return;
        }
        if self.mode == Mode::ExactlyOnce {
            // Kafka does not time out a record its live owner is still working on: the owner's
            // position has passed it and a transaction will commit or abort it. Only records
            // held by a session that is gone (or never received) are fetched again.
            if let Some((c, session)) = e.holder {
                let owner = &self.consumers[c as usize];
                if owner.alive && owner.session == session && self.owner_of(e.partition) == Some(c)
                {
                    self.arm_visibility(entry, generation, delivery);
                    return;
                }
            }
            self.entries.get_mut(entry).holder = None;
        }
        // Kafka has no dead-letter queue: a record that keeps failing blocks its partition, and
        // an aborted transaction sends a whole poll back, so exactly-once only stops at the
        // horizon.
        if self.mode != Mode::ExactlyOnce && delivery > self.scenario.max_retries {
            if let Some(m) = self.msgs.get_mut(e.msg) {
                m.dead_lettered = true;
            }
            trace!(
                self,
                e.msg,
                TraceKind::DeadLettered,
                Actor::Broker,
                None,
                None,
                delivery,
                e.copy as u32,
                format!("no ack after {delivery} deliveries: moved to the dead-letter queue"),
            );
            self.finish_entry(entry);
            return;
        }
        trace!(
            self,
            e.msg,
            TraceKind::Redelivery,
            Actor::Broker,
            None,
            None,
            delivery,
            e.copy as u32,
            "no ack within the visibility timeout: the record goes back to its partition",
        );
        self.make_ready(entry, e.partition);
    }

    pub(crate) fn on_ack_arrive(&mut self, entry: u32, generation: u32) {
        let Some(e) = self.entries.live(entry, generation).copied() else {
            return;
        };
        if self.broker_down() {
            trace!(
                self,
                e.msg,
                TraceKind::AckLost,
                Actor::Consumer,
                Some(Actor::Broker),
                None,
                e.deliveries,
                e.copy as u32,
                "the ack reached a partition without a leader (failover in progress) and was lost",
            );
            return;
        }
        if e.state == EntryState::Replicating {
            return;
        }
        trace!(
            self,
            e.msg,
            TraceKind::Ack,
            Actor::Consumer,
            Some(Actor::Broker),
            None,
            e.deliveries,
            e.copy as u32,
            "the broker has the ack: this record is done",
        );
        self.finish_entry(entry);
    }
}
