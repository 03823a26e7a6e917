//! The time-travel controls (a scrubber over the run's simulated time, step back, step
//! forward, back to live) and the in-flight view of the instant the dashboard shows. The
//! logic lives in `scrubber` and the store; this binds it to the page.

use leptos::prelude::*;

use dsim_core::{ConsumerStatus, QueueState};

use crate::format::{millis, thousands};
use crate::store::use_store;

#[component]
pub fn TimeTravelPanel() -> impl IntoView {
    let store = use_store();
    let live_ms = move || {
        store
            .live_report
            .with(|l| l.as_ref().map(|r| r.duration_ms))
            .unwrap_or_else(|| store.report.with(|r| r.duration_ms))
    };
    let live_events = move || {
        store
            .live_report
            .with(|l| l.as_ref().map(|r| r.events))
            .unwrap_or_else(|| store.report.with(|r| r.events))
    };
    let position_ms = move || {
        store
            .travel
            .with(|m| m.as_ref().map(|m| m.t_ms))
            .unwrap_or_else(live_ms)
    };
    let mode = move || {
        store.travel.with(|m| match m {
            None => "live",
            Some(m) if m.busy.is_some() => "replaying",
            Some(_) => "past",
        })
    };
    let shown_events = move || store.report.with(|r| r.events);
    let status = move || {
        store.travel.with(|m| match m {
            None => "live: drag the slider back to see the run at any past instant".to_string(),
            Some(m) => match m.busy {
                Some(f) if store.offloaded.get() || store.worker_run_ms.get().is_some() => {
                    format!(
                        "replaying the background worker's run on this page to {}… {:.0} %",
                        millis(m.t_ms),
                        f * 100.0
                    )
                }
                Some(f) => format!("replaying to {}… {:.0} %", millis(m.t_ms), f * 100.0),
                None => "the past: Live, or the end of the slider, goes back to the live run"
                    .to_string(),
            },
        })
    };
    let time_label = move || {
        format!(
            "{} of {} · event {} of {}",
            millis(position_ms()),
            millis(live_ms()),
            thousands(shown_events()),
            thousands(live_events())
        )
    };
    let travelling = move || store.travel.with(Option::is_some);
    view! {
        <section
            class="panel time-travel"
            class:past=travelling
            data-testid="time-travel"
            data-mode=mode
            data-t-ms=move || format!("{:.3}", position_ms())
            data-live-ms=move || format!("{:.3}", live_ms())
            data-events=move || shown_events().to_string()
            aria-label="Time travel"
        >
            <div class="travel-head">
                <h2>"Time travel"</h2>
                <span class="travel-status" data-testid="travel-status" aria-live="polite">
                    {status}
                </span>
            </div>
            <div class="travel-row">
                <button
                    type="button"
                    data-testid="step-back"
                    disabled=move || shown_events() == 0
                    on:click=move |_| store.step_back()
                    title="Show the run one event earlier"
                >
                    "◀ Step back"
                </button>
                <input
                    type="range"
                    class="scrubber"
                    data-testid="scrubber"
                    min="0"
                    max=move || live_ms().to_string()
                    step="any"
                    prop:value=move || position_ms().to_string()
                    aria-label="Simulated time shown"
                    aria-valuetext=time_label
                    disabled=move || live_ms() <= 0.0
                    on:input=move |ev| {
                        if let Ok(t_ms) = event_target_value(&ev).parse::<f64>() {
                            store.seek(t_ms);
                        }
                    }
                />
                <button
                    type="button"
                    data-testid="step-forward"
                    disabled=move || !travelling()
                    on:click=move |_| store.step_forward()
                    title="Show the run one event later"
                >
                    "Step forward ▶"
                </button>
                <button
                    type="button"
                    data-testid="go-live"
                    disabled=move || !travelling()
                    on:click=move |_| store.go_live()
                    title="Back to the live run"
                >
                    "Live"
                </button>
            </div>
            <p class="travel-time" data-testid="scrubber-time">{time_label}</p>
        </section>
    }
}

