//! Per-message bookkeeping for messages still in flight.
//!
//! A message's state lives here from the moment it is produced until nothing in the system can
//! still apply it (it is *resolved*). Every place that could still apply it (a packet on the
//! wire, a log entry awaiting its ack, a consumer's buffer, a producer waiting for an ack)
//! holds one reference; when the count drops to zero the message is resolved and its slot is
//! recycled. Memory therefore grows with the number of messages in flight, not with the run.

use std::collections::VecDeque;

use crate::time::Micros;

/// Why a message that was never applied got lost; the last thing that doomed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Cause {
    #[default]
    Unknown,
    PublishLost,
    BrokerUnavailable,
    DeliveryLost,
    AckedThenCrashed,
    Truncated,
    ProducerCrash,
    UncleanElection,
    /// RabbitMQ auto-ack: the broker forgot it when it pushed it, and the consumer's
    /// connection closed before it was processed.
    AutoAckBufferLost,
}

impl Cause {
    pub fn describe(self) -> &'static str {
        match self {
            Cause::Unknown => "it was never applied",
            Cause::PublishLost => "its only publish was lost and nobody retried",
            Cause::BrokerUnavailable => {
                "the broker was down when it was published and nobody retried"
            }
            Cause::DeliveryLost => "its only delivery was lost and the broker never redelivers",
            Cause::AckedThenCrashed => "the consumer acked it before processing, then crashed",
            Cause::Truncated => {
                "the broker acked it, then its leader crashed before the followers had a copy"
            }
            Cause::UncleanElection => {
                "the broker acked it, then the leader died as the only in-sync replica and a follower that had fallen behind before it was elected (unclean.leader.election.enable): the new leader never had it"
            }
            Cause::AutoAckBufferLost => {
                "it was delivered with auto-ack, so the broker forgot it as it pushed it, and the consumer's connection closed with it still in the buffer"
            }
            Cause::ProducerCrash => {
                "the producer crashed after its database write and before publishing (dual write)"
            }
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct MsgState {
    pub created_at: Micros,
    /// Places that could still apply this message. Wider than the attempts: without an
    /// idempotent producer every retry, and every network copy of it, appends a record that
    /// holds one (a relay retrying into a log nobody reads passed 65,535, found by a long fuzz
    /// run; the count wrapped to 0 and the message counted as silently lost).
    pub refs: u32,
    /// Times its payment was applied to the ledger: each of its records may apply it.
    pub effects: u32,
    /// About 56,250 at most: the ack timeout is at least 1 ms and the backoff grows it to
    /// 64 ms at most, and the horizon is at most one hour. An idempotent producer's window
    /// resends a record with each older one's retry, so it is counted saturating.
    pub publish_attempts: u16,
    /// The producer (or relay) holds a reference while it waits for an ack.
    pub waiting_ack: bool,
    /// Log entries created for it (without an idempotent producer a retry makes another).
    pub entries: u8,
    /// Log entries not truncated by a broker crash.
    pub live_entries: u8,
    /// Whether a live entry has reached every replica.
    pub durable: bool,
    pub gave_up: bool,
    pub dead_lettered: bool,
    pub cause: Cause,
    pub traced: bool,
    pub resolved: bool,
    /// Where it is published and stored, fixed at creation: asked on every hop, and each
    /// asking would otherwise take a payment draw and a division. (They fit in the padding:
    /// the state stays 32 bytes.)
    pub producer: u16,
    pub partition: u16,
}

// The per-message fields above fit in 32 bytes; keep it so (memory per in-flight message).
const _: () = assert!(std::mem::size_of::<MsgState>() == 32);

/// The states of unresolved messages, by ID. IDs are produced in order and mostly resolved in
/// order, so they live in a sliding window that drops resolved slots at its front. A slow
/// straggler at the front would hold every later slot, resolved or not (one message retrying
/// for seconds kept tens of thousands of slots at 10 % faults, and memory grew with the run):
/// when the window has grown well past the messages it holds unresolved, those at its front
/// move to a list of stragglers and the window slides past them. So the slots held stay within
/// a constant factor of the most messages in flight.
///
/// The check runs on `push` once the window has grown by half since the last one, and counts
/// the window's unresolved slots: amortised, a constant cost per message, and nothing added
/// to the resolutions that every event makes (counting them there instead cost 3 % of a whole
/// run). Look-ups of stragglers are kept out of line for the same reason: inlined into every
/// look-up of the window, the extra branch cost 2-3 %. With both, a 1,000,000-message
/// at-least-once run with 10 % faults runs about 2 % slower, holding 9,300 slots at its peak
/// instead of 40,000.
#[derive(Clone, Default)]
pub struct MsgTable {
    base: u32,
    slots: VecDeque<MsgState>,
    /// Window length at which `push` next looks for stragglers to move out.
    shed_at: usize,
    /// Messages older than `base` that were unresolved when the window slid past them, by ID
    /// (moved in ID order, so sorted for free; a list is less code in the page's wasm than a
    /// map). Resolved ones stay as tombstones until they are half the list: removing from
    /// the middle would shift the rest each time.
    stragglers: Vec<(u32, MsgState)>,
    live_stragglers: usize,
    /// Highest number of slots held at once, to report memory per in-flight message.
    pub peak: usize,
}

/// The window may hold this many slots whatever the count in flight: sliding past a straggler
/// is worth it only once many resolved slots sit behind it. (Small in unit tests, so that
/// random operations reach the straggler path.)
#[cfg(not(test))]
const WINDOW_SLACK: usize = 1024;
/// One record in a consumer's hands: which message, which log entry, which delivery of it,
/// and which copy, so that every copy keeps its own identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    pub msg: u32,
    pub entry: u32,
    pub generation: u32,
    pub delivery: u32,
    /// `copy_key` of the log entry and the network copy.
    pub key: u8,
    pub partition: u16,
    pub offset: u64,
    /// The epoch of the assignment it was read under (see `Assignment`).
    pub epoch: u32,
}

#[cfg(test)]
const WINDOW_SLACK: usize = 8;

impl MsgTable {
    /// Message slots held now: the window from its oldest unresolved message to the newest,
    /// and the stragglers.
    pub fn len(&self) -> usize {
        self.slots.len() + self.stragglers.len()
    }

