//! Replication and leader failover: an append becomes durable (and visible to consumers) once
//! the replicas have it; a leader crash truncates what they do not have yet.

use super::log::EntryState;
use crate::engine::messages::Cause;
use crate::engine::{Event, Simulation, trace};
use crate::report::trace::{Actor, TraceKind};
use crate::scenario::Acks;

impl Simulation {
    pub(crate) fn on_durable(&mut self, entry: u32, generation: u32) {
        let Some(e) = self.entries.live(entry, generation) else {
            return;
        };
        if e.state != EntryState::Replicating {
            return;
        }
        let (msg, partition, copy) = (e.msg, e.partition, e.copy);
        if let Some(pos) = self
            .replicating
            .iter()
            .position(|&(id, g)| id == entry && g == generation)
        {
            self.replicating.remove(pos);
        }
        // The entry holds a reference, so the message is still there.
        let (attempt, producer) = match self.msgs.get_mut(msg) {
            Some(m) => {
                m.durable = true;
                (m.publish_attempts, m.producer)
            }
            None => (1, self.producer_of(msg)),
        };
        let rf = self.scenario.replication_factor.max(1);
        trace!(
            self,
            msg,
            TraceKind::Replicated,
            Actor::Broker,
            None,
            None,
            0,
            copy as u32,
            if rf > 1 {
                format!("on all {rf} replicas; visible to consumers")
            } else {
                "flushed; visible to consumers".to_string()
            },
        );
        if self.acks == Acks::All && rf > 1 {
            self.send_publish_ack(msg, producer, attempt);
        }
        self.make_ready(entry, partition);
    }

    // Inlined: in wasm, LLVM kept it a call on the hot path (ARCHITECTURE.md, wasm inlining).
    #[inline]
    pub(super) fn make_ready(&mut self, entry: u32, partition: u16) {
        let e = self.entries.get_mut(entry);
        e.state = EntryState::Ready;
        if let Some(owner) = self.owner_of(partition) {
            self.serve_fetch(owner);
        }
    }

    /// The leader of the partition crashes: every append not yet on the replicas is gone,
    /// and the partition is unavailable until a new leader is elected.
    /// `trigger` is the append a random crash follows; `scripted` the script's entry that
    /// crashed it at its time.
    #[cold]
    pub(crate) fn crash_broker(&mut self, trigger: Option<u32>, scripted: Option<u16>) {
        self.metrics.counters.broker_crashes += 1;
        self.broker_down_until = Some(self.now + self.timing.failover);
        if let Some(trigger) = trigger {
            trace!(
                self,
                trigger,
                TraceKind::BrokerCrash,
                Actor::Broker,
                None,
                None,
                0,
                0,
                "the partition leader crashes right after this append",
            );
        }
        let lost: Vec<(u32, u32)> = self.replicating.drain(..).collect();
        for (entry, generation) in lost {
            let Some(e) = self.entries.live(entry, generation) else {
                continue;
            };
            let (msg, copy) = (e.msg, e.copy);
            self.entries.free(entry);
            if let Some(m) = self.msgs.get_mut(msg) {
                m.live_entries = m.live_entries.saturating_sub(1);
                m.cause = Cause::Truncated;
                let waiting = m.waiting_ack;
                let acks = self.acks;
                trace!(
                    self,
                    msg,
                    TraceKind::Truncated,
                    Actor::Broker,
                    None,
                    None,
                    0,
                    copy as u32,
                    self.scripted_note(
                        scripted,
                        match (acks, waiting) {
                            (_, true) =>
                                "the leader crashed before replicating this record: the new leader never had it, but the producer is still waiting and will retry",
                            (Acks::Leader, false) =>
                                "the leader crashed before replicating this record, after acking it (acks=leader): nobody will retry",
                            (Acks::All, false) =>
                                "the leader crashed before this record reached a replica; nobody is waiting for it",
                        }
                    )
                );
            }
            self.release(msg);
        }
        self.coordinator_reset();
        self.queue
            .schedule(self.now + self.timing.failover, Event::BrokerRecover);
    }

    #[cold]
    pub(crate) fn on_broker_recover(&mut self) {
        if self.broker_down() {
            return;
        }
        self.broker_down_until = None;
        for c in self.members.clone() {
            self.serve_fetch(c);
        }
    }
}
