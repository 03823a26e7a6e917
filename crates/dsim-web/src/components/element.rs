//! What a `<delivery-playground>` element shows (`browser::element` mounts it in the element's
//! shadow root): one of the page's views on the scenario its attributes set, with the page's
//! own components, so a number in a book chapter is the number the playground shows.
//! The element has its own store (its own runs and workers) and never touches the address of
//! the page it sits in.

use dsim_core::ScenarioError;
use dsim_core::element::{Element, View};
use leptos::prelude::*;

use crate::app::UrlErrors;
use crate::dashboard::{Counters, GuaranteeBadge, LedgerSummary, LiveCharts, Progress};
use crate::lower_panels::{Group, LowerPanels, PanelsChunk};
use crate::side_effects::SideEffects;
use crate::store::{Store, use_store};
use crate::url_state::{LoadedPage, PageState};
use crate::view_model::RunState;

/// The element's view. `number` is the element's own on its page (from 1). It has no link to
/// the playground: the page that holds it says where that is (the book's preprocessor writes
/// an "Open in the playground" link under each element, which works without script too).
#[component]
pub fn PlaygroundElement(
    element: Element,
    errors: Vec<ScenarioError>,
    number: u32,
) -> impl IntoView {
    let view = element.view;
    let mut state = PageState::new(element.scenario.clone());
    state.compare = view == View::Compare;
    state.matrix = view == View::Matrix;
    let loaded = LoadedPage {
        state,
        errors,
        named: Vec::new(),
        defaulted: false,
    };
    let store = Store::for_element(&loaded, number);
    provide_context(store);
    let title =
        element.scenario.mode.title().to_string() + " on " + element.scenario.broker.title();
    view! {
        <section
            class="element"
            data-testid="element-root"
            data-view=view.key()
            data-run-state=move || store.run_state.get().key()
            aria-label=format!("Delivery semantics playground: {title}")
        >
            <UrlErrors />
            {body(view)}
        </section>
    }
}

fn body(view: View) -> AnyView {
    let status = || {
        view! {
            <div class="embed-status">
                <GuaranteeBadge />
                <Progress />
            </div>
        }
    };
    match view {
        View::Counters => view! {
            {status()}
            <Counters />
            <LedgerSummary />
        }
        .into_any(),
        View::Dashboard => view! {
            {status()}
            <Counters />
            <LedgerSummary />
            <SideEffects />
            <LiveCharts />
        }
        .into_any(),
        View::Compare => {
            view! { <LowerPanels group=Group::Compare chunk=PanelsChunk::load() /> }.into_any()
        }
        View::Matrix => {
            view! { <LowerPanels group=Group::Matrix chunk=PanelsChunk::load() /> }.into_any()
        }
        View::Timeline => {
            show_first_wrong_message(use_store());
            view! {
                {status()}
                <LowerPanels group=Group::Timeline chunk=PanelsChunk::load() />
            }
            .into_any()
        }
    }
}

/// Opens the timeline, once the run has finished, on the message whose story matters: the
/// run's counterexample to its guarantee, else its first duplicate, else its first loss, else
/// message 0.
fn show_first_wrong_message(store: Store) {
    Effect::new(move |_| {
        if store.run_state.get() != RunState::Finished || store.timeline.get_untracked().is_some() {
            return;
        }
        let message = store.report.with_untracked(|r| {
            r.guarantee
                .counterexample
                .as_ref()
                .map(|c| c.message)
                .or(r.example_duplicate)
                .or(r.example_loss)
                .unwrap_or(0)
        });
        store.timeline.set(Some(message));
    });
}
