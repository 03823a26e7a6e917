//! `dsim run --scenario FILE` and `dsim compare` when they succeed: the tables exactly as a user
//! reads them (every figure is simulated, so deterministic), and the JSON checked against
//! another way to get the same report: the golden files for a scenario file, single runs for a
//! comparison, flags for the file they restate.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{dsim, refused, stdout};

/// The hand-written scenario files of the native-vs-wasm goldens (`tests/golden.rs`).
fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dsim-wasm/tests/golden")
}

fn golden_scenario(case: &str) -> String {
    let path = golden_dir().join(format!("{case}.scenario.json"));
    path.to_str().expect("a UTF-8 path").to_string()
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&stdout(args)).unwrap_or_else(|e| panic!("dsim {args:?}: {e}"))
}

/// `tests/golden.rs` writes each report as `simulate` gives it and says that is byte for byte
/// what `dsim run --scenario NAME.scenario.json --json` prints; this holds it to that through
/// the binary. A file with no consumers is the exception: the command line refuses it by policy.
#[test]
fn the_goldens_are_what_dsim_run_prints_for_their_scenario_files() {
    let mut compared = Vec::new();
    for entry in std::fs::read_dir(golden_dir()).expect("the golden directory") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(case) = name.strip_suffix(".scenario.json") else {
            continue;
        };
        let file = golden_scenario(case);
        let scenario: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        if scenario["consumers"] == 0 {
            refused(
                &["run", "--scenario", &file, "--json"],
                "consumers: must be between 1 and 64 on the command line (got 0)",
            );
            continue;
        }
        let golden = std::fs::read(golden_dir().join(format!("{case}.report.json")))
            .unwrap_or_else(|e| panic!("the report of golden {case}: {e}"));
        let printed = dsim(&["run", "--scenario", &file, "--json"]);
        assert!(printed.status.success(), "{case}: {printed:?}");
        assert!(
            printed.stdout == golden,
            "`dsim run --scenario {file} --json` differs from {case}.report.json"
        );
        compared.push(case.to_string());
    }
    assert!(
        compared.len() >= 5,
        "too few goldens compared: {compared:?}"
    );
}

#[test]
fn run_prints_the_report_of_a_scenario_file_as_a_table() {
    let table = stdout(&[
        "run",
        "--scenario",
        &golden_scenario("at-least-once-ack-loss"),
    ]);
    assert_eq!(
        table,
        "\
mode                     at-least-once
broker                   kafka
seed                     7
status                   drained: every message was applied or lost, and nothing is left in flight
produced                 2000
side effects             2111
unique processed         2000
duplicates               111
lost                     0 (silently 0, gave up 0, dead-lettered 0)
retries                  0
commit retries           45
replayed                 0
network messages         11151 (5.58 per message)
events simulated         15718
simulated duration       1744.6 ms
throughput               1976 msg/s
capacity                 4000 msg/s (the most the consumers sustain, from their busy time)
latency (ms)             p50 11.13  p95 15.13  p99 17.30  max 20.72
ledger                   expected $494,418.87  actual $521,500.75
double charged           68 customers, $27,081.88 too much
consumer lag             peak 67 records in partition 3 (log end offset minus committed offset, sampled at 690 ms); 0 in all partitions at the end
guarantee                no loss (duplicates allowed) — HELD
"
    );
}

/// The file is read first and flags override it, so the file and the same settings as flags
/// give one scenario, and one report.
#[test]
fn flags_override_a_scenario_file_setting_by_setting() {
    let file = golden_scenario("at-least-once-ack-loss");
    let from_file = json(&[
        "run",
        "--scenario",
        &file,
        "--seed",
        "8",
        "--messages",
        "300",
        "--json",
    ]);
    let from_flags = json(&[
        "run",
        "--mode",
        "at-least-once",
        "--seed",
        "8",
        "--messages",
        "300",
        "--ack-loss",
        "0.1",
        "--duplicate",
        "0.05",
        "--producer-idempotence",
        "off",
        "--json",
    ]);
    assert_eq!(from_file["seed"], 8);
    assert_eq!(from_file["produced"], 300);
    assert_eq!(from_file["scenario"]["ackLoss"], 0.1, "the file's setting");
    assert_eq!(from_file, from_flags);
}

/// Faults for every mode to handle differently: lost publishes, lost publish acks (retried,
/// so at-least-once duplicates) and network copies.
const FAULTY: &[&str] = &[
    "--messages",
    "400",
    "--seed",
    "3",
    "--publish-loss",
    "0.05",
    "--publish-ack-loss",
    "0.1",
    "--duplicate",
    "0.05",
    "--producer-idempotence",
    "off",
];

fn compare_with(extra: &[&str]) -> Vec<String> {
    let mut args = vec!["compare".to_string()];
    args.extend(FAULTY.iter().chain(extra).map(|s| s.to_string()));
    args
}

