//! Zombie consumers: a consumer that stalls (a stop-the-world GC pause) after processing a
//! record and before its offset or transaction commit. While it sleeps it sends no heartbeats; past the
//! session timeout the group removes it and hands its partitions to the others, which read
//! its records again. When it wakes it does not know yet: it acks or commits what it had, and
//! only rejoins the group at its next poll. Exactly-once's generation fencing rejects that
//! commit (`broker::txn_still_owned`); with `fencing` off, or in at-least-once, which has no
//! commit to fence, the zombie's work counts a second time.

use crate::brokers::Brokers;
use crate::clients::Clients;
use crate::engine::messages::Item;
use crate::engine::{Event, World, trace};
use crate::observe::trace::{Actor, TraceKind};
use crate::time::us_to_ms;

impl Clients {
    /// Consumer `consumer` freezes right after processing `item`. `pending_ack` is the item
    /// whose ack (and reference) waits for the wake-up; a staged item waits in the open
    /// transaction instead.
    pub(crate) fn stall_consumer(
        &mut self,
        world: &mut World,
        consumer: u16,
        item: Item,
        pending_ack: bool,
    ) {
        world.metrics.counters.consumer_stalls += 1;
        let stall_us = world.timing.stall;
        let session_us = world.timing.session_timeout;
        let c = &mut world.consumers[consumer as usize];
        c.stalled = true;
        c.stall += 1;
        let stall = c.stall;
        if pending_ack {
            c.ack_after_stall = Some(item);
        }
        trace!(
            world,
            item.msg,
            TraceKind::Stalled,
            Actor::Consumer,
            None,
            Some(consumer as u32),
            item.delivery,
            item.key as u32,
            if stall_us > session_us {
                format!(
                    "consumer {consumer} freezes for {} ms (a GC pause) after processing this record, longer than its {} ms session timeout",
                    us_to_ms(stall_us),
                    us_to_ms(session_us)
                )
            } else {
                format!(
                    "consumer {consumer} freezes for {} ms (a GC pause) after processing this record, within its {} ms session timeout",
                    us_to_ms(stall_us),
                    us_to_ms(session_us)
                )
            },
        );
        world
            .queue
            .schedule(world.now + stall_us, Event::StallEnd { consumer, stall });
        if stall_us > session_us {
            world.queue.schedule(
                world.now + session_us,
                Event::StallExpire { consumer, stall },
            );
        }
    }

    /// The group has not heard from the stalled consumer for a session timeout: it is removed
    /// and its partitions go to the others, who will be sent its unacknowledged records.
    #[cold]
    pub(crate) fn on_stall_expire(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        stall: u32,
    ) {
        let c = &world.consumers[consumer as usize];
        if !c.stalled || c.stall != stall || !brokers.group.is_member(consumer) {
            return;
        }
        brokers.group.set_member(consumer, false);
        world.metrics.counters.stall_expulsions += 1;
        let held = if world.traced.is_empty() {
            Vec::new()
        } else {
            self.items_held(world, consumer)
        };
        for item in held {
            trace!(
                world,
                item.msg,
                TraceKind::SessionExpired,
                Actor::Broker,
                None,
                Some(consumer as u32),
                item.delivery,
                item.key as u32,
                format!(
                    "consumer {consumer} has been silent past its session timeout: the group hands its partitions to the others (a rebalance)"
                ),
            );
        }
        self.rebalance(brokers, world);
    }

    /// The pause ends. The consumer carries on where it stopped, with the records it holds.
    #[cold]
    pub(crate) fn on_stall_end(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        stall: u32,
    ) {
        let c = &mut world.consumers[consumer as usize];
        if !c.stalled || c.stall != stall {
            return;
        }
        c.stalled = false;
        let expelled = !brokers.group.is_member(consumer);
        let pending = c.ack_after_stall.take();
        let held = if world.traced.is_empty() {
            Vec::new()
        } else {
            self.items_held(world, consumer)
        };
        for item in held.into_iter().chain(pending) {
            trace!(
                world,
                item.msg,
                TraceKind::Woke,
                Actor::Consumer,
                None,
                Some(consumer as u32),
                item.delivery,
                item.key as u32,
                if expelled {
                    format!(
                        "consumer {consumer} wakes up, unaware that the group removed it: a zombie, it carries on with this record"
                    )
                } else {
                    format!("consumer {consumer} wakes up, still a member of the group")
                },
            );
        }
        if let Some(item) = pending {
            self.finish_processed(brokers, world, consumer, item);
        }
        self.next_work(brokers, world, consumer);
    }

    /// At its next poll a consumer the group removed learns it, and joins again.
    pub(crate) fn rejoin_if_expelled(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
    ) {
        if world.consumers[consumer as usize].alive && !brokers.group.is_member(consumer) {
            brokers.group.set_member(consumer, true);
            self.rebalance(brokers, world);
        }
    }

    /// The records a consumer holds (buffered, staged, or waiting for their ack), in order.
    fn items_held(&self, world: &World, consumer: u16) -> Vec<Item> {
        let c = &world.consumers[consumer as usize];
        c.txn
            .iter()
            .chain(c.queue.iter())
            .chain(c.ack_after_stall.iter())
            .copied()
            .collect()
    }
}
