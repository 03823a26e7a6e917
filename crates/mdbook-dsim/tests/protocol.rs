//! The binary as mdBook runs it: `supports <renderer>`, then the book on stdin.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn preprocessor(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mdbook-dsim"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mdbook-dsim");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn book(block: &str) -> String {
    serde_json::json!([
        {"root": "/book", "config": {"book": {"title": "t"}}, "renderer": "html", "mdbook_version": "0.4.52"},
        {"sections": [{"Chapter": {
            "name": "Idempotency",
            "content": format!("# Idempotency\n\n```dsim\n{block}```\n"),
            "number": [3], "sub_items": [], "path": "idempotency.md",
            "source_path": "idempotency.md", "parent_names": []
        }}], "__non_exhaustive": null}
    ])
    .to_string()
}

#[test]
fn it_runs_for_html_only() {
    assert!(preprocessor(&["supports", "html"], "").status.success());
    assert!(!preprocessor(&["supports", "markdown"], "").status.success());
}

#[test]
fn a_good_block_comes_back_as_the_element() {
    let out = preprocessor(
        &[],
        &book("mode = \"idempotent-consumer\"\nview = \"compare\"\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let book: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let content = book["sections"][0]["Chapter"]["content"].as_str().unwrap();
    assert!(
        content.contains(
            "<delivery-playground mode=\"idempotent-consumer\" view=\"compare\"></delivery-playground>"
        ),
        "{content}"
    );
}

#[test]
fn a_bad_block_fails_the_build_with_chapter_line_and_field() {
    let out = preprocessor(
        &[],
        &book("mode = \"idempotent-consumer\"\ndedup-window-ms = -5\n"),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(
            "mdbook-dsim: chapter \"Idempotency\" (idempotency.md), line 5: dedup-window-ms: "
        ),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(out.stdout.is_empty());
}
