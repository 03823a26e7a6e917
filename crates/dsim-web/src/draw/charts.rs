//! Charts as data: a report goes in, a `Chart` comes out with every path, bar, tick and tooltip
//! already placed in the SVG's coordinate system. `chart_view` only draws what is here, so the
//! charts are tested natively, down to the path strings.

use dsim_core::report::{HistogramBin, SeriesReport};
use dsim_core::{Report, ScriptedFiring};

use crate::format::{short, thousands, trim_number};

/// The SVG's viewBox; the element itself scales to its container.
pub const WIDTH: f64 = 600.0;
pub const HEIGHT: f64 = 240.0;
/// A smaller canvas for the compare view's small multiples.
pub const SMALL: Frame = Frame {
    width: 300.0,
    height: 130.0,
    // Room for a five-character tick label ("5,000") at the small multiples' type.
    left: 46.0,
    right: 10.0,
    top: 8.0,
    bottom: 20.0,
};
pub const LARGE: Frame = Frame {
    width: WIDTH,
    height: HEIGHT,
    // Room for tick labels and the rotated axis title even at a phone's larger type.
    left: 64.0,
    right: 14.0,
    top: 12.0,
    bottom: 40.0,
};

/// The canvas and the plot area's margins inside it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

impl Frame {
    pub fn x0(&self) -> f64 {
        self.left
    }
    pub fn x1(&self) -> f64 {
        self.width - self.right
    }
    pub fn y0(&self) -> f64 {
        self.height - self.bottom
    }
    pub fn y1(&self) -> f64 {
        self.top
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    /// Pixel position along the axis.
    pub at: f64,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub title: String,
    pub ticks: Vec<Tick>,
}

/// One line; `class` picks its colour in the stylesheet.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub name: &'static str,
    pub class: &'static str,
    pub dashed: bool,
    /// SVG path data; gaps in the data start a new sub-path.
    pub d: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// What the tooltip says at one x position.
#[derive(Clone, Debug, PartialEq)]
pub struct HoverPoint {
    pub x: f64,
    pub title: String,
    /// `(series class, text)`.
    pub rows: Vec<(&'static str, String)>,
}

/// A scripted fault on a time chart, from the run's report: a shaded band over a window (a
/// partition), a vertical line at an instant (a crash).
#[derive(Clone, Debug, PartialEq)]
pub struct FaultMark {
    /// Where it starts, in viewBox units.
    pub x: f64,
    /// The band's width; 0 for an instant.
    pub width: f64,
    /// A few words drawn at the top of the plot: `partition broker↔producer 0`.
    pub label: String,
    /// The whole entry for the tooltip: `partition broker↔producer 0 from 3 s to 4 s`.
    pub title: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub frame: Frame,
    pub x_axis: Axis,
    pub y_axis: Axis,
    pub lines: Vec<Line>,
    pub bars: Vec<Bar>,
    pub hover: Vec<HoverPoint>,
    /// The scripted faults that have struck so far.
    pub faults: Vec<FaultMark>,
    /// Nothing to draw yet (the run has not applied anything).
    pub empty: bool,
}

impl Chart {
    /// The hover point nearest to `x` (in viewBox units), if the pointer is over the plot.
    pub fn hover_at(&self, x: f64) -> Option<&HoverPoint> {
        if x < self.frame.x0() - 4.0 || x > self.frame.x1() + 4.0 {
            return None;
        }
        self.hover.iter().min_by(|a, b| {
            (a.x - x)
                .abs()
                .partial_cmp(&(b.x - x).abs())
                .unwrap_or(std::cmp::Ordering::Equal)
        })
    }

