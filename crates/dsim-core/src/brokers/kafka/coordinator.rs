//! The transaction coordinator (exactly-once): commits of a consumer's transaction, with
//! generation fencing.

use crate::brokers::Brokers;
use crate::engine::messages::Item;
use crate::engine::queue::Lane;
use crate::engine::{Event, World, trace};
use crate::observe::trace::{Actor, TraceKind};
use crate::scenario::Isolation;
use crate::scenario::script::Link;

/// What the transaction coordinator keeps per consumer (its transactional ID). Broker state:
/// it outlives a consumer's crash, and a coordinator failover loses only the commits being
/// written.
#[derive(Clone, Debug, Default)]
pub(crate) struct TxnCoordinator {
    /// Per consumer, a commit being written, `(session, txn, records)`.
    pending: Vec<Option<(u32, u32, Vec<Item>)>>,
    /// Per consumer, the last committed transaction, `(session, txn)`, to answer a retried
    /// commit again.
    committed: Vec<Option<(u32, u32)>>,
}

impl TxnCoordinator {
    pub(crate) fn new(consumers: usize) -> TxnCoordinator {
        TxnCoordinator {
            pending: vec![None; consumers],
            committed: vec![None; consumers],
        }
    }

    /// Whether the coordinator has committed a consumer session's transaction `txn`.
    pub(crate) fn has_committed(&self, consumer: u16, session: u32, txn: u32) -> bool {
        self.committed[consumer as usize] == Some((session, txn))
    }

    /// Whether the coordinator is writing the commit of a consumer session's transaction
    /// `txn`: its outcome is the coordinator's now, whatever becomes of the consumer.
    pub(crate) fn is_writing(&self, consumer: u16, session: u32, txn: u32) -> bool {
        self.pending[consumer as usize]
            .as_ref()
            .is_some_and(|(s, t, _)| (*s, *t) == (session, txn))
    }
}

impl Brokers {
    // ----- The transaction coordinator (exactly-once) -----

    /// The coordinator fails over: the commits it was writing are gone (their consumers
    /// retry them).
    pub(super) fn coordinator_reset(&mut self) {
        for pending in &mut self.txn_coordinator.pending {
            *pending = None;
        }
    }

    #[inline(never)]
    pub(crate) fn on_commit_arrive(
        &mut self,
        world: &mut World,
        consumer: u16,
        session: u32,
        txn: u32,
    ) {
        if self.broker_down(world) {
            return;
        }
        let coordinator = &self.txn_coordinator;
        if coordinator.committed[consumer as usize] == Some((session, txn)) {
            // A retried commit of a transaction that already committed: answer again.
            self.send_commit_response(world, consumer, session, txn, true);
            return;
        }
        if coordinator.pending[consumer as usize]
            .as_ref()
            .is_some_and(|(s, t, _)| (*s, *t) == (session, txn))
        {
            return;
        }
        // The request lists the records (offsets) the transaction covers; a consumer that died
        // since sending it took its connection, and the request, with it.
        let c = &world.consumers[consumer as usize];
        if !c.alive || c.session != session || c.committing.map(|(t, _)| t) != Some(txn) {
            return;
        }
        let items = c.txn.clone();
        // `transaction.timeout.ms`: the coordinator aborted the transaction when it ran out,
        // and bumped the producer's epoch, so this late commit is refused like a zombie's.
        if world.now.saturating_sub(c.txn_started) > world.timing.txn_timeout {
            world.metrics.counters.transactions_timed_out += 1;
            self.refuse_commit(
                world,
                consumer,
                session,
                txn,
                &items,
                "commit refused: the transaction stayed open longer than transaction.timeout.ms, so the coordinator aborted it and bumped the epoch (ProducerFencedException)",
            );
            return;
        }
        if self.fences(world, consumer, session, &items) {
            self.reject_commit(world, consumer, session, txn, &items);
            return;
        }
        // An earlier session's commit still being written: its consumer died during the write,
        // and this one, from the instance that replaced it, covers the records it read again.
        // The earlier transaction never completes: it is aborted.
        if let Some((_, _, earlier)) = self.txn_coordinator.pending[consumer as usize].take() {
            world.transaction_aborted(earlier.len());
        }
        self.txn_coordinator.pending[consumer as usize] = Some((session, txn, items));
        let rf = world.scenario.replication_factor.max(1) as u64;
        let replication = if rf > 1 { world.timing.replication } else { 0 };
        world.metrics.counters.network_messages += rf - 1;
        world.queue.schedule_in_lane(
            Lane::TxnWrite,
            world.now + world.timing.txn_write + replication,
            Event::CommitApplied {
                consumer,
                session,
                txn,
            },
        );
    }