    /// The ID the next `push` will return.
    pub fn next_id(&self) -> u32 {
        self.base + self.slots.len() as u32
    }

    pub fn push(&mut self, state: MsgState) -> u32 {
        let id = self.next_id();
        if self.slots.len() == self.slots.capacity() {
            // Half as much again rather than twice: the window is the run's largest table,
            // and a doubling at its peak would hold twice the slots it needs.
            self.slots.reserve_exact(self.slots.len() / 2 + 16);
        }
        self.slots.push_back(state);
        if self.slots.len() >= self.shed_at {
            self.shed_stragglers();
        }
        self.peak = self.peak.max(self.len());
        id
    }

    /// The state of an unresolved message; `None` once it is resolved and recycled.
    pub fn get(&self, id: u32) -> Option<&MsgState> {
        match id.checked_sub(self.base) {
            Some(i) => self.slots.get(i as usize).filter(|m| !m.resolved),
            None => self.straggler(id),
        }
    }

    pub fn get_mut(&mut self, id: u32) -> Option<&mut MsgState> {
        match id.checked_sub(self.base) {
            Some(i) => self.slots.get_mut(i as usize).filter(|m| !m.resolved),
            None => self.straggler_mut(id),
        }
    }

    /// Marks a message resolved and drops the resolved slots at the front of the window.
    /// Returns its last state, or `None` if it was resolved already.
    pub fn resolve(&mut self, id: u32) -> Option<MsgState> {
        let Some(i) = id.checked_sub(self.base) else {
            return self.resolve_straggler(id);
        };
        let m = self.slots.get_mut(i as usize).filter(|m| !m.resolved)?;
        m.resolved = true;
        let last = *m;
        while self.slots.front().is_some_and(|m| m.resolved) {
            self.slots.pop_front();
            self.base += 1;
        }
        Some(last)
    }

    /// Where an unresolved straggler is in the list.
    fn straggler_index(&self, id: u32) -> Option<usize> {
        if self.live_stragglers == 0 {
            return None;
        }
        let i = self.stragglers.binary_search_by_key(&id, |s| s.0).ok()?;
        (!self.stragglers[i].1.resolved).then_some(i)
    }

    /// Off the hot path, so that the window's look-ups stay small enough to inline well.
    #[cold]
    #[inline(never)]
    fn straggler(&self, id: u32) -> Option<&MsgState> {
        self.straggler_index(id).map(|i| &self.stragglers[i].1)
    }

    #[cold]
    #[inline(never)]
    fn straggler_mut(&mut self, id: u32) -> Option<&mut MsgState> {
        self.straggler_index(id).map(|i| &mut self.stragglers[i].1)
    }

    #[cold]
    #[inline(never)]
    fn resolve_straggler(&mut self, id: u32) -> Option<MsgState> {
        let i = self.straggler_index(id)?;
        let m = &mut self.stragglers[i].1;
        m.resolved = true;
        let last = *m;
        self.live_stragglers -= 1;
        if self.live_stragglers * 2 < self.stragglers.len() {
            self.stragglers.retain(|s| !s.1.resolved);
        }
        Some(last)
    }

