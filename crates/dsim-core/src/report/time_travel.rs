//! Time travel: the state of a run at any past instant, cheaply.
//!
//! A `TimeTravel` records a run as it steps it: it keeps copies of the whole `Simulation`
//! (snapshots) every `spacing_events` events. To show the run at simulated time `t` (or after
//! `k` events), it takes the last snapshot at or before that point and replays the run from
//! there. Replay is exact because a run is a pure function of its scenario and of how far it
//! has gone: however a run is stepped, the state after the same events is the same (the
//! determinism invariant), so the state at `t` equals that of a fresh run stopped at `t`.
//!
//! Memory is bounded by a count of snapshots, not by the run's length: at most `capacity`
//! snapshots (32 by default), and optionally at most `byte_budget` bytes of them by estimate.
//! When a new snapshot would break either bound, every other snapshot is dropped and the
//! spacing doubles, so the snapshots always sit at multiples of the spacing, evenly over the
//! run. A replay therefore runs fewer than `spacing_events` events (plus the rest of one
//! instant), which is about `2 × events / capacity` at most: the cost of a seek is bounded by
//! the spacing, whatever the distance travelled.
//!
//! Positions are either a simulated time (`Target::Time`: every event at or before `t` has
//! run, and the clock reads `t`, as `Simulation::advance_to` leaves it) or a number of events
//! (`Target::Events`: exactly that many events have run, as `Simulation::step` leaves it).
//! "Step back" and "step forward" move by one event, which is what a step is elsewhere in the
//! engine.

use crate::engine::timers::TimerList;
use crate::scenario::Scenario;
use crate::simulation::Simulation;
use crate::time::Micros;

/// A position in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Simulated time in microseconds: every event at or before it has run.
    Time(Micros),
    /// Exactly this many events have run.
    Events(u64),
}

/// A replay from a snapshot towards a target, which can be run in slices (a page runs a
/// few milliseconds of it per frame) or at once.
#[derive(Clone)]
pub struct Replay {
    sim: Simulation,
    target: Target,
    done: bool,
}

impl Replay {
    fn new(sim: Simulation, target: Target) -> Replay {
        Replay {
            sim,
            target,
            done: false,
        }
    }

    pub fn target(&self) -> Target {
        self.target
    }

    /// Runs at most `max_events` more events of the replay; returns whether it has arrived.
    pub fn run(&mut self, max_events: u64) -> bool {
        if self.done {
            return true;
        }
        match self.target {
            Target::Time(t) => {
                let ran = self.sim.advance_to_at_most(t, max_events);
                // Short of the budget means every event up to `t` ran (or the run ended).
                self.done = ran < max_events || self.sim.is_finished() || self.next_after(t);
                if self.done {
                    // Settles the clock at `t` exactly as a fresh `advance_to(t)` would.
                    self.sim.advance_to(t);
                }
            }
            Target::Events(k) => {
                let left = k.saturating_sub(self.sim.events());
                self.sim.step(left.min(max_events));
                self.done = self.sim.events() >= k || self.sim.is_finished();
            }
        }
        self.done
    }

