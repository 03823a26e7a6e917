//! The real-world systems table as the page draws it: one row per broker family, one column
//! per mode, each cell a run's verdict and numbers, or the broker's reason for refusing the
//! mode. Plain Rust over `dsim_core::matrix`, tested natively; `matrix_view` binds it.
//!
//! Rows and columns come from `Broker::ALL` and `Mode::ALL`, so a broker the core adds gets
//! its row without a change here.

use dsim_core::matrix::{MatrixCell, cell_scenario, cells};
use dsim_core::{Broker, Mode, Scenario, Status};

use crate::format::{millis, thousands};
use crate::url_state::PAGE_KEYS;
use crate::view_model::status_key;

/// What a cell's colour says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    /// The run kept the mode's promise.
    Kept,
    /// The run broke it: a counterexample exists.
    Broken,
    /// The run stopped short with messages in flight, so the promise was not tested.
    Stalled,
    /// The broker does not offer the mode.
    Refused,
    /// Not run yet (or the table was cancelled before it).
    Pending,
}

impl CellKind {
    /// For `data-kind` and the cell's CSS class.
    pub fn key(self) -> &'static str {
        match self {
            CellKind::Kept => "kept",
            CellKind::Broken => "broken",
            CellKind::Stalled => "stalled",
            CellKind::Refused => "refused",
            CellKind::Pending => "pending",
        }
    }
}

/// One cell, ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct CellView {
    pub broker: Broker,
    pub mode: Mode,
    pub kind: CellKind,
    /// The short label: "✓ kept", "✗ broken", "■ stalled", "refused", "…".
    pub verdict: String,
    /// The tooltip: how this broker implements the mode, or why it refuses it.
    pub title: &'static str,
    /// The broker's reason, for a refused cell.
    pub reason: Option<String>,
    pub numbers: Option<CellNumbers>,
    /// The cell's scenario as a URL query; only a run cell has one (and can be clicked).
    pub query: Option<String>,
}

