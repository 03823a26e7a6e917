//! A sweep's results as charts: one per metric, the swept setting along x, and for every mode
//! a line through the means, a band for the 95 % confidence interval, a mark per point that
//! carries its numbers, and theory's expectation dashed where the core gives one. Data in,
//! geometry out, like `charts`, so it is tested natively; `sweep_view` draws it and
//! `chart_export` writes it as a file.

use std::fmt::Write;

use dsim_core::sweep::ModeSummary;
use dsim_core::{Estimate, Mode, SweepResult};

use crate::charts::{Axis, Chart, Frame, HoverPoint, LARGE, Line, Tick, nice_ticks, path};
use crate::format::{millis, short, thousands, trim_number};
use crate::plot_svg::Node;

/// What a sweep chart plots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Duplicates,
    Lost,
    LatencyP99,
    Throughput,
}

impl Metric {
    pub const ALL: [Metric; 4] = [
        Metric::Duplicates,
        Metric::Lost,
        Metric::LatencyP99,
        Metric::Throughput,
    ];

    /// For `data-testid`s and file names.
    pub fn key(self) -> &'static str {
        match self {
            Metric::Duplicates => "duplicates",
            Metric::Lost => "lost",
            Metric::LatencyP99 => "latency-p99",
            Metric::Throughput => "throughput",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Metric::Duplicates => "Duplicates per message",
            Metric::Lost => "Lost per message",
            Metric::LatencyP99 => "Latency p99",
            Metric::Throughput => "Throughput",
        }
    }

    fn y_title(self) -> &'static str {
        match self {
            Metric::Duplicates => "extra applications / message",
            Metric::Lost => "lost / message",
            Metric::LatencyP99 => "p99 latency (ms)",
            Metric::Throughput => "messages / s",
        }
    }

    /// The smallest y range drawn, so a flat zero line sits at the bottom of a readable axis.
    fn y_floor(self) -> f64 {
        match self {
            Metric::Duplicates | Metric::Lost => 0.01,
            Metric::LatencyP99 | Metric::Throughput => 1.0,
        }
    }

    pub fn of(self, m: &ModeSummary) -> Estimate {
        match self {
            Metric::Duplicates => m.duplicates_per_message,
            Metric::Lost => m.lost_per_message,
            Metric::LatencyP99 => m.latency_p99_ms,
            Metric::Throughput => m.throughput_per_s,
        }
    }

    /// What theory expects, where the core has a formula (only duplicates and losses).
    pub fn expected(self, m: &ModeSummary) -> Option<f64> {
        let e = m.expected?;
        match self {
            Metric::Duplicates => Some(e.duplicates_per_message),
            Metric::Lost => Some(e.lost_per_message),
            Metric::LatencyP99 | Metric::Throughput => None,
        }
    }

    fn show(self, v: f64) -> String {
        match self {
            Metric::Duplicates | Metric::Lost => trim_number(v),
            Metric::LatencyP99 => millis(v),
            Metric::Throughput => format!("{} msg/s", thousands(v.max(0.0).round() as u64)),
        }
    }
}

/// The colour class of a mode's line, band and marks.
pub fn mode_class(m: Mode) -> &'static str {
    match m {
        Mode::AtMostOnce => "m-at-most-once",
        Mode::AtLeastOnce => "m-at-least-once",
        Mode::IdempotentConsumer => "m-idempotent-consumer",
        Mode::ExactlyOnce => "m-exactly-once",
        Mode::Outbox => "m-outbox",
    }
}

/// The legend's entry for the theory lines (drawn dashed in each mode's colour).
pub const THEORY: (&str, &str, bool) = ("s-theory", "theory", true);

/// A mode's 95 % interval, as a closed path.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    pub mode: Mode,
    pub class: &'static str,
    pub d: String,
}

/// One mode at one point: where it is drawn and the numbers it stands for.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub mode: Mode,
    pub class: &'static str,
    pub x: f64,
    pub y: f64,
    /// The swept setting's value.
    pub value: f64,
    pub estimate: Estimate,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SweepChart {
    pub metric: Metric,
    /// Axes, the mean lines (then the dashed theory lines) and the tooltips.
    pub chart: Chart,
    pub bands: Vec<Band>,
    pub marks: Vec<Mark>,
}

