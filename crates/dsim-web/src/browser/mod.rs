//! The few places the page touches the browser directly: the URL, the clock, randomness for a
//! new seed, the clipboard, file downloads, the embedding page, the panic message and the
//! charts' plots (`sync_svg`). Everything else goes through Leptos.

#[cfg(target_arch = "wasm32")]
pub mod element;
pub mod png_export;
pub mod prerendered;

use std::cell::{Cell, RefCell};

use dsim_core::knobs::MAX_SEED;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::plot_svg::Node;

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

thread_local! {
    /// Where the playground's files are, when a page elsewhere loaded them (a book chapter's
    /// `<delivery-playground>` elements): set by `element::mount_element`.
    static ASSET_BASE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Says where the playground's files are (a URL ending in `/`), for pages that load them from
/// elsewhere.
pub fn set_asset_base(base: &str) {
    ASSET_BASE.with(|b| *b.borrow_mut() = Some(base.to_string()));
}

/// The URL of one of the playground's own files (the worker's loader, the playground page):
/// beside the page, or where `set_asset_base` said.
pub fn asset_url(file: &str) -> String {
    ASSET_BASE.with(|b| match &*b.borrow() {
        Some(base) => format!("{base}{file}"),
        None => format!("./{file}"),
    })
}

/// Whether this document is the playground's own page (Trunk's `<meta name="dsim-wasm">`
/// names its files), rather than a page whose `<delivery-playground>` elements loaded the
/// same module.
pub fn is_playground_page() -> bool {
    window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("meta[name=dsim-wasm]").ok().flatten())
        .is_some()
}

/// The page's query string, without the `?`.
pub fn query() -> String {
    window()
        .and_then(|w| w.location().search().ok())
        .map(|s| s.trim_start_matches('?').to_string())
        .unwrap_or_default()
}

/// The address of this page with another query, for links and embed codes.
pub fn page_url(query: &str) -> String {
    let Some(location) = window().map(|w| w.location()) else {
        return format!("?{query}");
    };
    let origin = location.origin().unwrap_or_default();
    let path = location.pathname().unwrap_or_default();
    format!("{origin}{path}?{query}")
}

/// Replaces the current history entry's query: no new entry per slider move, no reload, and
/// no scroll jump (the hash is kept as it is).
pub fn replace_query(query: &str) {
    let Some(w) = window() else { return };
    let location = w.location();
    let path = location.pathname().unwrap_or_default();
    let hash = location.hash().unwrap_or_default();
    if location.search().ok().as_deref() == Some(&format!("?{query}")) {
        return;
    }
    if let Ok(history) = w.history() {
        let _ = history.replace_state_with_url(
            &JsValue::NULL,
            "",
            Some(&format!("{path}?{query}{hash}")),
        );
    }
}

/// Milliseconds from a monotonic clock, for frame budgets only: the simulation never sees it.
pub fn now_ms() -> f64 {
    window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// A fresh seed that survives a trip through a JavaScript number and a URL.
pub fn random_seed() -> u64 {
    // getrandom reads crypto.getRandomValues; should that ever fail, Math.random still gives a
    // new seed, which is all this needs (seeds are not secrets).
    let raw =
        getrandom::u64().unwrap_or_else(|_| (js_sys::Math::random() * MAX_SEED as f64) as u64);
    raw & MAX_SEED
}

/// Copies text to the clipboard; the error says why it could not.
pub async fn copy_text(text: &str) -> Result<(), String> {
    let clipboard = window()
        .map(|w| w.navigator().clipboard())
        .ok_or("no window")?;
    wasm_bindgen_futures::JsFuture::from(clipboard.write_text(text))
        .await
        .map(|_| ())
        .map_err(|e| {
            e.as_string()
                .or_else(|| {
                    e.dyn_ref::<js_sys::Error>()
                        .map(|e| String::from(e.message()))
                })
                .unwrap_or_else(|| "the browser refused".into())
        })
}

/// Offers `text` as a file to save, through a temporary object URL and a clicked link. Does
/// nothing if the browser refuses (there is nothing useful to tell the user then).
pub fn download(file_name: &str, mime: &str, text: &str) {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    if let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) {
        download_blob(file_name, &blob);
    }
}

