//! The card provider's books and the consumer stalls, under the counters: shown only when the
//! scenario turns them on (`external-effect`, `consumer-stall`). The words come from
//! `side_effects_view`.

use leptos::prelude::*;

use crate::side_effects_view;
use crate::store::use_store;

#[component]
pub fn SideEffects() -> impl IntoView {
    let store = use_store();
    let external = Memo::new(move |_| store.report.with(side_effects_view::external));
    let zombies = Memo::new(move |_| store.report.with(side_effects_view::zombies));
    view! {
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
                        </p>
                    }
                })
        }}
    }
}
