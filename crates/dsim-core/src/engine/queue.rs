//! The event queue. Events are ordered by `(time, scheduling order)`, so two events at the
//! same instant run in the order they were scheduled, on every platform.
//!
//! Time is an integer number of microseconds and most events are network hops, processing
//! or replication scheduled a millisecond or so ahead. Those go into a timing wheel: one slot
//! per microsecond over a small window starting at the time of the last popped event, each
//! slot a FIFO list (a slot holds a single instant, and events reach it in scheduling order),
//! with a three-level bitmap to find the next occupied slot in a few word scans. The window is
//! kept small so it stays in the CPU cache.
//!
//! Events further ahead are "far": long constant delays (replication, processing) go to
//! FIFO lanes, one per kind, which stay sorted for free; anything else goes to an overflow
//! heap keyed by `(time, sequence)`. Whenever the window moves, far events that now fall
//! inside it are moved into the wheel in key order, before any event at the new time is
//! handled. A far event was scheduled when its time lay beyond the window, so before any wheel
//! event for the same instant: moving it first keeps each slot in scheduling order. Hence the
//! order is exactly the one a single heap over `(time, sequence)` would give.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::engine::Event;
use crate::time::Micros;

/// The smallest and largest wheel, in slots (microseconds). The largest is what three levels
/// of 64-bit words can index.
const MIN_SPAN_BITS: u32 = 10;
const MAX_SPAN_BITS: u32 = 16;

/// "No node": node 0 is a never-used sentinel, so a zeroed slot array means an empty wheel.
const NIL: u32 = 0;

/// Ordering by `(time, sequence)`; field order makes the derived `Ord` do exactly that.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    at: Micros,
    seq: u64,
}

#[derive(Clone)]
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

#[derive(Clone)]
struct Node {
    event: Event,
    /// The next node of the slot's circular list.
    next: u32,
}

/// Which slots are occupied: bit `s` of level 0, bit `s / 64` of level 1, bit `s / 4096` of
/// level 2.
#[derive(Clone)]
struct Occupancy {
    l0: Vec<u64>,
    l1: Vec<u64>,
    l2: u64,
}

impl Occupancy {
    fn new(slots: usize) -> Occupancy {
        Occupancy {
            l0: vec![0; slots.div_ceil(64)],
            l1: vec![0; slots.div_ceil(64 * 64)],
            l2: 0,
        }
    }

    fn set(&mut self, slot: usize) {
        let w = slot >> 6;
        let word = self.l0[w];
        self.l0[w] = word | 1 << (slot & 63);
        // A word already occupied is already marked in the levels above.
        if word == 0 {
            self.l1[w >> 6] |= 1 << (w & 63);
            self.l2 |= 1 << (w >> 6);
        }
    }

    fn clear(&mut self, slot: usize) {
        let w = slot >> 6;
        self.l0[w] &= !(1 << (slot & 63));
        if self.l0[w] == 0 {
            self.l1[w >> 6] &= !(1 << (w & 63));
            if self.l1[w >> 6] == 0 {
                self.l2 &= !(1 << (w >> 6));
            }
        }
    }

    /// The first occupied slot at or after `from`. The common case, a slot in the same
    /// 64-slot word, is inlined; the rest of the search is not.
    #[inline(always)]
    fn next_from(&self, from: usize) -> Option<usize> {
        let w = from >> 6;
        let here = self.l0[w] & (!0 << (from & 63));
        if here != 0 {
            return Some(w << 6 | here.trailing_zeros() as usize);
        }
        self.next_after_word(w)
    }

    #[inline(never)]
    fn next_after_word(&self, w: usize) -> Option<usize> {
        let w1 = w >> 6;
        let after = (w & 63) + 1;
        let near = if after < 64 {
            self.l1[w1] & (!0 << after)
        } else {
            0
        };
        if near != 0 {
            return Some(self.first_in_word(w1 << 6 | near.trailing_zeros() as usize));
        }
        let after1 = w1 + 1;
        let far = if after1 < 64 {
            self.l2 & (!0 << after1)
        } else {
            0
        };
        if far != 0 {
            let i1 = far.trailing_zeros() as usize;
            let w0 = i1 << 6 | self.l1[i1].trailing_zeros() as usize;
            return Some(self.first_in_word(w0));
        }
        None
    }

