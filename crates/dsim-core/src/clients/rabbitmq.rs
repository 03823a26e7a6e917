//! A RabbitMQ consumer's side: deliveries pushed into its client's buffer and processed in
//! turn, its `basic.ack` after processing, and its connection, which closes when the process
//! dies, an ack is lost or the node crashes, and opens again when it comes back. What the
//! broker does with a closed channel (requeueing) is the broker's (`brokers/rabbitmq`).

use crate::engine::faults::{FaultSite, Verdict};
use crate::engine::messages::{Cause, Item};
use crate::engine::{Event, Simulation, trace};
use crate::observe::trace::{Actor, TraceKind};
use crate::scenario::script::Link;

/// Why a consumer's channel closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Closed {
    /// The consumer process died.
    Crash,
    /// The connection dropped (a basic.ack never got through, or the node restarted); the
    /// process lives and reconnects.
    ConnectionLost,
}

impl Simulation {
    /// A delivery reached its consumer: into its client's buffer, in arrival order.
    pub(crate) fn rabbit_delivery_arrived(&mut self, consumer: u16, item: Item, session: u32) {
        let c = &self.consumers[consumer as usize];
        if !c.alive || c.session != session {
            let auto_ack = self.family.rabbit().is_some_and(|q| q.auto_ack);
            if auto_ack && let Some(m) = self.msgs.get_mut(item.msg) {
                m.cause = Cause::AutoAckBufferLost;
            }
            trace!(
                self,
                item.msg,
                TraceKind::DeliveryLost,
                Actor::Broker,
                Some(Actor::Consumer),
                Some(consumer as u32),
                item.delivery,
                item.key as u32,
                if auto_ack {
                    "arrived after the consumer's connection closed; with auto-ack the broker had already forgotten it: lost"
                } else {
                    "arrived after the consumer's connection closed; the broker had already requeued it"
                },
            );
            self.release(item.msg);
            return;
        }
        trace!(
            self,
            item.msg,
            TraceKind::Received,
            Actor::Consumer,
            None,
            Some(consumer as u32),
            item.delivery,
            item.key as u32,
            format!("consumer {consumer} received it into its client's buffer"),
        );
        self.consumers[consumer as usize].queue.push_back(item);
        self.next_work(consumer);
    }

    /// After processing with manual ack: `basic.ack` for the delivery. TCP loses no single
    /// frame, so a lost ack is a dropped connection: the broker requeues every delivery the
    /// consumer had unacknowledged, this one too, and the consumer reconnects.
    pub(crate) fn rabbit_send_ack(&mut self, consumer: u16, item: Item) {
        let session = self.consumers[consumer as usize].session;
        self.metrics.counters.network_messages += 1;
        match self.faults.network(
            FaultSite::Ack,
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
                        "the connection dropped before this basic.ack reached the broker: the broker requeues every delivery the consumer had not acknowledged, this one too"
                    ),
                );
                self.rabbit_close(consumer, Closed::ConnectionLost, None, scripted);
            }
            Verdict::Deliver { delay, .. } => {
                if let Some(q) = self.family.rabbit_mut() {
                    let at = &mut q.last_ack_arrival[consumer as usize];
                    *at = (*at).max(self.now + delay);
                }
                self.queue.schedule(
                    self.now + delay,
                    Event::RabbitAckArrive {
                        consumer,
                        session,
                        position: item.offset,
                    },
                );
            }
        }
    }

    /// A consumer's connection closes, on its side: its buffer is gone with it (`in_hand` is
    /// a delivery it had taken from its buffer when it died), the broker learns of the close
    /// (`rabbit_channel_closing`) and requeues every delivery it had not acknowledged, and the
    /// consumer comes back after `restart-ms`, as a new process or a reconnect.
    pub(crate) fn rabbit_close(
        &mut self,
        consumer: u16,
        why: Closed,
        in_hand: Option<Item>,
        scripted: Option<u16>,
    ) {
        let c = &mut self.consumers[consumer as usize];
        if !c.alive {
            return;
        }
        c.alive = false;
        let mut dropped: Vec<Item> = in_hand.into_iter().collect();
        if let Some((item, _)) = c.current.take() {
            dropped.push(item);
        }
        dropped.extend(c.queue.drain(..));
        if why == Closed::ConnectionLost {
            self.metrics.counters.connections_lost += 1;
        }
        let auto_ack = self.family.rabbit().is_some_and(|q| q.auto_ack);
        for item in dropped {
            if auto_ack && let Some(m) = self.msgs.get_mut(item.msg) {
                m.cause = Cause::AutoAckBufferLost;
            }
            let note = match (why, auto_ack) {
                (Closed::Crash, true) => {
                    "the consumer died with this message in its buffer; with auto-ack the broker forgot it when it sent it: lost"
                }
                (Closed::ConnectionLost, true) => {
                    "the connection dropped with this message in the consumer's buffer; with auto-ack the broker forgot it when it sent it: lost"
                }
                (Closed::Crash, false) => {
                    "the consumer died holding this delivery unacknowledged: the broker requeues it at its position, marked redelivered"
                }
                (Closed::ConnectionLost, false) => {
                    "the connection dropped with this delivery unacknowledged: the broker requeues it at its position, marked redelivered"
                }
            };
            self.drop_held(consumer, item, scripted, note);
        }
        // The close reaches the broker, which requeues what the channel left unacknowledged.
        self.rabbit_channel_closing(consumer);
        self.queue.schedule(
            self.now + self.timing.restart,
            Event::ConsumerRestart { consumer },
        );
    }

    /// The consumer is back (restarted or reconnected): a new channel, a new `basic.consume`.
    pub(crate) fn rabbit_reopen(&mut self, consumer: u16) {
        // A close still on its way is taken first: the old channel and the new are two.
        self.rabbit_requeue(consumer);
        let c = &mut self.consumers[consumer as usize];
        c.alive = true;
        c.session += 1;
        self.rabbit_consume(consumer);
    }

    /// An idle consumer processes its next pushed delivery. Deliveries are pushed into its
    /// buffer; an auto-ack consumer has nothing to commit first, a manual-ack one acks after
    /// processing.
    #[inline]
    pub(crate) fn rabbit_next_work(&mut self, consumer: u16) {
        if let Some(item) = self.consumers[consumer as usize].queue.pop_front() {
            self.start_processing(consumer, item);
        }
    }
}
