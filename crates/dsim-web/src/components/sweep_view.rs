//! The sweep view: one setting from one value to another, every mode at each value, each point
//! the mean over several seeds with its 95 % confidence band, and theory's expectation dashed
//! where the core has one. Every other setting is the scenario's.
//!
//! The sweep runs in a Web Worker (`JobKind::Sweep`), which replies with its progress and the
//! points finished so far; Cancel terminates it. If no worker can start, the page runs the
//! core's `Sweep` itself, as many runs per animation frame as fit in about 8 ms (at least one,
//! so a run of many messages can hold a frame up). Its settings live in the address
//! (`sweep_form`), and a link with them runs the sweep again.

use dsim_core::export::sweep_csv;
use dsim_core::{
    Group, Mode, Scenario, ScenarioError, Sweep, SweepProgress, SweepResult, SweepSpec,
};
use leptos::ev::PointerEvent;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;

use crate::browser;
use crate::chart_export::sweep_svg;
use crate::chart_view::{ExportButtons, guide_view, plot_view, tooltip_box, view_box};
use crate::charts::LARGE;
use crate::format::{millis, thousands};
use crate::plot_svg::{Node, svg};
use crate::store::{Store, use_store};
use crate::sweep_charts::{Metric, SweepChart, THEORY, mode_class, sweep_chart};
use crate::sweep_form::{Field, SweepForm, sweepable};
use crate::view_model::FrameBudget;
use crate::worker_protocol::{Job, JobKind, Reply, ReplyBody};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepState {
    Idle,
    Running,
    Finished,
    Cancelled,
}

impl SweepState {
    fn key(self) -> &'static str {
        match self {
            SweepState::Idle => "idle",
            SweepState::Running => "running",
            SweepState::Finished => "finished",
            SweepState::Cancelled => "cancelled",
        }
    }
}

/// The sweep view's state and the actions on it.
#[derive(Clone, Copy)]
struct SweepRunner {
    store: Store,
    form: RwSignal<SweepForm>,
    /// What is wrong, by field key (`sweep-from`, ...) or `sweep` for the sweep as a whole.
    errors: RwSignal<Vec<ScenarioError>>,
    result: RwSignal<Option<SweepResult>>,
    progress: RwSignal<Option<SweepProgress>>,
    state: RwSignal<SweepState>,
    in_worker: RwSignal<bool>,
    /// Wall time of the last sweep the worker finished.
    worker_ms: RwSignal<Option<f64>>,
    /// The job now running, and what it sweeps (for the fallback to the page).
    job: StoredValue<Option<u32>>,
    job_input: StoredValue<Option<(Scenario, SweepSpec)>>,
    next_job: StoredValue<u32>,
    on_page: StoredValue<Option<Sweep>, LocalStorage>,
}

impl SweepRunner {
    fn new(store: Store) -> SweepRunner {
        let keys = Field::ALL.map(Field::key);
        let url_errors = store.url_errors.with_untracked(|errors| {
            errors
                .iter()
                .filter(|e| keys.contains(&e.key.as_str()))
                .cloned()
                .collect::<Vec<_>>()
        });
        SweepRunner {
            store,
            form: RwSignal::new(store.sweep.get_untracked().unwrap_or_default()),
            errors: RwSignal::new(url_errors),
            result: RwSignal::new(None),
            progress: RwSignal::new(None),
            state: RwSignal::new(SweepState::Idle),
            in_worker: RwSignal::new(false),
            worker_ms: RwSignal::new(None),
            job: StoredValue::new(None),
            job_input: StoredValue::new(None),
            next_job: StoredValue::new(0),
            on_page: StoredValue::new_local(None),
        }
    }

    fn error(&self, key: &str) -> Option<String> {
        self.errors.with(|errors| {
            errors
                .iter()
                .find(|e| e.key == key)
                .map(ToString::to_string)
        })
    }

    fn set_error(&self, key: &str, error: Option<ScenarioError>) {
        self.errors.update(|errors| {
            errors.retain(|e| e.key != key && e.key != "sweep");
            errors.extend(error);
        });
    }

