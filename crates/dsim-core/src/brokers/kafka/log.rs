//! The partition log's records: a slab of entries whose slots are reused, each with a
//! generation so that a stale event can tell it no longer points at its record.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryState {
    Free,
    /// Appended on the leader, not yet on every replica: invisible, and lost if the leader
    /// crashes now.
    Replicating,
    /// Waiting in its partition to be fetched.
    Ready,
    /// Sent to a consumer, waiting for its ack or commit.
    Delivered,
    /// On every replica, but part of its producer's open transaction (exactly-once): a
    /// read-committed reader does not see it until the producer commits (`Txn`).
    Uncommitted,
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
    pub deliveries: u32,
    pub state: EntryState,
    pub generation: u32,
    /// Exactly-once: the consumer session whose position has passed this record.
    pub holder: Option<(u16, u32)>,
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
    pub(super) fn alloc(&mut self, msg: u32, copy: u8, partition: u16) -> (u32, u32) {
        let fresh = |generation| Entry {
            msg,
            copy,
            partition,
            deliveries: 0,
            state: EntryState::Replicating,
            generation,
            holder: None,
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

    pub(super) fn free(&mut self, id: u32) {
        let e = &mut self.slots[id as usize];
        e.state = EntryState::Free;
        e.holder = None;
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
