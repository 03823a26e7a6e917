//! Replication and leader failover, as Kafka does them: an in-sync replica set (ISR) whose
//! followers can fall behind, `acks=all` waiting for the current ISR only, `min.insync.replicas`
//! refusing writes when the ISR is too small, and a leader crash electing a new leader from
//! the ISR (clean) or, with `unclean.leader.election.enable`, from the followers that fell
//! behind, losing what they lack.
//!
//! One ISR for the whole topic. The model has one leader broker for every partition (the
//! followers are the other brokers), and a follower falls behind as a broker does (a GC pause,
//! a slow disk, a saturated link): on every partition it follows at once. So per-partition
//! sets would all be equal here; one set is a few integers, and the append path asks it one
//! comparison (`Isr::next_rejoin`).
//!
//! What a replica holds is read off append numbers (`Entry::append_no`): a follower out of
//! sync lacks every append from the one it fell behind at (`Isr::lacks_from`); when its lag
//! is over it has caught up and rejoins. Kafka would take up to `replica.lag.time.max.ms` to
//! notice a stuck follower, and `acks=all` writes wait for it meanwhile; here it leaves the
//! ISR at once, so that wait is not modelled.

use std::collections::VecDeque;

use super::log::{EntryState, Txn, Writer, delivery_key};
use crate::brokers::Brokers;
use crate::engine::messages::Cause;
use crate::engine::{Event, World, trace};
use crate::observe::trace::{Actor, TraceKind};
use crate::scenario::Acks;
use crate::time::Micros;

/// The most replicas a partition may have: the `replication-factor` knob's maximum.
pub(crate) const MAX_REPLICAS: usize = 5;

/// The in-sync replica set: which replica leads, which followers are in sync, and since when
/// the others lack appends. Replicas are numbered 0 to `replication-factor` − 1; replica 0
/// leads first.
#[derive(Clone, Debug)]
pub struct Isr {
    replicas: u8,
    leader: u8,
    /// ISR members, the leader included.
    in_sync: u8,
    /// Per replica out of sync: until when (it lags, or it is down after leading when it
    /// crashed); 0 while in sync.
    out_until: [Micros; MAX_REPLICAS],
    /// Per replica out of sync: whether it is down (a crashed leader) rather than lagging. A
    /// replica that is down cannot be elected.
    down: [bool; MAX_REPLICAS],
    /// Per replica out of sync: the first append it does not have.
    lacks_from: [u32; MAX_REPLICAS],
    /// Per replica in sync: the appends before this one it has had since it last caught up
    /// (0 if it never fell behind); later ones reach it by replication.
    caught_up_to: [u32; MAX_REPLICAS],
    /// The earliest `out_until` of a replica out of sync, `Micros::MAX` if none is: the only
    /// thing the append path reads while the ISR is whole.
    next_rejoin: Micros,
    /// Whether an unclean election can happen at all (`unclean-election` on, `replica-lag`
    /// above 0, followers): only then are `recent` appends kept.
    tracks_appends: bool,
    /// `(append_no, entry, generation)` of the appends an unclean election could truncate:
    /// those since the oldest lagging follower fell behind, in append order. An election
    /// reads these instead of the whole log; empty while no follower lags.
    recent: VecDeque<(u32, u32, u32)>,
}

/// Who leads after the leader crashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Election {
    /// A follower that was in sync leads: it has every append that finished replicating, and
    /// every one before `has_below` (it caught up to there when it last rejoined).
    Clean { leader: u8, has_below: u32 },
    /// The only replica restarts with what it had flushed.
    Single,
    /// Unclean: a follower out of sync leads, lacking every append from `lacks_from`.
    Unclean { leader: u8, lacks_from: u32 },
    /// The leader was the ISR's last member and no other replica may lead: the partition
    /// waits for it to come back, with its log.
    WaitForLeader,
}

impl Isr {
    pub(crate) fn new(replication_factor: u32, tracks_appends: bool) -> Isr {
        let replicas = replication_factor.clamp(1, MAX_REPLICAS as u32) as u8;
        Isr {
            replicas,
            leader: 0,
            in_sync: replicas,
            out_until: [0; MAX_REPLICAS],
            down: [false; MAX_REPLICAS],
            lacks_from: [0; MAX_REPLICAS],
            caught_up_to: [0; MAX_REPLICAS],
            next_rejoin: Micros::MAX,
            tracks_appends: tracks_appends && replicas > 1,
            recent: VecDeque::new(),
        }
    }