/// What is in flight at the instant the dashboard shows: per hop, per partition, per consumer.
#[component]
pub fn InFlightView() -> impl IntoView {
    let store = use_store();
    // Kafka's partitions are logs read from a committed offset: their lag gets a column.
    let kafka = move || {
        store
            .report
            .with(|r| r.scenario.broker == dsim_core::Broker::Kafka)
    };
    let body = move || {
        let kafka = kafka();
        store.in_flight.with(|q| match q {
            Some(q) => in_flight_body(q, kafka).into_any(),
            None => view! {
                <p class="note">
                    "This run is in a background worker, which keeps its queues to itself: move the time slider to see them at any instant."
                </p>
            }
            .into_any(),
        })
    };
    let attr = move |f: fn(&QueueState) -> u64| {
        store
            .in_flight
            .with(|q| q.as_ref().map(|q| f(q).to_string()))
    };
    view! {
        <section
            class="panel in-flight"
            data-testid="in-flight"
            data-messages=move || attr(|q| q.messages_in_flight)
            data-wire=move || {
                attr(|q| {
                    let w = &q.wire;
                    (w.publish + w.publish_ack + w.fetch + w.delivery + w.ack + w.commit) as u64
                })
            }
            data-log=move || {
                attr(|q| {
                    q.partitions
                        .iter()
                        .map(|p| (p.replicating + p.ready + p.delivered) as u64)
                        .sum()
                })
            }
        >
            <h2>
                "In flight "
                <small>{move || store.in_flight.with(|q| q.as_ref().map(|q| format!("at {}", millis(q.now_ms))))}</small>
            </h2>
            {body}
        </section>
    }
}

fn in_flight_body(q: &QueueState, kafka: bool) -> impl IntoView + use<> {
    let w = &q.wire;
    let hops = [
        ("publish", "producer → broker", w.publish),
        ("publish acks", "broker → producer", w.publish_ack),
        ("fetches", "consumer ↔ broker", w.fetch),
        ("deliveries", "broker → consumer", w.delivery),
        ("acks", "consumer → broker", w.ack),
        ("commits", "consumer ↔ coordinator", w.commit),
    ]
    .into_iter()
    .map(|(name, path, n)| {
        view! {
            <li class:zero=n == 0 title=path>
                <span class="hop-count">{thousands(n as u64)}</span>
                <span class="hop-name">{name}</span>
            </li>
        }
    })
    .collect_view();
    let summary = format!(
        "{} unresolved · {} awaiting a publish ack · {} outbox rows · {} IDs in the dedup store · broker {}",
        thousands(q.messages_in_flight),
        thousands(q.awaiting_publish_ack),
        thousands(q.outbox_rows),
        thousands(q.dedup_ids),
        if q.broker_down { "down" } else { "up" }
    );
    let partitions = q
        .partitions
        .iter()
        .map(|p| {
            view! {
                <tr>
                    <td>{p.partition}</td>
                    <td>{p.owner.map_or("–".to_string(), |c| format!("consumer {c}"))}</td>
                    <td class:zero=p.replicating == 0>{p.replicating}</td>
                    <td class:zero=p.ready == 0>{p.ready}</td>
                    <td class:zero=p.delivered == 0>{p.delivered}</td>
                    {kafka.then(|| {
                        let lag = p.end.saturating_sub(p.committed);
                        view! {
                            <td class:zero=lag == 0 data-testid="partition-lag">{thousands(lag)}</td>
                        }
                    })}
                </tr>
            }
        })
        .collect_view();
    let consumers = q
        .consumers
        .iter()
        .map(|c| {
            let status = match c.status {
                ConsumerStatus::Crashed => "crashed",
                ConsumerStatus::Processing => "processing",
                ConsumerStatus::Committing => "committing",
                ConsumerStatus::Fetching => "fetching",
                ConsumerStatus::Idle => "idle",
            };
            let mut detail = format!("{} buffered", c.buffered);
            if c.uncommitted > 0 {
                detail.push_str(&format!(" · {} uncommitted", c.uncommitted));
            }
            if !c.member {
                detail.push_str(" · out of the group");
            }
            view! {
                <li class=format!("consumer-chip {status}") data-status=status>
                    <strong>{format!("consumer {}", c.consumer)}</strong>
                    " "
                    {status}
                    <span class="consumer-detail">{detail}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <ul class="hops" aria-label="Packets on the wire per hop">{hops}</ul>
        <p class="in-flight-summary">{summary}</p>
        <div class="in-flight-grid">
            <div class="partition-table">
                <table>
                    <thead>
                        <tr>
                            <th>"partition"</th>
                            <th>"owner"</th>
                            <th>"replicating"</th>
                            <th>"ready"</th>
                            <th>"delivered"</th>
                            {kafka.then(|| view! {
                                <th title="Kafka's consumer lag: the log end offset minus the group's committed offset, the records a new owner would read from the committed offset on">
                                    "lag"
                                </th>
                            })}
                        </tr>
                    </thead>
                    <tbody>{partitions}</tbody>
                </table>
            </div>
            <ul class="consumers" aria-label="Consumers">{consumers}</ul>
        </div>
    }
}
