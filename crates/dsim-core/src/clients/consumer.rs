//! Consumers: the fetch loop, processing into the ledger, acks, the dedup store, transactions
//! (exactly-once), crashes, restarts and the group's session timeouts.

use std::collections::VecDeque;

use crate::brokers::kafka::copy_key;
use crate::engine::faults::{Hop, Verdict};
use crate::engine::messages::Cause;
use crate::engine::queue::Lane;
use crate::engine::{Event, Simulation, trace};
use crate::report::trace::{Actor, TraceKind};
use crate::scenario::Mode;
use crate::scenario::script::Link;

/// One record in a consumer's hands: which message, which log entry, which delivery of it,
/// and which copy, so that every copy keeps its own identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    pub msg: u32,
    pub entry: u32,
    pub generation: u32,
    pub delivery: u32,
    /// `copy_key` of the log entry and the network copy.
    pub key: u8,
}

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
    /// Whether the group counts this consumer (it stays a member until its session times
    /// out, even while crashed).
    pub member: bool,
    pub queue: VecDeque<Item>,
    pub current: Option<(Item, Work)>,
    pub fetching: bool,
    /// Broker side: a fetch from this consumer is waiting for records.
    pub parked_fetch: bool,
    /// Exactly-once: records processed in the open transaction.
    pub txn: Vec<Item>,
    /// The open transaction's commit in progress: `(txn, attempt)`.
    pub committing: Option<(u32, u32)>,
    pub next_txn: u32,
    /// Coordinator side: a commit being written, with the records it covers.
    pub coordinator_pending: Option<(u32, u32, Vec<Item>)>,
    /// Coordinator side: the last committed transaction, to answer retried commits.
    pub coordinator_committed: Option<(u32, u32)>,
    /// Frozen in a stall (see `zombie`): alive, but doing nothing until it wakes.
    pub stalled: bool,
    /// Stalls so far; tells a stall's events apart from an earlier one's.
    pub stall: u32,
    /// A processed record whose ack waits for the end of the stall.
    pub ack_after_stall: Option<Item>,
}

impl Consumer {
    /// Whether this session has the record anywhere: queued, being processed or staged.
    fn holds(&self, entry: u32, generation: u32) -> bool {
        let same = |i: &Item| i.entry == entry && i.generation == generation;
        self.queue.iter().any(same)
            || self.current.as_ref().is_some_and(|(i, _)| same(i))
            || self.txn.iter().any(same)
    }
}

impl Default for Consumer {
    fn default() -> Self {
        Consumer {
            alive: true,
            session: 0,
            member: true,
            queue: VecDeque::new(),
            current: None,
            fetching: false,
            parked_fetch: false,
            txn: Vec::new(),
            committing: None,
            next_txn: 0,
            coordinator_pending: None,
            coordinator_committed: None,
            stalled: false,
            stall: 0,
            ack_after_stall: None,
        }
    }
}

impl Simulation {
    pub(crate) fn start_fetching(&mut self, consumer: u16) {
        self.next_work(consumer);
    }

