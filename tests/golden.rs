//! Native-vs-wasm determinism, native half: the native core's reports for a few fixed
//! scenarios, kept as golden files in `crates/dsim-wasm/tests/golden/`. The JS API's browser
//! tests (`crates/dsim-wasm/tests/web.rs`) run the same scenario files through the wasm module
//! and must get the same reports, floats included, so a platform difference in the engine
//! shows up as a failing test rather than as a page that disagrees with the CLI.
//!
//! Each case is a pair: `NAME.scenario.json` (hand-written, the input) and `NAME.report.json`
//! (generated: byte for byte what `dsim run --scenario NAME.scenario.json --json` prints, as
//! `crates/dsim-cli/tests/cli/happy_paths.rs` checks through the binary; except for a case with
//! no consumers, which the command line refuses by policy).
//! Regenerate the reports with `DSIM_BLESS=1 cargo test -p dsim-tests --test golden` after a
//! deliberate change to the engine, and review the diff.

use std::path::{Path, PathBuf};

use dsim_core::Scenario;

/// Every golden case; the wasm tests list the same names.
const CASES: &[&str] = &[
    // Duplicates from lost acks and network copies, nothing lost: at-least-once's bargain.
    "at-least-once-ack-loss",
    // Crashes on both sides of processing, lost publish acks and a broker crash: the
    // transactional path, fencing and aborts.
    "exactly-once-crashes",
    // A dedup window shorter than the retries: a broken promise, so the report carries a
    // counterexample with its full trace.
    "idempotent-short-dedup-window",
    // No consumers: the run stalls with everything in flight.
    "zero-consumers-stalled",
    // Every publish lost: at-least-once runs out of retries and gives up.
    "total-publish-loss-gave-up",
    // A fault timeline on top of random ack loss: consumer crashes at and after processing,
    // partitions from a producer and from a consumer, and a broker crash with acks=leader
    // that loses acked records, so the counterexample's trace carries scripted notes.
    "scripted-timeline",
    // RabbitMQ: crashes on both sides of processing, lost basic.acks (dropped connections),
    // lost confirms and a node restart, all requeueing prefetched windows.
    "rabbitmq-requeue",
];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/dsim-wasm/tests/golden")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The report file's contents for a scenario file's contents, as the CLI would print them.
fn native_report(scenario_json: &str) -> Result<String, String> {
    let scenario = Scenario::from_json(scenario_json).map_err(|e| e.to_string())?;
    let report = dsim_core::simulate(&scenario).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    Ok(text + "\n")
}

#[test]
fn native_reports_equal_the_goldens_the_wasm_tests_compare_against() {
    let dir = golden_dir();
    let bless = std::env::var_os("DSIM_BLESS").is_some();
    let mut stale = Vec::new();
    for case in CASES {
        let scenario_json = read(&dir.join(format!("{case}.scenario.json")));
        let report = native_report(&scenario_json)
            .unwrap_or_else(|e| panic!("golden case {case}: {e}\nscenario: {scenario_json}"));
        let path = dir.join(format!("{case}.report.json"));
        if bless {
            std::fs::write(&path, &report)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(report.as_str()) {
            stale.push(format!("{case}, scenario {}", scenario_json.trim()));
        }
    }
    assert!(
        stale.is_empty(),
        "the native core no longer gives the golden reports for:\n  {}\n\
         If the engine changed on purpose, regenerate them with \
         `DSIM_BLESS=1 cargo test -p dsim-tests --test golden` and review the diff; \
         the wasm tests compare against the same files.",
        stale.join("\n  ")
    );
}

/// A golden that no test runs checks nothing: every scenario file must be a listed case, and
/// the wasm tests must include every listed case.
#[test]
fn every_golden_case_is_listed_here_and_in_the_wasm_tests() {
    let mut files: Vec<String> = std::fs::read_dir(golden_dir())
        .expect("golden directory")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".scenario.json").map(str::to_string)
        })
        .collect();
    files.sort();
    let mut listed: Vec<String> = CASES.iter().map(|c| c.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed, "scenario files vs. CASES in tests/golden.rs");

    let wasm_tests = read(&golden_dir().join("../web.rs"));
    for case in CASES {
        assert!(
            wasm_tests.contains(&format!("golden/{case}.report.json")),
            "crates/dsim-wasm/tests/web.rs does not compare against the golden {case}"
        );
    }
}

/// The native-vs-wasm check over the whole fault space: digests of the reports for scenarios
/// drawn from the knob table (`knobs::sample_scenario`, the fuzzers' generator), which the
/// wasm tests recompute in the browser. Seeds whose runs take more than `MAX_EVENTS_IN_WASM`
/// events are passed over so that the browser test stays quick in a debug build.
const FAULT_SPACE: &str = "fault-space.digests.txt";
const FAULT_SPACE_CASES: usize = 24;
const MAX_EVENTS_IN_WASM: u64 = 300_000;

/// FNV-1a, as in the determinism digests and the wasm test.
fn digest(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn fault_space_digests_for_the_wasm_tests() {
    let mut lines = String::from(
        "# seed, FNV-1a of the report JSON, mode and status; written by tests/golden.rs\n",
    );
    let mut cases = 0;
    for seed in 0u64.. {
        if cases == FAULT_SPACE_CASES {
            break;
        }
        let s = dsim_core::knobs::sample_scenario(seed, 300);
        let report = dsim_core::simulate(&s).expect("sampled scenarios are valid");
        if report.events > MAX_EVENTS_IN_WASM {
            continue;
        }
        let json = serde_json::to_string(&report).unwrap();
        lines.push_str(&format!(
            "{seed} {:016x} {} {:?}\n",
            digest(&json),
            report.mode.key(),
            report.status
        ));
        cases += 1;
    }
    let path = golden_dir().join(FAULT_SPACE);
    if std::env::var_os("DSIM_BLESS").is_some() {
        std::fs::write(&path, &lines).unwrap();
    }
    assert_eq!(
        read(&path),
        lines,
        "the native core's fault-space digests changed; if on purpose, \
         `DSIM_BLESS=1 cargo test -p dsim-tests --test golden` and review the diff"
    );
}
