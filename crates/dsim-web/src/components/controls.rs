//! The controls: the mode, one slider and typed number per knob of the core's table (grouped as
//! the table groups them), the seed, and run / pause / step / reset. Every control is driven by
//! `dsim_core::knobs()`, so a setting added to the core appears here without a change.
//!
//! A value the core refuses, typed or from the address, is named under its control with the
//! allowed range, and the scenario keeps its last good value; a typed field shows that value
//! again, so what the controls show is always what runs.

use dsim_core::knobs::format_number;
use dsim_core::{Broker, Group, Kind, Knob, Mode, ScenarioError, knob, knobs};
use leptos::prelude::*;
use web_sys::HtmlInputElement;

use crate::browser;
use crate::slider_scale::SliderScale;
use crate::store::{Store, use_store};
use crate::view_model::RunState;

/// The error the address gave this setting, if any, as the control first shows it.
fn url_error(store: &Store, key: &str) -> Option<String> {
    store.url_errors.with_untracked(|errors| {
        errors
            .iter()
            .find(|e| e.key == key)
            .map(|e| format!("{e} (from the address; kept {})", current_text(store, key)))
    })
}

fn current_text(store: &Store, key: &str) -> String {
    store
        .scenario
        .with_untracked(|s| s.get(key))
        .unwrap_or_default()
}

/// What to show when a typed value is refused: the core's message, and the value kept. The
/// field is set back to that value, so it never shows a number that is not running.
fn refused(store: &Store, ev: &leptos::ev::Event, e: ScenarioError) -> String {
    let kept = current_text(store, &e.key);
    event_target::<HtmlInputElement>(ev).set_value(&kept);
    format!("{e}; kept {kept}")
}

/// The message under a control, when there is one.
fn field_error(id: String, error: RwSignal<Option<String>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! { <p class="field-error" role="alert" data-testid=format!("{id}-error")>{e}</p> }
        })
    }
}

/// Knobs with controls of their own elsewhere on the page.
const SPECIAL: &[&str] = &["mode", "seed", "broker"];

/// Groups open when the page loads; the others hold settings few people change.
const OPEN_GROUPS: &[Group] = &[
    Group::Producer,
    Group::Broker,
    Group::Consumer,
    Group::Network,
    Group::Load,
];

