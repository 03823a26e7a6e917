//! The event queue. Events are ordered by `(time, scheduling order)`, so two events at the
//! same instant run in the order they were scheduled, on every platform.
//!
//! Time is an integer number of microseconds and almost every event is scheduled less than a
//! few hundred milliseconds ahead, so the queue is a timing wheel: one slot per microsecond
//! over a window of `span` microseconds starting at the time of the last popped event, each
//! slot a FIFO list (a slot holds a single instant, and events reach it in scheduling order),
//! with a three-level bitmap to find the next occupied slot in a few word scans. Scheduling
//! and popping are O(1), where the binary heap this replaced paid a sift of 40-byte entries.
//! Events beyond the window (long timeouts, backoffs) go to an overflow heap keyed by
//! `(time, sequence)`.
//!
//! Ties between the two: an overflow event was scheduled when its time lay at least `span`
//! ahead, a wheel event with the same time when it lay less than `span` ahead; the window only
//! moves forward, so the overflow event was scheduled strictly earlier and runs first. Hence
//! the order is exactly the one a single heap over `(time, sequence)` gives.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::engine::Event;
use crate::time::Micros;

/// The smallest and largest wheel, in slots (microseconds). The largest is what three levels
/// of 64-bit words can index.
const MIN_SPAN_BITS: u32 = 12;
const MAX_SPAN_BITS: u32 = 18;

/// "No node": node 0 is a never-used sentinel, so a zeroed slot array means an empty wheel.
const NIL: u32 = 0;

/// Ordering by `(time, sequence)`; field order makes the derived `Ord` do exactly that.
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

struct Node {
    event: Event,
    /// The next node of the slot's circular list.
    next: u32,
}

/// Which slots are occupied: bit `s` of level 0, bit `s / 64` of level 1, bit `s / 4096` of
/// level 2.
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
        self.l0[w] |= 1 << (slot & 63);
        self.l1[w >> 6] |= 1 << (w & 63);
        self.l2 |= 1 << (w >> 6);
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

    /// The first occupied slot at or after `from`.
    fn next_from(&self, from: usize) -> Option<usize> {
        let w = from >> 6;
        let here = self.l0[w] & (!0 << (from & 63));
        if here != 0 {
            return Some(w << 6 | here.trailing_zeros() as usize);
        }
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

pub struct EventQueue {
    /// Per slot, the last node of its circular FIFO list, or `NIL`.
    tails: Vec<u32>,
    nodes: Vec<Node>,
    free: Vec<u32>,
    occupied: Occupancy,
    mask: u64,
    span: Micros,
    /// The start of the window: every wheel event lies in `[base, base + span)`.
    base: Micros,
    in_wheel: usize,
    overflow: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
}

enum Source {
    Wheel(usize),
    Overflow,
}

impl EventQueue {
    /// A queue whose wheel covers at least `reach` microseconds ahead (within fixed bounds);
    /// events further ahead still work, through the overflow heap.
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
            free: Vec::new(),
            occupied: Occupancy::new(slots),
            mask: slots as u64 - 1,
            span: slots as Micros,
            base: 0,
            in_wheel: 0,
            overflow: BinaryHeap::new(),
            seq: 0,
        }
    }

    pub fn schedule(&mut self, at: Micros, event: Event) {
        debug_assert!(at >= self.base, "event scheduled in the past");
        let at = at.max(self.base);
        if at - self.base >= self.span {
            self.seq += 1;
            let key = Key { at, seq: self.seq };
            self.overflow.push(Reverse(Scheduled { key, event }));
            return;
        }
        // Wheel events need no sequence number: FIFO order within a slot is scheduling order.
        let slot = (at & self.mask) as usize;
        let node = match self.free.pop() {
            Some(n) => {
                self.nodes[n as usize].event = event;
                n
            }
            None => {
                self.nodes.push(Node { event, next: NIL });
                (self.nodes.len() - 1) as u32
            }
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

    fn next_source(&self) -> Option<(Micros, Source)> {
        let wheel = if self.in_wheel > 0 {
            let start = (self.base & self.mask) as usize;
            let slot = self
                .occupied
                .next_from(start)
                .or_else(|| self.occupied.next_from(0))
                .expect("a non-empty wheel has an occupied slot");
            let ahead = (slot as u64).wrapping_sub(start as u64) & self.mask;
            Some((self.base + ahead, slot))
        } else {
            None
        };
        let overflow = self.overflow.peek().map(|Reverse(s)| s.key.at);
        match (wheel, overflow) {
            // On equal times the overflow event was scheduled first (see the module comment).
            (Some((t, _)), Some(o)) if o <= t => Some((o, Source::Overflow)),
            (Some((t, slot)), _) => Some((t, Source::Wheel(slot))),
            (None, Some(o)) => Some((o, Source::Overflow)),
            (None, None) => None,
        }
    }

    /// The time of the next event, if any.
    pub fn peek_time(&self) -> Option<Micros> {
        self.next_source().map(|(at, _)| at)
    }

    /// Removes and returns the next event, unless it lies beyond `until`.
    pub fn pop_until(&mut self, until: Micros) -> Option<(Micros, Event)> {
        let (at, source) = self.next_source()?;
        if at > until {
            return None;
        }
        let event = match source {
            Source::Overflow => self.overflow.pop().expect("peeked").0.event,
            Source::Wheel(slot) => {
                let tail = self.tails[slot];
                let head = self.nodes[tail as usize].next;
                if head == tail {
                    self.tails[slot] = NIL;
                    self.occupied.clear(slot);
                } else {
                    self.nodes[tail as usize].next = self.nodes[head as usize].next;
                }
                self.free.push(head);
                self.in_wheel -= 1;
                self.nodes[head as usize].event
            }
        };
        self.base = at;
        Some((at, event))
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
                let ahead = match next() % 4 {
                    0 => 0,
                    1 => next() % 50,
                    2 => next() % span,
                    _ => span - 2 + next() % (3 * span),
                };
                queue.schedule(now + ahead, Event::Produce { msg: id });
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
