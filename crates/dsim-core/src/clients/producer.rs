//! Producers and the outbox relay: creating payments, publishing them, and retrying.

use std::collections::VecDeque;

use crate::brokers::Brokers;
use crate::brokers::kafka::Txn;
use crate::brokers::kafka::producer_state::{Batch, instance_epoch};
use crate::clients::Clients;
use crate::engine::faults::{FaultSite, Verdict};
use crate::engine::messages::{Cause, MsgTable};
use crate::engine::queue::Lane;
use crate::engine::timers::TimerKind;
use crate::engine::{Event, World, backoff_step, trace};
use crate::observe::trace::{Actor, TraceKind};
use crate::scenario::Mode;
use crate::scenario::script::Link;
use crate::time::Micros;

/// The producer ID of a send without one (at-most-once, acks=0: Kafka's -1).
pub(crate) const NO_PRODUCER_ID: u32 = u32::MAX;

/// An epoch as the trace shows it: the instance's epoch, and the partition's bumps if any.
fn describe_epoch(epoch: u32) -> String {
    let bumps = epoch & 0xFFFF;
    if bumps == 0 {
        instance_epoch(epoch).to_string()
    } else {
        format!("{}.{bumps}", instance_epoch(epoch))
    }
}

/// The outbox relay of one producer: rows committed with the business write, waiting to be
/// published.
#[derive(Clone, Default)]
pub struct Relay {
    pub rows: VecDeque<(Micros, u32)>,
    pub poll_scheduled: bool,
}

impl Clients {
    pub(crate) fn on_produce(&mut self, brokers: &mut Brokers, world: &mut World, msg_hint: u32) {
        let msg = world.new_message();
        debug_assert_eq!(msg, msg_hint);
        let next = msg + 1;
        if next < world.scenario.messages {
            world.queue.schedule_in_lane(
                Lane::Produce,
                world.timing.produce_at(next),
                Event::Produce { msg: next },
            );
        }
        let producer = world.producer_of(msg);
        let crashed = world
            .faults
            .crash(FaultSite::ProducerWrite, 0, world.now, msg, 1, 0)
            .struck();
        if world.mode == Mode::Outbox {
            // The payment and its outbox row commit together, so the relay publishes it even
            // if the producer dies right after.
            let commit_at = world.now + world.timing.txn_write;
            world.metrics.counters.transactions += 1;
            world.hold(msg);
            trace!(
                world,
                msg,
                TraceKind::OutboxCommitted,
                Actor::Producer,
                None,
                Some(producer as u32),
                0,
                0,
                if crashed {
                    "payment and outbox row committed in one transaction; the producer then crashed, but the row is safe"
                } else {
                    "payment and outbox row committed in one transaction"
                }
            );
            if crashed {
                world.metrics.counters.producer_crashes += 1;
            }
            let relay = &mut self.relays[producer as usize];
            relay.rows.push_back((commit_at, msg));
            if !relay.poll_scheduled {
                relay.poll_scheduled = true;
                let poll = world.timing.outbox_poll;
                let at = commit_at.div_ceil(poll) * poll;
                world.queue.schedule(at, Event::OutboxPoll { producer });
            }
            return;
        }
        trace!(
            world,
            msg,
            TraceKind::Created,
            Actor::Producer,
            None,
            Some(producer as u32),
            0,
            0,
            "payment request written to the producer's database",
        );
        if crashed {
            world.metrics.counters.producer_crashes += 1;
            if let Some(m) = world.msgs.get_mut(msg) {
                m.cause = Cause::ProducerCrash;
            }
            trace!(
                world,
                msg,
                TraceKind::ProducerCrash,
                Actor::Producer,
                None,
                Some(producer as u32),
                0,
                0,
                "the producer crashed between its database write and the publish; nothing will ever publish this payment"
            );
            // Nothing holds the message: it is resolved as lost right away.
            world.hold(msg);
            world.release(msg);
            return;
        }
        world.hold(msg);
        self.publish(brokers, world, msg);
        world.release(msg);
    }