#[component]
pub fn ModePicker() -> impl IntoView {
    let store = use_store();
    let mode = Memo::new(move |_| store.scenario.with(|s| s.mode));
    let broker = Memo::new(move |_| store.scenario.with(|s| s.broker));
    let error = RwSignal::new(url_error(&store, "mode"));
    let buttons = Mode::ALL
        .iter()
        .map(|&m| {
            // A mode the broker refuses is disabled, and its tooltip says why.
            view! {
                <button
                    type="button"
                    class="segment"
                    data-testid=format!("mode-{}", m.key())
                    aria-pressed=move || (mode.get() == m).to_string()
                    disabled=move || broker.get().refuses(m).is_some()
                    title=move || m.mechanism_on(broker.get())
                    on:click=move |_| {
                        let s = store.scenario.get_untracked().with_mode(m);
                        error.set(None);
                        store.set_scenario(s);
                    }
                >
                    {m.title()}
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="mode-picker">
            <div class="segmented" role="group" aria-label="Delivery mode">
                {buttons}
            </div>
            {field_error("mode".into(), error)}
            <p class="mechanism" data-testid="mode-mechanism" aria-live="polite">
                <strong>{move || mode.get().title()} ": "</strong>
                {move || mode.get().mechanism_on(broker.get())}
            </p>
        </div>
    }
}

/// The broker family, beside the mode: which real system the run models, with a line on what
/// it is. Choosing one puts the settings it lacks back to their defaults (`set_broker`), and
/// the knob panel hides them.
#[component]
pub fn BrokerPicker() -> impl IntoView {
    let store = use_store();
    let broker = Memo::new(move |_| store.scenario.with(|s| s.broker));
    let error = RwSignal::new(url_error(&store, "broker"));
    let buttons = Broker::ALL
        .iter()
        .map(|&b| {
            view! {
                <button
                    type="button"
                    class="segment"
                    data-testid=format!("broker-{}", b.key())
                    aria-pressed=move || (broker.get() == b).to_string()
                    title=b.description()
                    on:click=move |_| {
                        let mut s = store.scenario.get_untracked();
                        s.switch_broker(b);
                        error.set(None);
                        store.set_scenario(s);
                    }
                >
                    {b.title()}
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="mode-picker broker-picker" data-testid="broker-picker">
            <div class="segmented" role="group" aria-label="Broker">
                <span class="segmented-label">"Broker"</span>
                {buttons}
            </div>
            {field_error("broker".into(), error)}
            // The core's line names the system itself ("RabbitMQ: one classic queue…").
            <p class="mechanism" data-testid="broker-description" aria-live="polite">
                {move || broker.get().description()}
            </p>
        </div>
    }
}

#[component]
pub fn RunButtons() -> impl IntoView {
    let store = use_store();
    let state = store.run_state;
    view! {
        <div class="run-buttons" role="group" aria-label="Run">
            <button
                type="button"
                data-testid="run"
                disabled=move || state.get() == RunState::Running
                on:click=move |_| store.run()
                title="Run the simulation (from the start if it has finished)"
            >
                <Icon d="M3 2l10 6-10 6z" />"Run"
            </button>
            <button
                type="button"
                data-testid="pause"
                disabled=move || state.get() != RunState::Running
                on:click=move |_| store.pause()
                title=move || {
                    if store.offloaded.get() {
                        "Cancel the run in the background worker"
                    } else {
                        "Pause the run"
                    }
                }
            >
                <Icon d="M3 2h3.5v12H3zM9.5 2H13v12H9.5z" />
                {move || if store.offloaded.get() { "Cancel" } else { "Pause" }}
            </button>
            <button
                type="button"
                data-testid="step"
                disabled=move || state.get() == RunState::Finished
                on:click=move |_| store.step()
                title="Pause and advance one chart bucket of simulated time"
            >
                <Icon d="M2 2l8 6-8 6zM11 2h3v12h-3z" />"Step"
            </button>
            <button
                type="button"
                data-testid="reset"
                on:click=move |_| store.reset()
                title="Back to time zero, paused"
            >
                <Icon d="M8 2a6 6 0 1 1-5.6 3.9l1.9.7A4 4 0 1 0 8 4v2.5L4 3.2 8 0z" />"Reset"
            </button>
        </div>
    }
}

/// A 16×16 icon, drawn inline so it renders with any font.
#[component]
fn Icon(d: &'static str) -> impl IntoView {
    view! {
        <svg viewBox="0 0 16 16" aria-hidden="true">
            <path d=d></path>
        </svg>
    }
}

#[component]
pub fn SeedField() -> impl IntoView {
    let store = use_store();
    let seed_knob = knob("seed").expect("the core has a seed");
    let error = RwSignal::new(url_error(&store, "seed"));
    let value = move || store.scenario.with(|s| s.seed.to_string());
    view! {
        <div class="seed">
            <label for="seed-input">"Seed"</label>
            <input
                id="seed-input"
                type="text"
                inputmode="numeric"
                data-testid="seed"
                prop:value=value
                title=seed_knob.help
                on:change=move |ev| {
                    let text = event_target_value(&ev);
                    let result = store.set_knob_text(seed_knob, &text);
                    error.set(result.err().map(|e| refused(&store, &ev, e)));
                }
            />
            <button
                type="button"
                data-testid="new-seed"
                on:click=move |_| {
                    let mut s = store.scenario.get_untracked();
                    s.seed = browser::random_seed();
                    error.set(None);
                    store.set_scenario(s);
                }
            >
                "New seed"
            </button>
            {field_error("seed".into(), error)}
        </div>
    }
}

/// Every knob, grouped; `only` limits it to the named keys (the embedded view).
#[component]
pub fn KnobPanel(#[prop(optional)] only: Option<Vec<&'static str>>) -> impl IntoView {
    let wanted = move |k: &Knob| {
        !SPECIAL.contains(&k.key) && only.as_ref().is_none_or(|keys| keys.contains(&k.key))
    };
    Group::ALL
        .iter()
        .filter_map(|&group| {
            let members: Vec<&'static Knob> = knobs()
                .iter()
                .filter(|k| k.group == group && wanted(k))
                .collect();
            if members.is_empty() {
                return None;
            }
            let controls = members
                .into_iter()
                .map(|k| {
                    // A setting the chosen broker lacks has no control: the doors refuse it.
                    let store = use_store();
                    let applies =
                        Memo::new(move |_| store.scenario.with(|s| k.applies_to(s.broker)));
                    move || {
                        applies.get().then(|| match k.kind {
                            Kind::Choice(names) => {
                                view! { <ChoiceControl knob=k names /> }.into_any()
                            }
                            _ => view! { <KnobControl knob=k /> }.into_any(),
                        })
                    }
                })
                .collect_view();
            Some(view! {
                <details class="knob-group" open=OPEN_GROUPS.contains(&group)>
                    <summary>{group.title()}</summary>
                    {controls}
                </details>
            })
        })
        .collect_view()
}

#[component]
fn KnobControl(knob: &'static Knob) -> impl IntoView {
    let store = use_store();
    let scale = SliderScale::for_knob(knob);
    let (min, max, step) = scale.input_range();
    let value = Memo::new(move |_| store.scenario.with(|s| knob.get(s)));
    let error = RwSignal::new(url_error(&store, knob.key));
    let id = format!("knob-{}", knob.key);
    let with_unit = move |v: f64| {
        if knob.unit.is_empty() {
            format_number(v)
        } else {
            format!("{} {}", format_number(v), knob.unit)
        }
    };
    view! {
        <div class="knob" class:has-error=move || error.get().is_some()>
            <label for=id.clone() title=knob.help>
                {knob.label}
            </label>
            <input
                type="range"
                id=id.clone()
                data-testid=id.clone()
                min=min
                max=max
                step=step
                prop:value=move || scale.position(value.get()).to_string()
                aria-valuetext=move || with_unit(value.get())
                title=knob.help
                on:input=move |ev| {
                    let position: f64 = event_target_value(&ev).parse().unwrap_or(0.0);
                    error.set(store.set_knob(knob, scale.value(position)).err().map(|e| e.to_string()));
                }
            />
            <span class="knob-value">
                <input
                    type="number"
                    data-testid=format!("{id}-number")
                    aria-label=format!("{} value", knob.label)
                    min=knob.min
                    max=knob.max
                    step="any"
                    prop:value=move || format_number(value.get())
                    on:change=move |ev| {
                        let text = event_target_value(&ev);
                        let result = store.set_knob_text(knob, &text);
                        error.set(result.err().map(|e| refused(&store, &ev, e)));
                    }
                />
                <span class="unit">{knob.unit}</span>
            </span>
            {field_error(id, error)}
        </div>
    }
}

#[component]
fn ChoiceControl(knob: &'static Knob, names: &'static [&'static str]) -> impl IntoView {
    let store = use_store();
    let current = Memo::new(move |_| store.scenario.with(|s| knob.get_text(s)));
    let error = RwSignal::new(url_error(&store, knob.key));
    let id = format!("knob-{}", knob.key);
    let options = names
        .iter()
        .map(|&name| {
            view! {
                <option value=name selected=move || current.get() == name>
                    {name}
                </option>
            }
        })
        .collect_view();
    view! {
        <div class="knob choice">
            <label for=id.clone() title=knob.help>
                {knob.label}
            </label>
            <select
                id=id.clone()
                data-testid=id.clone()
                title=knob.help
                prop:value=move || current.get()
                on:change=move |ev| {
                    // The options are the knob's own choices, so this can only fail if the
                    // table and the page disagree; say so rather than ignore it.
                    let result = store.set_knob_text(knob, &event_target_value(&ev));
                    error.set(result.err().map(|e| e.to_string()));
                }
            >
                {options}
            </select>
            {field_error(id, error)}
        </div>
    }
}