    /// Legend entries: `(class, name, dashed)`.
    pub fn legend(&self) -> Vec<(&'static str, &'static str, bool)> {
        self.lines
            .iter()
            .map(|l| (l.class, l.name, l.dashed))
            .collect()
    }
}

/// "Nice" tick values from 0 to at least `max`: steps of 1, 2 or 5 times a power of ten.
pub fn nice_ticks(max: f64, target: usize) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let count = (max / step).ceil() as usize;
    (0..=count).map(|i| i as f64 * step).collect()
}

/// Maps data values onto the plot area.
/// A vertical axis with one labelled tick per value.
fn y_axis(title: &str, ticks: &[f64], scale: &Scale) -> Axis {
    Axis {
        title: title.to_string(),
        ticks: ticks
            .iter()
            .map(|t| Tick {
                at: scale.y(*t),
                label: short(*t),
            })
            .collect(),
    }
}

struct Scale {
    frame: Frame,
    x_max: f64,
    y_max: f64,
}

impl Scale {
    fn x(&self, v: f64) -> f64 {
        self.frame.x0() + v / self.x_max * (self.frame.x1() - self.frame.x0())
    }
    fn y(&self, v: f64) -> f64 {
        self.frame.y0() - v / self.y_max * (self.frame.y0() - self.frame.y1())
    }
}

/// Simulated time is shown in seconds once a run is longer than two of them.
fn time_unit(x_max_ms: f64) -> (f64, &'static str) {
    if x_max_ms > 2_000.0 {
        (1_000.0, "s")
    } else {
        (1.0, "ms")
    }
}

/// How far the time axis reaches: the whole publishing span from the start, so the axis does
/// not jump while a run is in progress, and further if the run outlasts it.
fn time_extent(report: &Report) -> f64 {
    let s = &report.scenario;
    let publish_span_ms = s.messages as f64 / s.publish_rate.max(f64::MIN_POSITIVE) * 1_000.0;
    let data_end = report
        .series
        .t_ms
        .last()
        .map_or(0.0, |t| t + report.series.bucket_ms);
    publish_span_ms.max(data_end).max(1.0)
}

/// Where simulated time `t_ms` falls on a time chart of `report`, in the SVG's coordinates:
/// the time-travel marker.
pub fn time_x(report: &Report, frame: Frame, t_ms: f64) -> f64 {
    let x_max = time_extent(report);
    frame.x0() + t_ms.clamp(0.0, x_max) / x_max * (frame.x1() - frame.x0())
}

struct Series<'a> {
    name: &'static str,
    class: &'static str,
    dashed: bool,
    values: Vec<Option<f64>>,
    /// Formats a value for the tooltip.
    show: &'a dyn Fn(f64) -> String,
}

/// The scripted faults that struck, placed on a time axis of `x_max_ms`; those past its end
/// (a run still in progress) wait until the axis reaches them.
fn fault_marks(faults: &[ScriptedFiring], scale: &Scale) -> Vec<FaultMark> {
    faults
        .iter()
        .filter_map(|f| {
            let from = f.from_ms.filter(|&t| t <= scale.x_max)?;
            let x = scale.x(from);
            let width = match f.to_ms {
                Some(to) if f.window => (scale.x(to.min(scale.x_max)) - x).max(1.0),
                _ => 0.0,
            };
            let label = f.label.split(" from ").next().unwrap_or_default();
            let label = label.split(" at ").next().unwrap_or_default().to_string();
            Some(FaultMark {
                x,
                width,
                label,
                title: format!("scripted: {}", f.label),
            })
        })
        .collect()
}