    /// Sets one field from what was typed; a refused value is named under its field, and the
    /// field shows the last good value again.
    fn set_field(&self, field: Field, ev: &leptos::ev::Event) {
        let text = event_target_value(ev);
        let scenario = self.store.scenario.get_untracked();
        let mut form = self.form.get_untracked();
        match form.set(field, &text, &scenario) {
            Ok(()) => {
                self.set_error(field.key(), None);
                self.form.set(form.clone());
                self.store.sweep.set(Some(form));
                self.store.schedule_url();
            }
            Err(e) => {
                let kept = form.text(field);
                if let Some(input) = ev
                    .target()
                    .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
                {
                    input.set_value(&kept);
                }
                let message = format!("{}; kept {kept}", e.message);
                self.set_error(
                    field.key(),
                    Some(ScenarioError {
                        key: e.key,
                        message,
                    }),
                );
            }
        }
    }

    /// Checks the whole sweep against the scenario and starts it.
    fn start(&self) {
        self.cancel();
        let base = self.store.scenario.get_untracked();
        let form = self.form.get_untracked();
        let spec = match form.validate(&base) {
            Ok(spec) => spec,
            Err(e) => {
                let key = e.key.clone();
                self.set_error(&key, Some(e));
                return;
            }
        };
        self.errors.set(Vec::new());
        self.store.sweep.set(Some(form));
        self.store.schedule_url();
        let id = self.next_job.get_value() + 1;
        self.next_job.set_value(id);
        self.job.set_value(Some(id));
        self.job_input.set_value(Some((base.clone(), spec.clone())));
        self.result.set(None);
        self.worker_ms.set(None);
        let runs_total = spec.steps * base.broker.modes().count() as u32 * spec.seeds;
        self.progress.set(Some(SweepProgress {
            runs_done: 0,
            runs_total,
            points_done: 0,
            fraction: 0.0,
        }));
        self.state.set(SweepState::Running);
        #[cfg(target_arch = "wasm32")]
        {
            use crate::offload::{Purpose, start};
            let runner = *self;
            self.in_worker.set(true);
            start(
                self.store.owner(),
                Purpose::Sweep,
                Job {
                    id,
                    kind: JobKind::Sweep { base, spec },
                },
                move |reply| runner.on_reply(reply),
                move || runner.run_on_page(id),
            );
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = Job {
                id,
                kind: JobKind::Sweep { base, spec },
            };
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
            ReplyBody::SweepProgress { progress, result } => {
                self.progress.set(Some(progress));
                if self
                    .result
                    .with_untracked(|r| r.as_ref().map(|r| r.points.len()))
                    != Some(result.points.len())
                {
                    self.result.set(Some(result));
                }
            }
            ReplyBody::SweepDone { result, elapsed_ms } => {
                self.job.set_value(None);
                self.finish(result);
                self.worker_ms.set(Some(elapsed_ms));
            }
            _ => {}
        }
    }

    fn finish(&self, result: SweepResult) {
        self.progress.set(Some(SweepProgress {
            runs_done: result.runs_done,
            runs_total: result.runs_total,
            points_done: result.points.len() as u32,
            fraction: 1.0,
        }));
        self.result.set(Some(result));
        self.in_worker.set(false);
        self.state.set(SweepState::Finished);
    }

    /// The fallback when no worker can run job `id`: the page runs it, a slice per frame.
    fn run_on_page(&self, id: u32) {
        if self.state.is_disposed() || self.job.get_value() != Some(id) {
            return;
        }
        self.in_worker.set(false);
        let Some((base, spec)) = self.job_input.get_value() else {
            return;
        };
        match Sweep::new(&base, &spec) {
            Ok(sweep) => {
                self.on_page.set_value(Some(sweep));
                let runner = *self;
                request_animation_frame(move || runner.frame(id));
            }
            Err(e) => {
                self.job.set_value(None);
                self.state.set(SweepState::Idle);
                self.set_error("sweep", Some(e));
            }
        }
    }

