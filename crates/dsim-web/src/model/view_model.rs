//! The page's logic in plain Rust, with no web types: driving a run a frame at a time, and
//! turning reports into what the page shows (counters, the ledger sentence, the guarantee
//! badge, the compare table). Components bind signals to these; tests run them natively.
//!
//! Nothing here decides anything about delivery: every number comes from a `dsim_core`
//! report, and every run from `Simulation`.

use dsim_core::{Mode, Report, Scenario, Simulation, Status};

use crate::format::{dollars, dollars_rounded, millis, plural, rate, thousands, trim_number};

/// How many events to simulate in one animation frame, adapted to the machine so that a frame
/// spends about `TARGET_MS` stepping and input stays responsive.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameBudget {
    events: u64,
}

impl FrameBudget {
    /// Half a 60 Hz frame: the rest is left for drawing and input.
    pub const TARGET_MS: f64 = 8.0;
    const MIN: u64 = 500;
    const MAX: u64 = 4_000_000;
    const START: u64 = 5_000;

    pub fn new() -> FrameBudget {
        FrameBudget {
            events: Self::START,
        }
    }

    pub fn events(&self) -> u64 {
        self.events
    }

    /// Learns from a frame that ran `ran` events in `elapsed_ms`.
    pub fn observe(&mut self, ran: u64, elapsed_ms: f64) {
        if ran < self.events / 2 {
            // The run ended mid-frame: the time says nothing about the speed.
            return;
        }
        // Browsers coarsen `performance.now()`; never divide by less than its resolution.
        let per_ms = ran as f64 / elapsed_ms.max(0.1);
        let ideal = (per_ms * Self::TARGET_MS) as u64;
        // Grow at most fourfold per frame, since one fast reading may be a fluke; shrink at once.
        self.events = ideal.clamp(Self::MIN, (self.events * 4).min(Self::MAX));
    }
}

impl Default for FrameBudget {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Running,
    Paused,
    Finished,
}

impl RunState {
    /// The page's `data-state` / `data-run-state` value.
    pub fn key(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Paused => "paused",
            RunState::Finished => "finished",
        }
    }
}

/// One run, stepped a frame at a time.
pub struct LiveRun {
    scenario: Scenario,
    sim: Simulation,
    paused: bool,
    budget: FrameBudget,
    /// The final report, made once when the run ends (it replays the counterexample).
    finished: Option<Report>,
}

