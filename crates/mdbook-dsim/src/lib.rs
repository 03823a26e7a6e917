//! `mdbook-dsim`: an mdBook preprocessor that turns a fenced block
//!
//! ````markdown
//! ```dsim
//! mode = "at-least-once"
//! publish-ack-loss = 0.1
//! view = "counters"
//! ```
//! ````
//!
//! into the playground's element, `<delivery-playground mode="at-least-once"
//! publish-ack-loss="0.1" view="counters">`, followed by a link that opens the same scenario
//! in the playground. A block holds the URL's keys (the scenario's settings, `preset`, the
//! element's `view`, `height` and `theme`) in TOML, as `book.toml` is written, or in JSON.
//!
//! Every block goes through the one `Scenario` type (`Scenario::from_query`, as a URL, the CLI
//! and the JS API do), so a block the playground would refuse fails the book's build, naming
//! the chapter, the line in its file and the field.
//!
//! mdBook talks to a preprocessor in JSON (`[context, book]` on stdin, the book on stdout):
//! [`run`] walks the book as `serde_json::Value`, touching only each chapter's `content`, so
//! nothing here depends on the version of mdBook beyond that shape.

use std::fmt;

use dsim_core::element::{self, Element};
use serde_json::Value;

/// The custom element a block becomes.
pub const ELEMENT: &str = "delivery-playground";
/// The element's own attributes beside the URL's keys.
pub const ELEMENT_KEYS: &[&str] = element::ELEMENT_KEYS;
/// Where the link under each element points unless `book.toml` says otherwise
/// (`[preprocessor.dsim] playground = "..."`): the playground beside the book in `dist/`.
pub const DEFAULT_PLAYGROUND: &str = "../index.html";

/// A block the playground would refuse, said as mdBook prints a failed build.
#[derive(Debug, PartialEq)]
pub struct BlockError {
    /// The chapter's name and its file.
    pub chapter: String,
    /// The line in the chapter's file, from 1.
    pub line: usize,
    /// The key at fault, or `dsim` for a block that does not parse at all.
    pub field: String,
    pub message: String,
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, line {}: {}: {}",
            self.chapter, self.line, self.field, self.message
        )
    }
}

/// One setting of a block: its key, its value as the URL writes it, and its line within the
/// block (from 0).
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    key: String,
    value: String,
    line: usize,
}

/// A block's entries in the order written; the error is (line within the block, field,
/// message).
fn parse_block(text: &str) -> Result<Vec<Entry>, (usize, String, String)> {
    let json = text.trim_start().starts_with('{');
    let pairs: Vec<(String, Value)> = if json {
        let map: serde_json::Map<String, Value> = serde_json::from_str(text).map_err(|e| {
            (
                e.line().saturating_sub(1),
                "dsim".to_string(),
                format!("not a JSON object of settings: {e}"),
            )
        })?;
        map.into_iter().collect()
    } else {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e
                .span()
                .map_or(0, |s| text[..s.start.min(text.len())].matches('\n').count());
            let message = e.message().to_string();
            (
                line,
                "dsim".to_string(),
                format!("not TOML settings: {message}"),
            )
        })?;
        table
            .into_iter()
            .map(|(k, v)| {
                let v = serde_json::to_value(&v).unwrap_or(Value::Null);
                (k, v)
            })
            .collect()
    };
    let mut entries = pairs
        .into_iter()
        .map(|(key, value)| {
            let line = line_of(text, &key, json);
            let value = match value {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                // The URL's switches read on and off.
                Value::Bool(b) => if b { "on" } else { "off" }.to_string(),
                other => {
                    return Err((
                        line,
                        key,
                        format!("must be one value, not {}", kind(&other)),
                    ));
                }
            };
            Ok(Entry { key, value, line })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // TOML tables and serde_json maps are ordered by key: keep the order the author wrote.
    entries.sort_by_key(|e| e.line);
    Ok(entries)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
        _ => "nothing",
    }
}

/// The line (from 0) where a block names `key`: `key =` in TOML, `"key":` in JSON.
fn line_of(text: &str, key: &str, json: bool) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            if json {
                l.contains(&format!("\"{key}\""))
            } else {
                [key.to_string(), format!("\"{key}\"")].iter().any(|k| {
                    l.strip_prefix(k.as_str())
                        .is_some_and(|rest| rest.trim_start().starts_with('='))
                })
            }
        })
        .unwrap_or(0)
}

