//! Sweeps: one knob from one value to another, every mode at every point, each point the mean
//! of several seeds with a 95 % confidence interval, next to what theory expects.
//!
//! A `Sweep` does one run per `step()`, so a caller can spread the work over time (a Web
//! Worker posting progress, a terminal drawing a counter) and stop whenever it likes; `sweep`
//! runs it all at once. Runs are taken in a fixed order (point, then mode, then seed) and each
//! is an ordinary `Simulation` of an ordinary scenario, so the same spec always gives the same
//! result, and every number in it can be reproduced with `simulate` on the scenario
//! `Sweep::scenario_of_run` names.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::report::Report;
use crate::report::stats::{Estimate, MAX_SAMPLES};
use crate::report::theory::{Expected, expected};
use crate::scenario::knobs::{Kind, Knob, MAX_SEED, ScenarioError, format_number, knob};
use crate::scenario::{Mode, Scenario};
use crate::{Simulation, Status};

/// The most points a sweep may have.
pub const MAX_STEPS: u32 = 101;
/// The most seeds per point (the t table's reach).
pub const MAX_SEEDS: u32 = MAX_SAMPLES as u32;
/// The most messages a whole sweep may simulate, over all points, modes and seeds: about ten
/// seconds natively, so a sweep stays something one waits for, not something one leaves.
pub const MAX_SWEEP_MESSAGES: u64 = 20_000_000;

/// What to sweep. The base scenario (every other setting) is given separately.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// The setting to vary, in kebab-case (`ack-loss`) or camelCase (`ackLoss`).
    pub knob: String,
    /// The first value.
    pub from: f64,
    /// The last value (it may be below `from`).
    pub to: f64,
    /// Evenly spaced points from `from` to `to`, both included; whole-number settings are
    /// rounded at each point.
    pub steps: u32,
    /// Runs per point and mode, with seeds `seed`, `seed + 1`, …; at least two, so that
    /// every point has a confidence interval.
    pub seeds: u32,
}

/// One mode at one point: the mean of its runs, each with a 95 % confidence interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ModeSummary {
    pub mode: Mode,
    pub runs: u32,
    /// Runs that stopped at their horizon with messages still in flight.
    pub stalled_runs: u32,
    /// Extra applications per message published (`duplicates / messages`).
    pub duplicates_per_message: Estimate,
    /// Messages never applied, per message published (`lost / messages`).
    pub lost_per_message: Estimate,
    pub latency_p99_ms: Estimate,
    pub throughput_per_s: Estimate,
    /// What probability theory expects here, where a formula is valid (see `dsim_core::theory`).
    pub expected: Option<Expected>,
}

/// One value of the knob, every mode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct SweepPoint {
    pub value: f64,
    /// In the order at-most-once, at-least-once, idempotent consumer, exactly-once, outbox.
    pub modes: Vec<ModeSummary>,
}

/// A sweep's results so far: every point whose runs are all done, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct SweepResult {
    /// The swept setting's kebab-case key.
    pub knob: String,
    pub label: String,
    /// `"ms"`, `"msg/s"` or empty.
    pub unit: String,
    pub spec: SweepSpec,
    /// Every setting but the swept one; its `mode` is ignored (every mode runs).
    pub base: Scenario,
    /// The seeds each point averages over, from `base.seed`.
    pub seeds: Vec<u64>,
    pub runs_done: u32,
    pub runs_total: u32,
    pub points: Vec<SweepPoint>,
}

/// How far a sweep has got.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct SweepProgress {
    pub runs_done: u32,
    pub runs_total: u32,
    /// Points whose runs are all done (they are in `result().points`).
    pub points_done: u32,
    /// `runs_done / runs_total`, from 0 to 1.
    pub fraction: f64,
}

/// The four numbers a sweep keeps of each run.
#[derive(Clone, Copy, Debug)]
struct RunSample {
    duplicates_per_message: f64,
    lost_per_message: f64,
    latency_p99_ms: f64,
    throughput_per_s: f64,
    stalled: bool,
}

