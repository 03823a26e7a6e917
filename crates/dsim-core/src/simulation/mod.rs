//! A run: the world (`engine::World`), the brokers' state (`brokers::Brokers`) and the
//! clients' (`clients::Clients`), and the event loop that pops events in `(time, sequence)`
//! order and hands each to its handler, passing each part the others it may touch: a broker
//! gets the world, a client the brokers and the world. The loop can be advanced a number of
//! events or up to a simulated time, so a UI can animate a run. This folder is the one that
//! names both the brokers and the clients; they never name it.

mod handoffs;

use crate::brokers::Brokers;
use crate::clients::Clients;
use crate::engine::timers::TimerKind;
use crate::engine::{Event, Status, World, event_budget};
use crate::observe::trace::TraceEvent;
use crate::scenario::Scenario;
use crate::scenario::script::Compiled;
use crate::time::Micros;

/// `Clone` so that time travel (`time_travel`) can keep snapshots of a run and replay from them.
#[derive(Clone)]
pub struct Simulation {
    pub(crate) world: World,
    pub(crate) brokers: Brokers,
    pub(crate) clients: Clients,
    max_events: u64,
    /// `sample_limit`, kept so the event loop reads one field.
    pop_limit: Micros,
}

/// Events per call of the event loop (`Simulation::burst`): small enough that a wasm engine
/// sees the loop function return early in a run, large enough that the call costs nothing.
const BURST: u32 = 4096;

impl Simulation {
    /// A new run of a scenario. The scenario is assumed valid (see `Scenario::validate`);
    /// out-of-range values are clamped where they would break the model.
    pub fn new(scenario: &Scenario) -> Simulation {
        Self::with_traces(scenario, &[])
    }

    /// A new run that records the full trace of the given messages.
    pub fn with_traces(scenario: &Scenario, traced: &[u32]) -> Simulation {
        let s = scenario.clone();
        // Zero consumers is a valid scenario: nothing ever fetches, and the run ends "stalled"
        // with every message still in flight (the group has no members to own partitions).
        let consumers = s.consumers as usize;
        let mut brokers = Brokers::new(&s, consumers);
        // The producers' IDs come from the brokers' producer state, in producer order.
        let clients = Clients::new(&s, &mut brokers);
        let mut sim = Simulation {
            world: World::new(s, brokers.logs.len(), traced),
            brokers,
            clients,
            max_events: 0,
            pop_limit: 0,
        };
        sim.max_events = event_budget(sim.world.scenario.messages);
        sim.pop_limit = sim.sample_limit();
        if sim.world.scenario.messages > 0 {
            sim.world.queue.schedule(0, Event::Produce { msg: 0 });
        }
        // Scheduled once, in time order and then in script order, so simultaneous entries
        // always fire in the same order, and before whatever the run schedules later for the
        // same instant.
        for (at, entry) in sim.world.faults.script().instants() {
            sim.world.queue.schedule(at, Event::Scripted { entry });
        }
        for c in 0..consumers as u16 {
            sim.clients
                .start_fetching(&mut sim.brokers, &mut sim.world, c);
        }
        sim
    }

    /// The recorded trace of a message that was asked for when the run was created.
    pub fn trace_of(&self, msg: u32) -> Option<&[TraceEvent]> {
        self.world.traces.get(&msg).map(Vec::as_slice)
    }

    /// Whether the message has been resolved (nothing can apply it any more).
    pub fn is_resolved(&self, msg: u32) -> bool {
        msg < self.world.metrics.counters.produced as u32 && self.world.msgs.get(msg).is_none()
    }

    pub fn scenario(&self) -> &Scenario {
        &self.world.scenario
    }

    /// Simulated time now, in microseconds.
    pub fn now_us(&self) -> Micros {
        self.world.now
    }

    pub fn status(&self) -> Status {
        self.world.status
    }

    /// Events handled so far.
    pub fn events(&self) -> u64 {
        self.world.metrics.counters.events
    }

    pub fn is_finished(&self) -> bool {
        self.world.status != Status::Running
    }

    /// Fraction of messages resolved (applied, lost or given up), from 0 to 1.
    pub fn progress(&self) -> f64 {
        if self.world.scenario.messages == 0 {
            1.0
        } else {
            self.world.resolved as f64 / self.world.scenario.messages as f64
        }
    }

