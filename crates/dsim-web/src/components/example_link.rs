//! The link from a number to one message it counts: a click opens that message's timeline and
//! scrolls to it. Every counter of something gone wrong offers one (a duplicate, a loss, a
//! replay, a card charged twice, a fenced commit). In a `<delivery-playground>` element, which
//! has no timeline beside its counters, it opens the playground on that message instead.

use leptos::prelude::*;

use crate::browser;
use crate::store::use_store;
use crate::url_state::PageState;

/// `see {what}: message {m} →`, with `data-testid` `testid` and the message in `data-message`.
pub fn example_link(testid: String, message: u32, what: &'static str) -> AnyView {
    let store = use_store();
    let text = format!("see {what}: message {message} →");
    if store.element.is_some() {
        let mut state = PageState::new(store.scenario.get_untracked());
        state.message = Some(message);
        let href = format!("{}?{}", browser::asset_url("index.html"), state.to_query());
        return view! {
            <a
                class="link example-link"
                data-testid=testid
                data-message=message
                href=href
                target="_blank"
                rel="noopener"
            >
                {text}
            </a>
        }
        .into_any();
    }
    view! {
        <button
            type="button"
            class="link example-link"
            data-testid=testid
            data-message=message
            on:click=move |_| {
                store.open_timeline(message);
                browser::scroll_to_testid("timeline");
            }
        >
            {text}
        </button>
    }
    .into_any()
}
