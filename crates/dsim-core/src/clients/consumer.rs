//! Consumers: the poll loop, processing into the ledger, offset commits (Kafka's
//! `enable.auto.commit` / `auto.commit.interval.ms`, or a commit before processing for
//! at-most-once), the dedup store, transactions (exactly-once), crashes, restarts and the
//! group's session timeouts.

use std::collections::VecDeque;

use crate::brokers::Brokers;
use crate::brokers::kafka::delivery_key;
use crate::clients::Clients;
use crate::effects::external::Charge;
use crate::engine::consumer_state::{Assignment, Work};
use crate::engine::faults::{FaultSite, Verdict};
use crate::engine::messages::{Cause, Item};
use crate::engine::queue::Lane;
use crate::engine::{Event, World, trace};
use crate::observe::trace::{Actor, TraceKind};
use crate::scenario::script::Link;
use crate::scenario::{Isolation, Mode};

impl Clients {
    pub(crate) fn send_fetch(&mut self, world: &mut World, consumer: u16) {
        let c = &mut world.consumers[consumer as usize];
        c.fetching = true;
        let session = c.session;
        world.metrics.counters.network_messages += 1;
        let delay = world.faults.latency(
            Link::Consumer(consumer),
            world.now,
            u32::MAX - consumer as u32,
            session,
            2,
        );
        world
            .queue
            .schedule(world.now + delay, Event::FetchArrive { consumer, session });
    }

    /// Decides what an idle Kafka consumer does next (`next_work` has checked that it is
    /// idle): commit what it received (at-most-once), process the next record, commit the
    /// open transaction, or poll again (committing its offsets first when they are due).
    #[inline]
    pub(crate) fn kafka_next_work(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
    ) {
        let c = &world.consumers[consumer as usize];
        if world.mode == Mode::AtMostOnce {
            // At-most-once commits the offsets of what it received before it processes any
            // of it, and waits for the answer (a synchronous commit).
            if c.offset_commit.is_some() {
                return;
            }
            if c.assigned.iter().any(|a| a.position > a.acked) {
                // Once the whole poll is in: its records arrive together, before the fetch
                // completes, and one commit covers them all.
                if !c.fetching {
                    self.commit_offsets(brokers, world, consumer, true);
                }
                return;
            }
        }
        let c = &mut world.consumers[consumer as usize];
        if let Some(item) = c.queue.pop_front() {
            self.start_processing(brokers, world, consumer, item);
        } else if !c.txn.is_empty() {
            // Commit what is staged as soon as nothing is left to process. Waiting for an
            // outstanding fetch instead could wait forever: a record that arrived late (a
            // delayed or duplicated packet) may be staged while the next fetch sits in a
            // long poll that nothing will answer.
            self.begin_commit(world, consumer);
        } else if !c.fetching {
            // The poll: Kafka's auto-commit runs inside it, committing what the previous
            // poll's records got to, once `auto.commit.interval.ms` has passed.
            if world.mode.commits_after_processing() {
                self.commit_offsets(brokers, world, consumer, false);
            }
            // A zombie that the group removed during a stall learns it at this poll.
            self.rejoin_if_expelled(brokers, world, consumer);
            self.sync_assignment(brokers, world, consumer);
            self.send_fetch(world, consumer);
        }
    }

    pub(crate) fn on_fetch_done(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        session: u32,
    ) {
        let c = &mut world.consumers[consumer as usize];
        if !c.alive || c.session != session {
            return;
        }
        c.fetching = false;
        self.next_work(brokers, world, consumer);
    }