/// A run cell's numbers as shown, with the raw values for the page's data attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct CellNumbers {
    pub duplicates: u64,
    pub lost: u64,
    pub p99_ms: f64,
    /// Cards the provider charged twice, when the scenario makes an external call.
    pub double_charges: Option<u64>,
    /// `drained`, `gave-up` or `stalled`.
    pub status: &'static str,
    pub duplicates_text: String,
    pub lost_text: String,
    pub p99_text: String,
    pub double_charges_text: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MatrixRow {
    pub broker: Broker,
    pub title: &'static str,
    pub cells: Vec<CellView>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MatrixTable {
    /// The columns, in `Mode::ALL` order.
    pub modes: Vec<Mode>,
    pub rows: Vec<MatrixRow>,
    /// Whether any run cell has an external effect's double charges to show.
    pub external: bool,
}

/// The table for the cells finished so far; the others are pending, except the refused ones,
/// which are known without a run. `running` says whether the rest are on their way ("…")
/// or will not come ("–").
pub fn matrix_table(done: &[MatrixCell], running: bool) -> MatrixTable {
    let rows = Broker::ALL
        .iter()
        .map(|&broker| MatrixRow {
            broker,
            title: broker.title(),
            cells: Mode::ALL
                .iter()
                .map(|&mode| {
                    let found = done.iter().find(|c| c.broker == broker && c.mode == mode);
                    cell_view(broker, mode, found, running)
                })
                .collect(),
        })
        .collect();
    MatrixTable {
        modes: Mode::ALL.to_vec(),
        rows,
        external: done.iter().any(|c| {
            c.outcome
                .as_ref()
                .is_some_and(|o| o.double_charges.is_some())
        }),
    }
}

fn cell_view(broker: Broker, mode: Mode, cell: Option<&MatrixCell>, running: bool) -> CellView {
    let title = mode.mechanism_on(broker);
    let reason = cell
        .and_then(|c| c.refused.clone())
        .or_else(|| broker.refuses(mode).map(str::to_string));
    if let Some(reason) = reason {
        return CellView {
            broker,
            mode,
            kind: CellKind::Refused,
            verdict: "refused".into(),
            title,
            reason: Some(reason),
            numbers: None,
            query: None,
        };
    }
    let Some(o) = cell.and_then(|c| c.outcome.as_ref()) else {
        return CellView {
            broker,
            mode,
            kind: CellKind::Pending,
            verdict: if running { "…" } else { "–" }.into(),
            title,
            reason: None,
            numbers: None,
            query: None,
        };
    };
    // As the compare table: a broken promise is broken however the run ended; a run that
    // kept it only because it stalled says so.
    let (kind, verdict) = match (o.held, o.status == Status::Stalled) {
        (false, _) => (CellKind::Broken, "✗ broken".to_string()),
        (true, true) => (
            CellKind::Stalled,
            format!("■ stalled, {} in flight", thousands(o.in_flight)),
        ),
        (true, false) => (CellKind::Kept, "✓ kept".to_string()),
    };
    CellView {
        broker,
        mode,
        kind,
        verdict,
        title,
        reason: None,
        numbers: Some(CellNumbers {
            duplicates: o.duplicates,
            lost: o.lost,
            p99_ms: o.p99_ms,
            double_charges: o.double_charges,
            status: status_key(o.status),
            duplicates_text: thousands(o.duplicates),
            lost_text: thousands(o.lost),
            p99_text: millis(o.p99_ms),
            double_charges_text: o.double_charges.map(thousands),
        }),
        query: Some(o.query.clone()),
    }
}

/// Whether two scenarios have the same table: every cell runs the same scenario. Clicking a
/// cell loads another broker and mode of the same table, which needs no new run.
pub fn same_table(a: &Scenario, b: &Scenario) -> bool {
    cells().all(|(broker, mode)| cell_scenario(a, broker, mode) == cell_scenario(b, broker, mode))
}

/// The scenario a cell's query loads, as the address bar would load it.
pub fn cell_scenario_of(query: &str) -> Result<Scenario, String> {
    let (scenario, errors) = Scenario::from_query(query, PAGE_KEYS);
    match errors.first() {
        None => Ok(scenario),
        Some(e) => Err(format!("the cell's settings {query:?} do not load: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsim_core::matrix::matrix;

    fn scenario() -> Scenario {
        Scenario {
            messages: 400,
            ack_loss: 0.1,
            crash_after_process: 0.02,
            seed: 5,
            ..Scenario::default()
        }
    }

    /// Every broker is a row and every mode a column, whatever the core's lists hold; every
    /// run cell shows its run's numbers and loads exactly that run.
    #[test]
    fn the_table_has_a_cell_per_broker_and_mode_with_its_runs_numbers() {
        let base = scenario();
        let done = matrix(&base).expect("valid");
        let table = matrix_table(&done, false);
        assert_eq!(table.modes, Mode::ALL);
        assert_eq!(
            table.rows.iter().map(|r| r.broker).collect::<Vec<_>>(),
            Broker::ALL
        );
        assert!(!table.external);
        for row in &table.rows {
            assert_eq!(row.cells.len(), Mode::ALL.len());
            for cell in &row.cells {
                let core = done
                    .iter()
                    .find(|c| c.broker == cell.broker && c.mode == cell.mode)
                    .expect("a core cell");
                match (&core.outcome, &cell.numbers, &cell.query) {
                    (Some(o), Some(n), Some(q)) => {
                        assert_eq!((n.duplicates, n.lost), (o.duplicates, o.lost));
                        assert_eq!(n.p99_text, millis(o.p99_ms));
                        let s = cell_scenario_of(q).expect("loads");
                        assert_eq!(s, cell_scenario(&base, cell.broker, cell.mode));
                        assert!(same_table(&s, &base));
                        assert_ne!(cell.kind, CellKind::Refused);
                    }
                    (None, None, None) => {
                        assert_eq!(cell.kind, CellKind::Refused);
                        assert_eq!(cell.reason, core.refused);
                        assert_eq!(cell.title, core.refused.as_deref().expect("a reason"));
                    }
                    other => panic!("cell and core disagree: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn rabbitmq_refuses_exactly_once_before_and_after_the_runs() {
        for done in [Vec::new(), matrix(&scenario()).expect("valid")] {
            let table = matrix_table(&done, true);
            let row = table
                .rows
                .iter()
                .find(|r| r.broker == Broker::RabbitMq)
                .expect("a RabbitMQ row");
            let cell = row
                .cells
                .iter()
                .find(|c| c.mode == Mode::ExactlyOnce)
                .expect("an exactly-once cell");
            assert_eq!(cell.kind, CellKind::Refused);
            assert!(
                cell.reason
                    .as_deref()
                    .is_some_and(|r| r.contains("idempotent"))
            );
            assert!(cell.query.is_none(), "a refused cell cannot be clicked");
        }
    }

    #[test]
    fn unfinished_cells_are_pending_while_running_and_dashes_after() {
        let done = matrix(&scenario()).expect("valid");
        let first = &done[..1];
        let running = matrix_table(first, true);
        let cancelled = matrix_table(first, false);
        let pending = |t: &MatrixTable| {
            t.rows
                .iter()
                .flat_map(|r| &r.cells)
                .filter(|c| c.kind == CellKind::Pending)
                .map(|c| c.verdict.clone())
                .collect::<Vec<_>>()
        };
        let refused = done.iter().filter(|c| c.refused.is_some()).count();
        assert_eq!(pending(&running).len(), done.len() - 1 - refused);
        assert!(pending(&running).iter().all(|v| v == "…"));
        assert!(pending(&cancelled).iter().all(|v| v == "–"));
    }

    #[test]
    fn a_kept_a_broken_and_a_stalled_cell_say_so() {
        let kind = |query: &str, broker: Broker, mode: Mode| {
            let base = cell_scenario_of(query).expect("a valid query");
            let table = matrix_table(&matrix(&base).expect("valid"), false);
            table
                .rows
                .into_iter()
                .find(|r| r.broker == broker)
                .and_then(|r| r.cells.into_iter().find(|c| c.mode == mode))
                .expect("a cell")
        };
        // A dedup window shorter than the retries: the idempotent consumer lets a duplicate by.
        let short_window =
            "messages=2000&publish-ack-loss=0.1&dedup-window-ms=30&producer-idempotence=off";
        let broken = kind(short_window, Broker::Kafka, Mode::IdempotentConsumer);
        assert_eq!(
            (broken.kind, broken.verdict.as_str()),
            (CellKind::Broken, "✗ broken")
        );
        let kept = kind(short_window, Broker::Kafka, Mode::AtLeastOnce);
        assert_eq!(
            (kept.kind, kept.verdict.as_str()),
            (CellKind::Kept, "✓ kept")
        );
        let stalled = kind("messages=400&consumers=0", Broker::Kafka, Mode::AtLeastOnce);
        assert_eq!(stalled.kind, CellKind::Stalled, "{stalled:?}");
        assert_eq!(stalled.verdict, "■ stalled, 400 in flight");
    }

    #[test]
    fn double_charges_are_shown_when_payments_call_out() {
        let base = Scenario {
            external_effect: true,
            ..scenario()
        };
        let table = matrix_table(&matrix(&base).expect("valid"), false);
        assert!(table.external);
        assert!(
            table
                .rows
                .iter()
                .flat_map(|r| &r.cells)
                .filter_map(|c| c.numbers.as_ref())
                .all(|n| n.double_charges_text.is_some())
        );
    }

    /// The table depends on the scenario only through its cells: moving to another broker
    /// and mode of it keeps it, a fault or the seed does not.
    #[test]
    fn another_cell_of_the_same_table_keeps_the_table() {
        let base = scenario();
        let mut other = cell_scenario(&base, Broker::RabbitMq, Mode::AtMostOnce);
        assert!(same_table(&base, &other));
        other.seed += 1;
        assert!(!same_table(&base, &other));
        let faults = Scenario {
            ack_loss: 0.2,
            ..base.clone()
        };
        assert!(!same_table(&base, &faults));
    }

    #[test]
    fn a_query_that_does_not_load_is_an_error() {
        assert!(cell_scenario_of("mode=exactly-twice").is_err());
        assert!(cell_scenario_of("broker=rabbitmq&mode=exactly-once").is_err());
    }
}
