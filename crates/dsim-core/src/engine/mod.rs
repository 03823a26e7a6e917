//! The world and its driver. All state of a run lives in one `Simulation`; the producer,
//! broker and consumer behaviours are `impl Simulation` blocks in their own modules. The
//! driver pops events in `(time, sequence)` order and hands each to its handler; it can be
//! advanced a number of events or up to a simulated time, so a UI can animate a run.

pub mod faults;
mod handoffs;
pub(crate) mod messages;
pub(crate) mod queue;
pub(crate) mod timers;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::brokers::kafka::producer_state::{Batch, ProducerStates};
use crate::brokers::kafka::{Entries, Isr, PartitionLog};
use crate::brokers::kafka::{Group, TxnCoordinator};
use crate::brokers::{Family, PollState};
use crate::clients::consumer::Consumer;
use crate::clients::producer::Relay;
use crate::clients::producer_session::ProducerSession;
use crate::effects::external::ExternalProvider;
use crate::effects::ledger::{DedupStore, Ledger};
use crate::engine::faults::{FaultPlan, Strike};
use crate::engine::messages::{MsgState, MsgTable};
use crate::engine::queue::EventQueue;
use crate::engine::timers::{TimerKind, TimerList};
use crate::observe::metrics::Metrics;
use crate::observe::trace::{Actor, TraceEvent, TraceKind};
use crate::scenario::script::Compiled;
use crate::scenario::{Acks, Mode, Scenario};
use crate::time::{Micros, ms_to_us};

/// Records a trace event for `msg` if it is traced. A macro rather than a method so that the
/// note, often a `format!`, is only built for traced messages: untraced runs never allocate.
macro_rules! trace {
    ($sim:expr, $msg:expr, $($rest:expr),+ $(,)?) => {
        if $sim.is_traced($msg) {
            $sim.record_trace($msg, $($rest),+)
        }
    };
}
pub(crate) use trace;

/// Distinct retry timeouts: the first, and six doublings.
pub(crate) const BACKOFF_STEPS: usize = 7;

/// How many times the ack timeout has doubled for a sender's `attempt`-th try (1 for the
/// first); it stops growing after six doublings.
pub(crate) fn backoff_step(attempt: u32) -> u32 {
    attempt.saturating_sub(1).min(BACKOFF_STEPS as u32 - 1)
}

