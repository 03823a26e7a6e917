//! A chart's plot as plain data: every SVG element it draws, with its attributes and text,
//! built from a `Chart` in this one place and written two ways: into the page by
//! `browser::sync_svg`, which touches only what changed since the last report, and as markup
//! into the exported file (`chart_export`). Pure, so it is tested natively.
//!
//! Why not Leptos views: the dashboard redraws its charts ten times a second during a worker's
//! run, and Leptos cannot diff type-erased attributes (`erase_components`): it removed and set
//! again every attribute of every element of every chart per report. Views with one effect
//! per attribute fixed that but added 5.7 KB gzipped to the page (ARCHITECTURE.md).

use std::fmt::Write;

use crate::charts::{self, Chart};

/// One SVG element. It has text or children, never both.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub tag: &'static str,
    pub attrs: Vec<(&'static str, String)>,
    pub text: Option<String>,
    pub children: Vec<Node>,
}

impl Node {
    pub fn new(tag: &'static str) -> Node {
        Node {
            tag,
            attrs: Vec::new(),
            text: None,
            children: Vec::new(),
        }
    }

    pub fn attr(mut self, name: &'static str, value: impl Into<String>) -> Node {
        self.attrs.push((name, value.into()));
        self
    }

    /// A number, written as Rust prints it (`12`, `12.5`), as Leptos did. Not generic and not
    /// inlined: the plot sets hundreds of them, and one copy of the formatting keeps the
    /// page's wasm small.
    #[inline(never)]
    pub fn num(mut self, name: &'static str, value: f64) -> Node {
        self.attrs.push((name, value.to_string()));
        self
    }

    pub fn text(mut self, text: impl Into<String>) -> Node {
        self.text = Some(text.into());
        self
    }

    pub fn child(mut self, child: Node) -> Node {
        self.children.push(child);
        self
    }

    /// The element as markup, escaped.
    pub fn write_markup(&self, out: &mut String) {
        let _ = write!(out, "<{}", self.tag);
        for (name, value) in &self.attrs {
            let _ = write!(out, " {name}=\"{}\"", xml(value));
        }
        if self.text.is_none() && self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        if let Some(text) = &self.text {
            out.push_str(&xml(text));
        }
        for child in &self.children {
            child.write_markup(out);
        }
        let _ = write!(out, "</{}>", self.tag);
    }
}

/// Text as XML character data or an attribute value.
pub fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The chart's `<svg>` as the page draws it: the plot, and the attributes the tests read
/// (how many samples it has, the y axis's top label). The element's fixed attributes
/// (`viewBox`, its label) are the page's.
pub fn svg(c: &Chart, below: Vec<Node>, above: Vec<Node>) -> Node {
    let y_max = c
        .y_axis
        .ticks
        .last()
        .map(|t| t.label.clone())
        .unwrap_or_default();
    let mut root = Node::new("svg")
        .attr("data-points", c.hover.len().to_string())
        .attr("data-y-max", y_max);
    root.children = plot(c, below, above);
    root
}