    fn frame(self, id: u32) {
        if self.job.try_get_value().flatten() != Some(id) {
            return;
        }
        let start = browser::now_ms();
        let Some(Some((progress, result, finished))) = self.on_page.try_update_value(|s| {
            let sweep = s.as_mut()?;
            let points = sweep.progress().points_done;
            let mut progress = sweep.progress();
            while let Some(p) = sweep.step() {
                progress = p;
                if browser::now_ms() - start >= FrameBudget::TARGET_MS {
                    break;
                }
            }
            let fresh =
                (progress.points_done != points || sweep.is_finished()).then(|| sweep.result());
            Some((progress, fresh, sweep.is_finished()))
        }) else {
            return;
        };
        if finished {
            self.job.set_value(None);
            self.on_page.set_value(None);
            if let Some(result) = result {
                self.finish(result);
            }
            return;
        }
        self.progress.set(Some(progress));
        if let Some(result) = result {
            self.result.set(Some(result));
        }
        request_animation_frame(move || self.frame(id));
    }

    /// Stops the sweep wherever it runs; the points finished so far stay on the charts.
    fn cancel(&self) {
        #[cfg(target_arch = "wasm32")]
        crate::offload::cancel(self.store.owner(), crate::offload::Purpose::Sweep);
        self.job.set_value(None);
        self.on_page.set_value(None);
        self.in_worker.set(false);
        if self.state.get_untracked() == SweepState::Running {
            self.state.set(SweepState::Cancelled);
        }
    }
}

/// The text fields of the form.
const NUMBER_FIELDS: [Field; 4] = [Field::From, Field::To, Field::Steps, Field::Seeds];

#[component]
pub fn SweepPanel() -> impl IntoView {
    let store = use_store();
    let runner = SweepRunner::new(store);
    // A link that names a sweep reruns it, unless one of its settings was refused.
    if store.sweep.get_untracked().is_some() && runner.errors.with_untracked(Vec::is_empty) {
        runner.start();
    }
    on_cleanup(move || {
        if !runner.job.is_disposed() {
            runner.cancel();
        }
    });
    let knob_select = {
        let options = Group::ALL
            .iter()
            .map(|&group| {
                let knobs: Vec<_> = sweepable().into_iter().filter(|k| k.group == group).collect();
                let items = knobs
                    .into_iter()
                    .map(|k| {
                        view! {
                            <option value=k.key selected=move || runner.form.with(|f| f.knob == k.key)>
                                {format!("{} ({})", k.label, k.key)}
                            </option>
                        }
                    })
                    .collect_view();
                view! { <optgroup label=group.title()>{items}</optgroup> }
            })
            .collect_view();
        view! {
            <div class="sweep-field sweep-knob">
                <label for="sweep-knob">{Field::Knob.label()}</label>
                <select
                    id="sweep-knob"
                    data-testid="sweep-knob"
                    prop:value=move || runner.form.with(|f| f.knob)
                    on:change=move |ev| runner.set_field(Field::Knob, &ev)
                >
                    {options}
                </select>
                {move || runner.error(Field::Knob.key()).map(|e| view! {
                    <p class="field-error" role="alert" data-testid="sweep-error">{e}</p>
                })}
            </div>
        }
    };
    let number_fields = NUMBER_FIELDS
        .iter()
        .map(|&field| {
            let id = field.key();
            let unit = move || {
                matches!(field, Field::From | Field::To)
                    .then(|| runner.form.with(|f| f.knob().unit))
                    .filter(|u| !u.is_empty())
                    .map(|u| view! { <span class="unit">{u}</span> })
            };
            view! {
                <div class="sweep-field" class:has-error=move || runner.error(id).is_some()>
                    <label for=id>{field.label()}</label>
                    <span class="sweep-input">
                        <input
                            id=id
                            type="text"
                            inputmode="decimal"
                            data-testid=id
                            prop:value=move || runner.form.with(|f| f.text(field))
                            on:change=move |ev| runner.set_field(field, &ev)
                        />
                        {unit}
                    </span>
                    {move || runner.error(id).map(|e| view! {
                        <p class="field-error" role="alert" data-testid=format!("{id}-error")>{e}</p>
                    })}
                </div>
            }
        })
        .collect_view();
    let plan = move || {
        let form = runner.form.get();
        let scenario = store.scenario.get();
        let modes = scenario.broker.modes().count();
        let runs = u64::from(form.steps) * modes as u64 * u64::from(form.seeds);
        format!(
            "{} runs of {} messages: {} values × {} modes × seeds {}–{}. Every other setting is the scenario's.",
            thousands(runs),
            thousands(u64::from(scenario.messages)),
            form.steps,
            modes,
            scenario.seed,
            scenario.seed + u64::from(form.seeds) - 1
        )
    };
    view! {
        <section class="sweep panel" id="sweep" aria-label="Sweep a setting" data-testid="sweep-view">
            <div class="compare-head">
                <h2>"Sweep a setting"</h2>
            </div>
            <p class="hint">
                "Vary one setting from one value to another and run every mode at each value over several seeds: each point is the mean, the shaded band its 95 % confidence interval, and the dashed line what probability theory expects, where a formula holds."
            </p>
            <div class="sweep-form">
                {knob_select}
                {number_fields}
                <div class="sweep-actions">
                    <button
                        type="button"
                        class="primary"
                        data-testid="sweep-run"
                        on:click=move |_| runner.start()
                        disabled=move || runner.state.get() == SweepState::Running
                    >
                        "Run sweep"
                    </button>
                    <button
                        type="button"
                        data-testid="sweep-cancel"
                        on:click=move |_| runner.cancel()
                        disabled=move || runner.state.get() != SweepState::Running
                    >
                        "Cancel"
                    </button>
                </div>
            </div>
            <p class="hint sweep-plan" data-testid="sweep-plan">{plan}</p>
            {move || runner.error("sweep").map(|e| view! {
                <p class="field-error" role="alert" data-testid="sweep-whole-error">{e}</p>
            })}
            <SweepProgressBar runner=runner />
            <SweepResults runner=runner />
        </section>
    }
}

