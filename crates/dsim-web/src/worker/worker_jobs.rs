//! What the worker does with a job: the same `LiveRun` and `CompareRun` the page drives a
//! frame at a time, or the core's `Sweep` and `Matrix` run by run, to the end, with a progress reply every
//! `PROGRESS_EVERY_MS`. Plain Rust with the clock and the outbox passed in, so it is tested
//! natively.

use dsim_core::Sweep;
use dsim_core::matrix::Matrix;

use crate::view_model::{CompareRun, LiveRun};
use crate::worker_protocol::{Job, JobKind, PROGRESS_EVERY_MS, Reply, ReplyBody};

pub fn execute(job: Job, clock: &dyn Fn() -> f64, post: &mut dyn FnMut(Reply)) {
    let id = job.id;
    let start = clock();
    let mut last_post = start;
    let mut due = |now: f64| {
        let due = now - last_post >= PROGRESS_EVERY_MS;
        if due {
            last_post = now;
        }
        due
    };
    match job.kind {
        JobKind::Run(scenario) => {
            let mut run = LiveRun::new(&scenario, false);
            while run.frame(clock) {
                if due(clock()) {
                    let body = ReplyBody::RunProgress {
                        fraction: run.progress(),
                        report: run.report(),
                    };
                    post(Reply { id, body });
                }
            }
            let report = run.report();
            let elapsed_ms = clock() - start;
            post(Reply {
                id,
                body: ReplyBody::RunDone { report, elapsed_ms },
            });
        }
        JobKind::Compare(scenario) => {
            let mut compare = CompareRun::new(&scenario);
            let mut reported = 0;
            while compare.frame(clock) {
                if compare.reports().len() != reported || due(clock()) {
                    reported = compare.reports().len();
                    let body = ReplyBody::CompareProgress {
                        fraction: compare.progress(),
                        reports: compare.reports().to_vec(),
                    };
                    post(Reply { id, body });
                }
            }
            let reports = compare.reports().to_vec();
            let elapsed_ms = clock() - start;
            post(Reply {
                id,
                body: ReplyBody::CompareDone {
                    reports,
                    elapsed_ms,
                },
            });
        }
        JobKind::Trace { scenario, message } => {
            let trace = dsim_core::trace_message(&scenario, message);
            post(Reply {
                id,
                body: ReplyBody::TraceDone { message, trace },
            });
        }
        JobKind::Sweep { base, spec } => {
            let mut sweep = match Sweep::new(&base, &spec) {
                Ok(sweep) => sweep,
                Err(e) => {
                    let message = e.to_string();
                    post(Reply {
                        id,
                        body: ReplyBody::Failed { message },
                    });
                    return;
                }
            };
            let mut points = 0;
            while let Some(progress) = sweep.step() {
                // A finished point is drawn at once; otherwise the bar moves every 100 ms.
                if (progress.points_done != points || due(clock())) && !sweep.is_finished() {
                    points = progress.points_done;
                    let result = sweep.result();
                    post(Reply {
                        id,
                        body: ReplyBody::SweepProgress { progress, result },
                    });
                }
            }
            let result = sweep.result();
            let elapsed_ms = clock() - start;
            post(Reply {
                id,
                body: ReplyBody::SweepDone { result, elapsed_ms },
            });
        }
        JobKind::Matrix(scenario) => {
            let mut matrix = match Matrix::new(&scenario) {
                Ok(matrix) => matrix,
                Err(e) => {
                    let message = e.to_string();
                    post(Reply {
                        id,
                        body: ReplyBody::Failed { message },
                    });
                    return;
                }
            };
            // A cell is one whole run: each finished cell is drawn at once.
            while matrix.step().is_some() {
                if !matrix.is_finished() {
                    let body = ReplyBody::MatrixProgress {
                        fraction: matrix.progress(),
                        cells: matrix.cells().to_vec(),
                    };
                    post(Reply { id, body });
                }
            }
            let cells = matrix.cells().to_vec();
            let elapsed_ms = clock() - start;
            post(Reply {
                id,
                body: ReplyBody::MatrixDone { cells, elapsed_ms },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use dsim_core::{Mode, Scenario, Status, compare, simulate, trace_message};

    fn scenario() -> Scenario {
        Scenario {
            mode: Mode::AtLeastOnce,
            messages: 3_000,
            ack_loss: 0.2,
            seed: 5,
            ..Scenario::default()
        }
    }

    /// A clock that advances 2 ms per reading, so progress replies are due now and then.
    fn ticking() -> impl Fn() -> f64 {
        let t = Cell::new(0.0);
        move || {
            t.set(t.get() + 2.0);
            t.get()
        }
    }

    #[test]
    fn a_worker_run_reports_progress_then_the_same_report_as_simulate() {
        let mut replies = Vec::new();
        let job = Job {
            id: 7,
            kind: JobKind::Run(scenario()),
        };
        execute(job, &ticking(), &mut |r| replies.push(r));
        assert!(replies.iter().all(|r| r.id == 7));
        let (last, progress) = replies.split_last().expect("replies");
        assert!(
            progress
                .iter()
                .all(|r| matches!(&r.body, ReplyBody::RunProgress { report, .. } if report.status == Status::Running))
        );
        match &last.body {
            ReplyBody::RunDone { report, elapsed_ms } => {
                assert_eq!(*report, simulate(&scenario()).expect("valid"));
                assert!(*elapsed_ms > 0.0);
            }
            other => panic!("expected RunDone, got {other:?}"),
        }
    }

    /// A small sweep: ack loss over three values, three seeds each, 200 messages per run.
    fn small_sweep() -> (Scenario, dsim_core::SweepSpec) {
        let base = Scenario {
            messages: 200,
            seed: 11,
            ..Scenario::default()
        };
        let spec = dsim_core::SweepSpec {
            knob: "ack-loss".into(),
            from: 0.0,
            to: 0.3,
            steps: 3,
            seeds: 3,
        };
        (base, spec)
    }

    #[test]
    fn a_worker_sweep_reports_progress_then_the_cores_sweep() {
        let (base, spec) = small_sweep();
        let mut replies = Vec::new();
        let job = Job {
            id: 4,
            kind: JobKind::Sweep {
                base: base.clone(),
                spec: spec.clone(),
            },
        };
        execute(job, &ticking(), &mut |r| replies.push(r));
        assert!(replies.iter().all(|r| r.id == 4));
        let (last, progress) = replies.split_last().expect("replies");
        match &last.body {
            ReplyBody::SweepDone { result, elapsed_ms } => {
                assert_eq!(*result, dsim_core::sweep(&base, &spec).expect("valid"));
                assert!(*elapsed_ms > 0.0);
            }
            other => panic!("expected SweepDone, got {other:?}"),
        }
        // Progress counts runs, never goes back, and shows each point as it is finished.
        let mut done = 0;
        let mut points_seen = Vec::new();
        for r in progress {
            match &r.body {
                ReplyBody::SweepProgress { progress, result } => {
                    assert_eq!(progress.runs_total, 3 * 5 * 3);
                    assert!(progress.runs_done >= done && progress.runs_done < 45);
                    done = progress.runs_done;
                    assert_eq!(result.points.len() as u32, progress.points_done);
                    points_seen.push(progress.points_done);
                }
                other => panic!("expected SweepProgress, got {other:?}"),
            }
        }
        assert!(
            points_seen.contains(&1) && points_seen.contains(&2),
            "{points_seen:?}"
        );
    }

    #[test]
    fn a_sweep_the_core_refuses_is_a_failure_not_a_panic() {
        let spec = dsim_core::SweepSpec {
            knob: "mode".into(),
            from: 0.0,
            to: 1.0,
            steps: 2,
            seeds: 2,
        };
        let mut replies = Vec::new();
        let kind = JobKind::Sweep {
            base: scenario(),
            spec,
        };
        execute(Job { id: 2, kind }, &ticking(), &mut |r| replies.push(r));
        assert!(matches!(
            &replies[..],
            [Reply { id: 2, body: ReplyBody::Failed { message } }] if message.starts_with("knob: mode cannot be swept")
        ));
    }

    #[test]
    fn a_worker_compare_ends_with_every_mode() {
        let mut replies = Vec::new();
        let job = Job {
            id: 1,
            kind: JobKind::Compare(scenario()),
        };
        execute(job, &ticking(), &mut |r| replies.push(r));
        match &replies.last().expect("replies").body {
            ReplyBody::CompareDone { reports, .. } => {
                assert_eq!(*reports, compare(&scenario()).expect("valid"))
            }
            other => panic!("expected CompareDone, got {other:?}"),
        }
        assert!(
            replies
                .iter()
                .any(|r| matches!(&r.body, ReplyBody::CompareProgress { .. }))
        );
    }

    /// The table in the worker is the core's table, cell for cell (refused cells with their
    /// reason), and it shows each cell as it is finished.
    #[test]
    fn a_worker_matrix_reports_each_cell_then_the_cores_table() {
        let scenario = Scenario {
            messages: 400,
            ..rich_scenario()
        };
        let mut replies = Vec::new();
        let job = Job {
            id: 9,
            kind: JobKind::Matrix(scenario.clone()),
        };
        execute(job, &ticking(), &mut |r| replies.push(r));
        assert!(replies.iter().all(|r| r.id == 9));
        let want = dsim_core::matrix::matrix(&scenario).expect("valid");
        assert!(
            want.iter().any(|c| c.refused.is_some()) && want.iter().any(|c| c.outcome.is_some())
        );
        let (last, progress) = replies.split_last().expect("replies");
        match &last.body {
            ReplyBody::MatrixDone { cells, elapsed_ms } => {
                assert_eq!(*cells, want);
                assert!(*elapsed_ms > 0.0);
            }
            other => panic!("expected MatrixDone, got {other:?}"),
        }
        let counts: Vec<usize> = progress
            .iter()
            .map(|r| match &r.body {
                ReplyBody::MatrixProgress { fraction, cells } => {
                    assert_eq!(cells[..], want[..cells.len()]);
                    assert_eq!(*fraction, cells.len() as f64 / want.len() as f64);
                    cells.len()
                }
                other => panic!("expected MatrixProgress, got {other:?}"),
            })
            .collect();
        assert_eq!(counts, (1..want.len()).collect::<Vec<_>>());
    }

    #[test]
    fn a_matrix_of_an_invalid_scenario_is_a_failure_not_a_panic() {
        let bad = Scenario {
            messages: 0,
            ..scenario()
        };
        let mut replies = Vec::new();
        let job = Job {
            id: 3,
            kind: JobKind::Matrix(bad),
        };
        execute(job, &ticking(), &mut |r| replies.push(r));
        assert!(
            matches!(
                &replies[..],
                [Reply {
                    id: 3,
                    body: ReplyBody::Failed { .. }
                }]
            ),
            "{replies:?}"
        );
    }

    #[test]
    fn a_worker_trace_is_the_replayed_trace_of_that_message() {
        let mut replies = Vec::new();
        let message = 2_999;
        let job = Job {
            id: 4,
            kind: JobKind::Trace {
                scenario: scenario(),
                message,
            },
        };
        execute(job, &ticking(), &mut |r| replies.push(r));
        let [reply] = replies.as_slice() else {
            panic!("expected one reply, got {replies:?}");
        };
        let want = trace_message(&scenario(), message);
        assert!(!want.is_empty(), "the last message has a trace");
        assert_eq!(
            reply.body,
            ReplyBody::TraceDone {
                message,
                trace: want
            }
        );
    }

    /// Every reply of every kind of job reaches the page exactly as the worker built it: the
    /// wire form leaves the scenario out, and the page's copy from the job must be the very
    /// one the run used. The scenario sets what the JSON form leaves out when unused (a
    /// script, an external effect, stalls), so each optional part of a report makes the trip.
    #[test]
    fn every_reply_reaches_the_page_as_the_worker_built_it() {
        let rich = rich_scenario();
        let (base, spec) = small_sweep();
        let kinds = [
            JobKind::Run(rich.clone()),
            JobKind::Compare(rich.clone()),
            JobKind::Trace {
                scenario: rich.clone(),
                message: 10,
            },
            JobKind::Sweep { base, spec },
            JobKind::Matrix(Scenario {
                messages: 300,
                ..rich
            }),
        ];
        for kind in kinds {
            let mut replies = Vec::new();
            let job = Job {
                id: 2,
                kind: kind.clone(),
            };
            execute(job, &ticking(), &mut |r| replies.push(r));
            for reply in &replies {
                assert_eq!(Reply::decode(&reply.encode(), &kind).as_ref(), Ok(reply));
            }
        }
    }

    /// A scenario whose report has every part the JSON form leaves out when unused.
    fn rich_scenario() -> Scenario {
        Scenario {
            messages: 1_500,
            external_effect: true,
            consumer_stall: 0.01,
            crash_after_process: 0.02,
            script: dsim_core::script::parse(
                "200ms:crash-consumer-0-after;300ms-400ms:partition-broker-consumer-1",
            )
            .expect("a valid script"),
            ..scenario()
        }
    }

    #[test]
    fn the_rich_scenario_has_every_optional_part_of_a_report() {
        let report = simulate(&rich_scenario()).expect("valid");
        assert!(report.external.is_some() && report.zombies.is_some());
        assert!(!report.scripted_faults.is_empty() && !report.scenario.script.is_empty());
    }

    /// The page hands a worker its next job once the last one's final reply arrives
    /// (`offload`): a reply that ended a job too early would have two jobs share a worker, and
    /// one that never ended it would leave a worker nothing reuses.
    #[test]
    fn every_job_ends_with_its_last_reply_and_only_there() {
        let (base, spec) = small_sweep();
        let kinds = [
            JobKind::Run(scenario()),
            JobKind::Compare(scenario()),
            JobKind::Trace {
                scenario: scenario(),
                message: 10,
            },
            JobKind::Sweep { base, spec },
            JobKind::Matrix(Scenario {
                messages: 300,
                ..scenario()
            }),
        ];
        for kind in kinds {
            let mut replies = Vec::new();
            execute(
                Job {
                    id: 1,
                    kind: kind.clone(),
                },
                &ticking(),
                &mut |r| replies.push(r),
            );
            let (last, before) = replies.split_last().expect("replies");
            assert!(last.body.ends_job(), "{kind:?} ended with {:?}", last.body);
            assert!(
                before.iter().all(|r| !r.body.ends_job()),
                "{kind:?}: a reply before the last ended the job"
            );
        }
        let failed = ReplyBody::Failed {
            message: "x".into(),
        };
        assert!(!failed.ends_job() && !ReplyBody::Ready.ends_job());
    }
}
