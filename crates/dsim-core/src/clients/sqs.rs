//! An SQS consumer's side: the messages a receive brought, processed in turn, its
//! `DeleteMessage` (after processing, or before it for at-most-once, which waits for the
//! answer), its receive loop, and its crash and restart, which SQS does not notice. The queue's
//! side (receives, visibility timeouts, deletes arriving) is `brokers/sqs`.

use crate::brokers::Brokers;
use crate::clients::Clients;
use crate::clients::consumer::send_queue_ack;
use crate::engine::messages::{Cause, Item};
use crate::engine::{Event, World, trace};
use crate::observe::trace::{Actor, TraceKind};
use crate::scenario::Mode;

impl Clients {
    /// A message reached its consumer (one of a receive's batch). At-most-once deletes it
    /// before processing; the others process it first.
    pub(crate) fn sqs_delivery_arrived(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        item: Item,
        session: u32,
    ) {
        let c = &world.consumers[consumer as usize];
        if !c.alive || c.session != session {
            trace!(
                world,
                item.msg,
                TraceKind::DeliveryLost,
                Actor::Broker,
                Some(Actor::Consumer),
                Some(consumer as u32),
                item.delivery,
                item.key as u32,
                "arrived after the consumer crashed: the message stays invisible until its visibility timeout passes",
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
            format!("consumer {consumer} has it (receive {})", item.delivery),
        );
        if world.mode == Mode::AtMostOnce {
            world.consumers[consumer as usize].deleting.push(item);
            self.sqs_send_delete(brokers, world, consumer, item, true);
        } else {
            world.consumers[consumer as usize].queue.push_back(item);
            self.next_work(brokers, world, consumer);
        }
    }

    /// `DeleteMessage` with the receipt handle of the item's receive. At-most-once waits for
    /// its answer before processing (`then_process`).
    pub(crate) fn sqs_send_delete(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        item: Item,
        then_process: bool,
    ) {
        let session = world.consumers[consumer as usize].session;
        let lost = if then_process {
            "the DeleteMessage was lost on the network: without its answer the at-most-once consumer does not process the message; it is visible again once its visibility timeout passes"
        } else {
            "the DeleteMessage was lost on the network: the message stays in the queue and is received again once its visibility timeout passes"
        };
        match send_queue_ack(world, consumer, item, lost) {
            Err(_) => {
                if then_process {
                    // The request timed out: the consumer cannot tell whether it was deleted,
                    // so at-most-once drops the message rather than risk a second payment.
                    self.sqs_drop_undeleted(brokers, world, consumer, item);
                }
            }
            Ok(delay) => {
                world.queue.schedule(
                    world.now + delay,
                    Event::SqsDeleteArrive {
                        consumer,
                        session,
                        msg: item.msg,
                        entry: item.entry,
                        generation: item.generation,
                        receive: item.delivery,
                        then_process,
                    },
                );
            }
        }
    }

    fn sqs_drop_undeleted(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        item: Item,
    ) {
        let c = &mut world.consumers[consumer as usize];
        if let Some(i) = c.deleting.iter().position(|d| *d == item) {
            c.deleting.remove(i);
            world.release(item.msg);
        }
        self.next_work(brokers, world, consumer);
    }

    /// At-most-once: the answer to the delete it sent before processing. Success, the message
    /// is the consumer's to process (and lost if it crashes now); failure, it drops it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_sqs_delete_done(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        session: u32,
        msg: u32,
        receive: u32,
        ok: bool,
    ) {
        let c = &mut world.consumers[consumer as usize];
        if !c.alive || c.session != session {
            return;
        }
        let Some(i) = c
            .deleting
            .iter()
            .position(|d| d.msg == msg && d.delivery == receive)
        else {
            return;
        };
        let item = c.deleting.remove(i);
        if ok {
            c.queue.push_back(item);
            self.next_work(brokers, world, consumer);
        } else {
            world.release(item.msg);
            self.next_work(brokers, world, consumer);
        }
    }

    /// The consumer process dies. SQS does not notice: what it had received stays invisible
    /// until each receive's visibility timeout passes, then comes back.
    pub(crate) fn sqs_crash_consumer(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        in_hand: Option<Item>,
        scripted: Option<u16>,
    ) {
        let amo = world.mode == Mode::AtMostOnce;
        let c = &mut world.consumers[consumer as usize];
        c.alive = false;
        c.fetching = false;
        brokers.polls[consumer as usize].parked = false;
        let c = &mut world.consumers[consumer as usize];
        let mut dropped: Vec<(Item, bool)> = in_hand.into_iter().map(|i| (i, amo)).collect();
        if let Some((item, _)) = c.current.take() {
            dropped.push((item, amo));
        }
        dropped.extend(c.queue.drain(..).map(|i| (i, amo)));
        dropped.extend(c.deleting.drain(..).map(|i| (i, false)));
        for (item, deleted) in dropped {
            if deleted && let Some(m) = world.msgs.get_mut(item.msg) {
                m.cause = Cause::AckedThenCrashed;
            }
            let note = if deleted {
                "the consumer died holding this message, which it had already deleted: nobody will receive it again"
            } else {
                "the consumer died holding this message; SQS does not notice, and the message is received again once its visibility timeout passes"
            };
            self.drop_held(world, consumer, item, scripted, note);
        }
        world.queue.schedule(
            world.now + world.timing.restart,
            Event::ConsumerRestart { consumer },
        );
    }

    /// The consumer is back: a new process that polls again.
    pub(crate) fn sqs_restart_consumer(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
    ) {
        let c = &mut world.consumers[consumer as usize];
        c.alive = true;
        c.session += 1;
        self.next_work(brokers, world, consumer);
    }

    /// An idle consumer processes what the last receive returned, then receives again (an
    /// at-most-once consumer once its deletes are answered).
    #[inline]
    pub(crate) fn sqs_next_work(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
    ) {
        let c = &mut world.consumers[consumer as usize];
        if let Some(item) = c.queue.pop_front() {
            self.start_processing(brokers, world, consumer, item);
        } else if !c.fetching && c.deleting.is_empty() {
            self.send_fetch(world, consumer);
        }
    }
}