    /// Runs up to `max` events; returns how many ran.
    pub fn step(&mut self, max: u64) -> u64 {
        let mut ran = 0;
        while ran < max {
            let burst = (max - ran).min(BURST as u64) as u32;
            let done = self.burst(burst);
            ran += done as u64;
            if done < burst {
                break;
            }
        }
        ran
    }

    /// Runs up to `max` events; fewer only if the run ends. The event loop lives in this
    /// one function, called again every few thousand events, because a browser's wasm
    /// engine optimises a function for its *next* call: a run that looped inside a single
    /// call stayed in the baseline compiler's code from start to end (V8 has no on-stack
    /// replacement for wasm), about half the speed of the optimised code.
    #[inline(never)]
    fn burst(&mut self, max: u32) -> u32 {
        let mut ran = 0;
        while ran < max && self.step_one() {
            ran += 1;
        }
        ran
    }

    /// Runs every event up to and including simulated time `until_us`. A run whose queue
    /// empties on the way finishes, exactly as `run_to_end` would.
    pub fn advance_to(&mut self, until_us: Micros) -> u64 {
        self.advance_to_at_most(until_us, u64::MAX)
    }

    /// `advance_to`, but running at most `max` events, so a caller can spread a long advance
    /// over several frames. Simulated time moves to `until_us` only once every event up to it
    /// has run, so stopping early leaves the run exactly as `step` would.
    pub fn advance_to_at_most(&mut self, until_us: Micros, max: u64) -> u64 {
        let mut ran = 0;
        loop {
            match self.world.queue.peek_time() {
                Some(t) if t <= until_us => {
                    if ran >= max {
                        return ran;
                    }
                    if !self.step_one() {
                        break;
                    }
                    ran += 1;
                }
                // Nothing left at all: `step_one` settles how the run ended.
                None => {
                    self.step_one();
                    break;
                }
                Some(_) => break,
            }
        }
        if self.world.status == Status::Running {
            self.world.now = self.world.now.max(until_us.min(self.world.timing.horizon));
        }
        ran
    }

    /// Runs to the end: drained, or stopped at the horizon or the event budget.
    pub fn run_to_end(&mut self) {
        while self.burst(BURST) == BURST {}
    }

    fn step_one(&mut self) -> bool {
        if self.world.status != Status::Running {
            return false;
        }
        if self.world.metrics.counters.events >= self.max_events {
            self.world.status = Status::Stalled;
            return false;
        }
        // `pop_limit` stops short of the next backlog sample as well as of the horizon, so
        // the sample costs the hot path nothing: one comparison the queue makes anyway.
        let (at, event) = loop {
            match self.world.queue.pop_until(self.pop_limit) {
                Some(next) => break next,
                // Sampling moves the limit past `at`, so the next pop takes that event.
                None => match self.world.queue.peek_time() {
                    Some(at) if at <= self.world.timing.horizon => self.sample_backlog(at),
                    _ => return self.stop_or_finish(),
                },
            }
        };
        self.world.now = at;
        self.world.metrics.counters.events += 1;
        self.handle(event);
        true
    }

    /// No event is left before the horizon: the run stops there, or, with nothing left at
    /// all, ends (`finish`).
    #[cold]
    fn stop_or_finish(&mut self) -> bool {
        match self.world.queue.peek_time() {
            // The next event lies beyond the horizon: stop there.
            Some(_) => {
                self.world.now = self.world.now.max(self.world.timing.horizon);
                self.world.status = Status::Stalled;
            }
            None => self.finish(),
        }
        false
    }

    /// Samples what waits in the broker at each bucket end up to `at`, before the event at
    /// `at` changes it (`Family::backlog`).
    #[cold]
    #[inline(never)]
    fn sample_backlog(&mut self, at: Micros) {
        let mut backlog = Vec::new();
        self.brokers.backlog(&mut backlog);
        self.world.metrics.series.record_backlog(at, &backlog);
        self.pop_limit = self.sample_limit();
    }

