//! The page's reactive state and the actions on it, shared by every component as a context.
//!
//! One animation-frame loop drives both the live run and the compare runs: each frame steps
//! them for a few milliseconds (`view_model::FrameBudget`), then publishes a fresh report to
//! the signals the charts read. A control change replaces the run at once and rewrites the
//! URL after a short pause, replacing the history entry.
//!
//! Heavy scenarios (`worker_protocol::offloads`) run in a Web Worker instead (`offload`): the
//! worker's progress replies feed the same signals, Pause cancels, and the page keeps its
//! frame rate whatever the run's size. Light ones finish at once when a control changes, so
//! dragging a slider redraws the finished run in the same frame.
//!
//! Time travel (`scrubber`) puts the dashboard at a past instant: `report` and `in_flight`
//! then hold that instant's, `travel` says where it is, and the live run's own reports wait
//! in `live_report` until the dashboard goes back to live.

use std::time::Duration;

use dsim_core::{Knob, QueueState, Report, Scenario, ScenarioError};
use leptos::prelude::*;

use crate::browser;
use crate::scrubber::{Forward, Position, Scrubber, TravelMark};
use crate::sweep_form::SweepForm;
use crate::url_state::{LoadedPage, PageState};
use crate::view_model::{CompareRun, LiveRun, RunState};
use crate::worker_protocol::{self, Job, JobKind, Reply, ReplyBody};

/// Runs up to this many messages finish synchronously when a control changes (a few
/// milliseconds); larger ones animate, or go to the worker.
const INSTANT_MESSAGES: u32 = 20_000;

/// How long the URL waits for the controls to settle before it is rewritten.
const URL_DEBOUNCE: Duration = Duration::from_millis(150);

#[derive(Clone, Copy)]
pub struct Store {
    pub scenario: RwSignal<Scenario>,
    /// The report the dashboard shows: the live run's latest (always from the simulation, at
    /// t = 0 before it starts), or a past instant's while time-travelling.
    pub report: RwSignal<Report>,
    /// Some while the dashboard shows a past instant of the run.
    pub travel: RwSignal<Option<TravelMark>>,
    /// The live run's latest report while the dashboard shows the past.
    pub live_report: RwSignal<Option<Report>>,
    /// What is in flight at the instant shown; `None` for a live run in the worker, whose
    /// engine is not on this thread.
    pub in_flight: RwSignal<Option<QueueState>>,
    pub run_state: RwSignal<RunState>,
    /// Fraction of the live run's messages resolved.
    pub progress: RwSignal<f64>,
    /// What was wrong with the URL the page was opened with.
    pub url_errors: RwSignal<Vec<ScenarioError>>,
    /// The message the timeline shows.
    pub timeline: RwSignal<Option<u32>>,
    pub compare_open: RwSignal<bool>,
    pub compare_reports: RwSignal<Vec<Report>>,
    /// Some while the compare runs are in progress.
    pub compare_progress: RwSignal<Option<f64>>,
    /// The real-world systems table is open (`matrix_view` runs it and keeps its cells).
    pub matrix_open: RwSignal<bool>,
    /// The sweep view's settings as the URL records them (`sweep_view` runs the sweep).
    pub sweep: RwSignal<Option<SweepForm>>,
    pub embed: bool,
    /// The page is built behind the prerendered copy, with the run simulated there
    /// (`hand_over_first_run`): no one sees it until it takes the copy's place, so it may be
    /// built a part per task (`app::Later`).
    pub behind_copy: bool,
    /// Some(n) in the n-th `<delivery-playground>` element of a page (from 1): its runs are its
    /// own (their workers too), and it never writes the address of the page it sits in.
    pub element: Option<u32>,
    /// Whether the live run is in the worker (Pause then cancels it).
    pub offloaded: RwSignal<bool>,
    /// Wall time of the last run the worker finished, in milliseconds.
    pub worker_run_ms: RwSignal<Option<f64>>,
    /// Milliseconds from the last control change to the finished run's redraw, and how many
    /// such measurements there were (the benchmark reads both off the page).
    pub input_latency: RwSignal<(u32, f64)>,
    /// The settings the URL named, for the embedded view's controls.
    pub named: StoredValue<Vec<&'static str>>,
    live: StoredValue<LiveRun, LocalStorage>,
    compare: StoredValue<Option<CompareRun>, LocalStorage>,
    scrubber: StoredValue<Option<Scrubber>, LocalStorage>,
    looping: StoredValue<bool>,
    url_generation: StoredValue<u64>,
    /// The id of the worker job that owns the live run, and of the compare job.
    live_job: StoredValue<Option<u32>>,
    compare_job: StoredValue<Option<u32>>,
    next_job: StoredValue<u32>,
    /// When the control change now being run happened (`performance.now()`).
    input_at: StoredValue<Option<f64>>,
}