/// Offers a blob (a PNG, say) as a file to save, like `download`.
pub fn download_blob(file_name: &str, blob: &web_sys::Blob) {
    let Some(document) = window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(blob) else {
        return;
    };
    if let Some(link) = document
        .create_element("a")
        .ok()
        .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        link.set_href(&url);
        link.set_download(file_name);
        link.click();
    }
    // The click has handed the blob to the download; the URL is no longer needed.
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// Whether the page is inside a frame of another page.
pub fn in_frame() -> bool {
    window()
        .and_then(|w| w.parent().ok().flatten().map(|p| p != w))
        .unwrap_or(false)
}

thread_local! {
    static LAST_HEIGHT: Cell<i32> = const { Cell::new(-1) };
}

/// Tells the embedding page how tall the embedded view is, so its iframe can fit it. The
/// message carries the height and nothing else, so it is safe to send to any origin.
///
/// This is the page's only message to another window, and it only ever sends: the page
/// registers no `message` listener on its window (its only message handlers are on its own
/// Web Workers, `offload`), so no other window can change its scenario or its DOM. A test in
/// `tests/` scans this crate's source to keep it that way, and the end-to-end test posts
/// hostile messages to the embedded view and checks that nothing changes.
pub fn post_height(height: f64) {
    let Some(message) = height_message(height) else {
        return;
    };
    let rounded = message.1;
    if LAST_HEIGHT.with(|h| h.replace(rounded)) == rounded || !in_frame() {
        return;
    }
    let Some(parent) = window().and_then(|w| w.parent().ok().flatten()) else {
        return;
    };
    let _ = parent.post_message(&message.0, "*");
}

/// The message `post_height` sends: exactly `{type: "dsim-height", height}`, the height a whole
/// number of CSS pixels; `None` for a height that is not a finite, non-negative number.
pub fn height_message(height: f64) -> Option<(js_sys::Object, i32)> {
    if !height.is_finite() || height < 0.0 {
        return None;
    }
    let rounded = height.ceil().min(i32::MAX as f64) as i32;
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &"type".into(), &"dsim-height".into());
    let _ = js_sys::Reflect::set(&message, &"height".into(), &rounded.into());
    Some((message, rounded))
}

/// Calls `on_resize` with the element's height whenever its size changes.
pub fn observe_height(element: &web_sys::Element, on_resize: impl Fn(f64) + 'static) {
    let target = element.clone();
    let callback = Closure::<dyn FnMut(js_sys::Array)>::new(move |_entries: js_sys::Array| {
        on_resize(target.scroll_height() as f64);
    });
    if let Ok(observer) = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()) {
        observer.observe(element);
    }
    // The observer lives as long as the page, and so must its callback.
    callback.forget();
}

/// Scrolls an element into view (for the counterexample link) once the next frame has drawn
/// what was just asked for, so the page is already long enough to scroll to it.
pub fn scroll_to_testid(testid: &'static str) {
    leptos::prelude::request_animation_frame(move || {
        let element = window().and_then(|w| w.document()).and_then(|d| {
            d.query_selector(&format!("[data-testid=\"{testid}\"]"))
                .ok()
                .flatten()
        });
        if let Some(e) = element {
            e.scroll_into_view();
        }
    });
}

/// The worker's panic hook: the console only. A worker has no page to show a panel on, and
/// leaving `show_panic` out keeps the page's panel (and the elements' routing of it) out of
/// the worker's binary.
pub fn install_worker_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&info.to_string().into());
    }));
}

/// Replaces a frozen page by a readable message when the program panics. The message is set
/// as text, never as HTML.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let details = info.to_string();
        web_sys::console::error_1(&details.clone().into());
        show_panic(&details);
    }));
}

/// Shows the panic panel; public so a browser test can check it renders text, not markup.
/// On the playground's page it goes at the end of the body; on another page, in place of
/// each `<delivery-playground>` element's view (they share the module that stopped), inside
/// its shadow root, where the playground's stylesheet applies.
pub fn show_panic(details: &str) {
    let Some(document) = window().and_then(|w| w.document()) else {
        return;
    };
    #[cfg(target_arch = "wasm32")]
    let elements = element::mounted_containers();
    #[cfg(not(target_arch = "wasm32"))]
    let elements: Vec<web_sys::HtmlElement> = Vec::new();
    if elements.is_empty() {
        if let (Some(panel), Some(body)) = (
            panic_panel(&document, details, "the address keeps your scenario. "),
            document.body(),
        ) {
            let _ = body.append_child(&panel);
        }
        return;
    }
    for container in elements {
        if let Some(panel) = panic_panel(&document, details, "") {
            container.replace_children_with_node_1(&panel);
        }
    }
}

