//! Replication and leader failover: an append becomes durable (and visible to consumers) once
//! the replicas have it; a leader crash truncates what they do not have yet.

use super::log::{EntryState, Txn};
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
        let (msg, partition, copy, writer) = (e.msg, e.partition, e.copy, e.writer);
        let open = e.txn == Txn::Open;
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
            match (rf > 1, open) {
                (true, false) => format!("on all {rf} replicas; visible to consumers"),
                (false, false) => "flushed; visible to consumers".to_string(),
                (true, true) => format!(
                    "on all {rf} replicas; in its producer's open transaction, invisible until the producer commits"
                ),
                (false, true) => "flushed; in its producer's open transaction, invisible until the producer commits".to_string(),
            },
        );
        if self.acks == Acks::All && rf > 1 {
            self.send_publish_ack(msg, producer, attempt, writer);
        }
        self.make_ready(entry, partition);
    }

    // Inlined: in wasm, LLVM kept it a call on the hot path (ARCHITECTURE.md, wasm inlining).
    #[inline]
    pub(crate) fn make_ready(&mut self, entry: u32, partition: u16) {
        let e = self.entries.get_mut(entry);
        // A record of a producer's open transaction (exactly-once) waits for its commit:
        // `commit_producer_record` or `abort_producer_record` make it ready.
        if e.txn == Txn::Open {
            e.state = EntryState::Uncommitted;
            return;
        }
        e.state = EntryState::Ready;
        let generation = e.generation;
        self.ready[partition as usize].push_back((entry, generation));
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
        // The new leader's producer state does not have the truncated sequences.
        self.producer_states
            .truncate(&self.replicating.iter().copied().collect());
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