pub fn use_store() -> Store {
    expect_context::<Store>()
}

thread_local! {
    /// A run simulated before the page was built (`browser::prerendered::run_first`), waiting
    /// for the page's store to adopt it.
    static FIRST_RUN: std::cell::RefCell<Option<(LiveRun, bool)>> = const { std::cell::RefCell::new(None) };
}

/// Hands the page a run simulated before it was built. Behind the prerendered copy, the
/// default scenario's run is stepped a frame at a time with nothing to draw, and the page is
/// built once, with the finished run: drawing every frame of a run no one sees, in a page
/// that is not shown, was most of a phone's blocking time (docs/performance-notes.md).
/// `staged`: the page may build itself a part per task (`Store::behind_copy`); not when
/// someone pressed on the copy and the page replaces it at once.
pub fn hand_over_first_run(run: LiveRun, staged: bool) {
    FIRST_RUN.with(|slot| *slot.borrow_mut() = Some((run, staged)));
}

/// The handed-over run, if it is of this scenario (the page's own store takes it; an
/// element's never does).
fn take_first_run(scenario: &Scenario) -> Option<(LiveRun, bool)> {
    FIRST_RUN
        .with(|slot| slot.borrow_mut().take())
        .filter(|(run, _)| run.scenario() == scenario)
}

impl Store {
    /// The state for a loaded URL, with its run started.
    pub fn new(loaded: &LoadedPage) -> Store {
        Store::hosted(loaded, None)
    }

    /// The state of the n-th `<delivery-playground>` element (from 1), with its run started.
    pub fn for_element(loaded: &LoadedPage, element: u32) -> Store {
        Store::hosted(loaded, Some(element))
    }

    fn hosted(loaded: &LoadedPage, element: Option<u32>) -> Store {
        let s = loaded.state.scenario.clone();
        // The run simulated behind the prerendered copy before the page was built, if there
        // was one for this scenario: the page adopts it instead of starting its own.
        let adopted = element.is_none().then(|| take_first_run(&s)).flatten();
        let adopt = adopted.is_some();
        let staged = adopted.as_ref().is_some_and(|(_, staged)| *staged);
        // Otherwise only the signals' first value: `restart` below puts the run that really
        // starts.
        let mut first = adopted.map_or_else(|| LiveRun::new(&s, true), |(run, _)| run);
        let store = Store {
            report: RwSignal::new(first.report()),
            travel: RwSignal::new(None),
            live_report: RwSignal::new(None),
            in_flight: RwSignal::new(None),
            scenario: RwSignal::new(s.clone()),
            run_state: RwSignal::new(RunState::Running),
            progress: RwSignal::new(0.0),
            url_errors: RwSignal::new(loaded.errors.clone()),
            timeline: RwSignal::new(loaded.state.message),
            compare_open: RwSignal::new(false),
            compare_reports: RwSignal::new(Vec::new()),
            compare_progress: RwSignal::new(None),
            matrix_open: RwSignal::new(loaded.state.matrix),
            sweep: RwSignal::new(loaded.state.sweep.clone()),
            embed: loaded.state.embed,
            behind_copy: staged,
            element,
            offloaded: RwSignal::new(false),
            worker_run_ms: RwSignal::new(None),
            input_latency: RwSignal::new((0, 0.0)),
            named: StoredValue::new(loaded.named.clone()),
            live: StoredValue::new_local(first),
            compare: StoredValue::new_local(None),
            scrubber: StoredValue::new_local(None),
            looping: StoredValue::new(false),
            url_generation: StoredValue::new(0),
            live_job: StoredValue::new(None),
            compare_job: StoredValue::new(None),
            next_job: StoredValue::new(0),
            input_at: StoredValue::new(None),
        };
        if loaded.defaulted && element.is_none() {
            if adopt {
                // A task later: behind the copy the page is built a part per task, and this
                // (the query written out, the history entry replaced) was a fifth of the first.
                set_timeout(move || store.write_url(), Duration::ZERO);
            } else {
                store.write_url();
            }
        }
        if adopt {
            store.publish();
            store.ensure_loop();
        } else {
            store.restart(false);
        }
        if loaded.state.compare {
            store.start_compare();
        }
        store
    }

