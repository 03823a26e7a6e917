//! Reports and traces as SVG geometry: the charts, the sweep's charts, the sequence diagram
//! and a chart as a file of its own. Plain Rust, tested natively; no Leptos, no web API.

pub mod chart_export;
pub mod charts;
pub mod plot_svg;
pub mod sequence;
pub mod sweep_charts;
