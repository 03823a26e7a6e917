//! The page's reactive state and the actions on it, shared by every component as a context.
//!
//! One animation-frame loop drives both the live run and the compare runs: each frame steps
//! them for a few milliseconds (`view_model::FrameBudget`), then publishes a fresh report to
//! the signals the charts read. A control change replaces the run at once and rewrites the
//! URL after a short pause, replacing the history entry.

use std::time::Duration;

use dsim_core::{Knob, Report, Scenario, ScenarioError, Simulation};
use leptos::prelude::*;

use crate::browser;
use crate::url_state::{LoadedPage, PageState};
use crate::view_model::{CompareRun, LiveRun, RunState};

/// How long the URL waits for the controls to settle before it is rewritten.
const URL_DEBOUNCE: Duration = Duration::from_millis(150);

#[derive(Clone, Copy)]
pub struct Store {
    pub scenario: RwSignal<Scenario>,
    /// The live run's latest report; always from the simulation, at t = 0 before it starts.
    pub report: RwSignal<Report>,
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
    pub embed: bool,
    /// The settings the URL named, for the embedded view's controls.
    pub named: StoredValue<Vec<&'static str>>,
    live: StoredValue<LiveRun, LocalStorage>,
    compare: StoredValue<Option<CompareRun>, LocalStorage>,
    looping: StoredValue<bool>,
    url_generation: StoredValue<u64>,
}

pub fn use_store() -> Store {
    expect_context::<Store>()
}

impl Store {
    /// The state for a loaded URL, with its run started.
    pub fn new(loaded: &LoadedPage) -> Store {
        let s = loaded.state.scenario.clone();
        let store = Store {
            report: RwSignal::new(Simulation::new(&s).report()),
            scenario: RwSignal::new(s.clone()),
            run_state: RwSignal::new(RunState::Running),
            progress: RwSignal::new(0.0),
            url_errors: RwSignal::new(loaded.errors.clone()),
            timeline: RwSignal::new(loaded.state.message),
            compare_open: RwSignal::new(false),
            compare_reports: RwSignal::new(Vec::new()),
            compare_progress: RwSignal::new(None),
            embed: loaded.state.embed,
            named: StoredValue::new(loaded.named.clone()),
            live: StoredValue::new_local(LiveRun::new(&s, false)),
            compare: StoredValue::new_local(None),
            looping: StoredValue::new(false),
            url_generation: StoredValue::new(0),
        };
        if loaded.defaulted {
            store.write_url();
        }
        store.publish();
        store.ensure_loop();
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
            message: self.timeline.get_untracked(),
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
        self.restart(false);
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
        if self.run_state.get_untracked() == RunState::Finished {
            self.restart(false);
            return;
        }
        self.live.update_value(|l| l.set_paused(false));
        self.publish();
        self.ensure_loop();
    }

    pub fn pause(&self) {
        self.live.update_value(|l| l.set_paused(true));
        self.publish();
    }

    pub fn step(&self) {
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

    pub fn start_compare(&self) {
        let s = self.scenario.get_untracked();
        self.compare.set_value(Some(CompareRun::new(&s)));
        self.compare_reports.set(Vec::new());
        self.compare_progress.set(Some(0.0));
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
        self.live.set_value(LiveRun::new(&s, paused));
        self.publish();
        self.ensure_loop();
    }

    /// Copies the live run's state into the signals.
    fn publish(&self) {
        if let Some((report, state, progress)) = self
            .live
            .try_update_value(|l| (l.report(), l.state(), l.progress()))
        {
            self.report.set(report);
            self.run_state.set(state);
            self.progress.set(progress);
        }
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
        if self.scenario.is_disposed() {
            return;
        }
        browser::replace_query(&self.page_state().to_query());
    }
}
