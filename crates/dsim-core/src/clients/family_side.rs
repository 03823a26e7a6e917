//! The one place a consumer meets the broker family a run simulates, from the consumer's
//! side: every `impl Clients` method here is a dispatch point, one `match` on the family,
//! each arm calling that family's consumer (`consumer.rs` and `group_member.rs` for Kafka,
//! `rabbitmq.rs`, `sqs.rs`), which may call its broker. The broker's side of the same
//! dispatch is `brokers/family.rs`; `cargo xtask test boundary` refuses a match on `Family`'s
//! variants anywhere but these two files. The brokers never call in here: a consumer asks the
//! broker, and the event loop hands a consumer what the broker sent (`Event::DeliveryArrive`).
//!
//! `next_work`, `on_delivery_arrive` and `finish_processed` sit on the hot path of every
//! record; they are plain `match`es on the variant's tag, and the family bodies they call are
//! `#[inline]` (see `brokers/family.rs`).

use super::rabbitmq::Closed;
use crate::brokers::Brokers;
use crate::brokers::Family;
use crate::clients::Clients;
use crate::engine::World;
use crate::engine::messages::Item;
use crate::scenario::Mode;

impl Clients {
    /// A consumer starts consuming, at the start of a run.
    /// Kafka: it syncs its partition assignment and polls (`Fetch`); RabbitMQ: it opens its
    /// channel (`basic.consume`) and waits for pushes; SQS: it long-polls `ReceiveMessage`.
    pub(crate) fn start_fetching(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
    ) {
        match brokers.family {
            Family::Kafka => {
                self.sync_assignment(brokers, world, consumer);
                self.next_work(brokers, world, consumer);
            }
            Family::RabbitMq(_) => brokers.rabbit_consume(world, consumer),
            Family::Sqs { .. } => self.next_work(brokers, world, consumer),
        }
    }

    /// Decides what an idle consumer does next. Kafka: commit what it received
    /// (at-most-once), process the next record, commit the open transaction, or poll again,
    /// committing its offsets first when due (`auto.commit.interval.ms`); RabbitMQ: process
    /// the next pushed delivery; SQS: process what the last receive returned, then
    /// `ReceiveMessage` again.
    pub(crate) fn next_work(&mut self, brokers: &mut Brokers, world: &mut World, consumer: u16) {
        let c = &world.consumers[consumer as usize];
        if !c.alive || c.stalled || c.current.is_some() || c.committing.is_some() {
            return;
        }
        match brokers.family {
            Family::Kafka => self.kafka_next_work(brokers, world, consumer),
            Family::RabbitMq(_) => self.rabbit_next_work(brokers, world, consumer),
            Family::Sqs { .. } => self.sqs_next_work(brokers, world, consumer),
        }
    }

    /// A record reaches a consumer. Kafka: one record of a fetch response, at its partition
    /// and offset; RabbitMQ: a `basic.deliver` at a queue position (the `basic.ack`'s
    /// delivery tag); SQS: a message of a receive, whose receive is its receipt handle.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_delivery_arrive(
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
        match brokers.family {
            Family::Kafka => self.kafka_delivery_arrive(
                brokers, world, msg, entry, generation, delivery, key, consumer, session,
            ),
            Family::RabbitMq(_) => {
                let item = self.queue_item(brokers, msg, entry, generation, delivery, key);
                self.rabbit_delivery_arrived(brokers, world, consumer, item, session);
            }
            Family::Sqs { .. } => {
                let item = self.queue_item(brokers, msg, entry, generation, delivery, key);
                self.sqs_delivery_arrived(brokers, world, consumer, item, session);
            }
        }
    }

    /// A queue family's delivery as a consumer's item: partition 0, its queue position as
    /// the offset (an auto-acked delivery's record is gone: 0).
    #[inline]
    fn queue_item(
        &self,
        brokers: &Brokers,
        msg: u32,
        entry: u32,
        generation: u32,
        delivery: u32,
        key: u8,
    ) -> Item {
        let offset = brokers
            .entries
            .live(entry, generation)
            .map_or(0, |e| e.offset);
        Item {
            msg,
            entry,
            generation,
            delivery,
            key,
            partition: 0,
            offset,
            epoch: 0,
        }
    }

    /// A record is processed outside a transaction. Kafka: the partition's processed offset
    /// moves past it, for the next offset commit (`commit_offsets`); RabbitMQ: a manual-ack
    /// consumer sends `basic.ack`; SQS: `DeleteMessage` (at-most-once deleted it before).
    pub(crate) fn finish_processed(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        item: Item,
    ) {
        match &brokers.family {
            Family::Kafka => self.kafka_finish_processed(world, consumer, item),
            Family::RabbitMq(q) => {
                if !q.auto_ack {
                    self.rabbit_send_ack(brokers, world, consumer, item);
                }
                world.release(item.msg);
            }
            Family::Sqs { .. } => {
                if world.mode != Mode::AtMostOnce {
                    self.sqs_send_delete(brokers, world, consumer, item, false);
                }
                world.release(item.msg);
            }
        }
    }

    /// The consumer process dies. Kafka: its positions die with it, and whoever reads its
    /// partitions next starts from the committed offsets; RabbitMQ: its channel closes and
    /// the broker requeues its unacknowledged deliveries; SQS: what it received comes back
    /// when each visibility timeout passes.
    #[cold]
    pub(crate) fn crash_consumer(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
        in_hand: Option<Item>,
        scripted: Option<u16>,
    ) {
        world.metrics.counters.consumer_crashes += 1;
        match brokers.family {
            Family::Kafka => self.kafka_crash_consumer(brokers, world, consumer, in_hand, scripted),
            Family::RabbitMq(_) => {
                self.rabbit_close(brokers, world, consumer, Closed::Crash, in_hand, scripted)
            }
            Family::Sqs { .. } => {
                self.sqs_crash_consumer(brokers, world, consumer, in_hand, scripted)
            }
        }
    }

    /// A crashed consumer comes back. Kafka: it rejoins the group (a rebalance) or, still a
    /// member, fetches from its committed offsets; RabbitMQ: it reconnects and opens a new
    /// channel; SQS: it polls again.
    #[cold]
    pub(crate) fn on_consumer_restart(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        consumer: u16,
    ) {
        match brokers.family {
            Family::Kafka => self.kafka_consumer_restart(brokers, world, consumer),
            Family::RabbitMq(_) => {
                self.rabbit_reopen(brokers, world, consumer);
                self.next_work(brokers, world, consumer);
            }
            Family::Sqs { .. } => self.sqs_restart_consumer(brokers, world, consumer),
        }
    }

    /// What the consumers see of a broker crash (after the broker's side, `broker_goes_down`).
    /// RabbitMQ: every connection drops with the node, and the broker requeues each channel's
    /// unacknowledged deliveries, consumer by consumer; Kafka and SQS: nothing at once (a
    /// fetch or a receive waits for the broker to be back).
    #[cold]
    pub(crate) fn consumers_see_broker_crash(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        scripted: Option<u16>,
    ) {
        match brokers.family {
            Family::RabbitMq(_) => {
                for c in 0..world.consumers.len() as u16 {
                    self.rabbit_close(brokers, world, c, Closed::ConnectionLost, None, scripted);
                    brokers.rabbit_requeue(world, c);
                }
            }
            Family::Kafka | Family::Sqs { .. } => {}
        }
    }
}
