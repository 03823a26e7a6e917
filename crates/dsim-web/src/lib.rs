//! The delivery-semantics playground: a client-side Leptos page over `dsim-core`.
//!
//! Plain-Rust modules hold the logic and are tested natively: `view_model` (driving a run a frame
//! at a time, counters, ledger, badge, compare table), `charts` (report → SVG geometry),
//! `chart_export` (a chart → a standalone SVG file), `sequence` (trace → sequence diagram),
//! `url_state` (query ↔ page state), `matrix_table` (the real-world systems table), `script_review` (the fault timeline's text, entry by
//! entry), `sweep_form` (a sweep's settings), `sweep_charts` (a sweep → SVG geometry),
//! `scrubber` (time travel a frame at a time), `slider_scale`, `format` and
//! `side_effects_view` (the card provider's books and consumer stalls). The components bind
//! signals to them: `app`, `controls`, `dashboard`, `chart_view`, `timeline`, `compare`,
//! `sweep_view`, `matrix_view`, `presets`, `share`, `exports`, `script_editor`, `side_effects`,
//! `time_travel_view`, with `store` as the shared state and `browser` as the only code that
//! calls web APIs by hand, besides `offload`, which runs heavy jobs (`worker_jobs`, spoken in
//! `worker_protocol`) in a Web Worker, and `png_export`, which draws a chart's SVG file onto a
//! canvas.

pub mod app;
pub mod browser;
pub mod chart_export;
pub mod chart_view;
pub mod charts;
pub mod compare;
pub mod controls;
pub mod dashboard;
pub mod example_link;
pub mod exports;
pub mod format;
pub mod lower_panels;
pub mod matrix_table;
pub mod matrix_view;
#[cfg(target_arch = "wasm32")]
pub mod offload;
pub mod plot_svg;
pub mod png_export;
pub mod presets;
pub mod script_editor;
pub mod script_review;
pub mod scrubber;
pub mod sequence;
pub mod share;
pub mod side_effects;
pub mod side_effects_view;
pub mod slider_scale;
pub mod store;
pub mod sweep_charts;
pub mod sweep_form;
pub mod sweep_view;
pub mod time_travel_view;
pub mod timeline;
pub mod url_state;
pub mod view_model;
pub mod worker_jobs;
pub mod worker_protocol;

pub use app::{App, Playground};

/// Starts the Web Worker that runs heavy jobs (see `offload`).
#[cfg(target_arch = "wasm32")]
pub fn start_worker() {
    browser::install_panic_hook();
    offload::run_worker();
}

/// Starts the page: a readable message instead of a frozen page on a panic, then the app.
pub fn start() {
    browser::install_panic_hook();
    leptos::mount::mount_to_body(App);
}
