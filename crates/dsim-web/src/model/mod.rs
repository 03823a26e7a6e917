//! Plain Rust over the core's reports and scenarios: what the page shows, worked out and
//! tested natively. No Leptos, no web API (`tests/page_hardening.rs` checks).

pub mod element_types;
pub mod format;
pub mod matrix_table;
pub mod script_review;
pub mod scrubber;
pub mod side_effects_view;
pub mod slider_scale;
pub mod sweep_form;
pub mod url_state;
pub mod view_model;