    /// The state the URL records.
    pub fn page_state(&self) -> PageState {
        PageState {
            scenario: self.scenario.get_untracked(),
            embed: self.embed,
            compare: self.compare_open.get_untracked(),
            matrix: self.matrix_open.get_untracked(),
            message: self.timeline.get_untracked(),
            sweep: self.sweep.get_untracked(),
        }
    }

    /// Replaces the scenario and starts its run from the beginning.
    pub fn set_scenario(&self, scenario: Scenario) {
        if self.scenario.with_untracked(|s| *s == scenario) {
            return;
        }
        let messages = scenario.messages;
        self.scenario.set(scenario);
        if self.timeline.get_untracked().is_some_and(|m| m >= messages) {
            self.timeline.set(None);
        }
        self.input_at.set_value(Some(browser::now_ms()));
        self.restart(false);
        if self
            .scenario
            .with_untracked(|s| s.messages <= INSTANT_MESSAGES)
        {
            self.live.update_value(|l| l.run_to_end());
            self.publish();
        }
        if self.compare_open.get_untracked() {
            self.start_compare();
        }
        self.schedule_url();
    }

    /// Sets one knob to a value the slider produced.
    pub fn set_knob(&self, knob: &Knob, value: f64) -> Result<(), ScenarioError> {
        let mut s = self.scenario.get_untracked();
        knob.set_number(&mut s, value)?;
        self.set_scenario(s);
        Ok(())
    }

    /// Sets one knob from typed text; on error the scenario stays as it was.
    pub fn set_knob_text(&self, knob: &Knob, text: &str) -> Result<(), ScenarioError> {
        let mut s = self.scenario.get_untracked();
        knob.set_text(&mut s, text.trim())?;
        self.set_scenario(s);
        Ok(())
    }

    pub fn run(&self) {
        self.go_live();
        let at_start = self.live.with_value(|l| l.at_start());
        let heavy = self.scenario.with_untracked(worker_protocol::offloads);
        if self.run_state.get_untracked() == RunState::Finished || (heavy && at_start) {
            self.restart(false);
            return;
        }
        self.live.update_value(|l| l.set_paused(false));
        self.publish();
        self.ensure_loop();
    }

    /// Pauses the live run; a run in the worker cannot pause, so it is cancelled and the page
    /// keeps its last progress report.
    pub fn pause(&self) {
        if self.live_job.get_value().is_some() {
            self.cancel_live_job();
            self.run_state.set(RunState::Paused);
            return;
        }
        self.live.update_value(|l| l.set_paused(true));
        self.publish();
    }

    pub fn step(&self) {
        self.go_live();
        self.cancel_live_job();
        self.live.update_value(|l| {
            l.set_paused(true);
            l.step();
        });
        self.publish();
    }

    /// Back to t = 0, paused, so the run can be watched step by step.
    pub fn reset(&self) {
        self.restart(true);
    }

    /// Whose workers this store's jobs use (`offload`): the page's, or an element's own.
    pub fn owner(&self) -> u32 {
        self.element.unwrap_or(0)
    }

