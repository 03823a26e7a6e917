//! The broker's side of a RabbitMQ run: enqueueing a confirmed message, pushing deliveries,
//! taking acks, and requeueing when a consumer's connection closes or the node restarts.
//! The consumer's side (its buffer, its acks, its connection) is `clients/rabbitmq.rs`.

use crate::brokers::Brokers;
use crate::brokers::kafka::delivery_key;
use crate::engine::{Event, World, trace};
use crate::observe::trace::{Actor, TraceKind};
use crate::scenario::script::Link;

impl Brokers {
    /// A message is on disk: it joins the queue at the position it took on arrival.
    pub(crate) fn rabbit_enqueue(&mut self, world: &mut World, entry: u32, generation: u32) {
        let position = self.entries.get(entry).offset;
        if let Some(q) = self.family.rabbit_mut() {
            q.enqueue(position, (entry, generation));
        }
        self.rabbit_dispatch(world);
    }

    /// Pushes ready messages to consumers with room, round robin, until either runs out.
    pub(crate) fn rabbit_dispatch(&mut self, world: &mut World) {
        if self.broker_down(world) {
            return;
        }
        while let Some((consumer, position, (entry, generation))) =
            self.family.rabbit_mut().and_then(|q| q.next_delivery())
        {
            self.rabbit_deliver(world, consumer as u16, position, entry, generation);
        }
    }

    /// `basic.deliver` to one consumer. Sent over its TCP connection, it is never lost on its
    /// own; a scripted partition holds it until the link heals. With auto-ack the broker
    /// forgets the message here.
    fn rabbit_deliver(
        &mut self,
        world: &mut World,
        consumer: u16,
        position: u64,
        entry: u32,
        generation: u32,
    ) {
        let session = world.consumers[consumer as usize].session;
        let e = self.entries.get_mut(entry);
        e.deliveries = e.deliveries.saturating_add(1);
        let (msg, delivery, copy) = (e.msg, e.deliveries, e.copy);
        let key = delivery_key(copy, 0);
        let auto_ack = self.family.rabbit().is_some_and(|q| q.auto_ack);
        world.metrics.counters.network_messages += 1;
        if delivery > 1 {
            world.metrics.counters.replayed += 1;
            world.metrics.examples.replayed.get_or_insert(msg);
        }
        trace!(
            world,
            msg,
            if delivery == 1 {
                TraceKind::Delivered
            } else {
                TraceKind::Replayed
            },
            Actor::Broker,
            Some(Actor::Consumer),
            Some(consumer as u32),
            delivery,
            key as u32,
            match (delivery, auto_ack) {
                (1, true) => format!(
                    "pushed to consumer {consumer} with auto-ack (queue position {position}): the broker forgets it as it sends it"
                ),
                (1, false) => format!(
                    "pushed to consumer {consumer} (queue position {position}), unacknowledged until its basic.ack"
                ),
                _ => format!(
                    "pushed AGAIN to consumer {consumer} with redelivered=true (delivery {delivery}): an earlier delivery was never acknowledged before its channel closed"
                ),
            },
        );
        let delay = world.faults.latency(
            Link::Consumer(consumer),
            world.now,
            msg,
            delivery,
            key as u32,
        );
        world.hold(msg);
        if auto_ack {
            self.finish_entry(world, entry);
        }
        // The consumer's connection delivers in the order the broker sent: jitter delays a
        // delivery but never lets a later one overtake it. Found by crates/dsim-validate:
        // with per-delivery jitter the simulated consumer could take a window out of order,
        // so a scripted crash struck, and the quorum queue dead-lettered, other messages
        // than on RabbitMQ 3.10. One held back by the `delay` fault is still overtaken, as a
        // producer's publish is (`in_order_arrival`).
        let mut at = world.now + delay;
        if delay <= world.faults.on_time_bound()
            && let Some(q) = self.family.rabbit_mut()
        {
            let last = &mut q.last_delivery_arrival[consumer as usize];
            at = at.max(*last);
            *last = at;
        }
        world.queue.schedule(
            at,
            Event::DeliveryArrive {
                msg,
                entry,
                generation,
                delivery,
                copy: key,
                consumer,
                session,
            },
        );
    }

    /// A `basic.ack` reached the broker. One for a channel that has since closed names a
    /// delivery tag the broker no longer knows: that message was requeued.
    pub(crate) fn on_rabbit_ack_arrive(
        &mut self,
        world: &mut World,
        consumer: u16,
        session: u32,
        position: u64,
    ) {
        if world.consumers[consumer as usize].session != session {
            return;
        }
        let Some((entry, generation)) = self
            .family
            .rabbit_mut()
            .and_then(|q| q.ack(consumer as usize, position))
        else {
            return;
        };
        if let Some(e) = self.entries.live(entry, generation) {
            let (msg, delivery, copy) = (e.msg, e.deliveries, e.copy);
            trace!(
                world,
                msg,
                TraceKind::Ack,
                Actor::Broker,
                None,
                Some(consumer as u32),
                delivery,
                delivery_key(copy, 0) as u32,
                "basic.ack arrived: the broker deletes the message",
            );
            self.finish_entry(world, entry);
        }
        self.rabbit_dispatch(world);
    }

