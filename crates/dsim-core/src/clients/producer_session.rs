//! A producer's session with the broker, client side: its producer ID and epoch (Kafka's
//! `InitProducerId`), per partition its sequence numbers and its window of unacknowledged
//! sends (`max.in.flight.requests.per.connection`), and what a restart does to them
//! (`producer-restart`, and `relay-crash` for the outbox relay, which is a producer too).
//!
//! Every instance gets a producer ID; without idempotence the broker ignores it (Kafka sends
//! none), and it only tells the instances apart, so that an ack meant for a dead instance is
//! not taken by its successor.

use std::collections::VecDeque;

use crate::brokers::Brokers;
use crate::brokers::kafka::producer_state::{
    Batch, NUM_BATCHES_TO_RETAIN, RECORDS_PER_BATCH, wire_epoch,
};
use crate::brokers::kafka::{EntryState, Refusal, Txn, delivery_key};
use crate::clients::Clients;
use crate::engine::{World, trace};
use crate::observe::trace::{Actor, TraceKind};
use crate::time::Micros;

/// One record sent and not yet acknowledged.
#[derive(Clone, Copy, Debug)]
pub struct Sent {
    pub msg: u32,
    /// The first record of the batch it was sent in (`Batch::lead`): records sent together
    /// are one request, which counts once against `max-in-flight`.
    pub lead: u32,
    pub seq: u32,
    /// The epoch it is numbered in (`wire_epoch`).
    pub epoch: u32,
    /// The log entry the broker appended for it in this epoch, `(entry, generation)`: in
    /// exactly-once, the record of the producer's open transaction, committed with the ack
    /// and aborted if the instance is replaced.
    pub appended: Option<(u32, u32)>,
    /// Acknowledged, but still holding its place in the window behind an older record that
    /// is not (see `SendWindow::in_flight`).
    pub acked: bool,
    /// Sends that count against `max-retries`: every send, less those the partition refused
    /// as out of order (see `refund_refused_send`).
    pub tries: u16,
}

/// What a producer has in flight to one partition.
#[derive(Clone, Debug, Default)]
pub struct SendWindow {
    /// Epoch bumps on this partition after a given-up record left a gap (KIP-360).
    pub bump: u16,
    pub next_seq: u32,
    /// Sent records, in sequence order, in at most `max-in-flight` requests (batches). An
    /// idempotent producer's window runs from its oldest unacknowledged record on and slides
    /// only when that one is acked, as a Kafka connection's requests complete in order: so it
    /// never has a record more than five batches behind the newest it sent, and the broker's
    /// five retained batches always cover its retries. Without idempotence it holds
    /// unacknowledged records only, one per request (see `ack_sent`).
    pub in_flight: Vec<Sent>,
    /// When the partition's last on-time publish arrives: a producer's requests reach the
    /// broker in the order it sent them (one connection, handled in order), so network
    /// jitter delays a publish but never lets a later one overtake it.
    pub last_arrival: Micros,
    /// Written to the producer's database, waiting for room in the window (or for the
    /// producer to be back).
    pub waiting: VecDeque<u32>,
    /// `requests_in_flight` of `in_flight`, kept up to date by every change to it: the
    /// producer asks for it at every send and every ack. Wider than Kafka's five needs: a
    /// RabbitMQ or SQS producer has no bound, and a broker outage leaves hundreds unanswered.
    pub requests: u32,
}

impl SendWindow {
    /// Requests in flight: batches with a record still in the window. Batch mates are sent
    /// together and numbered in a row, so they sit side by side.
    pub fn requests_in_flight(&self) -> usize {
        debug_assert_eq!(self.requests as usize, count_requests(&self.in_flight));
        self.requests as usize
    }

    /// Counts the requests again after a change to the window.
    pub fn recount(&mut self) {
        self.requests = count_requests(&self.in_flight) as u32;
    }

    /// The position of `msg`'s unacknowledged record. Records enter the window in their
    /// message order (a partition's payments are written in order, and a restart puts the
    /// unacknowledged ones back first), so a binary search finds it; the scan is a fallback.
    pub fn position_of(&self, msg: u32) -> Option<usize> {
        let i = self.in_flight.partition_point(|s| s.msg < msg);
        match self.in_flight.get(i) {
            Some(s) if s.msg == msg && !s.acked => Some(i),
            _ => self.in_flight.iter().position(|s| s.msg == msg && !s.acked),
        }
    }

