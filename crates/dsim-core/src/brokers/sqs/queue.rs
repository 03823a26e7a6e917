//! The queue's own state: visible messages in queue order, messages in flight (received, not
//! yet deleted, invisible until their visibility timeout) and, for a FIFO queue, which message
//! groups are locked by a message in flight. No simulation logic here, so the rules are
//! testable on their own.

use std::collections::BTreeMap;

use super::fifo::DedupWindow;

/// A message in the queue: its record in `Entries` (slot and generation).
pub(crate) type Held = (u32, u32);

/// A message SQS holds: its record and its message group (a FIFO queue's `MessageGroupId`,
/// one per account; unused by a standard queue).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stored {
    pub held: Held,
    pub group: u32,
}

/// A received message: invisible until the visibility timeout of its latest receive passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct InFlight {
    stored: Stored,
    /// Which receive of the message this is (its `ApproximateReceiveCount` then): a timer or
    /// receipt handle of an earlier receive is stale.
    receive: u32,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct SqsQueue {
    /// A FIFO queue: groups in order, one message group locked while it has one in flight.
    pub fifo: bool,
    /// Visible messages by queue position (the order the queue stored them). A message whose
    /// visibility timeout passed takes its position back: on a FIFO queue it is its group's
    /// head again, as SQS returns it before anything later of its group.
    visible: BTreeMap<u64, Stored>,
    in_flight: BTreeMap<u64, InFlight>,
    /// FIFO: messages in flight per group (`ApproximateNumberOfMessagesNotVisible` per group).
    locked: BTreeMap<u32, u32>,
    next_position: u64,
    /// Most messages visible, and most in flight, at once
    /// (`ApproximateNumberOfMessagesVisible` / `NotVisible`).
    pub peak_visible: u64,
    pub peak_in_flight: u64,
    /// FIFO: deduplication IDs sent in the last five minutes.
    pub dedup: DedupWindow,
    /// Messages handed out by receives, receives whose visibility timeout passed, messages
    /// redriven to the dead-letter queue, and deletes that missed a copy (`extra-copy`).
    pub receives: u64,
    pub expired: u64,
    pub dead_lettered: u64,
    pub extra_copies: u64,
    /// Kept between receives, so that answering one allocates nothing.
    pub scratch: Vec<(u64, Stored)>,
}

impl SqsQueue {
    pub fn new(fifo: bool) -> SqsQueue {
        SqsQueue {
            fifo,
            ..SqsQueue::default()
        }
    }

    /// The position the next stored message takes.
    pub fn next_position(&mut self) -> u64 {
        self.next_position += 1;
        self.next_position - 1
    }

    /// A message becomes visible at its position.
    pub fn make_visible(&mut self, position: u64, stored: Stored) {
        self.visible.insert(position, stored);
        self.peak_visible = self.peak_visible.max(self.visible.len() as u64);
    }

