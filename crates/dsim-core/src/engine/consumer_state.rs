//! Each consumer's state record: what it holds, what it is processing, its transaction and
//! offset commit in flight, and its connection (liveness, session). It lives in the world
//! (`World::consumers`) because a broker reads part of it: where a real broker learns a
//! consumer's positions, commit offsets and transaction records from its requests, the model
//! reads them here when the request arrives. The consumer's behaviour is the clients'
//! (`clients/consumer.rs`); the group hands out `Assignment`s (`brokers/kafka/group.rs`).

use std::collections::VecDeque;

use crate::engine::messages::Item;
use crate::time::Micros;

/// A partition the group gave a consumer, and how far that consumer has got in it. The group
/// hands it out (`assign_owned`) with the partition's new epoch; the consumer moves its
/// positions on and carries them in its offset commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub partition: u16,
    /// The partition's epoch when it was given to this consumer: a commit carries it, and
    /// the coordinator accepts it only while nobody has been given the partition since.
    pub epoch: u32,
    /// The next offset to receive (Kafka's consumer position).
    pub position: u64,
    /// The offset after the last processed record: what an offset commit carries.
    pub processed: u64,
    /// The offset the coordinator confirmed last.
    pub acked: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    Apply,
    /// The dedup store already has the ID.
    Skip,
}

#[derive(Clone)]
pub struct Consumer {
    pub alive: bool,
    /// Bumped at every restart; events for an older session are ignored.
    pub session: u32,
    pub queue: VecDeque<Item>,
    pub current: Option<(Item, Work)>,
    pub fetching: bool,
    /// Exactly-once: records processed in the open transaction.
    pub txn: Vec<Item>,
    /// When the open transaction began (its first record staged): the coordinator aborts it
    /// `transaction.timeout.ms` later.
    pub txn_started: Micros,
    /// The open transaction's commit in progress: `(txn, attempt)`.
    pub committing: Option<(u32, u32)>,
    pub next_txn: u32,
    /// Frozen in a stall (see `zombie`): alive, but doing nothing until it wakes.
    pub stalled: bool,
    /// Stalls so far; tells a stall's events apart from an earlier one's.
    pub stall: u32,
    /// A processed record whose bookkeeping waits for the end of the stall.
    pub ack_after_stall: Option<Item>,
    /// The partitions the group gave it, with its positions.
    pub assigned: Vec<Assignment>,
    /// The offset commit in flight: `(id, attempt)`. One at a time, as Kafka's consumer
    /// sends them in order.
    pub offset_commit: Option<(u32, u32)>,
    pub next_commit_id: u32,
    /// The offsets the commit in flight carries: `(partition, offset, epoch)`.
    pub commit_sent: Vec<(u16, u64, u32)>,
    /// When it last sent an offset commit (`auto.commit.interval.ms` counts from there).
    pub last_commit_at: Micros,
    /// A wake-up for a commit that falls due while the consumer waits on a long poll.
    pub commit_due_armed: bool,
    /// SQS at-most-once: received messages whose DeleteMessage is on its way; each is
    /// processed once its delete succeeds.
    pub deleting: Vec<Item>,
}

impl Default for Consumer {
    fn default() -> Self {
        Consumer {
            alive: true,
            session: 0,
            queue: VecDeque::new(),
            current: None,
            fetching: false,
            txn: Vec::new(),
            txn_started: 0,
            committing: None,
            next_txn: 0,
            stalled: false,
            stall: 0,
            ack_after_stall: None,
            assigned: Vec::new(),
            offset_commit: None,
            next_commit_id: 0,
            commit_sent: Vec::new(),
            last_commit_at: 0,
            commit_due_armed: false,
            deleting: Vec::new(),
        }
    }
}
