//! Time travel on the page, in plain Rust: reaching a past instant of the run a few
//! milliseconds per frame, so the page never blocks however far it travels.
//!
//! The scrubber records its own copy of the run (`dsim_core::TimeTravel`, a tape), made on
//! first use and kept until the scenario changes. The run is a pure function of its scenario,
//! so the tape's states are the live run's states, whether the live run animates on the page
//! or ran in the Web Worker (which has no engine on the main thread to ask). Recording on the
//! first scrub rather than alongside the live run keeps snapshots off the path of a slider
//! drag. A position is reached in two phases, each a frame budget at a time: the tape catches
//! up to it (only the first time the run gets that far), then a replay runs from the nearest
//! snapshot, which costs at most the snapshots' spacing.

use dsim_core::{QueueState, Replay, Report, Scenario, Simulation, Target, TimeTravel};

use crate::view_model::FrameBudget;

/// Snapshots the tape keeps, and the bytes they may take by estimate: a large run in an
/// idempotent mode holds a big dedup store, and a browser tab should not hold 32 of them.
const TAPE_SNAPSHOTS: usize = TimeTravel::DEFAULT_CAPACITY;
const TAPE_BYTES: usize = 96 * 1024 * 1024;

/// The dashboard at a past instant: everything it shows, from the simulation at that instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Position {
    pub report: Report,
    pub queue: QueueState,
    pub t_ms: f64,
    pub events: u64,
}

impl Position {
    fn of(sim: &Simulation) -> Position {
        Position {
            report: sim.report(),
            queue: sim.queue_state(),
            t_ms: sim.now_us() as f64 / 1000.0,
            events: sim.events(),
        }
    }
}

/// Where the dashboard is while it shows the past, for the scrubber's controls.
#[derive(Clone, Debug, PartialEq)]
pub struct TravelMark {
    /// The instant shown, or asked for while it is being reached.
    pub t_ms: f64,
    /// Events run at the instant shown; `None` until the first position is reached.
    pub events: Option<u64>,
    /// How far the position being reached is, while it is (0 to 1).
    pub busy: Option<f64>,
}

/// What a step forward did.
#[derive(Clone, Debug, PartialEq)]
pub enum Forward {
    /// Moved one event on, to this position.
    To(Box<Position>),
    /// Reached the live run's end: the dashboard should go back to live.
    Live,
    /// Nothing to step from (already live, or a position is still being reached).
    Nothing,
}

pub struct Scrubber {
    tape: TimeTravel,
    /// The position asked for and not reached yet.
    want: Option<Target>,
    replay: Option<Replay>,
    /// The position reached last.
    at: Option<Simulation>,
    budget: FrameBudget,
}

impl Scrubber {
    pub fn new(scenario: &Scenario) -> Scrubber {
        Scrubber {
            tape: TimeTravel::with_limits(scenario, TAPE_SNAPSHOTS, TAPE_BYTES),
            want: None,
            replay: None,
            at: None,
            budget: FrameBudget::new(),
        }
    }

    pub fn scenario(&self) -> &Scenario {
        self.tape.scenario()
    }

    pub fn tape(&self) -> &TimeTravel {
        &self.tape
    }

    /// Asks for simulated time `t_ms`; `frame` gets there.
    pub fn seek(&mut self, t_ms: f64) {
        let t_us = (t_ms.max(0.0) * 1000.0).round() as u64;
        self.aim(Target::Time(t_us));
    }

    /// Asks for one event before the current position, or before the live run's end
    /// (`live_events`) when the dashboard is live. Returns whether there is such a position.
    pub fn step_back(&mut self, live_events: u64) -> bool {
        let from = match (self.want, &self.at) {
            (Some(Target::Events(k)), _) => k,
            (Some(Target::Time(_)), _) => return false,
            (None, Some(at)) => at.events(),
            (None, None) => live_events,
        };
        if from == 0 {
            return false;
        }
        self.aim(Target::Events(from - 1));
        true
    }

    /// One event on from the position reached: at once, since it is one event from there.
    pub fn step_forward(&mut self, live_events: u64) -> Forward {
        if self.want.is_some() {
            return Forward::Nothing;
        }
        let Some(at) = self.at.as_mut() else {
            return Forward::Nothing;
        };
        at.step(1);
        if at.events() >= live_events || at.is_finished() {
            self.leave();
            return Forward::Live;
        }
        Forward::To(Box::new(Position::of(at)))
    }

    /// Back to live: forgets the position but keeps the tape for the next scrub.
    pub fn leave(&mut self) {
        self.want = None;
        self.replay = None;
        self.at = None;
    }

    fn aim(&mut self, target: Target) {
        self.want = Some(target);
        self.replay = None;
    }

    /// Whether a position is being reached (the page keeps its frame loop going).
    pub fn is_busy(&self) -> bool {
        self.want.is_some()
    }

