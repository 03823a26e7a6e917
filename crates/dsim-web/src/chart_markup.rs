//! A chart's plot as SVG markup text: grid, axes, ticks, scripted faults, bars, lines. The
//! page sets it as its chart's content in one step, and the exported file (`chart_export`)
//! wraps the very same markup in a title, a legend and colours.
//!
//! Text rather than a tree of view elements because the page redraws its charts ten times a
//! second while a run is under way: built as views, every redraw removed and set again each
//! attribute of each of a few hundred SVG elements, one call out of wasm apiece (type-erased
//! attributes rebuild that way), which was most of the main thread's work during a run.
//! One string and one parse by the browser cost a fraction of that.

use std::fmt::Write;

use crate::charts::{self, Chart};

/// Text as XML character data or an attribute value.
pub fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The plot, with extra markup drawn under the lines (`below`, a sweep's bands) and over
/// them (`above`, a sweep's marks).
pub fn plot_markup(c: &Chart, below: &str, above: &str) -> String {
    let f = c.frame;
    // About 100 bytes per element; writing into a String cannot fail.
    let mut out = String::with_capacity(4096);
    for t in &c.y_axis.ticks {
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>\
             <text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            f.x0(),
            f.x1(),
            t.at,
            t.at,
            f.x0() - 6.0,
            t.at + 4.0,
            xml(&t.label)
        );
    }
    let _ = writeln!(
        out,
        "<line class=\"axis\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>\
         <line class=\"axis\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>",
        f.x0(),
        f.x1(),
        f.y0(),
        f.y0(),
        f.x0(),
        f.x0(),
        f.y1(),
        f.y0()
    );
    for t in &c.x_axis.ticks {
        let _ = writeln!(
            out,
            "<line class=\"axis\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>\
             <text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            t.at,
            t.at,
            f.y0(),
            f.y0() + 4.0,
            t.at,
            f.y0() + 16.0,
            xml(&t.label)
        );
    }
    // Scripted faults under the data: a band or a line, with its name along the top (the
    // small multiples keep only the shapes, whose tooltips still name them).
    let labelled = f.width >= charts::WIDTH;
    for (i, m) in c.faults.iter().enumerate() {
        let title = xml(&m.title);
        if m.width > 0.0 {
            let _ = write!(
                out,
                "<rect class=\"fault-band\" data-testid=\"fault-band\" x=\"{}\" y=\"{}\" \
                 width=\"{}\" height=\"{}\"><title>{title}</title></rect>",
                m.x,
                f.y1(),
                m.width,
                f.y0() - f.y1()
            );
        } else {
            let _ = write!(
                out,
                "<line class=\"fault-line\" data-testid=\"fault-line\" x1=\"{}\" x2=\"{}\" \
                 y1=\"{}\" y2=\"{}\"><title>{title}</title></line>",
                m.x,
                m.x,
                f.y1(),
                f.y0()
            );
        }
        // Staggered, so that faults close in time do not print over each other.
        if labelled {
            let _ = write!(
                out,
                "<text class=\"fault-label\" x=\"{}\" y=\"{}\">{}</text>",
                m.x + 3.0,
                f.y1() + 10.0 + (i % 3) as f64 * 11.0,
                xml(&m.label)
            );
        }
        out.push('\n');
    }
    for b in &c.bars {
        let _ = writeln!(
            out,
            "<rect class=\"bar s-hist\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
            b.x,
            b.y,
            b.width,
            b.height.max(0.0)
        );
    }
    out.push_str(below);
    for l in &c.lines {
        let dash = if l.dashed { " dashed" } else { "" };
        let _ = writeln!(
            out,
            "<path class=\"line {}{dash}\" data-series=\"{}\" d=\"{}\"/>",
            l.class,
            xml(l.name),
            xml(&l.d)
        );
    }
    out.push_str(above);
    if c.empty {
        let _ = writeln!(
            out,
            "<text class=\"empty\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">nothing applied yet</text>",
            (f.x0() + f.x1()) / 2.0,
            (f.y0() + f.y1()) / 2.0
        );
    }
    // Small multiples leave their axis titles to the column heads above them.
    if labelled {
        let (tx, ty) = (12.0, (f.y0() + f.y1()) / 2.0);
        let _ = writeln!(
            out,
            "<text class=\"axis-title\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\
             <text class=\"axis-title\" x=\"{tx}\" y=\"{ty}\" text-anchor=\"middle\" \
             transform=\"rotate(-90 {tx} {ty})\">{}</text>",
            (f.x0() + f.x1()) / 2.0,
            f.height - 4.0,
            xml(&c.x_axis.title),
            xml(&c.y_axis.title)
        );
    }
    out
}

/// The highest y tick's label, which the page's `data-y-max` carries (tests read the scale
/// from it).
pub fn y_max(c: &Chart) -> String {
    c.y_axis
        .ticks
        .last()
        .map(|t| t.label.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::{LARGE, SMALL};
    use dsim_core::{Scenario, simulate};

    fn faulty() -> dsim_core::Report {
        let (s, _) = Scenario::from_query(
            "messages=4000&duplicate=0.05&script=0.5s:crash-broker;1s-1.2s:partition-broker-consumer-0",
            &[],
        );
        simulate(&s).unwrap()
    }

    /// Every element the page's tests and styles look for is in the markup, with the same
    /// classes and test ids the view elements had.
    #[test]
    fn the_plot_names_its_parts() {
        let report = faulty();
        let markup = plot_markup(&charts::throughput(&report, LARGE, None), "", "");
        for part in [
            "class=\"grid\"",
            "class=\"tick\"",
            "class=\"axis-title\"",
            "data-testid=\"fault-band\"",
            "data-testid=\"fault-line\"",
            "class=\"fault-label\"",
            "data-series=\"applied\"",
        ] {
            assert!(markup.contains(part), "no {part} in\n{markup}");
        }
        let small = plot_markup(&charts::throughput(&report, SMALL, None), "", "");
        assert!(!small.contains("fault-label") && !small.contains("axis-title"));
        assert!(small.contains("data-testid=\"fault-band\""));
    }

    #[test]
    fn the_layers_go_under_and_over_the_lines() {
        let chart = charts::throughput(&faulty(), LARGE, None);
        let markup = plot_markup(&chart, "<g id=\"below\"/>", "<g id=\"above\"/>");
        let (below, line, above) = (
            markup.find("id=\"below\"").unwrap(),
            markup.find("<path class=\"line").unwrap(),
            markup.find("id=\"above\"").unwrap(),
        );
        assert!(below < line && line < above);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(xml("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
    }

    #[test]
    fn an_empty_chart_says_so() {
        let chart = charts::latency_histogram(&[], LARGE);
        assert!(plot_markup(&chart, "", "").contains(">nothing applied yet</text>"));
    }
}
