//! A chart as a standalone SVG file: the same elements the page draws (`plot_svg`), with its title,
//! legend and colours written into the file, so it looks the same in a slide or a document as
//! on the page (where the stylesheet colours it). Pure, so it is tested natively; `png_export`
//! turns the same file into a PNG in the browser.

use crate::charts::Chart;
use crate::plot_svg::{Node, plot};
use crate::sweep_charts::SweepChart;

/// Room above the plot for the title and one row of legend.
const HEADER: f64 = 40.0;
/// Each further row of legend.
const LEGEND_ROW: f64 = 16.0;

/// The page's light palette, for the exported file (the page's own CSS variables do not travel
/// with it). Element-qualified selectors keep lines unfilled whatever their series colour.
const STYLE: &str = "\
text{fill:#5b6474;font-size:11px;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif}\
.title{fill:#1b2130;font-size:13px;font-weight:600}\
.grid{stroke:#dde2ea;stroke-width:1}\
.axis{stroke:#5b6474;stroke-width:1}\
.bar{stroke:none;opacity:.85}\
.s-applied{stroke:#2857b8;fill:#2857b8}\
.s-offered{stroke:#8b93a1;fill:#8b93a1}\
.s-p50{stroke:#158f80;fill:#158f80}\
.s-p99{stroke:#c2410c;fill:#c2410c}\
.s-dup{stroke:#d97706;fill:#d97706}\
.s-lost{stroke:#c0262d;fill:#c0262d}\
.s-hist{stroke:#6d5bd0;fill:#6d5bd0}\
.s-part0,.s-ready{stroke:#2857b8;fill:#2857b8}\
.s-part1{stroke:#0f7d70;fill:#0f7d70}\
.s-part2,.s-unacked{stroke:#c2410c;fill:#c2410c}\
.s-part3{stroke:#7c3aed;fill:#7c3aed}\
.s-part4{stroke:#a16207;fill:#a16207}\
.s-part5{stroke:#be185d;fill:#be185d}\
.s-part6{stroke:#4d7c0f;fill:#4d7c0f}\
.s-part7{stroke:#475569;fill:#475569}\
.fault-band{fill:#7c3aed;fill-opacity:.12;stroke:none}\
.fault-line{stroke:#7c3aed;stroke-width:1.5;stroke-dasharray:3 3}\
.fault-label{fill:#6d28d9;font-size:10px}\
path.line,line.swatch{fill:none;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}\
.dashed{stroke-dasharray:5 4;stroke-width:1.5}\
.m-at-most-once{stroke:#d55e00;fill:#d55e00}\
.m-at-least-once{stroke:#0072b2;fill:#0072b2}\
.m-idempotent-consumer{stroke:#009e73;fill:#009e73}\
.m-exactly-once{stroke:#cc79a7;fill:#cc79a7}\
.m-outbox{stroke:#e69f00;fill:#e69f00}\
.s-theory{stroke:#5b6474;fill:#5b6474}\
path.band{stroke:none;opacity:.16}\
circle.point{stroke:none}";

/// The chart as a complete SVG document.
pub fn standalone_svg(c: &Chart, title: &str) -> String {
    standalone_svg_layers(c, title, &c.legend(), Vec::new(), Vec::new())
}

/// A sweep's chart, with its bands under the lines and its marks over them.
pub fn sweep_svg(c: &SweepChart) -> String {
    standalone_svg_layers(
        &c.chart,
        c.metric.title(),
        &c.legend(),
        c.band_nodes(),
        c.mark_nodes(),
    )
}

/// Legend entries side by side, wrapped onto a new row where the width runs out: the x of
/// each swatch and its row.
fn legend_layout(c: &Chart, legend: &[(&str, &str, bool)]) -> Vec<(f64, usize)> {
    let f = c.frame;
    let (mut x, mut row) = (f.x0(), 0);
    legend
        .iter()
        .map(|(_, name, _)| {
            // About 6 px per character at 11 px, plus the swatch and a gap.
            let width = 21.0 + name.chars().count() as f64 * 6.0;
            if x + width > f.x1() && x > f.x0() {
                (x, row) = (f.x0(), row + 1);
            }
            let at = (x, row);
            x += width + 14.0;
            at
        })
        .collect()
}