    /// Notes an append an unclean election may have to truncate, and forgets those no lagging
    /// follower lacks (any follower that falls behind later has them). Inlined: one branch
    /// on the append path while unclean elections are off.
    #[inline(always)]
    pub(crate) fn note_append(&mut self, append_no: u32, entry: u32, generation: u32) {
        if self.tracks_appends && self.in_sync < self.replicas {
            self.note_append_while_lagging(append_no, entry, generation);
        }
    }

    #[cold]
    fn note_append_while_lagging(&mut self, append_no: u32, entry: u32, generation: u32) {
        let floor = (0..self.replicas as usize)
            .filter(|&r| self.out_until[r] != 0 && !self.down[r])
            .map(|r| self.lacks_from[r])
            .min()
            .unwrap_or(u32::MAX);
        while self.recent.front().is_some_and(|&(no, ..)| no < floor) {
            self.recent.pop_front();
        }
        if append_no >= floor {
            self.recent.push_back((append_no, entry, generation));
        }
    }

    /// ISR members now, the leader included.
    pub fn in_sync(&self) -> u8 {
        self.in_sync
    }

    /// ISR members at `now`, counting the followers whose lag is over but that have not been
    /// taken back yet (that happens at the next append or crash): what an observer sees.
    pub fn in_sync_at(&self, now: Micros) -> u8 {
        let back = (0..self.replicas as usize)
            .filter(|&r| self.out_until[r] != 0 && self.out_until[r] <= now)
            .count() as u8;
        self.in_sync + back
    }

    pub fn replicas(&self) -> u8 {
        self.replicas
    }

    /// Whether some follower's lag or downtime is over by `now`. Inlined into the append.
    #[inline(always)]
    pub(crate) fn rejoin_due(&self, now: Micros) -> bool {
        self.next_rejoin <= now
    }

    /// Takes back every replica whose lag or downtime is over: caught up with every append
    /// before `append_no`, it is in sync again. Returns how many rejoined.
    #[cold]
    pub(crate) fn rejoin(&mut self, now: Micros, append_no: u32) -> u8 {
        let mut back = 0;
        self.next_rejoin = Micros::MAX;
        for r in 0..self.replicas as usize {
            let until = self.out_until[r];
            if until == 0 {
                continue;
            }
            if until <= now {
                self.out_until[r] = 0;
                self.down[r] = false;
                self.caught_up_to[r] = append_no;
                back += 1;
            } else {
                self.next_rejoin = self.next_rejoin.min(until);
            }
        }
        self.in_sync += back;
        back
    }

    fn leave(&mut self, replica: u8, until: Micros, down: bool, lacks_from: u32) {
        let r = replica as usize;
        if self.out_until[r] == 0 {
            self.in_sync -= 1;
        }
        self.out_until[r] = until.max(1);
        self.down[r] = down;
        self.lacks_from[r] = lacks_from;
        self.next_rejoin = self.next_rejoin.min(until.max(1));
    }

    /// A follower in sync falls behind until `until`, lacking appends from `append_no` on:
    /// the first one in replica order. Returns it, or `None` if every follower is out already.
    pub(crate) fn fall_behind(&mut self, until: Micros, append_no: u32) -> Option<u8> {
        let follower =
            (0..self.replicas).find(|&r| r != self.leader && self.out_until[r as usize] == 0)?;
        self.leave(follower, until, false, append_no);
        Some(follower)
    }

    /// The leader crashes at `now` and is down until `back`; `append_no` is the next append.
    /// The controller elects the first follower in sync, in replica order; failing that, with
    /// `unclean` on, the first follower that is up (as Kafka's controller takes the first
    /// live replica of the assignment); failing that, the partition waits for the leader.
    pub(crate) fn crash_leader(&mut self, back: Micros, append_no: u32, unclean: bool) -> Election {
        if self.replicas == 1 {
            return Election::Single;
        }
        let old = self.leader;
        let follower_up = |isr: &Isr, r: u8, in_sync: bool| {
            r != old && (isr.out_until[r as usize] == 0) == in_sync && !isr.down[r as usize]
        };
        let election = if let Some(r) = (0..self.replicas).find(|&r| follower_up(self, r, true)) {
            Election::Clean {
                leader: r,
                has_below: self.caught_up_to[r as usize],
            }
        } else if let Some(r) = (0..self.replicas).find(|&r| unclean && follower_up(self, r, false))
        {
            let lacks_from = self.lacks_from[r as usize];
            // It leads, so it is the ISR now: its lag no longer matters.
            self.out_until[r as usize] = 0;
            self.in_sync += 1;
            Election::Unclean {
                leader: r,
                lacks_from,
            }
        } else {
            return Election::WaitForLeader;
        };
        let (Election::Clean { leader, .. } | Election::Unclean { leader, .. }) = election else {
            unreachable!("an election above")
        };
        self.leader = leader;
        self.leave(old, back, true, append_no);
        self.next_rejoin = (0..self.replicas as usize)
            .map(|r| self.out_until[r])
            .filter(|&t| t != 0)
            .min()
            .unwrap_or(Micros::MAX);
        election
    }
}

