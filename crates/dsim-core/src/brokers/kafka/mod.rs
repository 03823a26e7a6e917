//! The broker: partition logs, replication, the consumer group's fetches, visibility timeouts
//! and redelivery, acks, and (for exactly-once) the transaction coordinator.

use crate::clients::consumer::{Item, delivery_key};
use crate::engine::faults::{Hop, Verdict};
use crate::engine::messages::Cause;
use crate::engine::queue::Lane;
use crate::engine::time::Micros;
use crate::engine::timers::TimerKind;
use crate::engine::{Event, Simulation, Status, trace};
use crate::report::trace::{Actor, TraceKind};
use crate::scenario::script::Link;
use crate::scenario::{Acks, Mode};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryState {
    Free,
    /// Appended on the leader, not yet on every replica: invisible, and lost if the leader
    /// crashes now.
    Replicating,
    /// Waiting in its partition to be fetched.
    Ready,
    /// Sent to a consumer, waiting for its ack or commit.
    Delivered,
}

/// One record in a partition log. Without an idempotent producer, a retried publish makes a
/// second record of the same message.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub msg: u32,
    pub copy: u8,
    pub partition: u16,
    pub deliveries: u32,
    pub state: EntryState,
    pub generation: u32,
    /// Exactly-once: the consumer session whose position has passed this record.
    pub holder: Option<(u16, u32)>,
}

/// Log entries in a slab whose slots are reused; a generation per slot tells stale events
/// apart from live ones.
#[derive(Clone, Default)]
pub struct Entries {
    slots: Vec<Entry>,
    free: Vec<u32>,
}

impl Entries {
    fn alloc(&mut self, msg: u32, copy: u8, partition: u16) -> (u32, u32) {
        let fresh = |generation| Entry {
            msg,
            copy,
            partition,
            deliveries: 0,
            state: EntryState::Replicating,
            generation,
            holder: None,
        };
        match self.free.pop() {
            Some(i) => {
                let generation = self.slots[i as usize].generation + 1;
                self.slots[i as usize] = fresh(generation);
                (i, generation)
            }
            None => {
                self.slots.push(fresh(0));
                (self.slots.len() as u32 - 1, 0)
            }
        }
    }

    /// Whether the next append would take the log past `MAX_LOG_RECORDS`. Free slots are
    /// reused before the slab grows, so its length is the most records ever held at once.
    fn is_full(&self) -> bool {
        self.free.is_empty() && self.slots.len() >= crate::engine::MAX_LOG_RECORDS
    }

    /// The most records the log has held at once.
    /// The log's records, live or free, in slot order.
    pub fn slots(&self) -> &[Entry] {
        &self.slots
    }

    pub fn peak(&self) -> usize {
        self.slots.len()
    }

    fn free(&mut self, id: u32) {
        let e = &mut self.slots[id as usize];
        e.state = EntryState::Free;
        e.holder = None;
        self.free.push(id);
    }

    /// The entry, if the slot still holds the generation the caller knew.
    pub fn live(&self, id: u32, generation: u32) -> Option<&Entry> {
        self.slots
            .get(id as usize)
            .filter(|e| e.generation == generation && e.state != EntryState::Free)
    }

    pub fn get(&self, id: u32) -> &Entry {
        &self.slots[id as usize]
    }

    pub fn get_mut(&mut self, id: u32) -> &mut Entry {
        &mut self.slots[id as usize]
    }
}