    #[inline(never)]
    pub(crate) fn on_outbox_poll(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        producer: u16,
    ) {
        let now = world.now;
        let mut due = Vec::new();
        {
            let relay = &mut self.relays[producer as usize];
            while relay.rows.front().is_some_and(|&(at, _)| at <= now) {
                due.push(relay.rows.pop_front().expect("front exists").1);
            }
        }
        for msg in due {
            self.publish(brokers, world, msg);
            // The row's reference passes to the relay's wait for the ack.
            world.release(msg);
        }
        let relay = &mut self.relays[producer as usize];
        match relay.rows.front() {
            Some(&(at, _)) => {
                let poll = world.timing.outbox_poll;
                let next = at.max(now + 1).div_ceil(poll) * poll;
                world.queue.schedule(next, Event::OutboxPoll { producer });
            }
            None => relay.poll_scheduled = false,
        }
    }

    /// Hands a record to its producer (or relay). With acks (every mode but at-most-once)
    /// the producer waits for it: it joins its partition's window and is sent once fewer
    /// than `max-in-flight` sends to that partition are unacknowledged (Kafka's
    /// `max.in.flight.requests.per.connection`), numbered in its producer's sequence.
    pub(crate) fn publish(&mut self, brokers: &mut Brokers, world: &mut World, msg: u32) {
        if !world.mode.retries_publish() {
            // acks=0: no producer ID, no window, nobody waits for an answer.
            let batch = Batch {
                producer_id: NO_PRODUCER_ID,
                epoch: 0,
                seq: 0,
                lead: msg,
            };
            self.send_publish(world, msg, batch);
            return;
        }
        let Some(m) = world.msgs.get_mut(msg) else {
            return;
        };
        if m.waiting_ack {
            return;
        }
        m.waiting_ack = true;
        let (producer, partition) = (m.producer, m.partition);
        // The producer's reference, until the ack or until it gives up.
        world.hold(msg);
        self.sessions[producer as usize].windows[partition as usize]
            .waiting
            .push_back(msg);
        self.admit(brokers, world, producer, partition);
    }

    /// Sends one publish attempt and, where the mode retries, arms the ack timer.
    pub(crate) fn send_publish(&mut self, world: &mut World, msg: u32, batch: Batch) {
        let retries = world.mode.retries_publish();
        let Some(m) = world.msgs.get_mut(msg) else {
            return;
        };
        // Saturating: a bound, not a count anyone relies on past it (see `MsgState`).
        m.publish_attempts = m.publish_attempts.saturating_add(1);
        let attempt = m.publish_attempts;
        let (producer, partition) = (m.producer as u32, m.partition);
        let from = if world.mode == Mode::Outbox {
            "relay"
        } else {
            "producer"
        };
        world.metrics.counters.network_messages += 1;
        trace!(
            world,
            msg,
            TraceKind::Publish,
            Actor::Producer,
            Some(Actor::Broker),
            Some(producer),
            attempt as u32,
            0,
            match (attempt, world.idempotent) {
                (1, false) => format!("{from} publishes"),
                (1, true) => format!(
                    "{from} publishes (producer ID {}, epoch {}, sequence {})",
                    batch.producer_id,
                    describe_epoch(batch.epoch),
                    batch.seq
                ),
                (_, false) => format!("{from} retries (attempt {attempt})"),
                (_, true) => format!(
                    "{from} retries (attempt {attempt}; producer ID {}, epoch {}, sequence {})",
                    batch.producer_id,
                    describe_epoch(batch.epoch),
                    batch.seq
                ),
            },
        );
        let link = Link::Producer(producer as u16);
        match world.faults.network(
            FaultSite::Publish,
            link,
            world.now,
            batch.lead,
            attempt as u32,
            0,
        ) {
            Verdict::Drop { scripted } => {
                if let Some(m) = world.msgs.get_mut(msg) {
                    m.cause = Cause::PublishLost;
                }
                trace!(
                    world,
                    msg,
                    TraceKind::PublishLost,
                    Actor::Producer,
                    Some(Actor::Broker),
                    Some(producer),
                    attempt as u32,
                    0,
                    world.scripted_note(scripted, "the publish was lost on the network"),
                );
            }
            Verdict::Deliver { delay, twice } => {
                world.hold(msg);
                let at = self.in_order_arrival(world, producer as u16, partition, delay);
                world.queue.schedule(
                    at,
                    Event::PublishArrive {
                        msg,
                        attempt,
                        copy: 0,
                        batch,
                    },
                );
                if let Some(second) = twice {
                    world.hold(msg);
                    world.metrics.counters.network_messages += 1;
                    trace!(
                        world,
                        msg,
                        TraceKind::PublishDuplicated,
                        Actor::Producer,
                        Some(Actor::Broker),
                        Some(producer),
                        attempt as u32,
                        1,
                        "the network delivers this publish twice",
                    );
                    let at = self.in_order_arrival(world, producer as u16, partition, second);
                    world.queue.schedule(
                        at,
                        Event::PublishArrive {
                            msg,
                            attempt,
                            copy: 1,
                            batch,
                        },
                    );
                }
            }
        }
        if retries {
            self.arm_publish_timer(world, msg, attempt);
            // The producer has sent and waits for the ack: the moment `producer-restart`
            // strikes, once per message (at its first send; a restart's resends are not
            // drawn again), so restarts are at most one per message.
            if attempt == 1
                && world
                    .faults
                    .random_crash(FaultSite::ProducerRestart, msg, 1, 0)
            {
                self.crash_producer(world, producer as u16, msg, false);
            }
        }
    }

