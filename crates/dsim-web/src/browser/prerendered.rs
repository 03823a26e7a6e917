//! The first paint comes from HTML. The release build writes the default scenario's finished
//! run into `index.html`, rendered by this very app in headless Chromium (`cargo xtask
//! prerender`, crates/xtask/src/prerender.rs), so a phone shows the page's numbers before
//! its wasm has arrived. That copy is `#prerendered`; it has no `data-testid` and its ids are
//! prefixed, so nothing can mistake it for the app.
//!
//! The app then mounts beside it, hidden, and takes its place once it shows the same thing:
//! its run finished and its lower panels in (or failed), or as soon as someone presses on the
//! copy. The copy and the app have the same
//! layout, so the swap moves nothing on screen. A link with a query of its own never shows
//! the copy: `web/first-paint.js` hides it before the body is drawn (its numbers are the
//! default scenario's), and here it is dropped at once and the app mounts as without one.

use wasm_bindgen::JsCast;

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

/// Swaps the hidden app in for the copy once the app's run has finished and its panels are no
/// longer loading, checked each animation frame; or at once when someone reaches for the copy
/// (a press or a key on it), so the next press lands on the app itself.
pub fn swap_when_ready(host: web_sys::HtmlElement, shell: web_sys::Element) {
    let swap = {
        let (host, shell) = (host.clone(), shell.clone());
        move || {
            if shell.is_connected() {
                shell.remove();
                host.class_list().remove_1(PENDING_CLASS).ok();
            }
        }
    };
    let on_touch = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(swap.clone());
    for event in ["pointerdown", "keydown"] {
        let _ = shell.add_event_listener_with_callback(event, on_touch.as_ref().unchecked_ref());
    }
    // It lives as long as the copy, which it removes.
    on_touch.forget();

    fn check(host: web_sys::HtmlElement, swap: impl Fn() + 'static, frames: u32) {
        if !host.class_list().contains(PENDING_CLASS) {
            return; // swapped already, on a press
        }
        let finished = host
            .query_selector("[data-testid=app-root][data-run-state=finished]")
            .ok()
            .flatten()
            .is_some();
        let panels_loading = host
            .query_selector("[data-testid=panels-loading]")
            .ok()
            .flatten()
            .is_some();
        if (finished && !panels_loading) || frames >= MOST_FRAMES {
            swap();
        } else {
            leptos::prelude::request_animation_frame(move || check(host, swap, frames + 1));
        }
    }
    check(host, swap, 0);
}