    fn first_in_word(&self, w: usize) -> usize {
        w << 6 | self.l0[w].trailing_zeros() as usize
    }
}

/// A FIFO lane for events of one constant delay, too long for the wheel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    Replication = 0,
    Processing = 1,
    DedupSkip = 2,
    TxnWrite = 3,
    Produce = 4,
}

const LANES: usize = 5;

const EMPTY: Key = Key {
    at: Micros::MAX,
    seq: u64::MAX,
};

#[derive(Clone)]
pub struct EventQueue {
    /// Per slot, the last node of its circular FIFO list, or `NIL`.
    tails: Vec<u32>,
    nodes: Vec<Node>,
    /// The first free node; free nodes chain through `next` (no second vector to grow).
    free: u32,
    occupied: Occupancy,
    mask: u64,
    span: Micros,
    /// The start of the window: every wheel event lies in `[base, base + span)`, every far
    /// event (lanes, overflow heap) at or after `base + span`.
    base: Micros,
    in_wheel: usize,
    lanes: [VecDeque<Scheduled>; LANES],
    /// The key at the front of each lane, or `EMPTY`.
    heads: [Key; LANES],
    overflow: BinaryHeap<Reverse<Scheduled>>,
    /// No far event lies before this time (`Micros::MAX` when there are none).
    far_from: Micros,
    seq: u64,
}

impl EventQueue {
    /// A queue whose wheel covers at least `reach` microseconds ahead (within fixed bounds).
    /// The wheel should cover the short, jittered hops; it is kept small so that it stays in
    /// the CPU cache (a wheel spanning the long timeouts touched a cold line per event).
    pub fn new(reach: Micros) -> EventQueue {
        let bits = (reach.saturating_add(1).next_power_of_two().trailing_zeros())
            .clamp(MIN_SPAN_BITS, MAX_SPAN_BITS);
        let slots = 1usize << bits;
        EventQueue {
            tails: vec![NIL; slots],
            nodes: vec![Node {
                event: Event::BrokerRecover,
                next: NIL,
            }],
            free: NIL,
            occupied: Occupancy::new(slots),
            mask: slots as u64 - 1,
            span: slots as Micros,
            base: 0,
            in_wheel: 0,
            lanes: std::array::from_fn(|_| VecDeque::new()),
            heads: [EMPTY; LANES],
            overflow: BinaryHeap::new(),
            far_from: Micros::MAX,
            seq: 0,
        }
    }

    fn next_key(&mut self, at: Micros) -> Key {
        self.seq += 1;
        Key { at, seq: self.seq }
    }

    #[inline(always)]
    pub fn schedule(&mut self, at: Micros, event: Event) {
        debug_assert!(at >= self.base, "event scheduled in the past");
        let at = at.max(self.base);
        if at - self.base < self.span {
            self.push_wheel(at, event);
        } else {
            let key = self.next_key(at);
            self.overflow.push(Reverse(Scheduled { key, event }));
            self.far_from = self.far_from.min(at);
        }
    }

    /// Schedules an event of a constant-delay kind. Beyond the wheel it goes into the kind's
    /// FIFO lane, which costs O(1) instead of a heap operation; if `at` would break the lane's
    /// order (a caller's delay is not constant after all), it falls back to the heap.
    #[inline(always)]
    pub fn schedule_in_lane(&mut self, lane: Lane, at: Micros, event: Event) {
        debug_assert!(at >= self.base, "event scheduled in the past");
        let at = at.max(self.base);
        if at - self.base < self.span {
            return self.push_wheel(at, event);
        }
        let key = self.next_key(at);
        let i = lane as usize;
        let fifo = &mut self.lanes[i];
        match fifo.back() {
            Some(last) if last.key > key => self.overflow.push(Reverse(Scheduled { key, event })),
            _ => {
                if fifo.is_empty() {
                    self.heads[i] = key;
                }
                fifo.push_back(Scheduled { key, event });
            }
        }
        self.far_from = self.far_from.min(at);
    }

