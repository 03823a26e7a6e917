//! Draws a `charts::Chart` as SVG, with a legend, a tooltip that follows the pointer and
//! buttons that save the chart as an SVG or a PNG file. The chart is redrawn when its data changes; the
//! guide line and the tooltip live in an overlay of their own so that moving the pointer
//! redraws only them.

use leptos::ev::PointerEvent;
use leptos::prelude::*;

use crate::browser;
use crate::chart_export::standalone_svg;
use crate::charts::{Chart, Frame, HoverPoint};
use crate::plot_svg::{Node, svg};

#[component]
pub fn ChartView(
    chart: Memo<Chart>,
    /// The `data-testid` of the figure.
    testid: &'static str,
    title: &'static str,
    /// Where to draw the time-travel marker, in the chart's coordinates.
    #[prop(optional)]
    marker: Option<Signal<Option<f64>>>,
) -> impl IntoView {
    let hover_x = RwSignal::new(None::<f64>);
    let on_move = move |ev: PointerEvent| {
        if let Some(x) = crate::browser::pointer_x(&ev, chart.with_untracked(|c| c.frame.width)) {
            hover_x.set(Some(x));
        }
    };
    let hovered = move || {
        let x = hover_x.get()?;
        chart.with(|c| c.hover_at(x).cloned())
    };
    let guide = move || hovered().map(|h| chart.with(|c| guide_view(c, &h)));
    let tooltip = move || hovered().map(|h| chart.with(|c| tooltip_box(c, h)));
    let legend = move || {
        chart
            .with(Chart::legend)
            .into_iter()
            .map(|(class, name, dashed)| {
                view! {
                    <li>
                        <span class=format!("swatch {class}") class:dashed=dashed></span>
                        {name}
                    </li>
                }
            })
            .collect_view()
    };
    let file = Callback::new(move |()| chart.with_untracked(|c| standalone_svg(c, title)));
    // A chart keeps its canvas for life; its drawing changes with each report.
    let frame = chart.with_untracked(|c| c.frame);
    let drawing = Memo::new(move |_| chart.with(|c| svg(c, Vec::new(), Vec::new())));
    view! {
        <figure class="chart" data-testid=testid>
            <figcaption>
                <span class="chart-title">{title}</span>
                <ul class="legend">{legend}</ul>
                <ExportButtons file=testid.to_string() testid=testid.to_string() svg=file />
            </figcaption>
            <div
                class="plot"
                on:pointermove=on_move
                on:pointerleave=move |_| hover_x.set(None)
            >
                {plot_view(frame, drawing, title)}
                <svg
                    class="overlay"
                    viewBox=view_box(frame)
                    aria-hidden="true"
                >
                    {guide}
                    {move || {
                        let x = marker?.get()?;
                        let f = chart.with(|c| c.frame);
                        Some(view! {
                            <line
                                class="time-marker"
                                data-testid=format!("{testid}-marker")
                                x1=x
                                x2=x
                                y1=f.y1()
                                y2=f.y0()
                            ></line>
                        })
                    }}
                </svg>
                {tooltip}
            </div>
        </figure>
    }
}

/// "SVG" and "PNG": the chart's standalone file (`svg` writes it), saved as it is or drawn
/// into a PNG (`png_export`). The PNG button records the size of the last PNG it made in
/// `data-png-bytes`, and says why if the browser could not make one.
#[component]
pub fn ExportButtons(
    /// The file name without its extension.
    file: String,
    /// The `data-testid` prefix: the buttons are `{testid}-svg` and `{testid}-png`.
    testid: String,
    svg: Callback<(), String>,
) -> impl IntoView {
    let png_bytes = RwSignal::new(None::<u32>);
    let error = RwSignal::new(None::<String>);
    let svg_file = format!("{file}.svg");
    let png_file = format!("{file}.png");
    let save_svg = move |_| browser::download(&svg_file, "image/svg+xml", &svg.run(()));
    let save_png = move |_| {
        let (name, text) = (png_file.clone(), svg.run(()));
        leptos::task::spawn_local(async move {
            match crate::png_export::download_png(&name, &text).await {
                Ok(bytes) => {
                    error.set(None);
                    png_bytes.set(Some(bytes));
                }
                Err(e) => error.set(Some(format!("PNG: {e}"))),
            }
        });
    };
    view! {
        <span class="chart-save-group">
            <button
                type="button"
                class="chart-save"
                data-testid=format!("{testid}-svg")
                title="Save this chart as an SVG file"
                on:click=save_svg
            >
                "SVG"
            </button>
            <button
                type="button"
                class="chart-save"
                data-testid=format!("{testid}-png")
                data-png-bytes=move || png_bytes.get().map(|b| b.to_string())
                title=move || error.get().unwrap_or_else(|| "Save this chart as a PNG picture".into())
                on:click=save_png
            >
                "PNG"
            </button>
        </span>
    }
}

/// The `<svg>` of a chart drawn on `frame`. Leptos makes the element; `browser::sync_svg`
/// keeps its attributes and content in step with `drawing` (`plot_svg::svg`), setting only
/// what changed since the last draw.
pub fn plot_view(frame: Frame, drawing: Memo<Node>, title: &str) -> impl IntoView + use<> {
    let svg_ref = NodeRef::<leptos::svg::Svg>::new();
    let drawn = StoredValue::new(None::<Node>);
    Effect::new(move |_| {
        let Some(svg) = svg_ref.get() else { return };
        drawing.with(|new| drawn.update_value(|old| browser::redraw_svg(&svg, old, new)));
    });
    view! {
        <svg
            node_ref=svg_ref
            viewBox=view_box(frame)
            role="img"
            aria-label=title.to_string()
        ></svg>
    }
}

/// The `viewBox` of a chart drawn on `frame`: its plot's and its pointer overlay's.
pub fn view_box(frame: Frame) -> String {
    format!("0 0 {} {}", frame.width, frame.height)
}

/// A guide line at the hovered sample, drawn in the overlay's SVG.
pub(crate) fn guide_view(c: &Chart, h: &HoverPoint) -> impl IntoView + use<> {
    let f = c.frame;
    view! { <line class="guide" x1=h.x x2=h.x y1=f.y1() y2=f.y0()></line> }
}

/// The box with the hovered sample's values: HTML, so its type keeps a readable size however
/// small the chart is drawn. It sits beside the guide line, on the side with more room.
pub(crate) fn tooltip_box(c: &Chart, h: HoverPoint) -> impl IntoView + use<> {
    let f = c.frame;
    let percent = h.x / f.width * 100.0;
    // Set as single CSS properties (through the CSSOM), never as a `style` attribute: the
    // page's Content-Security-Policy blocks inline style attributes.
    let (left, right) = if h.x < (f.x0() + f.x1()) / 2.0 {
        (Some(format!("calc({percent:.2}% + 10px)")), None)
    } else {
        (None, Some(format!("calc({:.2}% + 10px)", 100.0 - percent)))
    };
    let rows = h
        .rows
        .into_iter()
        .map(|(class, text)| {
            view! {
                <li>
                    <span class=format!("dot {class}")></span>
                    {text}
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="tooltip" style:left=left style:right=right role="status">
            <p class="tooltip-title">{h.title}</p>
            <ul>{rows}</ul>
        </div>
    }
}
