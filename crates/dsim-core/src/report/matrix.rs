//! The seeds' "real-world systems" table, runnable: every broker family × every mode on one
//! scenario's faults and seed. A cell is one ordinary run of the scenario moved to that broker
//! (`Scenario::set_broker`: the settings that broker lacks go back to their defaults) and that
//! mode, so it equals `dsim run --broker B --mode M` with the same other settings; a mode the
//! broker refuses is a cell with the reason instead.

use serde::{Deserialize, Serialize};

use crate::engine::Status;
use crate::scenario::knobs::ScenarioError;
use crate::scenario::{Broker, Mode, Scenario};
use crate::simulation::Simulation;

/// What one broker × mode run measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct CellOutcome {
    /// Whether the mode kept its promise (`Report::guarantee`).
    pub held: bool,
    pub promise: String,
    pub status: Status,
    pub duplicates: u64,
    pub lost: u64,
    pub in_flight: u64,
    pub p99_ms: f64,
    pub throughput_per_s: f64,
    pub capacity_per_s: Option<f64>,
    /// Cards the external provider charged twice, when payments make an external call.
    pub double_charges: Option<u64>,
    /// The cell's scenario as a URL query: loading it runs exactly this cell.
    pub query: String,
}

/// One cell of the table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct MatrixCell {
    pub broker: Broker,
    pub mode: Mode,
    /// Why the broker does not run this mode; then there is no outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub refused: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub outcome: Option<CellOutcome>,
}

/// Every cell in order: brokers in `Broker::ALL` order, within a broker the modes in
/// `Mode::ALL` order.
pub fn cells() -> impl Iterator<Item = (Broker, Mode)> {
    Broker::ALL
        .into_iter()
        .flat_map(|b| Mode::ALL.into_iter().map(move |m| (b, m)))
}

/// The scenario a cell runs: the base on that broker, in that mode.
pub fn cell_scenario(base: &Scenario, broker: Broker, mode: Mode) -> Scenario {
    let mut s = base.clone();
    s.set_broker(broker);
    s.mode = mode;
    s
}

/// The table, one run at a time, so that a worker can report progress between runs and
/// stop when cancelled.
pub struct Matrix {
    base: Scenario,
    done: Vec<MatrixCell>,
}

impl Matrix {
    /// Fails, naming the field, if the base scenario is invalid.
    pub fn new(base: &Scenario) -> Result<Matrix, ScenarioError> {
        base.validate()?;
        Ok(Matrix {
            base: base.clone(),
            done: Vec::new(),
        })
    }

    pub fn total(&self) -> usize {
        Broker::ALL.len() * Mode::ALL.len()
    }

    pub fn is_finished(&self) -> bool {
        self.done.len() == self.total()
    }

    /// Fraction of the cells done, from 0 to 1.
    pub fn progress(&self) -> f64 {
        self.done.len() as f64 / self.total() as f64
    }

    /// Runs the next cell to its end; `None` once every cell is done.
    pub fn step(&mut self) -> Option<&MatrixCell> {
        let (broker, mode) = cells().nth(self.done.len())?;
        let cell = match broker.refuses(mode) {
            Some(why) => MatrixCell {
                broker,
                mode,
                refused: Some(why.to_string()),
                outcome: None,
            },
            None => {
                let s = cell_scenario(&self.base, broker, mode);
                let mut sim = Simulation::new(&s);
                sim.run_to_end();
                // The cheap report: the table needs no counterexample traces.
                let r = sim.report();
                MatrixCell {
                    broker,
                    mode,
                    refused: None,
                    outcome: Some(CellOutcome {
                        held: r.guarantee.held,
                        promise: r.guarantee.promise.clone(),
                        status: r.status,
                        duplicates: r.duplicates,
                        lost: r.lost,
                        in_flight: r.in_flight,
                        p99_ms: r.latency_ms.p99,
                        throughput_per_s: r.throughput_per_s,
                        capacity_per_s: r.capacity_per_s,
                        double_charges: r.external.as_ref().map(|x| x.double_charges),
                        query: s.to_query(),
                    }),
                }
            }
        };
        self.done.push(cell);
        self.done.last()
    }

    pub fn run_to_end(&mut self) {
        while self.step().is_some() {}
    }

    /// The cells finished so far, in table order.
    pub fn cells(&self) -> &[MatrixCell] {
        &self.done
    }
}

/// The whole table at once.
pub fn matrix(base: &Scenario) -> Result<Vec<MatrixCell>, ScenarioError> {
    let mut m = Matrix::new(base)?;
    m.run_to_end();
    Ok(m.done)
}
