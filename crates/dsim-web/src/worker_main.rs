//! Trunk's entry point for the Web Worker that runs heavy simulations off the page's thread.
//! Only meaningful in a browser; a native build of the workspace compiles it to nothing.

fn main() {
    #[cfg(target_arch = "wasm32")]
    dsim_web::start_worker();
}
