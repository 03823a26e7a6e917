//! How reports and sweep results cross from the worker to the page: postcard, a compact
//! binary form, instead of JSON.
//!
//! Why: reading the replies as JSON took 61 KB of the page's gzipped wasm (every report type's
//! field-name matching, serde_json's float parser and its tables), the largest single item
//! against issue 5's budget; postcard reads the same types in a fraction of that.
//!
//! Postcard writes a struct as its fields in order, without names, so it cannot carry a field
//! that the JSON form leaves out when empty (`skip_serializing_if`), nor a scenario, whose
//! script entries are an internally tagged enum read through `serde_json::Value`. These
//! remote definitions give the three types that hold such fields (`Report`, `SweepResult`,
//! and `MatrixCell`, whose `refused` and `outcome` are left out of JSON when absent) a wire
//! form of their own:
//! every field always written, and the scenario not written at all (the page sent it with
//! the job; `Reply::decode` puts it back). Deserializing builds the real struct, so a field
//! added to `Report` or `SweepResult` and not here fails to compile.

use dsim_core::matrix::{CellOutcome, MatrixCell};
use dsim_core::report::{
    CostReport, HistogramBin, LatencySummary, LedgerReport, QueueReport, ReplicationReport,
    SeriesReport, SqsReport, StuckAt, ZombieReport,
};
use dsim_core::sweep::SweepPoint;
use dsim_core::{
    Broker, ExternalReport, Guarantee, Mode, Report, Scenario, ScriptedFiring, Status, SweepResult,
    SweepSpec,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize, Deserialize)]
#[serde(remote = "Report")]
pub struct ReportDef {
    mode: Mode,
    seed: u64,
    messages: u32,
    status: Status,
    produced: u64,
    side_effects: u64,
    unique_processed: u64,
    duplicates: u64,
    lost: u64,
    lost_silently: u64,
    gave_up: u64,
    dead_lettered: u64,
    in_flight: u64,
    retries: u64,
    commit_retries: u64,
    replayed: u64,
    offset_commits: u64,
    aborted_skipped: u64,
    reordered: u64,
    stuck_at: Option<StuckAt>,
    network_messages: u64,
    events: u64,
    duration_ms: f64,
    throughput_per_s: f64,
    capacity_per_s: Option<f64>,
    latency_ms: LatencySummary,
    latency_histogram: Vec<HistogramBin>,
    series: SeriesReport,
    ledger: LedgerReport,
    cost: CostReport,
    guarantee: Guarantee,
    example_duplicate: Option<u32>,
    example_loss: Option<u32>,
    example_replayed: Option<u32>,
    example_fenced: Option<u32>,
    scripted_faults: Vec<ScriptedFiring>,
    #[serde(skip)]
    scenario: Scenario,
    external: Option<ExternalReport>,
    zombies: Option<ZombieReport>,
    replication: Option<ReplicationReport>,
    queue: Option<QueueReport>,
    sqs: Option<SqsReport>,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "SweepResult")]
pub struct SweepResultDef {
    knob: String,
    label: String,
    unit: String,
    spec: SweepSpec,
    #[serde(skip)]
    base: Scenario,
    seeds: Vec<u64>,
    runs_done: u32,
    runs_total: u32,
    points: Vec<SweepPoint>,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "MatrixCell")]
pub struct MatrixCellDef {
    broker: Broker,
    mode: Mode,
    refused: Option<String>,
    outcome: Option<CellOutcome>,
}

/// A list of matrix cells in their wire form (`#[serde(with = "wire::cells")]`).
pub mod cells {
    use super::*;

    struct Out<'a>(&'a MatrixCell);

    impl Serialize for Out<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            MatrixCellDef::serialize(self.0, serializer)
        }
    }

    #[derive(Deserialize)]
    struct In(#[serde(with = "MatrixCellDef")] MatrixCell);

    pub fn serialize<S: Serializer>(
        cells: &[MatrixCell],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(cells.iter().map(Out))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<MatrixCell>, D::Error> {
        let cells = Vec::<In>::deserialize(deserializer)?;
        Ok(cells.into_iter().map(|In(cell)| cell).collect())
    }
}

/// A list of reports in their wire form (`#[serde(with = "wire::reports")]`).
pub mod reports {
    use super::*;

    struct Out<'a>(&'a Report);

    impl Serialize for Out<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            ReportDef::serialize(self.0, serializer)
        }
    }

    #[derive(Deserialize)]
    struct In(#[serde(with = "ReportDef")] Report);

    pub fn serialize<S: Serializer>(reports: &[Report], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(reports.iter().map(Out))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Report>, D::Error> {
        let reports = Vec::<In>::deserialize(deserializer)?;
        Ok(reports.into_iter().map(|In(report)| report).collect())
    }
}
