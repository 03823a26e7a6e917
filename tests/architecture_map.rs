//! The reader's test: ARCHITECTURE.md names real files, folders and functions. Every
//! backticked repository path (`crates/dsim-core/src/engine/faults.rs`, a folder such as
//! `brokers/kafka/`, relative to dsim-core's `src/`) and every markdown link must exist; and in
//! each code-map line and each walkthrough step that names files, every backticked Rust name
//! must occur in one of those files (`Type::method` as `fn method`, `Type::field` as a field), so a rename or a move
//! that the map does not follow fails here, naming the line.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// The backticked spans of a piece of markdown.
fn code_spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// Whether a code span is meant as a repository path.
fn is_path(span: &str) -> bool {
    !span.contains(' ')
        && span.contains('/')
        && !span.starts_with("http")
        && !span.contains("::")
        && (span.ends_with('/')
            || [".rs", ".md", ".toml", ".ts", ".txt", ".html", ".js"]
                .iter()
                .any(|ext| span.ends_with(ext)))
}

/// A path as written, or a folder of dsim-core's `src/` (`brokers/kafka/`).
fn resolve(span: &str) -> Option<PathBuf> {
    let root = root();
    [
        root.join(span),
        root.join("crates/dsim-core/src").join(span),
    ]
    .into_iter()
    .find(|p| p.exists())
}

/// Markdown link targets: `[text](target)`.
fn link_targets(text: &str) -> Vec<&str> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|t| !t.starts_with("http") && !t.starts_with('#'))
        .collect()
}

/// A Rust name in a code span: `on_produce`, `FaultPlan`, `FaultPlan::new`, `KNOBS`.
fn is_rust_name(span: &str) -> bool {
    !span.is_empty()
        && span.split("::").all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        && span.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

fn contains_word(haystack: &str, word: &str) -> bool {
    haystack.match_indices(word).any(|(i, _)| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + word.len()..].chars().next();
        let edge = |c: Option<char>| !c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        edge(before) && edge(after)
    })
}

/// Whether one of `files` defines or uses `name` (`Type::method`: `fn method`, and the type).
fn named_in(name: &str, files: &[String]) -> bool {
    let parts: Vec<&str> = name.split("::").collect();
    let last = parts[parts.len() - 1];
    let is_fn_path = parts.len() > 1 && last.starts_with(|c: char| c.is_ascii_lowercase());
    files.iter().any(|text| {
        if is_fn_path {
            // A method, or a field (`Report::series`).
            contains_word(text, &format!("fn {last}")) || text.contains(&format!("pub {last}:"))
        } else {
            parts.iter().all(|p| contains_word(text, p))
        }
    })
}

/// The map's units: a code-map line (`- ...`) or a walkthrough step (`1. ...` and its
/// continuation lines).
fn units(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let starts_unit = line.starts_with("- ")
            || line
                .split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if starts_unit {
            out.push(line.to_string());
        } else if line.starts_with("  ") && !out.is_empty() {
            let last = out.last_mut().unwrap();
            last.push(' ');
            last.push_str(line.trim());
        } else if !line.starts_with("  ") {
            out.push(String::new());
        }
    }
    out.retain(|u| !u.is_empty());
    out
}

fn architecture() -> String {
    std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md")
}

#[test]
fn every_path_the_map_names_exists() {
    let text = architecture();
    let mut missing: Vec<String> = code_spans(&text)
        .into_iter()
        .filter(|s| is_path(s))
        .filter(|s| resolve(s).is_none())
        .map(|s| format!("`{s}`"))
        .collect();
    missing.extend(
        link_targets(&text)
            .into_iter()
            .filter(|t| !root().join(t).exists())
            .map(|t| format!("link {t}")),
    );
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {}",
        missing.join(", ")
    );
}

#[test]
fn every_name_beside_a_file_is_in_that_file() {
    let text = architecture();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for unit in units(&text) {
        let spans = code_spans(&unit);
        let files: Vec<String> = spans
            .iter()
            .filter(|s| is_path(s) && s.ends_with(".rs"))
            .filter_map(|s| resolve(s))
            .map(|p| std::fs::read_to_string(p).expect("a named file"))
            .collect();
        if files.is_empty() {
            continue;
        }
        for name in spans.iter().filter(|s| is_rust_name(s)) {
            checked += 1;
            if !named_in(name, &files) {
                wrong.push(format!("`{name}` in: {unit}"));
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} names checked: is the map's form still parsed?"
    );
    assert!(
        wrong.is_empty(),
        "ARCHITECTURE.md names what its files do not have:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn both_walkthroughs_are_there() {
    let text = architecture();
    for heading in [
        "## Walkthrough: add a fault knob, end to end",
        "## Walkthrough: one message, from the producer to the chart",
    ] {
        assert!(text.contains(heading), "ARCHITECTURE.md lost {heading:?}");
    }
}
