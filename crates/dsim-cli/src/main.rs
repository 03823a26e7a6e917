//! `dsim`: run, compare, matrix, trace, sweep and benchmark delivery-semantics scenarios from a
//! terminal.

mod args;
mod bench;
mod sweep;
mod table;

use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};
use dsim_core::{Mode, compare, export, knobs, presets, simulate, trace_message};
use peakmem_alloc::{INSTRUMENTED_SYSTEM, PeakMemAlloc};

/// The system allocator, counting the bytes it holds so `dsim bench` can report a run's peak
/// heap (two atomic operations per allocation; the event loop allocates almost nothing).
#[global_allocator]
static HEAP: &PeakMemAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

fn cli() -> Command {
    Command::new("dsim")
        .about(
            "Watch at-most-once, at-least-once and exactly-once delivery play out under failures",
        )
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(
            args::scenario_args(
                Command::new("run").about("Run one scenario and print its report"),
                &[],
            )
            .arg(
                Arg::new("series-csv")
                    .long("series-csv")
                    .action(ArgAction::SetTrue)
                    .conflicts_with("json")
                    .help("Print the metrics' time series as CSV instead of the report"),
            ),
        )
        .subcommand(args::scenario_args(
            Command::new("compare")
                .about("Run every mode on the same seed and faults, side by side"),
            &["mode"],
        ))
        .subcommand(args::scenario_args(
            Command::new("matrix").about(
                "Run every broker and mode on the same seed and faults: the real-world systems table",
            ),
            &["mode", "broker"],
        ))
        .subcommand(
            args::scenario_args(
                Command::new("trace").about("Print the life of one message"),
                &[],
            )
            .arg(
                Arg::new("message")
                    .long("message")
                    .value_name("ID")
                    .required(true)
                    .help("The message ID (0-based)"),
            )
            .arg(
                Arg::new("mermaid")
                    .long("mermaid")
                    .action(ArgAction::SetTrue)
                    .conflicts_with("json")
                    .help("Print the trace as a Mermaid sequence diagram"),
            ),
        )
        .subcommand(args::scenario_args(
            Command::new("history")
                .about("Print every event of every message of a run, as JSON lines"),
            &[],
        ))
        .subcommand(sweep::command())
        .subcommand(
            Command::new("bench")
                .about("Measure simulated messages per second of wall time on standard scenarios")
                .arg(
                    Arg::new("messages")
                        .long("messages")
                        .value_name("N")
                        .default_value("1000000")
                        .help("Messages per scenario"),
                )
                .arg(
                    Arg::new("mode")
                        .long("mode")
                        .value_name("MODE")
                        .help("Only this mode"),
                )
                .arg(
                    Arg::new("repeat")
                        .long("repeat")
                        .value_name("N")
                        .default_value("3")
                        .help("Runs per scenario; the median is reported, with the range"),
                )
                .arg(
                    Arg::new("json")
                        .long("json")
                        .action(ArgAction::SetTrue)
                        .help("Print JSON"),
                ),
        )
        .subcommand(Command::new("presets").about("List the textbook scenarios"))
        .subcommand(Command::new("knobs").about("List every scenario setting with its range"))
}

fn main() -> ExitCode {
    let matches = match cli().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            use clap::error::ErrorKind::*;
            if matches!(
                e.kind(),
                DisplayHelp | DisplayVersion | DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // One line, naming the problem. Clap lists missing arguments on the lines after
            // a colon; they are the point of the message, so they join the line.
            let text = e.render().to_string();
            let mut lines = text.lines();
            let mut first = lines
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ")
                .to_string();
            if first.ends_with(':') {
                let listed: Vec<&str> = lines
                    .take_while(|l| l.starts_with("  "))
                    .map(str::trim)
                    .collect();
                first = format!("{first} {}", listed.join(", "));
            }
            eprintln!("error: {first} (see `dsim --help`)");
            return ExitCode::from(2);
        }
    };
    match dispatch(&matches) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, String> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| e.to_string())
}