/// The plot's elements in drawing order: grid, axes, scripted faults, bars, `below`, lines,
/// `above`, then the "nothing yet" note and the axis titles.
pub fn plot(c: &Chart, below: Vec<Node>, above: Vec<Node>) -> Vec<Node> {
    let f = c.frame;
    let text = |class: &'static str, x: f64, y: f64, anchor: &'static str| {
        Node::new("text")
            .attr("class", class)
            .num("x", x)
            .num("y", y)
            .attr("text-anchor", anchor)
    };
    let line = |class: &'static str, x1: f64, x2: f64, y1: f64, y2: f64| {
        Node::new("line")
            .attr("class", class)
            .num("x1", x1)
            .num("x2", x2)
            .num("y1", y1)
            .num("y2", y2)
    };
    let mut out = Vec::new();
    for t in &c.y_axis.ticks {
        out.push(line("grid", f.x0(), f.x1(), t.at, t.at));
        out.push(text("tick", f.x0() - 6.0, t.at + 4.0, "end").text(t.label.clone()));
    }
    out.push(line("axis", f.x0(), f.x1(), f.y0(), f.y0()));
    out.push(line("axis", f.x0(), f.x0(), f.y1(), f.y0()));
    for t in &c.x_axis.ticks {
        out.push(line("axis", t.at, t.at, f.y0(), f.y0() + 4.0));
        out.push(text("tick", t.at, f.y0() + 16.0, "middle").text(t.label.clone()));
    }
    // Scripted faults under the data: a band or a line, with its name along the top (the
    // small multiples keep only the shapes, whose tooltips still name them).
    let labelled = f.width >= charts::WIDTH;
    for (i, m) in c.faults.iter().enumerate() {
        let shape = if m.width > 0.0 {
            Node::new("rect")
                .attr("class", "fault-band")
                .attr("data-testid", "fault-band")
                .num("x", m.x)
                .num("y", f.y1())
                .num("width", m.width)
                .num("height", f.y0() - f.y1())
        } else {
            line("fault-line", m.x, m.x, f.y1(), f.y0()).attr("data-testid", "fault-line")
        };
        out.push(shape.child(Node::new("title").text(m.title.clone())));
        if labelled {
            // Staggered, so that faults close in time do not print over each other.
            let y = f.y1() + 10.0 + (i % 3) as f64 * 11.0;
            out.push(
                Node::new("text")
                    .attr("class", "fault-label")
                    .num("x", m.x + 3.0)
                    .num("y", y)
                    .text(m.label.clone()),
            );
        }
    }
    for b in &c.bars {
        out.push(
            Node::new("rect")
                .attr("class", "bar s-hist")
                .num("x", b.x)
                .num("y", b.y)
                .num("width", b.width)
                .num("height", b.height.max(0.0)),
        );
    }
    out.extend(below);
    for l in &c.lines {
        let dashed = if l.dashed { " dashed" } else { "" };
        out.push(
            Node::new("path")
                .attr("class", format!("line {}{dashed}", l.class))
                .attr("data-series", l.name)
                .attr("d", l.d.clone()),
        );
    }
    out.extend(above);
    if c.empty {
        let (x, y) = ((f.x0() + f.x1()) / 2.0, (f.y0() + f.y1()) / 2.0);
        out.push(text("empty", x, y, "middle").text("nothing applied yet"));
    }
    // Small multiples leave their axis titles to the column heads above them.
    if f.width >= charts::WIDTH {
        let x_title = text(
            "axis-title",
            (f.x0() + f.x1()) / 2.0,
            f.height - 4.0,
            "middle",
        );
        out.push(x_title.text(c.x_axis.title.clone()));
        let (x, y) = (12.0, (f.y0() + f.y1()) / 2.0);
        let y_title =
            text("axis-title", x, y, "middle").attr("transform", format!("rotate(-90 {x} {y})"));
        out.push(y_title.text(c.y_axis.title.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::{LARGE, SMALL};
    use dsim_core::{Scenario, simulate};

    fn report() -> dsim_core::Report {
        simulate(&Scenario {
            messages: 2_000,
            ack_loss: 0.2,
            ..Scenario::default()
        })
        .unwrap()
    }

    #[test]
    fn the_plot_draws_every_tick_bar_and_line_of_the_chart() {
        let r = report();
        let chart = charts::latency_histogram(&r.latency_histogram, LARGE);
        let nodes = plot(&chart, Vec::new(), Vec::new());
        let count = |tag: &str, class: &str| {
            nodes
                .iter()
                .filter(|n| {
                    n.tag == tag && n.attrs.iter().any(|(k, v)| *k == "class" && v == class)
                })
                .count()
        };
        assert_eq!(count("line", "grid"), chart.y_axis.ticks.len());
        assert_eq!(
            count("text", "tick"),
            chart.y_axis.ticks.len() + chart.x_axis.ticks.len()
        );
        assert_eq!(count("rect", "bar s-hist"), chart.bars.len());
        assert!(!chart.bars.is_empty());
        let chart = charts::dup_loss(&r, LARGE, None);
        let nodes = plot(&chart, Vec::new(), Vec::new());
        for l in &chart.lines {
            assert!(nodes.iter().any(|n| n.tag == "path"
                && n.attrs.contains(&("d", l.d.clone()))
                && n.attrs.contains(&("data-series", l.name.to_string()))));
        }
    }

    #[test]
    fn layers_go_under_and_over_the_lines() {
        let chart = charts::throughput(&report(), LARGE, None);
        let nodes = plot(
            &chart,
            vec![Node::new("g").attr("id", "below")],
            vec![Node::new("g").attr("id", "above")],
        );
        let at = |pred: &dyn Fn(&Node) -> bool| nodes.iter().position(pred).unwrap();
        let below = at(&|n| n.attrs.contains(&("id", "below".into())));
        let line = at(&|n| n.tag == "path");
        let above = at(&|n| n.attrs.contains(&("id", "above".into())));
        assert!(below < line && line < above);
    }

    #[test]
    fn small_multiples_have_no_axis_titles_or_fault_labels() {
        let (s, _) = Scenario::from_query("messages=4000&script=0.5s:crash-broker", &[]);
        let r = simulate(&s).unwrap();
        let has = |nodes: &[Node], class: &str| {
            nodes
                .iter()
                .any(|n| n.attrs.iter().any(|(k, v)| *k == "class" && v == class))
        };
        let large = plot(&charts::throughput(&r, LARGE, None), Vec::new(), Vec::new());
        let small = plot(&charts::throughput(&r, SMALL, None), Vec::new(), Vec::new());
        assert!(
            has(&large, "axis-title") && has(&large, "fault-label") && has(&large, "fault-line")
        );
        assert!(
            !has(&small, "axis-title") && !has(&small, "fault-label") && has(&small, "fault-line")
        );
    }

    #[test]
    fn markup_is_escaped_and_every_element_closed() {
        let node = Node::new("text")
            .attr("data-x", "a\"b")
            .text("<&>")
            .child(Node::new("title").text("t"));
        let mut out = String::new();
        node.write_markup(&mut out);
        assert_eq!(
            out,
            "<text data-x=\"a&quot;b\">&lt;&amp;&gt;<title>t</title></text>"
        );
        let mut out = String::new();
        Node::new("rect").num("x", 1.5).write_markup(&mut out);
        assert_eq!(out, "<rect x=\"1.5\"/>");
    }
}