/// A line chart over simulated time, with the run's scripted faults marked on it.
fn time_chart(
    frame: Frame,
    series: &SeriesReport,
    faults: &[ScriptedFiring],
    x_max_ms: f64,
    y_title: &str,
    y_floor: f64,
    lines: Vec<Series>,
) -> Chart {
    let (per, unit) = time_unit(x_max_ms);
    let y_data = lines
        .iter()
        .flat_map(|l| l.values.iter().flatten())
        .fold(0.0f64, |a, &b| a.max(b));
    let y_ticks = nice_ticks(y_data.max(y_floor), if frame == SMALL { 3 } else { 4 });
    let x_ticks = nice_ticks(x_max_ms / per, if frame == SMALL { 4 } else { 6 });
    let scale = Scale {
        frame,
        x_max: x_max_ms,
        y_max: *y_ticks.last().unwrap_or(&1.0),
    };
    // A sample stands for its bucket; draw it at the bucket's middle.
    let mid = |i: usize| series.t_ms[i] + series.bucket_ms / 2.0;
    let drawn = lines
        .iter()
        .map(|l| Line {
            name: l.name,
            class: l.class,
            dashed: l.dashed,
            d: path(l.values.iter().enumerate().map(|(i, v)| {
                v.map(|v| (scale.x(mid(i).min(x_max_ms)), scale.y(v.min(scale.y_max))))
            })),
        })
        .collect();
    let hover = (0..series.t_ms.len())
        .map(|i| HoverPoint {
            x: scale.x(mid(i).min(x_max_ms)),
            title: format!(
                "{}–{} {unit}",
                trim_number(series.t_ms[i] / per),
                trim_number((series.t_ms[i] + series.bucket_ms) / per)
            ),
            rows: lines
                .iter()
                .map(|l| {
                    let text = match l.values.get(i).copied().flatten() {
                        Some(v) => (l.show)(v),
                        None => "–".into(),
                    };
                    (l.class, format!("{}: {text}", l.name))
                })
                .collect(),
        })
        .collect();
    Chart {
        frame,
        x_axis: Axis {
            title: format!("simulated time ({unit})"),
            ticks: x_ticks
                .iter()
                .filter(|t| **t * per <= x_max_ms * 1.0001)
                .map(|t| Tick {
                    at: scale.x(t * per),
                    label: trim_number(*t),
                })
                .collect(),
        },
        y_axis: y_axis(y_title, &y_ticks, &scale),
        lines: drawn,
        bars: Vec::new(),
        hover,
        faults: fault_marks(faults, &scale),
        empty: series.t_ms.is_empty(),
    }
}

