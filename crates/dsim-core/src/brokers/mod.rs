//! The broker families. Each is a folder; the event loop and the clients call the family the
//! scenario names through `Family`'s dispatch methods (`family.rs`), the one place that asks
//! which broker a run has. The record store (`kafka::Entries`) is Kafka's, and RabbitMQ's
//! queue keeps its messages in it too, and so do SQS's queues: rabbitmq and sqs depend on
//! kafka, never the other way round.

mod family;
pub(crate) mod kafka;
pub(crate) mod rabbitmq;
pub(crate) mod sqs;

pub(crate) use family::Family;

use std::collections::VecDeque;

use crate::brokers::kafka::producer_state::ProducerStates;
use crate::brokers::kafka::{Entries, Group, Isr, PartitionLog, TxnCoordinator};
use crate::scenario::{Acks, Mode, Scenario};
use crate::time::Micros;

/// What the brokers keep: the record store and partition logs, the family's own state, the
/// replicas, the consumer group and transaction coordinators, the partition leaders' state of
/// idempotent producers. Their behaviour is `impl Brokers` blocks in this folder, each handed
/// the `World` it acts in (`engine::World`).
#[derive(Clone)]
pub(crate) struct Brokers {
    pub(crate) entries: Entries,
    /// The partition logs, with the group's committed offsets (Kafka).
    pub(crate) logs: Vec<PartitionLog>,
    /// The broker family and the state only it has (`brokers::Family`): the simulation and
    /// the clients call it through the dispatch methods of `brokers/family.rs` (the broker's
    /// side: a message becomes ready, a poll arrives, the broker crashes) and
    /// `clients/family_side.rs` (the consumer's side: it polls, processes, acks, crashes or
    /// comes back) where the families differ.
    pub(crate) family: Family,
    pub(crate) fetch_scratch: Vec<u32>,
    /// Entries appended but not yet on every replica, in append order.
    pub(crate) replicating: VecDeque<(u32, u32)>,
    pub(crate) broker_down_until: Option<Micros>,
    /// The in-sync replica set (`brokers/kafka/replication.rs`).
    pub(crate) isr: Isr,
    /// The ISR size below which the leader refuses writes: `min-insync-replicas` with
    /// `acks=all`, else 1 (Kafka checks it for `acks=all` only, and at-most-once sends with
    /// `acks=0`), so the append path makes one comparison.
    pub(crate) min_insync: u8,
    /// The consumer group's membership, kept by its coordinator (`brokers/kafka/group.rs`).
    pub(crate) group: Group,
    /// The broker's side of each consumer's polls (`brokers::PollState`).
    pub(crate) polls: Vec<PollState>,
    /// The transaction coordinator's state per consumer (`brokers/kafka/coordinator.rs`).
    pub(crate) txn_coordinator: TxnCoordinator,
    /// The partition leaders' state of idempotent producers (see `producer_state`).
    pub(crate) producer_states: ProducerStates,
}

impl Brokers {
    /// The brokers at the start of a run of a valid scenario with `consumers` consumers.
    pub(crate) fn new(s: &Scenario, consumers: usize) -> Brokers {
        let family = Family::new(s, consumers);
        // A RabbitMQ or SQS queue is one queue: the partition of every message is 0.
        let partitions = if family.is_queue() {
            1
        } else {
            s.partitions.max(1) as usize
        };
        Brokers {
            entries: Entries::default(),
            logs: vec![PartitionLog::default(); partitions],
            family,
            fetch_scratch: Vec::new(),
            replicating: VecDeque::new(),
            broker_down_until: None,
            isr: Isr::new(s.replicas(), s.unclean_election && s.replica_lag > 0.0),
            min_insync: if s.effective_acks() == Acks::All && s.mode != Mode::AtMostOnce {
                s.min_insync_replicas.clamp(1, s.replicas().clamp(1, 5)) as u8
            } else {
                1
            },
            group: Group::new(consumers),
            polls: vec![PollState::default(); consumers],
            txn_coordinator: TxnCoordinator::new(consumers),
            producer_states: ProducerStates::default(),
        }
    }
}

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