    pub fn start_compare(&self) {
        let s = self.scenario.get_untracked();
        self.compare_reports.set(Vec::new());
        self.compare_progress.set(Some(0.0));
        #[cfg(target_arch = "wasm32")]
        crate::offload::cancel(self.owner(), crate::offload::Purpose::Compare);
        self.compare_job.set_value(None);
        if worker_protocol::offloads(&s) {
            self.compare.set_value(None);
            self.start_job(JobKind::Compare(s));
        } else {
            self.compare.set_value(Some(CompareRun::new(&s)));
        }
        if !self.compare_open.get_untracked() {
            self.compare_open.set(true);
            self.schedule_url();
        }
        self.ensure_loop();
    }

    pub fn open_timeline(&self, message: u32) {
        self.timeline.set(Some(message));
        self.schedule_url();
    }

    fn restart(&self, paused: bool) {
        let s = self.scenario.get_untracked();
        // A new run: the old one's past is gone.
        self.scrubber.set_value(None);
        self.travel.set(None);
        self.live_report.set(None);
        self.cancel_live_job();
        let offload = !paused && worker_protocol::offloads(&s);
        // An offloaded run leaves the page's own run paused at t = 0, for Step and Reset.
        self.live.set_value(LiveRun::new(&s, paused || offload));
        self.publish();
        if offload {
            self.run_state.set(RunState::Running);
            self.start_job(JobKind::Run(s));
        }
        self.ensure_loop();
    }

    fn cancel_live_job(&self) {
        if self.live_job.get_value().is_some() {
            #[cfg(target_arch = "wasm32")]
            crate::offload::cancel(self.owner(), crate::offload::Purpose::Live);
            self.live_job.set_value(None);
            self.offloaded.set(false);
        }
    }

    /// Hands a job to a worker; if no worker can run, the page runs it a frame at a time.
    fn start_job(&self, kind: JobKind) {
        let id = self.next_job.get_value() + 1;
        self.next_job.set_value(id);
        let live = matches!(kind, JobKind::Run(_));
        if live {
            self.live_job.set_value(Some(id));
            self.offloaded.set(true);
            self.in_flight.set(None);
        } else {
            self.compare_job.set_value(Some(id));
        }
        #[cfg(target_arch = "wasm32")]
        {
            use crate::offload::{Purpose, start};
            let store = *self;
            let purpose = if live {
                Purpose::Live
            } else {
                Purpose::Compare
            };
            start(
                self.owner(),
                purpose,
                Job { id, kind },
                move |reply| store.on_reply(reply),
                move || store.run_on_page(live, id),
            );
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = Job { id, kind };
            self.run_on_page(live, id);
        }
    }

    /// The fallback when a worker cannot run job `id`: the page runs it a frame at a time.
    fn run_on_page(&self, live: bool, id: u32) {
        if self.scenario.is_disposed() {
            return;
        }
        let s = self.scenario.get_untracked();
        if live && self.live_job.get_value() == Some(id) {
            self.live_job.set_value(None);
            self.offloaded.set(false);
            self.live.set_value(LiveRun::new(&s, false));
        } else if !live && self.compare_job.get_value() == Some(id) {
            self.compare_job.set_value(None);
            self.compare.set_value(Some(CompareRun::new(&s)));
        } else {
            return;
        }
        self.publish();
        self.ensure_loop();
    }

    /// A worker's reply: progress and results feed the same signals the page's runs do.
    pub fn on_reply(&self, reply: Reply) {
        if self.scenario.is_disposed() {
            return;
        }
        let live = self.live_job.get_value() == Some(reply.id);
        let compare = self.compare_job.get_value() == Some(reply.id);
        match reply.body {
            ReplyBody::RunProgress { fraction, report } if live => {
                self.show_live_report(report);
                self.progress.set(fraction);
            }
            ReplyBody::RunDone { report, elapsed_ms } if live => {
                self.live_job.set_value(None);
                self.show_live_report(report);
                self.progress.set(1.0);
                self.run_state.set(RunState::Finished);
                self.worker_run_ms.set(Some(elapsed_ms));
                self.offloaded.set(false);
            }
            ReplyBody::CompareProgress { fraction, reports } if compare => {
                self.compare_reports.set(reports);
                self.compare_progress.set(Some(fraction));
            }
            ReplyBody::CompareDone { reports, .. } if compare => {
                self.compare_job.set_value(None);
                self.compare_reports.set(reports);
                self.compare_progress.set(None);
            }
            _ => {}
        }
    }