/// SVG path data through points; `None` breaks the line.
pub fn path(points: impl Iterator<Item = Option<(f64, f64)>>) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for p in points {
        match p {
            Some((x, y)) => {
                if !d.is_empty() {
                    d.push(' ');
                }
                d.push(if pen_down { 'L' } else { 'M' });
                d.push_str(&format!("{x:.1},{y:.1}"));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    d
}

/// Shared y-axis tops for small multiples, so five modes are drawn on one scale.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Shared {
    pub throughput: f64,
    pub latency: f64,
    pub dup_loss: f64,
    /// The most that waited in the broker (`SeriesReport::backlog`), over every line.
    pub backlog: f64,
    pub x_max_ms: f64,
}

impl Shared {
    pub fn of(reports: &[Report]) -> Shared {
        let top = |f: &dyn Fn(&Report) -> f64| reports.iter().map(f).fold(0.0, f64::max);
        Shared {
            throughput: top(&|r| {
                r.series
                    .throughput_per_s
                    .iter()
                    .copied()
                    .fold(0.0, f64::max)
            }),
            latency: top(&|r| {
                r.series
                    .latency_p99_ms
                    .iter()
                    .flatten()
                    .copied()
                    .fold(0.0, f64::max)
            }),
            dup_loss: top(&|r| {
                let d = r.series.duplicates_cumulative.last().copied().unwrap_or(0);
                let l = r.series.lost_cumulative.last().copied().unwrap_or(0);
                d.max(l) as f64
            }),
            backlog: top(&|r| {
                r.series
                    .backlog
                    .iter()
                    .flatten()
                    .copied()
                    .max()
                    .unwrap_or(0) as f64
            }),
            x_max_ms: top(&time_extent),
        }
    }
}

fn extent(report: &Report, shared: Option<&Shared>) -> f64 {
    shared.map_or_else(|| time_extent(report), |s| s.x_max_ms)
}

/// Unique messages applied per second of simulated time, with the offered load for reference.
pub fn throughput(report: &Report, frame: Frame, shared: Option<&Shared>) -> Chart {
    let s = &report.series;
    let offered = report.scenario.publish_rate;
    let show = |v: f64| format!("{} msg/s", thousands(v.round() as u64));
    let mut lines = vec![Series {
        name: "applied",
        class: "s-applied",
        dashed: false,
        values: s.throughput_per_s.iter().map(|v| Some(*v)).collect(),
        show: &show,
    }];
    if shared.is_none() {
        lines.push(Series {
            name: "offered load",
            class: "s-offered",
            dashed: true,
            values: s.t_ms.iter().map(|_| Some(offered)).collect(),
            show: &show,
        });
    }
    let floor = shared.map_or(offered, |sh| sh.throughput);
    time_chart(
        frame,
        s,
        &report.scripted_faults,
        extent(report, shared),
        "messages / s",
        floor,
        lines,
    )
}

/// p50 and p99 of the end-to-end latency of the messages first applied in each bucket.
pub fn latency(report: &Report, frame: Frame, shared: Option<&Shared>) -> Chart {
    let s = &report.series;
    let show = |v: f64| crate::format::millis(v);
    let floor = shared.map_or(1.0, |sh| sh.latency);
    time_chart(
        frame,
        s,
        &report.scripted_faults,
        extent(report, shared),
        "latency (ms)",
        floor,
        vec![
            Series {
                name: "p50",
                class: "s-p50",
                dashed: false,
                values: s.latency_p50_ms.clone(),
                show: &show,
            },
            Series {
                name: "p99",
                class: "s-p99",
                dashed: false,
                values: s.latency_p99_ms.clone(),
                show: &show,
            },
        ],
    )
}

/// Duplicates applied and messages lost, cumulative.
pub fn dup_loss(report: &Report, frame: Frame, shared: Option<&Shared>) -> Chart {
    let s = &report.series;
    let show = |v: f64| thousands(v as u64);
    let floor = shared.map_or(4.0, |sh| sh.dup_loss.max(4.0));
    time_chart(
        frame,
        s,
        &report.scripted_faults,
        extent(report, shared),
        "messages",
        floor,
        vec![
            Series {
                name: "duplicates",
                class: "s-dup",
                dashed: false,
                values: s
                    .duplicates_cumulative
                    .iter()
                    .map(|v| Some(*v as f64))
                    .collect(),
                show: &show,
            },
            Series {
                name: "lost",
                class: "s-lost",
                dashed: false,
                values: s.lost_cumulative.iter().map(|v| Some(*v as f64)).collect(),
                show: &show,
            },
        ],
    )
}

/// Up to this many Kafka partitions get a line each on the backlog chart; the report keeps
/// more as their sum and their largest (`dsim_core`'s `BACKLOG_PARTITIONS`).
pub const PARTITION_LINES: usize = 8;
/// Short, so that eight fit the legend's row; the chart's title says they are partitions.
const PARTITION_NAMES: [&str; PARTITION_LINES] = ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"];
const PARTITION_CLASSES: [&str; PARTITION_LINES] = [
    "s-part0", "s-part1", "s-part2", "s-part3", "s-part4", "s-part5", "s-part6", "s-part7",
];

/// What the backlog chart is about for the report's broker: its title and its y axis.
pub fn backlog_title(report: &Report) -> (&'static str, &'static str) {
    match report.scenario.broker {
        dsim_core::Broker::Kafka => ("Consumer lag per partition over time", "records behind"),
        dsim_core::Broker::RabbitMq => (
            "Queue depth over time: ready and unacknowledged",
            "messages",
        ),
        dsim_core::Broker::Sqs | dsim_core::Broker::SqsFifo => {
            ("Messages visible and in flight over time", "messages")
        }
    }
}

/// What waited in the broker at each bucket's end (`SeriesReport::backlog`): Kafka's consumer
/// lag, one line per partition (their sum and the largest past `PARTITION_LINES`
/// partitions); RabbitMQ's messages ready and unacknowledged; SQS's visible and in flight.
pub fn backlog(report: &Report, frame: Frame, shared: Option<&Shared>) -> Chart {
    let s = &report.series;
    let show = |v: f64| thousands(v as u64);
    let as_values = |line: &[u64]| line.iter().map(|v| Some(*v as f64)).collect::<Vec<_>>();
    let lines: Vec<Series> = match report.scenario.broker {
        dsim_core::Broker::Kafka
            if s.backlog_lines
                .first()
                .is_some_and(|l| l.starts_with("partition"))
                && s.backlog.len() <= PARTITION_LINES =>
        {
            s.backlog
                .iter()
                .enumerate()
                .map(|(p, line)| Series {
                    name: PARTITION_NAMES[p],
                    class: PARTITION_CLASSES[p],
                    dashed: false,
                    values: as_values(line),
                    show: &show,
                })
                .collect()
        }
        dsim_core::Broker::Kafka => s
            .backlog
            .iter()
            .zip([
                ("all partitions", "s-part0", false),
                ("largest partition", "s-part1", true),
            ])
            .map(|(line, (name, class, dashed))| Series {
                name,
                class,
                dashed,
                values: as_values(line),
                show: &show,
            })
            .collect(),
        broker => {
            let names = if broker == dsim_core::Broker::RabbitMq {
                ["ready", "unacked"]
            } else {
                ["visible", "in flight"]
            };
            s.backlog
                .iter()
                .zip(names.into_iter().zip(["s-ready", "s-unacked"]))
                .map(|(line, (name, class))| Series {
                    name,
                    class,
                    dashed: false,
                    values: as_values(line),
                    show: &show,
                })
                .collect()
        }
    };
    time_chart(
        frame,
        s,
        &report.scripted_faults,
        extent(report, shared),
        backlog_title(report).1,
        shared.map_or(4.0, |sh| sh.backlog.max(4.0)),
        lines,
    )
}

/// The compare view's column head for `backlog`'s small multiples, with the unit.
pub fn backlog_label(report: &Report) -> &'static str {
    match report.scenario.broker {
        dsim_core::Broker::Kafka => "consumer lag (records behind)",
        dsim_core::Broker::RabbitMq => "ready / unacked (messages)",
        dsim_core::Broker::Sqs | dsim_core::Broker::SqsFifo => "visible / in flight (messages)",
    }
}