    /// Moves the acknowledged records at the front into `out`: the window slides.
    pub fn take_acked_prefix(&mut self, out: &mut Vec<Sent>) {
        let acked = self.in_flight.iter().take_while(|s| s.acked).count();
        if acked > 0 {
            out.extend(self.in_flight.drain(..acked));
            self.recount();
        }
    }

    /// Drops the acknowledged records at the front: the window slides.
    fn slide(&mut self) {
        let acked = self.in_flight.iter().take_while(|s| s.acked).count();
        if acked > 0 {
            self.in_flight.drain(..acked);
            self.recount();
        }
    }
}

fn count_requests(in_flight: &[Sent]) -> usize {
    let mut requests = 0;
    let mut previous = None;
    for s in in_flight {
        if previous != Some(s.lead) {
            requests += 1;
            previous = Some(s.lead);
        }
    }
    requests
}

#[derive(Clone, Debug)]
pub struct ProducerSession {
    pub producer_id: u32,
    pub epoch: u16,
    /// The producer ID before the last restart: the broker keeps its state for the
    /// stragglers of that instance still on the network, and forgets the one before.
    pub previous_id: Option<u32>,
    /// Down between a crash and its restart.
    pub alive: bool,
    /// Per partition.
    pub windows: Vec<SendWindow>,
}

impl ProducerSession {
    pub fn new(producer_id: u32, partitions: usize) -> ProducerSession {
        ProducerSession {
            producer_id,
            epoch: 0,
            previous_id: None,
            alive: true,
            windows: vec![SendWindow::default(); partitions],
        }
    }

    /// The batch header of a record sent to `partition` now.
    pub fn batch(&self, sent: &Sent) -> Batch {
        Batch {
            producer_id: self.producer_id,
            epoch: sent.epoch,
            seq: sent.seq,
            lead: sent.lead,
        }
    }
}

// The window never holds more than the broker retains: an idempotent producer may have at
// most five requests in flight per partition (Kafka refuses more).
const _: () = assert!(crate::scenario::DEFAULT_MAX_IN_FLIGHT as usize <= NUM_BATCHES_TO_RETAIN);

impl Clients {
    /// Sends the partition's waiting records while its window has room and the producer is
    /// up. Records waiting together go out as one batch (one request) of up to
    /// `RECORDS_PER_BATCH`, as Kafka's record accumulator fills a batch while the requests
    /// in flight hold the connection; an idle producer sends each record alone. Without
    /// idempotence a batch is one record: each record's fate on the network is its own here,
    /// while a lost Kafka batch is retried whole, so larger batches would let a retried
    /// record fall behind its batch mates, which Kafka never does.
    pub(crate) fn admit(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        producer: u16,
        partition: u16,
    ) {
        let max = brokers.max_requests(world);
        let per_batch = if world.idempotent {
            RECORDS_PER_BATCH
        } else {
            1
        };
        loop {
            let s = &mut self.sessions[producer as usize];
            if !s.alive {
                return;
            }
            let epoch = s.epoch;
            let w = &mut s.windows[partition as usize];
            if w.requests_in_flight() >= max {
                return;
            }
            let Some(&lead) = w.waiting.front() else {
                return;
            };
            let n = w.waiting.len().min(per_batch);
            w.requests += 1;
            for msg in w.waiting.drain(..n) {
                w.in_flight.push(Sent {
                    msg,
                    lead,
                    seq: w.next_seq,
                    epoch: wire_epoch(epoch, w.bump),
                    appended: None,
                    acked: false,
                    tries: 1,
                });
                w.next_seq = w.next_seq.wrapping_add(1);
            }
            let first = w.in_flight.len() - n;
            for i in first..first + n {
                // A send may kill the producer (`producer-restart`): its restart resends the
                // rest, and the loop then stops.
                let s = &self.sessions[producer as usize];
                if !s.alive {
                    return;
                }
                let sent = s.windows[partition as usize].in_flight[i];
                let batch = s.batch(&sent);
                self.send_publish(world, sent.msg, batch);
            }
        }
    }

    /// The record in flight for `msg`, if its producer is waiting for its ack.
    pub(crate) fn sent(&self, producer: u16, partition: u16, msg: u32) -> Option<Sent> {
        let w = &self.sessions[producer as usize].windows[partition as usize];
        w.position_of(msg).map(|i| w.in_flight[i])
    }