    /// Stops the compare runs, wherever they run.
    pub fn cancel_compare(&self) {
        #[cfg(target_arch = "wasm32")]
        crate::offload::cancel(self.owner(), crate::offload::Purpose::Compare);
        self.compare_job.set_value(None);
        self.compare.set_value(None);
        self.compare_progress.set(None);
    }

    /// Copies the live run's state into the signals (a worker's run publishes its own).
    fn publish(&self) {
        if self.live_job.try_get_value().flatten().is_some() {
            return;
        }
        if let Some((report, state, progress, queue)) = self
            .live
            .try_update_value(|l| (l.report(), l.state(), l.progress(), l.queue_state()))
        {
            if self.travel.get_untracked().is_none() {
                self.in_flight.set(Some(queue));
            }
            self.show_live_report(report);
            self.run_state.set(state);
            self.progress.set(progress);
            if state == RunState::Finished
                && let Some(at) = self.input_at.try_update_value(Option::take).flatten()
            {
                self.measure_redraw(at);
            }
        }
    }

    /// Records how long a control change took to show its finished run: measured in the next
    /// animation frame, after the signals above have redrawn the page.
    fn measure_redraw(&self, input_at: f64) {
        let store = *self;
        request_animation_frame(move || {
            if store.input_latency.is_disposed() {
                return;
            }
            let elapsed = browser::now_ms() - input_at;
            store.input_latency.update(|(count, last)| {
                *count += 1;
                *last = elapsed;
            });
        });
    }

    fn ensure_loop(&self) {
        if self.looping.get_value() {
            return;
        }
        self.looping.set_value(true);
        let store = *self;
        request_animation_frame(move || store.frame());
    }

    fn frame(self) {
        let clock = browser::now_ms;
        // A store whose page was unmounted (in tests) stops its loop here.
        let Some(live_more) = self.live.try_update_value(|l| {
            let was_running = l.state() == RunState::Running;
            (was_running, l.frame(&clock))
        }) else {
            return;
        };
        let (was_running, mut more) = live_more;
        if was_running {
            self.publish();
        }
        more |= self.travel_frame(&clock);
        // The compare runs wait for the live run, so the two never share a frame's budget.
        if !more {
            let known = self.compare_reports.with_untracked(Vec::len);
            let progress = self.compare.try_update_value(|c| {
                let c = c.as_mut()?;
                let wants_more = c.frame(&clock);
                let fresh = (c.reports().len() != known).then(|| c.reports().to_vec());
                Some((wants_more, c.progress(), fresh))
            });
            if let Some(Some((wants_more, progress, fresh))) = progress {
                more |= wants_more;
                if let Some(reports) = fresh {
                    self.compare_reports.set(reports);
                }
                if wants_more {
                    self.compare_progress.set(Some(progress));
                } else {
                    self.compare_progress.set(None);
                    self.compare.set_value(None);
                }
            }
        }
        if more {
            request_animation_frame(move || self.frame());
        } else {
            self.looping.set_value(false);
        }
    }

    // ----- Time travel -----

    /// A live run's report: shown, or kept for later while the dashboard shows the past.
    fn show_live_report(&self, report: Report) {
        if self.travel.get_untracked().is_some() {
            self.live_report.set(Some(report));
        } else {
            self.report.set(report);
        }
    }

    /// The live run's simulated time and events so far, whatever the dashboard shows.
    pub fn live_end(&self) -> (f64, u64) {
        self.live_report
            .with_untracked(|l| l.as_ref().map(|r| (r.duration_ms, r.events)))
            .unwrap_or_else(|| self.report.with_untracked(|r| (r.duration_ms, r.events)))
    }

    fn with_scrubber<T>(&self, f: impl FnOnce(&mut Scrubber) -> T) -> Option<T> {
        let scenario = self.scenario.get_untracked();
        self.scrubber.try_update_value(|slot| {
            // The tape is made on first use and kept until the scenario changes.
            let scrubber = match slot {
                Some(s) if *s.scenario() == scenario => s,
                _ => slot.insert(Scrubber::new(&scenario)),
            };
            f(scrubber)
        })
    }

