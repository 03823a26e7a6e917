//! The broker's side of an SQS run: storing a sent message (with FIFO's deduplication),
//! answering `ReceiveMessage` (a long poll), the visibility timeout, `DeleteMessage`, the
//! redrive to a dead-letter queue, and an endpoint outage. The engine and the consumer reach
//! it through `brokers/family.rs` where the families differ; the consumer's side (its
//! receive loop, its deletes, its crashes) is `clients/sqs.rs`.

use super::queue::Stored;
use crate::brokers::Brokers;
use crate::brokers::kafka::delivery_key;
use crate::engine::faults::{FaultSite, Verdict};
use crate::engine::messages::Cause;
use crate::engine::timers::TimerKind;
use crate::engine::{Event, World, trace};
use crate::observe::trace::{Actor, TraceKind};
use crate::scenario::script::Link;
use crate::time::Micros;

impl Brokers {
    fn sqs_fifo(&self) -> bool {
        self.family.sqs().is_some_and(|q| q.fifo)
    }

    /// SQS FIFO's deduplication of a `SendMessage` that reached the queue: one whose
    /// deduplication ID the queue took less than five minutes before is answered with success
    /// and not enqueued. Returns whether the queue takes it.
    pub(crate) fn sqs_fifo_accepts(
        &mut self,
        world: &mut World,
        msg: u32,
        attempt: u16,
        net_copy: u8,
        writer: crate::brokers::kafka::Writer,
    ) -> bool {
        let now = world.now;
        let Some(q) = self.family.sqs_mut().filter(|q| q.fifo) else {
            return true;
        };
        if q.dedup.accept(msg, now) {
            return true;
        }
        let first = q.dedup.first_sent(msg).unwrap_or(now);
        world.metrics.counters.duplicates_dropped_by_broker += 1;
        trace!(
            world,
            msg,
            TraceKind::DuplicateDropped,
            Actor::Broker,
            None,
            None,
            attempt as u32,
            net_copy as u32,
            format!(
                "deduplication ID {msg} was first sent {:.1} s ago, inside the five-minute window: SendMessage succeeds, nothing is enqueued",
                (now - first) as f64 / 1e6
            ),
        );
        // Answered once the first send is stored: a resend that overtakes it gets no answer
        // yet (the producer sends again later), so an endpoint failure before the store
        // cannot leave a success for a message SQS never kept.
        let storing = self.replicating.iter().any(|&(entry, generation)| {
            self.entries
                .live(entry, generation)
                .is_some_and(|e| e.msg == msg)
        });
        if !storing && let Some(m) = world.msgs.get(msg) {
            let producer = m.producer;
            self.send_publish_ack(world, msg, producer, attempt, writer);
        }
        false
    }

    /// The queue has stored the message: it is visible, at the position it took on arrival.
    pub(crate) fn sqs_enqueue(&mut self, world: &mut World, entry: u32, generation: u32) {
        let e = self.entries.get(entry);
        let (position, msg) = (e.offset, e.msg);
        // One message group per account (`MessageGroupId`), as a payments app would choose.
        let group = if self.sqs_fifo() {
            world.faults.payment(msg, world.scenario.accounts.max(1)).0
        } else {
            0
        };
        if let Some(q) = self.family.sqs_mut() {
            q.make_visible(
                position,
                Stored {
                    held: (entry, generation),
                    group,
                },
            );
        }
        self.sqs_serve_parked(world);
    }

    /// Answers the long polls waiting for a visible message, consumer by consumer.
    fn sqs_serve_parked(&mut self, world: &mut World) {
        for c in 0..world.consumers.len() {
            if self.family.sqs().is_none_or(|q| q.visible() == 0) {
                return;
            }
            if self.polls[c].parked {
                self.sqs_serve(world, c as u16);
            }
        }
    }

    /// A `ReceiveMessage` reached the queue: answered now if anything is visible, else it
    /// waits (long polling, `WaitTimeSeconds`; the client renews a poll that ran out at once,
    /// so the model keeps one waiting until a message becomes visible).
    pub(crate) fn on_sqs_receive_arrive(&mut self, world: &mut World, consumer: u16, session: u32) {
        let c = &mut world.consumers[consumer as usize];
        if !c.alive || c.session != session {
            return;
        }
        self.polls[consumer as usize].parked = true;
        self.sqs_serve(world, consumer);
    }