    /// How far the event loop may pop before it must stop: the horizon, or just short of the
    /// next bucket end whose backlog is due.
    fn sample_limit(&self) -> Micros {
        self.world
            .timing
            .horizon
            .min(self.world.metrics.series.next_sample_us() - 1)
    }

    #[cold]
    fn finish(&mut self) {
        // With an empty queue nothing can move any more; anything unresolved is stuck.
        let stuck: Vec<u32> = self.world.msgs.unresolved().collect();
        let c = &self.world.metrics.counters;
        self.world.status = if !stuck.is_empty() {
            Status::Stalled
        } else if c.gave_up + c.dead_lettered > 0 {
            Status::GaveUp
        } else {
            Status::Drained
        };
    }

    /// Fires the due timers of one list, then re-arms it for its next live timer.
    fn on_timer_wake(&mut self, kind: TimerKind) {
        let next = match kind {
            TimerKind::PublishAck(step) => {
                let step = step as usize;
                while let Some((msg, attempt)) =
                    self.clients.publish_timers[step].pop_due(self.world.now)
                {
                    self.clients.on_publish_timeout(
                        &mut self.brokers,
                        &mut self.world,
                        msg,
                        attempt,
                    );
                }
                let msgs = &self.world.msgs;
                self.clients.publish_timers[step]
                    .rearm(|(msg, attempt)| Clients::publish_timeout_live(msgs, msg, attempt))
            }
            TimerKind::Visibility => self.brokers.on_visibility_wake(&mut self.world),
        };
        if let Some(at) = next {
            self.world.queue.schedule(at, Event::TimerWake { kind });
        }
    }

    /// Inlined into `burst` with the handlers of the common path. The handlers of rare events
    /// (crashes, restarts, stalls, the script, traces) are `#[cold]`, and those of the
    /// transaction commit and the outbox `#[inline(never)]`, so that they stay out of the
    /// loop's hot code: +4 % msgs/s for at-least-once with 10 % faults, and +2 to 5 % for
    /// exactly-once and the outbox themselves (docs/performance-notes.md).
    #[inline(always)]
    fn handle(&mut self, event: Event) {
        // Each handler gets the parts it may touch: a broker the world, a client the brokers
        // and the world.
        let Simulation {
            world,
            brokers,
            clients,
            ..
        } = self;
        match event {
            Event::Produce { msg } => clients.on_produce(brokers, world, msg),
            Event::OutboxPoll { producer } => clients.on_outbox_poll(brokers, world, producer),
            Event::PublishArrive {
                msg,
                attempt,
                copy,
                batch,
            } => self.publish_arrive(msg, attempt, copy, batch),
            Event::PublishAckArrive {
                msg,
                producer_id,
                epoch,
            } => clients.on_publish_ack(brokers, world, msg, producer_id, epoch),
            Event::ProducerRestart { producer } => {
                clients.on_producer_restart(brokers, world, producer)
            }
            Event::ProducerTxnTimeout { producer, epoch } => {
                clients.on_producer_txn_timeout(brokers, world, producer, epoch)
            }
            Event::Durable {
                entry,
                generation,
                acked,
            } => brokers.on_durable(world, entry, generation, acked),
            Event::FetchArrive { consumer, session } => {
                brokers.on_fetch_arrive(world, consumer, session)
            }
            Event::FetchDone { consumer, session } => {
                clients.on_fetch_done(brokers, world, consumer, session)
            }
            Event::DeliveryArrive {
                msg,
                entry,
                generation,
                delivery,
                copy,
                consumer,
                session,
            } => clients.on_delivery_arrive(
                brokers, world, msg, entry, generation, delivery, copy, consumer, session,
            ),
            Event::ProcessDone { consumer, session } => {
                clients.on_process_done(brokers, world, consumer, session)
            }
            Event::RabbitAckArrive {
                consumer,
                session,
                position,
            } => brokers.on_rabbit_ack_arrive(world, consumer, session, position),
            Event::RabbitChannelClosed { consumer, session } => {
                brokers.on_rabbit_channel_closed(world, consumer, session)
            }
            Event::SqsDeleteArrive {
                consumer,
                session,
                msg,
                entry,
                generation,
                receive,
                then_process,
            } => brokers.on_sqs_delete_arrive(
                world,
                consumer,
                session,
                msg,
                entry,
                generation,
                receive,
                then_process,
            ),
            Event::SqsDeleteDone {
                consumer,
                session,
                msg,
                receive,
                ok,
            } => clients.on_sqs_delete_done(brokers, world, consumer, session, msg, receive, ok),
            Event::OffsetCommitArrive {
                consumer,
                session,
                id,
            } => brokers.on_offset_commit_arrive(world, consumer, session, id),
            Event::OffsetCommitResponse {
                consumer,
                session,
                id,
                ok,
            } => clients.on_offset_commit_response(brokers, world, consumer, session, id, ok),
            Event::OffsetCommitTimeout {
                consumer,
                session,
                id,
                attempt,
            } => clients.on_offset_commit_timeout(brokers, world, consumer, session, id, attempt),
            Event::CommitDue { consumer, session } => {
                clients.on_commit_due(brokers, world, consumer, session)
            }
            Event::CommitArrive {
                consumer,
                session,
                txn,
            } => brokers.on_commit_arrive(world, consumer, session, txn),
            Event::CommitApplied {
                consumer,
                session,
                txn,
            } => brokers.on_commit_applied(world, consumer, session, txn),
            Event::CommitResponse {
                consumer,
                session,
                txn,
                ok,
            } => clients.on_commit_response(brokers, world, consumer, session, txn, ok),
            Event::CommitTimeout {
                consumer,
                session,
                txn,
                attempt,
            } => clients.on_commit_timeout(world, consumer, session, txn, attempt),
            Event::ConsumerRestart { consumer } => {
                clients.on_consumer_restart(brokers, world, consumer)
            }
            Event::SessionExpire { consumer, session } => {
                clients.on_session_expire(brokers, world, consumer, session)
            }
            Event::BrokerRecover => brokers.on_broker_recover(world),
            Event::StallEnd { consumer, stall } => {
                clients.on_stall_end(brokers, world, consumer, stall)
            }
            Event::StallExpire { consumer, stall } => {
                clients.on_stall_expire(brokers, world, consumer, stall)
            }
            Event::Scripted { entry } => self.on_scripted(entry),
            Event::TimerWake { kind } => self.on_timer_wake(kind),
        }
    }

