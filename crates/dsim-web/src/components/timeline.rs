//! The message timeline: pick a message (or the counterexample) and see its life as a sequence
//! diagram, and copy it as Mermaid for a document. The trace comes from
//! `dsim_core::trace_message`, which replays the same run with that one message traced;
//! `sequence::layout` places it. For a heavy run (`worker_protocol::offloads`) that replay can
//! take as long as the run, so it runs in a Web Worker and the timeline says it is tracing.

use dsim_core::export::mermaid_sequence;
use dsim_core::{Scenario, TraceEvent, trace_message};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser;
use crate::sequence::{self, Diagram, Row, Shape};
use crate::store::use_store;
use crate::worker_protocol::offloads;

/// A trace computed away from the render path: the message and its events.
type Traced = (u32, Vec<TraceEvent>);

#[component]
pub fn Timeline() -> impl IntoView {
    let store = use_store();
    let messages = Memo::new(move |_| store.scenario.with(|s| s.messages));
    let heavy = Memo::new(move |_| store.scenario.with(offloads));
    // Heavy runs: the worker's answer for the message and scenario now shown, or None while
    // it is tracing.
    let background = RwSignal::new(None::<Traced>);
    Effect::new(move |_| {
        let message = store.timeline.get();
        let scenario = store.scenario.get();
        background.set(None);
        match message {
            Some(m) if offloads(&scenario) => {
                trace_in_background(store.owner(), scenario, m, background)
            }
            _ => stop_background_trace(store.owner()),
        }
    });
    let trace = Memo::new(move |_| {
        let m = store.timeline.get()?;
        if heavy.get() {
            background.get().filter(|(shown, _)| *shown == m)
        } else {
            let trace: Vec<TraceEvent> = store.scenario.with(|s| trace_message(s, m));
            Some((m, trace))
        }
    });
    let tracing = move || store.timeline.get().is_some() && trace.with(Option::is_none);
    let counterexample = Memo::new(move |_| {
        store.report.with(|r| {
            r.guarantee
                .counterexample
                .as_ref()
                .map(|c| (c.message, c.explanation.clone()))
        })
    });
    let typed = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let show_typed = move || {
        let text = typed.get_untracked();
        match text.trim().parse::<u32>() {
            Ok(m) if m < messages.get_untracked() => {
                error.set(None);
                store.open_timeline(m);
            }
            _ => error.set(Some(format!(
                "message: must be a number from 0 to {}",
                messages.get_untracked().saturating_sub(1)
            ))),
        }
    };
    let counterexample_button = move || {
        counterexample.get().map(|(m, _)| {
            view! {
                <button type="button" data-testid="timeline-counterexample" on:click=move |_| store.open_timeline(m)>
                    {format!("Show the counterexample (message {m})")}
                </button>
            }
        })
    };
    let explanation = move || {
        let (shown, _) = trace.get()?;
        let (m, why) = counterexample.get()?;
        (shown == m && !why.is_empty()).then(|| view! { <p class="why">{why}</p> })
    };
    // What "Copy as Mermaid" did: a message, and the text itself when the clipboard refused.
    let copied = RwSignal::new(None::<(String, Option<String>)>);
    Effect::new(move |_| {
        // A new message makes the last copy's feedback stale.
        trace.track();
        copied.set(None);
    });
    let copy_mermaid = move |_| {
        let Some((m, events)) = trace.get_untracked() else {
            return;
        };
        let text = mermaid_sequence(m, &events);
        spawn_local(async move {
            match browser::copy_text(&text).await {
                Ok(()) => copied.set(Some((
                    format!("Message {m}'s diagram copied as Mermaid"),
                    None,
                ))),
                Err(why) => copied.set(Some((
                    format!("Could not copy ({why}); copy it from here:"),
                    Some(text),
                ))),
            }
        });
    };
    let mermaid_button = move || {
        trace.with(|t| t.as_ref().is_some_and(|(_, e)| !e.is_empty())).then(|| {
            view! {
                <div class="timeline-export">
                    <button type="button" data-testid="copy-mermaid" on:click=copy_mermaid>
                        "Copy as Mermaid"
                    </button>
                    {move || {
                        copied.get().map(|(message, text)| {
                            view! {
                                <p class="share-feedback" role="status" data-testid="mermaid-feedback">
                                    {message}
                                    {text.map(|t| view! { <textarea readonly rows="6" data-testid="mermaid-text">{t}</textarea> })}
                                </p>
                            }
                        })
                    }}
                </div>
            }
        })
    };
    let diagram = move || match trace.get() {
        None if tracing() => view! {
            <p class="hint" role="status" data-testid="timeline-tracing">
                {format!(
                    "Replaying the run to trace message {} in the background…",
                    store.timeline.get().unwrap_or_default(),
                )}
            </p>
        }
        .into_any(),
        None => view! {
            <p class="hint">
                "Pick a message to see its life across the producer, broker, consumer and ledger."
            </p>
        }
        .into_any(),
        Some((m, events)) if events.is_empty() => {
            view! { <p class="hint">{format!("Message {m} was never produced in this run.")}</p> }
                .into_any()
        }
        Some((m, events)) => diagram_view(m, &sequence::layout(&events)).into_any(),
    };
    view! {
        <section class="timeline panel" data-testid="timeline" id="timeline">
            <h2>"Message timeline"</h2>
            <form
                class="timeline-picker"
                on:submit=move |ev| {
                    ev.prevent_default();
                    show_typed();
                }
            >
                <label for="timeline-message">"Message"</label>
                <input
                    id="timeline-message"
                    type="number"
                    min="0"
                    max=move || messages.get().saturating_sub(1)
                    step="1"
                    data-testid="timeline-message-input"
                    prop:value=move || store.timeline.get().map(|m| m.to_string()).unwrap_or_default()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                    on:change=move |ev| {
                        typed.set(event_target_value(&ev));
                        show_typed();
                    }
                />
                <button type="submit">"Show"</button>
                {counterexample_button}
            </form>
            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
            {explanation}
            {mermaid_button}
            {diagram}
        </section>
    }
}

