//! The queue's own state: ready messages in queue order and each consumer's unacknowledged
//! deliveries. No simulation logic here, so the rules are testable on their own.

use std::collections::BTreeMap;

/// A message in the queue: its record in `Entries` (slot and generation).
pub(crate) type Held = (u32, u32);

#[derive(Clone, Debug, Default)]
pub(crate) struct RabbitQueue {
    /// Ready messages by queue position (the order they were enqueued). A requeued delivery
    /// takes its old position back, so it goes out again before everything enqueued after
    /// it: what RabbitMQ does for a classic queue ("original position if possible").
    ready: BTreeMap<u64, Held>,
    next_position: u64,
    /// Each consumer's unacknowledged deliveries, by position (manual ack only).
    unacked: Vec<BTreeMap<u64, Held>>,
    /// Whether each consumer has an open channel with its `basic.consume`.
    open: Vec<bool>,
    /// When the last basic.ack each consumer sent reaches the broker: a connection's close
    /// arrives after everything sent on it before (TCP keeps order).
    pub last_ack_arrival: Vec<u64>,
    /// When the last on-time delivery pushed to each consumer reaches it: one connection
    /// carries them in the order the broker sent them.
    pub last_delivery_arrival: Vec<u64>,
    /// Where the round robin over consumers resumes.
    next_consumer: usize,
    /// `basic.qos` prefetch count; 0 is unlimited.
    prefetch: u32,
    /// `basic.consume` with `no-ack`: the broker forgets a message as it sends it, and the
    /// prefetch does not apply.
    pub auto_ack: bool,
    /// Most messages ready, and most deliveries unacknowledged, at once.
    pub peak_ready: u64,
    pub peak_unacked: u64,
    unacked_now: u64,
}

impl RabbitQueue {
    pub fn new(consumers: usize, prefetch: u32, auto_ack: bool) -> RabbitQueue {
        RabbitQueue {
            ready: BTreeMap::new(),
            next_position: 0,
            unacked: vec![BTreeMap::new(); consumers],
            open: vec![false; consumers],
            last_ack_arrival: vec![0; consumers],
            last_delivery_arrival: vec![0; consumers],
            next_consumer: 0,
            prefetch,
            auto_ack,
            peak_ready: 0,
            peak_unacked: 0,
            unacked_now: 0,
        }
    }

    /// The position the next message to arrive takes.
    pub fn next_position(&mut self) -> u64 {
        self.next_position += 1;
        self.next_position - 1
    }

    /// Puts a message (back) at its position.
    pub fn enqueue(&mut self, position: u64, held: Held) {
        self.ready.insert(position, held);
        self.peak_ready = self.peak_ready.max(self.ready.len() as u64);
    }

    /// Messages ready to deliver (RabbitMQ's `messages_ready`).
    pub fn ready(&self) -> usize {
        self.ready.len()
    }

    /// Deliveries sent and not yet acknowledged (RabbitMQ's `messages_unacknowledged`).
    pub fn unacked(&self) -> usize {
        self.unacked_now as usize
    }

    #[cfg(test)]
    pub fn unacked_of(&self, consumer: usize) -> usize {
        self.unacked[consumer].len()
    }

    /// Whether the broker may push one more delivery to the consumer now.
    fn has_room(&self, consumer: usize) -> bool {
        self.open[consumer]
            && (self.auto_ack
                || self.prefetch == 0
                || self.unacked[consumer].len() < self.prefetch as usize)
    }

    /// The next delivery: the first ready message, to the next consumer in the round robin
    /// with room under its prefetch. `None` when either is missing.
    pub fn next_delivery(&mut self) -> Option<(usize, u64, Held)> {
        if self.ready.is_empty() {
            return None;
        }
        let n = self.open.len();
        let consumer = (0..n)
            .map(|i| (self.next_consumer + i) % n)
            .find(|&c| self.has_room(c))?;
        self.next_consumer = (consumer + 1) % n;
        let (position, held) = self.ready.pop_first()?;
        if !self.auto_ack {
            self.unacked[consumer].insert(position, held);
            self.unacked_now += 1;
            self.peak_unacked = self.peak_unacked.max(self.unacked_now);
        }
        Some((consumer, position, held))
    }

