//! Consumers: the poll loop, processing into the ledger, offset commits (Kafka's
//! `enable.auto.commit` / `auto.commit.interval.ms`, or a commit before processing for
//! at-most-once), the dedup store, transactions (exactly-once), crashes, restarts and the
//! group's session timeouts.

use std::collections::VecDeque;

use crate::brokers::kafka::{Assignment, delivery_key};
use crate::effects::external::Charge;
use crate::engine::faults::{FaultSite, Verdict};
use crate::engine::messages::{Cause, Item};
use crate::engine::queue::Lane;
use crate::engine::{Event, Simulation, trace};
use crate::observe::trace::{Actor, TraceKind};
use crate::scenario::script::Link;
use crate::scenario::{Isolation, Mode};
use crate::time::Micros;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    Apply,
    /// The dedup store already has the ID.
    Skip,
}

#[derive(Clone)]
pub struct Consumer {
    pub alive: bool,
    /// Bumped at every restart; events for an older session are ignored.
    pub session: u32,
    pub queue: VecDeque<Item>,
    pub current: Option<(Item, Work)>,
    pub fetching: bool,
    /// Exactly-once: records processed in the open transaction.
    pub txn: Vec<Item>,
    /// When the open transaction began (its first record staged): the coordinator aborts it
    /// `transaction.timeout.ms` later.
    pub txn_started: Micros,
    /// The open transaction's commit in progress: `(txn, attempt)`.
    pub committing: Option<(u32, u32)>,
    pub next_txn: u32,
    /// Frozen in a stall (see `zombie`): alive, but doing nothing until it wakes.
    pub stalled: bool,
    /// Stalls so far; tells a stall's events apart from an earlier one's.
    pub stall: u32,
    /// A processed record whose bookkeeping waits for the end of the stall.
    pub ack_after_stall: Option<Item>,
    /// The partitions the group gave it, with its positions.
    pub assigned: Vec<Assignment>,
    /// The offset commit in flight: `(id, attempt)`. One at a time, as Kafka's consumer
    /// sends them in order.
    pub offset_commit: Option<(u32, u32)>,
    pub next_commit_id: u32,
    /// The offsets the commit in flight carries: `(partition, offset, epoch)`.
    pub commit_sent: Vec<(u16, u64, u32)>,
    /// When it last sent an offset commit (`auto.commit.interval.ms` counts from there).
    pub last_commit_at: Micros,
    /// A wake-up for a commit that falls due while the consumer waits on a long poll.
    pub commit_due_armed: bool,
    /// SQS at-most-once: received messages whose DeleteMessage is on its way; each is
    /// processed once its delete succeeds.
    pub deleting: Vec<Item>,
}

impl Default for Consumer {
    fn default() -> Self {
        Consumer {
            alive: true,
            session: 0,
            queue: VecDeque::new(),
            current: None,
            fetching: false,
            txn: Vec::new(),
            txn_started: 0,
            committing: None,
            next_txn: 0,
            stalled: false,
            stall: 0,
            ack_after_stall: None,
            assigned: Vec::new(),
            offset_commit: None,
            next_commit_id: 0,
            commit_sent: Vec::new(),
            last_commit_at: 0,
            commit_due_armed: false,
            deleting: Vec::new(),
        }
    }
}

impl Simulation {
    pub(crate) fn send_fetch(&mut self, consumer: u16) {
        let c = &mut self.consumers[consumer as usize];
        c.fetching = true;
        let session = c.session;
        self.metrics.counters.network_messages += 1;
        let delay = self.faults.latency(
            Link::Consumer(consumer),
            self.now,
            u32::MAX - consumer as u32,
            session,
            2,
        );
        self.queue
            .schedule(self.now + delay, Event::FetchArrive { consumer, session });
    }

