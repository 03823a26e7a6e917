//! The broker: partition logs, replication, the consumer group's fetches, visibility timeouts
//! and redelivery, acks, and (for exactly-once) the transaction coordinator.

mod coordinator;
mod group;
mod log;
mod produce;
pub(crate) mod producer_state;
mod replication;

pub use log::{Entries, EntryState, Txn, copy_key};