#[component]
fn SweepProgressBar(runner: SweepRunner) -> impl IntoView {
    let shown = move || runner.state.get() != SweepState::Idle;
    let counts = move || {
        runner
            .progress
            .get()
            .map_or((0, 0), |p| (p.runs_done, p.runs_total))
    };
    let label = move || {
        let (done, total) = counts();
        let mut label = format!(
            "{} of {} runs",
            thousands(done.into()),
            thousands(total.into())
        );
        match runner.state.get() {
            SweepState::Running if runner.in_worker.get() => {
                label.push_str(" · in a background worker")
            }
            SweepState::Running => label.push_str(" · on this page"),
            SweepState::Cancelled => label.push_str(" · cancelled; the points finished are shown"),
            SweepState::Finished => {
                if let Some(ms) = runner.worker_ms.get() {
                    label.push_str(&format!(
                        " · {} of wall time in a background worker",
                        millis(ms)
                    ));
                }
            }
            SweepState::Idle => {}
        }
        label
    };
    move || {
        shown().then(|| {
            view! {
                <div class="progress">
                    <progress
                        data-testid="sweep-progress"
                        aria-label="Sweep progress"
                        max=move || counts().1.max(1).to_string()
                        prop:value=move || counts().0.to_string()
                        data-state=move || runner.state.get().key()
                        data-worker=move || runner.in_worker.get().to_string()
                        data-runs-done=move || counts().0.to_string()
                        data-runs-total=move || counts().1.to_string()
                        data-worker-ms=move || runner.worker_ms.get().map(|ms| format!("{ms:.1}"))
                    ></progress>
                    <span class="progress-label">{label}</span>
                </div>
            }
        })
    }
}