    /// Decides what an idle Kafka consumer does next (`next_work` has checked that it is
    /// idle): commit what it received (at-most-once), process the next record, commit the
    /// open transaction, or poll again (committing its offsets first when they are due).
    #[inline]
    pub(crate) fn kafka_next_work(&mut self, consumer: u16) {
        let c = &self.consumers[consumer as usize];
        if self.mode == Mode::AtMostOnce {
            // At-most-once commits the offsets of what it received before it processes any
            // of it, and waits for the answer (a synchronous commit).
            if c.offset_commit.is_some() {
                return;
            }
            if c.assigned.iter().any(|a| a.position > a.acked) {
                // Once the whole poll is in: its records arrive together, before the fetch
                // completes, and one commit covers them all.
                if !c.fetching {
                    self.commit_offsets(consumer, true);
                }
                return;
            }
        }
        let c = &mut self.consumers[consumer as usize];
        if let Some(item) = c.queue.pop_front() {
            self.start_processing(consumer, item);
        } else if !c.txn.is_empty() {
            // Commit what is staged as soon as nothing is left to process. Waiting for an
            // outstanding fetch instead could wait forever: a record that arrived late (a
            // delayed or duplicated packet) may be staged while the next fetch sits in a
            // long poll that nothing will answer.
            self.begin_commit(consumer);
        } else if !c.fetching {
            // The poll: Kafka's auto-commit runs inside it, committing what the previous
            // poll's records got to, once `auto.commit.interval.ms` has passed.
            if self.mode.commits_after_processing() {
                self.commit_offsets(consumer, false);
            }
            // A zombie that the group removed during a stall learns it at this poll.
            self.rejoin_if_expelled(consumer);
            self.sync_assignment(consumer);
            self.send_fetch(consumer);
        }
    }

    pub(crate) fn on_fetch_done(&mut self, consumer: u16, session: u32) {
        let c = &mut self.consumers[consumer as usize];
        if !c.alive || c.session != session {
            return;
        }
        c.fetching = false;
        self.next_work(consumer);
    }

