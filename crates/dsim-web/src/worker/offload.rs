//! Web Workers for heavy runs: the worker's entry point, and the page's side, one worker per
//! owner (the page, or one `<delivery-playground>` element: each has its own runs) and
//! purpose (the live run, the compare runs, the timeline's trace, the sweep, the real-world
//! systems table). A busy worker
//! cannot read messages, so a new job or a cancel terminates the old worker: cancelling is
//! immediate whatever the worker is doing.
//!
//! A worker whose job has finished is kept, idle, for the next job of any purpose: that job
//! starts at once, without fetching and compiling the worker's wasm again (about 50 ms on a
//! loaded page, 200 ms while the page itself is loading), in code V8 has already optimised.
//! Only one is kept, as a worker holds its wasm memory at the peak of its largest run.
//!
//! If a worker cannot start (no loader script, as in the wasm tests), the caller is told and
//! runs the job on the page instead, a frame at a time.

use std::cell::RefCell;
use std::collections::BTreeMap;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, Worker};

use crate::worker_jobs;
use crate::worker_protocol::{Job, Reply, ReplyBody};

/// The loader Trunk's `data-loader-shim` writes next to the page for the `dsim-worker` binary
/// (found beside the page's own files: `browser::asset_url`, for a book page that loaded them
/// from elsewhere).
const WORKER_SCRIPT: &str = "dsim-worker_loader.js";

/// Whose job it is: 0 for the page, n for its n-th `<delivery-playground>` element.
pub type Owner = u32;

/// The worker binary's `main`: take jobs until terminated.
pub fn run_worker() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let outbox = scope.clone();
    let post = move |reply: Reply| {
        let bytes = js_sys::Uint8Array::from(reply.encode().as_slice());
        let _ = outbox.post_message(&bytes);
    };
    let clock = || js_sys::Date::now();
    let reply_to = post.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let job = event
            .data()
            .as_string()
            .ok_or_else(|| "a job must be JSON text".to_string())
            .and_then(|text| Job::from_json(&text));
        match job {
            Ok(job) => worker_jobs::execute(job, &clock, &mut |r| reply_to(r)),
            Err(message) => reply_to(Reply {
                id: 0,
                body: ReplyBody::Failed { message },
            }),
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(Reply {
        id: 0,
        body: ReplyBody::Ready,
    });
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Purpose {
    Live,
    Compare,
    /// The timeline's trace of a message of a heavy run.
    Trace,
    Sweep,
    /// The real-world systems table (`matrix_view`).
    Matrix,
}

struct Slot {
    worker: Worker,
    /// The job it runs.
    job: u32,
    // Kept alive as long as the worker; dropped with it.
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

thread_local! {
    static SLOTS: RefCell<BTreeMap<(Owner, Purpose), Slot>> = const { RefCell::new(BTreeMap::new()) };
    /// A worker that finished its job and waits, listening to nothing, for the next one.
    static IDLE: RefCell<Option<Worker>> = const { RefCell::new(None) };
}

/// Runs `job` in a worker for `purpose`, replacing (and stopping) any job it had: the idle
/// worker if there is one, else a new one. Replies for the job go to `on_reply`; if the worker
/// cannot run, `on_failure` is called once, and the caller should run the job itself.
pub fn start(
    owner: Owner,
    purpose: Purpose,
    job: Job,
    on_reply: impl Fn(Reply) + 'static,
    on_failure: impl Fn() + 'static,
) {
    cancel(owner, purpose);
    // An idle worker has loaded (it ran a job): it takes the job now. A new one says `Ready`
    // once its wasm has loaded, and takes the job then.
    let (worker, loaded) = match IDLE.with(|idle| idle.borrow_mut().take()) {
        Some(worker) => (worker, true),
        None => match Worker::new(&crate::browser::asset_url(WORKER_SCRIPT)) {
            Ok(worker) => (worker, false),
            Err(_) => {
                on_failure();
                return;
            }
        },
    };
    let on_failure = std::rc::Rc::new(on_failure);
    let text = job.to_json();
    let Job { id, kind } = job;
    // Its replies come in later tasks, once the handlers below are set.
    if loaded {
        let _ = worker.post_message(&JsValue::from_str(&text));
    }
    let sender = worker.clone();
    let failed = on_failure.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let reply = match event.data().dyn_into::<js_sys::Uint8Array>() {
            Ok(bytes) => Reply::decode(&bytes.to_vec(), &kind),
            Err(_) => Err("a reply must be bytes".to_string()),
        };
        // A reply the page cannot read is a bug: say so, and handle it as the worker's own
        // failure (run the job on the page) instead of waiting for a reply never understood.
        let reply = reply.unwrap_or_else(|message| {
            web_sys::console::error_1(&format!("worker reply: {message}").into());
            Reply {
                id,
                body: ReplyBody::Failed { message },
            }
        });
        match reply.body {
            ReplyBody::Ready => {
                let _ = sender.post_message(&JsValue::from_str(&text));
            }
            ReplyBody::Failed { .. } => {
                cancel(owner, purpose);
                failed();
            }
            _ if reply.id == id => {
                // Free the worker before the reply is handled, which may start the next job.
                if reply.body.ends_job() {
                    retire(owner, purpose, id);
                }
                on_reply(reply)
            }
            _ => {}
        }
    });
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        // A script that fails to load or a panic in the worker: fall back to the page.
        event.prevent_default();
        cancel(owner, purpose);
        on_failure();
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    SLOTS.with(|slots| {
        slots.borrow_mut().insert(
            (owner, purpose),
            Slot {
                worker,
                job: id,
                _on_message: on_message,
                _on_error: on_error,
            },
        )
    });
}

/// Job `id` of `purpose` has finished: its worker becomes the idle one (a worker idle before
/// it is stopped).
fn retire(owner: Owner, purpose: Purpose, id: u32) {
    let slot = SLOTS.with(|slots| {
        let mut slots = slots.borrow_mut();
        match slots.get(&(owner, purpose)) {
            Some(slot) if slot.job == id => slots.remove(&(owner, purpose)),
            _ => None,
        }
    });
    let Some(slot) = slot else {
        return;
    };
    let before = IDLE.with(|idle| idle.borrow_mut().replace(slot.worker.clone()));
    if let Some(before) = before {
        before.terminate();
    }
    unhook(slot);
}

/// Stops the worker's job of `owner` for `purpose`, if any.
pub fn cancel(owner: Owner, purpose: Purpose) {
    // Take the slot out before terminating: the closures may be running this very call.
    let slot = SLOTS.with(|slots| slots.borrow_mut().remove(&(owner, purpose)));
    if let Some(slot) = slot {
        slot.worker.terminate();
        unhook(slot);
    }
}

/// Stops every worker job of `owner` (an element going away).
pub fn cancel_all(owner: Owner) {
    let slots: Vec<Slot> = SLOTS.with(|slots| {
        let mut slots = slots.borrow_mut();
        let theirs: Vec<(Owner, Purpose)> =
            slots.keys().filter(|(o, _)| *o == owner).copied().collect();
        theirs.iter().filter_map(|key| slots.remove(key)).collect()
    });
    for slot in slots {
        slot.worker.terminate();
        unhook(slot);
    }
}

/// Detaches a slot's handlers from its worker and drops them.
fn unhook(slot: Slot) {
    slot.worker.set_onmessage(None);
    slot.worker.set_onerror(None);
    // The closures may be running this very call (a reply that ends or cancels its job), and
    // dropping a closure while it runs would free it under its own feet: defer the drop.
    wasm_bindgen_futures::spawn_local(async move { drop(slot) });
}