    /// When a publish sent now over `delay` reaches the broker. An on-time publish arrives no
    /// earlier than the partition's previous on-time publish from this producer (see
    /// `SendWindow::last_arrival`): jitter never reorders records sent together, say the
    /// window's resends after a restart. One held back by the `delay` fault is overtaken, as
    /// before.
    pub(crate) fn in_order_arrival(
        &mut self,
        world: &mut World,
        producer: u16,
        partition: u16,
        delay: Micros,
    ) -> Micros {
        let at = world.now + delay;
        if delay > world.faults.on_time_bound() {
            return at;
        }
        let w = &mut self.sessions[producer as usize].windows[partition as usize];
        let at = at.max(w.last_arrival);
        w.last_arrival = at;
        at
    }

    /// The ack of `msg` reached its producer: the record is done. An idempotent producer's
    /// window slides past every acked record at its front; without idempotence the window
    /// only counts unacknowledged sends (the brief's `max-in-flight`), so a record stuck in
    /// retries holds one place and the others flow past it, which is how it can land behind
    /// a later one.
    pub(crate) fn ack_sent(
        &mut self,
        world: &mut World,
        producer: u16,
        partition: u16,
        msg: u32,
    ) -> Option<Sent> {
        let sliding = world.idempotent;
        let w = &mut self.sessions[producer as usize].windows[partition as usize];
        let i = w.position_of(msg)?;
        if !sliding {
            // One record per request without idempotence.
            let sent = w.in_flight.remove(i);
            w.requests -= 1;
            return Some(sent);
        }
        let sent = &mut w.in_flight[i];
        sent.acked = true;
        let done = *sent;
        w.slide();
        Some(done)
    }

    /// Whether `msg` is the oldest unacknowledged record of its window.
    pub(crate) fn oldest_unacked(&self, producer: u16, partition: u16, msg: u32) -> bool {
        self.sessions[producer as usize].windows[partition as usize]
            .in_flight
            .iter()
            .find(|s| !s.acked)
            .is_none_or(|s| s.msg == msg)
    }

    /// An idempotent producer's retry after its oldest record's ack timeout: every
    /// unacknowledged record of the partition again, in sequence order. In Kafka a request timeout closes the connection,
    /// failing every request in flight on it, and the client sends them again in order; a
    /// later record alone would only be refused as out of order behind a missing one.
    pub(crate) fn resend_window(&mut self, world: &mut World, producer: u16, partition: u16) {
        let unacked: Vec<u32> = self.sessions[producer as usize].windows[partition as usize]
            .in_flight
            .iter()
            .filter(|s| !s.acked)
            .map(|s| s.msg)
            .collect();
        for msg in unacked {
            // A resend may kill the producer (`producer-restart`); its restart resends all.
            if !self.sessions[producer as usize].alive {
                return;
            }
            let w = &mut self.sessions[producer as usize].windows[partition as usize];
            if let Some(i) = w.position_of(msg) {
                let sent = &mut w.in_flight[i];
                sent.tries = sent.tries.saturating_add(1);
                let sent = *sent;
                let batch = self.sessions[producer as usize].batch(&sent);
                world.metrics.counters.retries += 1;
                self.send_publish(world, msg, batch);
            }
        }
    }

    /// Notes the log entry the broker appended for a record of the live instance that sent
    /// it (the offset its ack would carry).
    pub(crate) fn note_append(
        &mut self,
        producer: u16,
        partition: u16,
        msg: u32,
        batch: Batch,
        entry: (u32, u32),
    ) {
        let s = &mut self.sessions[producer as usize];
        if s.producer_id != batch.producer_id {
            return;
        }
        let w = &mut s.windows[partition as usize];
        let i = w.in_flight.partition_point(|x| x.msg < msg);
        let hit = |x: &Sent| x.msg == msg && x.epoch == batch.epoch && x.seq == batch.seq;
        let i = match w.in_flight.get(i) {
            Some(x) if hit(x) => Some(i),
            _ => w.in_flight.iter().position(hit),
        };
        if let Some(i) = i {
            w.in_flight[i].appended = Some(entry);
        }
    }

    /// The partition refused a send with an error the client acts on (see `Refusal`). Out of
    /// order: a leader that lost acknowledged records makes the producer bump its epoch
    /// (`reset_after_lost_acks`); otherwise the send is refunded. A stale epoch: refunded only
    /// if the producer has renumbered the record since, as the error names the epoch and the
    /// record's new numbering is on its way.
    pub(crate) fn on_publish_refused(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        msg: u32,
        refusal: Refusal,
    ) {
        match refusal {
            Refusal::OutOfOrder {
                producer,
                partition,
                batch,
                expected,
            } => {
                if !self.reset_after_lost_acks(brokers, world, producer, partition, batch, expected)
                {
                    self.refund_refused_send(producer, partition, msg, batch);
                }
            }
            Refusal::StaleEpoch {
                producer,
                partition,
                batch,
            } => {
                if self
                    .sent(producer, partition, msg)
                    .is_some_and(|s| s.epoch > batch.epoch)
                {
                    self.refund_refused_send(producer, partition, msg, batch);
                }
            }
        }
    }