impl RunSample {
    fn of(r: &Report) -> RunSample {
        let messages = f64::from(r.messages.max(1));
        RunSample {
            duplicates_per_message: r.duplicates as f64 / messages,
            lost_per_message: r.lost as f64 / messages,
            latency_p99_ms: r.latency_ms.p99,
            throughput_per_s: r.throughput_per_s,
            stalled: r.status == Status::Stalled,
        }
    }
}

/// A sweep in progress.
pub struct Sweep {
    base: Scenario,
    spec: SweepSpec,
    knob: &'static Knob,
    values: Vec<f64>,
    /// The modes the base scenario's broker runs, in `Mode::ALL` order.
    modes: Vec<Mode>,
    /// One per finished run, in run order.
    samples: Vec<RunSample>,
}

fn spec_error(key: &str, message: String) -> ScenarioError {
    ScenarioError {
        key: key.to_string(),
        message,
    }
}

impl SweepSpec {
    /// Reads a spec from JSON (`{"knob": "ack-loss", "from": 0, "to": 0.5, "steps": 11,
    /// "seeds": 20}`), naming the field that is wrong. Every field is required.
    pub fn from_json(value: &Value) -> Result<SweepSpec, ScenarioError> {
        let object = value.as_object().ok_or_else(|| {
            spec_error(
                "sweep",
                "must be an object with knob, from, to, steps and seeds".into(),
            )
        })?;
        if let Some(key) = object
            .keys()
            .find(|k| !["knob", "from", "to", "steps", "seeds"].contains(&k.as_str()))
        {
            return Err(spec_error(key, "is not a sweep setting".into()));
        }
        let field = |key: &str| {
            object
                .get(key)
                .ok_or_else(|| spec_error(key, "is missing".into()))
        };
        let number = |key: &str| -> Result<f64, ScenarioError> {
            field(key)?
                .as_f64()
                .ok_or_else(|| spec_error(key, "must be a number".into()))
        };
        let whole = |key: &str| -> Result<u32, ScenarioError> {
            let v = number(key)?;
            if v.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&v) {
                return Err(spec_error(
                    key,
                    format!("must be a whole number (got {})", format_number(v)),
                ));
            }
            Ok(v as u32)
        };
        let knob = field("knob")?
            .as_str()
            .ok_or_else(|| spec_error("knob", "must be the name of a setting".into()))?
            .to_string();
        Ok(SweepSpec {
            knob,
            from: number("from")?,
            to: number("to")?,
            steps: whole("steps")?,
            seeds: whole("seeds")?,
        })
    }

    /// Checks the spec against the knob table and the base scenario, and returns the knob.
    pub fn validate(&self, base: &Scenario) -> Result<&'static Knob, ScenarioError> {
        base.validate()?;
        let knob = knob(&self.knob).ok_or_else(|| {
            spec_error(
                "knob",
                format!(
                    "{:?} is not a scenario setting (see `dsim knobs`)",
                    self.knob
                ),
            )
        })?;
        match (knob.kind, knob.key) {
            (Kind::Choice(_), "mode") => {
                return Err(spec_error(
                    "knob",
                    "mode cannot be swept: every sweep runs every mode".into(),
                ));
            }
            (Kind::Choice(names), key) => {
                return Err(spec_error(
                    "knob",
                    format!(
                        "{key} is a choice ({}), not a number; compare them with two runs",
                        names.join(" or ")
                    ),
                ));
            }
            (_, "seed") => {
                return Err(spec_error(
                    "knob",
                    "seed cannot be swept: every point already averages over seeds".into(),
                ));
            }
            _ => {}
        }
        for (key, value) in [("from", self.from), ("to", self.to)] {
            knob.check(value)
                .map_err(|e| spec_error(key, format!("{} {}", knob.key, e.message)))?;
        }
        if !(1..=MAX_STEPS).contains(&self.steps) {
            return Err(spec_error(
                "steps",
                format!("must be between 1 and {MAX_STEPS} (got {})", self.steps),
            ));
        }
        if !(2..=MAX_SEEDS).contains(&self.seeds) {
            return Err(spec_error(
                "seeds",
                format!(
                    "must be between 2 and {MAX_SEEDS} (got {}): a confidence interval needs two runs or more",
                    self.seeds
                ),
            ));
        }
        if base.seed + u64::from(self.seeds) - 1 > MAX_SEED {
            return Err(spec_error(
                "seeds",
                format!("seed + seeds - 1 must not exceed {MAX_SEED}"),
            ));
        }
        let modes = base.broker.modes().count() as u64;
        let mut total = 0u64;
        for value in points(knob, self) {
            let mut s = base.clone();
            knob.set_number(&mut s, value)?;
            total += u64::from(s.messages) * u64::from(self.seeds) * modes;
        }
        if total > MAX_SWEEP_MESSAGES {
            return Err(spec_error(
                "sweep",
                format!(
                    "would simulate {total} messages (steps × seeds × {modes} modes × messages); \
                     the limit is {MAX_SWEEP_MESSAGES}: use fewer steps, seeds or messages"
                ),
            ));
        }
        Ok(knob)
    }
}

