//! Native-vs-wasm determinism, native half: the native core's reports for a few fixed
//! scenarios, kept as golden files in `crates/dsim-wasm/tests/golden/`. The JS API's browser
//! tests (`crates/dsim-wasm/tests/web.rs`) run the same scenario files through the wasm module
//! and must get the same reports, floats included, so a platform difference in the engine
//! shows up as a failing test rather than as a page that disagrees with the CLI.
//!
//! Each case is a pair: `NAME.scenario.json` (hand-written, the input) and `NAME.report.json`
//! (generated: byte for byte what `dsim run --scenario NAME.scenario.json --json` prints).
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