    /// Takes up to `receive-batch` visible messages for a waiting receive: each is in flight
    /// (invisible) for the visibility timeout from now, its receive count one higher. One whose
    /// count has reached `max-receives` moves to the dead-letter queue instead (SQS redrives
    /// when `ApproximateReceiveCount` would exceed `maxReceiveCount`).
    fn sqs_serve(&mut self, world: &mut World, consumer: u16) {
        if self.broker_down(world) {
            return;
        }
        let c = &world.consumers[consumer as usize];
        if !self.polls[consumer as usize].parked || !c.alive {
            return;
        }
        let session = c.session;
        let max = world.scenario.receive_batch.clamp(1, 10) as usize;
        let max_receives = world.scenario.max_receives;
        let Some(q) = self.family.sqs_mut() else {
            return;
        };
        let mut taken = std::mem::take(&mut q.scratch);
        let mut batch: Vec<(u64, Stored, u32)> = Vec::new();
        while batch.is_empty() {
            let Some(q) = self.family.sqs_mut() else {
                break;
            };
            q.take_batch(max, &mut taken);
            if taken.is_empty() {
                break;
            }
            for &(position, stored) in &taken {
                let (entry, _) = stored.held;
                let receives = self.entries.get(entry).deliveries;
                if max_receives > 0 && receives >= max_receives {
                    self.sqs_dead_letter(world, entry, receives);
                    continue;
                }
                let receive = receives.saturating_add(1);
                self.entries.get_mut(entry).deliveries = receive;
                if let Some(q) = self.family.sqs_mut() {
                    q.receive(position, stored, receive);
                }
                self.sqs_arm_visibility(world, position, receive);
                batch.push((position, stored, receive));
            }
        }
        if let Some(q) = self.family.sqs_mut() {
            q.scratch = taken;
        }
        if batch.is_empty() {
            // Nothing visible: the poll keeps waiting.
            return;
        }
        self.polls[consumer as usize].parked = false;
        self.sqs_send_receive_response(world, consumer, session, &batch);
    }

