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