/// Traces `message` of a heavy run in a worker; the page replays it itself if no worker can
/// run. A newer request replaces (and stops) an older one.
fn trace_in_background(
    owner: u32,
    scenario: Scenario,
    message: u32,
    into: RwSignal<Option<Traced>>,
) {
    #[cfg(target_arch = "wasm32")]
    {
        use crate::offload::{Purpose, start};
        use crate::worker_protocol::{Job, JobKind, ReplyBody};
        let job = Job {
            id: message,
            kind: JobKind::Trace {
                scenario: scenario.clone(),
                message,
            },
        };
        start(
            owner,
            Purpose::Trace,
            job,
            move |reply| {
                if let ReplyBody::TraceDone { message, trace } = reply.body {
                    let _ = into.try_set(Some((message, trace)));
                }
            },
            move || {
                let _ = into.try_set(Some((message, trace_message(&scenario, message))));
            },
        );
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = owner;
        into.set(Some((message, trace_message(&scenario, message))));
    }
}

fn stop_background_trace(owner: u32) {
    #[cfg(target_arch = "wasm32")]
    crate::offload::cancel(owner, crate::offload::Purpose::Trace);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = owner;
}

fn diagram_view(message: u32, d: &Diagram) -> impl IntoView + use<> {
    let lanes = d
        .lanes
        .iter()
        .map(|l| {
            view! {
                <text class="lane-name" x=l.x y="18" text-anchor="middle">{l.name}</text>
                <line class="lane" x1=l.x x2=l.x y1=sequence::HEADER - 8.0 y2=d.height></line>
            }
        })
        .collect_view();
    let rows = d.rows.iter().map(row_view).collect_view();
    // A phone shows the same events as a list, one line each, instead of lanes that would not
    // fit its width (CSS picks one).
    let items = d
        .rows
        .iter()
        .map(|r| {
            view! {
                <li class=format!("event {}", r.class)>
                    <span class="event-time">{r.time.clone()}</span>
                    " "
                    <span class="event-who">{r.who.clone()}</span>
                    " "
                    <strong class="event-label">{r.label.clone()}</strong>
                    <span class="event-note">
                        {(!r.identity.is_empty()).then(|| format!("{} — ", r.identity))}
                        {r.note.clone()}
                    </span>
                </li>
            }
        })
        .collect_view();
    view! {
        <p class="hint sequence-legend" data-testid="timeline-legend">
            "attempt N: the producer's Nth send of the payment, or on the consumer's side its Nth delivery. copy: 0 is the first record in the log and its first network copy; a retry the broker stored again, or a copy the network duplicated, counts up."
        </p>
        <ol class="sequence-list" data-testid="timeline-list" data-message=message>{items}</ol>
        <div class="timeline-scroll">
            <svg
                class="sequence"
                viewBox=format!("0 0 {} {}", d.width, d.height)
                role="img"
                aria-label=format!("Sequence diagram of message {message}")
                data-message=message
                data-events=d.rows.len()
            >
                {lanes}
                {rows}
            </svg>
        </div>
    }
}

fn row_view(r: &Row) -> impl IntoView + use<> {
    let y = r.y + 16.0;
    let (shape, label_x, anchor) = match r.shape {
        Shape::Arrow { from, to, lost } => {
            let dir = (to - from).signum();
            let head = if lost {
                format!(
                    "M{} {} l8 8 M{} {} l-8 8",
                    to - 4.0,
                    y - 4.0,
                    to + 4.0,
                    y - 4.0
                )
            } else {
                format!("M{to} {y} l{} -4 l0 8 z", -8.0 * dir)
            };
            (
                view! {
                    <line class="arrow" class:lost=lost x1=from x2=to y1=y y2=y></line>
                    <path class="head" class:cross=lost d=head></path>
                }
                .into_any(),
                (from + to) / 2.0,
                "middle",
            )
        }
        Shape::Mark { x } => (
            view! { <circle class="mark" cx=x cy=y r="5"></circle> }.into_any(),
            x + 10.0,
            "start",
        ),
    };
    // The identity leads the note line, where there is room for it whatever the lanes.
    let identity = (!r.identity.is_empty()).then(|| {
        view! { <tspan class="event-id">{format!("{} — ", r.identity)}</tspan> }
    });
    view! {
        <g
            class=format!("event {}", r.class)
            data-kind=r.label.clone()
            data-attempt=r.attempt
            data-copy=r.copy
        >
            <text class="event-time" x="6" y=y + 4.0>{r.time.clone()}</text>
            {shape}
            <text class="event-label" x=label_x y=y - 6.0 text-anchor=anchor>{r.label.clone()}</text>
            <text class="event-note" x="90" y=y + 20.0>{identity}{r.note.clone()}</text>
        </g>
    }
}