/// Something that happens at an instant. Events name what they touch by index, and carry a
/// generation or session so that one aimed at something that has since changed is ignored.
#[derive(Clone, Copy, Debug)]
#[repr(align(8))]
pub enum Event {
    Produce {
        msg: u32,
    },
    OutboxPoll {
        producer: u16,
    },
    /// A publish reaches the broker, with its producer's ID, epoch and sequence number.
    PublishArrive {
        msg: u32,
        attempt: u16,
        copy: u8,
        batch: Batch,
    },
    /// A publish ack reaches the producer instance that wrote the record (ID and epoch).
    PublishAckArrive {
        msg: u32,
        producer_id: u32,
        epoch: u32,
    },
    /// A producer (or outbox relay) that died comes back (`producer-restart`, `relay-crash`).
    ProducerRestart {
        producer: u16,
    },
    /// `transaction.timeout.ms` after a transactional producer died: the coordinator aborts
    /// the open transaction of that instance (`epoch`) if it has not come back.
    ProducerTxnTimeout {
        producer: u16,
        epoch: u16,
    },
    Durable {
        entry: u32,
        generation: u32,
        /// Whether the producer was acked at the append already (`acks=leader`, or an ISR of
        /// the leader alone), so that replication completing does not ack it again.
        acked: bool,
    },
    FetchArrive {
        consumer: u16,
        session: u32,
    },
    FetchDone {
        consumer: u16,
        session: u32,
    },
    DeliveryArrive {
        msg: u32,
        entry: u32,
        generation: u32,
        delivery: u32,
        copy: u8,
        consumer: u16,
        session: u32,
    },
    ProcessDone {
        consumer: u16,
        session: u32,
    },
    /// A consumer's `basic.ack` reaches the RabbitMQ broker, for the delivery at a queue
    /// position, on the channel of a consumer session.
    RabbitAckArrive {
        consumer: u16,
        session: u32,
        position: u64,
    },
    /// A consumer's connection close reaches the RabbitMQ broker, after whatever it sent
    /// before: the broker requeues what that session left unacknowledged.
    RabbitChannelClosed {
        consumer: u16,
        session: u32,
    },
    /// A consumer's `DeleteMessage` reaches SQS, with the receipt handle of a receive.
    /// At-most-once waits for its answer before processing (`then_process`).
    SqsDeleteArrive {
        consumer: u16,
        session: u32,
        msg: u32,
        entry: u32,
        generation: u32,
        receive: u32,
        then_process: bool,
    },
    /// The answer to an at-most-once consumer's `DeleteMessage` reaches it.
    SqsDeleteDone {
        consumer: u16,
        session: u32,
        msg: u32,
        receive: u32,
        ok: bool,
    },
    /// An offset commit reaches the group coordinator.
    OffsetCommitArrive {
        consumer: u16,
        session: u32,
        id: u32,
    },
    OffsetCommitResponse {
        consumer: u16,
        session: u32,
        id: u32,
        ok: bool,
    },
    OffsetCommitTimeout {
        consumer: u16,
        session: u32,
        id: u32,
        attempt: u32,
    },
    /// `auto.commit.interval.ms` has passed for a consumer waiting on a long poll.
    CommitDue {
        consumer: u16,
        session: u32,
    },
    CommitArrive {
        consumer: u16,
        session: u32,
        txn: u32,
    },
    CommitApplied {
        consumer: u16,
        session: u32,
        txn: u32,
    },
    CommitResponse {
        consumer: u16,
        session: u32,
        txn: u32,
        ok: bool,
    },
    CommitTimeout {
        consumer: u16,
        session: u32,
        txn: u32,
        attempt: u32,
    },
    ConsumerRestart {
        consumer: u16,
    },
    SessionExpire {
        consumer: u16,
        session: u32,
    },
    BrokerRecover,
    /// A stalled consumer wakes up (see `zombie`).
    StallEnd {
        consumer: u16,
        stall: u32,
    },
    /// A stalled consumer's session times out.
    StallExpire {
        consumer: u16,
        stall: u32,
    },
    /// An entry of the scenario's script that happens at its time (a plain consumer crash, a
    /// broker crash).
    Scripted {
        entry: u16,
    },
    /// A timer list's wake-up: fires its due timers (see `timers`).
    TimerWake {
        kind: TimerKind,
    },
}

/// Every duration of the scenario, in integer microseconds, converted once.
#[derive(Clone, Debug)]
pub struct Timing {
    pub publish_interval_ns: u128,
    pub ack_timeout: Micros,
    pub outbox_poll: Micros,
    pub replication: Micros,
    pub failover: Micros,
    pub commit_interval: Micros,
    pub replica_lag: Micros,
    pub processing: Micros,
    pub restart: Micros,
    pub session_timeout: Micros,
    pub dedup_lookup: Micros,
    pub txn_write: Micros,
    pub txn_ack: Micros,
    pub horizon: Micros,
    /// The external call's round trip, or 0 without an external effect.
    pub external_call: Micros,
    pub stall: Micros,
    /// `transaction.timeout.ms`.
    pub txn_timeout: Micros,
    /// SQS's visibility timeout.
    pub visibility_timeout: Micros,
}

impl Timing {
    fn new(s: &Scenario) -> Timing {
        Timing {
            // Nanosecond spacing keeps high publish rates exact enough without floats later.
            publish_interval_ns: (1e9 / s.publish_rate).round() as u128,
            ack_timeout: ms_to_us(s.ack_timeout_ms).max(1),
            outbox_poll: ms_to_us(s.outbox_poll_ms).max(1),
            replication: ms_to_us(s.replication_ms),
            failover: ms_to_us(s.failover_ms),
            commit_interval: ms_to_us(s.commit_interval_ms),
            replica_lag: ms_to_us(s.replica_lag_ms).max(1),
            processing: ms_to_us(s.processing_ms),
            restart: ms_to_us(s.restart_ms).max(1),
            session_timeout: ms_to_us(s.session_timeout_ms).max(1),
            dedup_lookup: ms_to_us(s.dedup_lookup_ms),
            txn_write: ms_to_us(s.txn_write_ms),
            txn_ack: ms_to_us(s.txn_ack_ms),
            horizon: ms_to_us(s.horizon_ms),
            external_call: if s.external_effect {
                ms_to_us(s.external_latency_ms)
            } else {
                0
            },
            stall: ms_to_us(s.stall_ms).max(1),
            txn_timeout: ms_to_us(s.transaction_timeout_ms).max(1),
            visibility_timeout: ms_to_us(s.visibility_timeout_ms),
        }
    }

