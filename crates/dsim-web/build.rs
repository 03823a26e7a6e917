//! The page's release build is split in two (ARCHITECTURE.md, "Bundle size"): the dashboard's
//! module, and a chunk with the panels below it that loads once the dashboard is up. Splitting
//! needs two things from this crate's compilation, and only in that build:
//! - `cfg(dsim_split)`, which makes `lower_panels::panels` a split point. A split point imports
//!   its loader from the splitter's output, so an unsplit build (`trunk serve`, the wasm tests)
//!   must not have one;
//! - the page binary linked with its relocations kept, which `wasm-split-cli` reads to tell
//!   what the panels alone reach.
//!
//! That build is the page's `wasm-release` profile (index.html); the worker's profile and the
//! dev profile are left as they are. Cargo tells a build script its profile only by the output
//! folder, hence the path test.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(dsim_split)");
    println!("cargo::rerun-if-changed=build.rs");
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "wasm32");
    let out_dir = std::env::var("OUT_DIR").unwrap_or_default();
    let page_release = Path::new(&out_dir)
        .components()
        .any(|part| part.as_os_str() == "wasm-release");
    if wasm && page_release {
        println!("cargo::rustc-cfg=dsim_split");
        println!("cargo::rustc-link-arg-bin=dsim-web=--emit-relocs");
    }
}
