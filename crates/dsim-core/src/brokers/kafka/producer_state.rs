//! The idempotent producer, broker side: Kafka's producer state (`ProducerStateManager`,
//! `ProducerStateEntry`, `ProducerAppendInfo`), modelled on what that code does.
//!
//! Per producer ID and partition the leader keeps the epoch, the last sequence number it
//! appended and the sequence numbers of the last five batches (`NUM_BATCHES_TO_RETAIN`). A
//! Kafka batch holds many records (up to `batch.size` bytes); here each record is checked on
//! its own, and the leader retains the records of five full batches of `RECORDS_PER_BATCH`.
//! A write is checked in Kafka's order:
//! - an epoch older than the one the transaction coordinator gave the transactional ID's
//!   newest instance is fenced (`ProducerFencedException`);
//! - an epoch older than the partition's is refused (`InvalidProducerEpochException`);
//! - a sequence the partition retains is a retry: not appended again, acked
//!   (`findDuplicateBatch`; Kafka answers with the original offset);
//! - otherwise the sequence must be the last plus one, or 0 for a new producer ID or epoch
//!   (`checkSequence`), or the write is refused as out of order
//!   (`OutOfOrderSequenceException`; the producer retries it later).
//!
//! A retry older than the five retained batches is not recognised as a duplicate: it is not
//! the last plus one either, so it is refused as out of order, however often it is retried,
//! and the producer finally reports a failure for a record that is in the log (Kafka's
//! client retries an out-of-order batch that is not the next one until
//! `delivery.timeout.ms`). It is never appended twice.
//!
//! Memory is per producer ID and partition, never per message: the broker forgets a producer
//! ID when its producer has restarted twice since (`forget`), where Kafka expires it after
//! `producer.id.expiration.ms` (a day, longer than any run here).

use std::collections::{BTreeMap, BTreeSet};

/// Kafka's `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`.
pub const NUM_BATCHES_TO_RETAIN: usize = 5;

/// Records in one producer batch: a payment record is about 100 bytes, and Kafka's default
/// `batch.size` is 16 KB, so a full batch holds more; 16 keeps the state small and is
/// enough that a producer's window of five batches does not throttle the default load while
/// one record waits for its retry.
pub const RECORDS_PER_BATCH: usize = 16;

/// The records whose sequence numbers a partition retains per producer: five full batches.
pub const RETAINED_RECORDS: usize = NUM_BATCHES_TO_RETAIN * RECORDS_PER_BATCH;

/// The epoch a write carries: the instance's epoch (bumped by `InitProducerId` when a
/// transactional ID comes back) in the high half, and in the low half the bumps of one
/// partition after a record given up left a gap in its sequence (KIP-360's epoch bump,
/// applied per partition here: Kafka checks epochs in each partition's own producer state).
pub fn wire_epoch(instance_epoch: u16, partition_bump: u16) -> u32 {
    ((instance_epoch as u32) << 16) | partition_bump as u32
}

/// The instance's epoch of a write's epoch (see `wire_epoch`).
pub fn instance_epoch(wire: u32) -> u16 {
    (wire >> 16) as u16
}

pub use crate::engine::messages::Batch;

/// What the partition leader does with a write of an idempotent producer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// In sequence: append it, then call `appended`.
    Append,
    /// One of the last five batches again: a retry, not appended; the original record.
    Duplicate { entry: u32, generation: u32 },
    /// Not the next sequence (`OutOfOrderSequenceException`): the one expected.
    OutOfOrder { expected: u32 },
    /// An epoch older than the partition's (`InvalidProducerEpochException`).
    StaleEpoch,
    /// A newer instance holds the transactional ID (`ProducerFencedException`).
    Fenced,
}

/// The last sequence appended in the current epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Last {
    /// Nothing yet in this epoch: the next write must be sequence 0.
    Nothing,
    Seq(u32),
}

#[derive(Clone, Copy, Debug, Default)]
struct Retained {
    seq: u32,
    entry: u32,
    generation: u32,
}

/// One producer ID's state in one partition (Kafka's `ProducerStateEntry`).
#[derive(Clone, Debug)]
struct SeqState {
    epoch: u32,
    last: Last,
    /// The records of the last batches appended, in a ring from `start`, oldest first; `len`
    /// of them are set. Their sequence numbers run without a gap up to `last` (only the next
    /// sequence is appended), so a retry is found by its distance from `last`.
    retained: [Retained; RETAINED_RECORDS],
    start: u8,
    len: u8,
}

const _: () = assert!(RETAINED_RECORDS <= u8::MAX as usize);

impl SeqState {
    fn new(epoch: u32) -> SeqState {
        SeqState {
            epoch,
            last: Last::Nothing,
            retained: [Retained::default(); RETAINED_RECORDS],
            start: 0,
            len: 0,
        }
    }

