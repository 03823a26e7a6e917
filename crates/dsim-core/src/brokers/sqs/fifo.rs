//! SQS FIFO's send-side deduplication: a `SendMessage` whose `MessageDeduplicationId` the queue
//! accepted less than five minutes ago is accepted again but not enqueued. The window is fixed
//! from the first send and is kept even after the message is deleted; a resend after it is a
//! new message. The deduplication ID here is the message ID, as an application that sets it
//! from its own payment ID would.

use std::collections::{BTreeMap, VecDeque};

use crate::time::Micros;

/// SQS FIFO's deduplication interval: five minutes, not configurable.
pub(crate) const FIFO_DEDUP_WINDOW_US: Micros = 5 * 60 * 1_000_000;

#[derive(Clone, Debug, Default)]
pub(crate) struct DedupWindow {
    /// When each deduplication ID was first accepted.
    first_sent: BTreeMap<u32, Micros>,
    /// The same, in acceptance order, so that expired IDs leave from the front: the window
    /// holds at most five minutes of sends.
    order: VecDeque<(Micros, u32)>,
}

impl DedupWindow {
    /// A send of `id` at `now`: `true` if it is new (or its window has passed) and the queue
    /// takes it, `false` if it falls inside the window of an earlier send and is dropped.
    pub fn accept(&mut self, id: u32, now: Micros) -> bool {
        while let Some(&(at, old)) = self.order.front() {
            if now < at + FIFO_DEDUP_WINDOW_US {
                break;
            }
            self.order.pop_front();
            if self.first_sent.get(&old) == Some(&at) {
                self.first_sent.remove(&old);
            }
        }
        if self.first_sent.contains_key(&id) {
            return false;
        }
        self.first_sent.insert(id, now);
        self.order.push_back((now, id));
        true
    }

    /// Forgets a send the queue never stored (the endpoint failed first): SQS deduplicates
    /// only sends it accepted.
    pub fn forget(&mut self, id: u32) {
        self.first_sent.remove(&id);
    }

    /// When `id` was first accepted, if it is still in its window.
    pub fn first_sent(&self, id: u32) -> Option<Micros> {
        self.first_sent.get(&id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resend_inside_five_minutes_is_dropped_and_one_after_is_accepted() {
        let mut w = DedupWindow::default();
        assert!(w.accept(7, 1_000));
        assert!(!w.accept(7, 1_000 + FIFO_DEDUP_WINDOW_US - 1));
        // The window runs from the first send, not from the last resend.
        assert!(w.accept(7, 1_000 + FIFO_DEDUP_WINDOW_US));
        assert!(!w.accept(7, 1_000 + FIFO_DEDUP_WINDOW_US + 5));
        assert!(w.accept(8, 1_000 + FIFO_DEDUP_WINDOW_US + 5));
    }

    #[test]
    fn expired_ids_leave_the_window() {
        let mut w = DedupWindow::default();
        for id in 0..100 {
            assert!(w.accept(id, id as u64));
        }
        assert!(w.accept(1_000, 200 + FIFO_DEDUP_WINDOW_US));
        assert_eq!(w.first_sent.len(), 1);
        assert_eq!(w.order.len(), 1);
    }
}
