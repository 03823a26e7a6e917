//! The Leptos components: each binds the store's signals to what `model` and `draw` work out.

pub mod app;
pub mod chart_view;
pub mod compare;
pub mod controls;
pub mod dashboard;
pub mod element;
pub mod example_link;
pub mod exports;
pub mod lower_panels;
pub mod matrix_view;
pub mod presets;
pub mod script_editor;
pub mod share;
pub mod side_effects;
pub mod store;
pub mod sweep_view;
pub mod time_travel_view;
pub mod timeline;