/// The URL query of a block's scenario settings (without the element's own keys).
fn query(entries: &[Entry]) -> String {
    element::settings_query(&pairs(entries))
}

fn pairs(entries: &[Entry]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect()
}

/// Checks a block as the element will read it (`dsim_core::element`: its `view` and `height`,
/// the rest through `Scenario::from_query`). The error is (line within the block, field,
/// message).
fn check(entries: &[Entry]) -> Result<(), (usize, String, String)> {
    let (_, errors) = Element::from_attributes(&pairs(entries));
    match errors.into_iter().next() {
        None => Ok(()),
        Some(err) => {
            let line = entries
                .iter()
                .find(|e| e.key == err.key)
                .map_or(0, |e| e.line);
            Err((line, err.key, err.message))
        }
    }
}

/// Text for an HTML attribute value in double quotes.
fn attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The element for a checked block, and under it the settings that make its numbers (the
/// reader sees each number beside what produces it) with the link that opens them in the
/// playground.
fn render(entries: &[Entry], playground: &str) -> String {
    let attributes: String = entries
        .iter()
        .map(|e| format!(" {}=\"{}\"", e.key, attribute(&e.value)))
        .collect();
    let query = query(entries);
    let href = if query.is_empty() {
        playground.to_string()
    } else {
        format!("{playground}?{query}")
    };
    let settings: Vec<String> = entries
        .iter()
        .filter(|e| !ELEMENT_KEYS.contains(&e.key.as_str()))
        .map(|e| format!("<code>{} = {}</code>", e.key, text(&e.value)))
        .collect();
    let settings = if settings.is_empty() {
        "The default scenario".to_string()
    } else {
        settings.join(", ")
    };
    format!(
        "<{ELEMENT}{attributes}></{ELEMENT}>\n<p class=\"dsim-open\">{settings} · <a href=\"{}\">Open in the playground</a></p>\n",
        attribute(&href)
    )
}

/// Text for HTML content.
fn text(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The element's module, beside the playground page (`dist/delivery-playground.js`).
pub const MODULE: &str = "delivery-playground.js";

/// Where the element's module is, from where the playground is: the same folder.
pub fn module_url(playground: &str) -> String {
    let path = playground.split(['?', '#']).next().unwrap_or_default();
    let folder = match path.rfind('/') {
        Some(i) if path.ends_with(".html") => &path[..=i],
        None if path.ends_with(".html") => "",
        _ if path.ends_with('/') || path.is_empty() => path,
        _ => return format!("{path}/{MODULE}"),
    };
    format!("{folder}{MODULE}")
}

/// A chapter's Markdown with every ```dsim block replaced by its element, and the element's
/// module loaded once at its end if it has any. `chapter` names the chapter in errors (its
/// name and file).
pub fn rewrite_chapter(
    chapter: &str,
    content: &str,
    playground: &str,
) -> Result<String, BlockError> {
    let mut out = String::with_capacity(content.len());
    let mut elements = 0;
    let mut lines = content.split_inclusive('\n').enumerate();
    while let Some((number, line)) = lines.next() {
        let fence = line.trim_start();
        let ticks = fence.len() - fence.trim_start_matches('`').len();
        let info = fence[ticks..].trim();
        if ticks < 3 || info.split([' ', ',']).next() != Some("dsim") {
            out.push_str(line);
            continue;
        }
        let closing = "`".repeat(ticks);
        let mut block = String::new();
        let mut closed = false;
        for (_, inner) in lines.by_ref() {
            if inner.trim() == closing {
                closed = true;
                break;
            }
            block.push_str(inner);
        }
        let error = |line: usize, field: String, message: String| BlockError {
            chapter: chapter.to_string(),
            line: number + 2 + line,
            field,
            message,
        };
        if !closed {
            // Named at its opening fence, the only line it has.
            return Err(BlockError {
                line: number + 1,
                ..error(0, "dsim".into(), "the block is never closed".into())
            });
        }
        let entries = parse_block(&block).map_err(|(l, f, m)| error(l, f, m))?;
        check(&entries).map_err(|(l, f, m)| error(l, f, m))?;
        out.push_str(&render(&entries, playground));
        elements += 1;
    }
    if elements > 0 {
        // One module for the page, however many elements: it defines the element once and
        // every element shares the one wasm instance it loads.
        out.push_str(&format!(
            "\n<script type=\"module\" src=\"{}\"></script>\n",
            attribute(&module_url(playground))
        ));
    }
    Ok(out)
}

/// The preprocessor: mdBook's `[context, book]` JSON in, the book JSON out, every chapter
/// rewritten; the first bad block fails the build.
pub fn run(input: &str) -> Result<String, String> {
    let [context, mut book]: [Value; 2] = serde_json::from_str(input)
        .map_err(|e| format!("mdbook-dsim: mdBook's input is not [context, book]: {e}"))?;
    let playground = context
        .pointer("/config/preprocessor/dsim/playground")
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_PLAYGROUND)
        .to_string();
    // mdBook 0.4 calls the list `sections`; 0.5 calls it `items`.
    let key = if book.get("sections").is_some() {
        "sections"
    } else {
        "items"
    };
    let sections = book
        .get_mut(key)
        .ok_or("mdbook-dsim: the book has no sections")?;
    rewrite_items(sections, &playground).map_err(|e| e.to_string())?;
    serde_json::to_string(&book).map_err(|e| e.to_string())
}

fn rewrite_items(items: &mut Value, playground: &str) -> Result<(), BlockError> {
    let Some(items) = items.as_array_mut() else {
        return Ok(());
    };
    for item in items {
        let Some(chapter) = item.get_mut("Chapter") else {
            continue;
        };
        let name = chapter
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("a chapter")
            .to_string();
        let file = chapter
            .get("source_path")
            .or_else(|| chapter.get("path"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let label = match file {
            Some(file) => format!("chapter \"{name}\" ({file})"),
            None => format!("chapter \"{name}\""),
        };
        if let Some(content) = chapter.get("content").and_then(Value::as_str) {
            let rewritten = rewrite_chapter(&label, content, playground)?;
            chapter["content"] = Value::String(rewritten);
        }
        if let Some(sub) = chapter.get_mut("sub_items") {
            rewrite_items(sub, playground)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod module_tests {
    use super::*;

    #[test]
    fn the_module_sits_beside_the_playground() {
        assert_eq!(module_url("../index.html"), "../delivery-playground.js");
        assert_eq!(module_url("/play/"), "/play/delivery-playground.js");
        assert_eq!(
            module_url("https://x.org/p/index.html?a=1"),
            "https://x.org/p/delivery-playground.js"
        );
        assert_eq!(module_url("index.html"), "delivery-playground.js");
        assert_eq!(module_url("/play"), "/play/delivery-playground.js");
    }

    #[test]
    fn a_chapter_with_blocks_loads_the_module_once_and_one_without_none() {
        let two = "```dsim\nmode = \"outbox\"\n```\n\n```dsim\nmode = \"at-most-once\"\n```\n";
        let out = rewrite_chapter("c", two, "../index.html").unwrap();
        assert_eq!(
            out.matches("<script type=\"module\" src=\"../delivery-playground.js\"></script>")
                .count(),
            1
        );
        assert_eq!(out.matches("<delivery-playground ").count(), 2);
        let none = rewrite_chapter(
            "c",
            "# Text\n\n```rust\nfn main() {}\n```\n",
            "../index.html",
        )
        .unwrap();
        assert!(!none.contains("<script"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAPTER: &str = "# Crash after processing\n\nText.\n\n```dsim\nmode = \"at-least-once\"\ncrash-after-process = 0.01\nview = \"counters\"\n```\n\nMore text.\n";

    #[test]
    fn a_good_block_becomes_the_element_and_a_link_to_the_same_scenario() {
        let out = rewrite_chapter("chapter", CHAPTER, "../index.html").unwrap();
        assert!(
            out.contains(
                "<delivery-playground mode=\"at-least-once\" crash-after-process=\"0.01\" view=\"counters\"></delivery-playground>"
            ),
            "{out}"
        );
        assert!(
            out.contains("href=\"../index.html?mode=at-least-once&amp;crash-after-process=0.01\""),
            "{out}"
        );
        // The numbers' settings under the element, the element's own keys left out.
        assert!(
            out.contains("<p class=\"dsim-open\"><code>mode = at-least-once</code>, <code>crash-after-process = 0.01</code> · <a href="),
            "{out}"
        );
        assert!(out.starts_with("# Crash after processing\n\nText.\n\n"));
        assert!(out.ends_with(
            "\nMore text.\n\n<script type=\"module\" src=\"../delivery-playground.js\"></script>\n"
        ));
        assert!(!out.contains("```"));
    }

    #[test]
    fn a_json_block_and_a_toml_block_say_the_same() {
        let json = "```dsim\n{\n  \"mode\": \"at-least-once\",\n  \"crash-after-process\": 0.01,\n  \"view\": \"counters\"\n}\n```\n";
        let from_json = rewrite_chapter("c", json, "p").unwrap();
        let from_toml = rewrite_chapter("c", &CHAPTER[29..], "p").unwrap();
        let element = |s: &str| {
            s.lines()
                .find(|l| l.starts_with("<delivery"))
                .unwrap()
                .to_string()
        };
        assert_eq!(element(&from_json), element(&from_toml));
    }

    #[test]
    fn switches_and_presets_read_as_the_url_writes_them() {
        let block = "```dsim\npreset = \"exactly-once-trap\"\nidempotency-key = true\n```\n";
        let out = rewrite_chapter("c", block, "p").unwrap();
        assert!(
            out.contains(
                "<delivery-playground preset=\"exactly-once-trap\" idempotency-key=\"on\">"
            ),
            "{out}"
        );
    }

    #[test]
    fn a_bad_block_names_the_chapter_the_line_and_the_field() {
        let bad = CHAPTER.replace("crash-after-process = 0.01", "crash-after-process = 2");
        let err = rewrite_chapter("chapter \"Crash\" (failures.md)", &bad, "p").unwrap_err();
        assert_eq!(err.line, 7, "{err}");
        assert_eq!(err.field, "crash-after-process");
        assert!(
            err.to_string()
                .starts_with("chapter \"Crash\" (failures.md), line 7: crash-after-process: "),
            "{err}"
        );

        for (block, line, field) in [
            (
                "```dsim\nmode = \"at-least-once\"\nno-such-knob = 1\n```\n",
                3,
                "no-such-knob",
            ),
            ("```dsim\nview = \"everything\"\n```\n", 2, "view"),
            ("```dsim\nheight = 5\n```\n", 2, "height"),
            (
                "```dsim\nbroker = \"kafka\"\nprefetch = 10\n```\n",
                3,
                "prefetch",
            ),
            ("```dsim\npreset = \"nope\"\n```\n", 2, "preset"),
            ("```dsim\nmode = [1, 2]\n```\n", 2, "mode"),
            ("```dsim\nmode = \n```\n", 2, "dsim"),
            (
                "```dsim\n{\"mode\": \"at-least-once\",\n \"ack-loss\": -1}\n```\n",
                3,
                "ack-loss",
            ),
            ("```dsim\nmode = \"outbox\"\n", 1, "dsim"),
        ] {
            let err = rewrite_chapter("c", block, "p").unwrap_err();
            assert_eq!(
                (err.line, err.field.as_str()),
                (line, field),
                "{block}: {err}"
            );
        }
    }

    #[test]
    fn other_code_blocks_are_left_as_they_are() {
        let text = "```rust\nlet x = 1;\n```\n````dsim-not\nx\n````\n";
        assert_eq!(rewrite_chapter("c", text, "p").unwrap(), text);
    }

    #[test]
    fn the_book_json_is_rewritten_chapter_by_chapter_with_the_configured_playground() {
        let input = serde_json::json!([
            {"root": "/book", "config": {"preprocessor": {"dsim": {"playground": "/play/"}}}, "renderer": "html", "mdbook_version": "0.4.52"},
            {"sections": [
                {"Chapter": {"name": "One", "content": CHAPTER, "number": [1], "sub_items": [
                    {"Chapter": {"name": "Two", "content": "```dsim\nmode = \"outbox\"\n```\n", "sub_items": [], "path": "two.md", "source_path": "two.md", "parent_names": ["One"]}}
                ], "path": "one.md", "source_path": "one.md", "parent_names": []}},
                "Separator"
            ], "__non_exhaustive": null}
        ]);
        let out: Value = serde_json::from_str(&run(&input.to_string()).unwrap()).unwrap();
        let one = out["sections"][0]["Chapter"]["content"].as_str().unwrap();
        let two = out["sections"][0]["Chapter"]["sub_items"][0]["Chapter"]["content"]
            .as_str()
            .unwrap();
        assert!(
            one.contains("<delivery-playground mode=\"at-least-once\""),
            "{one}"
        );
        assert!(two.contains("href=\"/play/?mode=outbox\""), "{two}");
        assert_eq!(out["sections"][1], "Separator");

        let bad = input.to_string().replace("outbox", "sometimes");
        let err = run(&bad).unwrap_err();
        assert!(
            err.starts_with("chapter \"Two\" (two.md), line 2: mode: "),
            "{err}"
        );
    }
}
