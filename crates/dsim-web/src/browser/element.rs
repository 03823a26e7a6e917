//! The `<delivery-playground>` element's way into this module. `web/delivery-playground.js`
//! defines the element: it gives each one a shadow root holding the playground's stylesheet
//! and a container, loads this module once for every element of the page (its `main` mounts
//! nothing there: `crate::start`), and calls [`mount_element`] with the element's attributes,
//! again whenever one changes. Everything shown is `components::element`.
//!
//! The page's binary (src/main.rs) exports these to JavaScript, not this library: an export
//! here would keep every component alive in the worker's binary too (it grew 2.5x). In the
//! release build the element's view is a wasm chunk of its own (`cfg(dsim_split)`, as the
//! page's lower panels are), fetched by the first element of a page: the playground's own
//! page never needs it, so its first download stays as it was.

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

use dsim_core::element::Element;
use wasm_bindgen::JsCast;

/// One element's mounted view; dropping it (`free()` from JS) unmounts the view, or, while
/// the view's chunk is still on its way, makes sure it is never mounted; and stops the
/// element's jobs in workers.
pub struct ElementMount {
    number: u32,
    view: Rc<RefCell<Slot>>,
    container: web_sys::HtmlElement,
}

thread_local! {
    /// The containers of the elements mounted now, where a panic is shown (`show_panic`): on
    /// another page the playground's stylesheet is only inside each element's shadow root.
    static MOUNTED: RefCell<Vec<web_sys::HtmlElement>> = const { RefCell::new(Vec::new()) };
}

/// The containers of the `<delivery-playground>` elements mounted on this page.
pub fn mounted_containers() -> Vec<web_sys::HtmlElement> {
    MOUNTED.with(|m| m.borrow().clone())
}

enum Slot {
    Loading,
    Mounted(#[allow(dead_code)] Box<dyn Any>),
    Dropped,
}

impl Drop for ElementMount {
    fn drop(&mut self) {
        // The view is dropped here, which unmounts it.
        *self.view.borrow_mut() = Slot::Dropped;
        crate::offload::cancel_all(self.number);
        MOUNTED.with(|m| {
            let mut m = m.borrow_mut();
            if let Some(at) = m.iter().position(|c| *c == self.container) {
                m.remove(at);
            }
        });
    }
}

/// Mounts the view an element's `attributes` (`[name, value]` pairs, in order) ask for into
/// `container`, inside the element's shadow root. `number` is the element's own (from 1, the
/// same for each of its mounts: its workers are its own); `assets` is where the playground's
/// files are (a URL ending in `/`), for the worker.
pub fn mount_element(
    container: web_sys::HtmlElement,
    attributes: js_sys::Array,
    number: u32,
    assets: &str,
) -> ElementMount {
    crate::browser::set_asset_base(assets);
    let pairs: Vec<(String, String)> = attributes
        .iter()
        .filter_map(|pair| {
            let pair: js_sys::Array = pair.dyn_into().ok()?;
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect();
    let (element, errors) = Element::from_attributes(&pairs);
    let style = container.style();
    match element.height {
        Some(px) => {
            let _ = style.set_property("height", &format!("{px}px"));
            let _ = style.set_property("overflow", "auto");
        }
        None => {
            let _ = style.remove_property("height");
            let _ = style.remove_property("overflow");
        }
    }
    MOUNTED.with(|m| m.borrow_mut().push(container.clone()));
    let mount = Mount {
        container: container.clone(),
        element,
        errors,
        number,
    };
    let view = Rc::new(RefCell::new(Slot::Loading));
    let slot = view.clone();
    let put = move |mounted: Box<dyn Any>| {
        let mut slot = slot.borrow_mut();
        if matches!(*slot, Slot::Loading) {
            *slot = Slot::Mounted(mounted);
        }
        // Freed while its chunk loaded: `mounted` is dropped here, unmounting it at once.
    };
    // wasm-bindgen's own executor: Leptos's is set up by the first mount, after this.
    #[cfg(dsim_split)]
    wasm_bindgen_futures::spawn_local(async move {
        match split::mount(mount).await {
            Ok(mounted) => put(mounted),
            Err(err) => crate::browser::log_error(&format!("dsim: the element's chunk: {err}")),
        }
    });
    #[cfg(not(dsim_split))]
    put(mount.run());
    ElementMount {
        number,
        view,
        container,
    }
}

/// What one mount of an element needs.
struct Mount {
    container: web_sys::HtmlElement,
    element: Element,
    errors: Vec<dsim_core::ScenarioError>,
    number: u32,
}

impl Mount {
    fn run(self) -> Box<dyn Any> {
        use crate::components::element::PlaygroundElement;
        let Mount {
            container,
            element,
            errors,
            number,
        } = self;
        let view = leptos::mount::mount_to(container, move || {
            leptos::prelude::view! {
                <PlaygroundElement element=element errors=errors number=number />
            }
        });
        Box::new(view)
    }
}

#[cfg(dsim_split)]
mod split {
    use std::any::Any;

    use wasm_split_helpers::{SplitLoaderError, wasm_split};

    use super::Mount;

    #[wasm_split(element, fallible)]
    pub fn mount(mount: Mount) -> Result<Box<dyn Any>, SplitLoaderError> {
        Ok(mount.run())
    }
}
