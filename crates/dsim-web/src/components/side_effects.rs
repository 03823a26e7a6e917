//! The card provider's books, the consumer stalls and a RabbitMQ or SQS run's queue, under
//! the counters: shown only when the scenario turns them on (`external-effect`,
//! `consumer-stall`, a queue broker). The words come from `side_effects_view`.

use leptos::prelude::*;

use crate::example_link::example_link;
use crate::format::thousands;
use crate::side_effects_view;
use crate::store::use_store;

#[component]
pub fn SideEffects() -> impl IntoView {
    let store = use_store();
    let external = Memo::new(move |_| store.report.with(side_effects_view::external));
    let zombies = Memo::new(move |_| store.report.with(side_effects_view::zombies));
    let queue = Memo::new(move |_| store.report.with(side_effects_view::queue));
    view! {
        {move || {
            queue
                .get()
                .map(|v| {
                    let depths = v
                        .depths
                        .into_iter()
                        .map(|(id, name, peak, end)| {
                            view! {
                                <tr>
                                    <th scope="row"><code>{name}</code></th>
                                    <td class="num" data-testid=format!("queue-{id}-peak") data-value=peak>
                                        {thousands(peak)}
                                    </td>
                                    <td class="num" data-testid=format!("queue-{id}-end") data-value=end>
                                        {thousands(end)}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view();
                    view! {
                        <section class="ledger queue-panel" class:bad=v.bad data-testid="queue-panel">
                            <h3>{v.title}</h3>
                            <p class="queue-subscription" data-testid="queue-subscription">
                                {v.subscription}
                            </p>
                            <div class="queue-numbers">
                                <table class="queue-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"queue depth"</th>
                                            <th scope="col" class="num">"peak"</th>
                                            <th scope="col" class="num">{v.when}</th>
                                        </tr>
                                    </thead>
                                    <tbody>{depths}</tbody>
                                </table>
                                <dl>
                                    {v
                                        .counters
                                        .into_iter()
                                        .map(|(id, before, code, after, value)| {
                                            view! {
                                                <div>
                                                    <dt>
                                                        {before}
                                                        {(!code.is_empty()).then(|| view! { <code>{code}</code> })}
                                                        {after}
                                                    </dt>
                                                    <dd data-testid=format!("queue-{id}") data-value=value>
                                                        {thousands(value)}
                                                    </dd>
                                                </div>
                                            }
                                        })
                                        .collect_view()}
                                </dl>
                            </div>
                            <p class="external-note">{v.sentence}</p>
                        </section>
                    }
                })
        }}
        {move || {
            external
                .get()
                .map(|v| {
                    view! {
                        <section
                            class="ledger external-ledger"
                            class:bad=v.bad
                            data-testid="external-ledger"
                            data-double-charges=v.double_charges_raw
                        >
                            <h3>"Card provider (an external call, outside the broker)"</h3>
                            <p class="ledger-sentence">{v.sentence}</p>
                            {v.example.map(|m| example_link("external-example".into(), m, "a payment charged twice"))}
                            <dl>
                                <div>
                                    <dt>"calls"</dt>
                                    <dd>{v.calls}</dd>
                                </div>
                                <div>
                                    <dt>"cards charged"</dt>
                                    <dd>{v.charges}</dd>
                                </div>
                                <div>
                                    <dt>"double charges"</dt>
                                    <dd data-testid="external-double-charges">{v.double_charges}</dd>
                                </div>
                                <div>
                                    <dt>"stopped by the idempotency key"</dt>
                                    <dd>{v.deduplicated}</dd>
                                </div>
                            </dl>
                            <p class="external-note">{v.note}</p>
                        </section>
                    }
                })
        }}
        {move || {
            zombies
                .get()
                .map(|v| {
                    view! {
                        <p class="zombie-summary" class:bad=v.bad data-testid="zombie-summary">
                            {v.sentence}
                            " "
                            {v.fenced_example.map(|m| example_link("zombie-fenced-example".into(), m, "a fenced commit"))}
                        </p>
                    }
                })
        }}
    }
}