/// The latency histogram: one bar per 1-2-5 bin, empty bins at either end left out.
pub fn latency_histogram(bins: &[HistogramBin], frame: Frame) -> Chart {
    let first = bins.iter().position(|b| b.count > 0);
    let last = bins.iter().rposition(|b| b.count > 0);
    let shown: &[HistogramBin] = match (first, last) {
        (Some(f), Some(l)) => &bins[f..=l],
        _ => &[],
    };
    let y_max_data = shown.iter().map(|b| b.count).max().unwrap_or(0) as f64;
    let y_ticks = nice_ticks(y_max_data.max(4.0), 4);
    let scale = Scale {
        frame,
        x_max: shown.len().max(1) as f64,
        y_max: *y_ticks.last().unwrap_or(&1.0),
    };
    let slot = scale.x(1.0) - scale.x(0.0);
    let total: u64 = shown.iter().map(|b| b.count).sum();
    let bars = shown
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let top = scale.y(b.count as f64);
            Bar {
                x: scale.x(i as f64) + slot * 0.08,
                y: top,
                width: slot * 0.84,
                height: frame.y0() - top,
            }
        })
        .collect();
    let edge = |v: f64| trim_number(v);
    // Every edge is labelled only when there is room for the labels.
    let every = (shown.len() / 8).max(1);
    let x_ticks: Vec<Tick> = if shown.is_empty() {
        Vec::new()
    } else {
        (0..=shown.len())
            .step_by(every)
            .map(|i| Tick {
                at: scale.x(i as f64),
                label: edge(
                    shown
                        .get(i)
                        .map_or_else(|| shown[i - 1].to_ms, |b| b.from_ms),
                ),
            })
            .collect()
    };
    let hover = shown
        .iter()
        .enumerate()
        .map(|(i, b)| HoverPoint {
            x: scale.x(i as f64 + 0.5),
            title: format!("{}–{} ms", edge(b.from_ms), edge(b.to_ms)),
            rows: vec![(
                "s-hist",
                format!(
                    "{} messages ({:.1} %)",
                    thousands(b.count),
                    if total == 0 {
                        0.0
                    } else {
                        b.count as f64 * 100.0 / total as f64
                    }
                ),
            )],
        })
        .collect();
    Chart {
        frame,
        x_axis: Axis {
            title: "end-to-end latency (ms)".into(),
            ticks: x_ticks,
        },
        y_axis: y_axis("messages", &y_ticks, &scale),
        lines: Vec::new(),
        bars,
        hover,
        faults: Vec::new(),
        empty: shown.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsim_core::{Scenario, Simulation};

    fn finished(query: &str) -> Report {
        let (s, errors) = Scenario::from_query(query, &[]);
        assert!(errors.is_empty());
        let mut sim = Simulation::new(&s);
        sim.run_to_end();
        sim.report()
    }

    /// The backlog chart draws what the report sampled, named as each system names it: a line
    /// per Kafka partition up to eight (their sum and the largest beyond), RabbitMQ's ready and
    /// unacked, SQS's visible and in flight; its tooltip reads the report's numbers.
    #[test]
    fn the_backlog_chart_names_each_brokers_lines_and_reads_the_report() {
        let kafka = finished("messages=2000");
        let chart = backlog(&kafka, LARGE, None);
        let names: Vec<&str> = chart.lines.iter().map(|l| l.name).collect();
        assert_eq!(names, PARTITION_NAMES);
        assert_eq!(chart.y_axis.title, "records behind");
        let (line, peak, _) = kafka.series.peak_backlog().expect("sampled");
        let at = kafka.series.backlog[line]
            .iter()
            .position(|&v| v == peak)
            .unwrap();
        let want = format!("p{line}: {}", thousands(peak));
        assert!(
            chart.hover[at].rows.iter().any(|(_, row)| *row == want),
            "{want}"
        );

        let wide = finished("messages=2000&partitions=16&consumers=16");
        let names: Vec<&str> = backlog(&wide, LARGE, None)
            .lines
            .iter()
            .map(|l| l.name)
            .collect();
        assert_eq!(names, ["all partitions", "largest partition"]);

        let rabbit = finished("broker=rabbitmq&messages=500&processing-ms=10");
        let chart = backlog(&rabbit, LARGE, None);
        let names: Vec<&str> = chart.lines.iter().map(|l| l.name).collect();
        assert_eq!(names, ["ready", "unacked"]);
        assert_eq!(
            backlog_title(&rabbit).0,
            "Queue depth over time: ready and unacknowledged"
        );
        let sqs = finished("broker=sqs&messages=500");
        let names: Vec<&str> = backlog(&sqs, LARGE, None)
            .lines
            .iter()
            .map(|l| l.name)
            .collect();
        assert_eq!(names, ["visible", "in flight"]);
    }

    #[test]
    fn scripted_faults_are_bands_and_lines_where_the_run_says_they_struck() {
        let r = finished(
            "messages=6000&script=1s:crash-consumer-1-after;2s-2.5s:partition-broker-producer-0",
        );
        for chart in [
            throughput(&r, LARGE, None),
            latency(&r, LARGE, None),
            dup_loss(&r, LARGE, None),
        ] {
            assert_eq!(chart.faults.len(), 2);
            let (line, band) = (&chart.faults[0], &chart.faults[1]);
            // Placed on the same axis as the ticks (in seconds here).
            let tick = |label: &str| {
                chart
                    .x_axis
                    .ticks
                    .iter()
                    .find(|t| t.label == label)
                    .unwrap()
                    .at
            };
            let per_second = tick("2") - tick("1");
            let at = r.scripted_faults[0].from_ms.unwrap();
            assert!((line.x - (tick("1") + (at - 1000.0) / 1000.0 * per_second)).abs() < 1e-9);
            assert_eq!(line.width, 0.0);
            assert_eq!(line.label, "consumer 1 crashes after processing");
            assert!((band.x - tick("2")).abs() < 1e-9);
            assert!((band.width - per_second / 2.0).abs() < 1e-9);
            assert_eq!(band.label, "partition broker↔producer 0");
            assert_eq!(
                band.title,
                "scripted: partition broker↔producer 0 from 2 s to 2.5 s"
            );
        }
        // Nothing scripted, nothing drawn; a fault the run has not reached yet waits.
        assert!(
            throughput(&finished("messages=2000"), LARGE, None)
                .faults
                .is_empty()
        );
        let (s, _) = Scenario::from_query("messages=6000&script=2s:crash-broker", &[]);
        let mut sim = Simulation::new(&s);
        sim.advance_to(1_500_000);
        assert!(throughput(&sim.report(), LARGE, None).faults.is_empty());
        sim.run_to_end();
        assert_eq!(throughput(&sim.report(), LARGE, None).faults.len(), 1);
    }

    #[test]
    fn ticks_are_round_numbers_covering_the_data() {
        assert_eq!(nice_ticks(9.0, 4), [0.0, 5.0, 10.0]);
        assert_eq!(nice_ticks(2_100.0, 4), [0.0, 1000.0, 2000.0, 3000.0]);
        assert_eq!(nice_ticks(0.0, 4), [0.0, 0.5, 1.0]);
    }

    #[test]
    fn paths_break_at_gaps() {
        let d = path([Some((1.0, 2.0)), Some((3.0, 4.0)), None, Some((5.0, 6.0))].into_iter());
        assert_eq!(d, "M1.0,2.0 L3.0,4.0 M5.0,6.0");
    }

    #[test]
    fn throughput_chart_follows_the_series() {
        let r = finished("messages=2000&seed=3");
        let c = throughput(&r, LARGE, None);
        assert!(!c.empty);
        assert_eq!(
            c.lines[0].d.matches(['M', 'L']).count(),
            r.series.t_ms.len()
        );
        assert_eq!(c.hover.len(), r.series.t_ms.len());
        assert_eq!(c.x_axis.title, "simulated time (ms)");
        assert_eq!(c.y_axis.title, "messages / s");
        // Every point lies inside the plot area.
        for h in &c.hover {
            assert!(h.x >= LARGE.x0() && h.x <= LARGE.x1());
        }
        let mid = &c.hover[c.hover.len() / 2];
        assert!(mid.rows[0].1.starts_with("applied: "), "{:?}", mid.rows);
        assert_eq!(c.hover_at(mid.x + 0.1), Some(mid));
        assert_eq!(c.hover_at(0.0), None);
    }

    #[test]
    fn dup_loss_chart_reacts_to_a_fault() {
        let clean = dup_loss(&finished("messages=2000"), LARGE, None);
        let faulty = dup_loss(
            &finished("messages=2000&publish-ack-loss=0.2&producer-idempotence=off"),
            LARGE,
            None,
        );
        assert_ne!(clean.lines[0].d, faulty.lines[0].d);
        let top = |c: &Chart| c.y_axis.ticks.last().unwrap().label.clone();
        assert_eq!(top(&clean), "4");
        assert_ne!(top(&faulty), "4");
    }

    #[test]
    fn histogram_drops_empty_edges_and_totals_in_tooltips() {
        let r = finished("messages=2000");
        let c = latency_histogram(&r.latency_histogram, LARGE);
        assert!(!c.bars.is_empty());
        assert!(c.bars.len() < r.latency_histogram.len());
        assert!(c.hover[0].rows[0].1.contains("messages"));
        assert!(latency_histogram(&[], LARGE).empty);
    }

    #[test]
    fn shared_scales_cover_every_mode() {
        let reports: Vec<Report> = ["at-most-once", "at-least-once"]
            .iter()
            .map(|m| {
                finished(&format!(
                    "messages=1000&mode={m}&publish-ack-loss=0.1&producer-idempotence=off"
                ))
            })
            .collect();
        let shared = Shared::of(&reports);
        let a = dup_loss(&reports[0], SMALL, Some(&shared));
        let b = dup_loss(&reports[1], SMALL, Some(&shared));
        assert_eq!(a.y_axis, b.y_axis);
        assert_eq!(a.x_axis, b.x_axis);
    }

    /// The compare view's backlog column: every mode's lag on one scale, tall enough for the
    /// mode that kept the most waiting (exactly-once's consumers, blocked on each commit, fall
    /// further behind than at-most-once's).
    #[test]
    fn the_backlog_small_multiples_share_one_scale() {
        let reports: Vec<Report> = ["at-most-once", "exactly-once"]
            .iter()
            .map(|m| finished(&format!("messages=3000&mode={m}&txn-write-ms=20")))
            .collect();
        let shared = Shared::of(&reports);
        let own: Vec<Chart> = reports.iter().map(|r| backlog(r, SMALL, None)).collect();
        assert_ne!(own[0].y_axis, own[1].y_axis, "the modes' lags differ");
        let drawn: Vec<Chart> = reports
            .iter()
            .map(|r| backlog(r, SMALL, Some(&shared)))
            .collect();
        assert_eq!(drawn[0].y_axis, drawn[1].y_axis);
        assert_eq!(drawn[0].x_axis, drawn[1].x_axis);
        let most = reports
            .iter()
            .flat_map(|r| r.series.backlog.iter().flatten())
            .copied()
            .max()
            .unwrap_or(0);
        assert!(most > 0 && shared.backlog == most as f64);
        assert_eq!(backlog_label(&reports[0]), "consumer lag (records behind)");
    }
}