    /// How long a sender waits for an answer to its `attempt`-th try (1 for the first) before
    /// it tries again: the ack timeout, doubled per retry, growing for six doublings at most.
    pub fn retry_timeout(&self, attempt: u32) -> Micros {
        self.ack_timeout << backoff_step(attempt)
    }

    /// How far ahead the event queue's wheel should reach: the short hops that make up most
    /// events (network latency with jitter, processing, replication, transaction writes).
    /// Longer constant delays go to the queue's FIFO lanes instead.
    fn wheel_reach(&self, s: &Scenario) -> Micros {
        (ms_to_us(s.latency_ms) + ms_to_us(s.jitter_ms))
            .max(self.processing)
            .max(self.replication)
            .max(self.txn_write)
            .max(self.txn_ack)
    }

    /// When message `msg` is produced.
    pub fn produce_at(&self, msg: u32) -> Micros {
        // In 64 bits whenever the interval is below 2^32 ns (a message every 4.29 s or more
        // often): a `u32` times that cannot overflow. Both a `u128` division and an overflow
        // check on a 64-bit product (`checked_mul`) are library calls in wasm. Same number
        // either way.
        match u64::try_from(self.publish_interval_ns) {
            Ok(ns) if ns <= u32::MAX as u64 => msg as u64 * ns / 1000,
            _ => (msg as u128 * self.publish_interval_ns / 1000) as Micros,
        }
    }
}

/// How a run ended, or that it has not yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Still running.
    Running,
    /// Every message was applied or lost, and nothing is left in flight.
    Drained,
    /// Drained, but some messages ran out of retries (producer gave up or the broker
    /// dead-lettered them): the system reported a failure instead of delivering.
    GaveUp,
    /// The horizon or the event budget was reached with messages still in flight.
    Stalled,
}

/// `Clone` so that time travel (`time_travel`) can keep snapshots of a run and replay from them.
#[derive(Clone)]
pub struct Simulation {
    pub(crate) scenario: Scenario,
    pub(crate) mode: Mode,
    pub(crate) acks: Acks,
    pub(crate) faults: FaultPlan,
    pub(crate) timing: Timing,
    pub(crate) queue: EventQueue,
    pub(crate) now: Micros,
    pub(crate) msgs: MsgTable,
    pub(crate) entries: Entries,
    /// The partition logs, with the group's committed offsets (Kafka).
    pub(crate) logs: Vec<PartitionLog>,
    /// The broker family and the state only it has (`brokers::Family`): the engine and the
    /// clients call it through the dispatch methods of `brokers/family.rs` (the broker's side:
    /// a message becomes ready, a poll arrives, the broker crashes) and
    /// `clients/family_side.rs` (the consumer's side: it polls, processes, acks, crashes or
    /// comes back) where the families differ.
    pub(crate) family: Family,
    pub(crate) fetch_scratch: Vec<u32>,
    /// Records a transactional producer commits at one ack, kept between acks.
    pub(crate) commit_scratch: Vec<crate::clients::producer_session::Sent>,
    /// Entries appended but not yet on every replica, in append order.
    pub(crate) replicating: VecDeque<(u32, u32)>,
    pub(crate) broker_down_until: Option<Micros>,
    /// The in-sync replica set (`brokers/kafka/replication.rs`).
    pub(crate) isr: Isr,
    /// The ISR size below which the leader refuses writes: `min-insync-replicas` with
    /// `acks=all`, else 1 (Kafka checks it for `acks=all` only, and at-most-once sends with
    /// `acks=0`), so the append path makes one comparison.
    pub(crate) min_insync: u8,
    pub(crate) consumers: Vec<Consumer>,
    /// The consumer group's membership, kept by its coordinator (`brokers/kafka/group.rs`).
    pub(crate) group: Group,
    /// The broker's side of each consumer's polls (`brokers::PollState`).
    pub(crate) polls: Vec<PollState>,
    /// The transaction coordinator's state per consumer (`brokers/kafka/coordinator.rs`).
    pub(crate) txn_coordinator: TxnCoordinator,
    pub(crate) relays: Vec<Relay>,
    /// Each producer's (or relay's) session: producer ID, epoch, per-partition sequence
    /// numbers and in-flight window (see `producer_session`).
    pub(crate) sessions: Vec<ProducerSession>,
    /// The partition leaders' state of idempotent producers (see `producer_state`).
    pub(crate) producer_states: ProducerStates,
    /// Whether producers are idempotent (`Scenario::idempotent_producer`), asked per publish.
    pub(crate) idempotent: bool,
    /// Publish ack timeouts, `(msg, attempt)`, one list per backoff step (`backoff_step`):
    /// within a step the delay is constant, so each list falls due in the order it was armed.
    pub(crate) publish_timers: [TimerList<(u32, u16)>; BACKOFF_STEPS],
    pub(crate) ledger: Ledger,
    pub(crate) dedup: DedupStore,
    /// The external payment provider, when payments make an external call.
    pub(crate) external: Option<ExternalProvider>,
    pub(crate) metrics: Metrics,
    pub(crate) traced: BTreeSet<u32>,
    pub(crate) traces: BTreeMap<u32, Vec<TraceEvent>>,
    pub(crate) resolved: u64,
    /// Most messages unresolved at once.
    pub(crate) peak_in_flight: u64,
    pub(crate) first_duplicate: Option<u32>,
    pub(crate) first_loss: Option<u32>,
    pub(crate) loss_causes: BTreeMap<u32, crate::engine::messages::Cause>,
    pub(crate) status: Status,
    max_events: u64,
    /// `sample_limit`, kept so the event loop reads one field.
    pop_limit: Micros,
}

