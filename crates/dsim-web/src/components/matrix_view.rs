//! The "Real-world systems" view: the seeds' table of what each real system promises, run on
//! this scenario's faults and seed. One row per broker family, one column per mode; a run
//! cell is coloured by its verdict and loads its run when clicked, a refused cell says why.
//!
//! The table runs in a Web Worker (`JobKind::Matrix`), one run per cell, with its progress
//! and a Cancel like the sweep's; if no worker can start, the page runs it, as many cells per
//! animation frame as fit in about 8 ms. Once open (`view=matrix` in the address), it follows
//! the scenario: a change that alters any cell runs the table again, while loading one of its
//! own cells keeps it.

use dsim_core::Scenario;
use dsim_core::matrix::{Matrix, MatrixCell};
use leptos::either::Either;
use leptos::prelude::*;

use crate::browser;
use crate::format::millis;
use crate::matrix_table::{CellKind, CellView, cell_scenario_of, matrix_table, same_table};
use crate::store::{Store, use_store};
use crate::view_model::FrameBudget;
use crate::worker_protocol::{Job, JobKind, Reply, ReplyBody};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TableState {
    Idle,
    Running,
    Finished,
    Cancelled,
}

impl TableState {
    fn key(self) -> &'static str {
        match self {
            TableState::Idle => "idle",
            TableState::Running => "running",
            TableState::Finished => "finished",
            TableState::Cancelled => "cancelled",
        }
    }
}

/// The table's runs and the actions on them.
#[derive(Clone, Copy)]
struct MatrixRunner {
    store: Store,
    cells: RwSignal<Vec<MatrixCell>>,
    state: RwSignal<TableState>,
    progress: RwSignal<f64>,
    in_worker: RwSignal<bool>,
    /// Wall time of the last table the worker finished.
    worker_ms: RwSignal<Option<f64>>,
    /// The scenario the cells come from.
    base: StoredValue<Option<Scenario>>,
    /// The job now running.
    job: StoredValue<Option<u32>>,
    next_job: StoredValue<u32>,
    on_page: StoredValue<Option<Matrix>, LocalStorage>,
}

impl MatrixRunner {
    fn new(store: Store) -> MatrixRunner {
        MatrixRunner {
            store,
            cells: RwSignal::new(Vec::new()),
            state: RwSignal::new(TableState::Idle),
            progress: RwSignal::new(0.0),
            in_worker: RwSignal::new(false),
            worker_ms: RwSignal::new(None),
            base: StoredValue::new(None),
            job: StoredValue::new(None),
            next_job: StoredValue::new(0),
            on_page: StoredValue::new_local(None),
        }
    }

    /// Runs the table for the scenario now loaded, and marks the view open in the address.
    fn start(&self) {
        self.cancel();
        let base = self.store.scenario.get_untracked();
        let id = self.next_job.get_value() + 1;
        self.next_job.set_value(id);
        self.job.set_value(Some(id));
        self.base.set_value(Some(base.clone()));
        self.cells.set(Vec::new());
        self.progress.set(0.0);
        self.worker_ms.set(None);
        self.state.set(TableState::Running);
        if !self.store.matrix_open.get_untracked() {
            self.store.matrix_open.set(true);
            self.store.schedule_url();
        }
        let job = Job {
            id,
            kind: JobKind::Matrix(base),
        };
        #[cfg(target_arch = "wasm32")]
        {
            let runner = *self;
            self.in_worker.set(true);
            crate::offload::start(
                self.store.owner(),
                crate::offload::Purpose::Matrix,
                job,
                move |reply| runner.on_reply(reply),
                move || runner.run_on_page(id),
            );
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = job;
            self.run_on_page(id);
        }
    }