impl LiveRun {
    pub fn new(scenario: &Scenario, paused: bool) -> LiveRun {
        LiveRun {
            scenario: scenario.clone(),
            sim: Simulation::new(scenario),
            paused,
            budget: FrameBudget::new(),
            finished: None,
        }
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn state(&self) -> RunState {
        if self.sim.is_finished() {
            RunState::Finished
        } else if self.paused {
            RunState::Paused
        } else {
            RunState::Running
        }
    }

    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// Simulates one frame's worth of events, timed by `clock` (milliseconds). Returns whether
    /// the run wants another frame.
    pub fn frame(&mut self, clock: &dyn Fn() -> f64) -> bool {
        if self.state() != RunState::Running {
            return false;
        }
        let start = clock();
        let ran = self.sim.step(self.budget.events());
        self.budget.observe(ran, clock() - start);
        self.state() == RunState::Running
    }

    /// Runs to the end at once (light runs, after a control change).
    pub fn run_to_end(&mut self) {
        if self.state() == RunState::Running {
            self.sim.run_to_end();
        }
    }

    /// Whether nothing has been simulated yet.
    pub fn at_start(&self) -> bool {
        self.sim.events() == 0
    }

    /// Advances by one chart bucket of simulated time, for the step button.
    pub fn step(&mut self) {
        if self.sim.is_finished() {
            return;
        }
        let bucket_us = (self.sim.report().series.bucket_ms * 1000.0) as u64;
        let until = self.sim.now_us() + bucket_us.max(1);
        self.sim.advance_to(until);
    }

    /// Fraction of messages resolved, from the simulation.
    pub fn progress(&self) -> f64 {
        self.sim.progress()
    }

    /// What is in flight now, per partition, hop and consumer.
    pub fn queue_state(&self) -> dsim_core::QueueState {
        self.sim.queue_state()
    }

    pub fn budget(&self) -> &FrameBudget {
        &self.budget
    }

    /// The report so far; once the run is over, with the counterexample's trace and
    /// explanation filled in the way `dsim_core::simulate` does.
    pub fn report(&mut self) -> Report {
        if !self.sim.is_finished() {
            return self.sim.report();
        }
        if self.finished.is_none() {
            self.finished = Some(self.sim.full_report());
        }
        self.finished.clone().expect("set above")
    }
}

/// Every mode the scenario's broker runs (all five on Kafka), one after another a frame at a
/// time, so the page stays responsive while it compares (`dsim_core::compare` would do them
/// all in one call).
pub struct CompareRun {
    scenario: Scenario,
    modes: Vec<Mode>,
    current: Option<Simulation>,
    reports: Vec<Report>,
    budget: FrameBudget,
}

impl CompareRun {
    pub fn new(scenario: &Scenario) -> CompareRun {
        CompareRun {
            scenario: scenario.clone(),
            modes: scenario.broker.modes().collect(),
            current: None,
            reports: Vec::new(),
            budget: FrameBudget::new(),
        }
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn is_done(&self) -> bool {
        self.reports.len() == self.modes.len()
    }

    pub fn reports(&self) -> &[Report] {
        &self.reports
    }

    /// Fraction of the runs done.
    pub fn progress(&self) -> f64 {
        let partial = self.current.as_ref().map_or(0.0, Simulation::progress);
        (self.reports.len() as f64 + partial) / self.modes.len() as f64
    }

    /// Simulates for about one frame; returns whether more frames are needed.
    pub fn frame(&mut self, clock: &dyn Fn() -> f64) -> bool {
        let start = clock();
        while !self.is_done() && clock() - start < FrameBudget::TARGET_MS {
            let mode = self.modes[self.reports.len()];
            let sim = self
                .current
                .get_or_insert_with(|| Simulation::new(&self.scenario.with_mode(mode)));
            let t0 = clock();
            let ran = sim.step(self.budget.events());
            self.budget.observe(ran, clock() - t0);
            if sim.is_finished() {
                self.reports.push(sim.report());
                self.current = None;
            }
        }
        !self.is_done()
    }
}

/// The status as the report's JSON spells it, for `data-status` and the progress label.
pub fn status_key(status: Status) -> &'static str {
    match status {
        Status::Running => "running",
        Status::Drained => "drained",
        Status::GaveUp => "gave-up",
        Status::Stalled => "stalled",
    }
}

/// How a finished run ended and why, for the line under the progress bar.
#[derive(Clone, Debug, PartialEq)]
pub struct RunStatus {
    /// `drained`, `gave-up` or `stalled`.
    pub key: &'static str,
    /// The core's sentence (`Report::status_detail`), e.g. "stalled: there are no consumers…".
    pub text: String,
    /// Whether the run ended short of delivering everything it could.
    pub bad: bool,
}

/// `None` while the run is still going.
pub fn run_status(r: &Report) -> Option<RunStatus> {
    (r.status != Status::Running).then(|| RunStatus {
        key: status_key(r.status),
        text: r.status_detail(),
        bad: r.status != Status::Drained,
    })
}

/// One of the big counters.
#[derive(Clone, Debug, PartialEq)]
pub struct Counter {
    /// For `data-testid="counter-<id>"`.
    pub id: &'static str,
    pub label: &'static str,
    /// What the number counts, in a sentence: the counter's tooltip.
    pub counts: &'static str,
    pub value: String,
    pub detail: String,
    /// Red when it counts something that went wrong.
    pub bad: bool,
    /// One message the counter counts, whose timeline the counter links to, and what the
    /// link calls it ("a duplicate").
    pub example: Option<(u32, &'static str)>,
}

pub fn counters(r: &Report) -> Vec<Counter> {
    vec![
        Counter {
            id: "produced",
            label: "produced",
            counts: "Payments the producers created, each written to the producer's database first. A dual write (no outbox) that crashes before publishing creates a payment nothing will ever publish.",
            value: thousands(r.produced),
            detail: produced_detail(r),
            bad: false,
            example: None,
        },
        Counter {
            id: "applied",
            label: "applied",
            counts: "Payments applied to the ledger, repeats included; unique counts each payment once.",
            value: thousands(r.side_effects),
            detail: format!("{} unique", thousands(r.unique_processed)),
            bad: false,
            example: None,
        },
        Counter {
            id: "duplicates",
            label: "duplicates",
            counts: "Applications of a payment beyond its first: each is a customer charged twice.",
            value: thousands(r.duplicates),
            detail: "applied more than once".into(),
            bad: r.duplicates > 0,
            example: r
                .example_duplicate
                .filter(|_| r.duplicates > 0)
                .map(|m| (m, "a duplicate")),
        },
        Counter {
            id: "lost",
            label: "lost",
            counts: "Payments never applied: dropped without anyone knowing (silently), given up by the producer after its last retry, or dead-lettered by the broker.",
            value: thousands(r.lost),
            detail: if r.lost == 0 {
                format!("{} in flight", thousands(r.in_flight))
            } else {
                format!(
                    "{} silently · {} gave up · {} dead-lettered",
                    thousands(r.lost_silently),
                    thousands(r.gave_up),
                    thousands(r.dead_lettered)
                )
            },
            bad: r.lost > 0,
            example: r
                .example_loss
                .filter(|_| r.lost > 0)
                .map(|m| (m, "a lost one")),
        },
        Counter {
            id: "retries",
            label: "retries",
            counts: "Producers' resends: publishes sent again because their ack did not come in time (an at-most-once producer, with acks=0, never resends). Commit retries, counted apart, are consumers' offset or transaction commits sent again because their answer did not come. Replayed is the consumer side: deliveries of a message that had been delivered before (read again from the committed offset on Kafka, requeued on RabbitMQ, visible again on SQS); a replay duplicates a payment only if it had already been applied.",
            value: thousands(r.retries),
            // Kafka re-reads from the committed offset rather than redelivering one record:
            // the replays, and in exactly-once the aborted output a read-committed reader
            // skipped, are the other half of what failures cost; a producer's restarts and
            // reorderings show only when they happened.
            detail: retries_detail(r),
            bad: false,
            example: r
                .example_replayed
                .filter(|_| r.replayed > 0)
                .map(|m| (m, "a replayed one")),
        },
        Counter {
            id: "throughput",
            label: "msg/s throughput",
            counts: "Payments applied per second of simulated time; capacity is the most the consumers could sustain, measured from their busy time.",
            value: thousands(r.throughput_per_s.max(0.0).round() as u64),
            detail: capacity(r),
            bad: false,
            example: None,
        },
    ]
}

/// The payments created out of the run's total, and, when a dual write crashed before
/// publishing (any mode but the outbox, whose row survives the crash), how many of them were
/// never published: a producer crash loses exactly the payment it was about to publish.
fn produced_detail(r: &Report) -> String {
    let total = format!("of {}", thousands(r.messages as u64));
    let crashes = r.cost.producer_crashes;
    if crashes > 0 && r.mode != Mode::Outbox {
        format!("{total} · {} never published", thousands(crashes))
    } else {
        total
    }
}

/// What else failures cost besides retries: always the replays, then whatever happened of
/// the rest (aborted output skipped, producer restarts, fenced writes, aborted records,
/// payments applied out of their producer's order).
fn retries_detail(r: &Report) -> String {
    let mut parts = vec![format!("+ {} replayed", thousands(r.replayed))];
    let c = &r.cost;
    for (n, one, many) in [
        (r.commit_retries, "commit retry", "commit retries"),
        (r.aborted_skipped, "aborted skipped", "aborted skipped"),
        (c.producer_restarts, "producer restart", "producer restarts"),
        (c.relay_crashes, "relay crash", "relay crashes"),
        (c.producer_fenced, "write fenced", "writes fenced"),
        (c.records_aborted, "record aborted", "records aborted"),
        (
            c.transactions_timed_out,
            "transaction timed out",
            "transactions timed out",
        ),
        (r.reordered, "reordered", "reordered"),
    ] {
        if n > 0 {
            let what = if n == 1 { one } else { many };
            parts.push(format!("{} {what}", thousands(n)));
        }
    }
    parts.join(" · ")
}

/// Capacity beside throughput: the most the consumers could sustain, measured from their
/// busy time (`Report::capacity_per_s`).
pub fn capacity(r: &Report) -> String {
    match r.capacity_per_s {
        Some(c) => format!("capacity {}", rate(c)),
        None => "capacity not measured yet".into(),
    }
}

/// The ledger in a sentence: "3 customers double-charged, $412".
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerView {
    pub expected: String,
    pub actual: String,
    pub sentence: String,
    pub bad: bool,
}

pub fn ledger(r: &Report) -> LedgerView {
    let l = &r.ledger;
    let mut parts = Vec::new();
    if l.accounts_double_charged > 0 {
        parts.push(format!(
            "{} double-charged, {}",
            plural(l.accounts_double_charged as u64, "customer", "customers"),
            dollars_rounded(l.overcharged_cents)
        ));
    }
    if l.accounts_missing_payments > 0 {
        parts.push(format!(
            "{} missing payments, {}",
            plural(l.accounts_missing_payments as u64, "customer", "customers"),
            dollars_rounded(l.missing_cents)
        ));
    }
    // The card provider keeps books of its own, outside every broker transaction: the
    // headline speaks for both, so an exact ledger never reads as "nobody overpaid" while
    // cards were charged twice (the exactly-once trap).
    let cards = r
        .external
        .as_ref()
        .filter(|x| x.double_charges > 0)
        .map(|x| {
            format!(
                "the card provider charged {} twice, {} too much",
                plural(x.accounts_double_charged as u64, "customer", "customers"),
                dollars_rounded(x.overcharged_cents)
            )
        });
    let bad = !parts.is_empty() || cards.is_some();
    let sentence = match cards {
        Some(cards) if parts.is_empty() => format!("The ledger is exact, but {cards}."),
        Some(cards) => format!("{}; {cards}", parts.join("; ")),
        None if bad => parts.join("; "),
        None if r.status == Status::Running => "No customer charged wrongly so far.".into(),
        None => "Every customer was charged exactly what they owed.".into(),
    };
    LedgerView {
        expected: dollars(l.expected_cents),
        actual: dollars(l.actual_cents),
        sentence,
        bad,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Held,
    /// Running and not broken yet.
    HoldingSoFar,
    /// Nothing broke, but the run stopped with messages in flight, so the promise was never
    /// put to the test for them.
    Stalled,
    Broken,
}

impl Verdict {
    /// The guarantee badge's `data-verdict` value.
    pub fn key(self) -> &'static str {
        match self {
            Verdict::Held => "held",
            Verdict::HoldingSoFar => "holdingsofar",
            Verdict::Stalled => "stalled",
            Verdict::Broken => "broken",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct GuaranteeView {
    pub verdict: Verdict,
    /// "At-least-once promises no loss (duplicates allowed)".
    pub promise: String,
    pub headline: String,
    /// Why it broke, when it did.
    pub explanation: Option<String>,
    /// The message to open in the timeline.
    pub counterexample: Option<u32>,
}

pub fn guarantee(r: &Report) -> GuaranteeView {
    let g = &r.guarantee;
    let verdict = if !g.held {
        Verdict::Broken
    } else if r.status == Status::Running {
        Verdict::HoldingSoFar
    } else if r.status == Status::Stalled && r.in_flight > 0 {
        Verdict::Stalled
    } else {
        Verdict::Held
    };
    let headline = match verdict {
        Verdict::Held => "Promise held".to_string(),
        Verdict::HoldingSoFar => "Holding so far".to_string(),
        Verdict::Stalled => format!(
            "Run stalled: {} never delivered",
            plural(r.in_flight, "message", "messages")
        ),
        Verdict::Broken => match g.counterexample.as_ref().map(|c| c.problem.as_str()) {
            Some("duplicate") => "Promise broken: a duplicate".to_string(),
            Some("loss") => "Promise broken: a loss".to_string(),
            _ => "Promise broken".to_string(),
        },
    };
    GuaranteeView {
        verdict,
        promise: format!("{} promises {}", r.mode.title(), g.promise),
        headline,
        explanation: g
            .counterexample
            .as_ref()
            .map(|c| c.explanation.clone())
            .filter(|e| !e.is_empty()),
        counterexample: g.counterexample.as_ref().map(|c| c.message),
    }
}

/// A row of the compare table, every cell measured.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareRow {
    pub mode: Mode,
    pub title: &'static str,
    pub promise: String,
    pub held: bool,
    /// `drained`, `gave-up` or `stalled`, for `data-status`.
    pub status: &'static str,
    /// "stalled, 200 in flight" when the run stopped short; the promise was not tested then.
    pub stalled: Option<String>,
    pub lost: String,
    pub duplicates: String,
    pub overcharged: String,
    /// When payments call a card provider: the cards it charged twice and what that cost
    /// ("14 · $4,108", or "0"). The mode's promise covers only the broker's ledger, so a kept promise
    /// can sit beside a broken card (the exactly-once trap).
    pub cards_charged_twice: Option<String>,
    /// A kept ledger promise whose card provider still charged some payments twice: the line
    /// that says so beside the verdict.
    pub outside_the_promise: Option<String>,
    pub p50: String,
    pub p99: String,
    pub throughput: String,
    /// The most the consumers could sustain (`Report::capacity_per_s`).
    pub capacity: String,
    pub network_per_message: String,
    /// Transactions, dedup look-ups or broker-side dedup: whatever the mode paid extra.
    pub extra_cost: String,
}

/// The lines under the compare table that say where a number that is not obvious comes from.
pub fn compare_notes(reports: &[Report]) -> Vec<String> {
    let mut notes = Vec::new();
    let of = |mode| reports.iter().find(|r| r.mode == mode);
    if let (Some(alo), Some(eos)) = (of(Mode::AtLeastOnce), of(Mode::ExactlyOnce)) {
        let extra = eos.latency_ms.p50 - alo.latency_ms.p50;
        if extra > 0.0 && eos.scenario.isolation == dsim_core::scenario::Isolation::ReadCommitted {
            notes.push(format!(
                "Exactly-once's p50 is {} above at-least-once's: its read-committed ledger applies a payment only when the transaction holding it commits, after the consumer has processed its whole poll (up to {} records) and the commit's round trips to the transaction coordinator are done.",
                millis(extra),
                eos.scenario.max_poll
            ));
        }
    }
    notes
}

pub fn compare_rows(reports: &[Report]) -> Vec<CompareRow> {
    reports
        .iter()
        .map(|r| {
            let c = &r.cost;
            let mut extra = Vec::new();
            if c.transactions > 0 {
                extra.push(format!("{} transactions", thousands(c.transactions)));
            }
            if c.aborted_transactions > 0 {
                extra.push(format!("{} aborted", thousands(c.aborted_transactions)));
            }
            if c.dedup_lookups > 0 {
                extra.push(format!(
                    "{} dedup look-ups (store peak {})",
                    thousands(c.dedup_lookups),
                    thousands(c.dedup_store_peak)
                ));
            }
            if c.duplicates_dropped_by_broker > 0 {
                extra.push(format!(
                    "{} retries dropped by the broker (idempotent producer)",
                    thousands(c.duplicates_dropped_by_broker)
                ));
            }
            let cards_charged_twice = r.external.as_ref().map(|e| {
                if e.double_charges == 0 {
                    "0".to_string()
                } else {
                    format!(
                        "{} · {}",
                        thousands(e.double_charges),
                        dollars_rounded(e.overcharged_cents)
                    )
                }
            });
            let outside_the_promise = r
                .external
                .as_ref()
                // Only a mode that promises no duplicates: at-least-once allows them.
                .filter(|e| {
                    r.guarantee.held && r.mode.promise().no_duplicates && e.double_charges > 0
                })
                .map(|e| {
                    format!(
                        "but the card provider charged {} {} twice",
                        thousands(e.double_charges),
                        if e.double_charges == 1 {
                            "payment"
                        } else {
                            "payments"
                        }
                    )
                });
            CompareRow {
                mode: r.mode,
                cards_charged_twice,
                outside_the_promise,
                title: r.mode.title(),
                promise: r.guarantee.promise.clone(),
                held: r.guarantee.held,
                status: status_key(r.status),
                stalled: (r.status == Status::Stalled)
                    .then(|| format!("stalled, {} in flight", thousands(r.in_flight))),
                lost: thousands(r.lost),
                duplicates: thousands(r.duplicates),
                overcharged: dollars_rounded(r.ledger.overcharged_cents),
                p50: millis(r.latency_ms.p50),
                p99: millis(r.latency_ms.p99),
                throughput: rate(r.throughput_per_s),
                capacity: r.capacity_per_s.map_or("–".into(), rate),
                network_per_message: trim_number(c.network_messages_per_message),
                extra_cost: if extra.is_empty() {
                    "–".into()
                } else {
                    extra.join(", ")
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page's data attributes (read by the tests, the embed example and CSS) spell states
    /// and verdicts as they always have: the variant's name in lower case.
    #[test]
    fn state_and_verdict_keys_are_their_names_in_lower_case() {
        for state in [RunState::Running, RunState::Paused, RunState::Finished] {
            assert_eq!(state.key(), format!("{state:?}").to_lowercase());
        }
        for verdict in [
            Verdict::Held,
            Verdict::HoldingSoFar,
            Verdict::Stalled,
            Verdict::Broken,
        ] {
            assert_eq!(verdict.key(), format!("{verdict:?}").to_lowercase());
        }
    }
    use std::cell::Cell;

    /// A clock that advances `per_call_ms` every time it is read.
    fn fake_clock(per_call_ms: f64) -> impl Fn() -> f64 {
        let now = Cell::new(0.0);
        move || {
            now.set(now.get() + per_call_ms);
            now.get()
        }
    }

    fn scenario(query: &str) -> Scenario {
        let (s, errors) = Scenario::from_query(query, &[]);
        assert!(errors.is_empty(), "{errors:?}");
        s
    }

    #[test]
    fn budget_grows_towards_the_target_and_shrinks_at_once() {
        let mut b = FrameBudget::new();
        b.observe(b.events(), 0.5);
        assert_eq!(b.events(), 4 * FrameBudget::START);
        b.observe(b.events(), 100.0);
        assert_eq!(b.events(), 1_600);
        // A run that ended early teaches nothing.
        b.observe(1, 100.0);
        assert_eq!(b.events(), 1_600);
    }

    #[test]
    fn a_live_run_ends_like_a_whole_run() {
        let s = scenario("messages=10000&mode=at-least-once&ack-loss=0.05");
        let mut live = LiveRun::new(&s, false);
        let clock = fake_clock(1.0);
        let mut frames = 0;
        while live.frame(&clock) {
            frames += 1;
            assert!(frames < 10_000);
        }
        assert!(frames > 1, "the run should take several frames");
        assert_eq!(live.state(), RunState::Finished);
        let whole = dsim_core::simulate(&s).unwrap();
        assert_eq!(live.report(), whole);
    }

    #[test]
    fn paused_runs_only_move_by_step() {
        let s = scenario("messages=500");
        let mut live = LiveRun::new(&s, true);
        assert!(!live.frame(&fake_clock(1.0)));
        assert_eq!(live.report().events, 0);
        live.step();
        let after = live.report();
        assert!(after.events > 0);
        assert!(after.duration_ms <= after.series.bucket_ms + 1e-9);
    }

    #[test]
    fn compare_runs_every_mode_on_the_same_seed() {
        let s = scenario("messages=500&publish-ack-loss=0.1&seed=9&producer-idempotence=off");
        let mut c = CompareRun::new(&s);
        let clock = fake_clock(0.5);
        while c.frame(&clock) {}
        let modes: Vec<Mode> = c.reports().iter().map(|r| r.mode).collect();
        assert_eq!(modes, Mode::ALL);
        assert!(c.reports().iter().all(|r| r.seed == 9));
        assert_eq!(c.progress(), 1.0);
        let rows = compare_rows(c.reports());
        assert_eq!(rows.len(), 5);
        let alo = &rows[1];
        assert_eq!(alo.title, "At-least-once");
        assert_ne!(alo.duplicates, "0");
        assert!(rows[3].extra_cost.contains("transactions"), "{rows:?}");
    }

    #[test]
    fn the_ledger_says_who_was_charged_twice() {
        let r = dsim_core::simulate(&scenario(
            "messages=2000&publish-ack-loss=0.1&producer-idempotence=off",
        ))
        .unwrap();
        let l = ledger(&r);
        assert!(l.bad);
        assert!(l.sentence.contains("double-charged, $"), "{}", l.sentence);
        let clean = ledger(&dsim_core::simulate(&scenario("messages=200")).unwrap());
        assert!(!clean.bad);
        assert_eq!(clean.expected, clean.actual);
    }

    #[test]
    fn the_ledger_headline_speaks_for_the_card_provider_too() {
        // The exactly-once trap: the broker's ledger is exact, the cards are not.
        let trap = dsim_core::presets::preset("exactly-once-trap")
            .unwrap()
            .query;
        let r = dsim_core::simulate(&scenario(trap)).unwrap();
        let x = r.external.as_ref().unwrap();
        assert!(x.double_charges > 0 && r.ledger.accounts_double_charged == 0);
        let l = ledger(&r);
        assert!(l.bad);
        assert!(
            l.sentence
                .starts_with("The ledger is exact, but the card provider charged"),
            "{}",
            l.sentence
        );
        assert!(!l.sentence.contains("exactly what they owed"));
        // With the key, the cards are right and the headline says so.
        let keyed = dsim_core::simulate(&scenario(&format!("{trap}&idempotency-key=on"))).unwrap();
        assert_eq!(
            ledger(&keyed).sentence,
            "Every customer was charged exactly what they owed."
        );
    }

    #[test]
    fn the_badge_links_to_the_counterexample() {
        let r = dsim_core::simulate(&scenario(
            "messages=2000&mode=idempotent-consumer&publish-ack-loss=0.1&dedup-window-ms=30&producer-idempotence=off",
        ))
        .unwrap();
        let g = guarantee(&r);
        assert_eq!(g.verdict, Verdict::Broken);
        assert_eq!(g.headline, "Promise broken: a duplicate");
        assert!(g.counterexample.is_some());
        assert!(g.explanation.unwrap().contains("charged 2 times"));
        let ok = guarantee(&dsim_core::simulate(&scenario("messages=200")).unwrap());
        assert_eq!(ok.verdict, Verdict::Held);
        assert_eq!(
            ok.promise,
            "At-least-once promises no loss (duplicates allowed)"
        );
    }

    #[test]
    fn a_stalled_run_says_so_instead_of_claiming_its_promise_held() {
        let r = dsim_core::simulate(&scenario("messages=200&consumers=0")).unwrap();
        let g = guarantee(&r);
        assert_eq!(g.verdict, Verdict::Stalled);
        assert_eq!(g.headline, "Run stalled: 200 messages never delivered");
        let status = run_status(&r).unwrap();
        assert_eq!(status.key, "stalled");
        assert!(status.bad);
        assert!(status.text.contains("no consumers"), "{}", status.text);
        let rows = compare_rows(&[r]);
        assert_eq!(rows[0].status, "stalled");
        assert_eq!(rows[0].stalled.as_deref(), Some("stalled, 200 in flight"));

        let gave_up = dsim_core::simulate(&scenario("messages=100&publish-loss=1")).unwrap();
        let status = run_status(&gave_up).unwrap();
        assert_eq!((status.key, status.bad), ("gave-up", true));
        assert!(
            status
                .text
                .starts_with("gave up: 100 messages ran out of retries")
        );

        let fine = dsim_core::simulate(&scenario("messages=100")).unwrap();
        assert_eq!(run_status(&fine).unwrap().key, "drained");
        assert!(!run_status(&fine).unwrap().bad);
        let mut live = LiveRun::new(&scenario("messages=100"), true);
        assert_eq!(run_status(&live.report()), None, "no status while running");
    }

    #[test]
    fn counters_carry_their_test_ids() {
        let r = dsim_core::simulate(&scenario("messages=100")).unwrap();
        let ids: Vec<&str> = counters(&r).iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            [
                "produced",
                "applied",
                "duplicates",
                "lost",
                "retries",
                "throughput"
            ]
        );
        assert_eq!(counters(&r)[0].value, "100");
        // Capacity beside throughput: at the defaults four consumers at 1 ms a record.
        assert_eq!(counters(&r)[5].detail, "capacity 4,000 msg/s");
        let eos = dsim_core::simulate(&scenario("messages=100&mode=exactly-once")).unwrap();
        let row = &compare_rows(&[r, eos])[..];
        assert_eq!(row[0].capacity, "4,000 msg/s");
        assert_ne!(
            row[1].capacity, row[0].capacity,
            "exactly-once pays for its commits"
        );
    }

    #[test]
    fn the_compare_rows_show_the_card_provider_beside_a_kept_ledger_promise() {
        let preset = dsim_core::presets()
            .iter()
            .find(|p| p.key == "exactly-once-trap")
            .unwrap();
        let eos = dsim_core::simulate(&preset.scenario().unwrap()).unwrap();
        let provider = eos.external.clone().unwrap();
        assert!(eos.guarantee.held && provider.double_charges > 0);
        let rows = compare_rows(std::slice::from_ref(&eos));
        assert_eq!(
            rows[0].cards_charged_twice.as_deref(),
            Some(
                format!(
                    "{} · {}",
                    thousands(provider.double_charges),
                    dollars_rounded(provider.overcharged_cents)
                )
                .as_str()
            )
        );
        assert_eq!(
            rows[0].outside_the_promise.as_deref(),
            Some(
                format!(
                    "but the card provider charged {} payments twice",
                    provider.double_charges
                )
                .as_str()
            )
        );
        // With the idempotency key the provider charges once: nothing to add to the verdict.
        let mut keyed = preset.scenario().unwrap();
        keyed.set("idempotency-key", "on").unwrap();
        let keyed = compare_rows(&[dsim_core::simulate(&keyed).unwrap()]);
        assert_eq!(keyed[0].outside_the_promise, None);
        assert_eq!(keyed[0].cards_charged_twice.as_deref(), Some("0"));
        // At-least-once allows duplicates: its card column counts them, its verdict adds nothing.
        let mut alo = preset.scenario().unwrap();
        alo.set("mode", "at-least-once").unwrap();
        let alo = compare_rows(&[dsim_core::simulate(&alo).unwrap()]);
        assert_ne!(alo[0].cards_charged_twice.as_deref(), Some("0"));
        assert_eq!(alo[0].outside_the_promise, None);
        // No card provider, no column.
        let plain = compare_rows(&[dsim_core::simulate(&scenario("messages=100")).unwrap()]);
        assert_eq!(plain[0].cards_charged_twice, None);
    }

    #[test]
    fn every_counter_of_something_gone_wrong_links_to_one_message_it_counts() {
        let preset = |key: &str| {
            let p = dsim_core::presets().iter().find(|p| p.key == key).unwrap();
            dsim_core::simulate(&p.scenario().unwrap()).unwrap()
        };
        let r = preset("consumer-crash-after-processing");
        let c = counters(&r);
        assert_eq!(
            c[2].example,
            Some((r.example_duplicate.unwrap(), "a duplicate"))
        );
        assert_eq!(c[3].example, None, "nothing lost, nothing to show");
        assert_eq!(
            c[4].example,
            Some((r.example_replayed.unwrap(), "a replayed one"))
        );
        let r = preset("ack-before-processing");
        assert_eq!(
            counters(&r)[3].example,
            Some((r.example_loss.unwrap(), "a lost one"))
        );
        // A clean run links nowhere.
        let clean = dsim_core::simulate(&scenario("messages=100")).unwrap();
        assert!(counters(&clean).iter().all(|c| c.example.is_none()));
    }

    #[test]
    fn the_produced_counter_says_how_many_a_dual_write_never_published() {
        let preset = |extra: &str| {
            let p = dsim_core::presets()
                .iter()
                .find(|p| p.key == "dual-write")
                .unwrap();
            dsim_core::simulate(&scenario(&format!("{}{extra}", p.query))).unwrap()
        };
        let r = preset("");
        assert!(r.cost.producer_crashes > 0);
        assert_eq!(
            counters(&r)[0].detail,
            format!("of 10,000 · {} never published", r.cost.producer_crashes)
        );
        assert_eq!(
            r.lost, r.cost.producer_crashes,
            "each crash loses its payment"
        );
        // The outbox's row survives the crash: every payment is published.
        assert_eq!(counters(&preset("&mode=outbox"))[0].detail, "of 10,000");
    }

    #[test]
    fn the_compare_view_says_where_exactly_onces_latency_goes() {
        let reports = dsim_core::compare(&scenario("messages=2000")).unwrap();
        let notes = compare_notes(&reports);
        assert_eq!(notes.len(), 1, "{notes:?}");
        let alo = &reports[1];
        let eos = &reports[3];
        assert_eq!(eos.mode, Mode::ExactlyOnce);
        assert!(notes[0].starts_with(&format!(
            "Exactly-once's p50 is {} above at-least-once's",
            millis(eos.latency_ms.p50 - alo.latency_ms.p50)
        )));
        assert!(notes[0].contains("up to 50 records"));
    }

    /// The line under the retries counter counts in words that agree with their number.
    #[test]
    fn the_retries_detail_says_one_retry_and_two_retries() {
        let mut r = dsim_core::simulate(&scenario("messages=200&ack-loss=0.2")).unwrap();
        assert!(r.commit_retries > 1, "{}", r.commit_retries);
        assert!(retries_detail(&r).contains(&format!("{} commit retries", r.commit_retries)));
        r.commit_retries = 1;
        r.cost.relay_crashes = 1;
        let detail = retries_detail(&r);
        assert!(detail.contains("· 1 commit retry ·"), "{detail}");
        assert!(detail.ends_with("· 1 relay crash"), "{detail}");
    }
}
