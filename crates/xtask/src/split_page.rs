//! `cargo xtask split-page`: Trunk's post-build hook (Trunk.toml) for the release page.
//!
//! The page's release wasm is built with a split point (`crates/dsim-web/src/components/lower_panels.rs`,
//! `cfg(dsim_split)` from its build.rs): the panels below the dashboard go into a second
//! module, fetched once the dashboard is up, so the page starts from the smaller one. Trunk
//! cannot split (it runs cargo, wasm-bindgen and wasm-opt in one step, and the split must come
//! between cargo and wasm-bindgen), so this hook redoes the page's last two steps on cargo's
//! output and puts the results in Trunk's staging folder under Trunk's own names:
//!
//! 1. `wasm-split-cli` cuts cargo's wasm (linked with `--emit-relocs`) into the main module,
//!    one chunk per split module and a link script that fetches a chunk and instantiates it
//!    against the main module's memory and function table;
//! 2. `wasm-bindgen --keep-lld-exports` binds the main module (without that flag it drops the
//!    table and memory exports the chunk imports);
//! 3. `wasm-opt -Oz` on every part (Trunk's own pass is off for the page: index.html);
//! 4. the chunks and the link script get names derived from Trunk's content-hashed name, so a
//!    redeploy never mixes an old chunk with a new page, and `index.html`'s integrity hashes
//!    are rewritten for the two files that changed.
//!
//! A debug build (`trunk serve`) has no split point and nothing to do.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

use crate::cmd::{Ctx, read_text as read, write_text as write};
use crate::meta::Workspace;

/// Cargo's output for the page binary, under the target folder: the profile is the one
/// index.html gives the page's rust link.
const PAGE_WASM: &str = "wasm32-unknown-unknown/wasm-release/dsim-web.wasm";

/// What `wasm-split-cli` calls its link script and its chunks.
const SPLIT_LINK_JS: &str = "__wasm_split.js";
const SPLIT_CHUNK_PREFIX: &str = "split_";

