//! The one place a consumer meets the broker family a run simulates, from the consumer's
//! side: every `impl Simulation` method here is a dispatch point, one `match` on the family,
//! each arm calling that family's consumer (`consumer.rs` and `group_member.rs` for Kafka,
//! `rabbitmq.rs`, `sqs.rs`), which may call its broker. The broker's side of the same
//! dispatch is `brokers/family.rs`; `cargo xtask test boundary` refuses a match on `Family`'s
//! variants anywhere but these two files. The brokers never call in here: a consumer asks the
//! broker, and the engine hands a consumer what the broker sent (`Event::DeliveryArrive`).
//!
//! `next_work`, `on_delivery_arrive` and `finish_processed` sit on the hot path of every
//! record; they are plain `match`es on the variant's tag, and the family bodies they call are
//! `#[inline]` (see `brokers/family.rs`).

use super::rabbitmq::Closed;
use crate::brokers::Family;
use crate::engine::Simulation;
use crate::engine::messages::Item;
use crate::scenario::Mode;

impl Simulation {
    /// A consumer starts consuming, at the start of a run.
    /// Kafka: it syncs its partition assignment and polls (`Fetch`); RabbitMQ: it opens its
    /// channel (`basic.consume`) and waits for pushes; SQS: it long-polls `ReceiveMessage`.
    pub(crate) fn start_fetching(&mut self, consumer: u16) {
        match self.family {
            Family::Kafka => {
                self.sync_assignment(consumer);
                self.next_work(consumer);
            }
            Family::RabbitMq(_) => self.rabbit_consume(consumer),
            Family::Sqs { .. } => self.next_work(consumer),
        }
    }

    /// Decides what an idle consumer does next. Kafka: commit what it received
    /// (at-most-once), process the next record, commit the open transaction, or poll again,
    /// committing its offsets first when due (`auto.commit.interval.ms`); RabbitMQ: process
    /// the next pushed delivery; SQS: process what the last receive returned, then
    /// `ReceiveMessage` again.
    pub(crate) fn next_work(&mut self, consumer: u16) {
        let c = &self.consumers[consumer as usize];
        if !c.alive || c.stalled || c.current.is_some() || c.committing.is_some() {
            return;
        }
        match self.family {
            Family::Kafka => self.kafka_next_work(consumer),
            Family::RabbitMq(_) => self.rabbit_next_work(consumer),
            Family::Sqs { .. } => self.sqs_next_work(consumer),
        }
    }

    /// A record reaches a consumer. Kafka: one record of a fetch response, at its partition
    /// and offset; RabbitMQ: a `basic.deliver` at a queue position (the `basic.ack`'s
    /// delivery tag); SQS: a message of a receive, whose receive is its receipt handle.
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
        match self.family {
            Family::Kafka => {
                self.kafka_delivery_arrive(msg, entry, generation, delivery, key, consumer, session)
            }
            Family::RabbitMq(_) => {
                let item = self.queue_item(msg, entry, generation, delivery, key);
                self.rabbit_delivery_arrived(consumer, item, session);
            }
            Family::Sqs { .. } => {
                let item = self.queue_item(msg, entry, generation, delivery, key);
                self.sqs_delivery_arrived(consumer, item, session);
            }
        }
    }

    /// A queue family's delivery as a consumer's item: partition 0, its queue position as
    /// the offset (an auto-acked delivery's record is gone: 0).
    #[inline]
    fn queue_item(&self, msg: u32, entry: u32, generation: u32, delivery: u32, key: u8) -> Item {
        let offset = self.entries.live(entry, generation).map_or(0, |e| e.offset);
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
    pub(crate) fn finish_processed(&mut self, consumer: u16, item: Item) {
        match &self.family {
            Family::Kafka => self.kafka_finish_processed(consumer, item),
            Family::RabbitMq(q) => {
                if !q.auto_ack {
                    self.rabbit_send_ack(consumer, item);
                }
                self.release(item.msg);
            }
            Family::Sqs { .. } => {
                if self.mode != Mode::AtMostOnce {
                    self.sqs_send_delete(consumer, item, false);
                }
                self.release(item.msg);
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
        consumer: u16,
        in_hand: Option<Item>,
        scripted: Option<u16>,
    ) {
        self.metrics.counters.consumer_crashes += 1;
        match self.family {
            Family::Kafka => self.kafka_crash_consumer(consumer, in_hand, scripted),
            Family::RabbitMq(_) => self.rabbit_close(consumer, Closed::Crash, in_hand, scripted),
            Family::Sqs { .. } => self.sqs_crash_consumer(consumer, in_hand, scripted),
        }
    }

    /// A crashed consumer comes back. Kafka: it rejoins the group (a rebalance) or, still a
    /// member, fetches from its committed offsets; RabbitMQ: it reconnects and opens a new
    /// channel; SQS: it polls again.
    #[cold]
    pub(crate) fn on_consumer_restart(&mut self, consumer: u16) {
        match self.family {
            Family::Kafka => self.kafka_consumer_restart(consumer),
            Family::RabbitMq(_) => {
                self.rabbit_reopen(consumer);
                self.next_work(consumer);
            }
            Family::Sqs { .. } => self.sqs_restart_consumer(consumer),
        }
    }

    /// What the consumers see of a broker crash (after the broker's side, `broker_goes_down`).
    /// RabbitMQ: every connection drops with the node, and the broker requeues each channel's
    /// unacknowledged deliveries, consumer by consumer; Kafka and SQS: nothing at once (a
    /// fetch or a receive waits for the broker to be back).
    #[cold]
    pub(crate) fn consumers_see_broker_crash(&mut self, scripted: Option<u16>) {
        match self.family {
            Family::RabbitMq(_) => {
                for c in 0..self.consumers.len() as u16 {
                    self.rabbit_close(c, Closed::ConnectionLost, None, scripted);
                    self.rabbit_requeue(c);
                }
            }
            Family::Kafka | Family::Sqs { .. } => {}
        }
    }
}
