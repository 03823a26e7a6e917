//! The partition logs. Each partition is an append-only log of records numbered by offset
//! (`PartitionLog`), with the consumer group's committed offset: a record stays in the log
//! until the committed offset passes it, because until then a new owner of the partition
//! reads it again. The records themselves live in a slab of entries whose slots are reused,
//! each with a generation so that a stale event can tell it no longer points at its record.

use std::collections::VecDeque;

use crate::brokers::Brokers;
use crate::engine::World;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryState {
    Free,
    /// Appended on the leader, not yet on every replica: invisible, and lost if the leader
    /// crashes now.
    Replicating,
    /// On the replicas (below the high watermark): consumers may fetch it.
    Ready,
}

/// The producer instance that wrote a record, as Kafka's record batch header names it: the
/// producer ID and epoch (`epoch` as `producer_state::wire_epoch` packs it). Acks go back to
/// this instance only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Writer {
    pub producer_id: u32,
    pub epoch: u32,
}

/// Where a record stands in its producer's transaction. Only exactly-once's producers have a
/// `transactional.id`; their records are `Open` until the producer has the ack and commits
/// (one record per transaction, a simplification), or `Aborted` when a new instance with the
/// same transactional ID fences the old one (or the producer gives the record up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Txn {
    /// Not written in a transaction: visible once replicated.
    None,
    /// Its transaction is still open: the partition's last stable offset stops before it, so
    /// a read-committed reader reads nothing from here on until the transaction ends.
    Open,
    Committed,
    /// Never visible to a read-committed reader: the fetch path skips it (`group.rs`).
    Aborted,
}

/// One record in a partition log. Without an idempotent producer, a retried publish makes a
/// second record of the same message.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub msg: u32,
    pub copy: u8,
    pub partition: u16,
    /// Times it was sent to a consumer: more than once means it was read again from the
    /// committed offset (after a crash, a rebalance or an aborted transaction).
    pub deliveries: u32,
    pub state: EntryState,
    pub generation: u32,
    /// Its offset in its partition's log.
    pub offset: u64,
    /// Which append of the run made it (0 for the first): its position in the leader's log,
    /// which tells whether a follower that fell behind has it (`replication::Isr`).
    pub append_no: u32,
    /// The producer instance that appended it.
    pub writer: Writer,
    /// Its producer's transaction, if it was written in one.
    pub txn: Txn,
}

/// Log entries in a slab whose slots are reused; a generation per slot tells stale events
/// apart from live ones.
#[derive(Clone, Default)]
pub struct Entries {
    slots: Vec<Entry>,
    free: Vec<u32>,
}

impl Entries {
    pub(crate) fn alloc(
        &mut self,
        msg: u32,
        copy: u8,
        partition: u16,
        append_no: u32,
    ) -> (u32, u32) {
        let fresh = |generation| Entry {
            msg,
            copy,
            partition,
            deliveries: 0,
            state: EntryState::Replicating,
            generation,
            offset: 0,
            append_no,
            writer: Writer::default(),
            txn: Txn::None,
        };
        match self.free.pop() {
            Some(i) => {
                let generation = self.slots[i as usize].generation + 1;
                self.slots[i as usize] = fresh(generation);
                (i, generation)
            }
            None => {
                self.slots.push(fresh(0));
                (self.slots.len() as u32 - 1, 0)
            }
        }
    }

    /// Whether the next append would take the log past `MAX_LOG_RECORDS`. Free slots are
    /// reused before the slab grows, so its length is the most records ever held at once.
    pub(super) fn is_full(&self) -> bool {
        self.free.is_empty() && self.slots.len() >= crate::engine::MAX_LOG_RECORDS
    }

    /// The most records the log has held at once.
    /// The log's records, live or free, in slot order.
    pub fn slots(&self) -> &[Entry] {
        &self.slots
    }

    pub fn peak(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn free(&mut self, id: u32) {
        let e = &mut self.slots[id as usize];
        e.state = EntryState::Free;
        self.free.push(id);
    }

    /// The entry, if the slot still holds the generation the caller knew.
    pub fn live(&self, id: u32, generation: u32) -> Option<&Entry> {
        self.slots
            .get(id as usize)
            .filter(|e| e.generation == generation && e.state != EntryState::Free)
    }

    pub fn get(&self, id: u32) -> &Entry {
        &self.slots[id as usize]
    }

    pub fn get_mut(&mut self, id: u32) -> &mut Entry {
        &mut self.slots[id as usize]
    }
}

/// A fault key that tells apart the log entries of a message and the network copies of one
/// delivery of an entry.
pub fn copy_key(entry_copy: u8, net_copy: u8) -> u32 {
    entry_copy as u32 * 4 + net_copy as u32
}

/// One partition's log, from the oldest record the group may still read.
#[derive(Clone, Default)]
pub struct PartitionLog {
    /// `(entry, generation)` of the records at offsets `base..`, in offset order. A record
    /// truncated by a leader crash keeps its offset here, pointing at a freed entry: readers
    /// skip it.
    records: VecDeque<(u32, u32)>,
    /// Offset of `records[0]`.
    base: u64,
    /// The group's committed offset (Kafka's `__consumer_offsets`): the next record a new
    /// owner of the partition reads. Records below it have been freed.
    pub committed: u64,
    /// Bumped whenever the partition is given to a consumer (a rebalance, a restart, the
    /// reset after an aborted transaction): the group generation a commit must carry for
    /// this partition to be accepted (Kafka's generation check, `ILLEGAL_GENERATION`).
    pub epoch: u32,
}

impl PartitionLog {
    /// The offset the next append gets (the log end offset).
    pub fn end(&self) -> u64 {
        self.base + self.records.len() as u64
    }

    pub fn at(&self, offset: u64) -> Option<(u32, u32)> {
        let i = offset.checked_sub(self.base)?;
        self.records.get(i as usize).copied()
    }

    fn push(&mut self, entry: u32, generation: u32) -> u64 {
        self.records.push_back((entry, generation));
        self.end() - 1
    }

    /// Takes the oldest record if the committed offset has passed it.
    fn pop_committed(&mut self) -> Option<(u32, u32)> {
        if self.base >= self.committed {
            return None;
        }
        let front = self.records.pop_front()?;
        self.base += 1;
        Some(front)
    }
}

impl Brokers {
    /// Appends a record of `msg` to its partition's log.
    pub(super) fn append_record(
        &mut self,
        msg: u32,
        copy: u8,
        partition: u16,
        append_no: u32,
    ) -> (u32, u32) {
        let (entry, generation) = self.entries.alloc(msg, copy, partition, append_no);
        let offset = self.logs[partition as usize].push(entry, generation);
        self.entries.get_mut(entry).offset = offset;
        (entry, generation)
    }

    /// The group committed `offset` for `partition`: every record below it is done, and its
    /// reference on its message goes. Commits only move forward.
    pub(crate) fn advance_committed(&mut self, world: &mut World, partition: u16, offset: u64) {
        let log = &mut self.logs[partition as usize];
        if offset <= log.committed {
            return;
        }
        log.committed = offset;
        while let Some((entry, generation)) = self.logs[partition as usize].pop_committed() {
            if self.entries.live(entry, generation).is_some() {
                self.finish_entry(world, entry);
            }
        }
    }
}

/// Used by the broker to build the fault key of a delivery.
pub(crate) fn delivery_key(entry_copy: u8, net_copy: u8) -> u8 {
    copy_key(entry_copy.min(63), net_copy) as u8
}
