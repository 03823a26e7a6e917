//! The page's hardening, checked in its source so that a change that weakens it fails here
//! rather than in a browser: the Content-Security-Policy in `index.html`, the loader that
//! lets it forbid inline scripts, and the web crate's promise never to insert markup from a
//! string, set inline styles, or listen for messages from other windows. The browser tests
//! (`crates/dsim-web/tests/web.rs`, `tests/e2e.rs`) check the same things in Chromium.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every `.rs` file of the web crate, with its text.
fn web_sources() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![root().join("crates/dsim-web/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = read(&path);
                files.push((path, text));
            }
        }
    }
    assert!(files.len() > 10, "found the web crate's sources");
    files
}

/// The policy's directives, by name.
fn csp(html: &str) -> Vec<(String, Vec<String>)> {
    let at = html
        .find("http-equiv=\"Content-Security-Policy\"")
        .expect("index.html has a Content-Security-Policy meta element");
    let content = &html[at..];
    let start = content.find("content=\"").expect("the policy has content") + 9;
    let end = start + content[start..].find('"').unwrap();
    content[start..end]
        .split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace().map(str::to_string);
            Some((words.next()?, words.collect()))
        })
        .collect()
}

#[test]
fn the_page_allows_only_its_own_scripts_and_wasm() {
    let html = read(&root().join("index.html"));
    let policy = csp(&html);
    let directive = |name: &str| {
        policy
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("the policy has no {name}"))
    };
    assert_eq!(directive("default-src"), ["'none'"]);
    assert_eq!(directive("script-src"), ["'self'", "'wasm-unsafe-eval'"]);
    assert_eq!(directive("style-src"), ["'self'"]);
    assert_eq!(directive("connect-src"), ["'self'"]);
    // blob: is there for the PNG export alone (`png_export.rs`): a chart's SVG file, made by
    // the page and held in a blob, is drawn as an image onto a canvas. Only script already
    // running on the page can make a blob: URL, so this lets no outside image or value in.
    assert_eq!(directive("img-src"), ["'self'", "blob:"]);
    for (name, values) in &policy {
        assert!(
            name == "img-src" || !values.iter().any(|v| v == "blob:"),
            "{name} allows blob:"
        );
    }
    assert_eq!(directive("object-src"), ["'none'"]);
    assert_eq!(directive("base-uri"), ["'none'"]);
    for (name, values) in &policy {
        for v in values {
            assert!(
                !matches!(
                    v.as_str(),
                    "'unsafe-inline'" | "'unsafe-eval'" | "*" | "data:"
                ),
                "{name} allows {v}"
            );
        }
    }
    // The policy must come before anything it is meant to govern.
    let policy_at = html.find("Content-Security-Policy").unwrap();
    for tag in ["<script", "<link", "<style"] {
        if let Some(at) = html.find(tag) {
            assert!(policy_at < at, "{tag} comes before the policy");
        }
    }
}

#[test]
fn nothing_in_the_page_is_inline_script_or_style() {
    let html = read(&root().join("index.html"));
    // Every script is a file Trunk copies and hashes; none has a body.
    for (i, _) in html.match_indices("<script") {
        let tag_end = i + html[i..].find('>').unwrap();
        let tag = &html[i..=tag_end];
        assert!(tag.contains("data-trunk") && tag.contains("src="), "{tag}");
        assert!(
            html[tag_end + 1..].starts_with("</script>"),
            "inline code after {tag}"
        );
    }
    assert!(!html.contains("<style"), "inline style element");
    assert!(!html.contains(" style="), "inline style attribute");
    for handler in [" onload=", " onerror=", " onclick="] {
        assert!(!html.contains(handler), "inline handler {handler}");
    }
    // Trunk's own loader is an inline module script; ours replaces it (see Trunk.toml).
    let trunk = read(&root().join("Trunk.toml"));
    let pattern = trunk
        .lines()
        .find(|l| l.starts_with("pattern_script"))
        .expect("Trunk.toml replaces the inline loader with pattern_script");
    assert!(!pattern.contains("<script"), "{pattern}");
    assert!(
        pattern.contains("{js}") && pattern.contains("{wasm}"),
        "{pattern}"
    );
    assert!(
        trunk.contains("no_autoreload = true"),
        "trunk serve's inline reload script"
    );
    let boot = read(&root().join("web/boot.js"));
    assert!(boot.contains("meta[name=\"dsim-wasm\"]"));
    for unsafe_js in ["eval(", "new Function", "innerHTML", "document.write"] {
        assert!(!boot.contains(unsafe_js), "web/boot.js uses {unsafe_js}");
    }
}