    // ----- Scripted faults -----

    /// A scripted crash at its time. A consumer that is already down has nothing to lose, so
    /// the entry does not strike (the report shows it never fired).
    #[cold]
    fn on_scripted(&mut self, entry: u16) {
        match self
            .world
            .faults
            .script()
            .entries
            .get(entry as usize)
            .copied()
        {
            Some(Compiled::Crash { consumer, .. }) => {
                if self
                    .world
                    .consumers
                    .get(consumer as usize)
                    .is_some_and(|c| c.alive)
                {
                    self.world.faults.record_scripted(entry, self.world.now);
                    self.clients.crash_consumer(
                        &mut self.brokers,
                        &mut self.world,
                        consumer,
                        None,
                        Some(entry),
                    );
                }
            }
            Some(Compiled::BrokerCrash { .. }) => {
                self.world.faults.record_scripted(entry, self.world.now);
                self.crash_broker(None, Some(entry));
            }
            Some(Compiled::Partition { .. }) | None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::Scenario;
    use crate::simulation::Simulation;

    /// Memory per producer and partition, not per message or per restart: every restart
    /// without a transactional ID is a new producer ID, and the broker forgets the one from
    /// two restarts back.
    #[test]
    fn the_brokers_producer_state_stays_within_two_ids_per_producer_and_partition() {
        let s = Scenario {
            messages: 20_000,
            producer_restart: 0.05,
            ..Scenario::default()
        };
        let mut sim = Simulation::new(&s);
        let bound = 2 * s.producers as usize * s.partitions as usize;
        while !sim.is_finished() {
            sim.step(1_000);
            assert!(sim.brokers.producer_states.tracked() <= bound);
        }
        assert!(sim.world.metrics.counters.producer_restarts > 100);
        let windows = sim.clients.sessions.iter().flat_map(|p| &p.windows);
        assert!(
            windows
                .clone()
                .all(|w| w.in_flight.is_empty() && w.waiting.is_empty())
        );
    }
}
