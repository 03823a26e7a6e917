//! The delivery-semantics playground: a client-side Leptos page over `dsim-core`, in five
//! folders that say what kind of code each file is:
//!
//! - `model/`: plain Rust over the core's reports and scenarios, tested natively, with no
//!   Leptos and no web API (driving a run a frame at a time, counters, ledger, badge, compare
//!   table, URL state, the sweep's form, time travel's scrubber, formats).
//! - `draw/`: plain Rust too: a report or a trace as SVG geometry (charts, sequence
//!   diagrams, chart files).
//! - `components/`: the Leptos components that bind signals to them, with `store` as the
//!   shared state.
//! - `worker/`: heavy jobs in a Web Worker (`offload`), the jobs themselves (`worker_jobs`) and
//!   what the page and the worker say (`worker_protocol`).
//! - `browser/`: the few places the page calls web APIs by hand, and the PNG export.
//!
//! The page-hardening tests hold `model/` and `draw/` to that: no Leptos, no web API.

pub mod browser;
pub mod components;
pub mod draw;
pub mod model;
pub mod worker;

// Every module keeps its short path (`crate::view_model`, `dsim_web::url_state`): the folders
// say what kind of code a file is, the paths stay what the tests and the docs name.
pub use browser::png_export;
pub use components::{
    app, chart_view, compare, controls, dashboard, example_link, exports, lower_panels,
    matrix_view, presets, script_editor, share, side_effects, store, sweep_view, time_travel_view,
    timeline,
};
pub use draw::{chart_export, charts, plot_svg, sequence, sweep_charts};
pub use model::{
    format, matrix_table, script_review, scrubber, side_effects_view, slider_scale, sweep_form,
    url_state, view_model,
};
#[cfg(target_arch = "wasm32")]
pub use worker::offload;
pub use worker::{worker_jobs, worker_protocol};

pub use app::{App, Playground};

/// Starts the Web Worker that runs heavy jobs (see `offload`).
#[cfg(target_arch = "wasm32")]
pub fn start_worker() {
    browser::install_worker_panic_hook();
    offload::run_worker();
}

/// Starts the page: a readable message instead of a frozen page on a panic, then the app,
/// which takes over from the prerendered first paint when `index.html` has one.
pub fn start() {
    browser::install_panic_hook();
    // The same module serves `<delivery-playground>` elements on other pages (a book's
    // chapters: `browser::element`); there it mounts only what they ask for.
    if !browser::is_playground_page() {
        return;
    }
    let (parent, shell) = browser::prerendered::mount_point();
    match shell {
        None => leptos::mount::mount_to(parent, App).forget(),
        Some(shell) => {
            let host = parent.clone();
            browser::prerendered::run_first(parent, shell, move || {
                leptos::mount::mount_to(host, App).forget()
            });
        }
    }
}
