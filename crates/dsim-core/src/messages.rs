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
            Cause::ProducerCrash => {
                "the producer crashed after its database write and before publishing (dual write)"
            }
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct MsgState {
    pub created_at: Micros,
    /// Places that could still apply this message. Wider than the attempts: without an
    /// idempotent producer every retry, and every network copy of it, appends a record that
    /// holds one (a relay retrying into a log nobody reads passed 65,535, found by a long fuzz
    /// run; the count wrapped to 0 and the message counted as silently lost).
    pub refs: u32,
    /// Times its payment was applied to the ledger: each of its records may apply it.
    pub effects: u32,
    /// At most 56,250: the ack timeout is at least 1 ms and the backoff grows it to 64 ms at
    /// most, and the horizon is at most one hour.
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
}

/// A sliding window over message IDs: IDs are produced in order, and resolved slots at the
/// front are dropped.
#[derive(Clone, Default)]
pub struct MsgTable {
    base: u32,
    slots: VecDeque<MsgState>,
    /// Highest number of slots held at once, to report memory per in-flight message.
    pub peak: usize,
}

impl MsgTable {
    /// Message slots held now, from the oldest unresolved message to the newest.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn push(&mut self, state: MsgState) -> u32 {
        let id = self.base + self.slots.len() as u32;
        self.slots.push_back(state);
        self.peak = self.peak.max(self.slots.len());
        id
    }

    /// The state of an unresolved message; `None` once it is resolved and recycled.
    pub fn get(&self, id: u32) -> Option<&MsgState> {
        let i = id.checked_sub(self.base)? as usize;
        self.slots.get(i).filter(|m| !m.resolved)
    }

    pub fn get_mut(&mut self, id: u32) -> Option<&mut MsgState> {
        let i = id.checked_sub(self.base)? as usize;
        self.slots.get_mut(i).filter(|m| !m.resolved)
    }

    /// Drops resolved messages from the front of the window.
    pub fn compact(&mut self) {
        while self.slots.front().is_some_and(|m| m.resolved) {
            self.slots.pop_front();
            self.base += 1;
        }
    }

    /// IDs of messages that are not resolved yet, in order.
    pub fn unresolved(&self) -> impl Iterator<Item = u32> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.resolved)
            .map(|(i, _)| self.base + i as u32)
    }
}
