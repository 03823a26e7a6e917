//! The consumer group as Kafka runs it: which member owns which partition, the assignment
//! each owner reads from (its position starts at the group's committed offset), fetches, and
//! the group coordinator's side of offset commits.
//!
//! There are no per-record acks and no visibility timeouts: a consumer's progress is one
//! offset per partition, committed cumulatively (`OffsetCommit`). Whoever owns a partition
//! next (after a crash, a session timeout or a rebalance) starts from the committed offset,
//! and every record after it is delivered again: the report's `replayed`.

use super::log::{EntryState, Txn};
use crate::brokers::Brokers;
use crate::brokers::kafka::delivery_key;
use crate::engine::consumer_state::Assignment;
use crate::engine::faults::{FaultSite, Verdict};
use crate::engine::messages::Cause;
use crate::engine::{Event, World, trace};
use crate::observe::trace::{Actor, TraceKind};
use crate::scenario::Mode;
use crate::scenario::script::Link;

/// The group coordinator's membership. A consumer stays a member until its session times out,
/// even while crashed or stalled (it sends no heartbeats then); one the group removed learns it
/// at its next poll or restart and joins again. The partitions are dealt over the member list,
/// which follows the counted consumers at each rebalance (`count_members`).
#[derive(Clone, Debug)]
pub(crate) struct Group {
    /// Per consumer, whether the group counts it as a member.
    counted: Vec<bool>,
    /// The members at the last rebalance, sorted: partition `p` belongs to
    /// `members[p % members.len()]`.
    members: Vec<u16>,
}

impl Group {
    /// Every consumer a member, as at the start of a run.
    pub(crate) fn new(consumers: usize) -> Group {
        Group {
            counted: vec![true; consumers],
            members: (0..consumers as u16).collect(),
        }
    }

    pub(crate) fn is_member(&self, consumer: u16) -> bool {
        self.counted[consumer as usize]
    }

    /// A consumer joins (`true`) or is removed (`false`); the partitions move at the
    /// rebalance that follows.
    pub(crate) fn set_member(&mut self, consumer: u16, member: bool) {
        self.counted[consumer as usize] = member;
    }

    /// The members at the last rebalance, sorted.
    pub(crate) fn members(&self) -> &[u16] {
        &self.members
    }
}

impl Brokers {
    // ----- Membership and assignment -----

    /// A rebalance starts: the member list follows the consumers the group counts.
    pub(crate) fn count_members(&mut self) {
        let group = &mut self.group;
        group.members = (0..group.counted.len() as u16)
            .filter(|&c| group.counted[c as usize])
            .collect();
    }

    pub(crate) fn owner_of(&self, partition: u16) -> Option<u16> {
        let members = &self.group.members;
        if members.is_empty() {
            None
        } else {
            Some(members[partition as usize % members.len()])
        }
    }

    /// Gives every member the partitions that are free to take, and serves its fetch.
    pub(crate) fn assign_all(&mut self, world: &mut World) {
        let n = world.consumers.len() as u16;
        for c in 0..n {
            if self.takes_part(world, c) {
                self.assign_owned(world, c);
            }
        }
        for c in self.group.members.clone() {
            self.serve_fetch(world, c);
        }
    }

    /// Whether a consumer takes part in a rebalance: alive and awake (a stalled one sends no
    /// heartbeats; it learns at its next poll).
    pub(crate) fn takes_part(&self, world: &World, consumer: u16) -> bool {
        let c = &world.consumers[consumer as usize];
        c.alive && !c.stalled
    }

    /// Whether `a` is still the partition's current assignment: nobody was given the
    /// partition since (Kafka's generation).
    pub(crate) fn is_current(&self, a: &Assignment) -> bool {
        self.logs[a.partition as usize].epoch == a.epoch
    }

    /// Gives a member the partitions it owns and has no assignment for, each from the
    /// group's committed offset. The partition's epoch moves on, so anything the previous
    /// holder still commits for it is rejected.
    pub(crate) fn assign_owned(&mut self, world: &mut World, consumer: u16) {
        if !self.group.is_member(consumer) {
            return;
        }
        let Some(index) = self.group.members.iter().position(|&m| m == consumer) else {
            return;
        };
        let n = self.group.members.len();
        let mut p = index;
        while p < self.logs.len() {
            let partition = p as u16;
            let held = world.consumers[consumer as usize]
                .assigned
                .iter()
                .any(|a| a.partition == partition);
            if !held && !self.held_by_live_member(world, partition) {
                let log = &mut self.logs[p];
                log.epoch += 1;
                let committed = log.committed;
                world.consumers[consumer as usize]
                    .assigned
                    .push(Assignment {
                        partition,
                        epoch: log.epoch,
                        position: committed,
                        processed: committed,
                        acked: committed,
                    });
            }
            p += n;
        }
    }

    /// Whether a live, awake member still holds the partition's current assignment: it lets
    /// go at its next poll, and until then nobody else reads the partition.
    fn held_by_live_member(&self, world: &World, partition: u16) -> bool {
        let epoch = self.logs[partition as usize].epoch;
        world.consumers.iter().enumerate().any(|(i, c)| {
            c.alive
                && !c.stalled
                && self.group.is_member(i as u16)
                && c.assigned
                    .iter()
                    .any(|a| a.partition == partition && a.epoch == epoch)
        })
    }