    /// A record of a fetch response reaches a Kafka consumer.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) fn kafka_delivery_arrive(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        msg: u32,
        entry: u32,
        generation: u32,
        delivery: u32,
        key: u8,
        consumer: u16,
        session: u32,
    ) {
        let c = &world.consumers[consumer as usize];
        if !c.alive || c.session != session {
            trace!(
                world,
                msg,
                TraceKind::DeliveryLost,
                Actor::Broker,
                Some(Actor::Consumer),
                Some(consumer as u32),
                delivery,
                key as u32,
                "arrived at a consumer that had crashed in the meantime; its partition's next owner reads it from the committed offset",
            );
            world.release(msg);
            return;
        }
        // The record may have been truncated meanwhile; its offset is what the consumer's
        // position is checked against.
        let found = brokers.entries.live(entry, generation).and_then(|e| {
            c.assigned
                .iter()
                .position(|a| a.partition == e.partition)
                .map(|i| (i, e.partition, e.offset))
        });
        let Some((i, partition, offset)) = found else {
            trace!(
                world,
                msg,
                TraceKind::SkippedByPosition,
                Actor::Consumer,
                None,
                Some(consumer as u32),
                delivery,
                key as u32,
                "arrived for a partition this consumer no longer holds: discarded",
            );
            world.release(msg);
            return;
        };
        let a = &mut world.consumers[consumer as usize].assigned[i];
        if offset != a.position {
            // A response to a fetch from before the consumer's position moved back (an
            // aborted transaction): Kafka's consumer drops records not at its position.
            trace!(
                world,
                msg,
                TraceKind::SkippedByPosition,
                Actor::Consumer,
                None,
                Some(consumer as u32),
                delivery,
                key as u32,
                "not at the consumer's position: a stale fetch response, discarded",
            );
            world.release(msg);
            return;
        }
        a.position += 1;
        let epoch = a.epoch;
        trace!(
            world,
            msg,
            TraceKind::Received,
            Actor::Consumer,
            None,
            Some(consumer as u32),
            delivery,
            key as u32,
            format!("consumer {consumer} received it (partition {partition}, offset {offset})"),
        );
        let item = Item {
            msg,
            entry,
            generation,
            delivery,
            key,
            partition,
            offset,
            epoch,
        };
        world.consumers[consumer as usize].queue.push_back(item);
        self.next_work(brokers, world, consumer);
    }

    pub(crate) fn start_processing(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        item: Item,
    ) {
        let strike = world.faults.crash(
            FaultSite::BeforeProcess,
            consumer,
            world.now,
            item.msg,
            item.delivery,
            item.key as u32,
        );
        if strike.struck() {
            trace!(
                world,
                item.msg,
                TraceKind::Crash,
                Actor::Consumer,
                None,
                Some(consumer as u32),
                item.delivery,
                item.key as u32,
                world.scripted_strike_note(
                    strike,
                    &format!(
                        "consumer {consumer} crashes after receiving this record, before processing it"
                    )
                ),
            );
            self.crash_consumer(brokers, world, consumer, Some(item), None);
            return;
        }
        // The external call (if any) is part of processing: the consumer waits for it.
        let mut cost = world.timing.processing + world.timing.external_call;
        let mut work = Work::Apply;
        if world.mode.dedups() {
            cost += world.timing.dedup_lookup;
            if world.dedup.contains(item.msg, world.now) {
                work = Work::Skip;
                cost = world.timing.dedup_lookup;
            }
        }
        // Capacity: the consumer is busy from here until `on_process_done`.
        world.metrics.busy.start(consumer, world.now);
        let c = &mut world.consumers[consumer as usize];
        c.current = Some((item, work));
        let session = c.session;
        // Each kind of work takes a constant time, so each has its own FIFO lane.
        let lane = if work == Work::Skip {
            Lane::DedupSkip
        } else {
            Lane::Processing
        };
        world.queue.schedule_in_lane(
            lane,
            world.now + cost,
            Event::ProcessDone { consumer, session },
        );
    }

    pub(crate) fn on_process_done(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        session: u32,
    ) {
        let c = &mut world.consumers[consumer as usize];
        if !c.alive || c.session != session {
            return;
        }
        let Some((item, mut work)) = c.current.take() else {
            return;
        };
        // Capacity: the record is handled (see `BusyTime`).
        world.metrics.busy.record_done(consumer, world.now);
        // The card was charged during processing, before the local write below: whatever
        // that write or the broker decides next, the provider has already done it.
        if work == Work::Apply && world.external.is_some() {
            self.call_external(world, item, consumer);
        }
        // The ID is recorded in the same local transaction as the payment, under a unique
        // constraint: if another copy got there first, this one applies nothing.
        if work == Work::Apply && world.mode.dedups() && world.dedup.contains(item.msg, world.now) {
            work = Work::Skip;
        }
        match work {
            Work::Skip => {
                world.metrics.counters.dedup_skips += 1;
                trace!(
                    world,
                    item.msg,
                    TraceKind::DedupSkipped,
                    Actor::Consumer,
                    None,
                    Some(consumer as u32),
                    item.delivery,
                    item.key as u32,
                    "the dedup store already has this ID: payment skipped",
                );
            }
            Work::Apply if world.mode == Mode::ExactlyOnce => {
                if world.scenario.isolation == Isolation::ReadUncommitted {
                    // The output record is in the log now, before the transaction commits,
                    // and a read-uncommitted reader applies it at once.
                    world.apply_effect(item, consumer);
                }
                let c = &mut world.consumers[consumer as usize];
                if c.txn.is_empty() {
                    c.txn_started = world.now;
                }
                c.txn.push(item);
                trace!(
                    world,
                    item.msg,
                    TraceKind::Staged,
                    Actor::Consumer,
                    None,
                    Some(consumer as u32),
                    item.delivery,
                    item.key as u32,
                    if world.scenario.isolation == Isolation::ReadCommitted {
                        "payment staged in the open transaction: its output record is in the log, but a read-committed reader applies it only once the transaction commits"
                    } else {
                        "payment staged in the open transaction: its output record is in the log, and the read-uncommitted reader applied it at once, before the commit"
                    },
                );
            }
            Work::Apply => {
                world.apply_effect(item, consumer);
                if world.mode.dedups() {
                    world.dedup.insert(item.msg, world.now);
                }
            }
        }
        let staged = work == Work::Apply && world.mode == Mode::ExactlyOnce;
        let strike = world.faults.crash(
            FaultSite::AfterProcess,
            consumer,
            world.now,
            item.msg,
            item.delivery,
            item.key as u32,
        );
        if strike.struck() {
            let what = if world.mode == Mode::ExactlyOnce {
                "before the transaction commits"
            } else {
                brokers.family.unconfirmed_after_processing()
            };
            trace!(
                world,
                item.msg,
                TraceKind::Crash,
                Actor::Consumer,
                None,
                Some(consumer as u32),
                item.delivery,
                item.key as u32,
                world.scripted_strike_note(
                    strike,
                    &format!("consumer {consumer} crashes after processing this record, {what}")
                ),
            );
            if !staged {
                world.release(item.msg);
            }
            self.crash_consumer(brokers, world, consumer, None, None);
            return;
        }
        if world
            .faults
            .random_crash(FaultSite::Stall, item.msg, item.delivery, item.key as u32)
        {
            self.stall_consumer(world, consumer, item, !staged);
            return;
        }
        if !staged {
            self.finish_processed(brokers, world, consumer, item);
        }
        self.next_work(brokers, world, consumer);
    }

    /// After processing a record outside a transaction: its partition's processed offset
    /// moves past it (the next offset commit carries it), and the consumer's reference goes.
    #[inline]
    pub(crate) fn kafka_finish_processed(&mut self, world: &mut World, consumer: u16, item: Item) {
        let c = &mut world.consumers[consumer as usize];
        if let Some(a) = c
            .assigned
            .iter_mut()
            .find(|a| a.partition == item.partition && a.epoch == item.epoch)
        {
            a.processed = a.processed.max(item.offset + 1);
        }
        world.release(item.msg);
    }

    // ----- Offset commits (every mode but exactly-once) -----

    /// Commits the consumer's offsets if it has progress the coordinator has not confirmed
    /// and no commit in flight. At-most-once commits its positions (what it received) and
    /// always now (`now`); the others commit what they processed, at a poll once
    /// `commit-interval-ms` has passed since the last commit (Kafka's
    /// `auto.commit.interval.ms`; 0 commits at every poll). A commit not yet due while the
    /// consumer waits arms a wake-up, as the poll loop of a real consumer would come round.
    pub(crate) fn commit_offsets(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        now: bool,
    ) {
        let amo = world.mode == Mode::AtMostOnce;
        let interval = world.timing.commit_interval;
        let c = &world.consumers[consumer as usize];
        if !c.alive || c.stalled || c.offset_commit.is_some() {
            return;
        }
        let progress = |a: &Assignment| if amo { a.position } else { a.processed };
        if !c.assigned.iter().any(|a| progress(a) > a.acked) {
            return;
        }
        let due = c.last_commit_at + interval;
        if !now && interval > 0 && world.now < due && c.next_commit_id > 0 {
            if !c.commit_due_armed {
                let session = c.session;
                world.consumers[consumer as usize].commit_due_armed = true;
                world
                    .queue
                    .schedule(due, Event::CommitDue { consumer, session });
            }
            return;
        }
        let c = &mut world.consumers[consumer as usize];
        let mut sent = std::mem::take(&mut c.commit_sent);
        sent.clear();
        sent.extend(
            c.assigned
                .iter()
                .filter(|a| progress(a) > a.acked)
                .map(|a| (a.partition, progress(a), a.epoch)),
        );
        c.commit_sent = sent;
        let id = c.next_commit_id;
        c.next_commit_id += 1;
        c.offset_commit = Some((id, 1));
        c.last_commit_at = world.now;
        if amo {
            // Capacity: at-most-once is blocked on its synchronous commit until the answer.
            world.metrics.busy.start(consumer, world.now);
        }
        self.send_offset_commit(brokers, world, consumer);
    }

    /// A commit that fell due while the consumer waited on a long poll.
    #[cold]
    pub(crate) fn on_commit_due(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        session: u32,
    ) {
        let c = &mut world.consumers[consumer as usize];
        if c.session != session {
            return;
        }
        c.commit_due_armed = false;
        self.commit_offsets(brokers, world, consumer, false);
    }

    /// Sends the commit in flight to the group coordinator, and arms its timeout.
    fn send_offset_commit(&mut self, brokers: &mut Brokers, world: &mut World, consumer: u16) {
        let c = &world.consumers[consumer as usize];
        let Some((id, attempt)) = c.offset_commit else {
            return;
        };
        let session = c.session;
        // The commit stands where an ack stood in a queue broker: its fate is drawn on the
        // first record it newly covers, so "the ack of message 42 is lost" in one broker is
        // "the commit covering message 42 is lost" here.
        let (p, _, _) = c.commit_sent[0];
        let acked = c
            .assigned
            .iter()
            .find(|a| a.partition == p)
            .map_or(0, |a| a.acked);
        let first = brokers.logs[p as usize]
            .at(acked)
            .and_then(|(entry, generation)| brokers.entries.live(entry, generation))
            .map(|e| (e.msg, e.deliveries, e.copy));
        let (msg, delivery, copy) = first.unwrap_or((u32::MAX - consumer as u32, id, 0));
        let key = delivery_key(copy, 0);
        world.metrics.counters.network_messages += 1;
        let fault_attempt = delivery.wrapping_add(1000u32.wrapping_mul(attempt - 1));
        match world.faults.network(
            FaultSite::Ack,
            Link::Consumer(consumer),
            world.now,
            msg,
            fault_attempt,
            key as u32,
        ) {
            Verdict::Drop { scripted } => {
                trace!(
                    world,
                    msg,
                    TraceKind::AckLost,
                    Actor::Consumer,
                    Some(Actor::Broker),
                    Some(consumer as u32),
                    delivery,
                    key as u32,
                    world.scripted_note(
                        scripted,
                        "the offset commit covering this record was lost on the network: until a later commit gets through, the partition's committed offset stays behind it"
                    ),
                );
            }
            Verdict::Deliver { delay, .. } => {
                world.queue.schedule(
                    world.now + delay,
                    Event::OffsetCommitArrive {
                        consumer,
                        session,
                        id,
                    },
                );
            }
        }
        world.queue.schedule(
            world.now + world.timing.retry_timeout(attempt),
            Event::OffsetCommitTimeout {
                consumer,
                session,
                id,
                attempt,
            },
        );
    }

    /// The coordinator's answer to an offset commit. Rejected (the group has moved on and
    /// given a partition to someone else: Kafka's `CommitFailedException`), the consumer
    /// rejoins and drops what it held of the partitions it lost.
    pub(crate) fn on_offset_commit_response(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        session: u32,
        id: u32,
        ok: bool,
    ) {
        let c = &mut world.consumers[consumer as usize];
        if !c.alive || c.session != session || c.offset_commit.map(|(i, _)| i) != Some(id) {
            return;
        }
        c.offset_commit = None;
        if world.mode == Mode::AtMostOnce {
            world.metrics.busy.commit_done(consumer, world.now);
        }
        let c = &mut world.consumers[consumer as usize];
        if ok {
            for i in 0..c.commit_sent.len() {
                let (p, offset, epoch) = c.commit_sent[i];
                if let Some(a) = c
                    .assigned
                    .iter_mut()
                    .find(|a| a.partition == p && a.epoch == epoch)
                {
                    a.acked = a.acked.max(offset);
                }
            }
        } else {
            world.metrics.counters.fenced_commits += 1;
            self.trace_rejected_commit(brokers, world, consumer);
            self.rejoin_if_expelled(brokers, world, consumer);
            self.sync_assignment(brokers, world, consumer);
        }
        let c = &world.consumers[consumer as usize];
        if c.current.is_none() && c.queue.is_empty() {
            // Idle on a long poll: what it processed meanwhile is committed now, or when due.
            self.commit_offsets(brokers, world, consumer, false);
        }
        self.next_work(brokers, world, consumer);
    }

    #[cold]
    fn trace_rejected_commit(&mut self, brokers: &mut Brokers, world: &mut World, consumer: u16) {
        if world.traced.is_empty() {
            return;
        }
        let mut covered = Vec::new();
        for &(p, offset, _) in &world.consumers[consumer as usize].commit_sent {
            let log = &brokers.logs[p as usize];
            for o in log.committed..offset {
                if let Some((entry, generation)) = log.at(o)
                    && let Some(e) = brokers.entries.live(entry, generation)
                {
                    covered.push((e.msg, e.deliveries, e.copy));
                }
            }
        }
        for (msg, delivery, copy) in covered {
            trace!(
                world,
                msg,
                TraceKind::Fenced,
                Actor::Broker,
                Some(Actor::Consumer),
                Some(consumer as u32),
                delivery,
                delivery_key(copy, 0) as u32,
                "offset commit rejected: the group has given this partition to another consumer since (Kafka's ILLEGAL_GENERATION); that consumer reads it again from the committed offset",
            );
        }
    }

    /// No answer to an offset commit in time: send it again, as long as it is the latest.
    pub(crate) fn on_offset_commit_timeout(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        session: u32,
        id: u32,
        attempt: u32,
    ) {
        let c = &mut world.consumers[consumer as usize];
        if !c.alive || c.session != session || c.offset_commit != Some((id, attempt)) {
            return;
        }
        c.offset_commit = Some((id, attempt + 1));
        world.metrics.counters.commit_retries += 1;
        self.send_offset_commit(brokers, world, consumer);
    }

    /// Drops the records a consumer buffered from a partition it no longer holds.
    pub(crate) fn drop_buffered(&mut self, world: &mut World, consumer: u16, partition: u16) {
        let c = &mut world.consumers[consumer as usize];
        if !c.queue.iter().any(|i| i.partition == partition) {
            return;
        }
        let mut kept = VecDeque::with_capacity(c.queue.len());
        let mut dropped = Vec::new();
        for item in c.queue.drain(..) {
            if item.partition == partition {
                dropped.push(item);
            } else {
                kept.push_back(item);
            }
        }
        c.queue = kept;
        for item in dropped {
            trace!(
                world,
                item.msg,
                TraceKind::DroppedByCrash,
                Actor::Consumer,
                None,
                Some(consumer as u32),
                item.delivery,
                item.key as u32,
                format!(
                    "consumer {consumer} lost partition {partition} in a rebalance: its buffered records are dropped, the new owner reads them from the committed offset"
                ),
            );
            world.release(item.msg);
        }
    }

    // ----- Transactions (exactly-once) -----

    fn begin_commit(&mut self, world: &mut World, consumer: u16) {
        let c = &mut world.consumers[consumer as usize];
        let txn = c.next_txn;
        c.next_txn += 1;
        c.committing = Some((txn, 1));
        // Capacity: blocked on the commit until its answer (`on_commit_response`).
        world.metrics.busy.start(consumer, world.now);
        self.send_commit(world, consumer);
    }

    fn send_commit(&mut self, world: &mut World, consumer: u16) {
        let c = &world.consumers[consumer as usize];
        let Some((txn, attempt)) = c.committing else {
            return;
        };
        let session = c.session;
        let first = c.txn[0];
        world.metrics.counters.network_messages += 1;
        // The commit stands where an ack would: keyed on its first record, so that "the ack of
        // message 42 is lost" in one mode is "the commit carrying message 42 is lost" here.
        let fault_attempt = first
            .delivery
            .wrapping_add(1000u32.wrapping_mul(attempt - 1));
        match world.faults.network(
            FaultSite::Ack,
            Link::Consumer(consumer),
            world.now,
            first.msg,
            fault_attempt,
            first.key as u32,
        ) {
            Verdict::Drop { scripted } => {
                for item in world.consumers[consumer as usize].txn.clone() {
                    trace!(
                        world,
                        item.msg,
                        TraceKind::CommitLost,
                        Actor::Consumer,
                        Some(Actor::Broker),
                        Some(consumer as u32),
                        item.delivery,
                        item.key as u32,
                        world.scripted_note(
                            scripted,
                            &format!(
                                "the commit (attempt {attempt}) was lost on the network: its outcome is unknown to the consumer"
                            )
                        )
                    );
                }
            }
            Verdict::Deliver { delay, .. } => {
                world.queue.schedule(
                    world.now + delay,
                    Event::CommitArrive {
                        consumer,
                        session,
                        txn,
                    },
                );
            }
        }
        world.queue.schedule(
            world.now + world.timing.retry_timeout(attempt),
            Event::CommitTimeout {
                consumer,
                session,
                txn,
                attempt,
            },
        );
    }

    #[inline(never)]
    pub(crate) fn on_commit_response(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        session: u32,
        txn: u32,
        ok: bool,
    ) {
        let c = &world.consumers[consumer as usize];
        if !c.alive || c.session != session || c.committing.map(|(t, _)| t) != Some(txn) {
            return;
        }
        // Capacity: the commit's answer unblocks the consumer.
        world.metrics.busy.commit_done(consumer, world.now);
        if ok {
            let c = &mut world.consumers[consumer as usize];
            c.committing = None;
            let items: Vec<Item> = c.txn.drain(..).collect();
            for item in items {
                world.release(item.msg);
            }
        } else {
            self.abort_txn(brokers, world, consumer);
        }
        self.next_work(brokers, world, consumer);
    }

    /// No answer to the commit in time: send it again, backing off as the producer does, for
    /// as long as the consumer lives. The outcome is the coordinator's to decide: a commit that
    /// timed out may still be on its way or being written, and a consumer that gave up and read
    /// the records again would apply them twice once it lands. As Kafka's client, it retries
    /// the same commit, which the coordinator answers again if it has already committed.
    #[inline(never)]
    pub(crate) fn on_commit_timeout(
        &mut self,
        world: &mut World,
        consumer: u16,
        session: u32,
        txn: u32,
        attempt: u32,
    ) {
        let c = &mut world.consumers[consumer as usize];
        if !c.alive || c.session != session || c.committing != Some((txn, attempt)) {
            return;
        }
        c.committing = Some((txn, attempt + 1));
        world.metrics.counters.commit_retries += 1;
        self.send_commit(world, consumer);
    }

    /// Discards the open transaction; its records will be fetched again.
    fn abort_txn(&mut self, brokers: &mut Brokers, world: &mut World, consumer: u16) {
        let c = &mut world.consumers[consumer as usize];
        c.committing = None;
        let items: Vec<Item> = c.txn.drain(..).collect();
        world.transaction_aborted(items.len());
        for item in items {
            trace!(
                world,
                item.msg,
                TraceKind::Aborted,
                Actor::Consumer,
                None,
                Some(consumer as u32),
                item.delivery,
                item.key as u32,
                if world.scenario.isolation == Isolation::ReadCommitted {
                    "transaction aborted: its output record is marked aborted, a read-committed reader skips it, and the input is read again from the committed offset"
                } else {
                    "transaction aborted, but a read-uncommitted reader had already applied its output record; the input is read again from the committed offset"
                }
            );
            world.release(item.msg);
        }
        // As a transactional consumer must after an abort, it goes back to the committed
        // offsets (`seek`) and drops what it had buffered beyond them.
        self.rewind_to_committed(brokers, world, consumer);
    }

    /// Moves every position back to the group's committed offset and drops the buffer.
    fn rewind_to_committed(&mut self, brokers: &mut Brokers, world: &mut World, consumer: u16) {
        let c = &mut world.consumers[consumer as usize];
        for a in c.assigned.iter_mut() {
            let committed = brokers.logs[a.partition as usize].committed;
            a.position = committed;
            a.processed = committed;
            a.acked = committed;
        }
        let dropped: Vec<Item> = c.queue.drain(..).collect();
        for item in dropped {
            world.release(item.msg);
        }
    }

    // ----- Crashes and the group -----

    /// The consumer process dies: its buffer and open transaction vanish with it. `scripted`
    /// is the script's entry that crashed it at its time, whatever it was doing.
    #[cold]
    pub(crate) fn kafka_crash_consumer(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        in_hand: Option<Item>,
        scripted: Option<u16>,
    ) {
        let c = &mut world.consumers[consumer as usize];
        c.alive = false;
        c.fetching = false;
        let committing = c.committing.take();
        // Its positions and any commit in flight die with the process: whoever reads its
        // partitions next starts from the group's committed offsets.
        c.assigned.clear();
        c.offset_commit = None;
        c.commit_due_armed = false;
        let session = c.session;
        // Its connection closes, and the fetch it had parked at the broker with it.
        brokers.polls[consumer as usize].parked = false;
        let c = &mut world.consumers[consumer as usize];
        let mut dropped: Vec<(Item, bool)> = Vec::new();
        if let Some(item) = in_hand {
            dropped.push((item, false));
        }
        if let Some((item, _)) = c.current.take() {
            dropped.push((item, false));
        }
        dropped.extend(c.queue.drain(..).map(|i| (i, false)));
        // The open transaction dies with it: the coordinator aborts it (Kafka's, when the
        // restarted instance registers its transactional.id, or at transaction.timeout.ms), and
        // its output records stay in the log as aborted ones. Unless the coordinator had
        // committed it already and only its answer was still on the way.
        let coordinator = &brokers.txn_coordinator;
        let committed =
            committing.is_some_and(|(txn, _)| coordinator.has_committed(consumer, session, txn));
        // A commit the coordinator is writing is its to decide (`on_commit_applied`).
        let writing =
            committing.is_some_and(|(txn, _)| coordinator.is_writing(consumer, session, txn));
        let staged = c.txn.len();
        dropped.extend(c.txn.drain(..).map(|i| (i, true)));
        if staged > 0 && !committed && !writing {
            world.transaction_aborted(staged);
        }
        let amo = world.mode == Mode::AtMostOnce;
        for (item, staged) in dropped {
            if amo && let Some(m) = world.msgs.get_mut(item.msg) {
                m.cause = Cause::AckedThenCrashed;
            }
            let note = if staged && committed {
                "the consumer died before its transaction's commit answer came, but the coordinator had committed it: the payment and its offset stand"
            } else if staged && writing {
                "the consumer died while the coordinator was writing its transaction's commit: the coordinator completes it, or fences it if the partitions have moved on since"
            } else if staged && world.scenario.isolation == Isolation::ReadCommitted {
                "the consumer died with this payment in an open transaction: it is aborted, and a read-committed reader never applies it; the input is read again from the committed offset"
            } else if staged {
                "the consumer died with this payment in an open transaction: it is aborted, but the read-uncommitted reader had already applied it; the input is read again from the committed offset"
            } else if amo {
                "the consumer died holding this record, whose offset it had already committed: nobody will read it again"
            } else {
                "the consumer died holding this record, past the committed offset: the partition's next reader starts from that offset and reads it again"
            };
            self.drop_held(world, consumer, item, scripted, note);
        }
        world.queue.schedule(
            world.now + world.timing.restart,
            Event::ConsumerRestart { consumer },
        );
        world.queue.schedule(
            world.now + world.timing.session_timeout,
            Event::SessionExpire { consumer, session },
        );
        // A member the group has already given its partitions to may have been waiting for
        // this one to let go at its next poll; a dead process holds nothing, so the new
        // owners take them now (else an owner parked in a long poll would wait for ever).
        brokers.assign_all(world);
    }

    /// A record the consumer held when it died or lost its connection: its trace row says
    /// what becomes of it (`note`), and the consumer's reference goes.
    pub(crate) fn drop_held(
        &mut self,
        world: &mut World,
        consumer: u16,
        item: Item,
        scripted: Option<u16>,
        note: &str,
    ) {
        trace!(
            world,
            item.msg,
            TraceKind::DroppedByCrash,
            Actor::Consumer,
            None,
            Some(consumer as u32),
            item.delivery,
            item.key as u32,
            world.scripted_note(scripted, note),
        );
        world.release(item.msg);
    }

    #[cold]
    pub(crate) fn kafka_consumer_restart(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
    ) {
        let c = &mut world.consumers[consumer as usize];
        c.alive = true;
        c.session += 1;
        if !brokers.group.is_member(consumer) {
            // Removed while it was down: it joins again (Kafka's JoinGroup), a rebalance.
            brokers.group.set_member(consumer, true);
            self.rebalance(brokers, world);
        } else {
            // Still a member (back before its session timed out): it fetches its committed
            // offsets and reads on from there.
            self.sync_assignment(brokers, world, consumer);
        }
        self.next_work(brokers, world, consumer);
    }

    #[cold]
    pub(crate) fn on_session_expire(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        session: u32,
    ) {
        let c = &world.consumers[consumer as usize];
        if c.alive || c.session != session || !brokers.group.is_member(consumer) {
            return;
        }
        // The coordinator heard nothing for a session timeout: it removes the member.
        brokers.group.set_member(consumer, false);
        self.rebalance(brokers, world);
    }
}

