//! What the page and its Web Worker say to each other. Heavy runs (see `offloads`) go to the
//! worker so the page keeps drawing while they run. The protocol is plain Rust, tested
//! natively: jobs go to the worker as JSON text, replies come back as postcard bytes (`wire`).

use dsim_core::matrix::MatrixCell;
use dsim_core::{Report, Scenario, SweepProgress, SweepResult, SweepSpec, TraceEvent};
use serde::{Deserialize, Serialize};

mod wire;

/// Runs of at least this many messages go to the worker. Below it a run finishes within a few
/// frames on the main thread, and watching it animate there is the point.
pub const OFFLOAD_MESSAGES: u32 = 50_000;

/// Whether a scenario's runs go to the worker.
pub fn offloads(scenario: &Scenario) -> bool {
    scenario.messages >= OFFLOAD_MESSAGES
}

/// How often the worker reports progress, in milliseconds of wall time.
pub const PROGRESS_EVERY_MS: f64 = 100.0;

/// A job for the worker; `id` ties the replies to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: u32,
    pub kind: JobKind,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum JobKind {
    /// One run, reported as it goes.
    Run(Scenario),
    /// The same scenario in every mode.
    Compare(Scenario),
    /// One message's trace: a replay of the run up to that message's end, which for a late
    /// message of a heavy run takes as long as the run itself.
    Trace { scenario: Scenario, message: u32 },
    /// A sweep of `spec` over `base` (`dsim_core::Sweep`), always in the worker: even a small
    /// one is hundreds of runs.
    Sweep { base: Scenario, spec: SweepSpec },
    /// The real-world systems table (`dsim_core::matrix`): every broker × mode on the
    /// scenario's faults and seed, always in the worker, as it is one run per cell.
    Matrix(Scenario),
}

/// Sent as postcard bytes (`encode`, `decode`); see `wire` for why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub id: u32,
    pub body: ReplyBody,
}

/// Reports and sweep results travel without the scenario in them: the page sent it with the
/// job, and `Reply::decode` puts it back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ReplyBody {
    /// The worker has loaded and takes jobs.
    Ready,
    /// A run's report so far.
    RunProgress {
        fraction: f64,
        #[serde(with = "wire::ReportDef")]
        report: Report,
    },
    /// A run's final report (with its counterexample), and the wall time it took.
    RunDone {
        #[serde(with = "wire::ReportDef")]
        report: Report,
        elapsed_ms: f64,
    },
    /// The compare runs finished so far.
    CompareProgress {
        fraction: f64,
        #[serde(with = "wire::reports")]
        reports: Vec<Report>,
    },
    CompareDone {
        #[serde(with = "wire::reports")]
        reports: Vec<Report>,
        elapsed_ms: f64,
    },
    /// A message's trace (empty if the run never produced it).
    TraceDone {
        message: u32,
        trace: Vec<TraceEvent>,
    },
    /// How far a sweep has got, with the points finished so far.
    SweepProgress {
        progress: SweepProgress,
        #[serde(with = "wire::SweepResultDef")]
        result: SweepResult,
    },
    SweepDone {
        #[serde(with = "wire::SweepResultDef")]
        result: SweepResult,
        elapsed_ms: f64,
    },
    /// The table's cells finished so far, in table order (brokers, then modes).
    MatrixProgress {
        fraction: f64,
        #[serde(with = "wire::cells")]
        cells: Vec<MatrixCell>,
    },
    MatrixDone {
        #[serde(with = "wire::cells")]
        cells: Vec<MatrixCell>,
        elapsed_ms: f64,
    },
    /// The job could not be read, or named a sweep the core refuses: a bug (the page checks
    /// every sweep before it sends it), reported rather than swallowed.
    Failed { message: String },
}

impl ReplyBody {
    /// Whether this is a job's last reply: the worker has nothing left to do and can take the
    /// next job (`offload` keeps it for that). `Failed` is not: the page drops that worker.
    pub fn ends_job(&self) -> bool {
        matches!(
            self,
            ReplyBody::RunDone { .. }
                | ReplyBody::CompareDone { .. }
                | ReplyBody::TraceDone { .. }
                | ReplyBody::SweepDone { .. }
                | ReplyBody::MatrixDone { .. }
        )
    }
}

impl Job {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("jobs always serialize")
    }

    pub fn from_json(text: &str) -> Result<Job, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