    pub fn visible(&self) -> usize {
        self.visible.len()
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The messages one `ReceiveMessage` may return, at most `max`, in queue order, taken out
    /// of the visible set. A FIFO queue skips every group with a message in flight: nothing
    /// later of a group is received until its in-flight message is deleted or visible again.
    /// Several messages of one unlocked group may come in one receive, in order. (SQS first
    /// fills a receive with as many messages of one group as it can; taking every unlocked
    /// group in queue order differs only in which groups share a batch.)
    pub fn take_batch(&mut self, max: usize, out: &mut Vec<(u64, Stored)>) {
        out.clear();
        if self.fifo && !self.locked.is_empty() {
            for (&position, &stored) in &self.visible {
                if out.len() == max {
                    break;
                }
                if !self.locked.contains_key(&stored.group) {
                    out.push((position, stored));
                }
            }
            for (position, _) in out.iter() {
                self.visible.remove(position);
            }
        } else {
            while out.len() < max {
                let Some(next) = self.visible.pop_first() else {
                    break;
                };
                out.push(next);
            }
        }
    }

    /// A taken message is in flight under its `receive`-th receive.
    pub fn receive(&mut self, position: u64, stored: Stored, receive: u32) {
        self.in_flight
            .insert(position, InFlight { stored, receive });
        if self.fifo {
            *self.locked.entry(stored.group).or_insert(0) += 1;
        }
        self.peak_in_flight = self.peak_in_flight.max(self.in_flight.len() as u64);
    }

    fn unlock(&mut self, group: u32) {
        if let Some(n) = self.locked.get_mut(&group) {
            *n -= 1;
            if *n == 0 {
                self.locked.remove(&group);
            }
        }
    }

    /// Whether the message's `receive`-th receive is the one in flight: its visibility timer
    /// still counts.
    pub fn is_in_flight(&self, position: u64, receive: u32) -> bool {
        self.in_flight
            .get(&position)
            .is_some_and(|f| f.receive == receive)
    }

    /// The visibility timeout of the `receive`-th receive passed: if the message is still in
    /// flight under it, it is visible again. Returns it if it was.
    pub fn expire(&mut self, position: u64, receive: u32) -> Option<Stored> {
        if !self.is_in_flight(position, receive) {
            return None;
        }
        let f = self.in_flight.remove(&position)?;
        if self.fifo {
            self.unlock(f.stored.group);
        }
        self.make_visible(position, f.stored);
        Some(f.stored)
    }

    /// `DeleteMessage`: the message leaves the queue whether it is visible or in flight under
    /// a later receive (SQS deletes a message even while another consumer holds it
    /// invisible). Returns whether it was still there.
    pub fn delete(&mut self, position: u64) -> bool {
        if let Some(f) = self.in_flight.remove(&position) {
            if self.fifo {
                self.unlock(f.stored.group);
            }
            return true;
        }
        self.visible.remove(&position).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(fifo: bool, groups: &[u32]) -> SqsQueue {
        let mut q = SqsQueue::new(fifo);
        for (m, &group) in groups.iter().enumerate() {
            let p = q.next_position();
            q.make_visible(
                p,
                Stored {
                    held: (m as u32, 0),
                    group,
                },
            );
        }
        q
    }

    fn take(q: &mut SqsQueue, max: usize) -> Vec<u64> {
        let mut out = Vec::new();
        q.take_batch(max, &mut out);
        let taken: Vec<u64> = out.iter().map(|(p, _)| *p).collect();
        for (p, s) in out {
            q.receive(p, s, 1);
        }
        taken
    }

    #[test]
    fn a_standard_queue_hands_out_in_queue_order_up_to_the_batch() {
        let mut q = filled(false, &[0, 0, 0, 1, 1]);
        assert_eq!(take(&mut q, 2), [0, 1]);
        assert_eq!(take(&mut q, 10), [2, 3, 4]);
        assert_eq!((q.visible(), q.in_flight()), (0, 5));
    }

    #[test]
    fn a_fifo_group_with_a_message_in_flight_gives_nothing_more() {
        let mut q = filled(true, &[0, 0, 1, 0, 2]);
        // One receive may take several of one group, in order.
        assert_eq!(take(&mut q, 2), [0, 1]);
        // Group 0 is locked now: only groups 1 and 2.
        assert_eq!(take(&mut q, 10), [2, 4]);
        assert_eq!(take(&mut q, 10), Vec::<u64>::new());
        assert!(q.delete(0));
        assert_eq!(take(&mut q, 10), Vec::<u64>::new(), "1 still locks group 0");
        assert!(q.delete(1));
        assert_eq!(take(&mut q, 10), [3]);
    }

    #[test]
    fn an_expired_message_is_visible_again_at_its_position_and_stale_timers_do_nothing() {
        let mut q = filled(true, &[0, 0]);
        assert_eq!(take(&mut q, 1), [0]);
        assert!(q.expire(0, 2).is_none(), "not the receive in flight");
        assert!(q.expire(0, 1).is_some());
        assert!(q.expire(0, 1).is_none(), "already visible");
        // The group's head comes back first.
        assert_eq!(take(&mut q, 1), [0]);
        assert_eq!(q.peak_in_flight, 1);
    }

    #[test]
    fn a_delete_removes_a_message_in_flight_or_visible_once() {
        let mut q = filled(false, &[0, 0]);
        take(&mut q, 1);
        assert!(q.delete(0));
        assert!(!q.delete(0));
        assert!(q.delete(1), "a visible message is deleted too");
        assert_eq!((q.visible(), q.in_flight()), (0, 0));
    }
}
