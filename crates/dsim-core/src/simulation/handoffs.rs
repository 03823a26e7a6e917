//! The steps of one event in which a broker's outcome reaches a client at the same instant.
//! The brokers never call the clients (ARCHITECTURE.md, "Folders and their arrows"): the
//! broker does its part and says what came of it, and the event loop, which may call both, hands
//! that to the client, in the order the model has always taken them.

use crate::brokers::kafka::producer_state::Batch;
use crate::brokers::kafka::{Arrival, Refusal};
use crate::engine::Event;
use crate::simulation::Simulation;

impl Simulation {
    /// A publish reaches the broker (`on_publish_arrive`), and the producer learns at once
    /// what the model lets it learn there: the log record its ack will name (`note_append`),
    /// or an idempotent producer's sequence error, which it acts on (`on_publish_refused`)
    /// before the broker's refusal is traced. The order is the model's own (see `Arrival`).
    #[inline]
    pub(crate) fn publish_arrive(&mut self, msg: u32, attempt: u16, net_copy: u8, batch: Batch) {
        match self
            .brokers
            .on_publish_arrive(&mut self.world, msg, attempt, net_copy, batch)
        {
            Arrival::Kept => {}
            Arrival::Dropped => self.world.release(msg),
            Arrival::Appended {
                producer,
                partition,
                entry,
                crashes,
            } => {
                self.clients
                    .note_append(producer, partition, msg, batch, entry);
                if crashes {
                    // The crash truncates the new record and drops its reference: the message
                    // must stay until the publish's own reference goes, as with any record.
                    self.world.hold(msg);
                    self.crash_broker(Some(msg), None);
                    self.world.release(msg);
                }
            }
            Arrival::Refused(refusal) => self.publish_refused(msg, attempt, net_copy, refusal),
        }
    }

    /// The producer takes a refusal's error, then the broker's trace row records it, and the
    /// publish's reference goes.
    #[cold]
    fn publish_refused(&mut self, msg: u32, attempt: u16, net_copy: u8, refusal: Refusal) {
        self.clients
            .on_publish_refused(&mut self.brokers, &mut self.world, msg, refusal);
        self.brokers
            .trace_refusal(&mut self.world, msg, attempt, net_copy, refusal);
        self.world.release(msg);
    }

    /// The broker crashes, at a scripted time or after an append (`broker-crash`): the
    /// broker's side first (`broker_goes_down`: elections, truncation, lost writes), then
    /// what its consumers see of it (RabbitMQ's connections drop), then its recovery after
    /// `failover-ms`, scheduled after whatever the crash scheduled for the consumers.
    #[cold]
    pub(crate) fn crash_broker(&mut self, trigger: Option<u32>, scripted: Option<u16>) {
        self.brokers
            .broker_goes_down(&mut self.world, trigger, scripted);
        self.clients
            .consumers_see_broker_crash(&mut self.brokers, &mut self.world, scripted);
        self.world.queue.schedule(
            self.world.now + self.world.timing.failover,
            Event::BrokerRecover,
        );
    }
}