pub fn run(ctx: &Ctx) -> Result<(), String> {
    let profile = env::var("TRUNK_PROFILE").unwrap_or_default();
    let staging = PathBuf::from(
        env::var_os("TRUNK_STAGING_DIR")
            .ok_or("split-page runs as trunk's post_build hook (TRUNK_STAGING_DIR unset)")?,
    );
    if profile != "release" {
        println!("split-page: {profile:?} build: the page has no split point, nothing to do");
        crate::element::write(ctx, &staging)?;
        return crate::book::build(ctx, &staging);
    }
    let html_path = staging.join("index.html");
    let html = read(&html_path)?;
    let page = PageFiles::from_html(&html)?;
    let target_dir = Workspace::load(ctx)?.target_dir;
    let input = target_dir.join(PAGE_WASM);
    let work = target_dir.join("page-split");
    if work.exists() {
        fs::remove_dir_all(&work).map_err(|e| format!("cannot clear {}: {e}", work.display()))?;
    }
    let split_dir = work.join("split");
    let bindgen_dir = work.join("bindgen");

    ctx.cmd("wasm-split-cli")
        .arg(&input)
        .arg(&split_dir)
        .args(["--out-name", &page.stem])
        .run()?;
    ctx.cmd("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--keep-lld-exports"])
        .args(["--out-name", &page.stem])
        .arg("--out-dir")
        .arg(&bindgen_dir)
        .arg(split_dir.join(format!("{}.wasm", page.stem)))
        .run()?;
    wasm_opt(
        ctx,
        &bindgen_dir.join(format!("{}_bg.wasm", page.stem)),
        &staging.join(&page.wasm),
    )?;

    // Each chunk: optimised, renamed after the page, and the link script pointed at it.
    let mut link_js = read(&split_dir.join(SPLIT_LINK_JS))?;
    let mut chunks = Vec::new();
    for entry in fs::read_dir(&split_dir).map_err(|e| format!("{}: {e}", split_dir.display()))? {
        let name = entry
            .map_err(|e| format!("{}: {e}", split_dir.display()))?
            .file_name()
            .to_string_lossy()
            .into_owned();
        let Some(module) = name
            .strip_prefix(SPLIT_CHUNK_PREFIX)
            .and_then(|rest| rest.strip_suffix(".wasm"))
        else {
            continue;
        };
        let renamed = format!("{}_{module}.wasm", page.stem);
        wasm_opt(ctx, &split_dir.join(&name), &staging.join(&renamed))?;
        link_js = replace_once(
            &link_js,
            &format!("\"./{name}\""),
            &format!("\"./{renamed}\""),
        )
        .map_err(|e| format!("{SPLIT_LINK_JS}: {e}"))?;
        chunks.push(renamed);
    }
    if chunks.is_empty() {
        return Err(format!(
            "wasm-split-cli made no chunk from {}: was it built without cfg(dsim_split)?",
            input.display()
        ));
    }
    // The link script imports the page's module by the name given to wasm-split-cli.
    if !link_js.contains(&format!("\"./{}.js\"", page.stem)) {
        return Err(format!(
            "{SPLIT_LINK_JS} does not import ./{}.js: has wasm-split-cli's output changed?",
            page.stem
        ));
    }
    let link_name = format!("{}_split.js", page.stem);
    write(&staging.join(&link_name), &link_js)?;

    let bindgen_js = read(&bindgen_dir.join(format!("{}.js", page.stem)))?;
    // Only the ES imports change (one per split module, all of the same script): the same
    // string is also the wasm import module's name, which keys the imports object handed to
    // the module.
    let bindgen_js = replace_each(
        &bindgen_js,
        &format!("from \"./{SPLIT_LINK_JS}\""),
        &format!("from \"./{link_name}\""),
        chunks.len(),
    )
    .map_err(|e| format!("{}.js: {e}", page.stem))?;
    write(&staging.join(&page.js), &bindgen_js)?;

    let mut html = html;
    for file in [&page.js, &page.wasm] {
        let hash = integrity(ctx, &staging.join(file))?;
        html = set_integrity(&html, &format!("{}{file}", page.base), &hash)?;
    }
    // No early fetch of the page's wasm: index.html carries the first paint (`prerender`), and
    // on a slow network a 300 KB download started from <head> would share the line with the
    // HTML and CSS that draw it. web/boot.js fetches the wasm once that paint is on screen.
    html = drop_preload(&html, &format!("{}{}", page.base, page.wasm))?;
    // The page's module imports the link script: preloaded beside it, it costs no extra
    // round trip before the page starts.
    let hash = integrity(ctx, &staging.join(&link_name))?;
    html = add_modulepreload(
        &html,
        &format!("{}{}", page.base, page.js),
        &format!("{}{link_name}", page.base),
        &hash,
    )?;
    write(&html_path, &html)?;
    println!(
        "split-page: {} + {} (loaded by {link_name})",
        page.wasm,
        chunks.join(", ")
    );
    crate::element::write(ctx, &staging)?;
    crate::book::build(ctx, &staging)?;
    crate::prerender::run(ctx, &staging)?;
    crate::precompress::run(ctx, &staging)
}

/// The page's module and wasm, as Trunk named them in `<meta name="dsim-wasm">` (Trunk.toml,
/// `pattern_script`).
#[derive(Debug, PartialEq)]
pub(crate) struct PageFiles {
    /// The public URL they are under, as written in the page ("./").
    base: String,
    /// `dsim-web-<hash>.js`
    pub(crate) js: String,
    /// `dsim-web-<hash>_bg.wasm`
    pub(crate) wasm: String,
    /// `dsim-web-<hash>`
    stem: String,
}