    /// Arms the ack timeout of a publish attempt. One constant delay per backoff step: a FIFO
    /// timer list each (see `timers`).
    fn arm_publish_timer(&mut self, world: &mut World, msg: u32, attempt: u16) {
        let at = world.now + world.timing.retry_timeout(attempt as u32);
        let step = backoff_step(attempt as u32);
        if let Some(wake) = self.publish_timers[step as usize].add(at, (msg, attempt)) {
            world.queue.schedule(
                wake,
                Event::TimerWake {
                    kind: TimerKind::PublishAck(step as u8),
                },
            );
        }
    }

    /// A retry of a record in its producer's window, with the same producer ID, epoch and
    /// sequence number (renumbered only by an epoch bump). A producer that is down resends
    /// everything when it restarts instead.
    fn resend(&mut self, world: &mut World, msg: u32) {
        let Some(m) = world.msgs.get(msg) else {
            return;
        };
        let (producer, partition) = (m.producer, m.partition);
        if !self.sessions[producer as usize].alive {
            return;
        }
        if let Some(sent) = self.sent(producer, partition, msg) {
            let batch = self.sessions[producer as usize].batch(&sent);
            self.send_publish(world, msg, batch);
        }
    }

    pub(crate) fn on_publish_ack(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        msg: u32,
        producer_id: u32,
        epoch: u32,
    ) {
        let Some(m) = world.msgs.get(msg) else {
            return;
        };
        if !m.waiting_ack {
            return;
        }
        let (producer, partition, attempt) = (m.producer, m.partition, m.publish_attempts);
        let s = &self.sessions[producer as usize];
        // An ack for an instance that died went to a closed connection.
        if !s.alive || s.producer_id != producer_id || s.epoch != instance_epoch(epoch) {
            return;
        }
        // Once per message: at the ack of the row's first publish (the republished row's ack
        // is not drawn again).
        if world.mode == Mode::Outbox
            && attempt == 1
            && world.faults.random_crash(FaultSite::RelayCrash, msg, 1, 0)
        {
            // The row is published but not yet marked sent: the restarted relay publishes it
            // again.
            self.crash_producer(world, producer, msg, true);
            return;
        }
        if world.scenario.transactional_producer() {
            self.ack_transactional(brokers, world, producer, partition, msg);
            self.admit(brokers, world, producer, partition);
            return;
        }
        self.ack_sent(world, producer, partition, msg);
        if let Some(m) = world.msgs.get_mut(msg) {
            m.waiting_ack = false;
        }
        self.trace_publish_ack(
            world,
            msg,
            producer,
            "the producer has its ack and stops retrying",
        );
        world.release(msg);
        self.admit(brokers, world, producer, partition);
    }