    fn next_after(&self, t: Micros) -> bool {
        self.sim.world.queue.peek_time().is_none_or(|next| next > t)
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The state reached so far (the target's once `is_done`).
    pub fn state(&self) -> &Simulation {
        &self.sim
    }

    pub fn into_state(self) -> Simulation {
        self.sim
    }
}

/// A recorded run: the run itself at its furthest point (`live`), snapshots of its past, and a
/// cursor for moving through it.
pub struct TimeTravel {
    live: Simulation,
    /// Ordered by events; the first is the run before its first event. Every snapshot was taken
    /// right after an event ran (never after `advance_to` moved the clock on), at a multiple of
    /// `spacing`, so its clock reads the time of its last event.
    snapshots: Vec<Simulation>,
    spacing: u64,
    capacity: usize,
    byte_budget: usize,
    /// Where the cursor is; `None` at the live end.
    cursor: Option<Simulation>,
}

impl TimeTravel {
    /// Snapshots kept at most, by default.
    pub const DEFAULT_CAPACITY: usize = 32;
    /// Events between snapshots until the run outgrows the capacity.
    pub const FIRST_SPACING_EVENTS: u64 = 1_024;
    /// The bytes of snapshots a recording keeps, by estimate, unless told otherwise (the JS
    /// API's runs): a browser tab can afford it.
    pub const DEFAULT_BYTE_BUDGET: usize = 64 * 1024 * 1024;

    /// Records a new run of `scenario` with the default bounds and no byte budget.
    pub fn new(scenario: &Scenario) -> TimeTravel {
        TimeTravel::with_limits(scenario, Self::DEFAULT_CAPACITY, usize::MAX)
    }

    /// Records a new run keeping at most `capacity` snapshots (at least 2) and, by estimate,
    /// at most `byte_budget` bytes of them (the first two are kept whatever their size).
    pub fn with_limits(scenario: &Scenario, capacity: usize, byte_budget: usize) -> TimeTravel {
        let live = Simulation::new(scenario);
        TimeTravel {
            snapshots: vec![live.clone()],
            live,
            spacing: Self::FIRST_SPACING_EVENTS,
            capacity: capacity.max(2),
            byte_budget,
            cursor: None,
        }
    }

    /// The run being recorded, at its furthest point.
    pub fn live(&self) -> &Simulation {
        &self.live
    }

    pub fn scenario(&self) -> &Scenario {
        self.live.scenario()
    }

    /// Snapshots held now (never more than the capacity).
    pub fn snapshots(&self) -> usize {
        self.snapshots.len()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Events between snapshots now: a replay runs fewer than this (plus one instant's rest).
    pub fn spacing_events(&self) -> u64 {
        self.spacing
    }

    /// The estimated size of the snapshots held, in bytes.
    pub fn snapshot_bytes(&self) -> usize {
        self.snapshots.iter().map(Simulation::footprint_bytes).sum()
    }

    // ----- Recording -----

    fn next_snapshot_at(&self) -> u64 {
        self.snapshots.last().map_or(0, Simulation::events) + self.spacing
    }

    /// Takes a snapshot if the run has reached the next multiple of the spacing, then thins
    /// the snapshots while they break a bound.
    fn record(&mut self) {
        if self.live.is_finished() || self.live.events() < self.next_snapshot_at() {
            return;
        }
        self.snapshots.push(self.live.clone());
        while self.snapshots.len() > 2
            && (self.snapshots.len() > self.capacity || self.snapshot_bytes() > self.byte_budget)
        {
            let mut index = 0;
            self.snapshots.retain(|_| {
                index += 1;
                index % 2 == 1
            });
            self.spacing *= 2;
        }
    }

    /// Steps the run by at most `max_events` events, recording it; returns how many ran.
    pub fn step(&mut self, max_events: u64) -> u64 {
        let mut ran = 0;
        while ran < max_events && !self.live.is_finished() {
            let to_snapshot = self.next_snapshot_at().saturating_sub(self.live.events());
            let n = self.live.step((max_events - ran).min(to_snapshot.max(1)));
            ran += n;
            self.record();
            if n == 0 {
                break;
            }
        }
        ran
    }

    /// Runs every event up to `until_us`, at most `max_events` of them, recording the run. Once
    /// every event up to `until_us` has run, the clock moves there, as `advance_to` does.
    pub fn advance_to(&mut self, until_us: Micros, max_events: u64) -> u64 {
        let mut ran = 0;
        while !self.live.is_finished() {
            let due = self
                .live
                .world
                .queue
                .peek_time()
                .is_some_and(|t| t <= until_us);
            if !due {
                break;
            }
            if ran >= max_events {
                return ran;
            }
            // One event at a time up to the next snapshot, so snapshots are taken after an
            // event and never after the clock was moved on.
            let to_snapshot = self.next_snapshot_at().saturating_sub(self.live.events());
            let mut batch = 0;
            while batch < to_snapshot.max(1)
                && ran + batch < max_events
                && self
                    .live
                    .world
                    .queue
                    .peek_time()
                    .is_some_and(|t| t <= until_us)
            {
                if self.live.step(1) == 0 {
                    break;
                }
                batch += 1;
            }
            ran += batch;
            self.record();
            if batch == 0 {
                break;
            }
        }
        self.live.advance_to(until_us);
        ran
    }

    /// Runs to the end, recording the run.
    pub fn run_to_end(&mut self) {
        while !self.live.is_finished() {
            self.step(u64::MAX);
        }
    }

    // ----- Reading the past -----

    /// A replay from the last snapshot at or before `target`, towards it. A target beyond the
    /// recorded run is clamped to the run's furthest point.
    pub fn replay_to(&self, target: Target) -> Replay {
        let target = match target {
            Target::Time(t) => Target::Time(t.min(self.live.now_us())),
            Target::Events(k) => Target::Events(k.min(self.live.events())),
        };
        let from = match target {
            Target::Time(t) => self.snapshots.iter().rposition(|s| s.now_us() <= t),
            Target::Events(k) => self.snapshots.iter().rposition(|s| s.events() <= k),
        }
        .unwrap_or(0);
        Replay::new(self.snapshots[from].clone(), target)
    }

    /// The run at simulated time `t_us` (clamped to the recorded run): every event at or
    /// before it has run, exactly as in a fresh run stopped there with `advance_to`.
    pub fn state_at(&self, t_us: Micros) -> Simulation {
        let mut replay = self.replay_to(Target::Time(t_us));
        replay.run(u64::MAX);
        replay.into_state()
    }

    /// The run after exactly `events` events (clamped to the recorded run), as a fresh run
    /// stepped that many events.
    pub fn state_after_events(&self, events: u64) -> Simulation {
        let mut replay = self.replay_to(Target::Events(events));
        replay.run(u64::MAX);
        replay.into_state()
    }

    // ----- The cursor -----

    /// Where the cursor is: a past state, or the live run.
    pub fn current(&self) -> &Simulation {
        self.cursor.as_ref().unwrap_or(&self.live)
    }

    pub fn is_live(&self) -> bool {
        self.cursor.is_none()
    }

    /// Moves the cursor to simulated time `t_us`; at or beyond the live run's clock it goes
    /// back to the live run.
    pub fn seek(&mut self, t_us: Micros) {
        self.cursor = (t_us < self.live.now_us()).then(|| self.state_at(t_us));
    }

    /// Moves the cursor to the state after `events` events; at or beyond the live run's count
    /// it goes back to the live run.
    pub fn seek_events(&mut self, events: u64) {
        self.cursor = (events < self.live.events()).then(|| self.state_after_events(events));
    }

    /// Moves the cursor one event back; returns whether it moved (not at the very start).
    pub fn step_back(&mut self) -> bool {
        let events = self.current().events();
        if events == 0 {
            return false;
        }
        self.cursor = Some(self.state_after_events(events - 1));
        true
    }

    /// Moves the cursor one event forward; reaching the live run's count returns to it.
    /// Returns whether it moved (not already live).
    pub fn step_forward(&mut self) -> bool {
        let Some(cursor) = self.cursor.as_mut() else {
            return false;
        };
        cursor.step(1);
        if cursor.events() >= self.live.events() {
            self.cursor = None;
        }
        true
    }

    /// Puts the cursor back on the live run.
    pub fn go_live(&mut self) {
        self.cursor = None;
    }
}

impl Simulation {
    /// An estimate of the memory this state takes, in bytes: what grows with a run (messages
    /// in flight, the log, waiting events and timers, the dedup store) plus the fixed parts
    /// (the latency histogram, the time series, the ledger's accounts). Only for bounding
    /// time travel's snapshots; it decides nothing in a run.
    pub fn footprint_bytes(&self) -> usize {
        const FIXED: usize = 200 * 1024 + 160 * 1024;
        let buffered: usize = self
            .world
            .consumers
            .iter()
            .map(|c| c.queue.len() + c.txn.len())
            .sum::<usize>();
        let outbox: usize = self.clients.relays.iter().map(|r| r.rows.len()).sum();
        let logged: usize = self
            .brokers
            .logs
            .iter()
            .map(|l| (l.end() - l.committed) as usize)
            .sum();
        FIXED
            + self.world.msgs.len() * 32
            + self.brokers.entries.peak() * 24
            + (self.world.queue.len()
                + self
                    .clients
                    .publish_timers
                    .iter()
                    .map(TimerList::len)
                    .sum::<usize>())
                * 32
            + self.world.dedup.len() * 48
            + (buffered + outbox + logged + self.brokers.replicating.len()) * 16
            + self.world.scenario.accounts as usize * 8
    }
}