#[test]
fn the_built_page_keeps_the_policy_and_has_no_inline_script() {
    // Checks the artefact when it exists. A `DSIM_DIST` names a build that must be there:
    // `cargo xtask test trunk` sets it to run this on what it just built.
    let named = std::env::var_os("DSIM_DIST").map(PathBuf::from);
    let dist = named.clone().unwrap_or_else(|| root().join("dist"));
    let html = match std::fs::read_to_string(dist.join("index.html")) {
        Ok(html) => html,
        Err(e) if named.is_some() => panic!("no built page in DSIM_DIST {}: {e}", dist.display()),
        Err(_) => {
            println!("skipped: no built page in {}", dist.display());
            return;
        }
    };
    assert!(html.contains("Content-Security-Policy"));
    assert!(
        html.contains("<meta name=\"dsim-wasm\""),
        "Trunk used pattern_script"
    );
    // The release page carries its first paint (`cargo xtask prerender`), markup the policy
    // must not refuse.
    assert!(
        html.contains("<div id=\"prerendered\"><div class=\"page\""),
        "the built page has no prerendered first paint"
    );
    assert_no_inline_code(&html, "the built page", true);
}

/// What the policy would refuse in a built page: an inline script, a script file without its
/// hash (when `hashed`), a style attribute, an inline event handler.
fn assert_no_inline_code(html: &str, name: &str, hashed: bool) {
    for (i, _) in html.match_indices("<script") {
        let tag_end = i + html[i..].find('>').unwrap();
        let tag = &html[i..=tag_end];
        assert!(tag.contains("src="), "inline script in {name}: {tag}");
        assert!(
            !hashed || tag.contains("integrity="),
            "a script without its hash in {name}: {tag}"
        );
        let close = html[tag_end + 1..].trim_start();
        assert!(
            close.starts_with("</script>"),
            "inline code in {name} after {tag}"
        );
    }
    assert!(!html.contains(" style=\""), "a style attribute in {name}");
    for (i, _) in html.match_indices(" on") {
        let handler: String = html[i + 3..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        assert!(
            handler.is_empty() || !html[i + 3 + handler.len()..].starts_with("=\""),
            "an inline handler, on{handler}, in {name}"
        );
    }
}

#[test]
fn the_built_book_keeps_the_policy_and_has_no_inline_script() {
    // As the page's test: the built book when there is one; `DSIM_DIST` names a build that
    // must have it.
    let named = std::env::var_os("DSIM_DIST").map(PathBuf::from);
    let book = named
        .clone()
        .unwrap_or_else(|| root().join("dist"))
        .join("book");
    let Ok(entries) = std::fs::read_dir(&book) else {
        assert!(named.is_none(), "no built book in {}", book.display());
        println!("skipped: no built book in {}", book.display());
        return;
    };
    let mut pages = 0;
    let mut with_elements = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let html = std::fs::read_to_string(&path).unwrap();
        let name = path.display();
        pages += 1;
        // The playground's own policy (book/theme/index.hbs), not a looser one.
        assert!(
            html.contains("content=\"default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self';"),
            "{name} lacks the book's policy"
        );
        assert!(!html.contains("unsafe-inline"), "{name}");
        // mdBook's own files carry no integrity hash: the policy's 'self' is what admits them.
        assert_no_inline_code(&html, &name.to_string(), false);
        if html.contains("<delivery-playground ") {
            with_elements += 1;
            assert_eq!(
                html.matches("<script type=\"module\" src=\"../delivery-playground.js\"></script>")
                    .count(),
                1,
                "{name} has elements, so it loads their module, once"
            );
        }
    }
    assert!(pages >= 9, "the book has {pages} pages");
    assert!(with_elements >= 8, "{with_elements} pages with elements");
}