    // Only a worker replies, and workers exist only in the browser.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    fn on_reply(&self, reply: Reply) {
        if self.state.is_disposed() || self.job.try_get_value().flatten() != Some(reply.id) {
            return;
        }
        match reply.body {
            ReplyBody::MatrixProgress { fraction, cells } => {
                self.progress.set(fraction);
                self.cells.set(cells);
            }
            ReplyBody::MatrixDone { cells, elapsed_ms } => {
                self.job.set_value(None);
                self.finish(cells);
                self.worker_ms.set(Some(elapsed_ms));
            }
            _ => {}
        }
    }

    fn finish(&self, cells: Vec<MatrixCell>) {
        self.cells.set(cells);
        self.progress.set(1.0);
        self.in_worker.set(false);
        self.state.set(TableState::Finished);
    }

    /// The fallback when no worker can run job `id`: the page runs it, a slice per frame.
    fn run_on_page(&self, id: u32) {
        if self.state.is_disposed() || self.job.get_value() != Some(id) {
            return;
        }
        self.in_worker.set(false);
        let Some(base) = self.base.get_value() else {
            return;
        };
        match Matrix::new(&base) {
            Ok(matrix) => {
                self.on_page.set_value(Some(matrix));
                let runner = *self;
                request_animation_frame(move || runner.frame(id));
            }
            // The store only holds valid scenarios; should one slip through, the table
            // stops rather than spin.
            Err(e) => {
                crate::browser::log_error(&format!("dsim: the matrix: {e}"));
                self.job.set_value(None);
                self.state.set(TableState::Cancelled);
            }
        }
    }

    fn frame(self, id: u32) {
        if self.job.try_get_value().flatten() != Some(id) {
            return;
        }
        let start = browser::now_ms();
        let Some(Some((cells, progress, finished))) = self.on_page.try_update_value(|m| {
            let matrix = m.as_mut()?;
            while matrix.step().is_some() {
                if browser::now_ms() - start >= FrameBudget::TARGET_MS {
                    break;
                }
            }
            Some((
                matrix.cells().to_vec(),
                matrix.progress(),
                matrix.is_finished(),
            ))
        }) else {
            return;
        };
        if finished {
            self.job.set_value(None);
            self.on_page.set_value(None);
            self.finish(cells);
            return;
        }
        self.progress.set(progress);
        self.cells.set(cells);
        request_animation_frame(move || self.frame(id));
    }

    /// Stops the table wherever it runs; the cells finished so far stay.
    fn cancel(&self) {
        #[cfg(target_arch = "wasm32")]
        crate::offload::cancel(self.store.owner(), crate::offload::Purpose::Matrix);
        self.job.set_value(None);
        self.on_page.set_value(None);
        self.in_worker.set(false);
        if self.state.get_untracked() == TableState::Running {
            self.state.set(TableState::Cancelled);
        }
    }
}

#[component]
pub fn MatrixPanel() -> impl IntoView {
    let store = use_store();
    let runner = MatrixRunner::new(store);
    // Open (from the address, or once run), the table follows the scenario: it runs again
    // when a change alters any of its cells, not when a click loads one of them.
    Effect::new(move |_| {
        let stale = store.scenario.with(|s| {
            runner
                .base
                .with_value(|b| b.as_ref().is_none_or(|b| !same_table(b, s)))
        });
        if store.matrix_open.get() && stale {
            runner.start();
        }
    });
    on_cleanup(move || {
        if !runner.job.is_disposed() {
            runner.cancel();
        }
    });
    let running = move || runner.state.get() == TableState::Running;
    view! {
        <section class="matrix panel" id="matrix" aria-label="Real-world systems" data-testid="matrix-view">
            <div class="compare-head">
                <h2>"Real-world systems"</h2>
                <div class="matrix-actions">
                    <button
                        type="button"
                        class="primary"
                        data-testid="matrix-run"
                        disabled=running
                        on:click=move |_| runner.start()
                    >
                        "Run every broker × mode"
                    </button>
                    <button
                        type="button"
                        data-testid="matrix-cancel"
                        disabled=move || !running()
                        on:click=move |_| runner.cancel()
                    >
                        "Cancel"
                    </button>
                </div>
            </div>
            <p class="hint">
                "What each real system promises, measured: every broker family in every mode on this scenario's faults and seed, one ordinary run per cell. A mode the broker does not offer says why. Click a cell to load that run above."
            </p>
            <MatrixProgressBar runner=runner />
            <MatrixGrid runner=runner />
        </section>
    }
}

#[component]
fn MatrixProgressBar(runner: MatrixRunner) -> impl IntoView {
    let label = move || {
        let done = runner.cells.with(Vec::len);
        let total = matrix_total();
        let mut label = format!("{done} of {total} cells");
        match runner.state.get() {
            TableState::Running if runner.in_worker.get() => {
                label.push_str(" · in a background worker")
            }
            TableState::Running => label.push_str(" · on this page"),
            TableState::Cancelled => label.push_str(" · cancelled; the cells finished are shown"),
            TableState::Finished => {
                if let Some(ms) = runner.worker_ms.get() {
                    label.push_str(&format!(
                        " · {} of wall time in a background worker",
                        millis(ms)
                    ));
                }
            }
            TableState::Idle => {}
        }
        label
    };
    move || {
        (runner.state.get() != TableState::Idle).then(|| {
            view! {
                <div class="progress">
                    <progress
                        data-testid="matrix-progress"
                        aria-label="Real-world systems progress"
                        max="1"
                        prop:value=move || runner.progress.get().to_string()
                        data-state=move || runner.state.get().key()
                        data-worker=move || runner.in_worker.get().to_string()
                        data-cells-done=move || runner.cells.with(Vec::len).to_string()
                        data-cells-total=matrix_total().to_string()
                    ></progress>
                    <span class="progress-label">{label}</span>
                </div>
            }
        })
    }
}