impl SweepChart {
    /// The legend: every mode, then theory if any line of it is drawn.
    pub fn legend(&self) -> Vec<(&'static str, &'static str, bool)> {
        let mut entries: Vec<_> = self
            .chart
            .lines
            .iter()
            .filter(|l| !l.dashed)
            .map(|l| (l.class, l.name, false))
            .collect();
        if self.chart.lines.iter().any(|l| l.dashed) {
            entries.push(THEORY);
        }
        entries
    }

    /// The bands, drawn under the lines.
    pub fn band_nodes(&self) -> Vec<Node> {
        self.bands
            .iter()
            .map(|b| {
                Node::new("path")
                    .attr("class", format!("band {}", b.class))
                    .attr("data-mode", b.mode.key())
                    .attr("d", b.d.clone())
            })
            .collect()
    }

    /// The marks, drawn over the lines, each with the numbers it stands for.
    pub fn mark_nodes(&self) -> Vec<Node> {
        self.marks
            .iter()
            .map(|m| {
                Node::new("circle")
                    .attr("class", format!("point {}", m.class))
                    .attr("cx", format!("{:.1}", m.x))
                    .attr("cy", format!("{:.1}", m.y))
                    .attr("r", "3")
                    .attr("data-mode", m.mode.key())
                    .num("data-value", m.value)
                    .num("data-mean", m.estimate.mean)
                    .num("data-low", m.estimate.low)
                    .num("data-high", m.estimate.high)
            })
            .collect()
    }
}

/// Ticks at round values between `lo` and `hi` (which need not start at zero).
fn range_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let step = nice_ticks(hi - lo, target).get(1).copied().unwrap_or(1.0);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    // An integer times the step, not a running sum, so rounding errors do not pile up.
    (first..=last).map(|i| i as f64 * step).collect()
}