    /// A `basic.ack` for the delivery at `position`: the message is done. `None` for a tag the
    /// channel does not hold (its channel closed and the message was requeued).
    pub fn ack(&mut self, consumer: usize, position: u64) -> Option<Held> {
        let held = self.unacked[consumer].remove(&position)?;
        self.unacked_now -= 1;
        Some(held)
    }

    /// The consumer's channel opens (`basic.consume`).
    pub fn open(&mut self, consumer: usize) {
        self.open[consumer] = true;
    }

    /// The consumer's channel closes: every delivery it had not acknowledged goes back to
    /// its position, all at once. Returns them in queue order.
    pub fn close(&mut self, consumer: usize) -> Vec<(u64, Held)> {
        self.open[consumer] = false;
        let back: Vec<(u64, Held)> = std::mem::take(&mut self.unacked[consumer])
            .into_iter()
            .collect();
        self.unacked_now -= back.len() as u64;
        for &(position, held) in &back {
            self.enqueue(position, held);
        }
        back
    }

    /// Takes a ready message out (to dead-letter it).
    pub fn remove_ready(&mut self, position: u64) -> Option<Held> {
        self.ready.remove(&position)
    }

    /// Whether the broker still counts the consumer's channel open (its close may be on
    /// its way).
    pub fn is_open(&self, consumer: usize) -> bool {
        self.open[consumer]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(consumers: usize, prefetch: u32, auto_ack: bool, messages: u32) -> RabbitQueue {
        let mut q = RabbitQueue::new(consumers, prefetch, auto_ack);
        for m in 0..messages {
            let p = q.next_position();
            q.enqueue(p, (m, 0));
        }
        for c in 0..consumers {
            q.open(c);
        }
        q
    }

    #[test]
    fn prefetch_bounds_unacknowledged_deliveries_per_consumer() {
        let mut q = filled(2, 3, false, 10);
        let mut got = Vec::new();
        while let Some((c, p, _)) = q.next_delivery() {
            got.push((c, p));
        }
        // Round robin, three each, in queue order.
        assert_eq!(got, [(0, 0), (1, 1), (0, 2), (1, 3), (0, 4), (1, 5)]);
        assert_eq!((q.ready(), q.unacked()), (4, 6));
        assert_eq!(q.ack(1, 3), Some((3, 0)));
        assert_eq!(q.next_delivery(), Some((1, 6, (6, 0))));
    }

    #[test]
    fn a_closed_channel_requeues_everything_unacked_at_its_old_position() {
        let mut q = filled(2, 4, false, 10);
        while q.next_delivery().is_some() {}
        q.ack(0, 0);
        let back: Vec<u64> = q.close(0).into_iter().map(|(p, _)| p).collect();
        assert_eq!(back, [2, 4, 6]);
        assert_eq!(q.unacked(), 4);
        // The requeued ones go out first, ahead of 8 and 9, in their old order.
        let next: Vec<u64> = std::iter::from_fn(|| q.next_delivery().map(|(_, p, _)| p)).collect();
        assert!(
            next.is_empty(),
            "consumer 1 is full and consumer 0 is closed"
        );
        q.open(0);
        let next: Vec<u64> = std::iter::from_fn(|| q.next_delivery().map(|(_, p, _)| p)).collect();
        assert_eq!(next, [2, 4, 6, 8]);
    }

    #[test]
    fn auto_ack_ignores_prefetch_and_keeps_nothing() {
        let mut q = filled(1, 2, true, 5);
        let n = std::iter::from_fn(|| q.next_delivery()).count();
        assert_eq!((n, q.ready(), q.unacked()), (5, 0, 0));
        assert!(q.close(0).is_empty());
    }

    #[test]
    fn prefetch_zero_is_unlimited() {
        let mut q = filled(1, 0, false, 7);
        assert_eq!(std::iter::from_fn(|| q.next_delivery()).count(), 7);
        assert_eq!(q.unacked_of(0), 7);
    }
}
