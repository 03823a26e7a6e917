//! The first paint comes from HTML. The release build writes the default scenario's finished
//! run into `index.html`, rendered by this very app in headless Chromium (`cargo xtask
//! prerender`, crates/xtask/src/prerender.rs), so a phone shows the page's numbers before
//! its wasm has arrived. That copy is `#prerendered`; it has no `data-testid` and its ids are
//! prefixed, so nothing can mistake it for the app.
//!
//! Behind the copy, the page's first run is simulated before the app is built ([`run_first`]):
//! a frame's budget of events at a time and nothing drawn, since no one sees it. The app is
//! then built once, with the finished run, mounts beside the copy, hidden, and takes its place
//! once it shows the same thing: its run finished and its lower panels in (or failed), or as
//! soon as someone presses on the copy. The copy and the app have the same
//! layout, so the swap moves nothing on screen. A link with a query of its own never shows
//! the copy: `web/first-paint.js` hides it before the body is drawn (its numbers are the
//! default scenario's), and here it is dropped at once and the app mounts as without one.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;

use crate::view_model::{LiveRun, RunState};

/// The id of the prerendered copy in `index.html`; the build step writes the same name.
pub const SHELL_ID: &str = "prerendered";
/// The class of the hidden host the app mounts into while the copy is shown (web/style.css).
const PENDING_CLASS: &str = "app-pending";
/// The longest the copy stays once the app runs (in animation frames, about 10 s): a run
/// that has not finished by then is shown as it goes.
const MOST_FRAMES: u32 = 600;

/// Where the app should mount: the body, or, behind a prerendered copy, a hidden host that
/// [`swap_when_ready`] shows in the copy's place.
pub fn mount_point() -> (web_sys::HtmlElement, Option<web_sys::Element>) {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("a page has a document");
    let body = document.body().expect("a page has a body");
    let Some(shell) = document.get_element_by_id(SHELL_ID) else {
        return (body, None);
    };
    if !crate::browser::query().is_empty() {
        shell.remove();
        return (body, None);
    }
    let host: web_sys::HtmlElement = document
        .create_element("div")
        .expect("create a div")
        .unchecked_into();
    host.set_class_name(PENDING_CLASS);
    let _ = body.append_child(&host);
    (host, Some(shell))
}

/// The most animation frames the first run is simulated for before the app is built anyway
/// (about 2 s): it then goes on as the app's live run.
const FIRST_RUN_FRAMES: u32 = 120;

/// What the first run needs until the app is built: taken by whichever comes first, the run's
/// end (or its frames running out) or a press on the copy.
struct FirstRun {
    run: LiveRun,
    mount: Box<dyn FnOnce()>,
    host: web_sys::HtmlElement,
    shell: web_sys::Element,
}

impl FirstRun {
    /// Hands the run to the app, builds the app and swaps it in when it is ready (at once
    /// after a press: the person wants the real page).
    fn finish(self, pressed: bool) {
        let FirstRun {
            run,
            mount,
            host,
            shell,
        } = self;
        crate::store::hand_over_first_run(run, !pressed);
        mount();
        swap_when_ready(host, shell, pressed);
    }
}

/// Simulates the page's first run (the default scenario's: the copy is only kept for an
/// address without a query) a frame's budget at a time (`LiveRun::frame`, `FrameBudget`),
/// then calls `mount`, whose app adopts the run (`store::hand_over_first_run`), and swaps the
/// app in.
pub fn run_first(
    host: web_sys::HtmlElement,
    shell: web_sys::Element,
    mount: impl FnOnce() + 'static,
) {
    let scenario = crate::url_state::load("").state.scenario;
    let state = Rc::new(RefCell::new(Some(FirstRun {
        run: LiveRun::new(&scenario, false),
        mount: Box::new(mount),
        host: host.clone(),
        shell: shell.clone(),
    })));
    // Someone reaching for the copy (a press or a key on it) gets the real page at once, so
    // the next press lands on it: the first run finished and the app built whole, or, once
    // built, the app shown.
    let on_press = {
        let (state, shell) = (state.clone(), shell.clone());
        wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            let taken = state.borrow_mut().take();
            match taken {
                Some(mut first) => {
                    first.run.run_to_end();
                    first.finish(true);
                }
                None => swap(&host, &shell),
            }
        })
    };
    for event in ["pointerdown", "keydown"] {
        let _ = shell.add_event_listener_with_callback(event, on_press.as_ref().unchecked_ref());
    }
    // It lives as long as the copy, which the swap removes.
    on_press.forget();

    fn frame(state: Rc<RefCell<Option<FirstRun>>>, frames: u32) {
        let mut slot = state.borrow_mut();
        let Some(first) = slot.as_mut() else {
            return; // finished on a press
        };
        if first.run.state() == RunState::Running && frames < FIRST_RUN_FRAMES {
            first.run.frame(&crate::browser::now_ms);
            drop(slot);
            leptos::prelude::request_animation_frame(move || frame(state, frames + 1));
            return;
        }
        if first.run.state() == RunState::Finished {
            // The final report (its counterexample replayed) in a frame of its own: the app
            // finds it made, and its first task is only building itself.
            let _ = first.run.report();
        }
        drop(slot);
        leptos::prelude::request_animation_frame(move || {
            let taken = state.borrow_mut().take();
            if let Some(first) = taken {
                first.finish(false);
            }
        });
    }
    leptos::prelude::request_animation_frame(move || frame(state, 0));
}

/// Puts the app in the copy's place (once: the copy is gone after).
fn swap(host: &web_sys::HtmlElement, shell: &web_sys::Element) {
    if shell.is_connected() {
        shell.remove();
        host.class_list().remove_1(PENDING_CLASS).ok();
    }
}

/// Swaps the hidden app in for the copy once the app's run has finished and its panels are no
/// longer loading, checked each animation frame; or `at_once` (someone pressed on the copy:
/// `run_first`'s listener, which also swaps on a press while this waits).
fn swap_when_ready(host: web_sys::HtmlElement, shell: web_sys::Element, at_once: bool) {
    if at_once {
        swap(&host, &shell);
        return;
    }

    fn check(host: web_sys::HtmlElement, shell: web_sys::Element, frames: u32) {
        if !host.class_list().contains(PENDING_CLASS) {
            return; // swapped already, on a press
        }
        let finished = host
            .query_selector("[data-testid=app-root][data-run-state=finished]")
            .ok()
            .flatten()
            .is_some();
        // The panels' chunk, or a part of the page built a task later (`app::Later`).
        let panels_loading = host
            .query_selector("[data-testid=panels-loading], [data-later]")
            .ok()
            .flatten()
            .is_some();
        if (finished && !panels_loading) || frames >= MOST_FRAMES {
            swap(&host, &shell);
        } else {
            leptos::prelude::request_animation_frame(move || check(host, shell, frames + 1));
        }
    }
    check(host, shell, 0);
}
