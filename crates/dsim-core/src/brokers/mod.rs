//! The broker families. Each is a folder; the engine calls into the family the scenario names.
//! The record store (`kafka::Entries`) is Kafka's, and RabbitMQ's queue keeps its messages in
//! it too, and so do SQS's queues: rabbitmq and sqs depend on kafka, never the other way round.

pub(crate) mod kafka;
pub(crate) mod rabbitmq;
pub(crate) mod sqs;
