//! RabbitMQ: one classic queue with competing consumers. The broker pushes deliveries
//! (`basic.deliver`) to consumers with room under their prefetch (`basic.qos`), consumers
//! acknowledge each one (`basic.ack`) or subscribe with auto-ack, and a closed connection
//! requeues its unacknowledged deliveries at their old positions, marked redelivered.

mod deliver;
mod queue;

pub(crate) use queue::RabbitQueue;