    fn trace_publish_ack(
        &mut self,
        world: &mut World,
        msg: u32,
        producer: u16,
        note: &'static str,
    ) {
        trace!(
            world,
            msg,
            TraceKind::PublishAck,
            Actor::Broker,
            Some(Actor::Producer),
            Some(producer as u32),
            0,
            0,
            note
        );
    }

    /// Exactly-once's producer has the ack of `msg`. Its records commit in the order it sent
    /// them: a Kafka producer has one transaction open at a time and commits it once every
    /// send in it is acknowledged, so a record never becomes visible before one sent earlier.
    /// So the ack commits this record, and the acked ones behind it, only once every record
    /// before it has its ack; until then the record waits in the window, and a restart
    /// aborts and resends it with the rest.
    fn ack_transactional(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        producer: u16,
        partition: u16,
        msg: u32,
    ) {
        let w = &mut self.sessions[producer as usize].windows[partition as usize];
        let Some(i) = w.position_of(msg) else {
            return;
        };
        w.in_flight[i].acked = true;
        let front = i == 0;
        self.trace_publish_ack(
            world,
            msg,
            producer,
            if front {
                "the producer has its ack and stops retrying; it commits its transaction, and the record becomes visible to consumers"
            } else {
                "the producer has its ack and stops retrying; its transaction commits once every record sent before it has its ack"
            },
        );
        if !front {
            return;
        }
        let mut done = std::mem::take(&mut self.commit_scratch);
        done.clear();
        self.sessions[producer as usize].windows[partition as usize].take_acked_prefix(&mut done);
        for sent in &done {
            if let Some(m) = world.msgs.get_mut(sent.msg) {
                m.waiting_ack = false;
            }
            if let Some(entry) = sent.appended {
                self.commit_producer_record(brokers, world, entry);
            }
            world.release(sent.msg);
        }
        self.commit_scratch = done;
    }

    /// Whether the ack timeout of this attempt still matters: once the ack arrives or a newer
    /// attempt starts, it never will again.
    pub(crate) fn publish_timeout_live(msgs: &MsgTable, msg: u32, attempt: u16) -> bool {
        msgs.get(msg)
            .is_some_and(|m| m.waiting_ack && m.publish_attempts == attempt)
    }

    pub(crate) fn on_publish_timeout(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        msg: u32,
        attempt: u16,
    ) {
        if !Self::publish_timeout_live(&world.msgs, msg, attempt) {
            return;
        }
        let producer = world.producer_of(msg) as u32;
        if !self.sessions[producer as usize].alive {
            // The restart resends it.
            return;
        }
        let partition = world.msgs.get(msg).map_or(0, |m| m.partition);
        // The outbox row stays until it is published, so the relay never gives up; nor does
        // exactly-once's transactional producer (Kafka's application aborts a transaction
        // whose send failed and produces the record again: folded here into one record
        // retried until acked). Only the horizon stops them.
        let never_gives_up = matches!(world.mode, Mode::Outbox | Mode::ExactlyOnce);
        let may_retry = if world.idempotent {
            // An idempotent producer's window is retried from its oldest record
            // (`resend_window`), and only that one may be given up: a later record's timeout
            // waits for it (giving up a later one while an older one may still land would
            // leave a gap no epoch bump can close safely). The budget counts a record's
            // sends, less those refused as out of order (`refund_refused_send`).
            if !self.oldest_unacked(producer as u16, partition, msg) {
                self.arm_publish_timer(world, msg, attempt);
                return;
            }
            let Some(sent) = self.sent(producer as u16, partition, msg) else {
                return;
            };
            never_gives_up || (sent.tries as u32) <= world.scenario.max_retries
        } else {
            never_gives_up || (attempt as u32) <= world.scenario.max_retries
        };
        if may_retry {
            trace!(
                world,
                msg,
                TraceKind::AckTimeout,
                Actor::Producer,
                None,
                Some(producer),
                attempt as u32,
                0,
                "no ack in time",
            );
            if world.idempotent {
                self.resend_window(world, producer as u16, partition);
            } else {
                world.metrics.counters.retries += 1;
                self.resend(world, msg);
            }
        } else {
            let (producer16, partition) = match world.msgs.get_mut(msg) {
                Some(m) => {
                    m.waiting_ack = false;
                    m.gave_up = true;
                    (m.producer, m.partition)
                }
                None => return,
            };
            if let Some(sent) = self.take_sent(producer16, partition, msg)
                && world.idempotent
            {
                self.close_sequence_gap(brokers, world, producer16, partition, sent);
            }
            trace!(
                world,
                msg,
                TraceKind::GaveUp,
                Actor::Producer,
                None,
                Some(producer),
                attempt as u32,
                0,
                format!(
                    "no ack after {attempt} attempts: the producer gives up and reports the failure"
                ),
            );
            world.release(msg);
            self.admit(brokers, world, producer16, partition);
        }
    }