#[test]
fn compare_prints_every_mode_side_by_side() {
    let args = compare_with(&[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(
        stdout(&args),
        "\
mode                 status      lost   dupes    p50 ms    p99 ms      msg/s   capacity   net/msg  retries  guarantee
at-most-once         drained       21      15     16.11     26.11       1713       3850      4.08        0  BROKEN (no duplicates (loss allowed))
at-least-once        drained        0      63     11.62     65.38        497       4000      6.55       68  held (no loss (duplicates allowed))
idempotent-consumer  drained        0       0     11.75     65.66       1743       4150      6.57       68  held (no loss and no duplicates)
exactly-once         drained        0       0     65.15    790.53        470       3394      5.46      100  held (no loss and no duplicates)
outbox               drained        0       0     18.11     71.36       1684       4150      6.30       68  held (no loss and no duplicates)
"
    );
}

#[test]
fn compare_adds_the_card_providers_book_when_there_is_one() {
    assert_eq!(
        stdout(&["compare", "--preset", "exactly-once-trap", "--messages", "300"]),
        "\
mode                 status      lost   dupes    p50 ms    p99 ms      msg/s   capacity   net/msg  retries  guarantee
at-most-once         drained        0       0    153.60    413.69         47         79      8.32        0  held (no duplicates (loss allowed))
at-least-once        drained        0       4    142.72    565.25         46         79      9.33        4  held (no loss (duplicates allowed))
idempotent-consumer  drained        0       0    143.23    404.48         47         80      9.33        4  held (no loss and no duplicates)
exactly-once         drained        0       0    186.88    915.46         45         79     10.79        4  held (no loss and no duplicates)
outbox               drained        0       0    153.22    414.46         47         80      9.33        4  held (no loss and no duplicates)

external card charges (outside every mode's promise):
at-most-once               0 double charges        0 deduplicated by key
at-least-once              4 double charges        0 deduplicated by key
idempotent-consumer        0 double charges        0 deduplicated by key
exactly-once               4 double charges        0 deduplicated by key
outbox                     0 double charges        0 deduplicated by key
"
    );
}

/// "Every mode on the same seed and faults": each report of `compare --json` is the report of
/// `run --mode` with the same flags, in the order `dsim run --help` lists the modes. The mode a
/// scenario file names does not narrow the comparison.
#[test]
fn compare_json_is_one_single_run_per_mode() {
    let args = compare_with(&["--json"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let reports = json(&args);
    let reports = reports.as_array().expect("an array of reports");
    let modes = [
        "at-most-once",
        "at-least-once",
        "idempotent-consumer",
        "exactly-once",
        "outbox",
    ];
    assert_eq!(reports.len(), modes.len());
    for (report, mode) in reports.iter().zip(modes) {
        let mut run = vec!["run", "--mode", mode, "--json"];
        run.extend(FAULTY);
        assert_eq!(report, &json(&run), "compare's {mode} report");
    }
    let file = golden_scenario("at-least-once-ack-loss");
    let from_file = json(&["compare", "--scenario", &file, "--json"]);
    let modes_run: Vec<&str> = from_file
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes_run, modes);
    assert_eq!(
        from_file[1],
        json(&["run", "--scenario", &file, "--json"]),
        "the file's own mode, at-least-once, is compared as the file runs it"
    );
}

/// `dsim matrix`: one line per broker and mode, refused cells with their reason, and each
/// cell's JSON the same as `dsim run` of that broker and mode with the same flags.
#[test]
fn matrix_prints_every_broker_and_mode_and_each_cell_is_a_single_run() {
    let flags = ["--messages", "600", "--crash-after-process", "0.01"];
    let table = stdout(&[&["matrix"][..], &flags[..]].concat());
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("broker    mode"), "{table}");
    assert_eq!(
        lines.len(),
        1 + dsim_core::Broker::ALL.len() * dsim_core::Mode::ALL.len(),
        "{table}"
    );
    assert!(
        lines.iter().any(|l| l
            .starts_with("rabbitmq  exactly-once         refused: RabbitMQ has no transaction")),
        "{table}"
    );
    let cells = json(&[&["matrix", "--json"][..], &flags[..]].concat());
    for c in cells.as_array().expect("an array of cells") {
        let Some(o) = c.get("outcome") else {
            continue;
        };
        let (broker, mode) = (c["broker"].as_str().unwrap(), c["mode"].as_str().unwrap());
        let single = json(
            &[
                &["run", "--json", "--broker", broker, "--mode", mode][..],
                &flags[..],
            ]
            .concat(),
        );
        assert_eq!(o["duplicates"], single["duplicates"], "{broker} {mode}");
        assert_eq!(o["lost"], single["lost"], "{broker} {mode}");
        assert_eq!(o["p99_ms"], single["latency_ms"]["p99"], "{broker} {mode}");
    }
}
