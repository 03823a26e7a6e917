//! The fault timeline's editor: a text field in the compact syntax, a line of help, and the
//! entries as the page reads them, each with its meaning or its error. Apply (or leaving the
//! field) runs the timeline when every entry is good; otherwise the running script stays and
//! the errors say why. The URL carries the script like any other setting (`script=...`).

use dsim_core::script::SCRIPT_KEY;
use leptos::prelude::*;

use crate::script_review::{editor_text, example, review};
use crate::store::use_store;

#[component]
pub fn ScriptEditor() -> impl IntoView {
    let store = use_store();
    let running = Memo::new(move |_| store.scenario.with(|s| s.script.clone()));
    let text = RwSignal::new(editor_text(&running.get_untracked()));
    // The address may have carried a script the core refused; say so once, here.
    let address_error = RwSignal::new(store.url_errors.with_untracked(|errors| {
        errors
            .iter()
            .find(|e| e.key == SCRIPT_KEY)
            .map(|e| format!("{e} (from the address; the timeline was left empty)"))
    }));
    // A preset, a reset or an applied edit changes the running script: show it as it runs.
    Effect::new(move |previous: Option<()>| {
        let script = running.get();
        if previous.is_some() {
            text.set(editor_text(&script));
        }
    });
    let reviewed = Memo::new(move |_| store.scenario.with(|s| text.with(|t| review(t, s))));
    let apply = move || {
        let Some(faults) = reviewed.with_untracked(|r| r.script.clone()) else {
            return;
        };
        address_error.set(None);
        let mut s = store.scenario.get_untracked();
        // The review checked every entry against this scenario, so this is accepted.
        if s.set_script(faults).is_ok() {
            store.set_scenario(s);
        }
    };
    let entries = move || {
        reviewed.with(|r| {
            let problem = r.problem.clone().map(|p| {
                view! { <li class="entry bad" data-testid="script-problem">{p}</li> }
            });
            let rows = r
                .entries
                .iter()
                .map(|e| {
                    let (class, words) = match &e.outcome {
                        Ok(words) => ("entry good", words.clone()),
                        Err(error) => ("entry bad", error.clone()),
                    };
                    view! {
                        <li class=class data-testid="script-entry">
                            <code>{e.text.clone()}</code>
                            <span class="entry-words">{words}</span>
                        </li>
                    }
                })
                .collect_view();
            view! { {problem} {rows} }
        })
    };
    let pending = move || {
        let differs = reviewed.with(|r| r.script.as_ref() != Some(&running.get()));
        let blocked = reviewed.with(|r| r.script.is_none());
        if blocked {
            "Fix the entries marked above; the timeline that is running stays until then."
        } else if differs {
            "Not running yet: Apply, or leave the field."
        } else {
            ""
        }
    };
    view! {
        <div class="script-editor">
            <label for="script-text">"Scripted faults, one per line"</label>
            <textarea
                id="script-text"
                data-testid="script-text"
                rows="3"
                spellcheck="false"
                placeholder="2s:crash-consumer-1-after\n3s-4s:partition-broker-producer-0"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:change=move |_| apply()
            ></textarea>
            <p class="help">
                <code>"TIME:crash-consumer-N"</code> " (add " <code>"-before"</code> " or "
                <code>"-after"</code> " processing), " <code>"TIME:crash-broker"</code> ", "
                <code>"FROM-TO:partition-broker-producer-N"</code> " or "
                <code>"…-consumer-N"</code> ". Times like " <code>"2s"</code> " or "
                <code>"250ms"</code> "; producers and consumers count from 0."
            </p>
            <ul class="script-entries" aria-live="polite">{entries}</ul>
            <p class="script-pending" data-testid="script-pending">{pending}</p>
            {move || {
                address_error
                    .get()
                    .map(|e| {
                        view! { <p class="field-error" role="alert" data-testid="script-error">{e}</p> }
                    })
            }}
            <div class="script-buttons">
                <button
                    type="button"
                    data-testid="script-apply"
                    disabled=move || reviewed.with(|r| r.script.is_none())
                    on:click=move |_| apply()
                >
                    "Apply"
                </button>
                <button
                    type="button"
                    data-testid="script-example"
                    title="Fill in a consumer crash and a partition that fit this run"
                    on:click=move |_| {
                        text.set(store.scenario.with_untracked(example));
                        apply();
                    }
                >
                    "Example"
                </button>
                <button
                    type="button"
                    data-testid="script-clear"
                    on:click=move |_| {
                        text.set(String::new());
                        apply();
                    }
                >
                    "Clear"
                </button>
            </div>
        </div>
    }
}
