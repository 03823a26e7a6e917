//! The steps of one event in which a broker's outcome reaches a client at the same instant.
//! The brokers never call the clients (ARCHITECTURE.md, "Folders and their arrows"): the
//! broker does its part and says what came of it, and the engine, which may call both, hands
//! that to the client, in the order the model has always taken them.

use crate::engine::{Event, Simulation};

impl Simulation {
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