    /// The partition refused a send as out of order: an earlier record is missing. Kafka's
    /// error response (`OUT_OF_ORDER_SEQUENCE_NUMBER`) tells the producer, whose client
    /// retries such a batch while the earlier one is unresolved; here the send does not use
    /// up one of the record's retries, so a record is not given up for its predecessor's
    /// losses. Nor does a send of an epoch the producer has since bumped (its record was
    /// renumbered after a gap and resent).
    pub(crate) fn refund_refused_send(
        &mut self,
        producer: u16,
        partition: u16,
        msg: u32,
        batch: Batch,
    ) {
        let s = &mut self.sessions[producer as usize];
        if s.producer_id != batch.producer_id {
            return;
        }
        let w = &mut s.windows[partition as usize];
        if let Some(i) = w.position_of(msg) {
            w.in_flight[i].tries = w.in_flight[i].tries.saturating_sub(1);
        }
    }

    /// Takes a record its producer gave up out of its window.
    pub(crate) fn take_sent(&mut self, producer: u16, partition: u16, msg: u32) -> Option<Sent> {
        let w = &mut self.sessions[producer as usize].windows[partition as usize];
        let i = w.position_of(msg)?;
        let sent = w.in_flight.remove(i);
        w.recount();
        w.slide();
        Some(sent)
    }

    /// The producer gave `given_up` up. If it never landed, every later sequence of its epoch
    /// is refused as out of order for ever; Kafka's idempotent producer then bumps its epoch
    /// and numbers its unacknowledged records from 0 again (KIP-360). Kafka's client learns
    /// whether the record landed from the responses of the later ones (its "unresolved
    /// sequences"); the simulator asks the broker's state directly, which gives the same
    /// outcome without modelling those responses.
    pub(crate) fn close_sequence_gap(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        producer: u16,
        partition: u16,
        given_up: Sent,
    ) {
        let pid = self.sessions[producer as usize].producer_id;
        if brokers
            .producer_states
            .landed_or_moved_on(pid, partition, given_up.epoch, given_up.seq)
        {
            return;
        }
        let s = &mut self.sessions[producer as usize];
        let instance_epoch = s.epoch;
        let w = &mut s.windows[partition as usize];
        w.bump = w.bump.wrapping_add(1);
        let epoch = wire_epoch(instance_epoch, w.bump);
        // Only the records after the gap: none of them can have landed. One before it (rare:
        // it would have had more attempts) keeps its numbering and is refused as stale.
        let mut next = 0;
        for sent in w.in_flight.iter_mut() {
            if sent.epoch == given_up.epoch && sent.seq > given_up.seq {
                sent.seq = next;
                sent.epoch = epoch;
                sent.appended = None;
                next += 1;
            }
        }
        w.next_seq = next;
        let renumbered: Vec<u32> = w
            .in_flight
            .iter()
            .filter(|s| s.epoch == epoch)
            .map(|s| s.msg)
            .collect();
        brokers.producer_states.bump_epoch(pid, partition, epoch);
        trace!(
            world,
            given_up.msg,
            TraceKind::EpochBumped,
            Actor::Producer,
            None,
            Some(producer as u32),
            0,
            0,
            format!(
                "sequence {} never landed, so every later one would be refused as out of order: the producer bumps its epoch on partition {partition} and numbers its unacknowledged records from 0 (KIP-360)",
                given_up.seq
            ),
        );
        // Kafka's client resends the renumbered batches at once; they were refused only
        // because of the gap. (Their retries keep counting: each resend is an attempt.)
        for msg in renumbered {
            // A resend may kill the producer (`producer-restart`); its restart resends all.
            if !self.sessions[producer as usize].alive {
                break;
            }
            if let Some(sent) = self.sent(producer, partition, msg) {
                let batch = self.sessions[producer as usize].batch(&sent);
                self.send_publish(world, msg, batch);
            }
        }
    }