/// The most events any run may take, however hopeless the fault mix: under 20 s of wall time
/// natively for the slowest mixes (about a minute in a browser, where the page keeps animating).
/// The heaviest sane mixes take under 40 events per message, so 2,000,000 messages fit.
pub const MAX_EVENTS: u64 = 100_000_000;

/// Events per call of the event loop (`Simulation::burst`): small enough that a wasm engine
/// sees the loop function return early in a run, large enough that the call costs nothing.
const BURST: u32 = 4096;

/// The most records the broker's log may hold at once. Without consumers to drain it, or with
/// too few, a log fed by retries and network duplicates grows without end: at this bound it
/// takes a few hundred MB, which a browser tab can afford. A run that reaches it stops as
/// `Stalled`, like one that reaches its event budget.
pub const MAX_LOG_RECORDS: usize = 8_000_000;

/// Generous enough for the worst fault mixes the knob limits allow (the heaviest sane mixes
/// take under 40 events per message), small enough that a run always ends quickly. A run that
/// uses it up stops as `Stalled`.
pub fn event_budget(messages: u32) -> u64 {
    (2_000 * messages as u64 + 1_000_000).min(MAX_EVENTS)
}

impl Simulation {
    /// A new run of a scenario. The scenario is assumed valid (see `Scenario::validate`);
    /// out-of-range values are clamped where they would break the model.
    pub fn new(scenario: &Scenario) -> Simulation {
        Self::with_traces(scenario, &[])
    }

