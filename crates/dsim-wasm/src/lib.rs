//! The delivery-semantics simulator as a JavaScript module, for documentation authors who want
//! the numbers (or their own animation) in a page without the playground app.
//!
//! Everything here is a thin wrapper: JavaScript values are checked and turned into a
//! `dsim_core::Scenario` by the core's own validation (`scenario_input`), the core runs, and its
//! serde types come back as plain JS objects whose fields and values are those of
//! `dsim run --json` (`convert`). The TypeScript declarations of those objects are derived from
//! the same Rust types (`typescript`). No input from JavaScript can panic: every bad value is
//! reported as a thrown `Error` that names the field, and the module keeps working.

mod api;
mod convert;
mod exports;
mod scenario_input;
mod simulation;
mod sweep;
mod typescript;

pub use api::{brokers, compare, defaults, knobs, matrix, modes, presets, simulate, trace};
pub use exports::{history_json_lines, metrics_csv, trace_mermaid};
pub use simulation::Simulation;
pub use sweep::{Sweep, sweep};

/// Routes a panic, should one ever happen, to the browser console with its message instead of
/// a bare "unreachable executed". Called at every entry point because a library has no single
/// start: `set_once` makes the repeats free.
fn install_panic_hook() {
    console_error_panic_hook::set_once();
}
