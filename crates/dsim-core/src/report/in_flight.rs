//! What is in flight at an instant: the queue state a person would draw on a whiteboard. Per
//! partition, the records being replicated, waiting to be fetched and out with a consumer;
//! per hop, the packets on the wire; per consumer, what it is doing; on the producer side, the
//! publishes waiting for an ack and the outbox rows waiting for the relay.
//!
//! Read off the simulation's state without changing it, so it can be taken at any point of a
//! run (live, or at a past instant through `time_travel`). Only counts: nothing here decides
//! anything, and everything is gathered in a fixed order.

use serde::{Deserialize, Serialize};

use crate::brokers::kafka::EntryState;
use crate::engine::Event;
use crate::simulation::Simulation;
use crate::time::us_to_ms;

/// The queue state of a run at one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct QueueState {
    pub now_ms: f64,
    pub events: u64,
    /// Produced and not yet resolved (applied, lost or given up).
    pub messages_in_flight: u64,
    /// Whether the broker is down (between a crash and its failover).
    pub broker_down: bool,
    /// Replicas in the in-sync set, the leader included (of `replication-factor`).
    pub in_sync_replicas: u32,
    pub partitions: Vec<PartitionQueue>,
    pub wire: WireCounts,
    pub consumers: Vec<ConsumerView>,
    /// Publishes sent and waiting for the broker's ack.
    pub awaiting_publish_ack: u64,
    /// Outbox rows committed and not yet published by the relay.
    pub outbox_rows: u64,
    /// Records the dedup store holds.
    pub dedup_ids: u64,
    /// Events waiting in the queue, stale ones (made moot by an ack or a crash) included.
    pub pending_events: u64,
}

/// One partition of the topic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct PartitionQueue {
    pub partition: u16,
    /// The consumer the group assigns it to, if the group has members.
    pub owner: Option<u16>,
    /// Appended on the leader, not yet on every replica (invisible to consumers).
    pub replicating: u32,
    /// On the replicas and not yet fetched by the partition's current reader.
    pub ready: u32,
    /// Fetched, past the committed offset: a crash of the reader now replays them.
    pub delivered: u32,
    /// The group's committed offset.
    pub committed: u64,
    /// The log end offset: the next append's offset.
    pub end: u64,
}

/// Packets on the wire, per hop. A packet whose receiver has since crashed or moved on still
/// travels; it is dropped on arrival, so it is counted here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct WireCounts {
    /// Producer (or outbox relay) to broker.
    pub publish: u32,
    /// Broker to producer.
    pub publish_ack: u32,
    /// Consumer fetch requests and the broker's answers.
    pub fetch: u32,
    /// Broker to consumer: records.
    pub delivery: u32,
    /// Consumer to group coordinator and back: offset commits.
    pub ack: u32,
    /// Consumer to coordinator and back: transaction commits (exactly-once).
    pub commit: u32,
}

/// What a consumer is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum ConsumerStatus {
    /// Crashed, waiting to restart.
    Crashed,
    /// Applying a record (or looking it up in the dedup store).
    Processing,
    /// Waiting for its transaction's commit (exactly-once).
    Committing,
    /// A fetch is out, waiting for records.
    Fetching,
    Idle,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ConsumerView {
    pub consumer: u16,
    pub status: ConsumerStatus,
    /// Whether the group counts it (a crashed consumer stays a member until its session
    /// times out).
    pub member: bool,
    /// Records fetched and not yet processed, the one in hand included.
    pub buffered: u32,
    /// Exactly-once: records processed in the open transaction, not yet committed.
    pub uncommitted: u32,
}

impl Simulation {
    /// What is in flight now, per partition, hop and consumer.
    pub fn queue_state(&self) -> QueueState {
        let mut partitions: Vec<PartitionQueue> = (0..self.brokers.logs.len() as u16)
            .map(|p| {
                let log = &self.brokers.logs[p as usize];
                PartitionQueue {
                    partition: p,
                    owner: self.brokers.owner_of(p),
                    replicating: 0,
                    ready: 0,
                    delivered: 0,
                    committed: log.committed,
                    end: log.end(),
                }
            })
            .collect();
        // The current reader's position splits the visible records into fetched and not.
        let mut position: Vec<u64> = partitions.iter().map(|p| p.committed).collect();
        for c in &self.world.consumers {
            for a in &c.assigned {
                if self.brokers.logs[a.partition as usize].epoch == a.epoch {
                    position[a.partition as usize] = a.position;
                }
            }
        }
        for entry in self.brokers.entries.slots() {
            let Some(p) = partitions.get_mut(entry.partition as usize) else {
                continue;
            };
            match entry.state {
                EntryState::Free => {}
                EntryState::Replicating => p.replicating += 1,
                EntryState::Ready if entry.offset < position[entry.partition as usize] => {
                    p.delivered += 1
                }
                EntryState::Ready => p.ready += 1,
            }
        }
        let mut wire = WireCounts::default();
        self.world.queue.for_each_event(|event| match event {
            Event::PublishArrive { .. } => wire.publish += 1,
            Event::PublishAckArrive { .. } => wire.publish_ack += 1,
            Event::FetchArrive { .. } | Event::FetchDone { .. } => wire.fetch += 1,
            Event::DeliveryArrive { .. } => wire.delivery += 1,
            Event::OffsetCommitArrive { .. } | Event::OffsetCommitResponse { .. } => wire.ack += 1,
            Event::CommitArrive { .. } | Event::CommitResponse { .. } => wire.commit += 1,
            _ => {}
        });
        let consumers = self
            .world
            .consumers
            .iter()
            .enumerate()
            .map(|(i, c)| ConsumerView {
                consumer: i as u16,
                status: if !c.alive {
                    ConsumerStatus::Crashed
                } else if c.current.is_some() {
                    ConsumerStatus::Processing
                } else if c.committing.is_some() {
                    ConsumerStatus::Committing
                } else if c.fetching {
                    ConsumerStatus::Fetching
                } else {
                    ConsumerStatus::Idle
                },
                member: self.brokers.group.is_member(i as u16),
                buffered: c.queue.len() as u32 + c.current.is_some() as u32,
                uncommitted: c.txn.len() as u32,
            })
            .collect();
        let awaiting_publish_ack = self
            .world
            .msgs
            .unresolved()
            .filter(|&id| self.world.msgs.get(id).is_some_and(|m| m.waiting_ack))
            .count() as u64;
        let c = &self.world.metrics.counters;
        QueueState {
            now_ms: us_to_ms(self.world.now),
            events: c.events,
            messages_in_flight: c.produced - self.world.resolved,
            broker_down: self.brokers.broker_down(&self.world),
            in_sync_replicas: self.brokers.isr.in_sync_at(self.world.now) as u32,
            partitions,
            wire,
            consumers,
            awaiting_publish_ack,
            outbox_rows: self
                .clients
                .relays
                .iter()
                .map(|r| r.rows.len() as u64)
                .sum(),
            dedup_ids: self.world.dedup.len() as u64,
            pending_events: self.world.queue.len() as u64,
        }
    }
}