/// A fault key that tells apart the log entries of a message and the network copies of one
/// delivery of an entry.
pub fn copy_key(entry_copy: u8, net_copy: u8) -> u32 {
    entry_copy as u32 * 4 + net_copy as u32
}

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
    fn publish_arrived(&mut self, msg: u32, attempt: u16, net_copy: u8) -> bool {
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
        let (entry, generation) = self.entries.alloc(msg, copy, partition);
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

    fn send_publish_ack(&mut self, msg: u32, producer: u16, attempt: u16) {
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

    pub(crate) fn on_durable(&mut self, entry: u32, generation: u32) {
        let Some(e) = self.entries.live(entry, generation) else {
            return;
        };
        if e.state != EntryState::Replicating {
            return;
        }
        let (msg, partition, copy) = (e.msg, e.partition, e.copy);
        if let Some(pos) = self
            .replicating
            .iter()
            .position(|&(id, g)| id == entry && g == generation)
        {
            self.replicating.remove(pos);
        }
        // The entry holds a reference, so the message is still there.
        let (attempt, producer) = match self.msgs.get_mut(msg) {
            Some(m) => {
                m.durable = true;
                (m.publish_attempts, m.producer)
            }
            None => (1, self.producer_of(msg)),
        };
        let rf = self.scenario.replication_factor.max(1);
        trace!(
            self,
            msg,
            TraceKind::Replicated,
            Actor::Broker,
            None,
            None,
            0,
            copy as u32,
            if rf > 1 {
                format!("on all {rf} replicas; visible to consumers")
            } else {
                "flushed; visible to consumers".to_string()
            },
        );
        if self.acks == Acks::All && rf > 1 {
            self.send_publish_ack(msg, producer, attempt);
        }
        self.make_ready(entry, partition);
    }

    // Inlined: in wasm, LLVM kept it a call on the hot path (ARCHITECTURE.md, wasm inlining).
    #[inline]
    fn make_ready(&mut self, entry: u32, partition: u16) {
        let e = self.entries.get_mut(entry);
        e.state = EntryState::Ready;
        let generation = e.generation;
        self.ready[partition as usize].push_back((entry, generation));
        if let Some(owner) = self.owner_of(partition) {
            self.serve_fetch(owner);
        }
    }

    /// The leader of the partition crashes: every append not yet on the replicas is gone,
    /// and the partition is unavailable until a new leader is elected.
    /// `trigger` is the append a random crash follows; `scripted` the script's entry that
    /// crashed it at its time.
    #[cold]
    pub(crate) fn crash_broker(&mut self, trigger: Option<u32>, scripted: Option<u16>) {
        self.metrics.counters.broker_crashes += 1;
        self.broker_down_until = Some(self.now + self.timing.failover);
        if let Some(trigger) = trigger {
            trace!(
                self,
                trigger,
                TraceKind::BrokerCrash,
                Actor::Broker,
                None,
                None,
                0,
                0,
                "the partition leader crashes right after this append",
            );
        }
        let lost: Vec<(u32, u32)> = self.replicating.drain(..).collect();
        for (entry, generation) in lost {
            let Some(e) = self.entries.live(entry, generation) else {
                continue;
            };
            let (msg, copy) = (e.msg, e.copy);
            self.entries.free(entry);
            if let Some(m) = self.msgs.get_mut(msg) {
                m.live_entries = m.live_entries.saturating_sub(1);
                m.cause = Cause::Truncated;
                let waiting = m.waiting_ack;
                let acks = self.acks;
                trace!(
                    self,
                    msg,
                    TraceKind::Truncated,
                    Actor::Broker,
                    None,
                    None,
                    0,
                    copy as u32,
                    self.scripted_note(
                        scripted,
                        match (acks, waiting) {
                            (_, true) =>
                                "the leader crashed before replicating this record: the new leader never had it, but the producer is still waiting and will retry",
                            (Acks::Leader, false) =>
                                "the leader crashed before replicating this record, after acking it (acks=leader): nobody will retry",
                            (Acks::All, false) =>
                                "the leader crashed before this record reached a replica; nobody is waiting for it",
                        }
                    )
                );
            }
            self.release(msg);
        }
        self.coordinator_reset();
        self.queue
            .schedule(self.now + self.timing.failover, Event::BrokerRecover);
    }

    #[cold]
    pub(crate) fn on_broker_recover(&mut self) {
        if self.broker_down() {
            return;
        }
        self.broker_down_until = None;
        for c in self.members.clone() {
            self.serve_fetch(c);
        }
    }

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
        while partition < self.ready.len() && batch.len() < max {
            let queue = &mut self.ready[partition];
            while batch.len() < max {
                let Some((entry, generation)) = queue.pop_front() else {
                    break;
                };
                // Records acked while waiting for redelivery are skipped here. The generation
                // matters: the acked record's slot may since hold a new record, of another
                // partition, which this stale reference must not hand to this consumer.
                if self
                    .entries
                    .live(entry, generation)
                    .is_some_and(|e| e.state == EntryState::Ready)
                {
                    batch.push(entry);
                }
            }
            partition += n;
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
    fn deliver(&mut self, entry: u32, consumer: u16, session: u32) -> Micros {
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
    fn arm_visibility(&mut self, entry: u32, generation: u32, delivery: u32) {
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

    // ----- The transaction coordinator (exactly-once) -----

    fn coordinator_reset(&mut self) {
        for c in &mut self.consumers {
            c.coordinator_pending = None;
        }
    }

    #[inline(never)]
    pub(crate) fn on_commit_arrive(&mut self, consumer: u16, session: u32, txn: u32) {
        if self.broker_down() {
            return;
        }
        let c = &self.consumers[consumer as usize];
        if c.coordinator_committed == Some((session, txn)) {
            // A retried commit of a transaction that already committed: answer again.
            self.send_commit_response(consumer, session, txn, true);
            return;
        }
        if c.coordinator_pending
            .as_ref()
            .is_some_and(|(s, t, _)| (*s, *t) == (session, txn))
        {
            return;
        }
        // The request lists the records (offsets) the transaction covers; a consumer that died
        // since sending it took its connection, and the request, with it.
        if !c.alive || c.session != session || c.committing.map(|(t, _)| t) != Some(txn) {
            return;
        }
        let items = c.txn.clone();
        if self.fences(consumer, session, &items) {
            self.reject_commit(consumer, session, txn, &items);
            return;
        }
        self.consumers[consumer as usize].coordinator_pending = Some((session, txn, items));
        let rf = self.scenario.replication_factor.max(1) as u64;
        let replication = if rf > 1 { self.timing.replication } else { 0 };
        self.metrics.counters.network_messages += rf - 1;
        self.queue.schedule_in_lane(
            Lane::TxnWrite,
            self.now + self.timing.txn_write + replication,
            Event::CommitApplied {
                consumer,
                session,
                txn,
            },
        );
    }

    /// Generation fencing: a commit is accepted only if every record in it is still held by
    /// the committing session, i.e. no newer consumer has been given the partition since.
    fn txn_still_owned(&self, consumer: u16, session: u32, items: &[Item]) -> bool {
        items.iter().all(|item| {
            self.entries
                .live(item.entry, item.generation)
                .is_some_and(|e| e.holder == Some((consumer, session)))
        })
    }

    /// Whether fencing rejects this commit: it is on, and the commit is stale. With fencing
    /// off, a zombie's commit goes through and its records count a second time.
    fn fences(&self, consumer: u16, session: u32, items: &[Item]) -> bool {
        self.scenario.fencing && !self.txn_still_owned(consumer, session, items)
    }

    fn reject_commit(&mut self, consumer: u16, session: u32, txn: u32, items: &[Item]) {
        self.metrics.counters.fenced_commits += 1;
        for item in items {
            trace!(
                self,
                item.msg,
                TraceKind::Fenced,
                Actor::Broker,
                Some(Actor::Consumer),
                Some(consumer as u32),
                item.delivery,
                item.key as u32,
                "commit rejected: a newer consumer generation owns this partition (fencing)",
            );
        }
        self.send_commit_response(consumer, session, txn, false);
    }

    #[inline(never)]
    pub(crate) fn on_commit_applied(&mut self, consumer: u16, session: u32, txn: u32) {
        let pending = self.consumers[consumer as usize].coordinator_pending.take();
        let Some((s, t, items)) = pending else { return };
        if (s, t) != (session, txn) {
            self.consumers[consumer as usize].coordinator_pending = Some((s, t, items));
            return;
        }
        if self.fences(consumer, session, &items) {
            self.reject_commit(consumer, session, txn, &items);
            return;
        }
        // Only reachable with fencing off: a commit from a consumer that lost its records.
        let stale = !self.txn_still_owned(consumer, session, &items);
        self.metrics.counters.stale_commits_accepted += stale as u64;
        self.consumers[consumer as usize].coordinator_committed = Some((session, txn));
        self.metrics.counters.transactions += 1;
        let size = items.len();
        for item in items {
            // Read-committed: the payment becomes visible in the ledger only now, together
            // with the offset commit.
            trace!(
                self,
                item.msg,
                TraceKind::Committed,
                Actor::Broker,
                Some(Actor::Ledger),
                Some(consumer as u32),
                item.delivery,
                item.key as u32,
                if stale {
                    format!(
                        "transaction of {size} record(s) committed although another consumer now owns them: fencing is off, so the stale commit is accepted"
                    )
                } else {
                    format!(
                        "transaction of {size} record(s) committed: payment and offset together"
                    )
                },
            );
            self.apply_effect(item, consumer);
            // A stale commit's record may already be done (or its slot reused).
            if self.entries.live(item.entry, item.generation).is_some() {
                self.finish_entry(item.entry);
            }
        }
        self.send_commit_response(consumer, session, txn, true);
    }

    fn send_commit_response(&mut self, consumer: u16, session: u32, txn: u32, ok: bool) {
        self.metrics.counters.network_messages += 1;
        let delay = self.timing.txn_ack
            + self.faults.latency(
                Link::Consumer(consumer),
                self.now,
                u32::MAX - consumer as u32,
                txn,
                1,
            );
        self.queue.schedule(
            self.now + delay,
            Event::CommitResponse {
                consumer,
                session,
                txn,
                ok,
            },
        );
    }
}