    /// Wheel events need no sequence number: FIFO order within a slot is scheduling order.
    #[inline(always)]
    fn push_wheel(&mut self, at: Micros, event: Event) {
        let slot = (at & self.mask) as usize;
        let node = if self.free != NIL {
            let n = self.free;
            let node = &mut self.nodes[n as usize];
            self.free = node.next;
            node.event = event;
            n
        } else {
            self.nodes.push(Node { event, next: NIL });
            (self.nodes.len() - 1) as u32
        };
        let tail = self.tails[slot];
        if tail == NIL {
            self.nodes[node as usize].next = node;
            self.occupied.set(slot);
        } else {
            self.nodes[node as usize].next = self.nodes[tail as usize].next;
            self.nodes[tail as usize].next = node;
        }
        self.tails[slot] = node;
        self.in_wheel += 1;
    }

    /// The far source holding the smallest key: `LANES` for the heap, or a lane index.
    fn far_min(&self) -> (Key, usize) {
        let mut best = (EMPTY, LANES);
        for (i, &head) in self.heads.iter().enumerate() {
            if head < best.0 {
                best = (head, i);
            }
        }
        if let Some(Reverse(top)) = self.overflow.peek()
            && top.key < best.0
        {
            best = (top.key, LANES);
        }
        best
    }

    /// Moves every far event that now lies inside the window into the wheel, in key order.
    /// It runs whenever the window moves, before any event at the new time is handled, so a
    /// moved event (scheduled long ago) lands in its slot ahead of any scheduled later.
    fn pull_into_wheel(&mut self) {
        let limit = self.base + self.span;
        loop {
            let (key, source) = self.far_min();
            if key.at >= limit {
                self.far_from = key.at;
                return;
            }
            let scheduled = if source == LANES {
                self.overflow.pop().expect("peeked").0
            } else {
                let lane = &mut self.lanes[source];
                let front = lane.pop_front().expect("a lane with a head");
                self.heads[source] = lane.front().map_or(EMPTY, |s| s.key);
                front
            };
            self.push_wheel(scheduled.key.at, scheduled.event);
        }
    }

    /// The occupied wheel slot that comes first from `base`, and its time.
    #[inline(always)]
    fn wheel_next(&self) -> Option<(Micros, usize)> {
        if self.in_wheel == 0 {
            return None;
        }
        let start = (self.base & self.mask) as usize;
        let slot = self
            .occupied
            .next_from(start)
            .or_else(|| self.occupied.next_from(0))
            .expect("a non-empty wheel has an occupied slot");
        let ahead = (slot as u64).wrapping_sub(start as u64) & self.mask;
        Some((self.base + ahead, slot))
    }

    /// Events waiting, stale ones included.
    pub fn len(&self) -> usize {
        self.in_wheel + self.lanes.iter().map(VecDeque::len).sum::<usize>() + self.overflow.len()
    }

    /// Every waiting event, in no particular order (the wheel slot by slot, then the lanes and
    /// the heap): for counting what is in flight, never for deciding anything.
    pub fn for_each_event(&self, mut f: impl FnMut(&Event)) {
        for &tail in &self.tails {
            if tail == NIL {
                continue;
            }
            let mut node = self.nodes[tail as usize].next;
            loop {
                f(&self.nodes[node as usize].event);
                if node == tail {
                    break;
                }
                node = self.nodes[node as usize].next;
            }
        }
        for lane in &self.lanes {
            lane.iter().for_each(|s| f(&s.event));
        }
        self.overflow.iter().for_each(|s| f(&s.0.event));
    }

