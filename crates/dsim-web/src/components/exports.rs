//! Downloads of the run: its whole history as JSON lines and its metrics so far as CSV, for
//! a notebook or a spreadsheet. The texts come from `dsim_core::export`, the same bytes as
//! `dsim history` and `dsim run --series-csv`; `browser::download` saves them.

use dsim_core::Scenario;
use dsim_core::export::{HISTORY_MAX_MESSAGES, history_json_lines, series_csv};
use leptos::prelude::*;

use crate::browser;
use crate::store::use_store;

/// A file name that says which run it came from: `dsim-at-least-once-seed-42-history.jsonl`.
pub fn file_name(s: &Scenario, what: &str, extension: &str) -> String {
    format!("dsim-{}-seed-{}-{what}.{extension}", s.mode.key(), s.seed)
}

#[component]
pub fn RunExports() -> impl IntoView {
    let store = use_store();
    let error = RwSignal::new(None::<String>);
    let too_long = Memo::new(move |_| store.scenario.with(|s| s.messages > HISTORY_MAX_MESSAGES));
    let history = move |_| {
        // The history replays the whole run with every message traced: a moment's work for
        // the page's usual ten thousand messages.
        let s = store.scenario.get_untracked();
        match history_json_lines(&s) {
            Ok(text) => {
                error.set(None);
                browser::download(
                    &file_name(&s, "history", "jsonl"),
                    "application/x-ndjson",
                    &text,
                );
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    let metrics = move |_| {
        let s = store.scenario.get_untracked();
        let text = store.report.with_untracked(|r| series_csv(&r.series));
        browser::download(&file_name(&s, "metrics", "csv"), "text/csv", &text);
    };
    view! {
        <section class="run-exports" aria-label="Export the run" data-testid="run-exports">
            <span class="hint">"Export this run:"</span>
            <button
                type="button"
                data-testid="download-history"
                on:click=history
                prop:disabled=move || too_long.get()
                title=move || {
                    if too_long.get() {
                        format!("The history export holds at most {HISTORY_MAX_MESSAGES} messages")
                    } else {
                        "Every event of every message, one JSON object per line".to_string()
                    }
                }
            >
                "History (JSON lines)"
            </button>
            <button
                type="button"
                data-testid="download-metrics"
                on:click=metrics
                title="The charts' time series so far, one row per time bucket"
            >
                "Metrics (CSV)"
            </button>
            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_name_the_run() {
        let s = Scenario::default();
        assert_eq!(
            file_name(&s, "history", "jsonl"),
            "dsim-at-least-once-seed-42-history.jsonl"
        );
    }
}