    fn send_fetch(&mut self, consumer: u16) {
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

    /// Decides what an idle consumer does next: process the next record, commit the open
    /// transaction, or fetch more.
    pub(crate) fn next_work(&mut self, consumer: u16) {
        let c = &mut self.consumers[consumer as usize];
        if !c.alive || c.stalled || c.current.is_some() || c.committing.is_some() {
            return;
        }
        if let Some(item) = c.queue.pop_front() {
            self.start_processing(consumer, item);
        } else if !c.txn.is_empty() {
            // Commit what is staged as soon as nothing is left to process. Waiting for an
            // outstanding fetch instead could wait forever: a record that arrived late (a
            // delayed or duplicated packet) may be staged while the next fetch sits in a
            // long poll that nothing will answer.
            self.begin_commit(consumer);
        } else if !c.fetching {
            // A zombie that the group removed during a stall learns it at this poll.
            self.rejoin_if_expelled(consumer);
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

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_delivery_arrive(
        &mut self,
        msg: u32,
        entry: u32,
        generation: u32,
        delivery: u32,
        key: u8,
        consumer: u16,
        session: u32,
    ) {
        let item = Item {
            msg,
            entry,
            generation,
            delivery,
            key,
        };
        let c = &self.consumers[consumer as usize];
        if !c.alive || c.session != session {
            if self.mode == Mode::AtMostOnce
                && let Some(m) = self.msgs.get_mut(msg)
            {
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
                key as u32,
                "arrived at a consumer that had crashed in the meantime",
            );
            self.release(msg);
            return;
        }
        trace!(
            self,
            msg,
            TraceKind::Received,
            Actor::Consumer,
            None,
            Some(consumer as u32),
            delivery,
            key as u32,
            format!("consumer {consumer} received it"),
        );
        match self.mode {
            Mode::AtMostOnce => {
                // Auto-commit on receipt: the broker will never send it again.
                self.metrics.counters.network_messages += 1;
                trace!(
                    self,
                    msg,
                    TraceKind::AckedBeforeProcessing,
                    Actor::Consumer,
                    Some(Actor::Broker),
                    Some(consumer as u32),
                    delivery,
                    key as u32,
                    "offset committed on receipt, before processing",
                );
            }
            Mode::ExactlyOnce => {
                let position_passed = match self.entries.live(entry, generation) {
                    // A record made ready again (its visibility ran out under a rebalance)
                    // loses its holder, but a session's position never moves back: if this
                    // session already has the record queued, in hand or staged, it is past it.
                    Some(e) => {
                        e.holder == Some((consumer, session))
                            || self.consumers[consumer as usize].holds(entry, generation)
                    }
                    // Already committed: the committed offset is past it.
                    None => true,
                };
                if position_passed {
                    trace!(
                        self,
                        msg,
                        TraceKind::SkippedByPosition,
                        Actor::Consumer,
                        None,
                        Some(consumer as u32),
                        delivery,
                        key as u32,
                        "the consumer's position is already past this record: skipped",
                    );
                    self.release(msg);
                    return;
                }
                self.entries.get_mut(entry).holder = Some((consumer, session));
            }
            _ => {}
        }
        self.consumers[consumer as usize].queue.push_back(item);
        self.next_work(consumer);
    }

    fn start_processing(&mut self, consumer: u16, item: Item) {
        let strike = self.faults.crash(
            Hop::BeforeProcess,
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
                self.consumers[consumer as usize].txn.push(item);
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
            Hop::AfterProcess,
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
                "before acking"
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
            .random_crash(Hop::Stall, item.msg, item.delivery, item.key as u32)
        {
            self.stall_consumer(consumer, item, !staged);
            return;
        }
        if !staged {
            self.finish_processed(consumer, item);
        }
        self.next_work(consumer);
    }

    /// After processing a record outside a transaction: ack it (if the mode acks after
    /// processing) and drop the consumer's reference.
    pub(crate) fn finish_processed(&mut self, consumer: u16, item: Item) {
        if self.mode != Mode::AtMostOnce && self.mode != Mode::ExactlyOnce {
            self.send_ack(consumer, item);
        }
        self.release(item.msg);
    }

    fn send_ack(&mut self, consumer: u16, item: Item) {
        self.metrics.counters.network_messages += 1;
        match self.faults.network(
            Hop::Ack,
            Link::Consumer(consumer),
            self.now,
            item.msg,
            item.delivery,
            item.key as u32,
        ) {
            Verdict::Drop { scripted } => {
                trace!(
                    self,
                    item.msg,
                    TraceKind::AckLost,
                    Actor::Consumer,
                    Some(Actor::Broker),
                    Some(consumer as u32),
                    item.delivery,
                    item.key as u32,
                    self.scripted_note(
                        scripted,
                        "the ack was lost on the network: the broker will think it was never processed"
                    ),
                );
            }
            Verdict::Deliver { delay, .. } => {
                self.queue.schedule(
                    self.now + delay,
                    Event::AckArrive {
                        entry: item.entry,
                        generation: item.generation,
                    },
                );
            }
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
            Hop::Ack,
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
        let session = c.session;
        c.committing = None;
        let items: Vec<Item> = c.txn.drain(..).collect();
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
                "transaction aborted: the staged payment is discarded and the record will be read again"
            );
            let e = self.entries.get_mut(item.entry);
            if e.generation == item.generation && e.holder == Some((consumer, session)) {
                e.holder = None;
            }
            self.release(item.msg);
        }
    }

    // ----- Crashes and the group -----

    /// The consumer process dies: its buffer and open transaction vanish with it. `scripted`
    /// is the script's entry that crashed it at its time, whatever it was doing.
    #[cold]
    pub(crate) fn crash_consumer(
        &mut self,
        consumer: u16,
        in_hand: Option<Item>,
        scripted: Option<u16>,
    ) {
        self.metrics.counters.consumer_crashes += 1;
        let c = &mut self.consumers[consumer as usize];
        c.alive = false;
        c.fetching = false;
        c.parked_fetch = false;
        c.committing = None;
        let session = c.session;
        let mut dropped: Vec<(Item, bool)> = Vec::new();
        if let Some(item) = in_hand {
            dropped.push((item, false));
        }
        if let Some((item, _)) = c.current.take() {
            dropped.push((item, false));
        }
        dropped.extend(c.queue.drain(..).map(|i| (i, false)));
        dropped.extend(c.txn.drain(..).map(|i| (i, true)));
        let amo = self.mode == Mode::AtMostOnce;
        for (item, staged) in dropped {
            if amo && let Some(m) = self.msgs.get_mut(item.msg) {
                m.cause = Cause::AckedThenCrashed;
            }
            let note = if staged {
                "the consumer died with this payment in an open transaction: it is aborted, never visible"
            } else if amo {
                "the consumer died holding this record, already acked: the broker will not send it again"
            } else {
                "the consumer died holding this record, unacked: the broker will send it again after the visibility timeout"
            };
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
        self.queue.schedule(
            self.now + self.timing.restart,
            Event::ConsumerRestart { consumer },
        );
        self.queue.schedule(
            self.now + self.timing.session_timeout,
            Event::SessionExpire { consumer, session },
        );
    }

    #[cold]
    pub(crate) fn on_consumer_restart(&mut self, consumer: u16) {
        let c = &mut self.consumers[consumer as usize];
        c.alive = true;
        c.session += 1;
        if !c.member {
            c.member = true;
            self.rebalance();
        }
        self.next_work(consumer);
    }

    #[cold]
    pub(crate) fn on_session_expire(&mut self, consumer: u16, session: u32) {
        let c = &mut self.consumers[consumer as usize];
        if c.alive || c.session != session || !c.member {
            return;
        }
        c.member = false;
        self.rebalance();
    }
}

/// Used by the broker to build the fault key of a delivery.
pub(crate) fn delivery_key(entry_copy: u8, net_copy: u8) -> u8 {
    copy_key(entry_copy.min(63), net_copy) as u8
}
