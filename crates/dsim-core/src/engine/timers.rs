//! Timeouts that almost never fire. Every publish arms an ack timeout, and nearly all of them
//! are made moot by the ack that arrives a few milliseconds later. As queue events they were a quarter of all events, each popped only to
//! be found stale.
//!
//! Each kind of timeout has one constant delay, so its timers fall due in the order they
//! were armed: a FIFO list. The list keeps a single wake-up event in the queue, for its
//! oldest timer that is still live; when the wake-up runs it fires what is due, drops the
//! stale timers from the front (a timer that went stale stays stale: acks, newer attempts
//! and new generations only move forward), and re-arms for the next live one. A timer fires at
//! exactly the time it would have as an event of its own.

use std::collections::VecDeque;

use crate::time::Micros;

/// Which list a wake-up event belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    /// A producer's ack timeout, `(msg, attempt)`, of one backoff step (`engine::backoff_step`).
    PublishAck(u8),
    /// SQS visibility timeouts, `(queue position, receive)`: one constant for the queue.
    Visibility,
}

#[derive(Clone)]
pub struct TimerList<T> {
    due: VecDeque<(Micros, T)>,
    /// Whether a wake-up event for this list is in the queue (or running).
    armed: bool,
}

impl<T> Default for TimerList<T> {
    fn default() -> Self {
        TimerList {
            due: VecDeque::new(),
            armed: false,
        }
    }
}

impl<T: Copy> TimerList<T> {
    /// Timers armed and not yet fired or dropped (some may be stale).
    pub fn len(&self) -> usize {
        self.due.len()
    }

    /// Arms a timer for `at`, which must not be before any timer already in the list. Returns
    /// the time to schedule a wake-up for, if the list has none yet.
    pub fn add(&mut self, at: Micros, timer: T) -> Option<Micros> {
        debug_assert!(self.due.back().is_none_or(|&(last, _)| last <= at));
        self.due.push_back((at, timer));
        if self.armed {
            None
        } else {
            self.armed = true;
            Some(at)
        }
    }

    /// The next timer due at or before `now`, removed. The list stays armed while the wake-up
    /// runs, so timers added meanwhile do not schedule a second one.
    pub fn pop_due(&mut self, now: Micros) -> Option<T> {
        match self.due.front() {
            Some(&(at, timer)) if at <= now => {
                self.due.pop_front();
                Some(timer)
            }
            _ => None,
        }
    }

    /// Ends a wake-up: drops stale timers from the front and returns the time to schedule the
    /// next wake-up for, if a live timer remains.
    pub fn rearm(&mut self, live: impl Fn(T) -> bool) -> Option<Micros> {
        while let Some(&(_, timer)) = self.due.front() {
            if live(timer) {
                break;
            }
            self.due.pop_front();
        }
        let next = self.due.front().map(|&(at, _)| at);
        self.armed = next.is_some();
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_wake_up_for_many_timers_and_stale_ones_are_skipped() {
        let mut list = TimerList::default();
        assert_eq!(list.add(10, 1), Some(10));
        assert_eq!(list.add(12, 2), None);
        assert_eq!(list.add(15, 3), None);
        // At 10 the first is due; timer 2 went stale meanwhile.
        assert_eq!(list.pop_due(10), Some(1));
        assert_eq!(list.pop_due(10), None);
        assert_eq!(list.add(20, 4), None, "still armed while the wake-up runs");
        assert_eq!(list.rearm(|t| t != 2), Some(15));
        assert_eq!(list.pop_due(15), Some(3));
        assert_eq!(list.rearm(|_| false), None);
        assert_eq!(list.pop_due(u64::MAX), None);
        assert_eq!(list.add(30, 5), Some(30), "an idle list arms again");
    }
}
