//! The page: the full playground, or the compact view for iframes (`?embed=1`).

use leptos::prelude::*;

use crate::browser;
use crate::controls::{BrokerPicker, KnobPanel, ModePicker, RunButtons, SeedField};
use crate::dashboard::{Counters, GuaranteeBadge, LedgerSummary, LiveCharts, Progress};
use crate::lower_panels::{Group, LowerPanels, PanelsChunk};
use crate::presets::Presets;
use crate::share::ShareButtons;
use crate::side_effects::SideEffects;
use crate::store::{Store, use_store};
use crate::url_state::{self, LoadedPage};

/// The page as the address bar describes it.
#[component]
pub fn App() -> impl IntoView {
    view! { <Playground loaded=url_state::load(&browser::query()) /> }
}

/// The page for a given URL; tests mount this with a query of their own.
#[component]
pub fn Playground(loaded: LoadedPage) -> impl IntoView {
    let store = Store::new(&loaded);
    provide_context(store);
    if store.embed {
        view! { <EmbedView /> }.into_any()
    } else {
        view! { <FullPage /> }.into_any()
    }
}

#[component]
fn FullPage() -> impl IntoView {
    let store = use_store();
    let panels = PanelsChunk::load();
    view! {
        <div
            class="page"
            data-testid="app-root"
            data-run-state=move || store.run_state.get().key()
            data-input-count=move || store.input_latency.get().0.to_string()
            data-input-latency-ms=move || format!("{:.2}", store.input_latency.get().1)
        >
            <header class="masthead">
                <div>
                    <h1>"Delivery semantics playground"</h1>
                    <p class="tagline">
                        "Watch at-most-once, at-least-once and exactly-once delivery play out under lost messages, crashes and retries: every number is measured in a deterministic simulation."
                    </p>
                    // The book beside the playground in dist/ (book/, cargo xtask's hook).
                    <p class="book-link">
                        <a href="book/index.html" data-testid="book-link">
                            "Read the book, Delivery semantics, measured: every number in it runs live →"
                        </a>
                    </p>
                </div>
                <ShareButtons />
            </header>
            <UrlErrors />
            <div class="layout">
                <aside class="sidebar" aria-label="Scenario">
                    <Later>
                        <Presets />
                    </Later>
                    <section class="panel run-panel">
                        <h2>"Run"</h2>
                        <RunButtons />
                        <SeedField />
                    </section>
                    <section class="panel knobs" aria-label="Faults and load">
                        <h2>"Faults and load"</h2>
                        <Later>
                            <KnobPanel />
                        </Later>
                    </section>
                    <section class="panel script-panel" aria-label="Fault timeline">
                        <h2>"Fault timeline"</h2>
                        <LowerPanels group=Group::FaultScript chunk=panels />
                    </section>
                </aside>
                <main class="results">
                    <Later>
                        <BrokerPicker />
                        <ModePicker />
                        <Progress />
                    </Later>
                    <LowerPanels group=Group::TimeTravel chunk=panels />
                    <Later>
                        <div class="summary">
                            <GuaranteeBadge />
                            <LedgerSummary />
                        </div>
                    </Later>
                    <Later>
                        <Counters />
                    </Later>
                    <Later>
                        <SideEffects />
                        <LiveCharts />
                    </Later>
                    <LowerPanels group=Group::Results chunk=panels />
                </main>
            </div>
            <footer class="footer">
                <p>
                    "Runs entirely in your browser. Same seed, same run: the address bar holds every setting, so a link reproduces exactly this run."
                </p>
            </footer>
        </div>
    }
}

/// Its children, built a task after the rest of the page when the page is built behind the
/// prerendered copy (`Store::behind_copy`), at once otherwise. Building the whole page in one
/// task blocked a phone's main thread for a third of a second (docs/performance-notes.md);
/// behind the copy no one sees the parts arrive, and the copy stays until all have
/// (`browser::prerendered`, which waits for no `data-later` to be left).
#[component]
fn Later(children: ChildrenFn) -> impl IntoView {
    if !use_store().behind_copy {
        return children().into_any();
    }
    let built = RwSignal::new(false);
    set_timeout(
        move || {
            let _ = built.try_set(true);
        },
        Default::default(),
    );
    (move || {
        if built.get() {
            children().into_any()
        } else {
            view! { <div data-later="" /> }.into_any()
        }
    })
    .into_any()
}

/// Charts and the controls the URL names, with no page chrome; it tells the embedding page its
/// height so the iframe can fit it.
#[component]
fn EmbedView() -> impl IntoView {
    let store = use_store();
    let root = NodeRef::<leptos::html::Main>::new();
    let title = move || {
        store.scenario.with(|s| {
            format!(
                "Delivery semantics playground: {} on {}",
                s.mode.title(),
                s.broker.title()
            )
        })
    };
    root.on_load(|element| browser::observe_height(&element, browser::post_height));
    let named: Vec<&'static str> = store.named.get_value();
    let shows_mode = named.contains(&"mode");
    let shows_broker = named.contains(&"broker");
    let knob_keys: Vec<&'static str> = named
        .into_iter()
        .filter(|k| *k != "mode" && *k != "seed" && *k != "broker")
        .collect();
    let has_knobs = !knob_keys.is_empty();
    let open_link = move || {
        let mut state = store.page_state();
        state.embed = false;
        browser::page_url(&state.to_query())
    };
    view! {
        <main class="embed" data-testid="embed-root" node_ref=root data-run-state=move || store.run_state.get().key()>
            // A screen reader's user lands in a document of its own (the iframe): one heading
            // says what it is; the eye has the charts and the footer link for that.
            <h1 class="visually-hidden">{title}</h1>
            <UrlErrors />
            {shows_broker.then(|| view! { <BrokerPicker /> })}
            {shows_mode.then(|| view! { <ModePicker /> })}
            {has_knobs.then(|| view! { <div class="embed-knobs"><KnobPanel only=knob_keys /></div> })}
            <div class="embed-status">
                <GuaranteeBadge />
                <Progress />
            </div>
            <Counters />
            <LedgerSummary />
            <SideEffects />
            <LiveCharts />
            <p class="embed-footer">
                <a href=open_link target="_blank" rel="noopener">
                    "Open in the delivery semantics playground ↗"
                </a>
            </p>
        </main>
    }
}

/// The bad keys of the URL (or of an element's attributes), each named; the rest of the
/// scenario loaded.
#[component]
pub fn UrlErrors() -> impl IntoView {
    let store = use_store();
    move || {
        let errors = store.url_errors.get();
        (!errors.is_empty()).then(|| {
            let items = errors
                .iter()
                .map(|e| view! { <li><code>{e.key.clone()}</code>" "{e.message.clone()}</li> })
                .collect_view();
            let what = if store.element.is_some() {
                "Some attributes of this element could not be used and were skipped; the rest of the scenario loaded:"
            } else {
                "Some settings in the address could not be used and were skipped; the rest of the scenario loaded:"
            };
            view! {
                <div class="url-error" role="alert" data-testid="url-error">
                    <p>{what}</p>
                    <ul>{items}</ul>
                    <button type="button" class="link" on:click=move |_| store.url_errors.set(Vec::new())>
                        "Dismiss"
                    </button>
                </div>
            }
        })
    }
}