impl PageFiles {
    pub(crate) fn from_html(html: &str) -> Result<PageFiles, String> {
        let meta = tag_containing(html, "name=\"dsim-wasm\"")
            .ok_or("index.html has no <meta name=\"dsim-wasm\">: see Trunk.toml")?;
        let js_url = attribute(meta, "data-js").ok_or("dsim-wasm meta without data-js")?;
        let wasm_url = attribute(meta, "data-wasm").ok_or("dsim-wasm meta without data-wasm")?;
        let split_at = js_url.rfind('/').map_or(0, |i| i + 1);
        let (base, js) = js_url.split_at(split_at);
        let wasm = wasm_url
            .strip_prefix(base)
            .ok_or_else(|| format!("{wasm_url} and {js_url} are in different folders"))?;
        let stem = js
            .strip_suffix(".js")
            .filter(|stem| wasm == format!("{stem}_bg.wasm"))
            .ok_or_else(|| format!("unexpected page file names {js} and {wasm}"))?;
        Ok(PageFiles {
            base: base.to_string(),
            js: js.to_string(),
            wasm: wasm.to_string(),
            stem: stem.to_string(),
        })
    }
}

/// The first tag (`<...>`) that contains `needle`.
pub(crate) fn tag_containing<'a>(html: &'a str, needle: &str) -> Option<&'a str> {
    let at = html.find(needle)?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    Some(&html[start..=end])
}

pub(crate) fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// Replaces the `integrity` value of the tag whose `href` is `href`.
fn set_integrity(html: &str, href: &str, hash: &str) -> Result<String, String> {
    let needle = format!("href=\"{href}\"");
    let tag =
        tag_containing(html, &needle).ok_or_else(|| format!("index.html has no link to {href}"))?;
    let old = attribute(tag, "integrity")
        .ok_or_else(|| format!("index.html's link to {href} has no integrity"))?;
    let new_tag = tag.replacen(
        &format!("integrity=\"{old}\""),
        &format!("integrity=\"{hash}\""),
        1,
    );
    replace_once(html, tag, &new_tag)
}

/// A `<link rel="modulepreload">` for `href`, right after the one for `beside`.
fn add_modulepreload(html: &str, beside: &str, href: &str, hash: &str) -> Result<String, String> {
    let tag = tag_containing(html, &format!("href=\"{beside}\""))
        .ok_or_else(|| format!("index.html has no link to {beside}"))?;
    let link = format!(
        "<link rel=\"modulepreload\" href=\"{href}\" crossorigin=\"anonymous\" integrity=\"{hash}\">"
    );
    replace_once(html, tag, &format!("{tag}\n{link}"))
}

/// The page without Trunk's `<link rel="preload">` of `href`.
fn drop_preload(html: &str, href: &str) -> Result<String, String> {
    let tag = html
        .match_indices("<link")
        .map(|(i, _)| &html[i..i + html[i..].find('>').map_or(0, |e| e + 1)])
        .find(|tag| tag.contains("rel=\"preload\"") && tag.contains(&format!("href=\"{href}\"")))
        .ok_or_else(|| format!("index.html has no preload of {href}"))?;
    let with_line = format!("{tag}\n");
    if html.contains(&with_line) {
        replace_once(html, &with_line, "")
    } else {
        replace_once(html, tag, "")
    }
}

/// Replaces `from`, which must be there exactly `times` times.
fn replace_each(text: &str, from: &str, to: &str, times: usize) -> Result<String, String> {
    match text.matches(from).count() {
        n if n == times => Ok(text.replace(from, to)),
        n => Err(format!(
            "expected {from} {times} time(s), found it {n} times"
        )),
    }
}

fn replace_once(text: &str, from: &str, to: &str) -> Result<String, String> {
    match text.matches(from).count() {
        1 => Ok(text.replacen(from, to, 1)),
        n => Err(format!("expected {from} once, found it {n} times")),
    }
}

/// Subresource integrity, as Trunk writes it: `sha384-` and the digest in base64.
fn integrity(ctx: &Ctx, file: &Path) -> Result<String, String> {
    let out = ctx.cmd("sha384sum").arg(file).read()?;
    let hex = out.split_whitespace().next().unwrap_or_default();
    let digest = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .filter(|d| d.len() == 48)
        .ok_or_else(|| format!("sha384sum printed {out:?}"))?;
    Ok(format!("sha384-{}", base64(&digest)))
}