    /// The producer instance (or the outbox relay, `relay`) dies: it has sent `msg` and not
    /// taken its ack. Its records stay in its database, unacknowledged; it comes back after
    /// the restart time and sends them all again.
    #[cold]
    pub(crate) fn crash_producer(
        &mut self,
        world: &mut World,
        producer: u16,
        msg: u32,
        relay: bool,
    ) {
        let s = &mut self.sessions[producer as usize];
        if !s.alive {
            return;
        }
        s.alive = false;
        let c = &mut world.metrics.counters;
        if relay {
            c.relay_crashes += 1;
        } else {
            c.producer_restarts += 1;
        }
        let attempt = world.msgs.get(msg).map_or(0, |m| m.publish_attempts as u32);
        trace!(
            world,
            msg,
            if relay {
                TraceKind::RelayCrash
            } else {
                TraceKind::ProducerDied
            },
            Actor::Producer,
            None,
            Some(producer as u32),
            attempt,
            0,
            if relay {
                "the outbox relay dies after this row's publish was acked, before marking the row sent: it will publish the row again"
            } else {
                "the producer dies after sending this record, before its ack: it will restart and resend every record it has no ack for"
            },
        );
        world.queue.schedule(
            world.now + world.timing.restart,
            Event::ProducerRestart { producer },
        );
        // Down longer than `transaction.timeout.ms`: the coordinator aborts the open
        // transaction before the new instance can (timed from the death, which comes right
        // after the transaction's last send).
        if !relay
            && world.scenario.transactional_producer()
            && world.timing.restart > world.timing.txn_timeout
        {
            let epoch = self.sessions[producer as usize].epoch;
            world.queue.schedule(
                world.now + world.timing.txn_timeout,
                Event::ProducerTxnTimeout { producer, epoch },
            );
        }
    }

    /// `transaction.timeout.ms` ran out while a transactional producer was down: the
    /// coordinator aborts its open transaction, so a read-committed reader's last stable
    /// offset moves past it before the producer is back.
    #[cold]
    pub(crate) fn on_producer_txn_timeout(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        producer: u16,
        epoch: u16,
    ) {
        let s = &self.sessions[producer as usize];
        if s.alive || s.epoch != epoch {
            return;
        }
        let open: Vec<(u32, u32)> = s
            .windows
            .iter()
            .flat_map(|w| w.in_flight.iter().filter_map(|x| x.appended))
            .filter(|&(entry, generation)| {
                brokers
                    .entries
                    .live(entry, generation)
                    .is_some_and(|e| e.txn == Txn::Open)
            })
            .collect();
        if open.is_empty() {
            return;
        }
        world.metrics.counters.transactions_timed_out += 1;
        for entry in open {
            self.abort_producer_record(
                brokers,
                world,
                entry,
                "the producer stayed down longer than transaction.timeout.ms: the coordinator aborted its open transaction",
            );
        }
    }

