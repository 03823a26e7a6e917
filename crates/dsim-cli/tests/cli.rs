//! The `dsim` binary from the outside: bad input of any kind is one line on stderr naming the
//! field, with exit code 2 and nothing on stdout; good input runs. The command line shares the
//! core's validation and adds one policy of its own: no run without consumers.

use std::process::{Command, Output};

fn dsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dsim"))
        .args(args)
        .output()
        .expect("run dsim")
}

/// Checks that `args` are refused with one line that starts with `expected`.
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
