//! What the worker does with a job: the same `LiveRun` and `CompareRun` the page drives a
//! frame at a time, run to the end, with a progress reply every `PROGRESS_EVERY_MS`. Plain
//! Rust with the clock and the outbox passed in, so it is tested natively.

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
        // The reply survives the trip to the page as text.
        assert_eq!(Reply::from_json(&reply.to_json()).as_ref(), Ok(reply));
    }
}
