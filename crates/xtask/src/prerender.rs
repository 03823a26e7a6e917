//! `cargo xtask prerender [DIR]`: the page's first paint, made by the page itself. Run at the
//! end of every release build (Trunk's post-build hook, after `split-page`), it serves the
//! built page on 127.0.0.1, opens it in headless Chromium through chromedriver
//! (`js/prerender.mjs`), waits for the app to finish the default scenario's run, and writes the
//! markup it then shows into `index.html` as `#prerendered`. A phone then draws the header,
//! the controls, the numbers and the charts from HTML, before any wasm has arrived; the app
//! takes over once it shows the same thing (crates/dsim-web/src/browser/prerendered.rs).
//!
//! Every number in the copy comes from the simulator: it is the app's own render of its own
//! run, and the end-to-end test checks that the copy's counters equal the app's.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cmd::{Ctx, kill_group, read_text as read, write_text as write};
use crate::file_server::FileServer;

/// What marks the copy in index.html, so a second run replaces it instead of nesting it.
const START: &str = "<!-- prerendered: cargo xtask prerender -->";
const END: &str = "<!-- /prerendered -->";

pub fn run(ctx: &Ctx, dir: &Path) -> Result<(), String> {
    let html_path = dir.join("index.html");
    let html = read(&html_path)?;
    // The page is captured as the app draws it with no copy in it.
    let bare = without_copy(&html);
    write(&html_path, &bare)?;
    let chromium = ctx
        .which("chromium")
        .ok_or("prerender needs chromium (cargo xtask install)")?;
    let server = FileServer::start(dir.to_path_buf())?;
    let driver = Chromedriver::start(ctx)?;
    let out = dir.join(".prerendered.html");
    let script = ctx.root.join("crates/xtask/js/prerender.mjs");
    let result = ctx
        .cmd("node")
        .arg(&script)
        .arg(format!("http://127.0.0.1:{}", driver.port))
        .arg(&chromium)
        .arg(format!("http://127.0.0.1:{}/", server.port))
        .arg(&out)
        .ci_time_limit(Duration::from_secs(300))
        .run();
    drop(driver);
    drop(server);
    result?;
    let copy = read(&out)?;
    let _ = std::fs::remove_file(&out);
    check_copy(&copy)?;
    write(&html_path, &with_copy(&bare, &copy)?)?;
    println!(
        "prerender: index.html carries the default run's first paint ({} bytes of markup)",
        copy.len()
    );
    Ok(())
}

/// The copy may hold nothing the page's CSP refuses in markup or a test could mistake for
/// the app.
fn check_copy(copy: &str) -> Result<(), String> {
    if !copy.starts_with("<div") {
        return Err(format!(
            "prerender: the captured page does not start with its root <div>: {:.80}",
            copy
        ));
    }
    for (needle, why) in [
        ("<script", "a script"),
        (" style=\"", "a style attribute (the CSP refuses them)"),
        (
            "data-testid=",
            "a data-testid (tests must find the app, not the copy)",
        ),
    ] {
        if copy.contains(needle) {
            return Err(format!("prerender: the captured page holds {why}"));
        }
    }
    Ok(())
}

/// The page with its copy taken out (the page as Trunk wrote it).
fn without_copy(html: &str) -> String {
    match (html.find(START), html.find(END)) {
        (Some(start), Some(end)) if end > start => {
            let mut out = html[..start].trim_end().to_string();
            out.push('\n');
            out.push_str(html[end + END.len()..].trim_start());
            out
        }
        _ => html.to_string(),
    }
}

/// The page with `copy` as the last thing in its body.
fn with_copy(html: &str, copy: &str) -> Result<String, String> {
    let body_end = html
        .rfind("</body>")
        .ok_or("prerender: index.html has no </body>")?;
    Ok(format!(
        "{}\n    {START}\n    <div id=\"prerendered\">{copy}</div>\n    {END}\n  {}",
        html[..body_end].trim_end(),
        &html[body_end..]
    ))
}

/// chromedriver on a free loopback port, in a process group of its own; dropping it kills the
/// group (chromedriver and the browser it started).
struct Chromedriver {
    child: Child,
    port: u16,
}

impl Chromedriver {
    fn start(ctx: &Ctx) -> Result<Chromedriver, String> {
        use std::os::unix::process::CommandExt;
        let binary = ctx
            .which("chromedriver")
            .ok_or("prerender needs chromedriver (cargo xtask install)")?;
        let start = Instant::now();
        'spawn: loop {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| format!("no free loopback port: {e}"))?
                .port();
            let child = Command::new(&binary)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
            let mut driver = Chromedriver { child, port };
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                if start.elapsed() > Duration::from_secs(20) {
                    return Err("chromedriver did not listen within 20 s".into());
                }
                if matches!(driver.child.try_wait(), Ok(Some(_))) {
                    // Another process took the port first: try another.
                    continue 'spawn;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            return Ok(driver);
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        kill_group(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "<html>\n  <body>\n    <noscript>x</noscript>\n  </body>\n</html>\n";

    #[test]
    fn a_copy_goes_last_in_the_body_and_a_second_one_replaces_it() {
        let once = with_copy(PAGE, "<div class=\"page\">1</div>").unwrap();
        assert!(once.contains("<div id=\"prerendered\"><div class=\"page\">1</div></div>"));
        assert!(once.find("</noscript>") < once.find(START));
        assert!(once.find(END) < once.find("</body>"));
        let twice = with_copy(&without_copy(&once), "<div class=\"page\">2</div>").unwrap();
        assert!(!twice.contains(">1<"), "{twice}");
        assert_eq!(twice.matches(START).count(), 1, "{twice}");
        assert_eq!(without_copy(&twice), without_copy(&once));
    }

    #[test]
    fn a_copy_with_what_the_policy_or_the_tests_refuse_is_named() {
        assert!(check_copy("<div class=\"page\"><p>3 lost</p></div>").is_ok());
        for (bad, named) in [
            ("<div><script>x</script></div>", "script"),
            ("<div style=\"left: 3px\"></div>", "style"),
            ("<div data-testid=\"lost\"></div>", "data-testid"),
            ("<p>no root</p>", "root"),
        ] {
            let err = check_copy(bad).unwrap_err();
            assert!(err.contains(named), "{bad}: {err}");
        }
    }
}