/// How many cells the table has: every broker × every mode.
fn matrix_total() -> usize {
    dsim_core::matrix::cells().count()
}

#[component]
fn MatrixGrid(runner: MatrixRunner) -> impl IntoView {
    let store = runner.store;
    let table = Memo::new(move |_| {
        let running = runner.state.get() == TableState::Running;
        runner.cells.with(|cells| matrix_table(cells, running))
    });
    // The cell the dashboard shows, while the table is this scenario's. `base` is not a
    // signal: a new table (a new state) is when it changes.
    let shown = Memo::new(move |_| {
        runner.state.track();
        store.scenario.with(|s| {
            runner
                .base
                .with_value(|b| b.as_ref().is_some_and(|b| same_table(b, s)))
                .then_some((s.broker, s.mode))
        })
    });
    move || {
        (runner.state.get() != TableState::Idle).then(|| {
            let t = table.get();
            let head = t
                .modes
                .iter()
                .map(|m| view! { <th scope="col">{m.title()}</th> })
                .collect_view();
            let external = t.external;
            let body = t
                .rows
                .into_iter()
                .map(|row| {
                    let cells = row
                        .cells
                        .into_iter()
                        .map(|c| cell_view(store, c, shown, external))
                        .collect_view();
                    view! {
                        <tr data-broker=row.broker.key()>
                            <th scope="row">{row.title}</th>
                            {cells}
                        </tr>
                    }
                })
                .collect_view();
            view! {
                // Above the scroller, not a caption: on a narrow screen a caption is as wide
                // as the table and scrolls out of sight with it.
                <p class="hint matrix-legend">
                    "Rows: broker families. Columns: delivery modes. Each run cell: duplicates, lost and the p99 latency"
                    {external.then_some(", and cards charged twice")}
                    ". Green: the promise kept; red: broken; amber: the run stalled; hatched: not offered."
                </p>
                <div class="table-scroll">
                    <table class="matrix-table" data-testid="matrix-table">
                        <thead>
                            <tr>
                                <th scope="col">"Broker"</th>
                                {head}
                            </tr>
                        </thead>
                        <tbody>{body}</tbody>
                    </table>
                </div>
            }
        })
    }
}

/// One cell: a button that loads its run, or the verdict alone (a cell not run yet), with the
/// broker's reason when it refuses the mode. The tooltip says how the broker implements the
/// mode, or why it does not.
fn cell_view(
    store: Store,
    c: CellView,
    shown: Memo<Option<(dsim_core::Broker, dsim_core::Mode)>>,
    external: bool,
) -> impl IntoView {
    let (broker, mode) = (c.broker, c.mode);
    let current = move || shown.get() == Some((broker, mode));
    let inner = match (c.numbers, c.query) {
        (Some(n), Some(query)) => {
            let label = format!(
                "{} on {}: {}. Load this run",
                mode.title(),
                broker.title(),
                c.verdict
            );
            let charged = n.double_charges_text.filter(|_| external).map(|d| {
                view! {
                    <span class="m-charged">
                        <span class="m-label">"charged twice "</span>
                        <span class="m-value">{d}</span>
                    </span>
                }
            });
            Either::Left(view! {
                <button
                    type="button"
                    class="matrix-load"
                    aria-label=label
                    aria-current=move || current().then_some("true")
                    on:click=move |_| load_cell(store, &query)
                >
                    <span class="verdict">{c.verdict}</span>
                    <span class="matrix-numbers">
                        <span class="m-dup">
                            <span class="m-label">"dup "</span>
                            <span class="m-value">{n.duplicates_text}</span>
                        </span>
                        <span class="m-lost">
                            <span class="m-label">"lost "</span>
                            <span class="m-value">{n.lost_text}</span>
                        </span>
                        <span class="m-p99">
                            <span class="m-label">"p99 "</span>
                            <span class="m-value">{n.p99_text}</span>
                        </span>
                        {charged}
                    </span>
                </button>
            })
        }
        _ => {
            let refused = c.kind == CellKind::Refused;
            Either::Right(view! {
                <span class="verdict">{refused.then_some("✕ ")}{c.verdict}</span>
                {c.reason.map(|r| view! { <span class="reason">{r}</span> })}
            })
        }
    };
    view! {
        <td
            class=format!("matrix-cell {}", c.kind.key())
            class:current=current
            data-broker=broker.key()
            data-mode=mode.key()
            data-kind=c.kind.key()
            title=c.title
        >
            {inner}
        </td>
    }
}

/// Loads a cell's run, as a preset would, and brings the dashboard into view.
fn load_cell(store: Store, query: &str) {
    match cell_scenario_of(query) {
        Ok(scenario) => {
            store.set_scenario(scenario);
            browser::scroll_to_testid("broker-picker");
        }
        Err(e) => crate::browser::log_error(&e),
    }
}
