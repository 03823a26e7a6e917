//! Draws a `charts::Chart` as SVG, with a legend, a tooltip that follows the pointer and
//! buttons that save the chart as an SVG or a PNG file. The chart is redrawn when its data changes; the
//! guide line and the tooltip live in an overlay of their own so that moving the pointer
//! redraws only them.

use leptos::ev::PointerEvent;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::browser;
use crate::chart_export::standalone_svg;
use crate::charts::{self, Chart, HoverPoint};

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
        if let Some(x) = pointer_x(&ev, chart.with_untracked(|c| c.frame.width)) {
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
    let svg = Callback::new(move |()| chart.with_untracked(|c| standalone_svg(c, title)));
    view! {
        <figure class="chart" data-testid=testid>
            <figcaption>
                <span class="chart-title">{title}</span>
                <ul class="legend">{legend}</ul>
                <ExportButtons file=testid.to_string() testid=testid.to_string() svg=svg />
            </figcaption>
            <div
                class="plot"
                on:pointermove=on_move
                on:pointerleave=move |_| hover_x.set(None)
            >
                {move || chart.with(|c| chart_svg(c, title))}
                <svg
                    class="overlay"
                    viewBox=move || chart.with(|c| format!("0 0 {} {}", c.frame.width, c.frame.height))
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

/// The chart itself; also used, smaller, by the compare view.
pub fn chart_svg(c: &Chart, title: &str) -> impl IntoView + use<> {
    chart_svg_layers(c, title, ().into_any(), ().into_any())
}

/// The chart with extra SVG drawn under its lines (`below`) and over them (`above`): a
/// sweep's bands and marks.
/// The layers are type-erased so that this, the largest drawing function, is compiled once.
pub fn chart_svg_layers(
    c: &Chart,
    title: &str,
    below: AnyView,
    above: AnyView,
) -> impl IntoView + use<> {
    let f = c.frame;
    let grid = c
        .y_axis
        .ticks
        .iter()
        .map(|t| {
            view! {
                <line class="grid" x1=f.x0() x2=f.x1() y1=t.at y2=t.at></line>
                <text class="tick" x=f.x0() - 6.0 y=t.at + 4.0 text-anchor="end">
                    {t.label.clone()}
                </text>
            }
        })
        .collect_view();
    let x_ticks = c
        .x_axis
        .ticks
        .iter()
        .map(|t| {
            view! {
                <line class="axis" x1=t.at x2=t.at y1=f.y0() y2=f.y0() + 4.0></line>
                <text class="tick" x=t.at y=f.y0() + 16.0 text-anchor="middle">
                    {t.label.clone()}
                </text>
            }
        })
        .collect_view();
    let bars = c
        .bars
        .iter()
        .map(|b| {
            view! {
                <rect class="bar s-hist" x=b.x y=b.y width=b.width height=b.height.max(0.0)></rect>
            }
        })
        .collect_view();
    let lines = c
        .lines
        .iter()
        .map(|l| {
            view! {
                <path
                    class=format!("line {}", l.class)
                    class:dashed=l.dashed
                    data-series=l.name
                    d=l.d.clone()
                ></path>
            }
        })
        .collect_view();
    // Scripted faults under the data: a band or a line, with its name along the top (the
    // small multiples keep only the shapes, whose tooltips still name them).
    let labelled = f.width >= charts::WIDTH;
    let faults = c
        .faults
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let shape = if m.width > 0.0 {
                view! {
                    <rect
                        class="fault-band"
                        data-testid="fault-band"
                        x=m.x
                        y=f.y1()
                        width=m.width
                        height=f.y0() - f.y1()
                    >
                        <title>{m.title.clone()}</title>
                    </rect>
                }
                .into_any()
            } else {
                view! {
                    <line class="fault-line" data-testid="fault-line" x1=m.x x2=m.x y1=f.y1() y2=f.y0()>
                        <title>{m.title.clone()}</title>
                    </line>
                }
                .into_any()
            };
            // Staggered, so that faults close in time do not print over each other.
            let label = labelled.then(|| {
                view! {
                    <text class="fault-label" x=m.x + 3.0 y=f.y1() + 10.0 + (i % 3) as f64 * 11.0>
                        {m.label.clone()}
                    </text>
                }
            });
            view! { {shape} {label} }
        })
        .collect_view();
    let empty = c.empty.then(|| {
        view! {
            <text class="empty" x=(f.x0() + f.x1()) / 2.0 y=(f.y0() + f.y1()) / 2.0 text-anchor="middle">
                "nothing applied yet"
            </text>
        }
    });
    let y_title_x = 12.0;
    let y_title_y = (f.y0() + f.y1()) / 2.0;
    // Small multiples leave their axis titles to the column heads above them.
    let titles = (f.width >= charts::WIDTH).then(|| {
        view! {
            <text class="axis-title" x=(f.x0() + f.x1()) / 2.0 y=f.height - 4.0 text-anchor="middle">
                {c.x_axis.title.clone()}
            </text>
            <text
                class="axis-title"
                x=y_title_x
                y=y_title_y
                text-anchor="middle"
                transform=format!("rotate(-90 {y_title_x} {y_title_y})")
            >
                {c.y_axis.title.clone()}
            </text>
        }
    });
    view! {
        <svg
            viewBox=format!("0 0 {} {}", f.width, f.height)
            role="img"
            aria-label=title.to_string()
            data-points=c.hover.len()
            data-y-max=c.y_axis.ticks.last().map(|t| t.label.clone()).unwrap_or_default()
        >
            {grid}
            <line class="axis" x1=f.x0() x2=f.x1() y1=f.y0() y2=f.y0()></line>
            <line class="axis" x1=f.x0() x2=f.x0() y1=f.y1() y2=f.y0()></line>
            {x_ticks}
            {faults}
            {bars}
            {below}
            {lines}
            {above}
            {empty}
            {titles}
        </svg>
    }
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

/// Where the pointer is over a chart drawn `width` units wide, in the chart's x coordinates.
pub fn pointer_x(ev: &PointerEvent, width: f64) -> Option<f64> {
    let target = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())?;
    let rect = target.get_bounding_client_rect();
    (rect.width() > 0.0).then(|| (ev.client_x() as f64 - rect.left()) / rect.width() * width)
}