    /// The `ReceiveMessage` response: one HTTP response, so the network decides its fate once.
    /// Lost, its messages stay in flight, their receives counted, until the visibility timeout
    /// passes (SQS: a receive can count without reaching the consumer); the consumer polls
    /// again after its request timeout.
    fn sqs_send_receive_response(
        &mut self,
        world: &mut World,
        consumer: u16,
        session: u32,
        batch: &[(u64, Stored, u32)],
    ) {
        world.metrics.counters.network_messages += 1;
        let first = self.entries.get(batch[0].1.held.0);
        let lost_before = self.polls[consumer as usize].lost_responses;
        let verdict = world.faults.network(
            FaultSite::Delivery,
            Link::Consumer(consumer),
            world.now,
            first.msg,
            batch[0].2.wrapping_add(lost_before.wrapping_mul(1000)),
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
        let vt_ms = world.scenario.visibility_timeout_ms;
        for &(position, stored, receive) in batch {
            let (entry, generation) = stored.held;
            let e = self.entries.get(entry);
            let (msg, copy) = (e.msg, e.copy);
            let key = delivery_key(copy, 0);
            if let Some(q) = self.family.sqs_mut() {
                q.receives += 1;
            }
            if receive > 1 {
                world.metrics.counters.replayed += 1;
                world.metrics.examples.replayed.get_or_insert(msg);
            }
            trace!(
                world,
                msg,
                if receive == 1 {
                    TraceKind::Delivered
                } else {
                    TraceKind::Replayed
                },
                Actor::Broker,
                Some(Actor::Consumer),
                Some(consumer as u32),
                receive,
                key as u32,
                if receive == 1 {
                    format!(
                        "received by consumer {consumer} (queue position {position}): invisible to other receives for {vt_ms} ms unless deleted"
                    )
                } else {
                    format!(
                        "received AGAIN by consumer {consumer} (receive count {receive}): an earlier receive's visibility timeout passed without a DeleteMessage"
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
                        receive,
                        key as u32,
                        world.scripted_note(
                            scripted,
                            "the ReceiveMessage response was lost on the network: the receive counts, and the message stays invisible until its visibility timeout passes"
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
                            delivery: receive,
                            copy: key,
                            consumer,
                            session,
                        },
                    );
                }
            }
        }
        let done = delay.unwrap_or(world.timing.ack_timeout);
        world
            .queue
            .schedule(world.now + done, Event::FetchDone { consumer, session });
    }

    /// The redrive policy moves the message to the dead-letter queue: out of this queue, never
    /// applied from here.
    fn sqs_dead_letter(&mut self, world: &mut World, entry: u32, receives: u32) {
        let e = self.entries.get(entry);
        let (msg, copy, position) = (e.msg, e.copy, e.offset);
        if let Some(q) = self.family.sqs_mut() {
            q.dead_lettered += 1;
        }
        if let Some(m) = world.msgs.get_mut(msg) {
            m.dead_lettered = true;
        }
        let max = world.scenario.max_receives;
        trace!(
            world,
            msg,
            TraceKind::DeadLettered,
            Actor::Broker,
            None,
            None,
            receives,
            delivery_key(copy, 0) as u32,
            format!(
                "received {receives} times without a DeleteMessage, and maxReceiveCount is {max}: the redrive policy moves it from queue position {position} to the dead-letter queue"
            ),
        );
        self.finish_entry(world, entry);
    }

    /// Arms the visibility timeout of a receive. It is one constant for the queue, so the
    /// timers fall due in the order they were armed (`TimerList`).
    fn sqs_arm_visibility(&mut self, world: &mut World, position: u64, receive: u32) {
        let at = world.now + world.timing.visibility_timeout;
        let Some(timers) = self.family.visibility_timers_mut() else {
            return;
        };
        if let Some(wake) = timers.add(at, (position, receive)) {
            world.queue.schedule(
                wake,
                Event::TimerWake {
                    kind: TimerKind::Visibility,
                },
            );
        }
    }

    /// Whether a visibility timer still counts: its receive is the one in flight.
    pub(crate) fn sqs_visibility_live(&self, (position, receive): (u64, u32)) -> bool {
        self.family
            .sqs()
            .is_some_and(|q| q.is_in_flight(position, receive))
    }

    /// The visibility timeout of a receive passed with no DeleteMessage: the message is
    /// visible again, at its position, for any consumer, whether or not the one that received
    /// it is still working on it (the timeout is not a lock).
    pub(crate) fn on_sqs_visibility_expired(
        &mut self,
        world: &mut World,
        (position, receive): (u64, u32),
    ) {
        let Some(stored) = self
            .family
            .sqs_mut()
            .and_then(|q| q.expire(position, receive))
        else {
            return;
        };
        if let Some(q) = self.family.sqs_mut() {
            q.expired += 1;
        }
        let (entry, generation) = stored.held;
        if let Some(e) = self.entries.live(entry, generation) {
            let (msg, copy) = (e.msg, e.copy);
            let vt_ms = world.scenario.visibility_timeout_ms;
            trace!(
                world,
                msg,
                TraceKind::VisibilityExpired,
                Actor::Broker,
                None,
                None,
                receive,
                delivery_key(copy, 0) as u32,
                format!(
                    "{vt_ms} ms since receive {receive} and no DeleteMessage: visible again at queue position {position}, to be received again"
                ),
            );
        }
        self.sqs_serve_parked(world);
    }

    /// A `DeleteMessage` reached the queue. It deletes the message whether it is visible or
    /// in flight under a later receive (the API reference: "Amazon SQS can delete a message
    /// from a queue even if a visibility timeout setting causes the message to be locked by
    /// another consumer"); that consumer still processes its copy. With an older receipt
    /// handle the reference says the request succeeds "but the message might not be
    /// deleted": the model takes the outcome it names first, deleted, and leaves the rare miss
    /// to `extra-copy`, which on a standard queue makes a delete succeed and keep a copy on a
    /// server that was unavailable, to be received again later.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_sqs_delete_arrive(
        &mut self,
        world: &mut World,
        consumer: u16,
        session: u32,
        msg: u32,
        entry: u32,
        generation: u32,
        receive: u32,
        then_process: bool,
    ) {
        let ok = !self.broker_down(world);
        if !ok {
            trace!(
                world,
                msg,
                TraceKind::AckLost,
                Actor::Consumer,
                Some(Actor::Broker),
                Some(consumer as u32),
                receive,
                0,
                "the SQS endpoint is unavailable: DeleteMessage fails, the message stays in the queue",
            );
        } else if let Some(e) = self.entries.live(entry, generation) {
            let (position, copy) = (e.offset, e.copy);
            let key = delivery_key(copy, 0) as u32;
            if world
                .faults
                .random_crash(FaultSite::ExtraCopy, msg, receive, copy as u32)
            {
                if let Some(q) = self.family.sqs_mut() {
                    q.extra_copies += 1;
                }
                trace!(
                    world,
                    msg,
                    TraceKind::ExtraCopy,
                    Actor::Broker,
                    None,
                    Some(consumer as u32),
                    receive,
                    key,
                    "DeleteMessage succeeded, but a server that holds a copy was unavailable and kept it: the standard queue will hand this message out again",
                );
            } else if self.family.sqs_mut().is_some_and(|q| q.delete(position)) {
                let latest = self.entries.get(entry).deliveries;
                trace!(
                    world,
                    msg,
                    TraceKind::Ack,
                    Actor::Broker,
                    None,
                    Some(consumer as u32),
                    receive,
                    key,
                    if latest == receive {
                        "DeleteMessage: the message leaves the queue".to_string()
                    } else {
                        format!(
                            "DeleteMessage with the stale receipt handle of receive {receive}, though receive {latest} holds it now: SQS answers success and may or may not delete; this model deletes it (receive {latest}'s consumer processes it anyway)"
                        )
                    },
                );
                self.finish_entry(world, entry);
                self.sqs_serve_parked(world);
            }
        }
        if then_process {
            let wire = world
                .faults
                .latency(Link::Consumer(consumer), world.now, msg, receive, 4);
            world.queue.schedule(
                world.now + wire,
                Event::SqsDeleteDone {
                    consumer,
                    session,
                    msg,
                    receive,
                    ok,
                },
            );
        }
    }