    /// A new run that records the full trace of the given messages.
    pub fn with_traces(scenario: &Scenario, traced: &[u32]) -> Simulation {
        let s = scenario.clone();
        let timing = Timing::new(&s);
        // Zero consumers is a valid scenario: nothing ever fetches, and the run ends "stalled"
        // with every message still in flight (the group has no members to own partitions).
        let consumers = s.consumers as usize;
        let family = Family::new(&s, consumers);
        // A RabbitMQ or SQS queue is one queue: the partition of every message is 0.
        let partitions = if family.is_queue() {
            1
        } else {
            s.partitions.max(1) as usize
        };
        let producers = s.producers.max(1) as usize;
        let span = timing.produce_at(s.messages);
        // One by one: `collect` into a set sorts the list first, and that sort, for this list
        // of a message or two alone, would weigh 1.8 KB gzipped in the page's wasm.
        let mut traced_set = BTreeSet::new();
        for &msg in traced {
            traced_set.insert(msg);
        }
        let mut producer_states = ProducerStates::default();
        let sessions = (0..producers)
            .map(|_| ProducerSession::new(producer_states.new_producer_id(), partitions))
            .collect();
        let mut sim = Simulation {
            mode: s.mode,
            acks: s.effective_acks(),
            faults: FaultPlan::new(&s),
            queue: EventQueue::new(timing.wheel_reach(&s)),
            now: 0,
            msgs: MsgTable::default(),
            entries: Entries::default(),
            logs: vec![PartitionLog::default(); partitions],
            family,
            fetch_scratch: Vec::new(),
            commit_scratch: Vec::new(),
            replicating: VecDeque::new(),
            broker_down_until: None,
            isr: Isr::new(s.replicas(), s.unclean_election && s.replica_lag > 0.0),
            min_insync: if s.effective_acks() == Acks::All && s.mode != Mode::AtMostOnce {
                s.min_insync_replicas.clamp(1, s.replicas().clamp(1, 5)) as u8
            } else {
                1
            },
            consumers: (0..consumers).map(|_| Consumer::default()).collect(),
            group: Group::new(consumers),
            polls: vec![PollState::default(); consumers],
            txn_coordinator: TxnCoordinator::new(consumers),
            relays: (0..producers).map(|_| Relay::default()).collect(),
            sessions,
            producer_states,
            idempotent: s.idempotent_producer(),
            publish_timers: Default::default(),
            ledger: Ledger::new(s.accounts.max(1), s.producers.max(1)),
            dedup: DedupStore::new(ms_to_us(s.dedup_window_ms)),
            external: s
                .external_effect
                .then(|| ExternalProvider::new(s.accounts.max(1), s.idempotency_key)),
            metrics: Metrics::new(span, consumers),
            traced: traced_set,
            traces: BTreeMap::new(),
            resolved: 0,
            peak_in_flight: 0,
            first_duplicate: None,
            first_loss: None,
            loss_causes: BTreeMap::new(),
            status: Status::Running,
            max_events: event_budget(s.messages),
            pop_limit: 0,
            timing,
            scenario: s,
        };
        sim.pop_limit = sim.sample_limit();
        if sim.scenario.messages > 0 {
            sim.queue.schedule(0, Event::Produce { msg: 0 });
        }
        // Scheduled once, in time order and then in script order, so simultaneous entries
        // always fire in the same order, and before whatever the run schedules later for the
        // same instant.
        for (at, entry) in sim.faults.script().instants() {
            sim.queue.schedule(at, Event::Scripted { entry });
        }
        for c in 0..consumers as u16 {
            sim.start_fetching(c);
        }
        sim
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Simulated time now, in microseconds.
    pub fn now_us(&self) -> Micros {
        self.now
    }

    pub fn status(&self) -> Status {
        self.status
    }

    /// Events handled so far.
    pub fn events(&self) -> u64 {
        self.metrics.counters.events
    }

    pub fn is_finished(&self) -> bool {
        self.status != Status::Running
    }

    /// Fraction of messages resolved (applied, lost or given up), from 0 to 1.
    pub fn progress(&self) -> f64 {
        if self.scenario.messages == 0 {
            1.0
        } else {
            self.resolved as f64 / self.scenario.messages as f64
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
            match self.queue.peek_time() {
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
        if self.status == Status::Running {
            self.now = self.now.max(until_us.min(self.timing.horizon));
        }
        ran
    }

    /// Runs to the end: drained, or stopped at the horizon or the event budget.
    pub fn run_to_end(&mut self) {
        while self.burst(BURST) == BURST {}
    }

    fn step_one(&mut self) -> bool {
        if self.status != Status::Running {
            return false;
        }
        if self.metrics.counters.events >= self.max_events {
            self.status = Status::Stalled;
            return false;
        }
        // `pop_limit` stops short of the next backlog sample as well as of the horizon, so
        // the sample costs the hot path nothing: one comparison the queue makes anyway.
        let (at, event) = loop {
            match self.queue.pop_until(self.pop_limit) {
                Some(next) => break next,
                // Sampling moves the limit past `at`, so the next pop takes that event.
                None => match self.queue.peek_time() {
                    Some(at) if at <= self.timing.horizon => self.sample_backlog(at),
                    _ => return self.stop_or_finish(),
                },
            }
        };
        self.now = at;
        self.metrics.counters.events += 1;
        self.handle(event);
        true
    }

    /// No event is left before the horizon: the run stops there, or, with nothing left at
    /// all, ends (`finish`).
    #[cold]
    fn stop_or_finish(&mut self) -> bool {
        match self.queue.peek_time() {
            // The next event lies beyond the horizon: stop there.
            Some(_) => {
                self.now = self.now.max(self.timing.horizon);
                self.status = Status::Stalled;
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
        self.backlog(&mut backlog);
        self.metrics.series.record_backlog(at, &backlog);
        self.pop_limit = self.sample_limit();
    }

    /// How far the event loop may pop before it must stop: the horizon, or just short of the
    /// next bucket end whose backlog is due.
    fn sample_limit(&self) -> Micros {
        self.timing
            .horizon
            .min(self.metrics.series.next_sample_us() - 1)
    }

    #[cold]
    fn finish(&mut self) {
        // With an empty queue nothing can move any more; anything unresolved is stuck.
        let stuck: Vec<u32> = self.msgs.unresolved().collect();
        let c = &self.metrics.counters;
        self.status = if !stuck.is_empty() {
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
                while let Some((msg, attempt)) = self.publish_timers[step].pop_due(self.now) {
                    self.on_publish_timeout(msg, attempt);
                }
                let msgs = &self.msgs;
                self.publish_timers[step]
                    .rearm(|(msg, attempt)| Self::publish_timeout_live(msgs, msg, attempt))
            }
            TimerKind::Visibility => self.on_visibility_wake(),
        };
        if let Some(at) = next {
            self.queue.schedule(at, Event::TimerWake { kind });
        }
    }

    /// Inlined into `burst` with the handlers of the common path. The handlers of rare events
    /// (crashes, restarts, stalls, the script, traces) are `#[cold]`, and those of the
    /// transaction commit and the outbox `#[inline(never)]`, so that they stay out of the
    /// loop's hot code: +4 % msgs/s for at-least-once with 10 % faults, and +2 to 5 % for
    /// exactly-once and the outbox themselves (docs/performance-notes.md).
    #[inline(always)]
    fn handle(&mut self, event: Event) {
        match event {
            Event::Produce { msg } => self.on_produce(msg),
            Event::OutboxPoll { producer } => self.on_outbox_poll(producer),
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
            } => self.on_publish_ack(msg, producer_id, epoch),
            Event::ProducerRestart { producer } => self.on_producer_restart(producer),
            Event::ProducerTxnTimeout { producer, epoch } => {
                self.on_producer_txn_timeout(producer, epoch)
            }
            Event::Durable {
                entry,
                generation,
                acked,
            } => self.on_durable(entry, generation, acked),
            Event::FetchArrive { consumer, session } => self.on_fetch_arrive(consumer, session),
            Event::FetchDone { consumer, session } => self.on_fetch_done(consumer, session),
            Event::DeliveryArrive {
                msg,
                entry,
                generation,
                delivery,
                copy,
                consumer,
                session,
            } => self.on_delivery_arrive(msg, entry, generation, delivery, copy, consumer, session),
            Event::ProcessDone { consumer, session } => self.on_process_done(consumer, session),
            Event::RabbitAckArrive {
                consumer,
                session,
                position,
            } => self.on_rabbit_ack_arrive(consumer, session, position),
            Event::RabbitChannelClosed { consumer, session } => {
                self.on_rabbit_channel_closed(consumer, session)
            }
            Event::SqsDeleteArrive {
                consumer,
                session,
                msg,
                entry,
                generation,
                receive,
                then_process,
            } => self.on_sqs_delete_arrive(
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
            } => self.on_sqs_delete_done(consumer, session, msg, receive, ok),
            Event::OffsetCommitArrive {
                consumer,
                session,
                id,
            } => self.on_offset_commit_arrive(consumer, session, id),
            Event::OffsetCommitResponse {
                consumer,
                session,
                id,
                ok,
            } => self.on_offset_commit_response(consumer, session, id, ok),
            Event::OffsetCommitTimeout {
                consumer,
                session,
                id,
                attempt,
            } => self.on_offset_commit_timeout(consumer, session, id, attempt),
            Event::CommitDue { consumer, session } => self.on_commit_due(consumer, session),
            Event::CommitArrive {
                consumer,
                session,
                txn,
            } => self.on_commit_arrive(consumer, session, txn),
            Event::CommitApplied {
                consumer,
                session,
                txn,
            } => self.on_commit_applied(consumer, session, txn),
            Event::CommitResponse {
                consumer,
                session,
                txn,
                ok,
            } => self.on_commit_response(consumer, session, txn, ok),
            Event::CommitTimeout {
                consumer,
                session,
                txn,
                attempt,
            } => self.on_commit_timeout(consumer, session, txn, attempt),
            Event::ConsumerRestart { consumer } => self.on_consumer_restart(consumer),
            Event::SessionExpire { consumer, session } => self.on_session_expire(consumer, session),
            Event::BrokerRecover => self.on_broker_recover(),
            Event::StallEnd { consumer, stall } => self.on_stall_end(consumer, stall),
            Event::StallExpire { consumer, stall } => self.on_stall_expire(consumer, stall),
            Event::Scripted { entry } => self.on_scripted(entry),
            Event::TimerWake { kind } => self.on_timer_wake(kind),
        }
    }

    // ----- Scripted faults -----

    /// A scripted crash at its time. A consumer that is already down has nothing to lose, so
    /// the entry does not strike (the report shows it never fired).
    #[cold]
    fn on_scripted(&mut self, entry: u16) {
        match self.faults.script().entries.get(entry as usize).copied() {
            Some(Compiled::Crash { consumer, .. }) => {
                if self
                    .consumers
                    .get(consumer as usize)
                    .is_some_and(|c| c.alive)
                {
                    self.faults.record_scripted(entry, self.now);
                    self.crash_consumer(consumer, None, Some(entry));
                }
            }
            Some(Compiled::BrokerCrash { .. }) => {
                self.faults.record_scripted(entry, self.now);
                self.crash_broker(None, Some(entry));
            }
            Some(Compiled::Partition { .. }) | None => {}
        }
    }

    /// A trace note, prefixed with the scripted fault that caused it, if one did. Called only
    /// for traced messages (inside `trace!`).
    pub(crate) fn scripted_note(&self, scripted: Option<u16>, note: &str) -> String {
        match scripted.and_then(|i| self.scenario.script.get(i as usize)) {
            Some(fault) => format!("scripted: {}; {note}", fault.describe()),
            None => note.to_string(),
        }
    }

    pub(crate) fn scripted_strike_note(&self, strike: Strike, note: &str) -> String {
        match strike {
            Strike::Scripted(entry) => self.scripted_note(Some(entry), note),
            _ => note.to_string(),
        }
    }

    // ----- Shared bookkeeping -----

    /// Which producer publishes `msg`: message IDs are dealt round robin over the producers
    /// (one relay each). Each message's state keeps it from its creation (see
    /// `MsgState::producer`); this is the rule, for where the state is not at hand (a
    /// resolved message's record still in the log).
    pub(crate) fn producer_of(&self, msg: u32) -> u16 {
        (msg % self.relays.len() as u32) as u16
    }

    pub(crate) fn new_message(&mut self) -> u32 {
        let created_at = self.now;
        // The payment decides the partition, so it is drawn for the ID about to be pushed.
        let id = self.msgs.next_id();
        let (account, amount) = self.faults.payment(id, self.scenario.accounts.max(1));
        let pushed = self.msgs.push(MsgState {
            created_at,
            producer: self.producer_of(id),
            partition: (account % self.logs.len() as u32) as u16,
            ..MsgState::default()
        });
        debug_assert_eq!(pushed, id);
        if self.traced.contains(&id)
            && let Some(m) = self.msgs.get_mut(id)
        {
            m.traced = true;
        }
        self.metrics.counters.produced += 1;
        self.peak_in_flight = self
            .peak_in_flight
            .max(self.metrics.counters.produced - self.resolved);
        self.metrics.first_publish_at.get_or_insert(created_at);
        self.ledger.expect(amount);
        id
    }

    /// Takes a reference on a message for something that could still apply it.
    pub(crate) fn hold(&mut self, msg: u32) {
        if let Some(m) = self.msgs.get_mut(msg) {
            m.refs += 1;
        }
    }

    /// Drops a reference; the last one resolves the message.
    pub(crate) fn release(&mut self, msg: u32) {
        let Some(m) = self.msgs.get_mut(msg) else {
            return;
        };
        debug_assert!(m.refs > 0, "message {msg} released more often than held");
        m.refs = m.refs.saturating_sub(1);
        if m.refs == 0 {
            self.resolve(msg);
        }
    }

    /// Resolves a message nothing can apply any more: count it as applied, lost, given up
    /// or dead-lettered.
    pub(crate) fn resolve(&mut self, msg: u32) {
        let Some(m) = self.msgs.resolve(msg) else {
            return;
        };
        let (effects, gave_up, dead, cause) = (m.effects, m.gave_up, m.dead_lettered, m.cause);
        self.resolved += 1;
        if let Some(provider) = self.external.as_mut() {
            provider.forget(msg);
        }
        if effects == 0 {
            let c = &mut self.metrics.counters;
            if dead {
                c.dead_lettered += 1;
            } else if gave_up {
                c.gave_up += 1;
            } else {
                c.lost += 1;
                if self.loss_causes.len() < 64 {
                    self.loss_causes.insert(msg, cause);
                }
            }
            self.first_loss.get_or_insert(msg);
            self.metrics.series.record_loss(self.now);
            let (account, amount) = self.faults.payment(msg, self.scenario.accounts.max(1));
            self.ledger.record_missing(account, amount);
        }
    }

    /// Applies a message's payment to the ledger. The item says which delivery and copy did
    /// it, so that two applications of one message stay two distinct events in its trace.
    pub(crate) fn apply_effect(&mut self, item: crate::engine::messages::Item, consumer: u16) {
        let msg = item.msg;
        let Some(m) = self.msgs.get_mut(msg) else {
            debug_assert!(false, "applied message {msg} after it was resolved");
            return;
        };
        m.effects += 1;
        let first = m.effects == 1;
        let latency = self.now.saturating_sub(m.created_at);
        let (account, amount) = self.faults.payment(msg, self.scenario.accounts.max(1));
        self.ledger.apply(account, amount, first);
        let producer = self.producer_of(msg);
        if first && self.ledger.applied_out_of_order(account, producer, msg) {
            self.metrics.counters.reordered += 1;
        }
        self.metrics.record_apply(self.now, first, latency);
        if !first {
            self.first_duplicate.get_or_insert(msg);
        }
        if self.is_traced(msg) {
            let money = crate::observe::money::dollars(amount);
            let note = if first {
                format!("{money} charged to account {account}")
            } else {
                format!("{money} charged to account {account} AGAIN: a double charge")
            };
            trace!(
                self,
                msg,
                TraceKind::Processed,
                Actor::Consumer,
                Some(Actor::Ledger),
                Some(consumer as u32),
                item.delivery,
                item.key as u32,
                note,
            );
        }
    }

    pub(crate) fn is_traced(&self, msg: u32) -> bool {
        !self.traced.is_empty() && self.msgs.get(msg).is_some_and(|m| m.traced)
    }

    #[allow(clippy::too_many_arguments)]
    #[cold]
    pub(crate) fn record_trace(
        &mut self,
        msg: u32,
        kind: TraceKind,
        actor: Actor,
        to: Option<Actor>,
        node: Option<u32>,
        attempt: u32,
        copy: u32,
        note: impl Into<String>,
    ) {
        self.traces.entry(msg).or_default().push(TraceEvent {
            at_us: self.now,
            kind,
            actor,
            to,
            node,
            attempt,
            copy,
            note: note.into(),
        });
    }

    /// The recorded trace of a message that was asked for when the run was created.
    pub fn trace_of(&self, msg: u32) -> Option<&[TraceEvent]> {
        self.traces.get(&msg).map(Vec::as_slice)
    }

    /// Whether the message has been resolved (nothing can apply it any more).
    pub fn is_resolved(&self, msg: u32) -> bool {
        msg < self.metrics.counters.produced as u32 && self.msgs.get(msg).is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 64-bit path must give the exact `u128` result, on both sides of the interval where
    /// it hands over (2^32 ns), up to the last message number.
    #[test]
    fn produce_times_are_exact_at_every_rate() {
        let mut timing = Timing::new(&Scenario::default());
        let boundary = u32::MAX as u128;
        for ns in [
            1,
            999,
            1_000,
            333_333,
            boundary - 1,
            boundary,
            boundary + 1,
            u64::MAX as u128 + 7,
        ] {
            timing.publish_interval_ns = ns;
            for msg in [0, 1, 2, 999, 1_000_000, u32::MAX - 1, u32::MAX] {
                let want = (msg as u128 * ns / 1000) as Micros;
                assert_eq!(timing.produce_at(msg), want, "message {msg} every {ns} ns");
            }
        }
    }
}