/// The chart of one metric, every mode, over the points finished so far.
pub fn sweep_chart(result: &SweepResult, metric: Metric, frame: Frame) -> SweepChart {
    let spec = &result.spec;
    let (mut lo, mut hi) = (spec.from.min(spec.to), spec.from.max(spec.to));
    if hi - lo <= 0.0 {
        // One value: centre it in a range wide enough for ticks.
        let pad = (lo.abs() * 0.5).max(0.5);
        (lo, hi) = ((lo - pad).max(0.0), hi + pad);
    }
    let y_data = result
        .points
        .iter()
        .flat_map(|p| &p.modes)
        .flat_map(|m| [metric.of(m).high, metric.expected(m).unwrap_or(0.0)])
        .fold(0.0f64, f64::max);
    let y_ticks = nice_ticks(y_data.max(metric.y_floor()), 4);
    let y_max = *y_ticks.last().unwrap_or(&1.0);
    let x = |v: f64| frame.x0() + (v - lo) / (hi - lo) * (frame.x1() - frame.x0());
    let y = |v: f64| frame.y0() - v.clamp(0.0, y_max) / y_max * (frame.y0() - frame.y1());
    // Points in the order they are drawn, left to right, whichever way the sweep went. The
    // core gives them in sweep order, which is monotone: a downward sweep only needs turning
    // round (no sort: it was the only one of its type in the page's wasm).
    let mut points: Vec<_> = result.points.iter().collect();
    if spec.from > spec.to {
        points.reverse();
    }
    let summary = |p: &dsim_core::sweep::SweepPoint, mode: Mode| -> Option<ModeSummary> {
        p.modes.iter().find(|m| m.mode == mode).cloned()
    };
    let mut lines = Vec::new();
    let mut theory = Vec::new();
    let mut bands = Vec::new();
    let mut marks = Vec::new();
    for mode in Mode::ALL {
        let class = mode_class(mode);
        let estimates: Vec<(f64, Estimate)> = points
            .iter()
            .filter_map(|p| summary(p, mode).map(|m| (p.value, metric.of(&m))))
            .collect();
        if estimates.is_empty() {
            continue;
        }
        lines.push(Line {
            name: mode.title(),
            class,
            dashed: false,
            d: path(estimates.iter().map(|(v, e)| Some((x(*v), y(e.mean))))),
        });
        let d = if let [(v, e)] = estimates.as_slice() {
            // A single point has no band to draw: a narrow bar shows its interval.
            let (x0, x1) = (x(*v) - 3.0, x(*v) + 3.0);
            let (top, bottom) = (y(e.high), y(e.low));
            format!(
                "M{x0:.1},{top:.1} L{x1:.1},{top:.1} L{x1:.1},{bottom:.1} L{x0:.1},{bottom:.1} Z"
            )
        } else {
            let upper = estimates.iter().map(|(v, e)| Some((x(*v), y(e.high))));
            let lower = estimates.iter().rev().map(|(v, e)| Some((x(*v), y(e.low))));
            // One sub-path: `path` starts with M and continues with L through both edges.
            format!("{} Z", path(upper.chain(lower)))
        };
        bands.push(Band { mode, class, d });
        marks.extend(estimates.iter().map(|(v, e)| Mark {
            mode,
            class,
            x: x(*v),
            y: y(e.mean),
            value: *v,
            estimate: *e,
        }));
        let expected: Vec<Option<(f64, f64)>> = points
            .iter()
            .map(|p| {
                summary(p, mode)
                    .and_then(|m| metric.expected(&m))
                    .map(|e| (x(p.value), y(e)))
            })
            .collect();
        if expected.iter().any(Option::is_some) {
            theory.push(Line {
                name: mode.title(),
                class,
                dashed: true,
                d: path(expected.into_iter()),
            });
        }
    }
    lines.extend(theory);
    let hover = points
        .iter()
        .map(|p| HoverPoint {
            x: x(p.value),
            title: format!("{} = {}", result.knob, trim_number(p.value)),
            rows: p
                .modes
                .iter()
                .map(|m| {
                    let e = metric.of(m);
                    // Student's t interval is symmetric: mean ± half its width.
                    let mut text = format!(
                        "{}: {} ± {}",
                        m.mode.title(),
                        metric.show(e.mean),
                        metric.show((e.high - e.low) / 2.0)
                    );
                    if let Some(t) = metric.expected(m) {
                        let _ = write!(text, ", theory {}", metric.show(t));
                    }
                    (mode_class(m.mode), text)
                })
                .collect(),
        })
        .collect();
    let unit = if result.unit.is_empty() {
        String::new()
    } else {
        format!(" ({})", result.unit)
    };
    let chart = Chart {
        frame,
        x_axis: Axis {
            title: format!("{}{unit}", result.knob),
            ticks: range_ticks(lo, hi, 5)
                .into_iter()
                .map(|t| Tick {
                    at: x(t),
                    label: short(t),
                })
                .collect(),
        },
        y_axis: Axis {
            title: metric.y_title().to_string(),
            ticks: y_ticks
                .iter()
                .map(|t| Tick {
                    at: y(*t),
                    label: short(*t),
                })
                .collect(),
        },
        lines,
        bars: Vec::new(),
        hover,
        // A sweep's x axis is a setting, not time: scripted faults have no place on it.
        faults: Vec::new(),
        empty: result.points.is_empty(),
    };
    SweepChart {
        metric,
        chart,
        bands,
        marks,
    }
}

