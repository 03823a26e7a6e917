//! The broker families. Each is a folder; the engine and the clients call the family the
//! scenario names through `Family`'s dispatch methods (`family.rs`), the one place that asks
//! which broker a run has. The record store (`kafka::Entries`) is Kafka's, and RabbitMQ's
//! queue keeps its messages in it too, and so do SQS's queues: rabbitmq and sqs depend on
//! kafka, never the other way round.

mod family;
pub(crate) mod kafka;
pub(crate) mod rabbitmq;
pub(crate) mod sqs;

pub(crate) use family::Family;

/// The broker's side of one consumer's polls (Kafka's `Fetch`, SQS's `ReceiveMessage`):
/// state the broker keeps, not the consumer. A consumer's crash closes its connection, and
/// the poll parked on it goes too.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PollState {
    /// A poll waiting at the broker for records (a long poll).
    pub parked: bool,
    /// Responses lost in a row: each response after a lost one draws its network fault
    /// afresh (see `serve_fetch`); the consumer asks again after its request timeout.
    pub lost_responses: u32,
}