/// The panic panel: what happened, what to do (`keeps`: what a reload keeps, if anything), and
/// the details as text.
fn panic_panel(
    document: &web_sys::Document,
    details: &str,
    keeps: &str,
) -> Option<web_sys::Element> {
    let panel = document.create_element("div").ok()?;
    panel.set_class_name("panic");
    let _ = panel.set_attribute("role", "alert");
    let _ = panel.set_attribute("data-testid", "panic-message");
    let add = |tag: &str, text: &str| {
        if let Ok(e) = document.create_element(tag) {
            e.set_text_content(Some(text));
            let _ = panel.append_child(&e);
        }
    };
    add("h2", "The playground stopped with an internal error");
    add(
        "p",
        &format!(
            "Reload the page to start again{}{keeps}If it happens again, the details below \
             say where.",
            if keeps.is_empty() { ". " } else { ": " }
        ),
    );
    add("pre", details);
    Some(panel)
}

const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// Brings `svg` from the drawing it last had (`drawn`, none yet the first time) to `new`.
pub fn redraw_svg(svg: &web_sys::Element, drawn: &mut Option<Node>, new: &Node) {
    match drawn {
        Some(old) => update(svg, old, new),
        None => {
            // Leptos may hand a new view the element of the one it replaces: start clean.
            svg.set_text_content(None);
            update(svg, &Node::new(new.tag), new);
        }
    }
    *drawn = Some(new.clone());
}

/// Makes the element children of `parent` match `new`, given that they were last made to
/// match `old` (`plot_svg`): an element whose tag is unchanged is kept and only the attributes
/// and text that differ are set, so a report that moves a line sets one `d` and not the
/// hundreds of attributes of the grid, the ticks and the bars.
pub fn sync_svg(parent: &web_sys::Element, old: &[Node], new: &[Node]) {
    let Some(document) = parent.owner_document() else {
        return;
    };
    let mut child = parent.first_element_child();
    for (i, node) in new.iter().enumerate() {
        match (child.take(), old.get(i)) {
            (Some(element), Some(prev))
                if prev.tag == node.tag && prev.text.is_some() == node.text.is_some() =>
            {
                update(&element, prev, node);
                child = element.next_element_sibling();
            }
            (Some(element), _) => {
                let next = element.next_element_sibling();
                if let Some(fresh) = create(&document, node) {
                    let _ = parent.replace_child(&fresh, &element);
                }
                child = next;
            }
            (None, _) => {
                if let Some(fresh) = create(&document, node) {
                    let _ = parent.append_child(&fresh);
                }
            }
        }
    }
    // What is left was drawn for a plot with more elements.
    while let Some(element) = child {
        child = element.next_element_sibling();
        element.remove();
    }
}

fn update(element: &web_sys::Element, prev: &Node, node: &Node) {
    for (name, value) in &node.attrs {
        let was = prev.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        if was != Some(value) {
            let _ = element.set_attribute(name, value);
        }
    }
    for (name, _) in &prev.attrs {
        if !node.attrs.iter().any(|(n, _)| n == name) {
            let _ = element.remove_attribute(name);
        }
    }
    if prev.text != node.text {
        element.set_text_content(node.text.as_deref());
    }
    if prev.children != node.children {
        sync_svg(element, &prev.children, &node.children);
    }
}

fn create(document: &web_sys::Document, node: &Node) -> Option<web_sys::Element> {
    let element = document.create_element_ns(Some(SVG_NS), node.tag).ok()?;
    for (name, value) in &node.attrs {
        let _ = element.set_attribute(name, value);
    }
    if let Some(text) = &node.text {
        element.set_text_content(Some(text));
    }
    sync_svg(&element, &[], &node.children);
    Some(element)
}

/// Where the pointer is over a chart drawn `width` units wide, in the chart's x coordinates.
pub fn pointer_x(ev: &web_sys::PointerEvent, width: f64) -> Option<f64> {
    let target = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())?;
    let rect = target.get_bounding_client_rect();
    (rect.width() > 0.0).then(|| (ev.client_x() as f64 - rect.left()) / rect.width() * width)
}

/// Says on the console what went wrong where the page has nowhere else to say it (a chunk that
/// did not load, a table that could not start).
pub fn log_error(message: &str) {
    web_sys::console::error_1(&message.into());
}