impl Clients {
    /// The external call a consumer makes while processing `item`: it has already waited for
    /// the round trip (see `start_processing`), so the provider's verdict is final here.
    pub(crate) fn call_external(&mut self, world: &mut World, item: Item, consumer: u16) {
        let (account, amount) = world
            .faults
            .payment(item.msg, world.scenario.accounts.max(1));
        let Some(provider) = world.external.as_mut() else {
            return;
        };
        let outcome = provider.call(item.msg, account, amount);
        world.metrics.counters.network_messages += 2;
        if !world.is_traced(item.msg) {
            return;
        }
        let money = crate::observe::money::dollars(amount);
        let (kind, note) = match outcome {
            Charge::Charged { first: true } => (
                TraceKind::ExternalCharge,
                format!("the payment provider charged {money} to account {account}'s card"),
            ),
            Charge::Charged { first: false } => (
                TraceKind::ExternalCharge,
                format!(
                    "the payment provider charged {money} to account {account}'s card AGAIN: an external double charge, outside any broker transaction"
                ),
            ),
            Charge::Deduplicated => (
                TraceKind::ExternalDeduplicated,
                "the provider already has this idempotency key: it returned the first charge's result and charged nothing".to_string(),
            ),
        };
        trace!(
            world,
            item.msg,
            kind,
            Actor::Consumer,
            Some(Actor::External),
            Some(consumer as u32),
            item.delivery,
            item.key as u32,
            note,
        );
    }
}

/// Sends a queue consumer's acknowledgement for `item` (RabbitMQ's `basic.ack`, SQS's
/// `DeleteMessage`): one network message, whose fate the fault plan decides at the `Ack` site.
/// Its delay when it gets through; else the scripted fault that dropped it, if one did, once
/// the loss is traced with `lost` (the family's words for what the loss means).
pub(crate) fn send_queue_ack(
    world: &mut World,
    consumer: u16,
    item: Item,
    lost: &str,
) -> Result<crate::time::Micros, Option<u16>> {
    world.metrics.counters.network_messages += 1;
    match world.faults.network(
        FaultSite::Ack,
        Link::Consumer(consumer),
        world.now,
        item.msg,
        item.delivery,
        item.key as u32,
    ) {
        Verdict::Drop { scripted } => {
            trace!(
                world,
                item.msg,
                TraceKind::AckLost,
                Actor::Consumer,
                Some(Actor::Broker),
                Some(consumer as u32),
                item.delivery,
                item.key as u32,
                world.scripted_note(scripted, lost),
            );
            Err(scripted)
        }
        Verdict::Deliver { delay, .. } => Ok(delay),
    }
}
