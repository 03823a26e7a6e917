//! Kafka: partition logs with offsets, replication, the consumer group (assignments, fetches
//! and the group coordinator's offset commits), and the transaction coordinator.

mod coordinator;
mod group;
mod log;
mod produce;
pub(crate) mod producer_state;
mod replication;

pub(crate) use coordinator::TxnCoordinator;
pub(crate) use group::Group;
pub(crate) use log::delivery_key;
pub use log::{Entries, EntryState, PartitionLog, Txn, Writer};
pub(crate) use produce::{Arrival, Refusal};
pub use replication::Isr;