/// The knob's value at each point.
fn points(knob: &Knob, spec: &SweepSpec) -> Vec<f64> {
    let last = spec.steps.saturating_sub(1);
    (0..spec.steps)
        .map(|i| {
            let v = if i == 0 {
                spec.from
            } else if i == last {
                spec.to
            } else {
                // Multiplying before dividing keeps decimal steps decimal (0.5 × 3 / 10 = 0.15).
                spec.from + (spec.to - spec.from) * f64::from(i) / f64::from(last)
            };
            if knob.kind == Kind::Count {
                v.round()
            } else {
                v
            }
        })
        .collect()
}

impl Sweep {
    /// A sweep of `spec` over `base`, nothing run yet. Fails, naming the field, if the spec or
    /// the base scenario is invalid or the sweep would be too long.
    pub fn new(base: &Scenario, spec: &SweepSpec) -> Result<Sweep, ScenarioError> {
        let knob = spec.validate(base)?;
        Ok(Sweep {
            base: base.clone(),
            spec: spec.clone(),
            knob,
            values: points(knob, spec),
            modes: base.broker.modes().collect(),
            samples: Vec::new(),
        })
    }

    fn runs_per_point(&self) -> usize {
        self.modes.len() * self.spec.seeds as usize
    }

    pub fn runs_total(&self) -> usize {
        self.values.len() * self.runs_per_point()
    }

    pub fn runs_done(&self) -> usize {
        self.samples.len()
    }

    pub fn is_finished(&self) -> bool {
        self.runs_done() == self.runs_total()
    }

    /// The knob's value at each point.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The scenario of one point in one mode, at the base seed.
    pub fn scenario_at(&self, point: usize, mode: Mode) -> Option<Scenario> {
        let value = *self.values.get(point)?;
        let mut s = self.base.with_mode(mode);
        // Every value was checked against the knob's range in `new`.
        self.knob.set_number(&mut s, value).ok()?;
        Some(s)
    }

    /// The exact scenario of run number `run` (from 0): points in order, within a point the
    /// broker's modes in `Mode::ALL` order, within a mode the seeds in order.
    pub fn scenario_of_run(&self, run: usize) -> Option<Scenario> {
        if run >= self.runs_total() {
            return None;
        }
        let seeds = self.spec.seeds as usize;
        let point = run / self.runs_per_point();
        let mode = self.modes[(run / seeds) % self.modes.len()];
        let mut s = self.scenario_at(point, mode)?;
        s.seed = self.base.seed + (run % seeds) as u64;
        Some(s)
    }

    /// Runs the next run to its end; `None` once every run is done.
    pub fn step(&mut self) -> Option<SweepProgress> {
        let scenario = self.scenario_of_run(self.runs_done())?;
        let mut sim = Simulation::new(&scenario);
        sim.run_to_end();
        // The cheap report: a sweep needs no counterexample traces.
        self.samples.push(RunSample::of(&sim.report()));
        Some(self.progress())
    }

    /// Runs every remaining run.
    pub fn run_to_end(&mut self) {
        while self.step().is_some() {}
    }

    pub fn progress(&self) -> SweepProgress {
        let (done, total) = (self.runs_done(), self.runs_total());
        SweepProgress {
            runs_done: done as u32,
            runs_total: total as u32,
            points_done: (done / self.runs_per_point()) as u32,
            fraction: if total == 0 {
                1.0
            } else {
                done as f64 / total as f64
            },
        }
    }

