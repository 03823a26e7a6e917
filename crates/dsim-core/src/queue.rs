//! The event queue. Events are ordered by `(time, sequence number)`, so two events at the same
//! instant run in the order they were scheduled, on every platform.
//!
//! Most timers in the model have a constant duration (ack timeouts on a first attempt,
//! visibility timeouts), so they are scheduled in non-decreasing time order. Those go into
//! FIFO lanes, which cost O(1) instead of a heap operation; everything else goes into the heap.
//! Popping takes the smallest `(time, seq)` across the heap and the lane fronts, so the order
//! is exactly the order one heap would give.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::engine::Event;
use crate::time::Micros;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    at: Micros,
    seq: u64,
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

/// A FIFO lane for timers of one constant duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    PublishTimeout = 0,
    Visibility = 1,
}

const LANES: usize = 2;

pub struct EventQueue {
    heap: BinaryHeap<Reverse<Scheduled>>,
    lanes: [VecDeque<Scheduled>; LANES],
    seq: u64,
}

impl EventQueue {
    pub fn new() -> EventQueue {
        EventQueue {
            heap: BinaryHeap::new(),
            lanes: [VecDeque::new(), VecDeque::new()],
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

    /// Schedules into a FIFO lane. If `at` would break the lane's order (a caller's timer is
    /// shorter than the one before it), it falls back to the heap, so order is always right.
    pub fn schedule_in_lane(&mut self, lane: Lane, at: Micros, event: Event) {
        let key = self.next_key(at);
        let fifo = &mut self.lanes[lane as usize];
        match fifo.back() {
            Some(last) if last.key.at > at => self.heap.push(Reverse(Scheduled { key, event })),
            _ => fifo.push_back(Scheduled { key, event }),
        }
    }

    /// The time of the next event, if any.
    pub fn peek_time(&self) -> Option<Micros> {
        self.min_source().map(|(key, _)| key.at)
    }

    fn min_source(&self) -> Option<(Key, usize)> {
        // Source 0 is the heap, 1.. are the lanes.
        let mut best: Option<(Key, usize)> = self.heap.peek().map(|Reverse(s)| (s.key, 0));
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some(front) = lane.front() {
                if best.is_none_or(|(k, _)| front.key < k) {
                    best = Some((front.key, i + 1));
                }
            }
        }
        best
    }

    pub fn pop(&mut self) -> Option<(Micros, Event)> {
        let (key, source) = self.min_source()?;
        let scheduled = if source == 0 {
            self.heap.pop().map(|Reverse(s)| s)
        } else {
            self.lanes[source - 1].pop_front()
        };
        scheduled.map(|s| (key.at, s.event))
    }
}

impl Default for EventQueue {
    fn default() -> Self {
        Self::new()
    }
}
