//! Compare all modes: the five modes on the same seed and faults, as a table like the
//! textbooks' (but measured) and as small multiples of the charts on shared scales.

use leptos::prelude::*;

use dsim_core::{Mode, Report};

use crate::chart_view::plot_view;
use crate::charts::{self, Chart, Frame, SMALL, Shared};
use crate::plot_svg::{Node, svg};
use crate::store::{Store, use_store};
use crate::view_model::{compare_notes, compare_rows};

#[component]
pub fn Compare() -> impl IntoView {
    let store = use_store();
    let rows = Memo::new(move |_| store.compare_reports.with(|r| compare_rows(r)));
    let progress = move || {
        store.compare_progress.get().map(|p| {
            view! {
                <div class="progress">
                    <progress data-testid="compare-progress" max="1" prop:value=p.to_string()></progress>
                    <span class="progress-label">{format!("running every mode… {:.0} %", p * 100.0)}</span>
                </div>
            }
        })
    };
    let table = move || {
        let rows = rows.get();
        // The card provider's column shows when payments call one (the exactly-once trap):
        // the mode's promise speaks for the broker's ledger only.
        let cards = rows.iter().any(|r| r.cards_charged_twice.is_some());
        (!rows.is_empty()).then(|| {
            let body = rows
                .into_iter()
                .map(|r| {
                    let (class, verdict) = match (r.held, r.stalled) {
                        (false, _) => ("broken", "✗ broken".to_string()),
                        (true, Some(why)) => ("stalled", format!("■ {why}")),
                        (true, None) if r.outside_the_promise.is_some() => {
                            ("kept", "✓ kept in the ledger".to_string())
                        }
                        (true, None) => ("kept", "✓ kept".to_string()),
                    };
                    let outside = r
                        .outside_the_promise
                        .map(|line| view! { <span class="outside">{"✗ "}{line}</span> });
                    let card = cards.then(|| {
                        view! {
                            <td class="num wrap" data-label="Cards charged twice" data-testid="compare-cards">
                                {r.cards_charged_twice.unwrap_or_else(|| "–".into())}
                            </td>
                        }
                    });
                    // Each cell names its column for the phone's cards (`data-label`).
                    view! {
                        <tr data-mode=r.mode.key() data-status=r.status>
                            <th scope="row" class=class>
                                <span class="mode-title">{r.title}</span>
                                <span class="verdict">{verdict}</span>
                                {outside}
                                <span class="promise">{r.promise}</span>
                            </th>
                            <td class="num" data-label="Lost">{r.lost}</td>
                            <td class="num" data-label="Duplicates">{r.duplicates}</td>
                            {card}
                            <td class="num" data-label="Ledger overcharged">{r.overcharged}</td>
                            <td class="num wrap" data-label="Latency p50 / p99">
                                <span>{r.p50}" /"</span>" "<span>{r.p99}</span>
                            </td>
                            <td class="num wrap" data-label="Throughput / capacity">
                                <span>{r.throughput}</span>" "<span class="of">"of "{r.capacity}</span>
                            </td>
                            <td class="num" data-label="Network msgs per msg">{r.network_per_message}</td>
                            <td class="cost" data-label="What it cost">{r.extra_cost}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <div class="table-scroll">
                    <table class="compare-table" data-testid="compare-table">
                        <caption>
                            "Measured on this scenario's seed and faults; only the mode changes."
                        </caption>
                        <thead>
                            <tr>
                                <th scope="col">"Mode and promise"</th>
                                <th scope="col" class="num">"Lost"</th>
                                <th scope="col" class="num">"Duplicates"</th>
                                {cards.then(|| view! {
                                    <th
                                        scope="col"
                                        class="num"
                                        title="Charges the external card provider made twice for one payment, and what they cost: outside every mode's transaction"
                                    >
                                        "Cards charged twice"
                                    </th>
                                })}
                                <th scope="col" class="num" title="What the broker's ledger credited beyond what was owed">
                                    "Ledger overcharged"
                                </th>
                                <th scope="col" class="num">"Latency p50 / p99"</th>
                                <th
                                    scope="col"
                                    class="num"
                                    title="Messages per second applied, and the most the consumers could sustain (capacity), measured from their busy time"
                                >
                                    "Throughput / capacity"
                                </th>
                                <th scope="col" class="num">"Network msgs per msg"</th>
                                <th scope="col">"What it cost"</th>
                            </tr>
                        </thead>
                        <tbody>{body}</tbody>
                    </table>
                </div>
                {store
                    .compare_reports
                    .with(|r| compare_notes(r))
                    .into_iter()
                    .map(|note| view! { <p class="hint compare-note" data-testid="compare-note">{note}</p> })
                    .collect_view()}
            }
        })
    };
    // Built once when the first report arrives, not on every reply: each chart then follows
    // its own drawing (`small_multiples`).
    let any = Memo::new(move |_| !store.compare_reports.with(Vec::is_empty));
    view! {
        <section class="compare panel" id="compare">
            <div class="compare-head">
                <h2>"Compare all modes"</h2>
                <button
                    type="button"
                    class="primary"
                    data-testid="compare-button"
                    on:click=move |_| store.start_compare()
                >
                    "Run every mode"
                </button>
            </div>
            <p class="hint">
                "One click runs at-most-once, at-least-once, the idempotent consumer, exactly-once and the outbox on the same seed and faults."
            </p>
            {progress}
            {table}
            {move || {
                any.get().then(|| {
                    view! {
                        <div class="multiples" data-testid="compare-multiples">
                            <div class="multiple multiples-head" aria-hidden="true">
                                <span></span>
                                <span>"throughput (msg/s)"</span>
                                <span>
                                    "latency: " <span class="key s-p50">"p50"</span> " / "
                                    <span class="key s-p99">"p99"</span> " (ms)"
                                </span>
                                <span>
                                    <span class="key s-dup">"duplicates"</span> " / "
                                    <span class="key s-lost">"lost"</span> " (cumulative)"
                                </span>
                                <span>
                                    {move || {
                                        store
                                            .compare_reports
                                            .with(|reports| reports.first().map(charts::backlog_label))
                                    }}
                                </span>
                            </div>
                            <p class="multiples-x" data-testid="compare-time-axis">
                                {move || {
                                    store
                                        .compare_reports
                                        .with(|reports| {
                                            let shared = Shared::of(reports);
                                            reports.first().map(|r| {
                                                format!(
                                                    "Every chart's horizontal axis: {}.",
                                                    charts::throughput(r, SMALL, Some(&shared)).x_axis.title
                                                )
                                            })
                                        })
                                }}
                            </p>
                            {small_multiples(store)}
                        </div>
                    }
                })
            }}
        </section>
    }
}

/// Per mode, its four small multiples, each drawn from a memo of its drawing: a progress
/// reply that brings no new report (one comes every 100 ms while a mode runs) redraws
/// nothing, and a new report redraws only the attributes that change (the shared scales may
/// move).
fn small_multiples(store: Store) -> impl IntoView {
    // The scales all twenty charts share, worked out once per new report.
    let shared = Memo::new(move |_| store.compare_reports.with(|reports| Shared::of(reports)));
    let drawing = move |mode: Mode, chart: fn(&Report, Frame, Option<&Shared>) -> Chart| {
        Memo::new(move |_| {
            let shared = shared.get();
            store.compare_reports.with(|reports| {
                reports.iter().find(|r| r.mode == mode).map_or_else(
                    || Node::new("svg"),
                    |r| svg(&chart(r, SMALL, Some(&shared)), Vec::new(), Vec::new()),
                )
            })
        })
    };
    // The backlog's column names what its broker's operators watch (Kafka's lag, RabbitMQ's
    // ready and unacked, SQS's visible and in flight); every mode runs on the same broker.
    let backlog_label = Memo::new(move |_| {
        store
            .compare_reports
            .with(|reports| reports.first().map_or("", charts::backlog_label))
    });
    Mode::ALL
        .iter()
        .map(|&mode| {
            let shown = Memo::new(move |_| store.compare_reports.with(|r| r.iter().any(|r| r.mode == mode)));
            move || {
                shown.get().then(|| {
                    view! {
                        <div class="multiple" data-mode=mode.key()>
                            <h3>{mode.title()}</h3>
                            <div>
                                <p class="multiple-label">"throughput (msg/s)"</p>
                                {plot_view(SMALL, drawing(mode, charts::throughput), "throughput")}
                            </div>
                            <div>
                                <p class="multiple-label">"latency p50 / p99 (ms)"</p>
                                {plot_view(SMALL, drawing(mode, charts::latency), "latency p50 and p99")}
                            </div>
                            <div>
                                <p class="multiple-label">"duplicates / lost (cumulative)"</p>
                                {plot_view(SMALL, drawing(mode, charts::dup_loss), "duplicates and losses")}
                            </div>
                            <div>
                                <p class="multiple-label">{backlog_label}</p>
                                {plot_view(SMALL, drawing(mode, charts::backlog), "what waited in the broker")}
                            </div>
                        </div>
                    }
                })
            }
        })
        .collect_view()
}