    /// The points finished so far (all of them once `is_finished`).
    pub fn result(&self) -> SweepResult {
        let seeds = self.spec.seeds as usize;
        let points = self
            .samples
            .chunks_exact(self.runs_per_point())
            .enumerate()
            .map(|(point, runs)| SweepPoint {
                value: self.values[point],
                modes: self
                    .modes
                    .iter()
                    .zip(runs.chunks_exact(seeds))
                    .map(|(&mode, runs)| {
                        let stat = |f: fn(&RunSample) -> f64| {
                            Estimate::of(&runs.iter().map(f).collect::<Vec<_>>())
                        };
                        ModeSummary {
                            mode,
                            runs: runs.len() as u32,
                            stalled_runs: runs.iter().filter(|r| r.stalled).count() as u32,
                            duplicates_per_message: stat(|r| r.duplicates_per_message),
                            lost_per_message: stat(|r| r.lost_per_message),
                            latency_p99_ms: stat(|r| r.latency_p99_ms),
                            throughput_per_s: stat(|r| r.throughput_per_s),
                            expected: self.scenario_at(point, mode).as_ref().and_then(expected),
                        }
                    })
                    .collect(),
            })
            .collect();
        SweepResult {
            knob: self.knob.key.to_string(),
            label: self.knob.label.to_string(),
            unit: self.knob.unit.to_string(),
            spec: self.spec.clone(),
            base: self.base.clone(),
            seeds: (0..self.spec.seeds as u64)
                .map(|i| self.base.seed + i)
                .collect(),
            runs_done: self.runs_done() as u32,
            runs_total: self.runs_total() as u32,
            points,
        }
    }
}

