//! A RabbitMQ consumer's side: deliveries pushed into its client's buffer and processed in
//! turn, its `basic.ack` after processing, and its connection, which closes when the process
//! dies, an ack is lost or the node crashes, and opens again when it comes back. What the
//! broker does with a closed channel (requeueing) is the broker's (`brokers/rabbitmq`).

use crate::brokers::Brokers;
use crate::clients::Clients;
use crate::clients::consumer::send_queue_ack;
use crate::engine::messages::{Cause, Item};
use crate::engine::{Event, World, trace};
use crate::observe::trace::{Actor, TraceKind};

/// Why a consumer's channel closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Closed {
    /// The consumer process died.
    Crash,
    /// The connection dropped (a basic.ack never got through, or the node restarted); the
    /// process lives and reconnects.
    ConnectionLost,
}

impl Clients {
    /// A delivery reached its consumer: into its client's buffer, in arrival order.
    pub(crate) fn rabbit_delivery_arrived(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        item: Item,
        session: u32,
    ) {
        let c = &world.consumers[consumer as usize];
        if !c.alive || c.session != session {
            let auto_ack = brokers.family.rabbit().is_some_and(|q| q.auto_ack);
            if auto_ack && let Some(m) = world.msgs.get_mut(item.msg) {
                m.cause = Cause::AutoAckBufferLost;
            }
            trace!(
                world,
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
            world.release(item.msg);
            return;
        }
        trace!(
            world,
            item.msg,
            TraceKind::Received,
            Actor::Consumer,
            None,
            Some(consumer as u32),
            item.delivery,
            item.key as u32,
            format!("consumer {consumer} received it into its client's buffer"),
        );
        world.consumers[consumer as usize].queue.push_back(item);
        self.next_work(brokers, world, consumer);
    }

    /// After processing with manual ack: `basic.ack` for the delivery. TCP loses no single
    /// frame, so a lost ack is a dropped connection: the broker requeues every delivery the
    /// consumer had unacknowledged, this one too, and the consumer reconnects.
    pub(crate) fn rabbit_send_ack(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        item: Item,
    ) {
        let session = world.consumers[consumer as usize].session;
        let lost = "the connection dropped before this basic.ack reached the broker: the broker requeues every delivery the consumer had not acknowledged, this one too";
        match send_queue_ack(world, consumer, item, lost) {
            Err(scripted) => {
                self.rabbit_close(
                    brokers,
                    world,
                    consumer,
                    Closed::ConnectionLost,
                    None,
                    scripted,
                );
            }
            Ok(delay) => {
                if let Some(q) = brokers.family.rabbit_mut() {
                    let at = &mut q.last_ack_arrival[consumer as usize];
                    *at = (*at).max(world.now + delay);
                }
                world.queue.schedule(
                    world.now + delay,
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
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        why: Closed,
        in_hand: Option<Item>,
        scripted: Option<u16>,
    ) {
        let c = &mut world.consumers[consumer as usize];
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
            world.metrics.counters.connections_lost += 1;
        }
        let auto_ack = brokers.family.rabbit().is_some_and(|q| q.auto_ack);
        for item in dropped {
            if auto_ack && let Some(m) = world.msgs.get_mut(item.msg) {
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
            self.drop_held(world, consumer, item, scripted, note);
        }
        // The close reaches the broker, which requeues what the channel left unacknowledged.
        brokers.rabbit_channel_closing(world, consumer);
        world.queue.schedule(
            world.now + world.timing.restart,
            Event::ConsumerRestart { consumer },
        );
    }

    /// The consumer is back (restarted or reconnected): a new channel, a new `basic.consume`.
    pub(crate) fn rabbit_reopen(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
    ) {
        // A close still on its way is taken first: the old channel and the new are two.
        brokers.rabbit_requeue(world, consumer);
        let c = &mut world.consumers[consumer as usize];
        c.alive = true;
        c.session += 1;
        brokers.rabbit_consume(world, consumer);
    }

    /// An idle consumer processes its next pushed delivery. Deliveries are pushed into its
    /// buffer; an auto-ack consumer has nothing to commit first, a manual-ack one acks after
    /// processing.
    #[inline]
    pub(crate) fn rabbit_next_work(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
    ) {
        if let Some(item) = world.consumers[consumer as usize].queue.pop_front() {
            self.start_processing(brokers, world, consumer, item);
        }
    }
}
