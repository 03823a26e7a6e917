//! The playground end to end, in headless Chromium driven over WebDriver: a shared link loads
//! its scenario and runs it, a fault slider reruns it and rewrites the address, the compare
//! view runs all five modes, a broken guarantee links to its counterexample's timeline, the
//! embedded view drops the page chrome, and a bad URL value is named while the rest loads.
//!
//! Needs a browser and a built `dist/`, so it runs only with `DSIM_E2E=1` (as `cargo xtask
//! test` sets for the end-to-end step); `DSIM_DIST` names the directory (default `dist/`),
//! `CHROMEDRIVER` the driver (default `/usr/bin/chromedriver`) and `CHROMIUM` the browser
//! (default `/usr/bin/chromium`). With `DSIM_SCREENSHOTS=1` it also rewrites the README's
//! screenshots in `docs/screenshots/`.

mod browser;

use std::future::Future;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// The longest any single wait may take.
const WAIT: Duration = Duration::from_secs(20);
const WINDOW: (u32, u32) = (1400, 1000);

type Step = Result<(), String>;

#[tokio::test(flavor = "current_thread")]
async fn the_playground_story() {
    if !browser::enabled("e2e") {
        return;
    }
    let dist = browser::dist();
    assert!(
        dist.join("index.html").is_file(),
        "{} has no index.html: build it first (cargo xtask test trunk, or trunk build --release)",
        dist.display()
    );
    let base = format!("http://127.0.0.1:{}", browser::serve(dist));
    let driver = browser::Chromedriver::start();
    let client = connect(&driver).await;
    let page = Page {
        client: &client,
        base,
        shots: Vec::new(),
    };
    let outcome = story(page).await;
    let _ = client.close().await;
    drop(driver);
    match outcome {
        Ok(shots) => save_screenshots(shots),
        Err(e) => panic!("{e}"),
    }
}