/// All four charts, at the page's chart size.
pub fn sweep_charts(result: &SweepResult) -> Vec<SweepChart> {
    Metric::ALL
        .iter()
        .map(|m| sweep_chart(result, *m, LARGE))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsim_core::{Scenario, SweepSpec, sweep};

    fn result(from: f64, to: f64, steps: u32) -> SweepResult {
        let base = Scenario {
            messages: 300,
            seed: 3,
            // Without idempotence, so that lost publish acks duplicate.
            producer_idempotence: dsim_core::Idempotence::Off,
            ..Scenario::default()
        };
        let spec = SweepSpec {
            knob: "publish-ack-loss".into(),
            from,
            to,
            steps,
            seeds: 3,
        };
        sweep(&base, &spec).expect("valid sweep")
    }

    #[test]
    fn every_mode_has_a_line_a_band_and_a_mark_per_point() {
        let r = result(0.0, 0.3, 4);
        let c = sweep_chart(&r, Metric::Duplicates, LARGE);
        let solid: Vec<_> = c.chart.lines.iter().filter(|l| !l.dashed).collect();
        assert_eq!(solid.len(), 5);
        assert_eq!(c.bands.len(), 5);
        assert_eq!(c.marks.len(), 5 * 4);
        assert_eq!(c.chart.hover.len(), 4);
        // A mark carries the core's numbers for its point and mode.
        for m in &c.marks {
            let point = r.points.iter().find(|p| p.value == m.value).unwrap();
            let s = point.modes.iter().find(|s| s.mode == m.mode).unwrap();
            assert_eq!(m.estimate, s.duplicates_per_message);
            assert!(m.x >= LARGE.x0() - 1e-9 && m.x <= LARGE.x1() + 1e-9);
            assert!(m.y >= LARGE.y1() && m.y <= LARGE.y0());
        }
        // At-least-once duplicates under ack loss; at-most-once never does.
        let top = |mode: Mode| {
            c.marks
                .iter()
                .filter(|m| m.mode == mode)
                .map(|m| m.estimate.mean)
                .fold(0.0, f64::max)
        };
        assert!(top(Mode::AtLeastOnce) > 0.1);
        assert_eq!(top(Mode::AtMostOnce), 0.0);
        // Bands are closed, and the x axis reaches from the first value to the last.
        assert!(
            c.bands
                .iter()
                .all(|b| b.d.starts_with('M') && b.d.ends_with('Z'))
        );
        assert_eq!(c.chart.x_axis.ticks.first().unwrap().label, "0");
        assert_eq!(c.chart.x_axis.ticks.last().unwrap().label, "0.3");
        assert_eq!(c.chart.x_axis.title, "publish-ack-loss");
    }

    #[test]
    fn theory_is_overlaid_only_where_the_core_has_it() {
        let r = result(0.0, 0.3, 4);
        let dups = sweep_chart(&r, Metric::Duplicates, LARGE);
        let dashed: Vec<&Line> = dups.chart.lines.iter().filter(|l| l.dashed).collect();
        assert!(!dashed.is_empty(), "q/(1-q) for at-least-once");
        assert!(dups.legend().contains(&THEORY));
        let expected_somewhere = r
            .points
            .iter()
            .flat_map(|p| &p.modes)
            .any(|m| m.expected.is_some());
        assert!(expected_somewhere);
        let latency = sweep_chart(&r, Metric::LatencyP99, LARGE);
        assert!(latency.chart.lines.iter().all(|l| !l.dashed));
        assert!(!latency.legend().contains(&THEORY));
        let row = &dups.chart.hover[2].rows[1].1;
        assert!(
            row.starts_with("At-least-once: 0.") && row.contains(" ± "),
            "{row}"
        );
        assert!(row.contains(", theory 0."), "{row}");
    }

    #[test]
    fn a_downward_sweep_and_a_single_point_still_draw() {
        let down = result(0.3, 0.0, 3);
        let c = sweep_chart(&down, Metric::Duplicates, LARGE);
        // Drawn left to right by value whatever the sweep's direction.
        let xs: Vec<f64> = c.chart.hover.iter().map(|h| h.x).collect();
        assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
        let one = sweep_chart(&result(0.2, 0.2, 1), Metric::Throughput, LARGE);
        assert_eq!(one.marks.len(), 5);
        assert!(one.bands.iter().all(|b| b.d.ends_with('Z')));
        let x = one.marks[0].x;
        assert!(
            x > LARGE.x0() && x < LARGE.x1(),
            "the point sits inside: {x}"
        );
    }

    #[test]
    fn ticks_are_round_values_inside_the_range() {
        let labels =
            |lo, hi| -> Vec<String> { range_ticks(lo, hi, 5).into_iter().map(short).collect() };
        assert_eq!(labels(0.0, 0.5), ["0", "0.1", "0.2", "0.3", "0.4", "0.5"]);
        assert_eq!(labels(100.0, 400.0), ["100", "200", "300", "400"]);
        assert_eq!(labels(3.0, 17.0), ["5", "10", "15"]);
    }
}
