//! The `dsim` binary as a user meets it: `dsim sweep` prints a table, JSON or CSV of the
//! shape documented in the README, and bad input gets one line naming the field and exit
//! code 2.

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
    "ack-loss",
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
];

fn with(extra: &[&'static str]) -> Vec<&'static str> {
    SMALL.iter().chain(extra).copied().collect()
}

#[test]
fn sweep_json_has_every_point_and_mode_with_bands_and_theory() {
    let json: Value = serde_json::from_str(&stdout(&with(&["--json", "--seed", "7"]))).unwrap();
    assert_eq!(json["knob"], "ack-loss");
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
        lines[15].starts_with("ack-loss,0.4,outbox,2,0,"),
        "{}",
        lines[15]
    );
}

#[test]
fn sweep_prints_a_readable_table_by_default() {
    let table = stdout(SMALL);
    assert!(
        table
            .starts_with("ack-loss (Ack / commit lost) from 0 to 0.4: 3 values × 5 modes × 2 runs")
    );
    assert!(table.contains("dupes/msg") && table.contains("theory dupes"));
    assert_eq!(table.matches("at-least-once").count(), 3);
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