    // ----- Fetches -----

    /// A consumer's `Fetch` reaches the partition leader: it is parked there until records
    /// are below the high watermark, then answered (`serve_fetch`).
    #[inline]
    pub(crate) fn kafka_fetch_arrive(&mut self, world: &mut World, consumer: u16, session: u32) {
        let c = &mut world.consumers[consumer as usize];
        if !c.alive || c.session != session {
            return;
        }
        self.polls[consumer as usize].parked = true;
        self.serve_fetch(world, consumer);
    }

    /// Answers a consumer's parked fetch with up to `max-poll` records from its positions in
    /// the partitions it is assigned, below the high watermark (only records on the
    /// replicas are visible); with none the fetch waits (a long poll).
    pub(crate) fn serve_fetch(&mut self, world: &mut World, consumer: u16) {
        if self.broker_down(world) {
            return;
        }
        let c = &world.consumers[consumer as usize];
        if !self.polls[consumer as usize].parked || !c.alive || !self.group.is_member(consumer) {
            return;
        }
        let session = c.session;
        let max = world.scenario.max_poll.max(1) as usize;
        // A scratch vector kept between fetches: serving a fetch allocates nothing.
        let mut batch = std::mem::take(&mut self.fetch_scratch);
        batch.clear();
        for i in 0..world.consumers[consumer as usize].assigned.len() {
            let a = world.consumers[consumer as usize].assigned[i];
            if !self.is_current(&a) {
                continue;
            }
            let log = &self.logs[a.partition as usize];
            let mut offset = a.position;
            let mut skipped = a.position;
            while batch.len() < max {
                let Some((entry, generation)) = log.at(offset) else {
                    break;
                };
                match self.entries.live(entry, generation) {
                    // The high watermark: not yet on the in-sync replicas.
                    Some(e) if e.state == EntryState::Replicating => break,
                    // The last stable offset: a read-committed reader (exactly-once's
                    // consumer) reads nothing past a producer transaction still open.
                    Some(e) if e.txn == Txn::Open => break,
                    // A record of an aborted producer transaction is never returned to a
                    // read-committed reader (Kafka filters it with the abort index); its
                    // position moves past it like past a truncated offset.
                    Some(e) if e.txn == Txn::Aborted => {
                        if skipped == offset {
                            skipped += 1;
                        } else {
                            break;
                        }
                    }
                    Some(_) => batch.push(entry),
                    // Truncated by a leader crash: nothing there to read. A consumer's
                    // position moves past such offsets at once; one after records in this
                    // response ends it, so that what arrives is contiguous.
                    None if skipped == offset => skipped += 1,
                    None => break,
                }
                offset += 1;
            }
            world.consumers[consumer as usize].assigned[i].position = skipped;
        }
        if batch.is_empty() {
            self.fetch_scratch = batch;
            return;
        }
        self.polls[consumer as usize].parked = false;
        self.send_fetch_response(world, consumer, session, &batch);
        self.fetch_scratch = batch;
    }

    /// Sends a fetch response. It is one message on one TCP connection, so the network
    /// decides its fate once (by its first record): lost, the consumer asks again from the
    /// same position after its request timeout; delayed, all of it is late. TCP does not
    /// duplicate it.
    fn send_fetch_response(
        &mut self,
        world: &mut World,
        consumer: u16,
        session: u32,
        batch: &[u32],
    ) {
        world.metrics.counters.network_messages += 1;
        let first = self.entries.get(batch[0]);
        // Keyed on the first record's read and on the responses lost in a row before this
        // one, so that each request after a lost response draws afresh.
        let lost_before = self.polls[consumer as usize].lost_responses;
        let verdict = world.faults.network(
            FaultSite::Delivery,
            Link::Consumer(consumer),
            world.now,
            first.msg,
            (first.deliveries + 1).wrapping_add(lost_before.wrapping_mul(1000)),
            delivery_key(first.copy, 0) as u32,
        );
        let (delay, scripted) = match verdict {
            Verdict::Drop { scripted } => (None, scripted),
            Verdict::Deliver { delay, .. } => (Some(delay), None),
        };
        let poll = &mut self.polls[consumer as usize];
        poll.lost_responses = if delay.is_some() {
            0
        } else {
            poll.lost_responses.wrapping_add(1)
        };
        for &entry in batch {
            let e = self.entries.get_mut(entry);
            // A read counts when it reaches the wire intact: a response lost on the way is
            // asked for again, not read again. Saturating: a record that keeps crashing its
            // consumer is read again after every restart until the horizon.
            let delivery = e.deliveries.saturating_add(1);
            if delay.is_some() {
                e.deliveries = delivery;
            }
            let (msg, generation, copy, offset, partition) =
                (e.msg, e.generation, e.copy, e.offset, e.partition);
            if delivery > 1 && delay.is_some() {
                world.metrics.counters.replayed += 1;
                world.metrics.examples.replayed.get_or_insert(msg);
            }
            let key = delivery_key(copy, 0);
            trace!(
                world,
                msg,
                if delivery == 1 {
                    TraceKind::Delivered
                } else {
                    TraceKind::Replayed
                },
                Actor::Broker,
                Some(Actor::Consumer),
                Some(consumer as u32),
                delivery,
                key as u32,
                if delivery == 1 {
                    format!(
                        "fetched by consumer {consumer} (partition {partition}, offset {offset})"
                    )
                } else {
                    format!(
                        "fetched AGAIN by consumer {consumer} (read {delivery}): partition {partition} restarted from its committed offset, and offset {offset} lies past it"
                    )
                },
            );
            match delay {
                None => {
                    if let Some(m) = world.msgs.get_mut(msg) {
                        m.cause = Cause::DeliveryLost;
                    }
                    trace!(
                        world,
                        msg,
                        TraceKind::DeliveryLost,
                        Actor::Broker,
                        Some(Actor::Consumer),
                        Some(consumer as u32),
                        delivery,
                        key as u32,
                        world.scripted_note(
                            scripted,
                            "the fetch response was lost on the network: the consumer asks again from the same offset"
                        ),
                    );
                }
                Some(delay) => {
                    world.hold(msg);
                    world.queue.schedule(
                        world.now + delay,
                        Event::DeliveryArrive {
                            msg,
                            entry,
                            generation,
                            delivery,
                            copy: key,
                            consumer,
                            session,
                        },
                    );
                }
            }
        }
        // Kafka's `request.timeout.ms`: a consumer that got no response fetches again.
        let done = delay.unwrap_or(world.timing.ack_timeout);
        world
            .queue
            .schedule(world.now + done, Event::FetchDone { consumer, session });
    }

