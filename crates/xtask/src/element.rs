//! The `<delivery-playground>` element's module in `dist/`: `web/delivery-playground.js` with
//! the build's content-hashed file names written in (the page's wasm-bindgen module, its wasm
//! and its stylesheet), and its TypeScript declarations beside it. Part of Trunk's post-build
//! hook (`split-page`), in every profile, once the page's files have their final names. The
//! element's own name stays `delivery-playground.js`, so a docs page can point at it for good.

use std::path::Path;

use crate::cmd::{Ctx, read_text as read, write_text as write_file};
use crate::split_page::{PageFiles, attribute, tag_containing};

/// The element's module and declarations, in `web/` and under the same names in `dist/`.
const MODULE: &str = "delivery-playground.js";
const TYPES: &str = "delivery-playground.d.ts";

pub fn write(ctx: &Ctx, staging: &Path) -> Result<(), String> {
    let html = read(&staging.join("index.html"))?;
    let source = read(&ctx.root.join("web").join(MODULE))?;
    let module = fill(&source, &html)?;
    write_file(&staging.join(MODULE), &module)?;
    let types = read(&ctx.root.join("web").join(TYPES))?;
    write_file(&staging.join(TYPES), &types)?;
    println!("element: {MODULE} and {TYPES} written");
    Ok(())
}

/// The module with the page's file names in place of its three placeholders.
fn fill(source: &str, html: &str) -> Result<String, String> {
    let page = PageFiles::from_html(html)?;
    let style = tag_containing(html, "rel=\"stylesheet\"")
        .and_then(|tag| attribute(tag, "href"))
        .ok_or("index.html links no stylesheet")?;
    let style = style.trim_start_matches("./");
    let mut out = source.to_string();
    for (placeholder, name) in [
        ("__DSIM_PAGE_JS__", page.js.as_str()),
        ("__DSIM_PAGE_WASM__", page.wasm.as_str()),
        ("__DSIM_STYLE__", style),
    ] {
        if !out.contains(placeholder) {
            return Err(format!("web/{MODULE} lacks its placeholder {placeholder}"));
        }
        out = out.replace(placeholder, name);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTML: &str = r#"<head><link rel="stylesheet" href="./style-abc.css" integrity="sha384-x"/>
<meta name="dsim-wasm" data-js="./dsim-web-123.js" data-wasm="./dsim-web-123_bg.wasm" /></head>"#;

    #[test]
    fn the_module_gets_the_builds_file_names() {
        let source = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../web")
                .join(MODULE),
        )
        .unwrap();
        let module = fill(&source, HTML).unwrap();
        assert!(module.contains("const PAGE_JS = \"dsim-web-123.js\";"));
        assert!(module.contains("const PAGE_WASM = \"dsim-web-123_bg.wasm\";"));
        assert!(module.contains("const STYLE = \"style-abc.css\";"));
        assert!(!module.contains("__DSIM_"));
    }

    #[test]
    fn a_page_without_its_names_is_refused() {
        assert!(fill("const PAGE_JS = \"__DSIM_PAGE_JS__\";", "<head></head>").is_err());
        let err = fill("no placeholders", HTML).unwrap_err();
        assert!(err.contains("__DSIM_PAGE_JS__"), "{err}");
    }
}