    /// A record of a fetch response reaches a Kafka consumer.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) fn kafka_delivery_arrive(
        &mut self,
        msg: u32,
        entry: u32,
        generation: u32,
        delivery: u32,
        key: u8,
        consumer: u16,
        session: u32,
    ) {
        let c = &self.consumers[consumer as usize];
        if !c.alive || c.session != session {
            trace!(
                self,
                msg,
                TraceKind::DeliveryLost,
                Actor::Broker,
                Some(Actor::Consumer),
                Some(consumer as u32),
                delivery,
                key as u32,
                "arrived at a consumer that had crashed in the meantime; its partition's next owner reads it from the committed offset",
            );
            self.release(msg);
            return;
        }
        // The record may have been truncated meanwhile; its offset is what the consumer's
        // position is checked against.
        let found = self.entries.live(entry, generation).and_then(|e| {
            c.assigned
                .iter()
                .position(|a| a.partition == e.partition)
                .map(|i| (i, e.partition, e.offset))
        });
        let Some((i, partition, offset)) = found else {
            trace!(
                self,
                msg,
                TraceKind::SkippedByPosition,
                Actor::Consumer,
                None,
                Some(consumer as u32),
                delivery,
                key as u32,
                "arrived for a partition this consumer no longer holds: discarded",
            );
            self.release(msg);
            return;
        };
        let a = &mut self.consumers[consumer as usize].assigned[i];
        if offset != a.position {
            // A response to a fetch from before the consumer's position moved back (an
            // aborted transaction): Kafka's consumer drops records not at its position.
            trace!(
                self,
                msg,
                TraceKind::SkippedByPosition,
                Actor::Consumer,
                None,
                Some(consumer as u32),
                delivery,
                key as u32,
                "not at the consumer's position: a stale fetch response, discarded",
            );
            self.release(msg);
            return;
        }
        a.position += 1;
        let epoch = a.epoch;
        trace!(
            self,
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
        self.consumers[consumer as usize].queue.push_back(item);
        self.next_work(consumer);
    }

    pub(crate) fn start_processing(&mut self, consumer: u16, item: Item) {
        let strike = self.faults.crash(
            FaultSite::BeforeProcess,
            consumer,
            self.now,
            item.msg,
            item.delivery,
            item.key as u32,
        );
        if strike.struck() {
            trace!(
                self,
                item.msg,
                TraceKind::Crash,
                Actor::Consumer,
                None,
                Some(consumer as u32),
                item.delivery,
                item.key as u32,
                self.scripted_strike_note(
                    strike,
                    &format!(
                        "consumer {consumer} crashes after receiving this record, before processing it"
                    )
                ),
            );
            self.crash_consumer(consumer, Some(item), None);
            return;
        }
        // The external call (if any) is part of processing: the consumer waits for it.
        let mut cost = self.timing.processing + self.timing.external_call;
        let mut work = Work::Apply;
        if self.mode.dedups() {
            cost += self.timing.dedup_lookup;
            if self.dedup.contains(item.msg, self.now) {
                work = Work::Skip;
                cost = self.timing.dedup_lookup;
            }
        }
        // Capacity: the consumer is busy from here until `on_process_done`.
        self.metrics.busy.start(consumer, self.now);
        let c = &mut self.consumers[consumer as usize];
        c.current = Some((item, work));
        let session = c.session;
        // Each kind of work takes a constant time, so each has its own FIFO lane.
        let lane = if work == Work::Skip {
            Lane::DedupSkip
        } else {
            Lane::Processing
        };
        self.queue.schedule_in_lane(
            lane,
            self.now + cost,
            Event::ProcessDone { consumer, session },
        );
    }

    pub(crate) fn on_process_done(&mut self, consumer: u16, session: u32) {
        let c = &mut self.consumers[consumer as usize];
        if !c.alive || c.session != session {
            return;
        }
        let Some((item, mut work)) = c.current.take() else {
            return;
        };
        // Capacity: the record is handled (see `BusyTime`).
        self.metrics.busy.record_done(consumer, self.now);
        // The card was charged during processing, before the local write below: whatever
        // that write or the broker decides next, the provider has already done it.
        if work == Work::Apply && self.external.is_some() {
            self.call_external(item, consumer);
        }
        // The ID is recorded in the same local transaction as the payment, under a unique
        // constraint: if another copy got there first, this one applies nothing.
        if work == Work::Apply && self.mode.dedups() && self.dedup.contains(item.msg, self.now) {
            work = Work::Skip;
        }
        match work {
            Work::Skip => {
                self.metrics.counters.dedup_skips += 1;
                trace!(
                    self,
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
            Work::Apply if self.mode == Mode::ExactlyOnce => {
                if self.scenario.isolation == Isolation::ReadUncommitted {
                    // The output record is in the log now, before the transaction commits,
                    // and a read-uncommitted reader applies it at once.
                    self.apply_effect(item, consumer);
                }
                let c = &mut self.consumers[consumer as usize];
                if c.txn.is_empty() {
                    c.txn_started = self.now;
                }
                c.txn.push(item);
                trace!(
                    self,
                    item.msg,
                    TraceKind::Staged,
                    Actor::Consumer,
                    None,
                    Some(consumer as u32),
                    item.delivery,
                    item.key as u32,
                    "payment staged in the open transaction (invisible until commit)",
                );
            }
            Work::Apply => {
                self.apply_effect(item, consumer);
                if self.mode.dedups() {
                    self.dedup.insert(item.msg, self.now);
                }
            }
        }
        let staged = work == Work::Apply && self.mode == Mode::ExactlyOnce;
        let strike = self.faults.crash(
            FaultSite::AfterProcess,
            consumer,
            self.now,
            item.msg,
            item.delivery,
            item.key as u32,
        );
        if strike.struck() {
            let what = if self.mode == Mode::ExactlyOnce {
                "before the transaction commits"
            } else {
                self.family.unconfirmed_after_processing()
            };
            trace!(
                self,
                item.msg,
                TraceKind::Crash,
                Actor::Consumer,
                None,
                Some(consumer as u32),
                item.delivery,
                item.key as u32,
                self.scripted_strike_note(
                    strike,
                    &format!("consumer {consumer} crashes after processing this record, {what}")
                ),
            );
            if !staged {
                self.release(item.msg);
            }
            self.crash_consumer(consumer, None, None);
            return;
        }
        if self
            .faults
            .random_crash(FaultSite::Stall, item.msg, item.delivery, item.key as u32)
        {
            self.stall_consumer(consumer, item, !staged);
            return;
        }
        if !staged {
            self.finish_processed(consumer, item);
        }
        self.next_work(consumer);
    }

    /// After processing a record outside a transaction: its partition's processed offset
    /// moves past it (the next offset commit carries it), and the consumer's reference goes.
    #[inline]
    pub(crate) fn kafka_finish_processed(&mut self, consumer: u16, item: Item) {
        let c = &mut self.consumers[consumer as usize];
        if let Some(a) = c
            .assigned
            .iter_mut()
            .find(|a| a.partition == item.partition && a.epoch == item.epoch)
        {
            a.processed = a.processed.max(item.offset + 1);
        }
        self.release(item.msg);
    }

    // ----- Offset commits (every mode but exactly-once) -----

    /// Commits the consumer's offsets if it has progress the coordinator has not confirmed
    /// and no commit in flight. At-most-once commits its positions (what it received) and
    /// always now (`now`); the others commit what they processed, at a poll once
    /// `commit-interval-ms` has passed since the last commit (Kafka's
    /// `auto.commit.interval.ms`; 0 commits at every poll). A commit not yet due while the
    /// consumer waits arms a wake-up, as the poll loop of a real consumer would come round.
    pub(crate) fn commit_offsets(&mut self, consumer: u16, now: bool) {
        let amo = self.mode == Mode::AtMostOnce;
        let interval = self.timing.commit_interval;
        let c = &self.consumers[consumer as usize];
        if !c.alive || c.stalled || c.offset_commit.is_some() {
            return;
        }
        let progress = |a: &Assignment| if amo { a.position } else { a.processed };
        if !c.assigned.iter().any(|a| progress(a) > a.acked) {
            return;
        }
        let due = c.last_commit_at + interval;
        if !now && interval > 0 && self.now < due && c.next_commit_id > 0 {
            if !c.commit_due_armed {
                let session = c.session;
                self.consumers[consumer as usize].commit_due_armed = true;
                self.queue
                    .schedule(due, Event::CommitDue { consumer, session });
            }
            return;
        }
        let c = &mut self.consumers[consumer as usize];
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
        c.last_commit_at = self.now;
        if amo {
            // Capacity: at-most-once is blocked on its synchronous commit until the answer.
            self.metrics.busy.start(consumer, self.now);
        }
        self.send_offset_commit(consumer);
    }

    /// A commit that fell due while the consumer waited on a long poll.
    #[cold]
    pub(crate) fn on_commit_due(&mut self, consumer: u16, session: u32) {
        let c = &mut self.consumers[consumer as usize];
        if c.session != session {
            return;
        }
        c.commit_due_armed = false;
        self.commit_offsets(consumer, false);
    }

    /// Sends the commit in flight to the group coordinator, and arms its timeout.
    fn send_offset_commit(&mut self, consumer: u16) {
        let c = &self.consumers[consumer as usize];
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
        let first = self.logs[p as usize]
            .at(acked)
            .and_then(|(entry, generation)| self.entries.live(entry, generation))
            .map(|e| (e.msg, e.deliveries, e.copy));
        let (msg, delivery, copy) = first.unwrap_or((u32::MAX - consumer as u32, id, 0));
        let key = delivery_key(copy, 0);
        self.metrics.counters.network_messages += 1;
        let fault_attempt = delivery.wrapping_add(1000u32.wrapping_mul(attempt - 1));
        match self.faults.network(
            FaultSite::Ack,
            Link::Consumer(consumer),
            self.now,
            msg,
            fault_attempt,
            key as u32,
        ) {
            Verdict::Drop { scripted } => {
                trace!(
                    self,
                    msg,
                    TraceKind::AckLost,
                    Actor::Consumer,
                    Some(Actor::Broker),
                    Some(consumer as u32),
                    delivery,
                    key as u32,
                    self.scripted_note(
                        scripted,
                        "the offset commit covering this record was lost on the network: until a later commit gets through, the partition's committed offset stays behind it"
                    ),
                );
            }
            Verdict::Deliver { delay, .. } => {
                self.queue.schedule(
                    self.now + delay,
                    Event::OffsetCommitArrive {
                        consumer,
                        session,
                        id,
                    },
                );
            }
        }
        self.queue.schedule(
            self.now + self.timing.retry_timeout(attempt),
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
        consumer: u16,
        session: u32,
        id: u32,
        ok: bool,
    ) {
        let c = &mut self.consumers[consumer as usize];
        if !c.alive || c.session != session || c.offset_commit.map(|(i, _)| i) != Some(id) {
            return;
        }
        c.offset_commit = None;
        if self.mode == Mode::AtMostOnce {
            self.metrics.busy.commit_done(consumer, self.now);
        }
        let c = &mut self.consumers[consumer as usize];
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
            self.metrics.counters.fenced_commits += 1;
            self.trace_rejected_commit(consumer);
            self.rejoin_if_expelled(consumer);
            self.sync_assignment(consumer);
        }
        let c = &self.consumers[consumer as usize];
        if c.current.is_none() && c.queue.is_empty() {
            // Idle on a long poll: what it processed meanwhile is committed now, or when due.
            self.commit_offsets(consumer, false);
        }
        self.next_work(consumer);
    }

    #[cold]
    fn trace_rejected_commit(&mut self, consumer: u16) {
        if self.traced.is_empty() {
            return;
        }
        let mut covered = Vec::new();
        for &(p, offset, _) in &self.consumers[consumer as usize].commit_sent {
            let log = &self.logs[p as usize];
            for o in log.committed..offset {
                if let Some((entry, generation)) = log.at(o)
                    && let Some(e) = self.entries.live(entry, generation)
                {
                    covered.push((e.msg, e.deliveries, e.copy));
                }
            }
        }
        for (msg, delivery, copy) in covered {
            trace!(
                self,
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
        consumer: u16,
        session: u32,
        id: u32,
        attempt: u32,
    ) {
        let c = &mut self.consumers[consumer as usize];
        if !c.alive || c.session != session || c.offset_commit != Some((id, attempt)) {
            return;
        }
        c.offset_commit = Some((id, attempt + 1));
        self.metrics.counters.retries += 1;
        self.send_offset_commit(consumer);
    }

    /// Drops the records a consumer buffered from a partition it no longer holds.
    pub(crate) fn drop_buffered(&mut self, consumer: u16, partition: u16) {
        let c = &mut self.consumers[consumer as usize];
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
                self,
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
            self.release(item.msg);
        }
    }

    // ----- Transactions (exactly-once) -----

    fn begin_commit(&mut self, consumer: u16) {
        let c = &mut self.consumers[consumer as usize];
        let txn = c.next_txn;
        c.next_txn += 1;
        c.committing = Some((txn, 1));
        // Capacity: blocked on the commit until its answer (`on_commit_response`).
        self.metrics.busy.start(consumer, self.now);
        self.send_commit(consumer);
    }

    fn send_commit(&mut self, consumer: u16) {
        let c = &self.consumers[consumer as usize];
        let Some((txn, attempt)) = c.committing else {
            return;
        };
        let session = c.session;
        let first = c.txn[0];
        self.metrics.counters.network_messages += 1;
        // The commit stands where an ack would: keyed on its first record, so that "the ack of
        // message 42 is lost" in one mode is "the commit carrying message 42 is lost" here.
        let fault_attempt = first
            .delivery
            .wrapping_add(1000u32.wrapping_mul(attempt - 1));
        match self.faults.network(
            FaultSite::Ack,
            Link::Consumer(consumer),
            self.now,
            first.msg,
            fault_attempt,
            first.key as u32,
        ) {
            Verdict::Drop { scripted } => {
                for item in self.consumers[consumer as usize].txn.clone() {
                    trace!(
                        self,
                        item.msg,
                        TraceKind::CommitLost,
                        Actor::Consumer,
                        Some(Actor::Broker),
                        Some(consumer as u32),
                        item.delivery,
                        item.key as u32,
                        self.scripted_note(
                            scripted,
                            &format!(
                                "the commit (attempt {attempt}) was lost on the network: its outcome is unknown to the consumer"
                            )
                        )
                    );
                }
            }
            Verdict::Deliver { delay, .. } => {
                self.queue.schedule(
                    self.now + delay,
                    Event::CommitArrive {
                        consumer,
                        session,
                        txn,
                    },
                );
            }
        }
        self.queue.schedule(
            self.now + self.timing.retry_timeout(attempt),
            Event::CommitTimeout {
                consumer,
                session,
                txn,
                attempt,
            },
        );
    }

    #[inline(never)]
    pub(crate) fn on_commit_response(&mut self, consumer: u16, session: u32, txn: u32, ok: bool) {
        let c = &self.consumers[consumer as usize];
        if !c.alive || c.session != session || c.committing.map(|(t, _)| t) != Some(txn) {
            return;
        }
        // Capacity: the commit's answer unblocks the consumer.
        self.metrics.busy.commit_done(consumer, self.now);
        if ok {
            let c = &mut self.consumers[consumer as usize];
            c.committing = None;
            let items: Vec<Item> = c.txn.drain(..).collect();
            for item in items {
                self.release(item.msg);
            }
        } else {
            self.abort_txn(consumer);
        }
        self.next_work(consumer);
    }

    /// No answer to the commit in time: send it again, backing off as the producer does, for
    /// as long as the consumer lives. The outcome is the coordinator's to decide: a commit that
    /// timed out may still be on its way or being written, and a consumer that gave up and read
    /// the records again would apply them twice once it lands. As Kafka's client, it retries
    /// the same commit, which the coordinator answers again if it has already committed.
    #[inline(never)]
    pub(crate) fn on_commit_timeout(
        &mut self,
        consumer: u16,
        session: u32,
        txn: u32,
        attempt: u32,
    ) {
        let c = &mut self.consumers[consumer as usize];
        if !c.alive || c.session != session || c.committing != Some((txn, attempt)) {
            return;
        }
        c.committing = Some((txn, attempt + 1));
        self.metrics.counters.retries += 1;
        self.send_commit(consumer);
    }

    /// Discards the open transaction; its records will be fetched again.
    fn abort_txn(&mut self, consumer: u16) {
        self.metrics.counters.aborted_transactions += 1;
        let c = &mut self.consumers[consumer as usize];
        c.committing = None;
        let items: Vec<Item> = c.txn.drain(..).collect();
        // The aborted transaction's output records stay in the log behind an abort marker:
        // a read-committed reader skips them.
        self.metrics.counters.aborted_skipped += items.len() as u64;
        for item in items {
            trace!(
                self,
                item.msg,
                TraceKind::Aborted,
                Actor::Consumer,
                None,
                Some(consumer as u32),
                item.delivery,
                item.key as u32,
                if self.scenario.isolation == Isolation::ReadCommitted {
                    "transaction aborted: its output record is marked aborted, a read-committed reader skips it, and the input is read again from the committed offset"
                } else {
                    "transaction aborted, but a read-uncommitted reader had already applied its output record; the input is read again from the committed offset"
                }
            );
            self.release(item.msg);
        }
        // As a transactional consumer must after an abort, it goes back to the committed
        // offsets (`seek`) and drops what it had buffered beyond them.
        self.rewind_to_committed(consumer);
    }

    /// Moves every position back to the group's committed offset and drops the buffer.
    fn rewind_to_committed(&mut self, consumer: u16) {
        let c = &mut self.consumers[consumer as usize];
        for a in c.assigned.iter_mut() {
            let committed = self.logs[a.partition as usize].committed;
            a.position = committed;
            a.processed = committed;
            a.acked = committed;
        }
        let dropped: Vec<Item> = c.queue.drain(..).collect();
        for item in dropped {
            self.release(item.msg);
        }
    }

    // ----- Crashes and the group -----

    /// The consumer process dies: its buffer and open transaction vanish with it. `scripted`
    /// is the script's entry that crashed it at its time, whatever it was doing.
    #[cold]
    pub(crate) fn kafka_crash_consumer(
        &mut self,
        consumer: u16,
        in_hand: Option<Item>,
        scripted: Option<u16>,
    ) {
        let c = &mut self.consumers[consumer as usize];
        c.alive = false;
        c.fetching = false;
        c.committing = None;
        // Its positions and any commit in flight die with the process: whoever reads its
        // partitions next starts from the group's committed offsets.
        c.assigned.clear();
        c.offset_commit = None;
        c.commit_due_armed = false;
        let session = c.session;
        // Its connection closes, and the fetch it had parked at the broker with it.
        self.polls[consumer as usize].parked = false;
        let c = &mut self.consumers[consumer as usize];
        let mut dropped: Vec<(Item, bool)> = Vec::new();
        if let Some(item) = in_hand {
            dropped.push((item, false));
        }
        if let Some((item, _)) = c.current.take() {
            dropped.push((item, false));
        }
        dropped.extend(c.queue.drain(..).map(|i| (i, false)));
        // The open transaction dies with it (the coordinator aborts it); its output records
        // stay in the log as aborted ones.
        self.metrics.counters.aborted_skipped += c.txn.len() as u64;
        dropped.extend(c.txn.drain(..).map(|i| (i, true)));
        let amo = self.mode == Mode::AtMostOnce;
        for (item, staged) in dropped {
            if amo && let Some(m) = self.msgs.get_mut(item.msg) {
                m.cause = Cause::AckedThenCrashed;
            }
            let note = if staged {
                "the consumer died with this payment in an open transaction: it is aborted, never visible"
            } else if amo {
                "the consumer died holding this record, whose offset it had already committed: nobody will read it again"
            } else {
                "the consumer died holding this record, past the committed offset: the partition's next reader starts from that offset and reads it again"
            };
            self.drop_held(consumer, item, scripted, note);
        }
        self.queue.schedule(
            self.now + self.timing.restart,
            Event::ConsumerRestart { consumer },
        );
        self.queue.schedule(
            self.now + self.timing.session_timeout,
            Event::SessionExpire { consumer, session },
        );
        // A member the group has already given its partitions to may have been waiting for
        // this one to let go at its next poll; a dead process holds nothing, so the new
        // owners take them now (else an owner parked in a long poll would wait for ever).
        self.assign_all();
    }

    /// A record the consumer held when it died or lost its connection: its trace row says
    /// what becomes of it (`note`), and the consumer's reference goes.
    pub(crate) fn drop_held(
        &mut self,
        consumer: u16,
        item: Item,
        scripted: Option<u16>,
        note: &str,
    ) {
        trace!(
            self,
            item.msg,
            TraceKind::DroppedByCrash,
            Actor::Consumer,
            None,
            Some(consumer as u32),
            item.delivery,
            item.key as u32,
            self.scripted_note(scripted, note),
        );
        self.release(item.msg);
    }

    #[cold]
    pub(crate) fn kafka_consumer_restart(&mut self, consumer: u16) {
        let c = &mut self.consumers[consumer as usize];
        c.alive = true;
        c.session += 1;
        if !self.group.is_member(consumer) {
            // Removed while it was down: it joins again (Kafka's JoinGroup), a rebalance.
            self.group.set_member(consumer, true);
            self.rebalance();
        } else {
            // Still a member (back before its session timed out): it fetches its committed
            // offsets and reads on from there.
            self.sync_assignment(consumer);
        }
        self.next_work(consumer);
    }

    #[cold]
    pub(crate) fn on_session_expire(&mut self, consumer: u16, session: u32) {
        let c = &self.consumers[consumer as usize];
        if c.alive || c.session != session || !self.group.is_member(consumer) {
            return;
        }
        // The coordinator heard nothing for a session timeout: it removes the member.
        self.group.set_member(consumer, false);
        self.rebalance();
    }
}

impl Simulation {
    /// The external call a consumer makes while processing `item`: it has already waited for
    /// the round trip (see `start_processing`), so the provider's verdict is final here.
    pub(crate) fn call_external(&mut self, item: Item, consumer: u16) {
        let (account, amount) = self.faults.payment(item.msg, self.scenario.accounts.max(1));
        let Some(provider) = self.external.as_mut() else {
            return;
        };
        let outcome = provider.call(item.msg, account, amount);
        self.metrics.counters.network_messages += 2;
        if !self.is_traced(item.msg) {
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
            self,
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
