//! The `dsim` binary as a user meets it: `dsim sweep` prints a table, JSON or CSV of the
//! shape documented in the README; bad input of any kind is one line on stderr naming the
//! field, with exit code 2 and nothing on stdout. The command line shares the core's
//! validation and adds one policy of its own: no run without consumers.

// In a folder of its own, so cargo does not build it as a test binary of its own.
#[path = "cli/happy_paths.rs"]
mod happy_paths;

use std::process::{Command, Output};

use serde_json::Value;

fn dsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dsim"))
        .args(args)
        .output()
        .expect("run dsim")
}

fn stdout(args: &[&str]) -> String {
    let out = dsim(args);
    assert!(
        out.status.success(),
        "dsim {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// A small sweep: three values, two seeds, 200 messages per run.
const SMALL: &[&str] = &[
    "sweep",
    "--knob",
    "publish-ack-loss",
    "--from",
    "0",
    "--to",
    "0.4",
    "--steps",
    "3",
    "--seeds",
    "2",
    "--messages",
    "200",
    // Without idempotence, at-least-once's lost acks become duplicates (the theory line).
    "--producer-idempotence",
    "off",
];

fn with(extra: &[&'static str]) -> Vec<&'static str> {
    SMALL.iter().chain(extra).copied().collect()
}

#[test]
fn sweep_json_has_every_point_and_mode_with_bands_and_theory() {
    let json: Value = serde_json::from_str(&stdout(&with(&["--json", "--seed", "7"]))).unwrap();
    assert_eq!(json["knob"], "publish-ack-loss");
    assert_eq!(json["spec"]["steps"], 3);
    assert_eq!(json["seeds"], serde_json::json!([7, 8]));
    assert_eq!(json["base"]["messages"], 200);
    assert_eq!(json["runs_done"], json["runs_total"]);
    let points = json["points"].as_array().unwrap();
    let values: Vec<f64> = points
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values, [0.0, 0.2, 0.4]);
    for p in points {
        let modes = p["modes"].as_array().unwrap();
        assert_eq!(modes.len(), 5);
        for m in modes {
            for metric in [
                "duplicates_per_message",
                "lost_per_message",
                "latency_p99_ms",
                "throughput_per_s",
            ] {
                let e = &m[metric];
                let (low, mean, high) = (
                    e["low"].as_f64().unwrap(),
                    e["mean"].as_f64().unwrap(),
                    e["high"].as_f64().unwrap(),
                );
                assert!(low <= mean && mean <= high, "{metric} of {m}");
            }
            assert_eq!(m["runs"], 2);
        }
    }
    let alo = &points[1]["modes"][1];
    assert_eq!(alo["mode"], "at-least-once");
    let theory = alo["expected"]["duplicates_per_message"].as_f64().unwrap();
    assert!(
        (theory - 0.25).abs() < 1e-5,
        "about q / (1 - q) = 0.25: {theory}"
    );
}

#[test]
fn sweep_csv_is_one_row_per_value_and_mode() {
    let csv = stdout(&with(&["--csv"]));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 3 * 5);
    assert!(lines[0].starts_with("knob,value,mode,runs,stalled_runs,duplicates_per_message,"));
    let columns = lines[0].split(',').count();
    assert!(lines[1..].iter().all(|l| l.split(',').count() == columns));
    assert!(
        lines[15].starts_with("publish-ack-loss,0.4,outbox,2,0,"),
        "{}",
        lines[15]
    );
}

#[test]
fn sweep_prints_a_readable_table_by_default() {
    let table = stdout(SMALL);
    assert!(table.starts_with(
        "publish-ack-loss (Publish ack lost) from 0 to 0.4: 3 values × 5 modes × 2 runs"
    ));
    assert!(table.contains("dupes/msg") && table.contains("theory dupes"));
    assert_eq!(table.matches("at-least-once").count(), 3);
}

#[test]
fn a_knob_theory_does_not_model_gets_no_theory_column() {
    // Issue 29: a sweep of consumer-stall must not print theory's 0 beside measured
    // duplicates. At 0 every formula holds (nothing is on); above it there is none.
    let table = stdout(&[
        "sweep",
        "--knob",
        "consumer-stall",
        "--from",
        "0",
        "--to",
        "0.1",
        "--steps",
        "2",
        "--seeds",
        "2",
        "--messages",
        "200",
    ]);
    let rows: Vec<&str> = table
        .lines()
        .filter(|l| l.contains("at-least-once"))
        .collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert!(
        rows[0].trim_end().ends_with("0.0000      0.0000"),
        "{table}"
    );
    assert!(rows[1].trim_end().ends_with("-           -"), "{table}");
}

#[test]
fn the_base_scenario_comes_from_a_preset_and_flags() {
    let json: Value = serde_json::from_str(&stdout(&[
        "sweep",
        "--preset",
        "double-charge",
        "--knob",
        "max-retries",
        "--from",
        "0",
        "--to",
        "2",
        "--steps",
        "2",
        "--seeds",
        "2",
        "--messages",
        "200",
        "--json",
    ]))
    .unwrap();
    assert_eq!(json["base"]["messages"], 200);
    assert!(
        json["base"]["publishAckLoss"].as_f64().unwrap() > 0.0,
        "the preset's fault"
    );
}

#[test]
fn bad_sweeps_get_one_line_naming_the_field() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--knob", "mode", "--from", "0", "--to", "1"],
            "error: knob: mode cannot be swept",
        ),
        (
            &["--knob", "ack-loss", "--from", "0", "--to", "2"],
            "error: to: ack-loss must be between 0 and 1 (got 2)",
        ),
        (
            &["--knob", "ack-loss", "--from", "zero", "--to", "1"],
            "error: from: must be a number (got \"zero\")",
        ),
        (
            &[
                "--knob", "ack-loss", "--from", "0", "--to", "1", "--seeds", "1",
            ],
            "error: seeds: must be between 2 and 100",
        ),
        (
            &[
                "--knob",
                "ack-loss",
                "--from",
                "0",
                "--to",
                "1",
                "--ack-loss",
                "0.1",
            ],
            "error: ack-loss: is the swept setting",
        ),
        (
            &[
                "--knob", "ack-loss", "--from", "0", "--to", "1", "--steps", "101", "--seeds",
                "100",
            ],
            "error: sweep: would simulate",
        ),
        (
            &["--knob", "ack-loss", "--from", "0"],
            "error: the following required arguments were not provided: --to <VALUE>",
        ),
        (
            &[
                "--knob", "ack-loss", "--from", "0", "--to", "1", "--json", "--csv",
            ],
            "error: the argument '--json' cannot be used with '--csv'",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["sweep"];
        all.extend_from_slice(args);
        let out = dsim(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "dsim {all:?}: {stderr}");
        assert!(stderr.starts_with(expected), "dsim {all:?}: {stderr:?}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn exports_from_the_command_line() {
    let mermaid = stdout(&[
        "trace",
        "--preset",
        "double-charge",
        "--message",
        "1",
        "--mermaid",
    ]);
    assert!(mermaid.starts_with("sequenceDiagram\n"));
    assert!(mermaid.contains("P->>B: 0.5 ms publish (message 1 · attempt 1 · copy 0)"));

    let history = stdout(&["history", "--messages", "20", "--ack-loss", "0.3"]);
    for line in history.lines() {
        let event: Value = serde_json::from_str(line).expect("one JSON object per line");
        assert!(event["message"].as_u64().unwrap() < 20);
        assert!(event["kind"].is_string() && event["attempt"].is_u64() && event["copy"].is_u64());
    }

    let csv = stdout(&["run", "--messages", "300", "--series-csv"]);
    assert!(csv.starts_with("t_ms,throughput_per_s,applied,"));

    // The trace table names each event's attempt and copy.
    let text = stdout(&["trace", "--preset", "double-charge", "--message", "1"]);
    assert!(text.contains("attempt 1 · copy 0"), "{text}");
}

fn refused(args: &[&str], expected: &str) {
    let out = dsim(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed a report");
    assert_eq!(
        stderr.lines().count(),
        1,
        "{args:?}: not one line: {stderr}"
    );
    assert!(
        stderr.starts_with(&format!("error: {expected}")),
        "{args:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

#[test]
fn zero_consumers_is_refused_on_the_command_line_only() {
    refused(
        &["run", "--consumers", "0"],
        "consumers: must be between 1 and 64 on the command line (got 0)",
    );
    refused(
        &["compare", "--consumers", "0"],
        "consumers: must be between 1 and 64 on the command line",
    );
    // The same scenario from a file (the page's JSON, where 0 is valid) meets the same policy.
    let file = std::env::temp_dir().join(format!("dsim-cli-zero-{}.json", std::process::id()));
    std::fs::write(&file, r#"{"consumers": 0, "messages": 10}"#).unwrap();
    refused(
        &["run", "--scenario", file.to_str().unwrap()],
        "consumers: must be between 1 and 64 on the command line",
    );
    std::fs::remove_file(&file).ok();
    // The shared validation still names its own range above the policy.
    refused(
        &["run", "--consumers", "65"],
        "consumers: must be between 0 and 64 (got 65)",
    );
}

#[test]
fn out_of_range_and_hostile_values_are_one_line_errors() {
    refused(
        &["run", "--publish-loss", "2"],
        "publish-loss: must be between 0 and 1 (got 2)",
    );
    refused(
        &["run", "--messages", "2000001"],
        "messages: must be between 1 and 2000000",
    );
    refused(
        &["run", "--ack-loss", "NaN"],
        "ack-loss: must be a finite number",
    );
    refused(
        &["run", "--latency-ms", "1e400"],
        "latency-ms: must be a finite number",
    );
    refused(&["run", "--seed", "-1"], "seed: must be between 0");
    refused(
        &["run", "--mode", "<script>alert(1)</script>"],
        "mode: must be one of",
    );
    refused(
        &["run", "--preset", "'; rm -rf /"],
        "preset: no preset named",
    );
    // A pasted wall of text is clipped, so the error stays one short line.
    let long = "9".repeat(10_000);
    let out = dsim(&["run", "--max-poll", &long]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.len() < 200, "{stderr}");
}

#[test]
fn a_hopeless_run_ends_with_a_clear_status() {
    let out = dsim(&[
        "run",
        "--messages",
        "100",
        "--publish-loss",
        "1",
        "--mode",
        "at-least-once",
        "--json",
    ]);
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "gave-up");
    assert_eq!(report["gave_up"], 100);

    let table = dsim(&["run", "--messages", "100", "--publish-loss", "1"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("gave up: 100 messages ran out of retries"),
        "{text}"
    );
}

#[test]
fn the_trap_and_zombie_flags_are_there_and_checked() {
    let help = stdout(&["run", "--help"]);
    for flag in [
        "--external-effect <off|on>",
        "--idempotency-key <off|on>",
        "--external-latency-ms",
        "--consumer-stall",
        "--stall-ms",
        "--fencing <off|on>",
    ] {
        assert!(help.contains(flag), "{flag} missing from `dsim run --help`");
    }
    let presets = stdout(&["presets"]);
    assert!(presets.contains("exactly-once-trap") && presets.contains("zombie-consumer"));
    // The table says what the card provider did, and that the promise does not cover it.
    let table = stdout(&["run", "--preset", "exactly-once-trap"]);
    assert!(table.contains("external charges"), "{table}");
    assert!(
        table.contains("held its promise for the broker's ledger"),
        "{table}"
    );
    let keyed = stdout(&[
        "run",
        "--preset",
        "exactly-once-trap",
        "--idempotency-key",
        "on",
        "--json",
    ]);
    let report: Value = serde_json::from_str(&keyed).unwrap();
    assert_eq!(report["external"]["double_charges"], 0);
    assert!(report["external"]["deduplicated_by_key"].as_u64().unwrap() > 0);
    let zombie = stdout(&["run", "--preset", "zombie-consumer"]);
    assert!(zombie.contains("consumer stalls"), "{zombie}");
    assert!(zombie.contains("fencing off"), "{zombie}");
    refused(
        &["run", "--fencing", "maybe"],
        "fencing: must be one of off, on (got \"maybe\")",
    );
    refused(
        &["run", "--stall-ms", "0"],
        "stall-ms: must be between 1 and 600000 ms (got 0)",
    );
}

#[test]
fn the_replication_flags_are_there_and_checked() {
    let help = stdout(&["run", "--help"]);
    for flag in [
        "--replica-lag <P>",
        "--replica-lag-ms <MS>",
        "--min-insync-replicas <N>",
        "--unclean-election <off|on>",
    ] {
        assert!(help.contains(flag), "{flag} missing from `dsim run --help`");
    }
    let knobs = stdout(&["knobs"]);
    assert!(knobs.contains("min-insync-replicas"), "{knobs}");
    // Refused with one line naming both settings, whichever came from where.
    refused(
        &[
            "run",
            "--replication-factor",
            "2",
            "--min-insync-replicas",
            "3",
        ],
        "min-insync-replicas: must be at most replication-factor, 2 (got 3)",
    );
    refused(
        &["run", "--min-insync-replicas", "4"],
        "min-insync-replicas: must be at most replication-factor, 3 (got 4)",
    );
    let file = std::env::temp_dir().join(format!("dsim-cli-isr-{}.json", std::process::id()));
    std::fs::write(&file, r#"{"minInsyncReplicas": 3, "replicationFactor": 2}"#).unwrap();
    refused(
        &["run", "--scenario", file.to_str().unwrap()],
        &format!(
            "{}: min-insync-replicas: must be at most replication-factor, 2 (got 3)",
            file.display()
        ),
    );
    std::fs::remove_file(&file).ok();
    refused(
        &[
            "run",
            "--preset",
            "min-insync-1-loses-acked",
            "--min-insync-replicas",
            "3",
        ],
        "min-insync-replicas: must be at most replication-factor, 2 (got 3)",
    );
    // The preset loses acknowledged records; the table names Kafka's mechanism.
    let table = stdout(&["run", "--preset", "min-insync-1-loses-acked"]);
    assert!(table.contains("in-sync replicas"), "{table}");
    assert!(table.contains("BROKEN"), "{table}");
    let json: Value = serde_json::from_str(&stdout(&[
        "run",
        "--preset",
        "min-insync-1-loses-acked",
        "--min-insync-replicas",
        "2",
        "--json",
    ]))
    .unwrap();
    assert_eq!(json["lost"], 0);
    assert!(json["replication"]["not_enough_replicas"].as_u64().unwrap() > 0);
}

#[test]
fn the_producer_flags_are_there_and_checked() {
    let help = stdout(&["run", "--help"]);
    for flag in [
        "--producer-idempotence <auto|on|off>",
        "--max-in-flight",
        "--producer-restart",
        "--relay-crash",
    ] {
        assert!(help.contains(flag), "{flag} missing from `dsim run --help`");
    }
    let knobs = stdout(&["knobs"]);
    for key in [
        "producer-idempotence",
        "max-in-flight",
        "producer-restart",
        "relay-crash",
    ] {
        assert!(knobs.contains(key), "{key} missing from `dsim knobs`");
    }
    let json = stdout(&[
        "run",
        "--preset",
        "producer-restart-new-pid",
        "--messages",
        "2000",
        "--max-in-flight",
        "2",
        "--json",
    ]);
    let report: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["scenario"]["producerRestart"], 0.005);
    assert_eq!(report["scenario"]["maxInFlight"], 2);
    assert!(report["cost"]["producer_restarts"].as_u64().unwrap() > 0);
    assert!(report["duplicates"].as_u64().unwrap() > 0);
    assert!(report["reordered"].is_u64());
    // Kafka's ConfigException, in either order of the flags.
    let line = "producer-idempotence: on requires acks=all";
    refused(
        &["run", "--acks", "leader", "--producer-idempotence", "on"],
        line,
    );
    refused(
        &["run", "--producer-idempotence", "on", "--acks", "leader"],
        line,
    );
    refused(
        &["run", "--max-in-flight", "6"],
        "max-in-flight: must be between 1 and 5 (got 6)",
    );
    refused(
        &["run", "--producer-idempotence", "yes"],
        "producer-idempotence: must be one of auto, on, off (got \"yes\")",
    );
}

/// `dsim bench` runs each scenario `--repeat` times and reports the median run's rates with
/// the slowest and fastest beside them (no claim about speed here: that is `cargo xtask bench`),
/// and the heap a run holds.
#[test]
fn bench_reports_the_median_of_repeated_runs_with_their_range_and_heap() {
    let json = stdout(&[
        "bench",
        "--mode",
        "at-least-once",
        "--messages",
        "2000",
        "--repeat",
        "3",
        "--json",
    ]);
    let rows: Value = serde_json::from_str(&json).expect("JSON");
    let rows = rows.as_array().expect("an array");
    let faults: Vec<&str> = rows.iter().map(|r| r["faults"].as_str().unwrap()).collect();
    assert_eq!(faults, ["0%", "10%"]);
    for row in rows {
        assert_eq!(row["mode"], "at-least-once");
        assert_eq!(row["runs"], 3);
        assert_eq!(row["messages"], 2000);
        assert!(row["events"].as_u64().unwrap() > 2000, "{row}");
        let rate = |k: &str| row[k].as_f64().unwrap();
        assert!(
            rate("messages_per_s_min") <= rate("messages_per_s"),
            "{row}"
        );
        assert!(
            rate("messages_per_s") <= rate("messages_per_s_max"),
            "{row}"
        );
        let per_event = rate("events_per_s") / rate("messages_per_s");
        let events_per_msg = row["events"].as_f64().unwrap() / 2000.0;
        assert!((per_event - events_per_msg).abs() < 1e-6, "{row}");
        // Heap: the run's peak holds at least its message table, and a message in flight
        // costs at least its own state (32 bytes) and at most what `tests/memory.rs` allows.
        let peak_heap = row["peak_heap_bytes"].as_u64().unwrap();
        assert!(
            peak_heap > 32 * row["peak_in_flight_messages"].as_u64().unwrap(),
            "{row}"
        );
        let per_in_flight = rate("heap_per_in_flight_bytes");
        assert!((32.0..=512.0).contains(&per_in_flight), "{row}");
    }
    let table = stdout(&["bench", "--mode", "outbox", "--messages", "500"]);
    assert!(table.contains("median of 3 runs"), "{table}");
    assert!(table.contains("B/in flight"), "{table}");
    refused(&["bench", "--repeat", "0"], "repeat:");
    refused(&["bench", "--repeat", "many"], "repeat:");
}

/// Every flag against every broker, whatever the knob table says today: a setting the broker
/// has is taken, one it lacks is refused with the core's one line (naming the setting and the
/// broker), even at its default value and whichever flag comes first.
#[test]
fn a_flag_the_broker_lacks_is_refused_in_one_line() {
    let defaults = dsim_core::Scenario::default();
    let (mut taken, mut refusals) = (0, 0);
    for b in dsim_core::Broker::ALL {
        for k in dsim_core::knobs() {
            let flag = format!("--{}", k.key);
            let value = k.get_text(&defaults);
            let mut args = vec!["run", &flag, &value];
            if k.key != "broker" {
                args.extend(["--broker", b.key()]);
            }
            if k.key != "messages" {
                args.extend(["--messages", "20"]);
            }
            match k.check_broker(b) {
                Ok(()) => {
                    let out = dsim(&args);
                    assert!(
                        out.status.success(),
                        "{args:?}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    taken += 1;
                }
                Err(e) => {
                    refused(&args, &e.to_string());
                    refusals += 1;
                }
            }
        }
    }
    assert_eq!(
        taken + refusals,
        dsim_core::knobs().len() * dsim_core::Broker::ALL.len()
    );
    refused(
        &["run", "--broker", "pulsar"],
        "broker: must be one of kafka, rabbitmq, sqs, sqs-fifo (got \"pulsar\")",
    );
}

#[test]
fn the_run_and_compare_tables_show_the_broker_and_capacity_beside_throughput() {
    let table = stdout(&["run", "--messages", "500"]);
    assert!(
        table.contains("broker                   kafka\n"),
        "{table}"
    );
    assert!(
        table.contains("capacity                 4000 msg/s (the most the consumers sustain"),
        "{table}"
    );
    let table = stdout(&["compare", "--messages", "500"]);
    let header = table.lines().next().unwrap();
    assert!(header.contains("msg/s   capacity"), "{header}");
    let eos = table
        .lines()
        .find(|l| l.starts_with("exactly-once"))
        .unwrap();
    assert!(
        !eos.contains(" 4000 "),
        "exactly-once pays for its transactions: {eos}"
    );
    let json: Value =
        serde_json::from_str(&stdout(&["run", "--messages", "500", "--json"])).unwrap();
    assert_eq!(json["capacity_per_s"], 4000.0);
    assert_eq!(json["scenario"]["broker"], "kafka");
}

/// `dsim knobs` lists a choice by its names (never its index range, as `0 .. 4` for mode),
/// and the help starts in the same column on every line.
#[test]
fn knobs_lists_choices_by_name_in_aligned_columns() {
    let knobs = stdout(&["knobs"]);
    let line = |key: &str| {
        knobs
            .lines()
            .find(|l| l.starts_with(&format!("--{key} ")))
            .unwrap_or_else(|| panic!("no --{key} line in:\n{knobs}"))
            .to_string()
    };
    assert!(
        line("mode").contains("at-most-once|at-least-once|idempotent-consumer|exactly-once|outbox"),
        "{}",
        line("mode")
    );
    assert!(line("acks").contains("leader|all"), "{}", line("acks"));
    assert!(!line("acks").contains(" .. "), "{}", line("acks"));
    // The broker list, "[...]", opens in one column whatever the width of the values before it.
    let columns: std::collections::BTreeSet<usize> = knobs
        .lines()
        .filter(|l| l.starts_with("--"))
        .map(|l| l.find(" [").expect("a broker list"))
        .collect();
    assert_eq!(
        columns.len(),
        1,
        "broker lists start in columns {columns:?}:\n{knobs}"
    );
}