fn dispatch(matches: &ArgMatches) -> Result<String, String> {
    match matches.subcommand() {
        Some(("run", m)) => {
            let scenario = args::scenario_from(m)?;
            let report = simulate(&scenario).map_err(|e| e.to_string())?;
            if m.get_flag("json") {
                json(&report)
            } else if m.get_flag("series-csv") {
                Ok(export::series_csv(&report.series))
            } else {
                Ok(table::run(&report))
            }
        }
        Some(("compare", m)) => {
            let scenario = args::scenario_from(m)?;
            let reports = compare(&scenario).map_err(|e| e.to_string())?;
            if m.get_flag("json") {
                json(&reports)
            } else {
                Ok(table::compare(&reports))
            }
        }
        Some(("matrix", m)) => {
            let scenario = args::scenario_from(m)?;
            let cells = dsim_core::matrix::matrix(&scenario).map_err(|e| e.to_string())?;
            if m.get_flag("json") {
                json(&cells)
            } else {
                Ok(table::matrix(&cells))
            }
        }
        Some(("trace", m)) => {
            let scenario = args::scenario_from(m)?;
            let id: u32 = m
                .get_one::<String>("message")
                .and_then(|s| s.parse().ok())
                .ok_or("message: must be a whole number")?;
            if id >= scenario.messages {
                return Err(format!(
                    "message: must be below messages ({})",
                    scenario.messages
                ));
            }
            let trace = trace_message(&scenario, id);
            if m.get_flag("json") {
                return json(&trace);
            }
            if m.get_flag("mermaid") {
                return Ok(export::mermaid_sequence(id, &trace));
            }
            Ok(trace
                .iter()
                .map(|e| {
                    format!(
                        "{:>10.3} ms  {:<9} {:<22} {:<20} {}\n",
                        e.at_us as f64 / 1000.0,
                        format!("{:?}", e.actor),
                        format!("{:?}", e.kind),
                        export::attempt_and_copy(e),
                        e.note
                    )
                })
                .collect())
        }
        Some(("history", m)) => {
            // JSON lines are the only form (`--json`, which every scenario command has, changes
            // nothing).
            let scenario = args::scenario_from(m)?;
            export::history_json_lines(&scenario).map_err(|e| e.to_string())
        }
        Some(("sweep", m)) => sweep::run(m),
        Some(("bench", m)) => {
            let messages: u32 = m
                .get_one::<String>("messages")
                .and_then(|s| s.parse().ok())
                .filter(|&n| (1..=2_000_000).contains(&n))
                .ok_or("messages: must be a whole number between 1 and 2000000")?;
            let modes: Vec<Mode> = match m.get_one::<String>("mode") {
                Some(key) => {
                    vec![Mode::from_key(key).ok_or_else(|| format!("mode: unknown mode {key:?}"))?]
                }
                None => Mode::ALL.to_vec(),
            };
            let runs: u32 = m
                .get_one::<String>("repeat")
                .and_then(|s| s.parse().ok())
                .filter(|&n| (1..=100).contains(&n))
                .ok_or("repeat: must be a whole number between 1 and 100")?;
            let rows = bench::run(messages, &modes, runs);
            if m.get_flag("json") {
                json(&rows)
            } else {
                Ok(bench::table(&rows))
            }
        }
        Some(("presets", _)) => Ok(presets()
            .iter()
            .map(|p| {
                format!(
                    "{:<34} {}\n{:<34} dsim run --preset {}\n\n",
                    p.key, p.title, "", p.key
                )
            })
            .collect()),
        Some(("knobs", _)) => {
            // A choice lists its names, a number its range; the column fits the longest.
            let values: Vec<String> = knobs()
                .iter()
                .map(|k| match k.kind {
                    dsim_core::Kind::Choice(names) => names.join("|"),
                    _ => format!(
                        "{} .. {}",
                        dsim_core::knobs::format_number(k.min),
                        dsim_core::knobs::format_number(k.max)
                    ),
                })
                .collect();
            let width = values.iter().map(String::len).max().unwrap_or(0);
            Ok(knobs()
                .iter()
                .zip(&values)
                .map(|(k, values)| {
                    // Which broker families have the setting (a flag for another is refused).
                    let brokers: Vec<&str> = k.brokers.iter().map(|b| b.key()).collect();
                    format!(
                        "--{:<24} {values:<width$} {:<6} [{}] {}\n",
                        k.key,
                        k.unit,
                        brokers.join(","),
                        k.help
                    )
                })
                .collect())
        }
        _ => Err("unknown command (see `dsim --help`)".into()),
    }
}