impl Reply {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("replies always serialize")
    }

    /// Reads a reply to `job`, and gives its reports and sweep results back the scenario
    /// they were run from, which the job holds. A reply that cannot belong to that job (a
    /// run's report for a sweep) is an error.
    pub fn decode(bytes: &[u8], job: &JobKind) -> Result<Reply, String> {
        let mut reply: Reply = postcard::from_bytes(bytes).map_err(|e| e.to_string())?;
        let mismatch = || Err("a reply that does not belong to its job".to_string());
        match (&mut reply.body, job) {
            (
                ReplyBody::RunProgress { report, .. } | ReplyBody::RunDone { report, .. },
                JobKind::Run(scenario),
            ) => report.scenario = scenario.clone(),
            (
                ReplyBody::CompareProgress { reports, .. } | ReplyBody::CompareDone { reports, .. },
                JobKind::Compare(scenario),
            ) => {
                for report in reports {
                    report.scenario = scenario.with_mode(report.mode);
                }
            }
            (
                ReplyBody::SweepProgress { result, .. } | ReplyBody::SweepDone { result, .. },
                JobKind::Sweep { base, .. },
            ) => result.base = base.clone(),
            (
                ReplyBody::RunProgress { .. }
                | ReplyBody::RunDone { .. }
                | ReplyBody::CompareProgress { .. }
                | ReplyBody::CompareDone { .. }
                | ReplyBody::SweepProgress { .. }
                | ReplyBody::SweepDone { .. },
                _,
            ) => return mismatch(),
            // A cell holds no scenario, only its query: nothing to put back.
            (
                ReplyBody::MatrixProgress { .. } | ReplyBody::MatrixDone { .. },
                JobKind::Matrix(_),
            ) => {}
            (ReplyBody::MatrixProgress { .. } | ReplyBody::MatrixDone { .. }, _) => {
                return mismatch();
            }
            (ReplyBody::TraceDone { .. }, JobKind::Trace { .. }) => {}
            (ReplyBody::TraceDone { .. }, _) => return mismatch(),
            (ReplyBody::Ready | ReplyBody::Failed { .. }, _) => {}
        }
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsim_core::{Mode, simulate};

    #[test]
    fn a_job_survives_the_trip_as_text_and_a_reply_as_bytes() {
        let scenario = Scenario {
            mode: Mode::ExactlyOnce,
            messages: 300,
            seed: 9,
            ..Scenario::default()
        };
        let job = Job {
            id: 3,
            kind: JobKind::Run(scenario.clone()),
        };
        assert_eq!(Job::from_json(&job.to_json()).as_ref(), Ok(&job));
        let reply = Reply {
            id: 3,
            body: ReplyBody::RunDone {
                report: simulate(&scenario).expect("valid"),
                elapsed_ms: 12.5,
            },
        };
        assert_eq!(Reply::decode(&reply.encode(), &job.kind), Ok(reply));
    }

    #[test]
    fn a_sweep_job_and_its_result_survive_the_trip() {
        let base = Scenario {
            messages: 100,
            ack_loss: 0.1,
            seed: 4,
            ..Scenario::default()
        };
        let spec = SweepSpec {
            knob: "delivery-loss".into(),
            from: 0.0,
            to: 0.2,
            steps: 2,
            seeds: 2,
        };
        let job = Job {
            id: 5,
            kind: JobKind::Sweep {
                base: base.clone(),
                spec: spec.clone(),
            },
        };
        assert_eq!(Job::from_json(&job.to_json()).as_ref(), Ok(&job));
        let result = dsim_core::sweep(&base, &spec).expect("valid");
        let reply = Reply {
            id: 5,
            body: ReplyBody::SweepDone {
                result,
                elapsed_ms: 3.0,
            },
        };
        // Bit for bit: the means and bands the page draws are the worker's.
        assert_eq!(Reply::decode(&reply.encode(), &job.kind), Ok(reply));
    }

    /// The bytes carry no scenario, so a reply read against another kind of job would get
    /// the wrong one, or none: that is refused.
    #[test]
    fn a_reply_read_against_another_kind_of_job_is_refused() {
        let scenario = Scenario {
            messages: 50,
            ..Scenario::default()
        };
        let run = Reply {
            id: 1,
            body: ReplyBody::RunDone {
                report: simulate(&scenario).expect("valid"),
                elapsed_ms: 1.0,
            },
        };
        let trace = Reply {
            id: 1,
            body: ReplyBody::TraceDone {
                message: 0,
                trace: Vec::new(),
            },
        };
        let compare = JobKind::Compare(scenario.clone());
        let run_job = JobKind::Run(scenario);
        assert!(Reply::decode(&run.encode(), &compare).is_err());
        assert!(Reply::decode(&trace.encode(), &run_job).is_err());
        let ready = Reply {
            id: 0,
            body: ReplyBody::Ready,
        };
        assert_eq!(Reply::decode(&ready.encode(), &run_job), Ok(ready));
    }

    #[test]
    fn only_heavy_runs_are_offloaded() {
        let mut s = Scenario::default();
        assert!(!offloads(&s), "the default run animates on the page");
        s.messages = OFFLOAD_MESSAGES;
        assert!(offloads(&s));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Job::from_json("{\"id\":1,\"kind\":{\"run\":{\"messages\":-4}}}").is_err());
        let job = JobKind::Run(Scenario::default());
        assert!(Reply::decode(b"<script>", &job).is_err());
        assert!(Reply::decode(&[], &job).is_err());
        // A huge length prefix must not make the reader allocate or panic.
        assert!(Reply::decode(&[0, 2, 0, 0xff, 0xff, 0xff, 0xff, 0x0f], &job).is_err());
    }
}