/// Runs a whole sweep.
pub fn sweep(base: &Scenario, spec: &SweepSpec) -> Result<SweepResult, ScenarioError> {
    let mut sweep = Sweep::new(base, spec)?;
    sweep.run_to_end();
    Ok(sweep.result())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(knob: &str, from: f64, to: f64, steps: u32, seeds: u32) -> SweepSpec {
        SweepSpec {
            knob: knob.into(),
            from,
            to,
            steps,
            seeds,
        }
    }

    fn error(base: &Scenario, s: &SweepSpec) -> String {
        Sweep::new(base, s).err().expect("invalid spec").to_string()
    }

    #[test]
    fn points_are_evenly_spaced_and_whole_where_the_knob_is() {
        let k = knob("ack-loss").unwrap();
        let v = points(k, &spec("ack-loss", 0.0, 0.5, 11, 2));
        assert_eq!(v.len(), 11);
        assert_eq!((v[0], v[3], v[7], v[10]), (0.0, 0.15, 0.35, 0.5));
        let c = knob("consumers").unwrap();
        assert_eq!(
            points(c, &spec("consumers", 1.0, 4.0, 4, 2)),
            [1.0, 2.0, 3.0, 4.0]
        );
        assert_eq!(
            points(c, &spec("consumers", 1.0, 2.0, 3, 2)),
            [1.0, 2.0, 2.0]
        );
        assert_eq!(points(k, &spec("ack-loss", 0.3, 0.9, 1, 2)), [0.3]);
    }

    #[test]
    fn bad_specs_are_named() {
        let base = Scenario::default();
        let cases = [
            (
                spec("ackloss", 0.0, 0.5, 3, 2),
                "knob: \"ackloss\" is not a scenario setting",
            ),
            (spec("mode", 0.0, 1.0, 3, 2), "knob: mode cannot be swept"),
            (
                spec("acks", 0.0, 1.0, 2, 2),
                "knob: acks is a choice (leader or all)",
            ),
            (spec("seed", 0.0, 9.0, 3, 2), "knob: seed cannot be swept"),
            (
                spec("ack-loss", 0.0, 1.5, 3, 2),
                "to: ack-loss must be between 0 and 1 (got 1.5)",
            ),
            (
                spec("consumers", 0.5, 4.0, 3, 2),
                "from: consumers must be a whole number",
            ),
            (
                spec("ack-loss", 0.0, 0.5, 0, 2),
                "steps: must be between 1 and 101 (got 0)",
            ),
            (
                spec("ack-loss", 0.0, 0.5, 3, 1),
                "seeds: must be between 2 and 100 (got 1)",
            ),
            (
                spec("ack-loss", 0.0, 0.5, 101, 100),
                "sweep: would simulate 505000000 messages",
            ),
        ];
        for (s, expected) in cases {
            let got = error(&base, &s);
            assert!(
                got.starts_with(expected),
                "{got:?} should start with {expected:?}"
            );
        }
        let bad_base = Scenario {
            publish_loss: 2.0,
            ..Scenario::default()
        };
        assert!(error(&bad_base, &spec("ack-loss", 0.0, 0.5, 3, 2)).starts_with("publish-loss"));
        // The budget counts the messages at each point when messages is the knob.
        assert!(error(&base, &spec("messages", 1.0, 2_000_000.0, 3, 2)).starts_with("sweep:"));
    }

    #[test]
    fn a_spec_reads_from_json_naming_bad_fields() {
        let ok = SweepSpec::from_json(&serde_json::json!(
            {"knob": "ackLoss", "from": 0, "to": 0.5, "steps": 11, "seeds": 20}
        ))
        .unwrap();
        assert_eq!(ok, spec("ackLoss", 0.0, 0.5, 11, 20));
        for (json, expected) in [
            (serde_json::json!([]), "sweep: must be an object"),
            (
                serde_json::json!({"knob": "ack-loss", "from": 0, "to": 1, "steps": 2}),
                "seeds: is missing",
            ),
            (
                serde_json::json!({"knob": 3, "from": 0, "to": 1, "steps": 2, "seeds": 2}),
                "knob: must be the name",
            ),
            (
                serde_json::json!({"knob": "ack-loss", "from": "0", "to": 1, "steps": 2, "seeds": 2}),
                "from: must be a number",
            ),
            (
                serde_json::json!({"knob": "ack-loss", "from": 0, "to": 1, "steps": 2.5, "seeds": 2}),
                "steps: must be a whole number (got 2.5)",
            ),
            (
                serde_json::json!({"knob": "ack-loss", "from": 0, "to": 1, "steps": 2, "seeds": 2, "x": 1}),
                "x: is not a sweep setting",
            ),
        ] {
            let got = SweepSpec::from_json(&json).unwrap_err().to_string();
            assert!(
                got.starts_with(expected),
                "{got:?} should start with {expected:?}"
            );
        }
    }

    #[test]
    fn runs_go_point_by_point_mode_by_mode_seed_by_seed() {
        let base = Scenario {
            messages: 50,
            seed: 7,
            ..Scenario::default()
        };
        let mut sweep = Sweep::new(&base, &spec("ack-loss", 0.1, 0.2, 2, 3)).unwrap();
        assert_eq!(sweep.runs_total(), 2 * 5 * 3);
        let r = sweep.scenario_of_run(0).unwrap();
        assert_eq!((r.ack_loss, r.mode, r.seed), (0.1, Mode::AtMostOnce, 7));
        let r = sweep.scenario_of_run(8).unwrap();
        assert_eq!(
            (r.ack_loss, r.mode, r.seed),
            (0.1, Mode::IdempotentConsumer, 9)
        );
        let r = sweep.scenario_of_run(15).unwrap();
        assert_eq!((r.ack_loss, r.mode, r.seed), (0.2, Mode::AtMostOnce, 7));
        assert_eq!(sweep.scenario_of_run(30), None);

        // A point appears in the result once all of its runs are done.
        for _ in 0..14 {
            sweep.step();
        }
        assert_eq!(sweep.result().points.len(), 0);
        let progress = sweep.step().unwrap();
        assert_eq!((progress.runs_done, progress.points_done), (15, 1));
        assert_eq!(progress.fraction, 0.5);
        assert_eq!(sweep.result().points.len(), 1);
        sweep.run_to_end();
        assert!(sweep.is_finished());
        assert_eq!(sweep.step(), None);
        let result = sweep.result();
        assert_eq!(result.points.len(), 2);
        assert_eq!(result.seeds, [7, 8, 9]);
        assert_eq!(result.points[1].modes.len(), 5);
        assert_eq!(result.points[1].modes[4].mode, Mode::Outbox);
        assert_eq!(result.points[1].modes[4].runs, 3);
    }
}
