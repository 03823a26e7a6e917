//! The system's clients, as the broker sees them: producers and the outbox relay that publish,
//! and the consumer group's members that fetch, process into the ledger and commit offsets
//! (with their stalls, the zombie case).

pub(crate) mod consumer;
mod family_side;
mod group_member;
pub(crate) mod producer;
pub(crate) mod producer_session;
mod rabbitmq;
mod sqs;
pub(crate) mod zombie;
