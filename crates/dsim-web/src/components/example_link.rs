//! The link from a number to one message it counts: a click opens that message's timeline and
//! scrolls to it. Every counter of something gone wrong offers one (a duplicate, a loss, a
//! replay, a card charged twice, a fenced commit).

use leptos::prelude::*;

use crate::browser;
use crate::store::use_store;

/// `see {what}: message {m} →`, with `data-testid` `testid` and the message in `data-message`.
pub fn example_link(testid: String, message: u32, what: &'static str) -> impl IntoView {
    let store = use_store();
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
            {format!("see {what}: message {message} →")}
        </button>
    }
}