    /// The time of the next event, if any. Far events all lie after every wheel event.
    // Inlined: in wasm, LLVM kept it a call on the hot path (docs/performance-notes.md, wasm inlining).
    #[inline]
    pub fn peek_time(&self) -> Option<Micros> {
        match self.wheel_next() {
            Some((at, _)) => Some(at),
            None => (self.far_from != Micros::MAX).then_some(self.far_from),
        }
    }

    /// Removes and returns the next event, unless it lies beyond `until`.
    #[inline(always)]
    pub fn pop_until(&mut self, until: Micros) -> Option<(Micros, Event)> {
        if self.in_wheel == 0 {
            // Jump the window to the next far event.
            if self.far_from == Micros::MAX || self.far_from > until {
                return None;
            }
            self.base = self.far_from;
            self.pull_into_wheel();
        }
        let (at, slot) = self.wheel_next()?;
        if at > until {
            return None;
        }
        let tail = self.tails[slot];
        let head = self.nodes[tail as usize].next;
        if head == tail {
            self.tails[slot] = NIL;
            self.occupied.clear(slot);
        } else {
            self.nodes[tail as usize].next = self.nodes[head as usize].next;
        }
        self.in_wheel -= 1;
        // Read before pulling far events in: they may reuse the node.
        let node = &mut self.nodes[head as usize];
        let event = node.event;
        node.next = self.free;
        self.free = head;
        self.base = at;
        if self.far_from < at + self.span {
            self.pull_into_wheel();
        }
        Some((at, event))
    }
}

impl Default for EventQueue {
    fn default() -> Self {
        Self::new(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(event: Event) -> u32 {
        match event {
            Event::Produce { msg } => msg,
            _ => unreachable!(),
        }
    }

    /// The wheel, its wrap-around and the overflow heap together pop in exactly the order of
    /// a sort by `(time, scheduling order)`, with events scheduled as earlier ones pop.
    #[test]
    fn pops_in_time_then_scheduling_order() {
        let mut queue = EventQueue::new(100);
        let span = queue.span;
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut expected: Vec<(Micros, u32)> = Vec::new();
        let mut popped = Vec::new();
        let mut now = 0;
        let mut id = 0;
        for round in 0..20_000u32 {
            for _ in 0..(next() % 3) {
                let event = Event::Produce { msg: id };
                let (ahead, lane) = match next() % 6 {
                    0 => (0, None),
                    1 => (next() % 50, None),
                    2 => (next() % span, None),
                    3 => (3 * span, Some(Lane::Replication)),
                    // Not constant: the lane must fall back to the heap when out of order.
                    4 => (span + next() % 7, Some(Lane::Processing)),
                    _ => (span - 2 + next() % (3 * span), None),
                };
                match lane {
                    Some(lane) => queue.schedule_in_lane(lane, now + ahead, event),
                    None => queue.schedule(now + ahead, event),
                }
                expected.push((now + ahead, id));
                id += 1;
            }
            if round % 3 != 0
                && let Some((at, event)) = queue.pop_until(Micros::MAX)
            {
                assert!(at >= now);
                now = at;
                popped.push((at, tag(event)));
            }
        }
        while let Some((at, event)) = queue.pop_until(Micros::MAX) {
            popped.push((at, tag(event)));
        }
        expected.sort();
        assert_eq!(popped, expected);
    }

    #[test]
    fn pop_until_leaves_later_events() {
        let mut queue = EventQueue::new(0);
        queue.schedule(10, Event::Produce { msg: 1 });
        queue.schedule(1 << 30, Event::Produce { msg: 2 });
        assert_eq!(queue.pop_until(5).map(|(t, _)| t), None);
        assert_eq!(queue.peek_time(), Some(10));
        assert_eq!(queue.pop_until(10).map(|(t, e)| (t, tag(e))), Some((10, 1)));
        assert_eq!(queue.peek_time(), Some(1 << 30));
        assert_eq!(queue.pop_until(u64::MAX).map(|(_, e)| tag(e)), Some(2));
        assert_eq!(queue.peek_time(), None);
    }
}