async fn connect(driver: &browser::Chromedriver) -> Client {
    let mut args: Vec<String> = browser::CHROMIUM_FLAGS
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(format!("--window-size={},{}", WINDOW.0, WINDOW.1));
    let profile = std::env::temp_dir().join(format!("dsim-e2e-{}", std::process::id()));
    args.push(format!("--user-data-dir={}", profile.display()));
    let caps = json!({
        "goog:chromeOptions": {
            "binary": browser::chromium(),
            "args": args,
        }
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = tokio::time::timeout(
        WAIT,
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url()),
    )
    .await
    .expect("chromedriver did not start a session within 20 s")
    .unwrap_or_else(|e| panic!("cannot start a Chromium session: {e}"));
    client
        .set_window_size(WINDOW.0, WINDOW.1)
        .await
        .expect("set the window size");
    client
}

/// The story, step by step; the error names the step that failed.
async fn story(mut page: Page<'_>) -> Result<Vec<(&'static str, Vec<u8>)>, String> {
    step(
        "1: a shared link loads and runs its scenario",
        default_run(&mut page),
    )
    .await?;
    step(
        "2: a fault knob reruns and rewrites the URL",
        move_knob(&page),
    )
    .await?;
    step("3: compare runs all five modes", compare(&mut page)).await?;
    step(
        "4: a broken guarantee opens its counterexample",
        counterexample(&mut page),
    )
    .await?;
    step("5: the embedded view has no page chrome", embed(&page)).await?;
    step(
        "6: a bad URL value is named, the rest loads",
        bad_url(&page),
    )
    .await?;
    step(
        "7: a million-message run goes to the worker and the page keeps drawing",
        heavy_run(&page),
    )
    .await?;
    step(
        "8: Cancel stops a run in the worker",
        cancel_heavy_run(&page),
    )
    .await?;
    Ok(page.shots)
}

async fn step(name: &str, body: impl Future<Output = Step>) -> Step {
    println!("e2e step {name}");
    body.await
        .map_err(|e| format!("e2e step {name} failed: {e}"))
}

async fn default_run(page: &mut Page<'_>) -> Step {
    page.open("/?mode=at-least-once&ack-loss=0.1&seed=7&messages=3000")
        .await?;
    page.wait_finished("[data-testid=progress]").await?;
    page.expect_pressed("mode-at-least-once").await?;
    let ack_loss = page.value("[data-testid=knob-ack-loss-number]").await?;
    expect_number("ack-loss field", &ack_loss, 0.1)?;
    let seed = page.value("[data-testid=seed]").await?;
    if seed != "7" {
        return Err(format!("the seed field shows {seed:?}, not 7"));
    }
    let dups = page
        .number_attr("[data-testid=counter-duplicates]", "data-value")
        .await?;
    if dups <= 0.0 {
        return Err(format!("no duplicates at ack-loss 0.1 (data-value {dups})"));
    }
    page.screenshot("default.png").await
}

async fn move_knob(page: &Page<'_>) -> Step {
    let counter = "[data-testid=counter-duplicates]";
    let dups_before = page.attr(counter, "data-value").await?;
    let chart_before = page.chart("chart-dup-loss").await?;

    let field = "[data-testid=knob-crash-after-process-number]";
    let input = page
        .client
        .find(Locator::Css(field))
        .await
        .map_err(|e| format!("no {field}: {e}"))?;
    input
        .click()
        .await
        .map_err(|e| format!("click {field}: {e}"))?;
    // Select what is there (Ctrl+A, then release), type over it, and Tab away so the field
    // fires its change event as it would for a person.
    input
        .send_keys("\u{E009}a\u{E000}0.05\u{E004}")
        .await
        .map_err(|e| format!("type into {field}: {e}"))?;
    let typed = page.value(field).await?;
    expect_number("crash-after-process field after typing", &typed, 0.05)?;

    page.wait_until("the URL records crash-after-process=0.05", async || {
        let url = page.client.current_url().await.map_err(|e| e.to_string())?;
        Ok(url.as_str().contains("crash-after-process=0.05"))
    })
    .await?;
    page.wait_finished("[data-testid=progress]").await?;
    let dups_after = page.attr(counter, "data-value").await?;
    if dups_after == dups_before {
        return Err(format!(
            "the duplicate counter stayed at {dups_before} after crash-after-process went to 0.05"
        ));
    }
    let chart_after = page.chart("chart-dup-loss").await?;
    if chart_after == chart_before {
        return Err(format!(
            "the duplicates/losses chart did not change after the rerun: {chart_after}"
        ));
    }
    Ok(())
}

async fn compare(page: &mut Page<'_>) -> Step {
    page.click("[data-testid=compare-button]").await?;
    page.wait_until("the compare table has a row per mode", async || {
        let rows = page
            .js("return document.querySelectorAll('[data-testid=compare-table] tr[data-mode]').length;", vec![])
            .await?;
        Ok(rows.as_u64() == Some(5))
    })
    .await?;
    page.scroll_to("#compare").await?;
    page.screenshot("compare.png").await
}

async fn counterexample(page: &mut Page<'_>) -> Step {
    page.open("/?mode=idempotent-consumer&publish-ack-loss=0.1&dedup-window-ms=30&messages=3000")
        .await?;
    page.wait_finished("[data-testid=progress]").await?;
    let verdict = page
        .attr("[data-testid=guarantee-badge]", "data-verdict")
        .await?;
    if verdict != "broken" {
        return Err(format!(
            "the guarantee badge says {verdict:?}, not \"broken\", with a 30 ms dedup window"
        ));
    }
    page.click("[data-testid=counterexample-link]").await?;
    page.wait_until(
        "the timeline draws a sequence diagram with events",
        async || {
            let events = page
                .js(
                    "const s = document.querySelector('[data-testid=timeline] svg.sequence'); \
                 return s ? Number(s.getAttribute('data-events')) : 0;",
                    vec![],
                )
                .await?;
            Ok(events.as_f64().unwrap_or(0.0) > 0.0)
        },
    )
    .await?;
    page.scroll_to("[data-testid=timeline]").await?;
    page.screenshot("timeline.png").await
}

async fn embed(page: &Page<'_>) -> Step {
    page.open("/?embed=1&mode=at-most-once&publish-loss=0.2&messages=2000")
        .await?;
    page.wait_until("the embedded view renders", async || {
        page.exists("[data-testid=embed-root]").await
    })
    .await?;
    for chrome in [
        "[data-testid=app-root]",
        "[data-testid=compare-button]",
        "[data-testid=knob-ack-loss]",
        "[data-testid=seed]",
    ] {
        if page.exists(chrome).await? {
            return Err(format!("the embedded view shows page chrome: {chrome}"));
        }
    }
    page.wait_finished("[data-testid=progress]").await?;
    let lost = page
        .number_attr("[data-testid=counter-lost]", "data-value")
        .await?;
    if lost <= 0.0 {
        return Err(format!(
            "nothing lost at publish-loss 0.2 at most once (data-value {lost})"
        ));
    }
    Ok(())
}

async fn bad_url(page: &Page<'_>) -> Step {
    page.open("/?mode=outbox&publish-loss=2&seed=5").await?;
    page.wait_until("the URL error shows", async || {
        page.exists("[data-testid=url-error]").await
    })
    .await?;
    let text = page
        .js(
            "return document.querySelector('[data-testid=url-error]').textContent;",
            vec![],
        )
        .await?;
    let text = text.as_str().unwrap_or_default();
    if !text.contains("publish-loss") {
        return Err(format!(
            "the URL error does not name publish-loss: {text:?}"
        ));
    }
    page.expect_pressed("mode-outbox").await?;
    let seed = page.value("[data-testid=seed]").await?;
    if seed != "5" {
        return Err(format!(
            "the rest of the URL did not load: seed shows {seed:?}, not 5"
        ));
    }
    Ok(())
}

/// The standard "10 % faults" mix (`presets::bench_scenario`) as a query.
const TEN_PERCENT_FAULTS: &str = "publish-loss=0.1&publish-ack-loss=0.1&delivery-loss=0.1&ack-loss=0.1\
     &duplicate=0.1&crash-before-process=0.001&crash-after-process=0.001&broker-crash=0.0001";

async fn heavy_run(page: &Page<'_>) -> Step {
    page.open(&format!(
        "/?mode=at-least-once&messages=1000000&seed=3&{TEN_PERCENT_FAULTS}"
    ))
    .await?;
    // Count animation frames while the worker runs: the page's thread must stay free.
    page.js(
        "window.__frames = 0; const tick = () => { window.__frames++; requestAnimationFrame(tick); }; \
         requestAnimationFrame(tick); window.__framesFrom = performance.now();",
        vec![],
    )
    .await?;
    page.wait_finished("[data-testid=progress]").await?;
    let frames = page
        .js(
            "return window.__frames / Math.max(1, performance.now() - window.__framesFrom) * 1000;",
            vec![],
        )
        .await?
        .as_f64()
        .unwrap_or(0.0);
    let run_ms = page
        .number_attr("[data-testid=progress]", "data-worker-run-ms")
        .await?;
    println!("worker run: {run_ms:.0} ms; page drew {frames:.0} frames per second meanwhile");
    // Not a speed test (those are in `cargo xtask bench`): only that frames kept coming.
    if frames < 5.0 {
        return Err(format!(
            "the page drew only {frames:.1} frames per second during the run"
        ));
    }
    let resolved = page
        .number_attr("[data-testid=counter-applied]", "data-value")
        .await?;
    if resolved < 500_000.0 {
        return Err(format!("only {resolved} payments applied of a million"));
    }
    Ok(())
}

async fn cancel_heavy_run(page: &Page<'_>) -> Step {
    page.open("/?mode=idempotent-consumer&messages=2000000&seed=4&ack-loss=0.1")
        .await?;
    page.wait_until("the run is in the worker", async || {
        Ok(page.attr("[data-testid=progress]", "data-worker").await? == "true")
    })
    .await?;
    page.click("[data-testid=pause]").await?;
    page.wait_until("the run is cancelled", async || {
        page.exists("[data-testid=progress][data-state=paused][data-worker=false]")
            .await
    })
    .await?;
    let events_before = page
        .js(
            "return document.querySelector('[data-testid=progress]').value;",
            vec![],
        )
        .await?;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let events_after = page
        .js(
            "return document.querySelector('[data-testid=progress]').value;",
            vec![],
        )
        .await?;
    if events_before != events_after {
        return Err(format!(
            "progress kept moving after Cancel: {events_before} -> {events_after}"
        ));
    }
    Ok(())
}

fn expect_number(what: &str, text: &str, want: f64) -> Step {
    match text.trim().parse::<f64>() {
        Ok(v) if (v - want).abs() < 1e-9 => Ok(()),
        _ => Err(format!("{what} shows {text:?}, not {want}")),
    }
}

/// Writes the screenshots over the README's when `DSIM_SCREENSHOTS=1`.
fn save_screenshots(shots: Vec<(&'static str, Vec<u8>)>) {
    if std::env::var_os("DSIM_SCREENSHOTS").is_none_or(|v| v != "1") {
        return;
    }
    let dir = browser::repo_root().join("docs").join("screenshots");
    std::fs::create_dir_all(&dir).expect("create docs/screenshots");
    for (name, png) in shots {
        let path = dir.join(name);
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        println!("wrote {}", path.display());
    }
}

/// The browser at the served `dist/`, with the screenshots taken so far.
struct Page<'a> {
    client: &'a Client,
    base: String,
    shots: Vec<(&'static str, Vec<u8>)>,
}

impl Page<'_> {
    async fn open(&self, path: &str) -> Step {
        let url = format!("{}{path}", self.base);
        tokio::time::timeout(WAIT, self.client.goto(&url))
            .await
            .map_err(|_| format!("{url} did not load within {WAIT:?}"))?
            .map_err(|e| format!("cannot load {url}: {e}"))
    }

    async fn js(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
        self.client
            .execute(script, args)
            .await
            .map_err(|e| format!("script failed: {e}\n{script}"))
    }

    /// Polls `check` until it holds, for at most `WAIT`.
    async fn wait_until<F>(&self, what: &str, mut check: F) -> Step
    where
        F: AsyncFnMut() -> Result<bool, String>,
    {
        let start = Instant::now();
        loop {
            if check().await? {
                return Ok(());
            }
            if start.elapsed() > WAIT {
                return Err(format!("timed out after {WAIT:?} waiting until {what}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn exists(&self, selector: &str) -> Result<bool, String> {
        let found = self
            .js(
                "return document.querySelector(arguments[0]) !== null;",
                vec![json!(selector)],
            )
            .await?;
        Ok(found == json!(true))
    }

    /// An attribute of the element `selector` picks; an error if either is missing.
    async fn attr(&self, selector: &str, name: &str) -> Result<String, String> {
        let value = self
            .js(
                "const e = document.querySelector(arguments[0]); \
                 return e ? e.getAttribute(arguments[1]) : undefined;",
                vec![json!(selector), json!(name)],
            )
            .await?;
        value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no {name} on {selector}"))
    }

    async fn number_attr(&self, selector: &str, name: &str) -> Result<f64, String> {
        let text = self.attr(selector, name).await?;
        text.parse()
            .map_err(|_| format!("{name} of {selector} is {text:?}, not a number"))
    }

    /// The current value of a form field (the property, not the attribute).
    async fn value(&self, selector: &str) -> Result<String, String> {
        let value = self
            .js(
                "const e = document.querySelector(arguments[0]); return e ? e.value : undefined;",
                vec![json!(selector)],
            )
            .await?;
        value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no field {selector}"))
    }

    async fn wait_finished(&self, progress: &str) -> Step {
        let selector = format!("{progress}[data-state=finished]");
        self.wait_until("the run finishes", async || self.exists(&selector).await)
            .await
    }

    async fn expect_pressed(&self, testid: &str) -> Step {
        let selector = format!("[data-testid={testid}]");
        let pressed = self.attr(&selector, "aria-pressed").await?;
        if pressed != "true" {
            return Err(format!(
                "{testid} is not the selected mode (aria-pressed={pressed:?})"
            ));
        }
        Ok(())
    }

    async fn click(&self, selector: &str) -> Step {
        let element = self
            .client
            .find(Locator::Css(selector))
            .await
            .map_err(|e| format!("no {selector}: {e}"))?;
        element
            .click()
            .await
            .map_err(|e| format!("cannot click {selector}: {e}"))
    }

    async fn scroll_to(&self, selector: &str) -> Step {
        self.js(
            "const e = document.querySelector(arguments[0]); \
             if (e) e.scrollIntoView({block: 'start', behavior: 'instant'});",
            vec![json!(selector)],
        )
        .await
        .map(drop)
    }

    /// What a chart draws: its points, its y-axis top and every line's path.
    async fn chart(&self, testid: &str) -> Result<String, String> {
        let drawn = self
            .js(
                "const s = document.querySelector(`[data-testid=${arguments[0]}] svg:not(.overlay)`); \
                 if (!s) return undefined; \
                 const d = [...s.querySelectorAll('path')].map(p => p.getAttribute('d')).join('|'); \
                 return `${s.getAttribute('data-points')} ${s.getAttribute('data-y-max')} ${d}`;",
                vec![json!(testid)],
            )
            .await?;
        drawn
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no chart {testid}"))
    }

    async fn screenshot(&mut self, name: &'static str) -> Step {
        let png = self
            .client
            .screenshot()
            .await
            .map_err(|e| format!("screenshot {name}: {e}"))?;
        self.shots.push((name, png));
        Ok(())
    }
}
