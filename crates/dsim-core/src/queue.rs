//! The event queue. Events are ordered by `(time, sequence number)`, so two events at the same
//! instant run in the order they were scheduled, on every platform.
//!
//! Many events in the model are scheduled a constant duration ahead (first-attempt ack
//! timeouts, visibility timeouts, replication, processing, transaction writes), so each kind
//! arrives in non-decreasing time order. Those go into FIFO lanes, which cost O(1) instead of
//! a heap operation; everything else goes into a binary heap. Popping takes the smallest key
//! across the heap top and the lane fronts, so the order is exactly the order one heap would
//! give. The lanes' front keys are mirrored in a small array, so finding the minimum is a
//! scan of six integers pairs rather than of six deques.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::engine::Event;
use crate::time::Micros;

/// Ordering by `(time, sequence)`; field order makes the derived `Ord` do exactly that.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    at: Micros,
    seq: u64,
}

const EMPTY: Key = Key {
    at: Micros::MAX,
    seq: u64::MAX,
};

fn key_time(key: Key) -> Micros {
    key.at
}

struct Scheduled {
    key: Key,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// A FIFO lane for events of one constant delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    PublishTimeout = 0,
    Visibility = 1,
    Replication = 2,
    Processing = 3,
    DedupSkip = 4,
    TxnWrite = 5,
    Produce = 6,
}

const LANES: usize = 7;

pub struct EventQueue {
    heap: BinaryHeap<Reverse<Scheduled>>,
    lanes: [VecDeque<Scheduled>; LANES],
    /// The key at the front of each lane, or `EMPTY`.
    heads: [Key; LANES],
    seq: u64,
}

impl EventQueue {
    pub fn new() -> EventQueue {
        EventQueue {
            heap: BinaryHeap::new(),
            lanes: std::array::from_fn(|_| VecDeque::new()),
            heads: [EMPTY; LANES],
            seq: 0,
        }
    }

    fn next_key(&mut self, at: Micros) -> Key {
        self.seq += 1;
        Key { at, seq: self.seq }
    }

    pub fn schedule(&mut self, at: Micros, event: Event) {
        let key = self.next_key(at);
        self.heap.push(Reverse(Scheduled { key, event }));
    }

    /// Schedules into a FIFO lane. If `at` would break the lane's order (a caller's delay is
    /// not constant after all), it falls back to the heap, so order is always right.
    pub fn schedule_in_lane(&mut self, lane: Lane, at: Micros, event: Event) {
        let key = self.next_key(at);
        let i = lane as usize;
        let fifo = &mut self.lanes[i];
        match fifo.back() {
            Some(last) if last.key > key => self.heap.push(Reverse(Scheduled { key, event })),
            _ => {
                if fifo.is_empty() {
                    self.heads[i] = key;
                }
                fifo.push_back(Scheduled { key, event });
            }
        }
    }

    /// Which source holds the smallest key: `LANES` for the heap, or a lane index.
    fn min_source(&self) -> Option<(Key, usize)> {
        let mut best = (EMPTY, LANES);
        for (i, &head) in self.heads.iter().enumerate() {
            if head < best.0 {
                best = (head, i);
            }
        }
        if let Some(Reverse(top)) = self.heap.peek()
            && top.key < best.0
        {
            best = (top.key, LANES);
        }
        (best.0 != EMPTY).then_some(best)
    }

    /// The time of the next event, if any.
    pub fn peek_time(&self) -> Option<Micros> {
        self.min_source().map(|(key, _)| key_time(key))
    }

    /// Removes and returns the next event, unless it lies beyond `until`.
    pub fn pop_until(&mut self, until: Micros) -> Option<(Micros, Event)> {
        let (key, source) = self.min_source()?;
        if key_time(key) > until {
            return None;
        }
        let scheduled = if source == LANES {
            self.heap.pop().map(|Reverse(s)| s)
        } else {
            let lane = &mut self.lanes[source];
            let front = lane.pop_front();
            self.heads[source] = lane.front().map_or(EMPTY, |s| s.key);
            front
        };
        scheduled.map(|s| (key_time(s.key), s.event))
    }
}

impl Default for EventQueue {
    fn default() -> Self {
        Self::new()
    }
}