/// The chart as a complete SVG document, with `legend` in its header and extra elements drawn
/// under the lines (`below`) and over them (`above`): the plot the page draws (`plot_svg`).
pub fn standalone_svg_layers(
    c: &Chart,
    title: &str,
    legend: &[(&str, &str, bool)],
    below: Vec<Node>,
    above: Vec<Node>,
) -> String {
    let f = c.frame;
    let layout = legend_layout(c, legend);
    let rows = layout.last().map_or(1, |(_, row)| row + 1);
    let header = HEADER + LEGEND_ROW * (rows - 1) as f64;
    let (width, height) = (f.width, f.height + header);
    let mut file = Node::new("svg")
        .attr("xmlns", "http://www.w3.org/2000/svg")
        .attr("viewBox", format!("0 0 {width} {height}"))
        .num("width", width)
        .num("height", height)
        .attr("role", "img")
        .attr("aria-label", title)
        .child(Node::new("style").text(STYLE))
        .child(
            Node::new("rect")
                .num("width", width)
                .num("height", height)
                .attr("fill", "#ffffff"),
        )
        .child(
            Node::new("text")
                .attr("class", "title")
                .num("x", f.x0())
                .num("y", 16.0)
                .text(title),
        );
    for ((class, name, dashed), (x, row)) in legend.iter().zip(layout) {
        let dash = if *dashed { " dashed" } else { "" };
        let y = 29.0 + LEGEND_ROW * row as f64;
        file = file
            .child(
                Node::new("line")
                    .attr("class", format!("swatch {class}{dash}"))
                    .num("x1", x)
                    .num("x2", x + 16.0)
                    .num("y1", y)
                    .num("y2", y),
            )
            .child(
                Node::new("text")
                    .num("x", x + 21.0)
                    .num("y", y + 4.0)
                    .text(*name),
            );
    }
    let mut plot_group = Node::new("g").attr("transform", format!("translate(0 {header})"));
    plot_group.children = plot(c, below, above);
    let mut out = String::new();
    file.child(plot_group).write_markup(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::{self, LARGE};
    use dsim_core::{Scenario, simulate};

    #[test]
    fn an_exported_chart_carries_its_scripted_faults() {
        let (s, _) = Scenario::from_query(
            "messages=4000&script=0.5s:crash-broker;1s-1.2s:partition-broker-consumer-0",
            &[],
        );
        let chart = charts::throughput(&simulate(&s).unwrap(), LARGE, None);
        let svg = standalone_svg(&chart, "Throughput");
        assert!(svg.contains("<title>scripted: the broker crashes at 500 ms</title></line>"));
        assert!(svg.contains(
            "<title>scripted: partition broker↔consumer 0 from 1 s to 1.2 s</title></rect>"
        ));
        assert!(svg.contains(">partition broker↔consumer 0</text>"));
        assert!(svg.contains(".fault-band{"));
    }

    #[test]
    fn an_exported_chart_carries_its_title_legend_lines_and_colours() {
        let s = Scenario {
            messages: 2_000,
            ack_loss: 0.2,
            delivery_loss: 0.05,
            mode: dsim_core::Mode::AtMostOnce,
            ..Scenario::default()
        };
        let report = simulate(&s).unwrap();
        let chart = charts::dup_loss(&report, LARGE, None);
        let svg = standalone_svg(&chart, "Duplicates & losses");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("<style>") && svg.contains(".s-lost{stroke:#c0262d"));
        assert!(
            svg.contains(">Duplicates &amp; losses</text>"),
            "the title, escaped"
        );
        for line in &chart.lines {
            assert!(
                svg.contains(&format!("d=\"{}\"", line.d)),
                "line {}",
                line.name
            );
            assert!(
                svg.contains(&format!(">{}</text>", line.name)),
                "legend {}",
                line.name
            );
        }
        // Every tag that opens is closed: a quick well-formedness check without a parser.
        let opened = svg.matches('<').count();
        let closed = svg.matches("/>").count() + svg.matches("</").count() * 2;
        assert_eq!(opened, closed, "{svg}");
    }

    #[test]
    fn an_exported_sweep_chart_carries_bands_marks_and_a_wrapped_legend() {
        use crate::sweep_charts::{Metric, sweep_chart};
        let base = Scenario {
            messages: 200,
            ..Scenario::default()
        };
        let spec = dsim_core::SweepSpec {
            knob: "ack-loss".into(),
            from: 0.0,
            to: 0.2,
            steps: 3,
            seeds: 2,
        };
        let result = dsim_core::sweep(&base, &spec).unwrap();
        let chart = sweep_chart(&result, Metric::Duplicates, LARGE);
        let svg = sweep_svg(&chart);
        assert_eq!(svg.matches("<path class=\"band ").count(), 5);
        assert_eq!(svg.matches("<circle class=\"point ").count(), 15);
        // Bands under the lines, marks over them.
        let (band, line, mark) = (
            svg.find("class=\"band").unwrap(),
            svg.find("class=\"line").unwrap(),
            svg.find("class=\"point").unwrap(),
        );
        assert!(band < line && line < mark);
        // Five modes and theory do not fit one row of 600 units: the header grows by a row.
        assert!(svg.contains(">theory</text>"));
        assert!(svg.contains("height=\"296\""), "{svg}");
        assert!(svg.contains("translate(0 56)"));
        let opened = svg.matches('<').count();
        let closed = svg.matches("/>").count() + svg.matches("</").count() * 2;
        assert_eq!(opened, closed, "{svg}");
        // The ordinary charts keep their one-row header.
        let report = simulate(&base).unwrap();
        assert!(
            standalone_svg(&charts::latency(&report, LARGE, None), "x").contains("translate(0 40)")
        );
    }
}