#[test]
fn the_web_crate_never_inserts_markup_from_a_string() {
    for (path, text) in web_sources() {
        for sink in [
            "inner_html",
            "outer_html",
            "insert_adjacent_html",
            "document.write",
            "create_contextual_fragment",
            "parse_from_string",
        ] {
            assert!(!text.contains(sink), "{} uses {sink}", path.display());
        }
    }
}

#[test]
fn the_web_crate_sets_no_inline_style_attribute() {
    // The policy refuses `style` attributes; single properties (`style:left=...`) go through
    // the CSSOM and are allowed. (The embed snippet in share.rs is text for another page.)
    for (path, text) in web_sources() {
        for (i, _) in text.match_indices("style=") {
            let before = &text[..i];
            let escaped = text[i + 6..].starts_with("\\\"");
            let directive = before.ends_with(':');
            assert!(
                escaped || directive,
                "{}: a style attribute at byte {i}",
                path.display()
            );
        }
    }
}

#[test]
fn the_page_listens_for_no_message_from_another_window() {
    // The embedded view posts its height to its parent (browser::post_height) and takes
    // nothing back: no `message` listener exists on the page's window. The only message
    // handlers are on the page's own Web Workers (offload.rs), which nothing but that worker
    // can post to, and in the worker, on its own scope, which only the page that made it
    // can reach.
    for (path, text) in web_sources() {
        for listener in [
            "ev::message",
            "on:message",
            "window_event_listener",
            "listener_with_callback(\"message\"",
            "addEventListener(\"message\"",
        ] {
            assert!(
                !text.contains(listener),
                "{} listens for messages ({listener})",
                path.display()
            );
        }
        let is_offload = path.ends_with("offload.rs");
        for (i, _) in text.match_indices("set_onmessage(") {
            let receiver = text[..i]
                .rsplit(|c: char| c.is_whitespace())
                .next()
                .unwrap_or("");
            assert!(
                is_offload && matches!(receiver, "worker." | "scope." | "slot.worker."),
                "{}: a message handler on {receiver:?}",
                path.display()
            );
        }
    }
    let boot = read(&root().join("web/boot.js"));
    assert!(
        !boot.contains("message"),
        "web/boot.js listens for messages"
    );
    let to_parent: usize = web_sources()
        .iter()
        .map(|(_, t)| t.matches("parent.post_message(").count())
        .sum();
    assert_eq!(
        to_parent, 1,
        "post_height is the only message to another window"
    );
}

/// The web crate's folders say what kind of code a file is, and hold to it: `model/` and
/// `draw/` are plain Rust over the core (no Leptos, no web API, so they run and are tested
/// natively), components reach web APIs only through Leptos or `browser/`, and only
/// `browser/` and `worker/` call them by hand. A file that
/// sits at the crate's root besides `lib.rs` and the two binaries has no folder yet.
#[test]
fn the_web_crates_folders_hold_the_kind_of_code_they_name() {
    let src = root().join("crates/dsim-web/src");
    let mut wrong = Vec::new();
    for (path, text) in web_sources() {
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let folder = rel.split('/').next().unwrap_or_default();
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let uses = |needle: &str| code.contains(needle);
        match folder {
            "model" | "draw" => {
                for needle in ["leptos", "web_sys", "js_sys", "wasm_bindgen"] {
                    if uses(needle) {
                        wrong.push(format!("{rel} uses {needle}: {folder}/ is plain Rust"));
                    }
                }
            }
            // Components bind signals to the DOM through Leptos; a web API called by hand
            // (the console, an element's box) goes through `browser/`. They may name the
            // input element their fields' events come from, as Leptos's own examples do.
            "components" => {
                let by_hand = code
                    .match_indices("web_sys::")
                    .filter(|(i, _)| !code[i + 9..].starts_with("HtmlInputElement"))
                    .count();
                if by_hand > 0 || uses("js_sys::") {
                    wrong.push(format!(
                        "{rel} calls a web API by hand: that belongs in browser/"
                    ));
                }
            }
            "browser" | "worker" => {}
            "lib.rs" | "main.rs" | "worker_main.rs" => {}
            _ => wrong.push(format!("{rel} is in no folder")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