    /// Generation fencing (KIP-447: `TxnOffsetCommit` carries the group generation): a
    /// commit is accepted only if every record in it was read under its partition's current
    /// assignment, i.e. no newer consumer has been given the partition since.
    pub(super) fn txn_still_owned(&self, _consumer: u16, _session: u32, items: &[Item]) -> bool {
        items
            .iter()
            .all(|item| self.logs[item.partition as usize].epoch == item.epoch)
    }

    /// Whether fencing rejects this commit: it is on, and the commit is stale. With fencing
    /// off, a zombie's commit goes through and its records count a second time.
    pub(super) fn fences(
        &self,
        world: &World,
        consumer: u16,
        session: u32,
        items: &[Item],
    ) -> bool {
        world.scenario.fencing && !self.txn_still_owned(consumer, session, items)
    }

    pub(super) fn reject_commit(
        &mut self,
        world: &mut World,
        consumer: u16,
        session: u32,
        txn: u32,
        items: &[Item],
    ) {
        world.metrics.counters.fenced_commits += 1;
        if let Some(item) = items.first() {
            world.metrics.examples.fenced.get_or_insert(item.msg);
        }
        self.refuse_commit(
            world,
            consumer,
            session,
            txn,
            items,
            "commit rejected: a newer consumer generation owns this partition (fencing)",
        );
    }

    /// Answers a commit with a refusal, naming why on each of its records.
    fn refuse_commit(
        &mut self,
        world: &mut World,
        consumer: u16,
        session: u32,
        txn: u32,
        items: &[Item],
        why: &'static str,
    ) {
        for item in items {
            trace!(
                world,
                item.msg,
                TraceKind::Fenced,
                Actor::Broker,
                Some(Actor::Consumer),
                Some(consumer as u32),
                item.delivery,
                item.key as u32,
                why,
            );
        }
        self.send_commit_response(world, consumer, session, txn, false);
    }

    #[inline(never)]
    pub(crate) fn on_commit_applied(
        &mut self,
        world: &mut World,
        consumer: u16,
        session: u32,
        txn: u32,
    ) {
        let pending = self.txn_coordinator.pending[consumer as usize].take();
        let Some((s, t, items)) = pending else { return };
        if (s, t) != (session, txn) {
            self.txn_coordinator.pending[consumer as usize] = Some((s, t, items));
            return;
        }
        if self.fences(world, consumer, session, &items) {
            // A consumer that died while this was written left the outcome to the
            // coordinator: the refusal is the transaction's abort (a live one aborts it when
            // the refusal reaches it).
            let c = &world.consumers[consumer as usize];
            if !c.alive || c.session != session {
                world.transaction_aborted(items.len());
            }
            self.reject_commit(world, consumer, session, txn, &items);
            return;
        }
        // Only reachable with fencing off: a commit from a consumer that lost its records.
        let stale = !self.txn_still_owned(consumer, session, &items);
        world.metrics.counters.stale_commits_accepted += stale as u64;
        self.txn_coordinator.committed[consumer as usize] = Some((session, txn));
        world.metrics.counters.transactions += 1;
        let size = items.len();
        let read_committed = world.scenario.isolation == Isolation::ReadCommitted;
        for &item in &items {
            // Read-committed: the payment becomes visible in the ledger only now, together
            // with the offset commit.
            trace!(
                world,
                item.msg,
                TraceKind::Committed,
                Actor::Broker,
                Some(Actor::Ledger),
                Some(consumer as u32),
                item.delivery,
                item.key as u32,
                if stale {
                    format!(
                        "transaction of {size} record(s) committed although another consumer now owns them: fencing is off, so the stale commit is accepted"
                    )
                } else {
                    format!(
                        "transaction of {size} record(s) committed: payment and offset together"
                    )
                },
            );
            // A read-uncommitted reader applied the output record when it was written.
            if read_committed {
                world.apply_effect(item, consumer);
            }
        }
        // The input offsets commit in the same transaction (`sendOffsetsToTransaction`).
        for item in items {
            self.advance_committed(world, item.partition, item.offset + 1);
        }
        self.send_commit_response(world, consumer, session, txn, true);
    }

    pub(super) fn send_commit_response(
        &mut self,
        world: &mut World,
        consumer: u16,
        session: u32,
        txn: u32,
        ok: bool,
    ) {
        world.metrics.counters.network_messages += 1;
        let delay = world.timing.txn_ack
            + world.faults.latency(
                Link::Consumer(consumer),
                world.now,
                u32::MAX - consumer as u32,
                txn,
                1,
            );
        world.queue.schedule(
            world.now + delay,
            Event::CommitResponse {
                consumer,
                session,
                txn,
                ok,
            },
        );
    }
}