    /// Moves the unresolved messages at the front of the window to the stragglers while the
    /// window is more than twice its unresolved messages plus the slack.
    #[cold]
    #[inline(never)]
    fn shed_stragglers(&mut self) {
        let mut live = self.slots.iter().filter(|m| !m.resolved).count();
        while self.slots.len() > 2 * live + WINDOW_SLACK {
            let front = self
                .slots
                .pop_front()
                .expect("a longer window than the slack");
            if !front.resolved {
                live -= 1;
                self.live_stragglers += 1;
                self.stragglers.push((self.base, front));
            }
            self.base += 1;
        }
        self.shed_at = self.slots.len() + (self.slots.len() / 2).max(WINDOW_SLACK);
    }

    /// IDs of messages that are not resolved yet, in order.
    pub fn unresolved(&self) -> impl Iterator<Item = u32> + '_ {
        let window = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.resolved)
            .map(|(i, _)| self.base + i as u32);
        self.stragglers
            .iter()
            .filter(|s| !s.1.resolved)
            .map(|s| s.0)
            .chain(window)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    #[derive(Clone, Debug)]
    enum Op {
        Push,
        /// Resolves the message this far back from the newest (wrapping over all produced).
        Resolve(u32),
        Touch(u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Push),
            3 => any::<u32>().prop_map(Op::Resolve),
            1 => any::<u32>().prop_map(Op::Touch),
        ]
    }

    /// The bound `MsgTable` keeps to, given the most messages unresolved at once so far: the
    /// window is shed to at most twice its unresolved messages plus the slack, and is next
    /// checked once it has grown by half (at least by the slack); the stragglers are
    /// unresolved messages, and as many tombstones at most.
    fn most_slots(peak_unresolved: usize) -> usize {
        5 * peak_unresolved + 3 * WINDOW_SLACK + 2
    }

    /// One message retrying for a long time while thousands of later ones come and go.
    #[test]
    fn a_straggler_does_not_hold_the_slots_behind_it() {
        let mut table = MsgTable::default();
        let straggler = table.push(MsgState::default());
        for _ in 0..10_000 {
            let id = table.push(MsgState::default());
            table.resolve(id);
            assert!(table.len() <= most_slots(2), "{} slots", table.len());
        }
        table.get_mut(straggler).expect("still in flight").refs = 7;
        assert_eq!(table.get(straggler).map(|m| m.refs), Some(7));
        assert!(table.unresolved().eq([straggler]));
        assert!(table.resolve(straggler).is_some());
        assert!(table.resolve(straggler).is_none(), "resolved once");
        assert_eq!((table.len(), table.unresolved().count()), (0, 0));
    }

    proptest! {
        /// The table behaves as a map from ID to state that forgets resolved messages, and
        /// holds slots in a constant proportion to the most messages unresolved at once.
        #[test]
        fn acts_as_a_map_of_unresolved_messages_in_bounded_slots(
            ops in prop::collection::vec(op(), 1..6_000),
        ) {
            let mut table = MsgTable::default();
            let mut model: BTreeMap<u32, MsgState> = BTreeMap::new();
            let mut produced = 0u32;
            let mut peak_unresolved = 0;
            for op in ops {
                match op {
                    Op::Push => {
                        let state = MsgState { created_at: produced as Micros, ..MsgState::default() };
                        prop_assert_eq!(table.push(state), produced);
                        model.insert(produced, state);
                        produced += 1;
                    }
                    Op::Resolve(back) if produced > 0 => {
                        let id = produced - 1 - back % produced;
                        let got = table.resolve(id).map(|m| m.created_at);
                        prop_assert_eq!(got, model.remove(&id).map(|m| m.created_at));
                    }
                    Op::Touch(back) if produced > 0 => {
                        let id = produced - 1 - back % produced;
                        if let Some(m) = table.get_mut(id) {
                            m.refs += 1;
                        }
                        if let Some(m) = model.get_mut(&id) {
                            m.refs += 1;
                        }
                    }
                    _ => {}
                }
                peak_unresolved = peak_unresolved.max(model.len());
                prop_assert!(table.len() <= most_slots(peak_unresolved));
            }
            for id in 0..produced {
                prop_assert_eq!(
                    table.get(id).map(|m| (m.created_at, m.refs)),
                    model.get(&id).map(|m| (m.created_at, m.refs)),
                    "message {}", id
                );
            }
            prop_assert!(table.unresolved().eq(model.keys().copied()));
        }
    }
}

/// The producer's identity and numbering of one record, as its batch header carries them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batch {
    pub producer_id: u32,
    pub epoch: u32,
    pub seq: u32,
    /// The first record's message of the producer batch this record travels in: the
    /// network decides a request's fate once, so every record of one batch is lost, delayed
    /// or duplicated together (keyed on it).
    pub lead: u32,
}
