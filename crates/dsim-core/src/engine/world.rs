//! The world every actor shares: simulated time, the event queue, the messages and what
//! became of them, the fault plan, the effects (ledger, dedup store, external provider), the
//! metrics and traces, and each consumer's state record (`consumer_state`). The brokers and
//! the clients keep their own state (`brokers::Brokers`, `clients::Clients`) and are handed
//! the world by the event loop (`simulation`): `impl Brokers { fn f(&mut self, world: &mut
//! World, ..) }`. So the world names neither, and neither names the loop.

use std::collections::{BTreeMap, BTreeSet};

use crate::effects::external::ExternalProvider;
use crate::effects::ledger::{DedupStore, Ledger};
use crate::engine::consumer_state::Consumer;
use crate::engine::faults::{FaultPlan, Strike};
use crate::engine::messages::{Cause, Item, MsgState, MsgTable};
use crate::engine::queue::EventQueue;
use crate::engine::{Status, Timing, trace};
use crate::observe::metrics::Metrics;
use crate::observe::trace::{Actor, TraceEvent, TraceKind};
use crate::scenario::{Acks, Isolation, Mode, Scenario};
use crate::time::{Micros, ms_to_us};

#[derive(Clone)]
pub(crate) struct World {
    pub(crate) scenario: Scenario,
    pub(crate) mode: Mode,
    pub(crate) acks: Acks,
    pub(crate) faults: FaultPlan,
    pub(crate) timing: Timing,
    pub(crate) queue: EventQueue,
    pub(crate) now: Micros,
    pub(crate) msgs: MsgTable,
    /// Each consumer's state. The clients run it (`clients/consumer.rs`); a broker reads the
    /// parts a real one learns from the consumer's requests and connection (its session, its
    /// fetch positions, the offsets and records a commit carries): the model reads them here
    /// when the request arrives instead of copying them into every event.
    pub(crate) consumers: Vec<Consumer>,
    /// How many partitions the topic has (1 for a RabbitMQ or SQS queue): a payment's account
    /// decides its partition.
    pub(crate) partitions: usize,
    /// How many producers (or outbox relays) publish: message IDs are dealt over them.
    pub(crate) producers: usize,
    /// Whether producers are idempotent (`Scenario::idempotent_producer`), asked per publish
    /// by the producer and the partition leader.
    pub(crate) idempotent: bool,
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
    pub(crate) loss_causes: BTreeMap<u32, Cause>,
    pub(crate) status: Status,
}

impl World {
    /// The world at the start of a run of a valid scenario, with `partitions` partitions (1
    /// for a queue) and the traces of `traced` recorded.
    pub(crate) fn new(s: Scenario, partitions: usize, traced: &[u32]) -> World {
        let timing = Timing::new(&s);
        let consumers = s.consumers as usize;
        let span = timing.produce_at(s.messages);
        // One by one: `collect` into a set sorts the list first, and that sort, for this list
        // of a message or two alone, would weigh 1.8 KB gzipped in the page's wasm.
        let mut traced_set = BTreeSet::new();
        for &msg in traced {
            traced_set.insert(msg);
        }
        World {
            mode: s.mode,
            acks: s.effective_acks(),
            faults: FaultPlan::new(&s),
            queue: EventQueue::new(timing.wheel_reach(&s)),
            now: 0,
            msgs: MsgTable::default(),
            consumers: (0..consumers).map(|_| Consumer::default()).collect(),
            partitions,
            producers: s.producers.max(1) as usize,
            idempotent: s.idempotent_producer(),
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
            timing,
            scenario: s,
        }
    }

    /// Counts an exactly-once transaction aborted with `records` output records. They stay in
    /// the log behind an abort marker: the read-committed reader skips them (a read-uncommitted
    /// one applied them when they were written, so nothing is skipped).
    pub(crate) fn transaction_aborted(&mut self, records: usize) {
        self.metrics.counters.aborted_transactions += 1;
        if self.scenario.isolation == Isolation::ReadCommitted {
            self.metrics.counters.aborted_skipped += records as u64;
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
        (msg % self.producers as u32) as u16
    }

    pub(crate) fn new_message(&mut self) -> u32 {
        let created_at = self.now;
        // The payment decides the partition, so it is drawn for the ID about to be pushed.
        let id = self.msgs.next_id();
        let (account, amount) = self.faults.payment(id, self.scenario.accounts.max(1));
        let pushed = self.msgs.push(MsgState {
            created_at,
            producer: self.producer_of(id),
            partition: (account % self.partitions as u32) as u16,
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
    pub(crate) fn apply_effect(&mut self, item: Item, consumer: u16) {
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
}
