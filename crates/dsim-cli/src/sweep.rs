//! `dsim sweep`: one knob from one value to another, every mode, several seeds per point, as
//! a table, JSON or CSV. The base scenario comes from the usual flags, file or preset.

use std::io::{IsTerminal, Write};

use clap::{Arg, ArgAction, ArgMatches, Command};
use dsim_core::export::sweep_csv;
use dsim_core::knobs::format_number;
use dsim_core::stats::Estimate;
use dsim_core::{Sweep, SweepResult, SweepSpec, knob};

use crate::args;

pub fn command() -> Command {
    args::scenario_args(
        Command::new("sweep")
            .about("Vary one setting and measure every mode at each value, averaged over seeds"),
        &["mode"],
    )
    .arg(
        Arg::new("knob")
            .long("knob")
            .value_name("SETTING")
            .required(true)
            .help("The setting to vary, e.g. ack-loss (see `dsim knobs`)"),
    )
    .arg(
        Arg::new("from")
            .long("from")
            .value_name("VALUE")
            .required(true)
            .allow_hyphen_values(true)
            .help("First value"),
    )
    .arg(
        Arg::new("to")
            .long("to")
            .value_name("VALUE")
            .required(true)
            .allow_hyphen_values(true)
            .help("Last value"),
    )
    .arg(
        Arg::new("steps")
            .long("steps")
            .value_name("N")
            .default_value("11")
            .help("Evenly spaced values from --from to --to, both included"),
    )
    .arg(
        Arg::new("seeds")
            .long("seeds")
            .value_name("N")
            .default_value("10")
            .help("Runs per value and mode, with seeds --seed, --seed + 1, ... (at least 2)"),
    )
    .arg(
        Arg::new("csv")
            .long("csv")
            .action(ArgAction::SetTrue)
            .conflicts_with("json")
            .help("Print CSV, one row per value and mode"),
    )
}

fn number(m: &ArgMatches, key: &str) -> Result<f64, String> {
    let text = m.get_one::<String>(key).map(String::as_str).unwrap_or("");
    text.trim()
        .parse()
        .map_err(|_| format!("{key}: must be a number (got {text:?})"))
}

fn whole(m: &ArgMatches, key: &str) -> Result<u32, String> {
    let text = m.get_one::<String>(key).map(String::as_str).unwrap_or("");
    text.trim()
        .parse()
        .map_err(|_| format!("{key}: must be a whole number (got {text:?})"))
}

pub fn run(m: &ArgMatches) -> Result<String, String> {
    let spec = SweepSpec {
        knob: m.get_one::<String>("knob").cloned().unwrap_or_default(),
        from: number(m, "from")?,
        to: number(m, "to")?,
        steps: whole(m, "steps")?,
        seeds: whole(m, "seeds")?,
    };
    // A flag for the swept setting would be silently overridden at every point.
    if let Some(k) = knob(&spec.knob)
        && matches!(m.try_get_one::<String>(k.key), Ok(Some(_)))
    {
        return Err(format!(
            "{}: is the swept setting; drop --{} (the sweep sets it)",
            k.key, k.key
        ));
    }
    let base = args::scenario_from(m)?;
    let mut sweep = Sweep::new(&base, &spec).map_err(|e| e.to_string())?;
    // A counter on the terminal for the impatient; nothing when the output is piped or logged.
    let show_progress = std::io::stderr().is_terminal();
    while let Some(p) = sweep.step() {
        if show_progress {
            eprint!("\rsweep: {}/{} runs", p.runs_done, p.runs_total);
            let _ = std::io::stderr().flush();
        }
    }
    if show_progress {
        eprint!("\r\x1b[2K");
    }
    let result = sweep.result();
    if m.get_flag("json") {
        crate::json(&result)
    } else if m.get_flag("csv") {
        Ok(sweep_csv(&result))
    } else {
        Ok(table(&result))
    }
}

fn estimate(e: &Estimate, decimals: usize) -> String {
    format!("{:.*} ± {:.*}", decimals, e.mean, decimals, e.half_width())
}

fn theory(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "-".into())
}

/// One block per value, one line per mode: each metric's mean ± the half width of its 95 %
/// confidence interval, then theory's expectation where there is one.
pub fn table(r: &SweepResult) -> String {
    let unit = if r.unit.is_empty() {
        String::new()
    } else {
        format!(" {}", r.unit)
    };
    let seeds = match (r.seeds.first(), r.seeds.last()) {
        (Some(a), Some(b)) => format!("seeds {a}..={b}"),
        _ => "no seeds".into(),
    };
    let mut out = format!(
        "{} ({}) from {} to {}{unit}: {} values × 5 modes × {} runs ({seeds}); mean ± 95% CI\n\n",
        r.knob,
        r.label,
        format_number(r.spec.from),
        format_number(r.spec.to),
        r.points.len(),
        r.spec.seeds,
    );
    out.push_str(&format!(
        "{:>10}  {:<20} {:>19} {:>19} {:>17} {:>15}  {:>12} {:>11}\n",
        r.knob, "mode", "dupes/msg", "lost/msg", "p99 ms", "msg/s", "theory dupes", "theory lost"
    ));
    for point in &r.points {
        for m in &point.modes {
            let mode = if m.stalled_runs > 0 {
                format!("{} ({} stalled)", m.mode.key(), m.stalled_runs)
            } else {
                m.mode.key().to_string()
            };
            out.push_str(&format!(
                "{:>10}  {:<20} {:>19} {:>19} {:>17} {:>15}  {:>12} {:>11}\n",
                format_number(point.value),
                mode,
                estimate(&m.duplicates_per_message, 4),
                estimate(&m.lost_per_message, 4),
                estimate(&m.latency_p99_ms, 2),
                estimate(&m.throughput_per_s, 0),
                theory(m.expected.map(|e| e.duplicates_per_message)),
                theory(m.expected.map(|e| e.lost_per_message)),
            ));
        }
        out.push('\n');
    }
    out
}