impl Brokers {
    pub(crate) fn on_durable(
        &mut self,
        world: &mut World,
        entry: u32,
        generation: u32,
        acked: bool,
    ) {
        let Some(e) = self.entries.live(entry, generation) else {
            return;
        };
        if e.state != EntryState::Replicating {
            return;
        }
        // Only after a crash that elected nobody: the leader kept this append in its log,
        // and it is committed once the leader is back.
        if let Some(up) = self.broker_down_until.filter(|&t| t > world.now) {
            world.queue.schedule(
                up,
                Event::Durable {
                    entry,
                    generation,
                    acked,
                },
            );
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
        let (attempt, producer) = match world.msgs.get_mut(msg) {
            Some(m) => {
                m.durable = true;
                (m.publish_attempts, m.producer)
            }
            None => (1, world.producer_of(msg)),
        };
        let rf = world.scenario.replicas().max(1);
        if world.is_traced(msg) {
            let isr = self.isr.in_sync() as u32;
            let visible = if open {
                "in its producer's open transaction: a read-committed reader stops before it (the last stable offset) until the transaction ends"
            } else {
                "visible to consumers"
            };
            let note = if rf == 1 {
                format!("flushed; {visible}")
            } else if isr == rf {
                format!("on all {rf} replicas; {visible}")
            } else if isr == 1 {
                format!(
                    "on the leader alone, the only in-sync replica of {rf}; {visible} (committed, yet on one broker)"
                )
            } else {
                format!("on the {isr} in-sync replicas of {rf}; {visible}")
            };
            trace!(
                world,
                msg,
                TraceKind::Replicated,
                Actor::Broker,
                None,
                None,
                0,
                delivery_key(copy, 0) as u32,
                note
            );
        }
        if world.acks == Acks::All && !acked {
            if self.isr.in_sync() < self.min_insync {
                self.refuse_after_append(world, msg, attempt, copy, writer);
            } else {
                self.send_publish_ack(world, msg, producer, attempt, writer);
            }
        }
        self.make_ready(world, entry, partition);
    }

    /// The ISR shrank below `min.insync.replicas` after this record was appended: Kafka
    /// answers NotEnoughReplicasAfterAppend instead of the ack. The record stays in the log,
    /// and the producer retries it: a second record without an idempotent producer.
    #[cold]
    fn refuse_after_append(
        &mut self,
        world: &mut World,
        msg: u32,
        attempt: u16,
        copy: u8,
        writer: Writer,
    ) {
        if self.isr.rejoin_due(world.now) {
            self.isr_rejoin(world, Some(msg));
        }
        if self.isr.in_sync() >= self.min_insync {
            let producer = world.msgs.get(msg).map_or(0, |m| m.producer);
            self.send_publish_ack(world, msg, producer, attempt, writer);
            return;
        }
        world.metrics.counters.not_enough_replicas_after_append += 1;
        let (isr, min) = (self.isr.in_sync(), self.min_insync);
        trace!(
            world,
            msg,
            TraceKind::NotEnoughReplicas,
            Actor::Broker,
            None,
            None,
            attempt as u32,
            delivery_key(copy, 0) as u32,
            format!(
                "NotEnoughReplicasAfterAppend: the record is in the log, but only {isr} replica(s) are in sync, fewer than min.insync.replicas={min}: no ack; the producer will retry (a duplicate without an idempotent producer)"
            ),
        );
    }

    /// Followers whose lag is over rejoin the ISR, caught up; the append `msg` is the first
    /// to go to them again (its trace says so).
    #[cold]
    pub(super) fn isr_rejoin(&mut self, world: &mut World, msg: Option<u32>) {
        let back = self
            .isr
            .rejoin(world.now, world.metrics.counters.appends as u32);
        if back > 0 {
            world.metrics.counters.isr_expands += back as u64;
            if let Some(msg) = msg {
                let (isr, rf) = (self.isr.in_sync(), self.isr.replicas());
                trace!(
                    world,
                    msg,
                    TraceKind::IsrExpanded,
                    Actor::Broker,
                    None,
                    None,
                    0,
                    0,
                    format!(
                        "{} caught up and rejoined the in-sync replicas ({isr} of {rf} now) before this append",
                        if back == 1 { "a follower" } else { "followers" }
                    ),
                );
            }
        }
    }

    /// The fault `replica-lag` struck on this append: the first follower in sync falls out of
    /// the ISR for `replica-lag-ms`, and neither this record nor later ones reach it until it
    /// is back (Kafka: a follower that has not caught up for `replica.lag.time.max.ms`).
    #[cold]
    pub(super) fn follower_falls_behind(
        &mut self,
        world: &mut World,
        msg: u32,
        append_no: u32,
        attempt: u16,
    ) {
        let until = world.now + world.timing.replica_lag;
        let Some(follower) = self.isr.fall_behind(until, append_no) else {
            return;
        };
        world.metrics.counters.isr_shrinks += 1;
        let (isr, rf) = (self.isr.in_sync(), self.isr.replicas());
        trace!(
            world,
            msg,
            TraceKind::IsrShrunk,
            Actor::Broker,
            None,
            None,
            attempt as u32,
            0,
            format!(
                "replica {follower} fell behind and left the in-sync replicas ({isr} of {rf} left, replica.lag.time.max.ms) for {} ms: it does not get this record or later ones until it catches up{}",
                crate::scenario::knobs::format_number(world.scenario.replica_lag_ms),
                if isr == 1 {
                    "; the leader alone is the ISR, so acks=all acks what only the leader has"
                } else {
                    ""
                }
            ),
        );
    }

    /// The leader of the partition crashes. The controller elects a new leader (see
    /// `Isr::crash_leader`), and the partition is unavailable for `failover-ms` meanwhile: the
    /// election's time, or, when nobody may lead, the old leader's restart. Appends not yet
    /// replicated are gone with a new leader; an unclean one also lacks every append since it
    /// fell behind. `trigger` is the append a random crash follows; `scripted` the script's
    /// entry that crashed it at its time.
    #[cold]
    pub(crate) fn kafka_crash_broker(
        &mut self,
        world: &mut World,
        trigger: Option<u32>,
        scripted: Option<u16>,
    ) {
        world.metrics.counters.broker_crashes += 1;
        self.broker_down_until = Some(world.now + world.timing.failover);
        if let Some(trigger) = trigger {
            trace!(
                world,
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
        if self.isr.rejoin_due(world.now) {
            self.isr_rejoin(world, None);
        }
        let append_no = world.metrics.counters.appends as u32;
        let election = self.isr.crash_leader(
            world.now + world.timing.failover,
            append_no,
            world.scenario.unclean_election,
        );
        match election {
            Election::Clean { has_below, .. } => {
                self.truncate_unreplicated(world, has_below, scripted)
            }
            Election::Single => self.truncate_unreplicated(world, 0, scripted),
            Election::Unclean { leader, lacks_from } => {
                world.metrics.counters.unclean_elections += 1;
                self.truncate_unclean(world, leader, lacks_from, scripted);
            }
            Election::WaitForLeader => {}
        }
        self.coordinator_reset();
    }

    /// A queue broker's crash (RabbitMQ's node, SQS's endpoint): it counts, the broker is
    /// down for `failover-ms`, and every message it had received but not yet made durable is
    /// gone, never acknowledged, so its producer sends it again. Returns those messages; the
    /// caller schedules the recovery once it has closed what the crash closes.
    #[cold]
    pub(crate) fn queue_broker_down(
        &mut self,
        world: &mut World,
        trigger: Option<u32>,
        scripted: Option<u16>,
        trigger_note: &str,
        lost_note: &str,
    ) -> Vec<u32> {
        world.metrics.counters.broker_crashes += 1;
        self.broker_down_until = Some(world.now + world.timing.failover);
        if let Some(trigger) = trigger {
            trace!(
                world,
                trigger,
                TraceKind::BrokerCrash,
                Actor::Broker,
                None,
                None,
                0,
                0,
                trigger_note
            );
        }
        let unwritten: Vec<(u32, u32)> = self.replicating.drain(..).collect();
        let mut lost = Vec::new();
        for (entry, generation) in unwritten {
            let Some(e) = self.entries.live(entry, generation) else {
                continue;
            };
            let (msg, copy) = (e.msg, e.copy);
            if let Some(m) = world.msgs.get_mut(msg) {
                m.live_entries = m.live_entries.saturating_sub(1);
            }
            lost.push(msg);
            trace!(
                world,
                msg,
                TraceKind::Truncated,
                Actor::Broker,
                None,
                None,
                0,
                delivery_key(copy, 0) as u32,
                world.scripted_note(scripted, lost_note),
            );
            self.finish_entry(world, entry);
        }
        lost
    }

    /// Every append not yet on the replicas is gone: the new leader never had it, unless it
    /// caught up past it when it rejoined the ISR (`has_below`).
    fn truncate_unreplicated(&mut self, world: &mut World, has_below: u32, scripted: Option<u16>) {
        let mut lost: Vec<(u32, u32)> = self.replicating.drain(..).collect();
        if has_below > 0 {
            let entries = &self.entries;
            let kept = lost.iter().copied().filter(|&(entry, generation)| {
                entries
                    .live(entry, generation)
                    .is_some_and(|e| e.append_no < has_below)
            });
            self.replicating.extend(kept);
            lost.retain(|&(entry, generation)| {
                entries
                    .live(entry, generation)
                    .is_none_or(|e| e.append_no >= has_below)
            });
        }
        // The new leader's producer state, rebuilt from its own log, does not have the
        // truncated sequences.
        self.producer_states
            .truncate(&lost.iter().copied().collect());
        for (entry, generation) in lost {
            let Some(e) = self.entries.live(entry, generation) else {
                continue;
            };
            let (msg, copy) = (e.msg, e.copy);
            self.entries.free(entry);
            if let Some(m) = world.msgs.get_mut(msg) {
                m.live_entries = m.live_entries.saturating_sub(1);
                m.cause = Cause::Truncated;
                let waiting = m.waiting_ack;
                let acks = world.acks;
                trace!(
                    world,
                    msg,
                    TraceKind::Truncated,
                    Actor::Broker,
                    None,
                    None,
                    0,
                    delivery_key(copy, 0) as u32,
                    world.scripted_note(
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
            world.release(msg);
        }
    }

    /// Unclean leader election: the new leader fell behind at append `lacks_from`, so every
    /// record appended since (and any still replicating) is gone from the partition,
    /// acknowledged or not. A record a consumer has already read stays read; the rest is lost
    /// unless its producer is still waiting for the ack and retries.
    fn truncate_unclean(
        &mut self,
        world: &mut World,
        leader: u8,
        lacks_from: u32,
        scripted: Option<u16>,
    ) {
        // Those still replicating, then those appended since `lacks_from`, in append order;
        // a record in both is freed once (the second look-up finds it gone).
        let mut doomed: Vec<(u32, u32)> = self.replicating.drain(..).collect();
        doomed.extend(
            self.isr
                .recent
                .iter()
                .filter(|&&(no, ..)| no >= lacks_from)
                .map(|&(_, entry, generation)| (entry, generation)),
        );
        self.producer_states
            .truncate(&doomed.iter().copied().collect());
        for (entry, generation) in doomed {
            let Some(e) = self.entries.live(entry, generation) else {
                continue;
            };
            let (msg, copy) = (e.msg, e.copy);
            self.entries.free(entry);
            world.metrics.counters.unclean_truncated += 1;
            if let Some(m) = world.msgs.get_mut(msg) {
                m.live_entries = m.live_entries.saturating_sub(1);
                if m.live_entries == 0 {
                    m.durable = false;
                }
                m.cause = Cause::UncleanElection;
                let waiting = m.waiting_ack;
                trace!(
                    world,
                    msg,
                    TraceKind::UncleanTruncated,
                    Actor::Broker,
                    None,
                    None,
                    0,
                    delivery_key(copy, 0) as u32,
                    world.scripted_note(
                        scripted,
                        &format!(
                            "the leader, the only in-sync replica, crashed and replica {leader}, which had fallen behind before this record, was elected anyway (unclean.leader.election.enable=true): the record is gone from the partition{}",
                            if waiting {
                                "; the producer is still waiting and will retry"
                            } else {
                                ", though the producer was told it was safe"
                            }
                        )
                    )
                );
            }
            world.release(msg);
        }
    }
}