    /// The producer (or relay) is back and calls `InitProducerId`. Without a transactional ID
    /// the broker gives it a NEW producer ID with epoch 0, so it cannot tell the resends from
    /// new records: each record of the old instance that had landed is appended again. With
    /// one (exactly-once), it gets the same producer ID with the epoch bumped: the coordinator
    /// aborts the old instance's open transaction (its records appended and never acked) and
    /// the partitions refuse every later write of the old epoch (`ProducerFenced`). Either
    /// way the new instance numbers its records from sequence 0 and resends, in order, every
    /// record its database has no ack for.
    #[cold]
    pub(crate) fn on_producer_restart(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        producer: u16,
    ) {
        let transactional = world.scenario.transactional_producer();
        let p = producer as usize;
        let old_id = self.sessions[p].producer_id;
        if transactional && self.sessions[p].epoch < u16::MAX {
            let epoch = self.sessions[p].epoch + 1;
            self.sessions[p].epoch = epoch;
            brokers.producer_states.fence_older_epochs(old_id, epoch);
        } else {
            // Also where a transactional ID's epoch is exhausted: Kafka's coordinator then
            // hands out a new producer ID.
            let id = brokers.producer_states.new_producer_id();
            if let Some(previous) = self.sessions[p].previous_id {
                brokers.producer_states.forget(previous);
            }
            let s = &mut self.sessions[p];
            s.previous_id = Some(old_id);
            s.producer_id = id;
            s.epoch = 0;
        }
        self.sessions[p].alive = true;
        let (id, epoch) = (self.sessions[p].producer_id, self.sessions[p].epoch);
        // Every window starts again from sequence 0, on a new connection. Restarts can come
        // every millisecond and partitions number up to 256: nothing is allocated here.
        for partition in 0..self.sessions[p].windows.len() {
            let w = &mut self.sessions[p].windows[partition];
            w.bump = 0;
            w.next_seq = 0;
            w.last_arrival = 0;
            if w.in_flight.is_empty() && w.waiting.is_empty() {
                continue;
            }
            // The sent records without an ack go back in front of those still waiting, in
            // sequence order: the database's unacknowledged records, oldest first.
            let mut sent = std::mem::take(&mut w.in_flight);
            w.requests = 0;
            // A transactional producer's acked records still in the window were never
            // committed: their transaction is aborted below, and they go back too.
            for s in sent.iter().rev().filter(|s| !s.acked || transactional) {
                w.waiting.push_front(s.msg);
            }
            if transactional {
                for s in &sent {
                    if let Some(entry) = s.appended {
                        self.abort_producer_record(
                            brokers,
                            world,
                            entry,
                            "a new instance with the same transactional.id bumped the epoch, and the coordinator aborted the old instance's open transaction",
                        );
                    }
                }
            }
            sent.clear();
            self.sessions[p].windows[partition].in_flight = sent;
            if !world.traced.is_empty() {
                let waiting: Vec<u32> = self.sessions[p].windows[partition]
                    .waiting
                    .iter()
                    .copied()
                    .collect();
                for msg in waiting {
                    trace!(
                        world,
                        msg,
                        TraceKind::ProducerRestarted,
                        Actor::Producer,
                        None,
                        Some(producer as u32),
                        0,
                        0,
                        if transactional {
                            format!(
                                "the producer restarted: InitProducerId with its transactional.id gave back producer ID {id} with epoch {epoch}, fencing the old instance; it resends this record from sequence 0"
                            )
                        } else {
                            format!(
                                "the producer restarted: InitProducerId without transactional.id gave it a NEW producer ID ({id}, epoch 0), so the broker cannot tell this resend from a new record"
                            )
                        },
                    );
                }
            }
            self.admit(brokers, world, producer, partition as u16);
        }
    }
}
