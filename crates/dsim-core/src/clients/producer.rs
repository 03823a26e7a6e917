//! Producers and the outbox relay: creating payments, publishing them, and retrying.

use std::collections::VecDeque;

use crate::engine::faults::{Hop, Verdict};
use crate::engine::messages::{Cause, MsgTable};
use crate::engine::queue::Lane;
use crate::engine::time::Micros;
use crate::engine::timers::TimerKind;
use crate::engine::{Event, Simulation, backoff_step, trace};
use crate::report::trace::{Actor, TraceKind};
use crate::scenario::Mode;
use crate::scenario::script::Link;

/// The outbox relay of one producer: rows committed with the business write, waiting to be
/// published.
#[derive(Clone, Default)]
pub struct Relay {
    pub rows: VecDeque<(Micros, u32)>,
    pub poll_scheduled: bool,
}

impl Simulation {
    /// Which producer publishes `msg`. Each message's state keeps it from its creation (see
    /// `MsgState::producer`); this is the rule, for where the state is not at hand.
    pub(crate) fn producer_of(&self, msg: u32) -> u16 {
        (msg % self.relays.len() as u32) as u16
    }

    pub(crate) fn on_produce(&mut self, msg_hint: u32) {
        let msg = self.new_message();
        debug_assert_eq!(msg, msg_hint);
        let next = msg + 1;
        if next < self.scenario.messages {
            self.queue.schedule_in_lane(
                Lane::Produce,
                self.timing.produce_at(next),
                Event::Produce { msg: next },
            );
        }
        let producer = self.producer_of(msg);
        let crashed = self
            .faults
            .crash(Hop::ProducerWrite, 0, self.now, msg, 1, 0)
            .struck();
        if self.mode == Mode::Outbox {
            // The payment and its outbox row commit together, so the relay publishes it even
            // if the producer dies right after.
            let commit_at = self.now + self.timing.txn_write;
            self.metrics.counters.transactions += 1;
            self.hold(msg);
            trace!(
                self,
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
                self.metrics.counters.producer_crashes += 1;
            }
            let relay = &mut self.relays[producer as usize];
            relay.rows.push_back((commit_at, msg));
            if !relay.poll_scheduled {
                relay.poll_scheduled = true;
                let poll = self.timing.outbox_poll;
                let at = commit_at.div_ceil(poll) * poll;
                self.queue.schedule(at, Event::OutboxPoll { producer });
            }
            return;
        }
        trace!(
            self,
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
            self.metrics.counters.producer_crashes += 1;
            if let Some(m) = self.msgs.get_mut(msg) {
                m.cause = Cause::ProducerCrash;
            }
            trace!(
                self,
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
            self.hold(msg);
            self.release(msg);
            return;
        }
        self.hold(msg);
        self.publish(msg);
        self.release(msg);
    }

    #[inline(never)]
    pub(crate) fn on_outbox_poll(&mut self, producer: u16) {
        let now = self.now;
        let mut due = Vec::new();
        {
            let relay = &mut self.relays[producer as usize];
            while relay.rows.front().is_some_and(|&(at, _)| at <= now) {
                due.push(relay.rows.pop_front().expect("front exists").1);
            }
        }
        for msg in due {
            self.publish(msg);
            // The row's reference passes to the relay's wait for the ack.
            self.release(msg);
        }
        let relay = &mut self.relays[producer as usize];
        match relay.rows.front() {
            Some(&(at, _)) => {
                let poll = self.timing.outbox_poll;
                let next = at.max(now + 1).div_ceil(poll) * poll;
                self.queue.schedule(next, Event::OutboxPoll { producer });
            }
            None => relay.poll_scheduled = false,
        }
    }

    /// Sends one publish attempt and, where the mode retries, arms the ack timer.
    pub(crate) fn publish(&mut self, msg: u32) {
        let retries = self.mode.retries_publish();
        let Some(m) = self.msgs.get_mut(msg) else {
            return;
        };
        m.publish_attempts += 1;
        let attempt = m.publish_attempts;
        let producer = m.producer as u32;
        let hold_for_ack = retries && !m.waiting_ack;
        if retries {
            m.waiting_ack = true;
        }
        if hold_for_ack {
            self.hold(msg);
        }
        let from = if self.mode == Mode::Outbox {
            "relay"
        } else {
            "producer"
        };
        self.metrics.counters.network_messages += 1;
        trace!(
            self,
            msg,
            TraceKind::Publish,
            Actor::Producer,
            Some(Actor::Broker),
            Some(producer),
            attempt as u32,
            0,
            if attempt == 1 {
                format!("{from} publishes")
            } else {
                format!("{from} retries (attempt {attempt})")
            },
        );
        let link = Link::Producer(producer as u16);
        match self
            .faults
            .network(Hop::Publish, link, self.now, msg, attempt as u32, 0)
        {
            Verdict::Drop { scripted } => {
                if let Some(m) = self.msgs.get_mut(msg) {
                    m.cause = Cause::PublishLost;
                }
                trace!(
                    self,
                    msg,
                    TraceKind::PublishLost,
                    Actor::Producer,
                    Some(Actor::Broker),
                    Some(producer),
                    attempt as u32,
                    0,
                    self.scripted_note(scripted, "the publish was lost on the network"),
                );
            }
            Verdict::Deliver { delay, twice } => {
                self.hold(msg);
                self.queue.schedule(
                    self.now + delay,
                    Event::PublishArrive {
                        msg,
                        attempt,
                        copy: 0,
                    },
                );
                if let Some(second) = twice {
                    self.hold(msg);
                    self.metrics.counters.network_messages += 1;
                    trace!(
                        self,
                        msg,
                        TraceKind::PublishDuplicated,
                        Actor::Producer,
                        Some(Actor::Broker),
                        Some(producer),
                        attempt as u32,
                        1,
                        "the network delivers this publish twice",
                    );
                    self.queue.schedule(
                        self.now + second,
                        Event::PublishArrive {
                            msg,
                            attempt,
                            copy: 1,
                        },
                    );
                }
            }
        }
        if retries {
            // One constant delay per backoff step: a FIFO timer list each (see `timers`).
            let at = self.now + self.timing.retry_timeout(attempt as u32);
            let step = backoff_step(attempt as u32);
            if let Some(wake) = self.publish_timers[step as usize].add(at, (msg, attempt)) {
                self.queue.schedule(
                    wake,
                    Event::TimerWake {
                        kind: TimerKind::PublishAck(step as u8),
                    },
                );
            }
        }
    }

    pub(crate) fn on_publish_ack(&mut self, msg: u32) {
        let Some(m) = self.msgs.get_mut(msg) else {
            return;
        };
        if !m.waiting_ack {
            return;
        }
        m.waiting_ack = false;
        let producer = m.producer as u32;
        trace!(
            self,
            msg,
            TraceKind::PublishAck,
            Actor::Broker,
            Some(Actor::Producer),
            Some(producer),
            0,
            0,
            "the producer has its ack and stops retrying",
        );
        self.release(msg);
    }

    /// Whether the ack timeout of this attempt still matters: once the ack arrives or a newer
    /// attempt starts, it never will again.
    pub(crate) fn publish_timeout_live(msgs: &MsgTable, msg: u32, attempt: u16) -> bool {
        msgs.get(msg)
            .is_some_and(|m| m.waiting_ack && m.publish_attempts == attempt)
    }

    pub(crate) fn on_publish_timeout(&mut self, msg: u32, attempt: u16) {
        if !Self::publish_timeout_live(&self.msgs, msg, attempt) {
            return;
        }
        let producer = self.producer_of(msg) as u32;
        // The outbox row stays until it is published, so the relay never gives up; only the
        // horizon stops it.
        let may_retry = self.mode == Mode::Outbox || (attempt as u32) <= self.scenario.max_retries;
        if may_retry {
            trace!(
                self,
                msg,
                TraceKind::AckTimeout,
                Actor::Producer,
                None,
                Some(producer),
                attempt as u32,
                0,
                "no ack in time",
            );
            self.metrics.counters.retries += 1;
            self.publish(msg);
        } else {
            if let Some(m) = self.msgs.get_mut(msg) {
                m.waiting_ack = false;
                m.gave_up = true;
            }
            trace!(
                self,
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
            self.release(msg);
        }
    }
}