    /// Puts the dashboard at simulated time `t_ms`; at the live run's end, back to live.
    pub fn seek(&self, t_ms: f64) {
        let (live_ms, _) = self.live_end();
        if t_ms.is_nan() || t_ms >= live_ms {
            self.go_live();
            return;
        }
        if self.with_scrubber(|s| s.seek(t_ms)).is_some() {
            self.enter_travel(t_ms);
        }
    }

    /// Puts the dashboard one event before the instant it shows.
    pub fn step_back(&self) {
        let (live_ms, live_events) = self.live_end();
        let t_ms = self
            .travel
            .with_untracked(|m| m.as_ref().map(|m| m.t_ms))
            .unwrap_or(live_ms);
        if self.with_scrubber(|s| s.step_back(live_events)) == Some(true) {
            self.enter_travel(t_ms);
        }
    }

    /// Puts the dashboard one event after the instant it shows; past the last, back to live.
    pub fn step_forward(&self) {
        let (_, live_events) = self.live_end();
        match self.with_scrubber(|s| s.step_forward(live_events)) {
            Some(Forward::To(position)) => self.show_position(*position),
            Some(Forward::Live) => self.go_live(),
            _ => {}
        }
    }

    /// Back to the live run: its latest report, and its in-flight view if it runs here.
    pub fn go_live(&self) {
        self.scrubber
            .try_update_value(|s| s.as_mut().map(Scrubber::leave));
        if self.travel.get_untracked().is_none() {
            return;
        }
        self.travel.set(None);
        if let Some(report) = self.live_report.get_untracked() {
            self.live_report.set(None);
            self.report.set(report);
        }
        let queue = (self.live_job.get_value().is_none())
            .then(|| self.live.try_with_value(|l| l.queue_state()))
            .flatten();
        self.in_flight.set(queue);
    }

    fn enter_travel(&self, asked_ms: f64) {
        if self.travel.get_untracked().is_none() {
            self.live_report.set(Some(self.report.get_untracked()));
        }
        let busy = self
            .scrubber
            .with_value(|s| s.as_ref().and_then(Scrubber::busy_fraction));
        self.travel.update(|mark| match mark {
            Some(m) => {
                m.t_ms = asked_ms;
                m.busy = busy;
            }
            None => {
                *mark = Some(TravelMark {
                    t_ms: asked_ms,
                    events: None,
                    busy,
                })
            }
        });
        // A run on the page holds still while the dashboard shows its past.
        if self.live_job.get_value().is_none() {
            self.live.update_value(|l| l.set_paused(true));
            self.publish();
        }
        self.ensure_loop();
    }

    fn show_position(&self, position: Position) {
        self.report.set(position.report);
        self.in_flight.set(Some(position.queue));
        self.travel.set(Some(TravelMark {
            t_ms: position.t_ms,
            events: Some(position.events),
            busy: None,
        }));
    }

    /// Works towards the asked position for a frame; returns whether it needs more frames.
    fn travel_frame(&self, clock: &dyn Fn() -> f64) -> bool {
        let outcome = self.scrubber.try_update_value(|s| {
            let s = s.as_mut().filter(|s| s.is_busy())?;
            Some((s.frame(clock), s.busy_fraction()))
        });
        match outcome.flatten() {
            Some((Some(position), _)) => {
                self.show_position(position);
                false
            }
            Some((None, busy)) => {
                self.travel.update(|m| {
                    if let Some(m) = m {
                        m.busy = busy;
                    }
                });
                true
            }
            None => false,
        }
    }

    /// Rewrites the URL once the controls have been still for a moment.
    pub fn schedule_url(&self) {
        let Some(generation) = self.url_generation.try_update_value(|g| {
            *g += 1;
            *g
        }) else {
            return;
        };
        let store = *self;
        set_timeout(
            move || {
                if store.url_generation.try_get_value() == Some(generation) {
                    store.write_url();
                }
            },
            URL_DEBOUNCE,
        );
    }

    pub fn write_url(&self) {
        if self.element.is_some() || self.scenario.is_disposed() {
            return;
        }
        browser::replace_query(&self.page_state().to_query());
    }
}
