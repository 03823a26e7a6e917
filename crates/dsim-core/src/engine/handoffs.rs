//! The steps of one event in which a broker's outcome reaches a client at the same instant.
//! The brokers never call the clients (ARCHITECTURE.md, "Folders and their arrows"): the
//! broker does its part and says what came of it, and the engine, which may call both, hands
//! that to the client, in the order the model has always taken them.

use crate::brokers::kafka::producer_state::Batch;
use crate::brokers::kafka::{Arrival, Refusal};
use crate::engine::{Event, Simulation};

impl Simulation {
    /// A publish reaches the broker (`on_publish_arrive`), and the producer learns at once
    /// what the model lets it learn there: the log record its ack will name (`note_append`),
    /// or an idempotent producer's sequence error, which it acts on (`on_publish_refused`)
    /// before the broker's refusal is traced. The order is the model's own (see `Arrival`).
    #[inline]
    pub(crate) fn publish_arrive(&mut self, msg: u32, attempt: u16, net_copy: u8, batch: Batch) {
        match self.on_publish_arrive(msg, attempt, net_copy, batch) {
            Arrival::Kept => {}
            Arrival::Dropped => self.release(msg),
            Arrival::Appended {
                producer,
                partition,
                entry,
                crashes,
            } => {
                self.note_append(producer, partition, msg, batch, entry);
                if crashes {
                    // The crash truncates the new record and drops its reference: the message
                    // must stay until the publish's own reference goes, as with any record.
                    self.hold(msg);
                    self.crash_broker(Some(msg), None);
                    self.release(msg);
                }
            }
            Arrival::Refused(refusal) => self.publish_refused(msg, attempt, net_copy, refusal),
        }
    }

    /// The producer takes a refusal's error, then the broker's trace row records it, and the
    /// publish's reference goes.
    #[cold]
    fn publish_refused(&mut self, msg: u32, attempt: u16, net_copy: u8, refusal: Refusal) {
        self.on_publish_refused(msg, refusal);
        self.trace_refusal(msg, attempt, net_copy, refusal);
        self.release(msg);
    }

    /// The broker crashes, at a scripted time or after an append (`broker-crash`): the
    /// broker's side first (`broker_goes_down`: elections, truncation, lost writes), then
    /// what its consumers see of it (RabbitMQ's connections drop), then its recovery after
    /// `failover-ms`, scheduled after whatever the crash scheduled for the consumers.
    #[cold]
    pub(crate) fn crash_broker(&mut self, trigger: Option<u32>, scripted: Option<u16>) {
        self.broker_goes_down(trigger, scripted);
        self.consumers_see_broker_crash(scripted);
        self.queue
            .schedule(self.now + self.timing.failover, Event::BrokerRecover);
    }
}