/// Standard base64 with padding (RFC 4648, section 4).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= group.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The page's size-first setting. index.html turns Trunk's own pass off for the page
/// (`data-wasm-opt="0"`): it would only optimise the unsplit file this hook replaces.
fn wasm_opt(ctx: &Ctx, input: &Path, output: &Path) -> Result<(), String> {
    ctx.cmd("wasm-opt")
        .arg("-Oz")
        .arg(input)
        .arg(format!("--output={}", output.display()))
        .run()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTML: &str = r#"<head><link rel="modulepreload" href="./dsim-web-95ca.js" crossorigin="anonymous" integrity="sha384-OLDJS">
<link rel="preload" href="./dsim-web-95ca_bg.wasm" crossorigin="anonymous" integrity="sha384-OLDWASM" as="fetch" type="application/wasm">
<meta name="dsim-wasm" data-js="./dsim-web-95ca.js" data-wasm="./dsim-web-95ca_bg.wasm"/>
<link rel="preload" href="./dsim-worker_bg.wasm" integrity="sha384-WORKER"></head>"#;

    #[test]
    fn the_page_files_are_read_from_trunks_meta_tag() {
        assert_eq!(
            PageFiles::from_html(HTML).unwrap(),
            PageFiles {
                base: "./".into(),
                js: "dsim-web-95ca.js".into(),
                wasm: "dsim-web-95ca_bg.wasm".into(),
                stem: "dsim-web-95ca".into(),
            }
        );
        assert!(PageFiles::from_html("<head></head>").is_err());
    }

    #[test]
    fn only_the_named_links_integrity_changes() {
        let html = set_integrity(HTML, "./dsim-web-95ca_bg.wasm", "sha384-NEW").unwrap();
        assert!(html.contains(
            r#"href="./dsim-web-95ca_bg.wasm" crossorigin="anonymous" integrity="sha384-NEW""#
        ));
        assert!(html.contains("sha384-OLDJS") && html.contains("sha384-WORKER"));
        assert!(!html.contains("OLDWASM"));
        assert!(set_integrity(HTML, "./missing.js", "x").is_err());
    }

    #[test]
    fn the_page_wasm_is_not_preloaded_and_the_rest_stays() {
        let html = drop_preload(HTML, "./dsim-web-95ca_bg.wasm").unwrap();
        assert!(
            !html.contains("dsim-web-95ca_bg.wasm\" crossorigin"),
            "{html}"
        );
        assert!(
            html.contains("data-wasm=\"./dsim-web-95ca_bg.wasm\""),
            "{html}"
        );
        assert!(html.contains("sha384-OLDJS\">\n<meta"), "{html}");
        assert!(html.contains("./dsim-worker_bg.wasm"), "{html}");
        assert!(drop_preload(&html, "./dsim-web-95ca_bg.wasm").is_err());
    }

    #[test]
    fn the_link_script_is_preloaded_beside_the_page_module() {
        let html = add_modulepreload(
            HTML,
            "./dsim-web-95ca.js",
            "./dsim-web-95ca_split.js",
            "sha384-L",
        )
        .unwrap();
        assert!(html.contains(
            "integrity=\"sha384-OLDJS\">\n<link rel=\"modulepreload\" href=\"./dsim-web-95ca_split.js\" crossorigin=\"anonymous\" integrity=\"sha384-L\">"
        ));
    }

    #[test]
    fn a_replacement_that_does_not_match_exactly_once_is_an_error() {
        assert_eq!(
            replace_once("a \"x\" b", "\"x\"", "\"y\"").unwrap(),
            "a \"y\" b"
        );
        assert!(replace_once("a b", "\"x\"", "y").is_err());
        assert!(replace_once("\"x\" \"x\"", "\"x\"", "y").is_err());
    }

    #[test]
    fn base64_matches_rfc_4648_test_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }
}