    /// How far the position being reached is, from 0 to 1, for the "replaying" label.
    pub fn busy_fraction(&self) -> Option<f64> {
        let want = self.want?;
        let live = self.tape.live();
        let (done, goal) = match (want, &self.replay) {
            (Target::Time(t), None) => (live.now_us() as f64, t as f64),
            (Target::Events(k), None) => (live.events() as f64, k as f64),
            (Target::Time(t), Some(r)) => (r.state().now_us() as f64, t as f64),
            (Target::Events(k), Some(r)) => (r.state().events() as f64, k as f64),
        };
        Some(if goal <= 0.0 {
            1.0
        } else {
            (done / goal).clamp(0.0, 1.0)
        })
    }

    /// Works towards the asked position for about one frame (`FrameBudget::TARGET_MS` by
    /// `clock`); returns the position once reached.
    pub fn frame(&mut self, clock: &dyn Fn() -> f64) -> Option<Position> {
        let start = clock();
        while self.want.is_some() && clock() - start < FrameBudget::TARGET_MS {
            let t0 = clock();
            let (ran, arrived) = self.slice(self.budget.events());
            self.budget.observe(ran, clock() - t0);
            if arrived {
                return self.at.as_ref().map(Position::of);
            }
        }
        None
    }

    /// Works towards the asked position until it is reached (tests, and the native side).
    pub fn run_until_arrived(&mut self) -> Option<Position> {
        while self.want.is_some() {
            if self.slice(u64::MAX).1 {
                return self.at.as_ref().map(Position::of);
            }
        }
        None
    }

    /// Runs at most `max` events towards the target; returns how many ran and whether the
    /// target was reached.
    fn slice(&mut self, max: u64) -> (u64, bool) {
        let Some(want) = self.want else {
            return (0, false);
        };
        let live = self.tape.live();
        let (finished, now, events) = (live.is_finished(), live.now_us(), live.events());
        let behind = !finished
            && match want {
                Target::Time(t) => now < t,
                Target::Events(k) => events < k,
            };
        if behind {
            let ran = match want {
                Target::Time(t) => self.tape.advance_to(t, max),
                Target::Events(k) => self.tape.step(max.min(k - events)),
            };
            return (ran, false);
        }
        let replay = self.replay.get_or_insert_with(|| self.tape.replay_to(want));
        let before = replay.state().events();
        let arrived = replay.run(max);
        let ran = replay.state().events() - before;
        if arrived {
            self.at = self.replay.take().map(Replay::into_state);
            self.want = None;
        }
        (ran, arrived)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsim_core::Mode;

    fn scenario() -> Scenario {
        Scenario {
            mode: Mode::AtLeastOnce,
            messages: 3_000,
            ack_loss: 0.1,
            crash_after_process: 0.01,
            seed: 8,
            ..Scenario::default()
        }
    }

    fn fresh_at(s: &Scenario, t_ms: f64) -> Simulation {
        let mut sim = Simulation::new(s);
        sim.advance_to((t_ms * 1000.0).round() as u64);
        sim
    }

    #[test]
    fn a_scrubbed_position_is_the_run_stopped_there() {
        let s = scenario();
        let mut scrubber = Scrubber::new(&s);
        for t_ms in [700.0, 120.5, 1_300.0, 0.0, 700.0] {
            scrubber.seek(t_ms);
            let at = scrubber.run_until_arrived().expect("arrives");
            let fresh = fresh_at(&s, t_ms);
            assert_eq!(at.report, fresh.report(), "at {t_ms} ms");
            assert_eq!(at.queue, fresh.queue_state());
            assert_eq!(at.t_ms, t_ms);
        }
    }

    /// A frame at a time with a clock that says each reading took 4 ms: the position
    /// arrives after several frames, each within the budget, and is the same.
    #[test]
    fn frames_get_there_in_slices() {
        let s = scenario();
        let mut scrubber = Scrubber::new(&s);
        let t = std::cell::Cell::new(0.0);
        let clock = || {
            t.set(t.get() + 4.0);
            t.get()
        };
        scrubber.seek(1_000.0);
        let mut frames = 0;
        let at = loop {
            frames += 1;
            if let Some(at) = scrubber.frame(&clock) {
                break at;
            }
            assert!(scrubber.busy_fraction().is_some());
            assert!(frames < 100_000);
        };
        assert!(frames > 1, "a whole catch-up in one frame");
        assert_eq!(at.report, fresh_at(&s, 1_000.0).report());
        assert!(!scrubber.is_busy());
    }

    #[test]
    fn step_back_and_forward_move_by_one_event() {
        let s = scenario();
        let mut live = Simulation::new(&s);
        live.run_to_end();
        let end = live.events();
        let mut scrubber = Scrubber::new(&s);
        assert!(scrubber.step_back(end));
        let back = scrubber.run_until_arrived().expect("arrives");
        assert_eq!(back.events, end - 1);
        assert!(scrubber.step_back(end));
        let two_back = scrubber.run_until_arrived().expect("arrives");
        assert_eq!(two_back.events, end - 2);
        match scrubber.step_forward(end) {
            Forward::To(p) => assert_eq!(*p, back),
            other => panic!("expected a position, got {other:?}"),
        }
        assert_eq!(scrubber.step_forward(end), Forward::Live);
        assert_eq!(scrubber.step_forward(end), Forward::Nothing);
    }
}