    /// The `i`-th oldest retained record.
    fn nth(&self, i: usize) -> &Retained {
        &self.retained[(self.start as usize + i) % RETAINED_RECORDS]
    }

    fn retained(&self) -> impl Iterator<Item = &Retained> {
        (0..self.len as usize).map(|i| self.nth(i))
    }

    /// The retained record with sequence `seq`, if any.
    fn find(&self, seq: u32) -> Option<&Retained> {
        let Last::Seq(last) = self.last else {
            return None;
        };
        let back = last.checked_sub(seq)? as usize;
        let len = self.len as usize;
        (back < len).then(|| self.nth(len - 1 - back))
    }

    fn retain(&mut self, r: Retained) {
        if self.len as usize == RETAINED_RECORDS {
            self.retained[self.start as usize] = r;
            self.start = ((self.start as usize + 1) % RETAINED_RECORDS) as u8;
        } else {
            let i = (self.start as usize + self.len as usize) % RETAINED_RECORDS;
            self.retained[i] = r;
            self.len += 1;
        }
    }
}

/// Every partition leader's producer state, and the transaction coordinator's epochs.
#[derive(Clone, Debug, Default)]
pub struct ProducerStates {
    /// Per partition, each producer ID's state, in the order the partition first saw them:
    /// a handful per partition (two per producer at most, see `forget`), so a scan beats a
    /// map on the append path.
    states: Vec<Vec<(u32, SeqState)>>,
    /// Per transactional producer ID, the newest instance's epoch (`InitProducerId`).
    coordinator_epochs: BTreeMap<u32, u16>,
    next_producer_id: u32,
}

impl ProducerStates {
    fn get(&self, producer_id: u32, partition: u16) -> Option<&SeqState> {
        self.states
            .get(partition as usize)?
            .iter()
            .find(|(id, _)| *id == producer_id)
            .map(|(_, s)| s)
    }

    /// The state of `producer_id` in `partition`, created at `epoch` if there is none.
    fn get_or_insert(&mut self, producer_id: u32, partition: u16, epoch: u32) -> &mut SeqState {
        let p = partition as usize;
        if self.states.len() <= p {
            self.states.resize_with(p + 1, Vec::new);
        }
        let states = &mut self.states[p];
        let i = match states.iter().position(|(id, _)| *id == producer_id) {
            Some(i) => i,
            None => {
                states.push((producer_id, SeqState::new(epoch)));
                states.len() - 1
            }
        };
        &mut states[i].1
    }

    /// `InitProducerId` without a transactional ID: always a new producer ID, epoch 0.
    pub fn new_producer_id(&mut self) -> u32 {
        let id = self.next_producer_id;
        self.next_producer_id += 1;
        id
    }

    /// `InitProducerId` with a transactional ID: the coordinator bumps the epoch, and from now
    /// on fences every write of an older one.
    pub fn fence_older_epochs(&mut self, producer_id: u32, epoch: u16) {
        self.coordinator_epochs.insert(producer_id, epoch);
    }

    pub fn check(&self, batch: Batch, partition: u16) -> Check {
        if let Some(&newest) = self.coordinator_epochs.get(&batch.producer_id)
            && instance_epoch(batch.epoch) < newest
        {
            return Check::Fenced;
        }
        let Some(state) = self.get(batch.producer_id, partition) else {
            // A producer ID new to this partition starts at sequence 0.
            return in_sequence(Last::Nothing, batch.seq);
        };
        if batch.epoch < state.epoch {
            return Check::StaleEpoch;
        }
        if batch.epoch > state.epoch {
            // A new epoch starts at sequence 0.
            return in_sequence(Last::Nothing, batch.seq);
        }
        if let Some(r) = state.find(batch.seq) {
            return Check::Duplicate {
                entry: r.entry,
                generation: r.generation,
            };
        }
        in_sequence(state.last, batch.seq)
    }

    /// Records an append that `check` allowed.
    pub fn appended(&mut self, batch: Batch, partition: u16, entry: u32, generation: u32) {
        let state = self.get_or_insert(batch.producer_id, partition, batch.epoch);
        if batch.epoch != state.epoch {
            // Kafka's `maybeUpdateProducerEpoch`: a new epoch clears the retained batches.
            *state = SeqState::new(batch.epoch);
        }
        state.last = Last::Seq(batch.seq);
        state.retain(Retained {
            seq: batch.seq,
            entry,
            generation,
        });
    }

    /// A producer bumps its epoch on one partition to close a gap a given-up record left
    /// (KIP-360). Registered with the partition at once, as if every request of the old epoch
    /// had completed (Kafka's client waits for them): from now on they are refused as stale.
    pub fn bump_epoch(&mut self, producer_id: u32, partition: u16, epoch: u32) {
        *self.get_or_insert(producer_id, partition, epoch) = SeqState::new(epoch);
    }