    /// The record needs nothing more: the committed offset passed it, or it was truncated.
    pub(crate) fn finish_entry(&mut self, world: &mut World, entry: u32) {
        let msg = self.entries.get(entry).msg;
        self.entries.free(entry);
        world.release(msg);
    }

    // ----- The group coordinator: offset commits -----

    /// An offset commit reached the group coordinator. It is accepted only if every
    /// partition in it is still the committer's current assignment (Kafka checks the
    /// group generation and member ID: `ILLEGAL_GENERATION`); the committed offsets then move
    /// forward, and the records below them are done.
    pub(crate) fn on_offset_commit_arrive(
        &mut self,
        world: &mut World,
        consumer: u16,
        session: u32,
        id: u32,
    ) {
        if self.broker_down(world) {
            // The coordinator is failing over: the request is lost, the consumer retries.
            return;
        }
        let c = &world.consumers[consumer as usize];
        // A consumer that died since took its connection, and the request, with it.
        if !c.alive || c.session != session || c.offset_commit.map(|(i, _)| i) != Some(id) {
            return;
        }
        let offsets = std::mem::take(&mut world.consumers[consumer as usize].commit_sent);
        let ok = offsets
            .iter()
            .all(|&(p, _, epoch)| self.logs[p as usize].epoch == epoch);
        if ok {
            world.metrics.counters.offset_commits += 1;
            for &(p, offset, _) in &offsets {
                if !world.traced.is_empty() {
                    self.trace_committed_range(world, consumer, p, offset);
                }
                self.advance_committed(world, p, offset);
            }
        }
        world.consumers[consumer as usize].commit_sent = offsets;
        world.metrics.counters.network_messages += 1;
        let delay = world.faults.latency(
            Link::Consumer(consumer),
            world.now,
            u32::MAX - consumer as u32,
            id,
            3,
        );
        world.queue.schedule(
            world.now + delay,
            Event::OffsetCommitResponse {
                consumer,
                session,
                id,
                ok,
            },
        );
    }

    /// Trace rows for the traced records an accepted commit covers.
    #[cold]
    fn trace_committed_range(&mut self, world: &mut World, consumer: u16, partition: u16, to: u64) {
        let log = &self.logs[partition as usize];
        let from = log.committed;
        let mut covered = Vec::new();
        for offset in from..to {
            if let Some((entry, generation)) = log.at(offset)
                && let Some(e) = self.entries.live(entry, generation)
            {
                covered.push((e.msg, e.deliveries, e.copy, offset));
            }
        }
        let before = world.mode == Mode::AtMostOnce;
        for (msg, delivery, copy, offset) in covered {
            trace!(
                world,
                msg,
                if before {
                    TraceKind::AckedBeforeProcessing
                } else {
                    TraceKind::Ack
                },
                Actor::Consumer,
                Some(Actor::Broker),
                Some(consumer as u32),
                delivery,
                delivery_key(copy, 0) as u32,
                if before {
                    format!(
                        "offset committed BEFORE processing (at-most-once): partition {partition} committed up to {to}, past this record (offset {offset}), so nobody will read it again"
                    )
                } else {
                    format!(
                        "offset commit accepted: partition {partition} committed up to {to}, past this record (offset {offset})"
                    )
                },
            );
        }
    }
}
