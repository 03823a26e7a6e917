//! What the live run shows: the guarantee badge, the big counters, the ledger, the progress bar
//! and the four charts. All of it is read from the store's latest report.

use dsim_core::Status;
use leptos::prelude::*;

use crate::browser;
use crate::chart_view::ChartView;
use crate::charts::{self, LARGE};
use crate::example_link::example_link;
use crate::format::{millis, thousands};
use crate::store::use_store;
use crate::view_model::{self, RunState, Verdict};

#[component]
pub fn GuaranteeBadge() -> impl IntoView {
    let store = use_store();
    let view = Memo::new(move |_| store.report.with(view_model::guarantee));
    let class = move || match view.with(|v| v.verdict) {
        Verdict::Held => "badge held",
        Verdict::HoldingSoFar => "badge pending",
        Verdict::Stalled => "badge stalled",
        Verdict::Broken => "badge broken",
    };
    let icon = move || match view.with(|v| v.verdict) {
        Verdict::Held => "✓",
        Verdict::HoldingSoFar => "…",
        Verdict::Stalled => "■",
        Verdict::Broken => "✗",
    };
    let link = move || {
        view.with(|v| v.counterexample).map(|m| {
            view! {
                <button
                    type="button"
                    class="link"
                    data-testid="counterexample-link"
                    on:click=move |_| {
                        store.open_timeline(m);
                        browser::scroll_to_testid("timeline");
                    }
                >
                    {format!("See message {m} in the timeline →")}
                </button>
            }
        })
    };
    view! {
        <section
            class=class
            data-testid="guarantee-badge"
            data-verdict=move || view.with(|v| v.verdict.key())
            aria-live="polite"
        >
            <span class="badge-icon" aria-hidden="true">{icon}</span>
            <div>
                <p class="badge-headline">{move || view.with(|v| v.headline.clone())}</p>
                <p class="badge-promise">{move || view.with(|v| v.promise.clone())}</p>
                {move || view.with(|v| v.explanation.clone()).map(|e| view! { <p class="badge-why">{e}</p> })}
                {link}
            </div>
        </section>
    }
}

#[component]
pub fn Counters() -> impl IntoView {
    let store = use_store();
    let counters = Memo::new(move |_| store.report.with(view_model::counters));
    let raw = move |i: usize| {
        store.report.with(|r| match i {
            0 => r.produced,
            1 => r.side_effects,
            2 => r.duplicates,
            3 => r.lost,
            4 => r.retries,
            _ => r.throughput_per_s.round() as u64,
        })
    };
    let cells = (0..6)
        .map(|i| {
            let (id, counts) = counters.with_untracked(|c| (c[i].id, c[i].counts));
            let field = move |f: fn(&view_model::Counter) -> String| counters.with(|c| f(&c[i]));
            view! {
                <div
                    class="counter"
                    class:bad=move || counters.with(|c| c[i].bad)
                    data-testid=format!("counter-{id}")
                    data-value=move || raw(i)
                    title=counts
                >
                    <span class="counter-value">{move || field(|c| c.value.clone())}</span>
                    <span class="counter-label">{move || field(|c| c.label.to_string())}</span>
                    <span class="counter-detail">{move || field(|c| c.detail.clone())}</span>
                    {move || {
                        counters
                            .with(|c| c[i].example)
                            .map(|(m, what)| example_link(format!("counter-{id}-example"), m, what))
                    }}
                </div>
            }
        })
        .collect_view();
    view! { <div class="counters">{cells}</div> }
}

#[component]
pub fn LedgerSummary() -> impl IntoView {
    let store = use_store();
    let ledger = Memo::new(move |_| store.report.with(view_model::ledger));
    view! {
        <section class="ledger" class:bad=move || ledger.with(|l| l.bad) data-testid="ledger-summary">
            <p class="ledger-sentence">{move || ledger.with(|l| l.sentence.clone())}</p>
            <dl>
                <div>
                    <dt>"expected balance"</dt>
                    <dd>{move || ledger.with(|l| l.expected.clone())}</dd>
                </div>
                <div>
                    <dt>"actual balance"</dt>
                    <dd>{move || ledger.with(|l| l.actual.clone())}</dd>
                </div>
            </dl>
        </section>
    }
}

#[component]
pub fn Progress() -> impl IntoView {
    let store = use_store();
    let progress = move || store.progress.get();
    let label = move || {
        store.report.with(|r| {
            let state = match store.run_state.get() {
                RunState::Paused if r.status == Status::Running => RunState::Paused.key(),
                _ => view_model::status_key(r.status),
            };
            let mut label = format!(
                "{:.0} % · {} simulated · {} events · {}",
                progress() * 100.0,
                millis(r.duration_ms),
                thousands(r.events),
                state
            );
            if store.offloaded.get() {
                label.push_str(" · in a background worker");
            } else if let (RunState::Finished, Some(ms)) =
                (store.run_state.get(), store.worker_run_ms.get())
            {
                label.push_str(&format!(
                    " · {} of wall time in a background worker",
                    millis(ms)
                ));
            }
            label
        })
    };
    view! {
        <div class="progress">
            <progress
                data-testid="progress"
                max="1"
                prop:value=move || progress().to_string()
                data-state=move || store.run_state.get().key()
                data-worker=move || store.offloaded.get().to_string()
                data-worker-run-ms=move || store.worker_run_ms.get().map(|ms| format!("{ms:.1}"))
                aria-label="Run progress"
            ></progress>
            <span class="progress-label">{label}</span>
        </div>
        {move || {
            store.report.with(view_model::run_status).map(|s| {
                view! {
                    <p class="run-status" class:bad=s.bad data-testid="run-status" data-status=s.key>
                        {s.text}
                    </p>
                }
            })
        }}
    }
}

#[component]
pub fn LiveCharts() -> impl IntoView {
    let store = use_store();
    let throughput = Memo::new(move |_| store.report.with(|r| charts::throughput(r, LARGE, None)));
    let latency = Memo::new(move |_| store.report.with(|r| charts::latency(r, LARGE, None)));
    let histogram = Memo::new(move |_| {
        store
            .report
            .with(|r| charts::latency_histogram(&r.latency_histogram, LARGE))
    });
    let dup_loss = Memo::new(move |_| store.report.with(|r| charts::dup_loss(r, LARGE, None)));
    let backlog = Memo::new(move |_| store.report.with(|r| charts::backlog(r, LARGE, None)));
    // The chart's title names what the broker of the run shown keeps waiting.
    let backlog_title = Memo::new(move |_| store.report.with(|r| charts::backlog_title(r).0));
    // While time-travelling, a line at the instant shown on every chart over time.
    let marker = Signal::derive(move || {
        let t_ms = store.travel.with(|m| m.as_ref().map(|m| m.t_ms))?;
        Some(store.report.with(|r| charts::time_x(r, LARGE, t_ms)))
    });
    view! {
        <div class="charts">
            <ChartView chart=throughput testid="chart-throughput" title="Throughput over simulated time" marker />
            <ChartView chart=latency testid="chart-latency" title="End-to-end latency over time" marker />
            <ChartView chart=histogram testid="chart-latency-histogram" title="Latency histogram" />
            <ChartView chart=dup_loss testid="chart-dup-loss" title="Duplicates and losses, cumulative" marker />
            {move || {
                let title = backlog_title.get();
                view! { <ChartView chart=backlog testid="chart-backlog" title marker /> }
            }}
        </div>
    }
}