    /// Whether the partition has appended `seq` of this epoch, or moved on to a later epoch
    /// (so that nothing of this one can land any more).
    pub fn landed_or_moved_on(
        &self,
        producer_id: u32,
        partition: u16,
        epoch: u32,
        seq: u32,
    ) -> bool {
        match self.get(producer_id, partition) {
            None => false,
            Some(s) if s.epoch > epoch => true,
            Some(s) if s.epoch < epoch => false,
            Some(s) => matches!(s.last, Last::Seq(last) if last >= seq),
        }
    }

    /// The broker forgets a producer ID (see the module's note on memory).
    pub fn forget(&mut self, producer_id: u32) {
        for states in &mut self.states {
            states.retain(|(id, _)| *id != producer_id);
        }
    }

    /// A leader crash truncated these records `(entry, generation)`: the new leader's state,
    /// rebuilt from its own log (Kafka rebuilds it from the log's batches), does not have
    /// their sequences. Truncated records are the newest appends of each producer and
    /// partition, so its last sequence goes back to the one before the earliest truncated.
    pub fn truncate(&mut self, truncated: &BTreeSet<(u32, u32)>) {
        for state in self.states.iter_mut().flatten().map(|(_, s)| s) {
            let earliest = state
                .retained()
                .filter(|r| truncated.contains(&(r.entry, r.generation)))
                .map(|r| r.seq)
                .min();
            let Some(earliest) = earliest else {
                continue;
            };
            let kept = state.retained().filter(|r| r.seq < earliest).count();
            state.len = kept as u8;
            state.last = match earliest.checked_sub(1) {
                Some(before) => Last::Seq(before),
                None => Last::Nothing,
            };
        }
    }

    /// Producer IDs and partitions the broker holds state for.
    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.states.iter().map(Vec::len).sum()
    }
}

fn in_sequence(last: Last, seq: u32) -> Check {
    let expected = match last {
        Last::Nothing => 0,
        Last::Seq(last) => last.wrapping_add(1),
    };
    if seq == expected {
        Check::Append
    } else {
        Check::OutOfOrder { expected }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(seq: u32) -> Batch {
        Batch {
            producer_id: 7,
            epoch: 0,
            seq,
            lead: seq,
        }
    }

    fn append(s: &mut ProducerStates, seq: u32) {
        assert_eq!(s.check(batch(seq), 0), Check::Append, "seq {seq}");
        s.appended(batch(seq), 0, seq, 0);
    }

    #[test]
    fn a_retry_of_the_last_five_batches_is_a_duplicate_an_older_one_is_out_of_order() {
        let mut s = ProducerStates::default();
        assert_eq!(s.check(batch(1), 0), Check::OutOfOrder { expected: 0 });
        let n = RETAINED_RECORDS as u32 + 2;
        for seq in 0..n {
            append(&mut s, seq);
        }
        for seq in 2..n {
            assert_eq!(
                s.check(batch(seq), 0),
                Check::Duplicate {
                    entry: seq,
                    generation: 0
                }
            );
        }
        // Sequence 1 is no longer retained: not recognised, and not the next one either.
        assert_eq!(s.check(batch(1), 0), Check::OutOfOrder { expected: n });
        assert_eq!(s.check(batch(n + 1), 0), Check::OutOfOrder { expected: n });
        // Another partition knows nothing of this producer.
        assert_eq!(s.check(batch(n), 1), Check::OutOfOrder { expected: 0 });
    }

    #[test]
    fn epochs_fence_and_restart_sequences() {
        let mut s = ProducerStates::default();
        append(&mut s, 0);
        let newer = Batch {
            epoch: wire_epoch(1, 0),
            ..batch(3)
        };
        assert_eq!(s.check(newer, 0), Check::OutOfOrder { expected: 0 });
        s.appended(Batch { seq: 0, ..newer }, 0, 9, 0);
        assert_eq!(s.check(batch(1), 0), Check::StaleEpoch);
        s.fence_older_epochs(7, 2);
        assert_eq!(s.check(Batch { seq: 1, ..newer }, 0), Check::Fenced);
    }

    #[test]
    fn truncation_rolls_the_last_sequence_back() {
        let mut s = ProducerStates::default();
        for seq in 0..4 {
            append(&mut s, seq);
        }
        s.truncate(&BTreeSet::from([(2, 0), (3, 0)]));
        assert_eq!(s.check(batch(2), 0), Check::Append);
        assert_eq!(
            s.check(batch(1), 0),
            Check::Duplicate {
                entry: 1,
                generation: 0
            }
        );
        s.truncate(&BTreeSet::from([(0, 0), (1, 0)]));
        assert_eq!(s.check(batch(0), 0), Check::Append);
    }
}
