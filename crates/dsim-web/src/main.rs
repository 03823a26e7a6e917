//! Trunk's entry point: mounts the page; and, for `<delivery-playground>` elements on other
//! pages (web/delivery-playground.js), the one function they call. It is exported here, in
//! the page's binary only: exported from the library, it would keep every component in the
//! worker's binary as well.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::*;

fn main() {
    dsim_web::start();
}

/// One element's mounted view; `free()` unmounts it and stops its jobs.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub struct ElementMount(#[allow(dead_code)] dsim_web::browser::element::ElementMount);

/// Mounts what an element's attributes (`[name, value]` pairs) ask for into `container`, in
/// its shadow root: see `dsim_web::browser::element::mount_element`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
pub fn mount_element(
    container: web_sys::HtmlElement,
    attributes: js_sys::Array,
    number: u32,
    assets: &str,
) -> ElementMount {
    ElementMount(dsim_web::browser::element::mount_element(
        container, attributes, number, assets,
    ))
}