    /// The SQS endpoint fails: a `SendMessage` it was storing is not stored (never answered
    /// with success, so its producer sends it again, and a FIFO queue does not count it for
    /// deduplication), and nothing is sent, received or deleted until it is back after
    /// `failover-ms`. Stored messages, and the visibility timers of those in flight, survive.
    #[cold]
    pub(crate) fn sqs_crash_broker(
        &mut self,
        world: &mut World,
        trigger: Option<u32>,
        scripted: Option<u16>,
    ) {
        let unstored = self.queue_broker_down(
            world,
            trigger,
            scripted,
            "the SQS endpoint fails while storing this SendMessage",
            "the endpoint failed before storing it: not stored, and SendMessage never succeeded",
        );
        if let Some(q) = self.family.sqs_mut() {
            for msg in unstored {
                q.dedup.forget(msg);
            }
        }
    }

    /// The endpoint is back: waiting receives are answered.
    pub(crate) fn sqs_recover(&mut self, world: &mut World) {
        self.sqs_serve_parked(world);
    }

    /// The trace note of a SendMessage stored at a queue position.
    #[cold]
    pub(crate) fn sqs_stored_note(&self, entry: u32, copy: u8) -> String {
        let position = self.entries.get(entry).offset;
        format!(
            "SendMessage stored at queue position {position}{}; it succeeds once stored",
            match (copy, self.sqs_fifo()) {
                (0, _) => "",
                (_, false) =>
                    ", AGAIN, as a second message (a standard queue has no idempotent send)",
                (_, true) =>
                    ", AGAIN, as a second message: the five-minute deduplication window of its first send had passed",
            }
        )
    }

    /// Fires the visibility timeouts that are due, and says when the next live one is.
    pub(crate) fn sqs_visibility_wake(&mut self, world: &mut World) -> Option<Micros> {
        while let Some(timer) = self
            .family
            .visibility_timers_mut()
            .and_then(|timers| timers.pop_due(world.now))
        {
            self.on_sqs_visibility_expired(world, timer);
        }
        let mut timers = std::mem::take(self.family.visibility_timers_mut()?);
        let next = timers.rearm(|timer| self.sqs_visibility_live(timer));
        if let Some(slot) = self.family.visibility_timers_mut() {
            *slot = timers;
        }
        next
    }
}
