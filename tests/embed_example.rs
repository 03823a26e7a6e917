//! The embedding example (`web/embed-example.html`), served statically from the built `dist/`
//! the way a documentation site would serve it, and loaded in headless Chromium: the table
//! drawn through the JS API must show numbers, and, once the playground is in `dist/` too,
//! both embedded playgrounds must render (each reports its height to the page, which marks
//! its figure `data-state="ready"`).
//!
//! Needs a browser and a built `dist/`, so it runs only with `DSIM_E2E=1` (as `cargo xtask
//! test` sets for the end-to-end step); `DSIM_DIST` names the directory (default `dist/`) and
//! `CHROMIUM` the browser (default `/usr/bin/chromium`).

mod browser;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long Chromium may take to load the page, the module and both playgrounds.
const BROWSER_TIME_LIMIT: Duration = Duration::from_secs(90);

#[test]
fn the_embedding_example_shows_numbers_and_both_playgrounds() {
    if !browser::enabled("embed_example") {
        return;
    }
    let dist = browser::dist();
    for needed in ["embed-example.html", "embed-example.js", "pkg/dsim_wasm.js"] {
        assert!(
            dist.join(needed).is_file(),
            "{} has no {needed}: build the JS API and copy the example into it first",
            dist.display()
        );
    }
    let port = browser::serve(dist.clone());
    let dom = dump_dom(&format!("http://127.0.0.1:{port}/embed-example.html"));

    let table = element_with(&dom, r#"data-testid="js-api-table""#);
    assert!(
        table.contains(r#"data-state="ready""#),
        "the JS API table did not render: {table}"
    );
    let rows: Vec<&str> = dom.split("<tr data-mode=").skip(1).collect();
    assert_eq!(rows.len(), 5, "one row per mode in:\n{dom}");
    for row in rows {
        let row = &row[..row.find("</tr>").unwrap_or(row.len())];
        let numeric_cells = row
            .split("<td")
            .skip(1)
            .filter(|cell| cell.chars().any(|c| c.is_ascii_digit()))
            .count();
        assert!(numeric_cells >= 5, "a row without its numbers: {row}");
    }

    if dist.join("index.html").is_file() {
        for figure in ["embed-at-least-once", "embed-idempotent-consumer"] {
            let element = element_with(&dom, &format!(r#"data-testid="{figure}""#));
            assert!(
                element.contains(r#"data-state="ready""#),
                "the embedded playground {figure} never reported its height: {element}"
            );
        }
    } else {
        println!("note: no index.html in DSIM_DIST, so the embedded playgrounds were not checked");
    }
}

/// The start tag of the element carrying `attribute`.
fn element_with<'a>(dom: &'a str, attribute: &str) -> &'a str {
    let at = dom
        .find(attribute)
        .unwrap_or_else(|| panic!("no element with {attribute} in:\n{dom}"));
    let start = dom[..at].rfind('<').unwrap_or(0);
    let end = at + dom[at..].find('>').unwrap_or(0) + 1;
    &dom[start..end]
}

/// The page's DOM after its scripts ran. Virtual time lets the module load and run without
/// guessing a sleep; the wall-clock limit is only there so a hung browser fails the test.
fn dump_dom(url: &str) -> String {
    let chromium = browser::chromium();
    let profile = std::env::temp_dir().join(format!("dsim-embed-example-{}", std::process::id()));
    let mut child = Command::new(chromium)
        .args(browser::CHROMIUM_FLAGS)
        .args(["--virtual-time-budget=20000", "--dump-dom"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium (set CHROMIUM)");
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut dom = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut dom).map(|_| dom)
    });
    let start = Instant::now();
    while child.try_wait().expect("poll chromium").is_none() {
        if start.elapsed() > BROWSER_TIME_LIMIT {
            let _ = child.kill();
            panic!("chromium did not finish loading {url} within {BROWSER_TIME_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = std::fs::remove_dir_all(&profile);
    reader
        .join()
        .expect("reader thread")
        .expect("chromium's output is UTF-8")
}