#[component]
fn SweepResults(runner: SweepRunner) -> impl IntoView {
    let store = runner.store;
    let has_result = Memo::new(move |_| runner.result.with(Option::is_some));
    // The mode does not matter to a sweep (every mode runs); anything else does.
    let stale = move || {
        runner.result.with(|r| {
            r.as_ref()
                .is_some_and(|r| store.scenario.with(|s| r.base.with_mode(s.mode) != *s))
        })
    };
    let download_csv = move |_| {
        runner.result.with_untracked(|r| {
            if let Some(r) = r {
                browser::download(
                    &format!("dsim-sweep-{}-seed-{}.csv", r.knob, r.base.seed),
                    "text/csv",
                    &sweep_csv(r),
                );
            }
        })
    };
    let legend = move || {
        Mode::ALL
            .iter()
            .map(|m| {
                view! {
                    <li><span class=format!("swatch {}", mode_class(*m))></span>{m.title()}</li>
                }
            })
            .collect_view()
    };
    move || {
        has_result.get().then(|| {
            let charts = Metric::ALL
                .iter()
                .map(|&metric| {
                    let chart = Memo::new(move |_| {
                        runner
                            .result
                            .with(|r| r.as_ref().map(|r| sweep_chart(r, metric, LARGE)))
                    });
                    view! { <SweepChartView chart=chart metric=metric /> }
                })
                .collect_view();
            view! {
                {move || stale().then(|| view! {
                    <p class="run-status" data-testid="sweep-stale">
                        "The scenario has changed since this sweep ran: Run sweep again to include the change."
                    </p>
                })}
                <ul class="legend sweep-legend" aria-label="Modes">
                    {legend()}
                    <li><span class=format!("swatch dashed {}", THEORY.0)></span>"theory"</li>
                </ul>
                <div class="charts" data-testid="sweep-charts">{charts}</div>
                <div class="run-exports">
                    <span class="hint">"Export this sweep:"</span>
                    <button
                        type="button"
                        data-testid="sweep-csv"
                        title="One row per value and mode: each metric's mean and 95 % interval, and theory's expectation"
                        on:click=download_csv
                    >
                        "Table (CSV)"
                    </button>
                </div>
            }
        })
    }
}

/// One metric's chart: bands under the mean lines, a mark per point carrying its numbers in
/// `data-*` attributes, the pointer's tooltip, and the SVG and PNG buttons.
#[component]
fn SweepChartView(chart: Memo<Option<SweepChart>>, metric: Metric) -> impl IntoView {
    let testid = format!("sweep-chart-{}", metric.key());
    let figure_id = testid.clone();
    let hover_x = RwSignal::new(None::<f64>);
    let on_move = move |ev: PointerEvent| {
        let width =
            chart.with_untracked(|c| c.as_ref().map_or(LARGE.width, |c| c.chart.frame.width));
        if let Some(x) = crate::browser::pointer_x(&ev, width) {
            hover_x.set(Some(x));
        }
    };
    let hovered = move || {
        let x = hover_x.get()?;
        chart.with(|c| c.as_ref().and_then(|c| c.chart.hover_at(x).cloned()))
    };
    let guide = move || {
        hovered().and_then(|h| chart.with(|c| c.as_ref().map(|c| guide_view(&c.chart, &h))))
    };
    let tooltip = move || {
        hovered().and_then(|h| chart.with(|c| c.as_ref().map(|c| tooltip_box(&c.chart, h))))
    };
    // Drawn once the first point is in; then each new point redraws what it changes.
    let shown = Memo::new(move |_| chart.with(Option::is_some));
    let drawing = Memo::new(move |_| {
        chart.with(|c| {
            c.as_ref().map_or_else(
                || Node::new("svg"),
                |c| svg(&c.chart, c.band_nodes(), c.mark_nodes()),
            )
        })
    });
    let drawn = move || {
        shown
            .get()
            .then(|| plot_view(LARGE, drawing, metric.title()))
    };
    let file = Callback::new(move |()| {
        chart.with_untracked(|c| c.as_ref().map(sweep_svg).unwrap_or_default())
    });
    view! {
        <figure class="chart" data-testid=figure_id>
            <figcaption>
                <span class="chart-title">{metric.title()}</span>
                <ExportButtons file=format!("dsim-sweep-{}", metric.key()) testid=testid svg=file />
            </figcaption>
            <div class="plot" on:pointermove=on_move on:pointerleave=move |_| hover_x.set(None)>
                {drawn}
                <svg
                    class="overlay"
                    viewBox=view_box(LARGE)
                    aria-hidden="true"
                >
                    {guide}
                </svg>
                {tooltip}
            </div>
        </figure>
    }
}