    /// A consumer's connection closed (its process died, or the connection dropped). The
    /// close reaches the broker after every `basic.ack` the consumer sent before it
    /// (`on_rabbit_channel_closed`); a node that is down closed every channel itself.
    pub(crate) fn rabbit_channel_closing(&mut self, world: &mut World, consumer: u16) {
        let session = world.consumers[consumer as usize].session;
        if self.broker_down(world) {
            // The node itself went down: every channel is gone with it, at once.
            if let Some(q) = self.family.rabbit_mut() {
                q.close(consumer as usize);
            }
        } else {
            // The close reaches the broker after every basic.ack sent before it.
            let wire = world.faults.latency(
                Link::Consumer(consumer),
                world.now,
                u32::MAX - consumer as u32,
                session,
                3,
            );
            let last_ack = self
                .family
                .rabbit()
                .map_or(0, |q| q.last_ack_arrival[consumer as usize]);
            world.queue.schedule(
                (world.now + wire).max(last_ack),
                Event::RabbitChannelClosed { consumer, session },
            );
        }
    }

    /// The broker learns that a consumer's connection closed: everything that session left
    /// unacknowledged goes back to the queue at once, at its old positions, and out again to
    /// the consumers with room.
    pub(crate) fn on_rabbit_channel_closed(
        &mut self,
        world: &mut World,
        consumer: u16,
        session: u32,
    ) {
        if world.consumers[consumer as usize].session != session {
            // Already closed when the consumer came back (`rabbit_reopen`).
            return;
        }
        self.rabbit_requeue(world, consumer);
    }

    /// Requeues what a closed channel left unacknowledged, if the broker still counts it open.
    pub(crate) fn rabbit_requeue(&mut self, world: &mut World, consumer: u16) {
        let Some(q) = self.family.rabbit_mut() else {
            return;
        };
        if !q.is_open(consumer as usize) {
            return;
        }
        let back = q.close(consumer as usize);
        let limit = world.scenario.delivery_limit;
        for (position, (entry, generation)) in back {
            if let Some(e) = self.entries.live(entry, generation) {
                let (msg, delivery, copy) = (e.msg, e.deliveries, e.copy);
                // A quorum queue counts each return (rabbit_fifo's delivery count) and
                // dead-letters a message returned more often than x-delivery-limit.
                if limit > 0 && delivery > limit {
                    self.rabbit_dead_letter(world, position, entry, delivery, copy);
                    continue;
                }
                trace!(
                    world,
                    msg,
                    TraceKind::Requeued,
                    Actor::Broker,
                    None,
                    Some(consumer as u32),
                    delivery,
                    delivery_key(copy, 0) as u32,
                    format!(
                        "consumer {consumer}'s connection closed with this delivery unacknowledged: requeued at its position ({position}), to be delivered again with redelivered=true"
                    ),
                );
            }
        }
        self.rabbit_dispatch(world);
    }

    /// Dead-letters a returned message instead of requeueing it (`delivery-limit`): it
    /// leaves the queue for the dead-letter exchange, and the run reports it as given up.
    fn rabbit_dead_letter(
        &mut self,
        world: &mut World,
        position: u64,
        entry: u32,
        delivery: u32,
        copy: u8,
    ) {
        if let Some(q) = self.family.rabbit_mut() {
            q.remove_ready(position);
        }
        let msg = self.entries.get(entry).msg;
        if let Some(m) = world.msgs.get_mut(msg) {
            m.dead_lettered = true;
        }
        trace!(
            world,
            msg,
            TraceKind::DeadLettered,
            Actor::Broker,
            None,
            None,
            delivery,
            delivery_key(copy, 0) as u32,
            format!(
                "returned {delivery} times, more than the quorum queue's x-delivery-limit of {}: dead-lettered, never delivered again",
                world.scenario.delivery_limit
            ),
        );
        self.finish_entry(world, entry);
    }

    /// The node crashes: what it had received but not yet written to disk is gone (never
    /// confirmed, so its producer republishes it), and nothing is delivered until it is back
    /// after `failover-ms`. Durable messages survive. Every connection closes with it: each
    /// consumer's side of that is `rabbit_close` (`clients/rabbitmq.rs`).
    #[cold]
    pub(crate) fn rabbit_crash_broker(
        &mut self,
        world: &mut World,
        trigger: Option<u32>,
        scripted: Option<u16>,
    ) {
        self.queue_broker_down(
            world,
            trigger,
            scripted,
            "the RabbitMQ node crashes right after receiving this publish, before writing it to disk",
            "the node crashed before writing it to disk: gone, and never confirmed",
        );
    }

    /// The trace note of a published message the queue received at a queue position.
    #[cold]
    pub(crate) fn rabbit_stored_note(&self, entry: u32, copy: u8) -> String {
        let position = self.entries.get(entry).offset;
        format!(
            "received by the queue at position {position}{}; confirmed once on disk",
            if copy == 0 {
                ""
            } else {
                ", AGAIN, as a second message (RabbitMQ has no idempotent producer)"
            }
        )
    }

    /// A consumer subscribes (`basic.consume`): it opens its channel and waits for pushes.
    pub(crate) fn rabbit_consume(&mut self, world: &mut World, consumer: u16) {
        if let Some(q) = self.family.rabbit_mut() {
            q.open(consumer as usize);
        }
        self.rabbit_dispatch(world);
    }
}
