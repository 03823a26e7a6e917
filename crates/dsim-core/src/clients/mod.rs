//! The system's clients, as the broker sees them: producers and the outbox relay that publish,
//! and the consumers that fetch, process into the ledger and commit offsets (with their
//! stalls, the zombie case), one file per family for a consumer's side of its broker and
//! `family_side.rs` to dispatch to them. The clients call the brokers; the brokers never call
//! the clients (they send events, and the engine hands over what must reach a client at
//! once: `engine/handoffs.rs`).

pub(crate) mod consumer;
mod family_side;
mod group_member;
pub(crate) mod producer;
pub(crate) mod producer_session;
mod rabbitmq;
mod sqs;
pub(crate) mod zombie;