    /// The partition refused a send as out of order, expecting `expected`, a sequence the
    /// producer already has an ack for: a leader elected uncleanly lost acknowledged records,
    /// and rebuilt its producer state from a log without them. No retry can fill that gap.
    /// Kafka's client sees an out-of-order error for a batch that is not the next one
    /// unresolved, bumps its epoch on the partition and numbers its unacknowledged records
    /// from 0 (KIP-360), as after a record given up. Returns whether it did.
    pub(crate) fn reset_after_lost_acks(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        producer: u16,
        partition: u16,
        refused: Batch,
        expected: u32,
    ) -> bool {
        // A transactional producer's acked records still in the window are uncommitted:
        // they are renumbered and resent with the rest, their first records aborted.
        let transactional = world.scenario.transactional_producer();
        let s = &mut self.sessions[producer as usize];
        if s.producer_id != refused.producer_id || !s.alive {
            return false;
        }
        let instance_epoch = s.epoch;
        let w = &mut s.windows[partition as usize];
        let current = wire_epoch(instance_epoch, w.bump);
        let oldest = w
            .in_flight
            .iter()
            .filter(|x| !x.acked && x.epoch == current)
            .map(|x| x.seq)
            .min();
        if refused.epoch != current || oldest.is_none_or(|oldest| expected >= oldest) {
            return false;
        }
        w.bump = w.bump.wrapping_add(1);
        let epoch = wire_epoch(instance_epoch, w.bump);
        let mut next = 0;
        let mut open = Vec::new();
        for sent in w.in_flight.iter_mut().filter(|x| !x.acked || transactional) {
            open.extend(sent.appended);
            sent.seq = next;
            sent.epoch = epoch;
            sent.appended = None;
            sent.acked = false;
            next += 1;
        }
        w.in_flight.retain(|x| !x.acked);
        w.recount();
        w.next_seq = next;
        let renumbered: Vec<u32> = w.in_flight.iter().map(|x| x.msg).collect();
        for entry in open {
            self.abort_producer_record(
                brokers,
                world,
                entry,
                "the producer bumped its epoch and sends this record again",
            );
        }
        let pid = refused.producer_id;
        brokers.producer_states.bump_epoch(pid, partition, epoch);
        if let Some(&first) = renumbered.first() {
            trace!(
                world,
                first,
                TraceKind::EpochBumped,
                Actor::Producer,
                None,
                Some(producer as u32),
                0,
                0,
                format!(
                    "partition {partition} expects sequence {expected}, which the producer already had an ack for: the new leader lost acknowledged records, so the producer bumps its epoch and numbers its unacknowledged records from 0 (KIP-360)"
                ),
            );
        }
        for msg in renumbered {
            if !self.sessions[producer as usize].alive {
                break;
            }
            if let Some(sent) = self.sent(producer, partition, msg) {
                let batch = self.sessions[producer as usize].batch(&sent);
                self.send_publish(world, msg, batch);
            }
        }
        true
    }

    /// Exactly-once: the producer has the ack and commits the record's transaction (one
    /// record per transaction); a read-committed reader may now fetch it.
    pub(crate) fn commit_producer_record(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        entry: (u32, u32),
    ) {
        let Some(e) = brokers.entries.live(entry.0, entry.1) else {
            return;
        };
        if e.txn != Txn::Open {
            return;
        }
        let (state, partition) = (e.state, e.partition);
        brokers.entries.get_mut(entry.0).txn = Txn::Committed;
        // The partition's last stable offset may have been held at this record: its owner's
        // parked fetch can read on now.
        if state == EntryState::Ready
            && let Some(owner) = brokers.owner_of(partition)
        {
            brokers.serve_fetch(world, owner);
        }
    }

    /// Exactly-once: the record's transaction is aborted. It stays in the log, marked, and
    /// the fetch path skips it (`group.rs`): a read-committed reader never sees it.
    pub(crate) fn abort_producer_record(
        &mut self,
        brokers: &mut Brokers,
        world: &mut World,
        entry: (u32, u32),
        why: &str,
    ) {
        let Some(e) = brokers.entries.live(entry.0, entry.1) else {
            return;
        };
        if e.txn != Txn::Open {
            return;
        }
        let (state, partition, msg, copy) = (e.state, e.partition, e.msg, e.copy);
        brokers.entries.get_mut(entry.0).txn = Txn::Aborted;
        world.metrics.counters.records_aborted += 1;
        trace!(
            world,
            msg,
            TraceKind::RecordAborted,
            Actor::Broker,
            None,
            None,
            0,
            delivery_key(copy, 0) as u32,
            format!(
                "{why}: the record stays in the log marked aborted, and read-committed readers skip it"
            ),
        );
        // The partition's last stable offset may have been held at this record: its owner's
        // parked fetch can read on now.
        if state == EntryState::Ready
            && let Some(owner) = brokers.owner_of(partition)
        {
            brokers.serve_fetch(world, owner);
        }
    }
}
