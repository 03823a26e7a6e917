//! The playground end to end, in headless Chromium driven over WebDriver: a shared link loads
//! its scenario and runs it, a fault slider reruns it and rewrites the address, the compare
//! view runs all five modes, a broken guarantee links to its counterexample's timeline, the
//! embedded view drops the page chrome, and a bad URL value is named while the rest loads.
//! Throughout, the page runs under its Content-Security-Policy without a single violation
//! (read back with a buffered `ReportingObserver`); a positive control shows the policy is
//! live; script-injection strings in every query key stay text; and the embedded view posts
//! only its height and ignores messages from other windows. A sweep runs in the worker and
//! draws, for every mode, exactly the means and bands of the core's own sweep, its charts
//! export as PNG under the policy, and Cancel stops a long one. The real-world systems table
//! runs every broker × mode in the worker, each cell the numbers of a single run of its
//! settings, a refused cell with the broker's reason, and a click loads a cell's run; a
//! RabbitMQ run shows its queue in RabbitMQ's terms. Before its wasm arrives the page shows
//! the default run from HTML (the prerendered first paint), reading exactly as the app then
//! does; presets load by name from the address; and axe-core finds no accessibility
//! violation in the full page, the compare view or the embed.
//!
//! Needs a browser and a built `dist/`, so it runs only with `DSIM_E2E=1` (as `cargo xtask
//! test` sets for the end-to-end step); `DSIM_DIST` names the directory (default `dist/`),
//! `CHROMEDRIVER` the driver (default `/usr/bin/chromedriver`) and `CHROMIUM` the browser
//! (default `/usr/bin/chromium`). With `DSIM_SCREENSHOTS=1` it also rewrites the README's
//! screenshots in `docs/screenshots/`; `DSIM_SHOTS_DIR` names a directory where every
//! screenshot (the narrow-screen ones too) is written as it is taken, to look at a few steps.

mod browser;

use std::future::Future;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// The longest any single wait may take.
const WAIT: Duration = Duration::from_secs(20);
const WINDOW: (u32, u32) = (1400, 1000);
/// A phone's screen, for the narrow layouts.
const PHONE: (u32, u32) = (390, 844);

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
    let downloads = browser::saved::Downloads::new();
    let client = connect(&driver, &downloads).await;
    let page = Page {
        client: &client,
        base,
        shots: Vec::new(),
        downloads: &downloads,
    };
    let outcome = story(page).await;
    let _ = client.close().await;
    drop(driver);
    match outcome {
        Err(e) => panic!("{e}"),
        // A run of chosen steps is for watching one check go red; it never passes, so that an
        // inherited DSIM_E2E_STEPS cannot make a partial story look like the whole one.
        Ok(_) if std::env::var_os("DSIM_E2E_STEPS").is_some() => {
            panic!("only the steps in DSIM_E2E_STEPS ran: a partial story does not pass")
        }
        Ok(shots) => save_screenshots(shots),
    }
}

async fn connect(driver: &browser::Chromedriver, downloads: &browser::saved::Downloads) -> Client {
    let mut args: Vec<String> = browser::CHROMIUM_FLAGS
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(format!("--window-size={},{}", WINDOW.0, WINDOW.1));
    let profile = std::env::temp_dir().join(format!("dsim-e2e-{}", std::process::id()));
    args.push(format!("--user-data-dir={}", profile.display()));
    let caps = json!({
        // The console, read back by `Page::console_errors`.
        "goog:loggingPrefs": { "browser": "ALL" },
        "goog:chromeOptions": {
            "binary": browser::chromium(),
            "args": args,
            // Downloads go, without asking, to a directory the test reads; the PNG is offered
            // after an await, outside the click's user gesture, so automatic downloads are
            // allowed too.
            "prefs": {
                "download.default_directory": downloads.dir,
                "download.prompt_for_download": false,
                "profile.default_content_setting_values.automatic_downloads": 1,
            },
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
    step(
        "9: the policy is live: inline code is blocked and reported",
        csp_blocks_inline_code(&page),
    )
    .await?;
    step(
        "10: script injection in every query key stays text",
        injection(&page),
    )
    .await?;
    step(
        "11: the embed posts only its height and ignores other windows",
        post_message(&page),
    )
    .await?;
    step(
        "12: the exactly-once trap preset shows cards charged twice",
        exactly_once_trap(&mut page),
    )
    .await?;
    step(
        "13: a fault timeline typed in the page is drawn on the charts and kept in the URL",
        scripted_faults(&mut page),
    )
    .await?;
    step(
        "14: a sweep runs in the worker and draws the core's numbers for every mode",
        sweep(&mut page),
    )
    .await?;
    step(
        "15: Cancel stops a sweep in the worker",
        cancel_sweep(&page),
    )
    .await?;
    step(
        "16: a scrub shows a fresh run stopped there, step back moves one event",
        time_travel(&mut page),
    )
    .await?;
    step(
        "17: the page starts without its lower panels, which load after it and never in an embed",
        split_panels(&page),
    )
    .await?;
    step(
        "18: panels that fail to load are named, the dashboard runs, and Try again loads them",
        panels_fail_then_load(&page),
    )
    .await?;
    step(
        "19: a dragged slider and an arrowed one rerun the scenario they show",
        sliders(&page),
    )
    .await?;
    step(
        "20: Copy link's address reproduces the scenario in a fresh page",
        copy_link(&page),
    )
    .await?;
    step(
        "21: a hovered chart's tooltip shows the point's values",
        tooltip(&page),
    )
    .await?;
    step(
        "22: every download of a run is the run's numbers",
        downloads(&page),
    )
    .await?;
    step(
        "23: the real-world systems table runs in the worker, each cell a single run, and a click loads one",
        matrix(&mut page),
    )
    .await?;
    step(
        "24: a RabbitMQ run shows its queue in RabbitMQ's terms, and the pickers what RabbitMQ offers",
        rabbitmq_run(&mut page),
    )
    .await?;
    step(
        "25: one click from the duplicates counter opens a message charged twice",
        duplicate_example(&mut page),
    )
    .await?;
    step(
        "26: before its wasm arrives the page shows the default run, as the app then does",
        first_paint(&mut page),
    )
    .await?;
    step(
        "27: axe-core finds no accessibility violation in the page, the embed or compare",
        accessibility(&page),
    )
    .await?;
    step(
        "28: an SQS run shows its queue in SQS's terms",
        sqs_run(&mut page),
    )
    .await?;
    step(
        "29: a book chapter's elements wait for the reader, show the CLI's numbers, re-run on a new attribute, name a bad one, and share one wasm",
        book_chapter(&mut page),
    )
    .await?;
    Ok(page.shots)
}

/// What every `<delivery-playground>` element of the page shows, from its shadow root: its
/// attributes, its view, its run's state, its counters (`data-value` and the text a person
/// reads, which must agree) and its error lines.
const ELEMENTS: &str = "return [...document.querySelectorAll('delivery-playground')].map(e => { \
    const root = e.shadowRoot && e.shadowRoot.querySelector('[data-testid=element-root]'); \
    const counter = (id) => { \
      const c = root && root.querySelector(`[data-testid=counter-${id}]`); \
      const v = c && c.querySelector('.counter-value'); \
      return c && v ? [c.getAttribute('data-value'), v.innerText] : null; }; \
    const error = root && root.querySelector('[data-testid=url-error]'); \
    return { \
      attributes: [...e.attributes].map(a => [a.name, a.value]), \
      view: root ? root.dataset.view : null, \
      state: root ? root.dataset.runState : null, \
      counters: Object.fromEntries(['produced', 'applied', 'duplicates', 'lost', 'retries'] \
        .map(id => [id, counter(id)])), \
      errors: error ? error.innerText : null, \
      example: root && root.querySelector('a.example-link') \
        ? root.querySelector('a.example-link').href : null, \
      worker_ms: root && root.querySelector('[data-testid=progress]') \
        ? root.querySelector('[data-testid=progress]').dataset.workerRunMs ?? null : null }; });";

/// What `dsim run --json` prints for an element's attributes, its settings given as flags.
/// The binary is `DSIM_CLI` (`cargo xtask test e2e` builds it and sets it), or the workspace's
/// debug build.
fn cli_report(attributes: &[(String, String)]) -> Result<Value, String> {
    let cli = std::env::var_os("DSIM_CLI")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| browser::repo_root().join("target/debug/dsim"));
    let mut command = std::process::Command::new(&cli);
    command.args(["run", "--json"]);
    for (name, value) in attributes {
        if !dsim_core::element::ELEMENT_KEYS.contains(&name.as_str())
            && !dsim_core::element::is_html_attribute(name)
        {
            command.arg(format!("--{name}")).arg(value);
        }
    }
    let out = command
        .output()
        .map_err(|e| format!("cannot run {} (set DSIM_CLI): {e}", cli.display()))?;
    if !out.status.success() {
        return Err(format!(
            "dsim run {attributes:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("dsim run --json: {e}"))
}

/// One element as `ELEMENTS` reads it.
struct Shown {
    attributes: Vec<(String, String)>,
    view: Option<String>,
    state: Option<String>,
    counters: Vec<(String, Option<u64>)>,
    errors: Option<String>,
    /// The wall time of its run in a worker, when it ran in one.
    worker_ms: Option<String>,
    /// Where its first "see a duplicate: message N" link goes.
    example: Option<String>,
}

impl Shown {
    fn read(value: &Value) -> Result<Vec<Shown>, String> {
        let list = value.as_array().ok_or("no list of elements")?;
        list.iter()
            .map(|e| {
                let attributes = e["attributes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        (
                            p[0].as_str().unwrap_or_default().to_string(),
                            p[1].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect();
                let mut counters = Vec::new();
                for (id, pair) in e["counters"].as_object().into_iter().flatten() {
                    let number = match pair.as_array() {
                        None => None,
                        Some(p) => {
                            let raw: u64 = p[0]
                                .as_str()
                                .and_then(|r| r.parse().ok())
                                .ok_or_else(|| format!("the {id} counter holds {pair}"))?;
                            let seen = p[1].as_str().and_then(browser::axis::grouped_count);
                            if seen != Some(raw) {
                                return Err(format!(
                                    "an element's {id} counter shows {:?} but holds {raw}",
                                    p[1]
                                ));
                            }
                            Some(raw)
                        }
                    };
                    counters.push((id.clone(), number));
                }
                Ok(Shown {
                    attributes,
                    view: e["view"].as_str().map(str::to_string),
                    state: e["state"].as_str().map(str::to_string),
                    counters,
                    errors: e["errors"].as_str().map(str::to_string),
                    worker_ms: e["worker_ms"].as_str().map(str::to_string),
                    example: e["example"].as_str().map(str::to_string),
                })
            })
            .collect()
    }

    /// Whether the counters are the ones `dsim run --json` prints for the element's
    /// attributes (each one a flag: `--crash-after-process 0.002`); the differences, if not.
    fn against_cli(&self) -> Result<(), String> {
        let report = cli_report(&self.attributes)?;
        let want = |id: &str| {
            let field = if id == "applied" { "side_effects" } else { id };
            report[field].as_u64().unwrap_or(u64::MAX)
        };
        let wrong: Vec<String> = self
            .counters
            .iter()
            .filter(|(id, shown)| *shown != Some(want(id)))
            .map(|(id, shown)| format!("{id} shows {shown:?}, the CLI {}", want(id)))
            .collect();
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(format!("{:?}: {}", self.attributes, wrong.join("; ")))
        }
    }
}

/// A chapter of the book (`dist/book/`), as a reader opens it: under the book's own policy,
/// with no console error, every counters element shows the numbers the CLI gives for its
/// attributes, all of them sharing one load of the playground's wasm; then, as a docs
/// author's script would, one element gets a new seed (it re-runs to the CLI's numbers for
/// it), then a bad value (a line names the attribute; the rest, the new seed too, still
/// applies).
async fn book_chapter(page: &mut Page<'_>) -> Step {
    page.console_errors().await?; // what earlier steps left in the log is theirs
    // The playground's header leads to the book, and every page of the book back.
    page.open("/").await?;
    let to_book = page
        .js(
            "return document.querySelector('[data-testid=book-link]')?.href ?? null;",
            vec![],
        )
        .await?;
    if to_book != json!(format!("{}/book/index.html", page.base)) {
        return Err(format!(
            "the playground's link to the book goes to {to_book}"
        ));
    }
    page.open_as_served("/book/failure-cases.html").await?;
    let back = page
        .js(
            "return document.querySelector('a.playground-link')?.href ?? null;",
            vec![],
        )
        .await?;
    if back != json!(format!("{}/index.html", page.base)) {
        return Err(format!("the book's link to the playground goes to {back}"));
    }
    elements_wait_for_the_reader(page).await?;
    // A reader scrolling through the chapter: each poll brings the first element that has not
    // finished near the screen, where it starts its run.
    const SCROLL_TO_NEXT: &str = "const next = [...document.querySelectorAll('delivery-playground')] \
        .find(e => e.shadowRoot?.querySelector('[data-testid=element-root]')?.dataset.runState !== 'finished'); \
        if (next) next.scrollIntoView({ block: 'center' });";
    let finished = async || -> Result<Option<Vec<Shown>>, String> {
        page.js(SCROLL_TO_NEXT, vec![]).await?;
        let shown = Shown::read(&page.js(ELEMENTS, vec![]).await?)?;
        let done =
            !shown.is_empty() && shown.iter().all(|e| e.state.as_deref() == Some("finished"));
        Ok(done.then_some(shown))
    };
    page.wait_until(
        "every element of the chapter has finished its run",
        async || Ok(finished().await?.is_some()),
    )
    .await?;
    let shown = finished().await?.ok_or("the chapter's elements stopped")?;
    let counters: Vec<&Shown> = shown
        .iter()
        .filter(|e| e.view.as_deref() == Some("counters"))
        .collect();
    if shown.len() < 3 || counters.is_empty() {
        return Err(format!(
            "the chapter has {} elements, {} of them counters: a chapter to test needs three or more",
            shown.len(),
            counters.len()
        ));
    }
    for element in &counters {
        element.against_cli()?;
    }
    // A counter's example has no timeline beside it in an element: it opens the playground,
    // next to the book, on that message.
    let example = counters
        .iter()
        .find_map(|e| e.example.clone())
        .ok_or("no counters element links to an example message")?;
    if !example.starts_with(&format!("{}/index.html?", page.base)) || !example.contains("&message=")
    {
        return Err(format!("an element's example link goes to {example}"));
    }
    let wasm = page.fetched(".wasm").await?;
    let page_wasm: Vec<&String> = wasm.iter().filter(|n| n.ends_with("_bg.wasm")).collect();
    if page_wasm.len() != 1 || !page_wasm[0].starts_with("dsim-web-") {
        return Err(format!(
            "{} elements should share one load of the playground's wasm; the page fetched {wasm:?}",
            shown.len()
        ));
    }
    page.js("window.scrollTo(0, 0);", vec![]).await?;
    page.screenshot("book-chapter.png").await?;

    // The first counters element, by its place among all of them.
    let first = shown
        .iter()
        .position(|e| e.view.as_deref() == Some("counters"))
        .unwrap_or(0);
    let set = |name: &'static str, value: &'static str| {
        page.js(
            "document.querySelectorAll('delivery-playground')[arguments[0]].setAttribute(arguments[1], arguments[2]);",
            vec![json!(first), json!(name), json!(value)],
        )
    };
    let before = counters[0].counters.clone();
    set("seed", "7").await?;
    page.wait_until("the element re-runs with its new seed", async || {
        let shown = Shown::read(&page.js(ELEMENTS, vec![]).await?)?;
        let e = &shown[first];
        Ok(e.state.as_deref() == Some("finished") && e.counters != before)
    })
    .await?;
    let rerun = Shown::read(&page.js(ELEMENTS, vec![]).await?)?;
    rerun[first].against_cli()?;

    set("publish-loss", "2").await?;
    page.wait_until("the element names its bad attribute", async || {
        let shown = Shown::read(&page.js(ELEMENTS, vec![]).await?)?;
        Ok(shown[first].errors.is_some() && shown[first].state.as_deref() == Some("finished"))
    })
    .await?;
    let bad = Shown::read(&page.js(ELEMENTS, vec![]).await?)?;
    let line = bad[first].errors.clone().unwrap_or_default();
    if !line.contains("publish-loss") || !line.contains("attributes of this element") {
        return Err(format!(
            "the bad attribute's line does not name it: {line:?}"
        ));
    }
    // The bad value is skipped: the element runs its other attributes, the new seed with them.
    let mut kept = bad[first].attributes.clone();
    kept.retain(|(name, _)| name != "publish-loss");
    Shown {
        attributes: kept,
        ..bad.into_iter().nth(first).ok_or("the element went away")?
    }
    .against_cli()?;
    page.screenshot("book-element-error.png").await?;

    // A heavy run (the page's threshold, 50,000 messages, or more) goes to a worker of the
    // element's own, and still shows the CLI's numbers.
    page.js(
        "const e = document.querySelectorAll('delivery-playground')[arguments[0]]; \
         e.removeAttribute('publish-loss'); e.setAttribute('messages', '60000');",
        vec![json!(first)],
    )
    .await?;
    page.wait_until("the element's heavy run finishes", async || {
        let shown = Shown::read(&page.js(ELEMENTS, vec![]).await?)?;
        let e = &shown[first];
        let produced = e.counters.iter().find(|(id, _)| id == "produced");
        Ok(e.state.as_deref() == Some("finished")
            && produced.is_some_and(|(_, n)| *n == Some(60_000)))
    })
    .await?;
    let heavy = Shown::read(&page.js(ELEMENTS, vec![]).await?)?;
    if heavy[first].worker_ms.is_none() {
        return Err("the element ran 60,000 messages without a worker".into());
    }
    heavy[first].against_cli()?;

    // The book's theme picker: a dark theme darkens every element (the book tells each its
    // `theme`, which only the stylesheet reads), and nothing runs again.
    let background = "return [...document.querySelectorAll('delivery-playground')] \
         .map(e => getComputedStyle(e.shadowRoot.querySelector('.element-host')).backgroundColor);";
    let light = page.js(background, vec![]).await?;
    let before = Shown::read(&page.js(ELEMENTS, vec![]).await?)?;
    page.js(
        "const html = document.documentElement; html.classList.remove('light'); html.classList.add('navy');",
        vec![],
    )
    .await?;
    page.wait_until("every element turns dark with the book", async || {
        let now = page.js(background, vec![]).await?;
        let all = now.as_array().cloned().unwrap_or_default();
        Ok(!all.is_empty() && all.iter().all(|c| c == "rgb(17, 21, 28)"))
    })
    .await?;
    let after = Shown::read(&page.js(ELEMENTS, vec![]).await?)?;
    let same = before.len() == after.len()
        && before
            .iter()
            .zip(&after)
            .all(|(b, a)| b.counters == a.counters && a.state.as_deref() == Some("finished"));
    if !same
        || light
            .as_array()
            .is_none_or(|l| l.iter().any(|c| c == "rgb(17, 21, 28)"))
    {
        return Err(format!(
            "a theme change should only recolour the elements (light {light})"
        ));
    }
    page.screenshot("book-chapter-dark.png").await?;

    page.expect_no_csp_violations().await?;
    let errors = page.console_errors().await?;
    if !errors.is_empty() {
        return Err(format!("the chapter logged console errors: {errors:?}"));
    }
    Ok(())
}

/// On a phone, a chapter's elements near the top run as it opens, and those several screens
/// further down wait until the reader nears them (web/delivery-playground.js), instead of all
/// running at once. Leaves the page scrolled to the top, at the window's size.
async fn elements_wait_for_the_reader(page: &Page<'_>) -> Step {
    page.resize(PHONE).await?;
    page.js("window.scrollTo(0, 0);", vec![]).await?;
    page.open_as_served("/book/failure-cases.html").await?;
    let far = page
        .js(
            "return [...document.querySelectorAll('delivery-playground')] \
               .map(e => e.getBoundingClientRect().top > 3 * innerHeight);",
            vec![],
        )
        .await?;
    let far: Vec<bool> = far
        .as_array()
        .map(|l| l.iter().map(|f| f.as_bool() == Some(true)).collect())
        .unwrap_or_default();
    if far.first() != Some(&false) || !far.contains(&true) {
        return Err(format!(
            "to test waiting, the chapter needs an element on its first screen and one three screens down: {far:?}"
        ));
    }
    page.wait_until("the chapter's first element finishes its run", async || {
        let shown = Shown::read(&page.js(ELEMENTS, vec![]).await?)?;
        Ok(shown
            .first()
            .is_some_and(|e| e.state.as_deref() == Some("finished")))
    })
    .await?;
    let shown = Shown::read(&page.js(ELEMENTS, vec![]).await?)?;
    let ran_far: Vec<usize> = (0..shown.len())
        .filter(|&i| far[i] && shown[i].view.is_some())
        .collect();
    page.resize(WINDOW).await?;
    if !ran_far.is_empty() {
        return Err(format!(
            "elements {ran_far:?}, three screens or more below, ran before the reader neared them"
        ));
    }
    page.open_as_served("/book/failure-cases.html").await
}

/// Picks the trap preset from the list, as a person would: exactly-once holds its promise for
/// the ledger, and the card provider's books, under the counters, show double charges.
async fn exactly_once_trap(page: &mut Page<'_>) -> Step {
    page.open("/").await?;
    page.wait_until("the preset list renders", async || {
        page.exists("[data-testid=preset-exactly-once-trap]").await
    })
    .await?;
    page.click("[data-testid=preset-exactly-once-trap]").await?;
    page.wait_until("the URL records the trap preset", async || {
        let url = page.client.current_url().await.map_err(|e| e.to_string())?;
        Ok(url.as_str().contains("external-effect=on"))
    })
    .await?;
    page.wait_finished("[data-testid=progress]").await?;
    page.expect_pressed("mode-exactly-once").await?;
    let verdict = page
        .attr("[data-testid=guarantee-badge]", "data-verdict")
        .await?;
    if verdict != "held" {
        return Err(format!(
            "exactly-once's badge says {verdict:?}, not \"held\""
        ));
    }
    let doubles = page
        .number_attr("[data-testid=external-ledger]", "data-double-charges")
        .await?;
    if doubles <= 0.0 {
        return Err(format!(
            "the card provider shows {doubles} double charges in the trap preset"
        ));
    }
    // What a person reads first must be true of the whole run: the ledger's headline names
    // the card provider's double charges instead of "charged exactly what they owed".
    let headline = page
        .js(
            "return document.querySelector('[data-testid=ledger-summary] .ledger-sentence').innerText;",
            vec![],
        )
        .await?;
    let headline = headline.as_str().unwrap_or_default();
    if !headline.contains("the card provider charged")
        || headline.contains("exactly what they owed")
    {
        return Err(format!(
            "the ledger's headline hides the card provider's double charges: {headline:?}"
        ));
    }
    page.scroll_to("[data-testid=external-ledger]").await?;
    page.expect_no_csp_violations().await?;
    page.screenshot("exactly-once-trap.png").await?;
    trap_compare(page).await
}

/// The trap in the compare view, as a person reads it (issue 27, item 1): the exactly-once
/// row says its promise held in the ledger *and* that the card provider charged payments
/// twice, with the native run's numbers, and the table fits a 1280 px window without
/// scrolling; on a 390 px phone each row is a card whose numbers are all on the screen.
async fn trap_compare(page: &mut Page<'_>) -> Step {
    let preset = dsim_core::presets::preset("exactly-once-trap").ok_or("no trap preset")?;
    let native = dsim_core::simulate(&scenario_of(preset.query)).map_err(|e| e.to_string())?;
    let provider = native
        .external
        .as_ref()
        .ok_or("the trap without a card provider")?;
    page.click("[data-testid=compare-button]").await?;
    page.wait_until("the compare table has a row per mode", async || {
        let rows = page
            .js("return document.querySelectorAll('[data-testid=compare-table] tr[data-mode]').length;", vec![])
            .await?;
        Ok(rows.as_u64() == Some(5))
    })
    .await?;
    let read = page
        .js(
            "const r = document.querySelector('[data-testid=compare-table] tr[data-mode=exactly-once]'); \
             return [r.querySelector('th').innerText, r.querySelector('[data-testid=compare-cards]').innerText];",
            vec![],
        )
        .await?;
    let verdict = read[0].as_str().unwrap_or_default().replace('\n', " ");
    let want = format!(
        "but the card provider charged {} payments twice",
        provider.double_charges
    );
    if !verdict.contains("kept in the ledger") || !verdict.contains(&want) {
        return Err(format!(
            "the compare view's exactly-once row reads {verdict:?}, not the ledger's verdict and {want:?}"
        ));
    }
    let cards = read[1].as_str().unwrap_or_default();
    let shown = cards
        .split(" · ")
        .next()
        .and_then(browser::axis::grouped_count);
    if shown != Some(provider.double_charges) {
        return Err(format!(
            "the compare view's cards charged twice read {cards:?}, the native run {}",
            provider.double_charges
        ));
    }
    let mut outcome = Ok(());
    for width in [1280, 390] {
        page.resize((width, 900)).await?;
        page.scroll_to("[data-testid=compare-table]").await?;
        outcome = page
            .js(
                "const t = document.querySelector('[data-testid=compare-table]'); \
                 const scroller = t.parentElement; \
                 const over = scroller.scrollWidth - scroller.clientWidth; \
                 const screen = document.documentElement.clientWidth; \
                 const cut = [...t.querySelectorAll('tbody td, tbody th')] \
                   .filter(c => { const b = c.getBoundingClientRect(); return b.right > screen + 0.5 || b.left < -0.5; }) \
                   .map(c => c.getAttribute('data-label') || 'mode'); \
                 return [over, cut];",
                vec![],
            )
            .await
            .and_then(|v| {
                let over = v[0].as_f64().unwrap_or(f64::MAX);
                let cut = v[1].as_array().map_or(0, Vec::len);
                if over > 0.0 || cut > 0 {
                    Err(format!(
                        "at {width} px the compare table scrolls by {over} px and cuts {}",
                        v[1]
                    ))
                } else {
                    Ok(())
                }
            });
        page.look(&format!("compare-trap-{width}.png")).await?;
        if outcome.is_err() {
            break;
        }
        if width == 390 {
            // On a phone the story comes first: the presets and the trap's explanation sit
            // above the results, the settings below them (issue 27, item 7).
            let order = page
                .js(
                    "const top = s => document.querySelector(s).getBoundingClientRect().top; \
                     return [top('[data-testid=preset-explanation]'), top('.results'), top('.knobs')];",
                    vec![],
                )
                .await?;
            let at = |i: usize| order[i].as_f64().unwrap_or(f64::NAN);
            if !(at(0) < at(1) && at(1) < at(2)) {
                outcome = Err(format!(
                    "at 390 px the story, the results and the settings are at y = {order}, not in that order"
                ));
                break;
            }
        }
    }
    page.resize(WINDOW).await?;
    outcome
}

/// One click from a counter to a message it counts (issue 27, item 3): on the
/// crash-after-processing preset the duplicates counter links to a message, the timeline
/// opens on it, and it shows that message processed as often as the native trace says, at
/// least twice.
async fn duplicate_example(page: &mut Page<'_>) -> Step {
    let preset = dsim_core::presets::preset("consumer-crash-after-processing")
        .ok_or("no consumer-crash-after-processing preset")?;
    page.open("/").await?;
    page.wait_until("the preset list renders", async || {
        page.exists("[data-testid=preset-consumer-crash-after-processing]")
            .await
    })
    .await?;
    page.click("[data-testid=preset-consumer-crash-after-processing]")
        .await?;
    page.wait_finished("[data-testid=progress]").await?;
    let s = scenario_of(preset.query);
    let native = dsim_core::simulate(&s).map_err(|e| e.to_string())?;
    let m = native
        .example_duplicate
        .ok_or("the preset has no duplicate")?;
    let link = page
        .js(
            "const a = document.querySelector('[data-testid=counter-duplicates-example]'); \
             return a && [a.innerText, a.getAttribute('data-message')];",
            vec![],
        )
        .await?;
    if link[0] != json!(format!("see a duplicate: message {m} →"))
        || link[1] != json!(m.to_string())
    {
        return Err(format!(
            "the duplicates counter's link reads {link}, not message {m} (the native run's first duplicate)"
        ));
    }
    page.click("[data-testid=counter-duplicates-example]")
        .await?;
    let processed = dsim_core::trace_message(&s, m)
        .iter()
        .filter(|e| e.kind == dsim_core::TraceKind::Processed)
        .count();
    if processed < 2 {
        return Err(format!(
            "the native trace of message {m} is processed {processed} times"
        ));
    }
    page.wait_until("the timeline shows the duplicate", async || {
        let shown = page
            .js(
                "const s = document.querySelector('[data-testid=timeline] svg.sequence'); \
                 return s ? [s.getAttribute('data-message'), s.querySelectorAll('g.event[data-kind=\"processed\"]').length] : null;",
                vec![],
            )
            .await?;
        Ok(shown == json!([m.to_string(), processed]))
    })
    .await?;
    page.scroll_to("[data-testid=timeline]").await?;
    page.expect_no_csp_violations().await?;
    page.look("duplicate-example.png").await?;

    // The preset's advice: switch to the idempotent consumer. Its story stays, and says what
    // the learner changed (issue 27, item 4).
    page.click("[data-testid=mode-idempotent-consumer]").await?;
    page.wait_finished("[data-testid=progress]").await?;
    let story = page
        .js(
            "const e = document.querySelector('[data-testid=preset-explanation]'); \
             const c = document.querySelector('[data-testid=preset-changes]'); \
             return [e ? e.innerText : null, c ? c.innerText : null];",
            vec![],
        )
        .await?;
    let told = story[0].as_str().unwrap_or_default();
    if !told.contains(preset.title) || !told.contains("Switch to the idempotent consumer") {
        return Err(format!(
            "after following its advice the preset's story reads {told:?}"
        ));
    }
    let want = "You changed mode at-least-once → idempotent-consumer from the preset.";
    if story[1] != json!(want) {
        return Err(format!(
            "the story's changes read {}, not {want:?}",
            story[1]
        ));
    }
    page.scroll_to("[data-testid=preset-explanation]").await?;
    page.look("preset-story.png").await?;

    // On a phone the timeline is a list of the same events, one line each, and the lanes
    // that would not fit are not drawn (issue 27, item 7).
    page.resize(PHONE).await?;
    let outcome = phone_timeline(page).await;
    page.resize(WINDOW).await?;
    outcome
}

async fn phone_timeline(page: &mut Page<'_>) -> Step {
    page.scroll_to("[data-testid=timeline-list]").await?;
    let read = page
        .js(
            "const list = document.querySelector('[data-testid=timeline-list]'); \
             const svg = document.querySelector('[data-testid=timeline] svg.sequence'); \
             return [list.getBoundingClientRect().height > 0, svg.getBoundingClientRect().height, \
                     list.querySelectorAll('li').length, Number(svg.getAttribute('data-events'))];",
            vec![],
        )
        .await?;
    let wide = page.overflow().await?;
    let shown = read[0] == json!(true) && read[1].as_f64() == Some(0.0);
    if !shown || read[2] != read[3] || wide != json!([]) {
        return Err(format!(
            "at 390 px the timeline reads [list shown, lanes' height, events listed, events] = {read}, and these reach past the screen's edge by [where, px]: {wide}"
        ));
    }
    page.look("timeline-phone.png").await.map(|_| ())
}

/// Types a fault timeline into the editor, applies it, and finds it on the charts (a band
/// for the partition, a line for the crash, both from the run's report) and in the URL; then
/// a bad entry is named in place and leaves the running timeline alone.
async fn scripted_faults(page: &mut Page<'_>) -> Step {
    page.open("/?messages=6000&seed=3").await?;
    page.wait_finished("[data-testid=progress]").await?;
    let field = "[data-testid=script-text]";
    page.type_over(
        field,
        "1s:crash-consumer-1-after\n1.5s-2s:partition-broker-producer-0",
    )
    .await?;
    page.click("[data-testid=script-apply]").await?;
    page.wait_until("the URL carries the timeline", async || {
        let url = page.client.current_url().await.map_err(|e| e.to_string())?;
        Ok(url
            .as_str()
            .contains("script=1s:crash-consumer-1-after;1.5s-2s:partition-broker-producer-0"))
    })
    .await?;
    page.wait_finished("[data-testid=progress]").await?;
    let count = async |selector: &str| -> Result<u64, String> {
        let n = page
            .js(
                "return document.querySelectorAll(arguments[0]).length;",
                vec![json!(selector)],
            )
            .await?;
        n.as_u64().ok_or_else(|| format!("no count for {selector}"))
    };
    for chart in ["chart-throughput", "chart-latency", "chart-dup-loss"] {
        let bands = count(&format!("[data-testid={chart}] [data-testid=fault-band]")).await?;
        let lines = count(&format!("[data-testid={chart}] [data-testid=fault-line]")).await?;
        if (bands, lines) != (1, 1) {
            return Err(format!(
                "{chart} shows {bands} band(s) and {lines} line(s), not the partition and the crash"
            ));
        }
    }
    let label = page
        .js(
            "return document.querySelector('[data-testid=chart-throughput] [data-testid=fault-band] title').textContent;",
            vec![],
        )
        .await?;
    if label.as_str() != Some("scripted: partition broker↔producer 0 from 1.5 s to 2 s") {
        return Err(format!("the band is labelled {label}"));
    }
    // The crash after processing duplicated a payment in at-least-once, right then.
    let dups = page.counter("duplicates").await? as f64;
    if dups < 1.0 {
        return Err(format!(
            "no duplicate after the scripted crash (the counter reads {dups})"
        ));
    }
    page.scroll_to("[data-testid=chart-throughput]").await?;
    page.screenshot("scripted-faults.png").await?;

    // A consumer that does not exist is named under the field; the timeline keeps running.
    page.type_over(field, "1s:crash-consumer-9").await?;
    page.wait_until("the bad entry is named", async || {
        let text = page
            .js(
                "const e = document.querySelector('[data-testid=script-entry].bad'); return e ? e.textContent : '';",
                vec![],
            )
            .await?;
        Ok(text
            .as_str()
            .is_some_and(|t| t.contains("there is no consumer 9")))
    })
    .await?;
    let disabled = page.attr("[data-testid=script-apply]", "disabled").await;
    if disabled.is_err() {
        return Err("Apply is enabled with a bad entry".into());
    }
    let url = page.client.current_url().await.map_err(|e| e.to_string())?;
    if !url.as_str().contains("1.5s-2s:partition-broker-producer-0") {
        return Err(format!("a bad entry replaced the running timeline: {url}"));
    }
    page.expect_no_csp_violations().await
}

/// The table's scenario: faults that tell the modes apart (a dedup window shorter than the
/// producer's retries breaks the idempotent consumer), and payments that call a card provider,
/// so the cells show double charges too.
const MATRIX_QUERY: &str = "mode=at-least-once&seed=11&messages=2000&ack-loss=0.05&crash-after-process=0.01&publish-ack-loss=0.1&dedup-window-ms=30&external-effect=on";

/// Opens the real-world systems table with its button, waits for the worker to finish it, and
/// reads every cell as a person does against the core's own table of the same scenario (each
/// cell of which the core's tests hold equal to a single run of its query). The RabbitMQ
/// exactly-once cell is refused with the broker's reason; the address remembers the view, and
/// a click on a cell loads that broker and mode, whose counters are a native run's.
async fn matrix(page: &mut Page<'_>) -> Step {
    use dsim_core::matrix::MatrixCell;
    use dsim_core::{Broker, Mode};

    cancel_matrix(page).await?;
    page.open(&format!("/?{MATRIX_QUERY}")).await?;
    page.wait_finished("[data-testid=progress]").await?;
    page.wait_until("the table's panel is there", async || {
        page.exists("[data-testid=matrix-run]").await
    })
    .await?;
    page.click("[data-testid=matrix-run]").await?;
    page.wait_finished("[data-testid=matrix-progress]").await?;
    let label = page
        .js(
            "return document.querySelector('[data-testid=matrix-view] .progress-label').innerText;",
            vec![],
        )
        .await?;
    if !label
        .as_str()
        .is_some_and(|l| l.contains("in a background worker"))
    {
        return Err(format!(
            "the table did not run in the worker: its label reads {label}"
        ));
    }
    page.wait_until("the address records view=matrix", async || {
        Ok(page.url().await?.contains("view=matrix"))
    })
    .await?;
    let base = scenario_of(MATRIX_QUERY);
    let want = dsim_core::matrix::matrix(&base).map_err(|e| e.to_string())?;
    expect_matrix(page, &want).await?;

    // Refused: RabbitMQ's exactly-once, with its reason in words and no button to load it.
    let refused = "[data-testid=matrix-table] td[data-broker=rabbitmq][data-mode=exactly-once]";
    let read = page
        .js(
            "const c = document.querySelector(arguments[0]); \
             return c && [c.getAttribute('data-kind'), c.querySelector('.reason')?.innerText, \
                          c.querySelector('button') !== null];",
            vec![json!(refused)],
        )
        .await?;
    let reason = Broker::RabbitMq
        .refuses(Mode::ExactlyOnce)
        .ok_or("the core no longer refuses exactly-once on RabbitMQ")?;
    if read != json!(["refused", reason, false]) {
        return Err(format!(
            "the RabbitMQ exactly-once cell reads {read}, not refused with {reason:?} and nothing to click"
        ));
    }
    page.scroll_to("#matrix").await?;
    page.expect_no_csp_violations().await?;
    page.screenshot("matrix.png").await?;

    // A click loads that broker and mode: the address, the pickers and a native run agree.
    let cell: &MatrixCell = want
        .iter()
        .find(|c| c.broker == Broker::RabbitMq && c.mode == Mode::AtLeastOnce)
        .ok_or("no RabbitMQ at-least-once cell")?;
    let query = &cell.outcome.as_ref().ok_or("the cell did not run")?.query;
    page.click(
        "[data-testid=matrix-table] td[data-broker=rabbitmq][data-mode=at-least-once] button",
    )
    .await?;
    page.wait_until("the address names the clicked cell's broker", async || {
        Ok(page.url().await?.contains("broker=rabbitmq"))
    })
    .await?;
    page.wait_finished("[data-testid=progress]").await?;
    let url = page.url().await?;
    let loaded = scenario_in(&url)?;
    if loaded != scenario_of(query) || !url.contains("view=matrix") {
        return Err(format!(
            "the click on RabbitMQ at-least-once loaded {url}, not the cell's {query} with the table open"
        ));
    }
    page.expect_pressed("broker-rabbitmq").await?;
    page.expect_pressed("mode-at-least-once").await?;
    expect_rerun_of_address(page, "after a click on RabbitMQ at-least-once").await?;
    // The table is the same table (no rerun), with the loaded cell marked.
    page.wait_finished("[data-testid=matrix-progress]").await?;
    expect_matrix(page, &want).await?;
    let current = page
        .js(
            "return [...document.querySelectorAll('[data-testid=matrix-table] td.current')] \
               .map(c => `${c.getAttribute('data-broker')} ${c.getAttribute('data-mode')}`);",
            vec![],
        )
        .await?;
    if current != json!(["rabbitmq at-least-once"]) {
        return Err(format!(
            "the table marks {current} as loaded, not RabbitMQ at-least-once"
        ));
    }

    // The address reopens the table: a fresh page runs it again, to the same cells.
    page.open(&url[url.find("/?").ok_or("no query in the address")?..])
        .await?;
    page.wait_until("the reopened table finishes", async || {
        page.exists("[data-testid=matrix-progress][data-state=finished]")
            .await
    })
    .await?;
    expect_matrix(page, &want).await
}

/// A link with `view=matrix` opens the table and runs it; Cancel stops the worker mid-table,
/// keeps the cells finished, and the next table goes to another worker.
async fn cancel_matrix(page: &Page<'_>) -> Step {
    // Nine runs of 100,000 messages: long enough to catch in the middle.
    page.open("/?messages=100000&seed=5&ack-loss=0.01&view=matrix")
        .await?;
    let progress = "[data-testid=matrix-progress]";
    let under_way = async || {
        Ok(page
            .exists(&format!("{progress}[data-worker=true]"))
            .await?
            && page.number_attr(progress, "data-cells-done").await? > 0.0)
    };
    let cancelled = async || {
        page.exists(&format!(
            "{progress}[data-state=cancelled][data-worker=false]"
        ))
        .await
    };
    page.wait_until("the linked table is under way in the worker", under_way)
        .await?;
    page.js(WORKER_SPY, vec![]).await?;
    page.click("[data-testid=matrix-cancel]").await?;
    page.wait_until("the linked table is cancelled", cancelled)
        .await?;
    page.click("[data-testid=matrix-run]").await?;
    page.wait_until(
        "the table is under way again, its worker replying",
        async || {
            Ok(under_way().await?
                && page
                    .js(
                        "return __spy.log.filter(e => e.what === 'reply').length > 0;",
                        vec![],
                    )
                    .await?
                    == json!(true))
        },
    )
    .await?;
    page.js("__spy.log.push({what: 'cancel'});", vec![]).await?;
    page.click("[data-testid=matrix-cancel]").await?;
    page.wait_until("the table is cancelled", cancelled).await?;
    let done = page.number_attr(progress, "data-cells-done").await?;
    let total = page.number_attr(progress, "data-cells-total").await?;
    let shown = page
        .js(
            "return document.querySelectorAll('[data-testid=matrix-table] td button').length;",
            vec![],
        )
        .await?;
    if done >= total || shown.as_f64() != Some(done) {
        return Err(format!(
            "after Cancel the table has {done} of {total} cells done and {shown} to click"
        ));
    }
    page.js("__spy.log.push({what: 'next'});", vec![]).await?;
    page.click("[data-testid=matrix-run]").await?;
    page.wait_until("the next table is under way", under_way)
        .await?;
    page.click("[data-testid=matrix-cancel]").await?;
    expect_cancelled_worker_stopped(page).await
}

/// Every cell of the page's table against the core's: the verdict's colour, and duplicates,
/// lost, p99 and double charges as a person reads them; refused cells with their reason.
async fn expect_matrix(page: &Page<'_>, want: &[dsim_core::matrix::MatrixCell]) -> Step {
    let read = page
        .js(
            "return [...document.querySelectorAll('[data-testid=matrix-table] td[data-broker]')].map(c => { \
               const v = k => c.querySelector(`.${k} .m-value`)?.innerText ?? null; \
               return { broker: c.getAttribute('data-broker'), mode: c.getAttribute('data-mode'), \
                 kind: c.getAttribute('data-kind'), reason: c.querySelector('.reason')?.innerText ?? null, \
                 dup: v('m-dup'), lost: v('m-lost'), p99: v('m-p99'), charged: v('m-charged'), \
                 button: c.querySelector('button') !== null }; });",
            vec![],
        )
        .await?;
    let shown = read.as_array().ok_or("no table cells")?;
    if shown.len() != want.len() {
        return Err(format!(
            "the table shows {} cells, the core's has {}",
            shown.len(),
            want.len()
        ));
    }
    for (cell, got) in want.iter().zip(shown) {
        let name = format!("{} {}", cell.broker.key(), cell.mode.key());
        if got["broker"] != json!(cell.broker.key()) || got["mode"] != json!(cell.mode.key()) {
            return Err(format!(
                "cell {name} is shown as {got}, out of the core's order"
            ));
        }
        let count = |key: &str| -> Result<u64, String> {
            got[key]
                .as_str()
                .and_then(browser::axis::grouped_count)
                .ok_or_else(|| format!("cell {name}: {key} reads {}", got[key]))
        };
        match (&cell.refused, &cell.outcome) {
            (Some(reason), _) => {
                if got["kind"] != json!("refused")
                    || got["reason"] != json!(reason)
                    || got["button"] != json!(false)
                {
                    return Err(format!(
                        "cell {name} should be refused with {reason:?}: {got}"
                    ));
                }
            }
            (None, Some(o)) => {
                let kind = match (o.held, o.status == dsim_core::Status::Stalled) {
                    (false, _) => "broken",
                    (true, true) => "stalled",
                    (true, false) => "kept",
                };
                if got["kind"] != json!(kind) || got["button"] != json!(true) {
                    return Err(format!(
                        "cell {name} should be a {kind} run to click: {got}"
                    ));
                }
                for (key, value) in [("dup", o.duplicates), ("lost", o.lost)] {
                    let seen = count(key)?;
                    if seen != value {
                        return Err(format!(
                            "cell {name}: {key} shows {seen}, the core's run {value}"
                        ));
                    }
                }
                match (o.double_charges, got["charged"].is_null()) {
                    (Some(d), false) if count("charged")? == d => {}
                    (None, true) => {}
                    _ => {
                        return Err(format!(
                            "cell {name}: double charges read {}, the core's run {:?}",
                            got["charged"], o.double_charges
                        ));
                    }
                }
                let p99 = got["p99"].as_str().unwrap_or_default();
                expect_duration(&format!("cell {name}'s p99"), p99, o.p99_ms)?;
            }
            (None, None) => {
                return Err(format!("the core's cell {name} has neither run nor reason"));
            }
        }
    }
    Ok(())
}

/// A duration as the page writes it ("8.42 ms", "151 ms", "12.3 s") against milliseconds,
/// to the precision shown.
fn expect_duration(what: &str, text: &str, want_ms: f64) -> Step {
    let (number, scale) = match text.trim().rsplit_once(' ') {
        Some((n, "ms")) => (n, 1.0),
        Some((n, "s")) => (n, 1000.0),
        _ => return Err(format!("{what} reads {text:?}, not a duration")),
    };
    let decimals = number.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    let shown: f64 = number
        .parse()
        .map_err(|_| format!("{what} reads {text:?}, not a duration"))?;
    let step = 10f64.powi(-decimals) * scale;
    if (shown * scale - want_ms).abs() <= step / 2.0 + 1e-9 {
        Ok(())
    } else {
        Err(format!(
            "{what} reads {text:?}, the core's run {want_ms} ms"
        ))
    }
}

/// A RabbitMQ preset's run: the queue panel's numbers, under RabbitMQ's names, are a native
/// run's `report.queue`; a Kafka run has no such panel. The mode picker disables exactly-once
/// with the broker's reason, and the pickers' texts are RabbitMQ's mechanisms. Then the page
/// on a phone-sized screen, with the table and with the run.
/// The queue panel: each number as a person reads it and as `data-value` holds it, equal to
/// the native run's, and the broker's own names in its words.
async fn expect_queue_panel(page: &Page<'_>, numbers: &[(&str, u64)], terms: &[&str]) -> Step {
    for &(id, value) in numbers {
        let read = page
            .js(
                "const e = document.querySelector(`[data-testid=${arguments[0]}]`); \
                 return e && [e.innerText, e.getAttribute('data-value')];",
                vec![json!(id)],
            )
            .await?;
        let shown = read[0].as_str().and_then(browser::axis::grouped_count);
        if shown != Some(value) || read[1] != json!(value.to_string()) {
            return Err(format!(
                "the queue panel's {id} reads {read}, the native run {value}"
            ));
        }
    }
    let words = page
        .js(
            "return document.querySelector('[data-testid=queue-panel]').innerText;",
            vec![],
        )
        .await?;
    let words = words.as_str().unwrap_or_default();
    for term in terms {
        if !words.contains(term) {
            return Err(format!("the queue panel does not say {term:?}: {words:?}"));
        }
    }
    Ok(())
}

/// An SQS run shows its queue as SQS names it: the two approximate depths, messages received,
/// visibility timeouts that passed, extra copies; a FIFO queue its deduplication.
async fn sqs_run(page: &mut Page<'_>) -> Step {
    let query = dsim_core::presets::preset("sqs-visibility-timeout-too-short")
        .ok_or("no sqs-visibility-timeout-too-short preset")?
        .query;
    page.open(&format!("/?{query}&messages=3000")).await?;
    page.wait_finished("[data-testid=progress]").await?;
    let report = expect_rerun_of_address(page, "the SQS preset").await?;
    let q = report.sqs.as_ref().ok_or("an SQS run without its queue")?;
    if q.visibility_timeouts_expired == 0 {
        return Err("the preset let no visibility timeout pass: the check proves little".into());
    }
    expect_queue_panel(
        page,
        &[
            ("queue-visible-peak", q.peak_visible),
            ("queue-visible-end", q.visible_at_end),
            ("queue-in-flight-peak", q.peak_in_flight),
            ("queue-in-flight-end", q.in_flight_at_end),
            ("queue-receives", q.receives),
            ("queue-expired", q.visibility_timeouts_expired),
            ("queue-extra-copies", q.extra_copies),
        ],
        &[
            "Queue (SQS standard)",
            "ApproximateNumberOfMessagesVisible",
            "ApproximateNumberOfMessagesNotVisible",
            "NumberOfMessagesReceived",
            "visibility timeout",
        ],
    )
    .await?;
    page.scroll_to("[data-testid=queue-panel]").await?;
    page.look("sqs-queue.png").await?;

    let query = dsim_core::presets::preset("sqs-fifo-retry-after-window")
        .ok_or("no sqs-fifo-retry-after-window preset")?
        .query;
    page.open(&format!("/?{query}")).await?;
    page.wait_finished("[data-testid=progress]").await?;
    let report = expect_rerun_of_address(page, "the SQS FIFO preset").await?;
    let q = report
        .sqs
        .as_ref()
        .ok_or("an SQS FIFO run without its queue")?;
    expect_queue_panel(
        page,
        &[
            ("queue-receives", q.receives),
            ("queue-dedup-dropped", q.dedup_dropped),
        ],
        &["Queue (SQS FIFO)", "deduplication window"],
    )
    .await?;
    page.expect_no_csp_violations().await
}

async fn rabbitmq_run(page: &mut Page<'_>) -> Step {
    use dsim_core::{Broker, Mode};

    let query = dsim_core::presets::preset("rabbitmq-requeue-on-close")
        .ok_or("no rabbitmq-requeue-on-close preset")?
        .query;
    page.open(&format!("/?{query}&messages=3000")).await?;
    page.wait_finished("[data-testid=progress]").await?;
    let report = expect_rerun_of_address(page, "the RabbitMQ preset").await?;
    let q = report
        .queue
        .as_ref()
        .ok_or("a RabbitMQ run without a queue report")?;
    // Each number as a person reads it, beside the report's value the page keeps in
    // data-value, and under RabbitMQ's own names.
    expect_queue_panel(
        page,
        &[
            ("queue-ready-peak", q.peak_ready),
            ("queue-ready-end", q.ready_at_end),
            ("queue-unacked-peak", q.peak_unacked),
            ("queue-unacked-end", q.unacked_at_end),
            ("queue-redelivered", q.redelivered),
            ("queue-connections-lost", q.connections_lost),
        ],
        &[
            "Queue (RabbitMQ)",
            "messages_ready",
            "messages_unacknowledged",
            "redelivered",
            "peak",
            "at end",
        ],
    )
    .await?;
    if q.redelivered == 0 {
        return Err("the requeue preset redelivered nothing: the check above proves little".into());
    }
    let subscription = page
        .js(
            "return document.querySelector('[data-testid=queue-subscription]').innerText;",
            vec![],
        )
        .await?;
    let prefetch = format!("basic.qos prefetch {}", q.prefetch);
    if !subscription.as_str().is_some_and(|s| s.contains(&prefetch)) {
        return Err(format!(
            "the queue panel's subscription reads {subscription}, without {prefetch:?}"
        ));
    }

    // The pickers: exactly-once disabled with the reason; RabbitMQ's own mechanisms in words.
    let picker = page
        .js(
            "const b = id => document.querySelector(`[data-testid=${id}]`); \
             return [b('mode-exactly-once').disabled, b('mode-exactly-once').title, \
                     b('broker-rabbitmq').title, b('broker-description').innerText, \
                     b('mode-mechanism').innerText];",
            vec![],
        )
        .await?;
    let reason = Broker::RabbitMq
        .refuses(Mode::ExactlyOnce)
        .unwrap_or_default();
    let mechanism = Mode::AtLeastOnce.mechanism_on(Broker::RabbitMq);
    let description = Broker::RabbitMq.description();
    let text = |i: usize| picker[i].as_str().unwrap_or_default().to_string();
    if picker[0] != json!(true)
        || text(1) != reason
        || text(2) != description
        || !text(3).ends_with(description)
        || !text(4).ends_with(mechanism)
    {
        return Err(format!(
            "the pickers on RabbitMQ read {picker}; want exactly-once disabled with {reason:?}, \
             the broker's {description:?} and at-least-once's {mechanism:?}"
        ));
    }
    page.scroll_to("[data-testid=guarantee-badge]").await?;
    page.screenshot("rabbitmq.png").await?;

    // Back on Kafka, as a person would with the picker: no queue panel.
    page.click("[data-testid=broker-kafka]").await?;
    page.wait_until("the queue panel goes with RabbitMQ", async || {
        Ok(!page.exists("[data-testid=queue-panel]").await?)
    })
    .await?;
    page.click("[data-testid=broker-rabbitmq]").await?;
    page.wait_finished("[data-testid=progress]").await?;

    // A phone-sized screen: the run, then the table.
    page.resize(PHONE).await?;
    let outcome = narrow(page).await;
    page.resize(WINDOW).await?;
    outcome
}

/// The RabbitMQ run and the table on a 390 px wide screen: nothing wider than the screen but
/// the table's own scroller.
async fn narrow(page: &mut Page<'_>) -> Step {
    page.scroll_to(".counters").await?;
    page.look("rabbitmq-narrow.png").await?;
    page.click("[data-testid=matrix-run]").await?;
    page.wait_finished("[data-testid=matrix-progress]").await?;
    page.scroll_to("#matrix").await?;
    page.look("matrix-narrow.png").await?;
    let wide = page.overflow().await?;
    if wide != json!([]) {
        return Err(format!(
            "on a 390 px screen these reach past the screen's edge by [where, px]: {wide}"
        ));
    }
    Ok(())
}

/// Runs a step of the story; with `DSIM_E2E_STEPS` (numbers, comma-separated) only the
/// steps named, to try one check quickly against a page broken on purpose. The steps that
/// continue from the one before (2 and 3) need it named too.
async fn step(name: &str, body: impl Future<Output = Step>) -> Step {
    if let Ok(only) = std::env::var("DSIM_E2E_STEPS") {
        let number = name.split(':').next().unwrap_or_default();
        if !only.split(',').any(|n| n.trim() == number) {
            println!("e2e step {name}: not in DSIM_E2E_STEPS");
            return Ok(());
        }
    }
    println!("e2e step {name}");
    body.await
        .map_err(|e| format!("e2e step {name} failed: {e}"))
}

async fn default_run(page: &mut Page<'_>) -> Step {
    page.open(
        "/?mode=at-least-once&publish-ack-loss=0.1&seed=7&messages=3000&producer-idempotence=off",
    )
    .await?;
    page.wait_finished("[data-testid=progress]").await?;
    page.expect_pressed("mode-at-least-once").await?;
    let ack_loss = page
        .value("[data-testid=knob-publish-ack-loss-number]")
        .await?;
    expect_number("publish-ack-loss field", &ack_loss, 0.1)?;
    let seed = page.value("[data-testid=seed]").await?;
    if seed != "7" {
        return Err(format!("the seed field shows {seed:?}, not 7"));
    }
    let dups = page.counter("duplicates").await? as f64;
    if dups <= 0.0 {
        return Err(format!(
            "no duplicates at publish-ack-loss 0.1 (the counter reads {dups})"
        ));
    }
    page.expect_no_csp_violations().await?;
    page.screenshot("default.png").await
}

async fn move_knob(page: &Page<'_>) -> Step {
    let dups_before = page.counter("duplicates").await?;
    let chart_before = page.chart("chart-dup-loss").await?;

    let field = "[data-testid=knob-crash-after-process-number]";
    // Tab away so the field fires its change event as it would for a person.
    page.type_over(field, "0.05\u{E004}").await?;
    let typed = page.value(field).await?;
    expect_number("crash-after-process field after typing", &typed, 0.05)?;

    page.wait_until("the URL records crash-after-process=0.05", async || {
        let url = page.client.current_url().await.map_err(|e| e.to_string())?;
        Ok(url.as_str().contains("crash-after-process=0.05"))
    })
    .await?;
    page.wait_finished("[data-testid=progress]").await?;
    let dups_after = page.counter("duplicates").await?;
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
    page.expect_no_csp_violations().await?;
    page.screenshot("compare.png").await
}

async fn counterexample(page: &mut Page<'_>) -> Step {
    page.open("/?mode=idempotent-consumer&publish-ack-loss=0.1&dedup-window-ms=30&messages=3000&producer-idempotence=off")
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
    // Hovering a chart draws its tooltip, placed by CSS properties (not a style attribute).
    page.js(
        "const s = document.querySelector('[data-testid=chart-throughput] svg'); \
         const r = s.getBoundingClientRect(); \
         s.dispatchEvent(new PointerEvent('pointermove', {bubbles: true, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2}));",
        vec![],
    )
    .await?;
    page.expect_no_csp_violations().await?;
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
    let lost = page.counter("lost").await? as f64;
    if lost <= 0.0 {
        return Err(format!(
            "nothing lost at publish-loss 0.2 at most once (the counter reads {lost})"
        ));
    }
    page.expect_no_csp_violations().await
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
    let field = page
        .js(
            "return document.querySelector('[data-testid=knob-publish-loss-error]')?.textContent;",
            vec![],
        )
        .await?;
    if !field
        .as_str()
        .is_some_and(|t| t.contains("must be between 0 and 1 (got 2)"))
    {
        return Err(format!(
            "the error is not shown under the publish-loss control: {field}"
        ));
    }
    page.expect_no_csp_violations().await
}

async fn csp_blocks_inline_code(page: &Page<'_>) -> Step {
    page.open("/?mode=at-least-once&messages=500").await?;
    page.wait_finished("[data-testid=progress]").await?;
    page.expect_no_csp_violations().await?;
    // What an injection would try, done by the test itself: an inline script and an inline
    // style attribute. The policy must refuse both and say so. (eval cannot be tried here:
    // code that WebDriver runs is exempt from the page's policy.)
    let outcome = page
        .js(
            "const s = document.createElement('script'); \
             s.textContent = 'window.__dsimInline = 1'; \
             document.body.append(s); \
             document.body.setAttribute('style', 'outline: 5px solid red'); \
             return {inline: window.__dsimInline === 1, \
                     styled: getComputedStyle(document.body).outlineWidth === '5px'};",
            vec![],
        )
        .await?;
    if outcome != json!({"inline": false, "styled": false}) {
        return Err(format!("the policy let inline code through: {outcome}"));
    }
    let violations = page.csp_violations().await?;
    for directive in ["script-src-elem", "style-src-attr"] {
        if !violations.iter().any(|v| v.starts_with(directive)) {
            return Err(format!(
                "no {directive} violation reported for the blocked code: {violations:?}"
            ));
        }
    }
    Ok(())
}

/// Strings that would run if the page inserted a URL value as HTML.
const INJECTIONS: &[&str] = &[
    "<script>window.__dsimInjected=1</script>",
    "\"><img src=x onerror=\"window.__dsimInjected=2\">",
    "'><svg onload=window.__dsimInjected=3>",
    "javascript:window.__dsimInjected=4",
    "</textarea><script>window.__dsimInjected=5</script>",
    "{{7*7}}${7*7}<b>bold</b>",
];

async fn injection(page: &Page<'_>) -> Step {
    let keys: Vec<&str> = dsim_core::knobs()
        .iter()
        .map(|k| k.key)
        .chain(["view", "message", "embed"])
        .collect();
    for (i, payload) in INJECTIONS.iter().enumerate() {
        let encoded = dsim_core::knobs::encode_component(payload);
        let mut pairs: Vec<String> = keys.iter().map(|k| format!("{k}={encoded}")).collect();
        pairs.push(format!("{encoded}=1"));
        // Every other payload in the embedded view as well.
        let embed = i % 2 == 1;
        if embed {
            pairs.retain(|p| !p.starts_with("embed="));
            pairs.push("embed=1".into());
        }
        page.open(&format!("/?{}", pairs.join("&"))).await?;
        page.wait_until("the URL errors show", async || {
            page.exists("[data-testid=url-error]").await
        })
        .await?;
        page.wait_finished("[data-testid=progress]").await?;
        let found = page
            .js(
                "return { \
                   injected: window.__dsimInjected !== undefined, \
                   elements: document.querySelectorAll('img, b, iframe, object, [onerror], [onload]').length, \
                   scripts: [...document.scripts].filter(s => !s.src).length, \
                   banner: document.querySelector('[data-testid=url-error]').textContent };",
                vec![],
            )
            .await?;
        let shown: String = payload.chars().take(40).collect();
        if found["injected"] != json!(false)
            || found["elements"] != json!(0)
            || found["scripts"] != json!(0)
            || !found["banner"].as_str().is_some_and(|b| b.contains(&shown))
        {
            return Err(format!(
                "{payload:?} (embed: {embed}) was not kept as text: {found}"
            ));
        }
        page.expect_no_csp_violations().await?;
    }
    Ok(())
}

/// A script's opening that defines `drawnWhole(doc, measure)`: every part of `doc` the
/// stylesheet lets the browser skip while off screen (`content-visibility: auto`) is drawn,
/// `measure(parts)` runs, and each part is left as it was. A skipped part is held at a guessed
/// size and its contents' overflow reads as nothing, so what a person sees once it is drawn
/// can only be measured drawn.
const DRAWN_WHOLE: &str = "const drawnWhole = (doc, measure) => { \
       const parts = Array.from(doc.querySelectorAll('body *')) \
         .filter(e => getComputedStyle(e).contentVisibility === 'auto'); \
       const before = parts.map(e => e.style.contentVisibility); \
       for (const e of parts) e.style.contentVisibility = 'visible'; \
       try { return measure(parts); } \
       finally { parts.forEach((e, i) => { e.style.contentVisibility = before[i]; }); } \
     }; ";

async fn post_message(page: &Page<'_>) -> Step {
    page.open("/embed-example.html").await?;
    page.wait_until(
        "both embedded playgrounds report their height",
        async || {
            let ready = page
                .js(
                    "return document.querySelectorAll('figure[data-state=ready]').length;",
                    vec![],
                )
                .await?;
            Ok(ready.as_u64() == Some(2))
        },
    )
    .await?;
    // Each frame is as tall as its view drawn whole: no part of it is held at a guessed size
    // while off the embedding page's screen (the second frame is below its fold), which the
    // frame would post as its height and the page would leave as blank space.
    page.wait_until(
        "each embedded view's frame is as tall as its view drawn whole",
        async || {
            let fit = page
                .js(
                    &[
                        DRAWN_WHOLE,
                        "return Array.from(document.querySelectorAll('iframe[data-dsim-embed]'), f => { \
                           const root = f.contentDocument?.querySelector('[data-testid=embed-root]'); \
                           if (!root) return false; \
                           const drawn = drawnWhole(f.contentDocument, () => root.scrollHeight); \
                           return Math.abs(parseFloat(f.style.height) - drawn) <= 1; \
                         });",
                    ]
                    .concat(),
                    vec![],
                )
                .await?;
            Ok(fit == json!([true, true]))
        },
    )
    .await?;
    // Record what the frames post from now on, then reload the first one: a fresh embedded
    // view reports its height as soon as it renders.
    page.js(
        "window.__dsimMessages = []; \
         addEventListener('message', e => __dsimMessages.push({ \
           origin: e.origin, \
           from: e.source === null ? 'gone' \
             : Array.from({length: frames.length}, (_, i) => frames[i]).includes(e.source) ? 'frame' : 'other', \
           keys: e.data && typeof e.data === 'object' ? Object.keys(e.data) : typeof e.data, \
           type: e.data?.type, height: e.data?.height })); \
         document.querySelector('iframe[data-dsim-embed]').contentWindow.location.reload();",
        vec![],
    )
    .await?;
    let posted = page
        .wait_until("the reloaded frame posts its height", async || {
            let n = page.js("return __dsimMessages.length;", vec![]).await?;
            Ok(n.as_u64().unwrap_or(0) > 0)
        })
        .await;
    if let Err(e) = posted {
        let state = page
            .js(
                "const f = document.querySelector('iframe[data-dsim-embed]'); \
                 return {messages: window.__dsimMessages, ready: f.contentDocument?.readyState, \
                 root: !!f.contentDocument?.querySelector('[data-testid=embed-root]'), \
                 height: f.style.height, url: f.contentWindow.location.href};",
                vec![],
            )
            .await?;
        return Err(format!("{e}: {state}"));
    }
    let messages = page.js("return __dsimMessages;", vec![]).await?;
    let origin = page.js("return location.origin;", vec![]).await?;
    for m in messages.as_array().into_iter().flatten() {
        let height_ok = m["height"].as_u64().is_some_and(|h| h > 0 && h < 100_000);
        // A height posted by the frame's document just before the reload replaced it arrives
        // with no source (its window is gone); its origin still says where it came from.
        let from_frame = m["from"] == "frame" || m["from"] == "gone";
        if m["keys"] != json!(["type", "height"])
            || m["type"] != "dsim-height"
            || !height_ok
            || m["origin"] != origin
            || !from_frame
        {
            return Err(format!("the embed posted more than its height: {m}"));
        }
    }
    // Now the other way: hostile messages into the first frame. It must not listen.
    let search = page
        .js(
            "const f = document.querySelector('iframe[data-dsim-embed]').contentWindow; \
             for (const m of [{type: 'dsim-height', height: 1}, \
                              {type: 'dsim-scenario', query: 'mode=at-most-once'}, \
                              {mode: 'at-most-once', ackLoss: 1}, \
                              '<img src=x onerror=window.__dsimInjected=9>', null]) \
               f.postMessage(m, '*'); \
             return f.location.search;",
            vec![],
        )
        .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    page.client
        .enter_frame(0)
        .await
        .map_err(|e| format!("cannot enter the first frame: {e}"))?;
    let inside = page
        .js(
            "return { search: location.search, \
               mode: document.querySelector('[data-testid=mode-at-least-once]')?.getAttribute('aria-pressed'), \
               injected: window.__dsimInjected !== undefined, \
               images: document.querySelectorAll('img').length };",
            vec![],
        )
        .await;
    let violations = page.csp_violations().await;
    page.client
        .enter_parent_frame()
        .await
        .map_err(|e| format!("cannot leave the frame: {e}"))?;
    let inside = inside?;
    let expected = json!({"search": search, "mode": "true", "injected": false, "images": 0});
    if inside != expected {
        return Err(format!(
            "a message from the parent changed the embedded view: {inside}, expected {expected}"
        ));
    }
    let violations = violations?;
    if !violations.is_empty() {
        return Err(format!(
            "CSP violations in the embedded view: {violations:?}"
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
    let resolved = page.counter("applied").await? as f64;
    if resolved < 500_000.0 {
        return Err(format!("only {resolved} payments applied of a million"));
    }
    // The last message's trace replays the whole run: in a worker too, frames still coming.
    page.js(
        "window.__frames = 0; window.__framesFrom = performance.now(); \
         const i = document.querySelector('[data-testid=timeline-message-input]'); \
         i.value = '999999'; i.dispatchEvent(new Event('input', { bubbles: true })); \
         i.dispatchEvent(new Event('change', { bubbles: true }));",
        vec![],
    )
    .await?;
    let diagram = "[data-testid=timeline] svg.sequence[data-message='999999']";
    page.wait_until("the last message's trace is drawn", async || {
        page.exists(diagram).await
    })
    .await?;
    let frames = page
        .js(
            "return window.__frames / Math.max(1, performance.now() - window.__framesFrom) * 1000;",
            vec![],
        )
        .await?
        .as_f64()
        .unwrap_or(0.0);
    println!("page drew {frames:.0} frames per second while the trace replayed");
    if frames < 5.0 {
        return Err(format!(
            "the page drew only {frames:.1} frames per second while tracing"
        ));
    }
    if page.number_attr(diagram, "data-events").await? < 5.0 {
        return Err("the last message's trace is nearly empty".into());
    }
    // Run again: a finished job leaves its worker idle for the next one (offload.rs), so the
    // trace and this run both go to the worker the first run started, already loaded, and the
    // same scenario gives the same numbers there.
    page.click("[data-testid=run]").await?;
    page.wait_until("the run is in the worker again", async || {
        page.exists("[data-testid=progress][data-worker=true]")
            .await
    })
    .await?;
    page.wait_until("the second run finishes", async || {
        page.exists("[data-testid=progress][data-state=finished][data-worker=false]")
            .await
    })
    .await?;
    let again = page.counter("applied").await? as f64;
    if again != resolved {
        return Err(format!(
            "the same run applied {resolved} payments, then {again} in a reused worker"
        ));
    }
    let loads = page.fetched("dsim-worker_loader.js").await?.len();
    if loads != 1 {
        return Err(format!(
            "the run, its trace and the second run loaded the worker {loads} times, not once"
        ));
    }
    // The worker is one of our own scripts: the policy lets it start, and nothing is refused.
    page.expect_no_csp_violations().await
}

/// Cancels a run in the worker, then asks for a smaller one: the cancelled worker is stopped
/// at once and never heard from again, and the next run goes to another worker and finishes
/// with a fresh run's counters. (A spy on the page's workers tells; no waiting to see whether
/// progress moves, which would prove nothing on a slow machine.)
async fn cancel_heavy_run(page: &Page<'_>) -> Step {
    page.open("/?mode=idempotent-consumer&messages=2000&seed=4&ack-loss=0.1")
        .await?;
    page.wait_finished("[data-testid=progress]").await?;
    page.js(WORKER_SPY, vec![]).await?;
    // Two million messages: the job is sent with the spy watching.
    page.type_over("[data-testid=knob-messages-number]", "2000000\u{E004}")
        .await?;
    page.wait_until(
        "the run is in the worker, and has reported progress",
        async || {
            Ok(page
                .exists("[data-testid=progress][data-worker=true]")
                .await?
                && page
                    .js("return __spy.log.some(e => e.what === 'reply');", vec![])
                    .await?
                    == json!(true))
        },
    )
    .await?;
    page.js("__spy.log.push({what: 'cancel'});", vec![]).await?;
    page.click("[data-testid=pause]").await?;
    page.wait_until("the run is cancelled", async || {
        page.exists("[data-testid=progress][data-state=paused][data-worker=false]")
            .await
    })
    .await?;
    page.js("__spy.log.push({what: 'next'});", vec![]).await?;
    page.type_over("[data-testid=knob-messages-number]", "60000\u{E004}")
        .await?;
    page.wait_until("the next run, in a worker, finishes", async || {
        Ok(page.url().await?.contains("messages=60000")
            && page
                .exists("[data-testid=progress][data-state=finished][data-worker=false]")
                .await?)
    })
    .await?;
    expect_rerun_of_address(page, "the run after Cancel").await?;
    expect_cancelled_worker_stopped(page).await?;
    page.expect_no_csp_violations().await
}

/// A sweep's scenario and settings, as the e2e steps open them.
// Without idempotence, so that at-least-once's duplicates rise with lost publish acks.
const SWEEP_SCENARIO: &str = "messages=500&seed=5&producer-idempotence=off";
const SWEEP_SETTINGS: &str =
    "sweep=publish-ack-loss&sweep-from=0&sweep-to=0.5&sweep-steps=11&sweep-seeds=4";

async fn sweep(page: &mut Page<'_>) -> Step {
    page.open(&format!("/?{SWEEP_SCENARIO}&{SWEEP_SETTINGS}"))
        .await?;
    let progress = "[data-testid=sweep-progress]";
    page.wait_until("the sweep finishes", async || {
        page.exists(&format!("{progress}[data-state=finished]"))
            .await
    })
    .await?;
    let done = page.attr(progress, "data-runs-done").await?;
    let total = page.attr(progress, "data-runs-total").await?;
    // 11 values × 5 modes × 4 seeds.
    if (done.as_str(), total.as_str()) != ("220", "220") {
        return Err(format!(
            "the sweep ran {done} of {total} runs, not 220 of 220"
        ));
    }
    // A finished sweep says how long the worker took: it ran there, not on the page.
    page.number_attr(progress, "data-worker-ms").await?;

    let (base, errors) = dsim_core::Scenario::from_query(SWEEP_SCENARIO, &[]);
    assert!(errors.is_empty());
    let spec = dsim_core::SweepSpec {
        knob: "publish-ack-loss".into(),
        from: 0.0,
        to: 0.5,
        steps: 11,
        seeds: 4,
    };
    let expected = dsim_core::sweep(&base, &spec).map_err(|e| e.to_string())?;
    type Pick = fn(&dsim_core::sweep::ModeSummary) -> dsim_core::Estimate;
    let metrics: [(&str, Pick); 4] = [
        ("duplicates", |m| m.duplicates_per_message),
        ("lost", |m| m.lost_per_message),
        ("latency-p99", |m| m.latency_p99_ms),
        ("throughput", |m| m.throughput_per_s),
    ];
    for (metric, pick) in metrics {
        let drawn = page
            .js(
                "const c = document.querySelector(`[data-testid=sweep-chart-${arguments[0]}]`); \
                 if (!c) return null; \
                 return { \
                   marks: [...c.querySelectorAll('circle.point')].map(m => ['mode', 'value', 'mean', 'low', 'high'].map(k => m.getAttribute(`data-${k}`))), \
                   bands: [...c.querySelectorAll('path.band')].map(b => b.getAttribute('data-mode')), \
                   lines: c.querySelectorAll('path.line:not(.dashed)').length, \
                   theory: c.querySelectorAll('path.line.dashed').length };",
                vec![json!(metric)],
            )
            .await?;
        let marks = drawn["marks"]
            .as_array()
            .ok_or_else(|| format!("no sweep chart for {metric}"))?;
        if marks.len() != 11 * 5 || drawn["lines"] != json!(5) {
            return Err(format!(
                "{metric}: {} marks and {} lines, not 55 and 5",
                marks.len(),
                drawn["lines"]
            ));
        }
        let mut bands: Vec<&str> = drawn["bands"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        bands.sort_unstable();
        let mut modes: Vec<&str> = dsim_core::Mode::ALL.iter().map(|m| m.key()).collect();
        modes.sort_unstable();
        if bands != modes {
            return Err(format!("{metric}: bands for {bands:?}, not every mode"));
        }
        for mark in marks {
            let text = |i: usize| mark[i].as_str().unwrap_or_default().to_string();
            let number = |i: usize| {
                text(i)
                    .parse::<f64>()
                    .map_err(|_| format!("{metric}: a mark's data is {mark}"))
            };
            let (mode, value) = (text(0), number(1)?);
            let summary = expected
                .points
                .iter()
                .find(|p| p.value == value)
                .and_then(|p| p.modes.iter().find(|m| m.mode.key() == mode))
                .ok_or_else(|| {
                    format!("{metric}: no point {mode} at {value} in the core's sweep")
                })?;
            let e = pick(summary);
            // The worker's reply carries every f64 exactly (postcard writes its bits).
            if (number(2)?, number(3)?, number(4)?) != (e.mean, e.low, e.high) {
                return Err(format!(
                    "{metric} of {mode} at {value}: the page draws {mark}, the core says {e:?}"
                ));
            }
        }
        // Theory is overlaid where the core has a formula: duplicates and losses only.
        let has_theory = drawn["theory"].as_u64().unwrap_or(0) > 0;
        if has_theory != matches!(metric, "duplicates" | "lost") {
            return Err(format!("{metric}: theory overlaid: {has_theory}"));
        }
        expect_marks_where_the_axes_put_them(page, metric, &expected, pick).await?;
    }

    let csv = page
        .download(
            "[data-testid=sweep-csv]",
            "dsim-sweep-publish-ack-loss-seed-5.csv",
        )
        .await?;
    check_sweep_csv(&csv, &expected)?;

    // The PNG export draws the chart's SVG from a blob: URL, which the policy allows.
    for button in ["sweep-chart-duplicates-png", "chart-dup-loss-png"] {
        let selector = format!("[data-testid={button}]");
        page.click(&selector).await?;
        page.wait_until("the PNG is made", async || {
            page.exists(&format!("{selector}[data-png-bytes]")).await
        })
        .await?;
        let bytes = page.number_attr(&selector, "data-png-bytes").await?;
        if bytes < 2_000.0 {
            return Err(format!("{button} made a PNG of only {bytes} bytes"));
        }
    }
    page.expect_no_csp_violations().await?;
    page.scroll_to("[data-testid=sweep-view]").await?;
    page.screenshot("sweep.png").await
}

/// Cancels a sweep in the worker, then runs a small one: as for a run, the cancelled worker
/// is stopped at once and silent after, and the next sweep runs in another worker to the end.
/// Each of a sweep chart's marks sits where the chart's own axes (read from their labelled
/// ticks) put the core's mean for its mode and value: the page's data attributes can be right
/// while the dot is drawn somewhere else.
async fn expect_marks_where_the_axes_put_them(
    page: &Page<'_>,
    metric: &str,
    expected: &dsim_core::SweepResult,
    pick: fn(&dsim_core::sweep::ModeSummary) -> dsim_core::Estimate,
) -> Step {
    let testid = format!("sweep-chart-{metric}");
    let chart = page.chart_geometry(&testid).await?;
    let marks = page
        .js(
            "return [...document.querySelectorAll(`[data-testid=${arguments[0]}] circle.point`)] \
               .map(m => [m.getAttribute('data-mode'), m.getAttribute('data-value'), \
                          Number(m.getAttribute('cx')), Number(m.getAttribute('cy'))]);",
            vec![json!(testid)],
        )
        .await?;
    let marks = marks.as_array().cloned().unwrap_or_default();
    if marks.len() != expected.points.len() * dsim_core::Mode::ALL.len() {
        return Err(format!("{metric}: {} marks to place", marks.len()));
    }
    for mark in &marks {
        let (Some(mode), Some(value), Some(cx), Some(cy)) = (
            mark[0].as_str(),
            mark[1].as_str().and_then(|v| v.parse::<f64>().ok()),
            mark[2].as_f64(),
            mark[3].as_f64(),
        ) else {
            return Err(format!("{metric}: a mark reads {mark}"));
        };
        let mean = expected
            .points
            .iter()
            .find(|p| p.value == value)
            .and_then(|p| p.modes.iter().find(|m| m.mode.key() == mode))
            .map(|m| pick(m).mean)
            .ok_or_else(|| format!("{metric}: no point {mode} at {value} in the core's sweep"))?;
        let want = (chart.x.pixel(value), chart.y.pixel(mean));
        // The page writes positions to a tenth of a unit; the tick labels are round numbers.
        if (want.0 - cx).abs() > 0.15 || (want.1 - cy).abs() > 0.15 {
            return Err(format!(
                "{metric}: {mode} at {value} (mean {mean}) is drawn at ({cx}, {cy}); the axes put it at ({:.2}, {:.2})",
                want.0, want.1
            ));
        }
    }
    Ok(())
}

async fn cancel_sweep(page: &Page<'_>) -> Step {
    // 1,100 runs of 10,000 messages: long enough to catch in the middle.
    page.open("/?messages=10000&seed=5&sweep=ack-loss&sweep-from=0&sweep-to=0.5&sweep-steps=11&sweep-seeds=20")
        .await?;
    let progress = "[data-testid=sweep-progress]";
    let under_way = async || {
        Ok(page
            .exists(&format!("{progress}[data-worker=true]"))
            .await?
            && page.number_attr(progress, "data-runs-done").await? > 0.0)
    };
    let cancelled = async || {
        page.exists(&format!(
            "{progress}[data-state=cancelled][data-worker=false]"
        ))
        .await
    };
    // The link starts its sweep as the panel loads, perhaps before the spy is in: cancel that
    // one and start it again with the spy watching.
    page.wait_until("the linked sweep is under way", under_way)
        .await?;
    page.js(WORKER_SPY, vec![]).await?;
    page.click("[data-testid=sweep-cancel]").await?;
    page.wait_until("the linked sweep is cancelled", cancelled)
        .await?;
    page.click("[data-testid=sweep-run]").await?;
    page.wait_until("the sweep is under way again in the worker", async || {
        Ok(under_way().await?
            && page
                .js(
                    "return __spy.log.filter(e => e.what === 'reply').length > 0;",
                    vec![],
                )
                .await?
                == json!(true))
    })
    .await?;
    page.js("__spy.log.push({what: 'cancel'});", vec![]).await?;
    page.click("[data-testid=sweep-cancel]").await?;
    page.wait_until("the sweep is cancelled", cancelled).await?;
    let done = page.number_attr(progress, "data-runs-done").await?;
    let total = page.number_attr(progress, "data-runs-total").await?;
    if done >= total {
        return Err(format!(
            "the sweep finished ({done} of {total}) before Cancel"
        ));
    }
    // Run sweep is offered again, and a small sweep runs to its end.
    page.type_over("[data-testid=sweep-steps]", "2\u{E004}")
        .await?;
    page.type_over("[data-testid=sweep-seeds]", "2\u{E004}")
        .await?;
    page.js("__spy.log.push({what: 'next'});", vec![]).await?;
    page.click("[data-testid=sweep-run]").await?;
    let finished = page
        .wait_until("the next sweep finishes", async || {
            page.exists(&format!("{progress}[data-state=finished]"))
                .await
        })
        .await;
    let runs = (
        page.attr(progress, "data-runs-done").await?,
        page.attr(progress, "data-runs-total").await?,
    );
    finished.map_err(|e| format!("{e}: it ran {runs:?} runs (done, total)"))?;
    // 2 values × 5 modes × 2 seeds.
    if runs != ("20".into(), "20".into()) {
        return Err(format!("the next sweep ran {runs:?} runs, not 20 of 20"));
    }
    expect_cancelled_worker_stopped(page).await?;
    page.expect_no_csp_violations().await
}

/// Scrubs a finished run back to an instant and checks that the dashboard shows exactly what
/// the core says a fresh run stopped there shows, then steps back one event; then the same for
/// a run that went to the Web Worker, which the page replays itself.
async fn time_travel(page: &mut Page<'_>) -> Step {
    let query = "mode=at-least-once&ack-loss=0.1&crash-after-process=0.02&seed=9&messages=4000";
    page.open(&format!("/?{query}")).await?;
    page.wait_finished("[data-testid=progress]").await?;
    let live_ms = page
        .number_attr("[data-testid=time-travel]", "data-live-ms")
        .await?;
    let t_ms = (live_ms * 0.4).round();
    scrub_and_check(page, query, t_ms).await?;

    // Step back: one event earlier, and the counters of a fresh run stepped that far.
    let events = page
        .number_attr("[data-testid=time-travel]", "data-events")
        .await? as u64;
    page.click("[data-testid=step-back]").await?;
    page.wait_until("the dashboard is one event back", async || {
        let now = page
            .number_attr("[data-testid=time-travel]", "data-events")
            .await?;
        let mode = page.attr("[data-testid=time-travel]", "data-mode").await?;
        Ok(mode == "past" && now as u64 == events - 1)
    })
    .await?;
    let mut fresh = dsim_core::Simulation::new(&scenario_of(query));
    fresh.step(events - 1);
    expect_counters(page, &fresh, "after a step back").await?;
    page.scroll_to("[data-testid=time-travel]").await?;
    page.screenshot("time-travel.png").await?;

    // Back to live: the finished run's counters again.
    page.click("[data-testid=go-live]").await?;
    page.wait_until("the dashboard is live again", async || {
        Ok(page.attr("[data-testid=time-travel]", "data-mode").await? == "live")
    })
    .await?;
    let mut finished = dsim_core::Simulation::new(&scenario_of(query));
    finished.run_to_end();
    expect_counters(page, &finished, "back to live").await?;

    // A run in the worker: the page replays it to the instant asked for.
    let heavy = "mode=exactly-once&messages=60000&ack-loss=0.05&seed=2";
    page.open(&format!("/?{heavy}")).await?;
    page.wait_finished("[data-testid=progress]").await?;
    let live_ms = page
        .number_attr("[data-testid=time-travel]", "data-live-ms")
        .await?;
    scrub_and_check(page, heavy, (live_ms * 0.7).round()).await?;
    page.expect_no_csp_violations().await
}

/// The release page is two wasm modules (`cargo xtask split-page`): the one it starts from,
/// and the lower panels' chunk, which the full page fetches after it and an embedded view never.
async fn split_panels(page: &Page<'_>) -> Step {
    page.open("/").await?;
    page.wait_until("the comparison panel renders", async || {
        page.exists("[data-testid=compare-button]").await
    })
    .await?;
    let fetched = page.fetched(".wasm").await?;
    let [main, chunk] = fetched.as_slice() else {
        return Err(format!(
            "the full page fetched {fetched:?}, not its module and its panels' chunk"
        ));
    };
    if !main.ends_with("_bg.wasm") || !chunk.ends_with("_lower_panels.wasm") {
        return Err(format!(
            "the full page fetched {fetched:?}: its module should come first, then the panels"
        ));
    }
    page.expect_no_csp_violations().await?;

    page.open("/?embed=1&messages=2000").await?;
    page.wait_until("the embedded view renders", async || {
        page.exists("[data-testid=embed-root]").await
    })
    .await?;
    page.wait_finished("[data-testid=progress]").await?;
    let fetched = page.fetched(".wasm").await?;
    if fetched.len() != 1 || !fetched[0].ends_with("_bg.wasm") {
        return Err(format!(
            "the embedded view fetched {fetched:?}, not only its module"
        ));
    }
    Ok(())
}

/// axe-core (npm, pinned by `cargo xtask install`; `DSIM_AXE` names its `axe.min.js`) run in
/// the page as it is after a run: the full page with its lower panels, the compare view
/// with its table, and the embed. Any violation fails, named with its rule and first node.
async fn accessibility(page: &Page<'_>) -> Step {
    let axe_path = std::env::var_os("DSIM_AXE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            browser::repo_root().join(".tools/axe-core/node_modules/axe-core/axe.min.js")
        });
    let axe = std::fs::read_to_string(&axe_path).map_err(|e| {
        format!(
            "cannot read axe-core at {} (cargo xtask install puts it there; DSIM_AXE names another): {e}",
            axe_path.display()
        )
    })?;

    page.open("/?messages=2000").await?;
    page.wait_finished("[data-testid=progress]").await?;
    page.wait_until("the lower panels load", async || {
        page.exists("[data-testid=compare-button]").await
    })
    .await?;
    // Folded groups of settings are checked too: axe skips what is not displayed.
    page.js(
        "document.querySelectorAll('details').forEach(d => { d.open = true; }); return true;",
        vec![],
    )
    .await?;
    page.axe(&axe, "the full page, every group unfolded")
        .await?;

    page.click("[data-testid=compare-button]").await?;
    page.wait_until("the compare table has a row per mode", async || {
        let rows = page
            .js("return document.querySelectorAll('[data-testid=compare-table] tr[data-mode]').length;", vec![])
            .await?;
        Ok(rows.as_u64() == Some(5))
    })
    .await?;
    page.axe(&axe, "the compare view").await?;

    page.open("/?embed=1&messages=2000").await?;
    page.wait_until("the embedded view renders", async || {
        page.exists("[data-testid=embed-root]").await
    })
    .await?;
    page.wait_finished("[data-testid=progress]").await?;
    page.axe(&axe, "the embed").await?;
    page.expect_no_csp_violations().await
}

/// Serves a copy of `dist/` without the panels' chunk, as after a failed fetch: the
/// dashboard still runs and the page says the panels did not load. Then the chunk is put
/// back and Try again brings the panels in, in the same page.
async fn panels_fail_then_load(page: &Page<'_>) -> Step {
    let (copy, held_back) =
        dist_copy_without("panels", |name| name.ends_with("_lower_panels.wasm"))?;
    let [(chunk, chunk_in_copy)] = held_back.as_slice() else {
        return Err(format!(
            "dist/ should have one *_lower_panels.wasm (is it split?), not {held_back:?}"
        ));
    };
    let other = Page {
        client: page.client,
        base: format!("http://127.0.0.1:{}", browser::serve(copy.clone())),
        shots: Vec::new(),
        downloads: page.downloads,
    };
    let outcome = async {
        other.open("/?messages=3000").await?;
        other
            .wait_until("the page says the panels did not load", async || {
                other.exists("[data-testid=panels-failed]").await
            })
            .await?;
        other.wait_finished("[data-testid=progress]").await?;
        let produced = other.counter("produced").await? as f64;
        if produced != 3000.0 {
            return Err(format!("the dashboard shows {produced} produced of 3000"));
        }
        std::fs::copy(chunk, chunk_in_copy).map_err(|e| format!("copy the chunk: {e}"))?;
        other.click("[data-testid=panels-failed] button").await?;
        other
            .wait_until("the panels load after Try again", async || {
                Ok(other.exists("[data-testid=compare-button]").await?
                    && !other.exists("[data-testid=panels-failed]").await?)
            })
            .await
    }
    .await;
    let _ = std::fs::remove_dir_all(&copy);
    outcome
}

/// A copy of `dist/` in a fresh temporary folder, without the files `hold_back` names: with
/// the copy, each held-back file and where it would go in the copy.
fn dist_copy_without(
    purpose: &str,
    hold_back: impl Fn(&str) -> bool,
) -> Result<
    (
        std::path::PathBuf,
        Vec<(std::path::PathBuf, std::path::PathBuf)>,
    ),
    String,
> {
    let dist = browser::dist();
    let copy = std::env::temp_dir().join(format!("dsim-e2e-{purpose}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(&copy).map_err(|e| format!("create {}: {e}", copy.display()))?;
    let mut held_back = Vec::new();
    for entry in std::fs::read_dir(&dist).map_err(|e| format!("list {}: {e}", dist.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path.file_name().unwrap_or_default().to_owned();
        if !path.is_file() {
            continue;
        }
        if hold_back(&name.to_string_lossy()) {
            held_back.push((path.clone(), copy.join(&name)));
            continue;
        }
        std::fs::copy(&path, copy.join(&name)).map_err(|e| format!("copy {name:?}: {e}"))?;
    }
    Ok((copy, held_back))
}

/// The page before its wasm arrives: a copy of `dist/` without any wasm shows index.html as
/// it is, the prerendered first paint (`cargo xtask prerender`). It shows the default
/// scenario's counters, ledger and badge, and they read exactly as the app shows them once it
/// runs and has taken the copy's place. A link with a query never shows the copy (its
/// numbers are the default scenario's), and a few presets load by name.
async fn first_paint(page: &mut Page<'_>) -> Step {
    const TEXTS: &str = "const root = arguments[0] \
        ? document.querySelector('#prerendered') \
        : document.querySelector('[data-testid=app-root]'); \
        if (!root) return null; \
        const text = (s) => { const e = root.querySelector(s); return e ? e.innerText : null; }; \
        return [text('.counters'), text('.ledger-sentence'), text('.summary'), \
                root.querySelectorAll('.chart svg path, .chart svg polyline').length];";
    let (copy, wasm) = dist_copy_without("no-wasm", |name| name.ends_with(".wasm"))?;
    if wasm.is_empty() {
        return Err("dist/ has no .wasm file to hold back".into());
    }
    let before_wasm = Page {
        client: page.client,
        base: format!("http://127.0.0.1:{}", browser::serve(copy.clone())),
        shots: Vec::new(),
        downloads: page.downloads,
    };
    let outcome = async {
        before_wasm.open_as_served("/").await?;
        let shell = before_wasm.js(TEXTS, vec![json!(true)]).await?;
        if shell.is_null() {
            return Err("index.html has no #prerendered first paint".into());
        }
        if before_wasm.exists("[data-testid=app-root]").await? {
            return Err("the app runs although no wasm was served".into());
        }
        let counters = shell[0].as_str().unwrap_or_default();
        let produced = counters
            .lines()
            .filter_map(browser::axis::grouped_count)
            .next()
            .unwrap_or(0);
        if produced == 0 || shell[3].as_u64().unwrap_or(0) == 0 {
            return Err(format!(
                "the first paint shows no run: counters {counters:?}, {} chart lines",
                shell[3]
            ));
        }
        before_wasm.look("first-paint.png").await?;
        page.resize(PHONE).await?;
        before_wasm.look("first-paint-phone.png").await?;
        page.resize(WINDOW).await?;

        before_wasm.open_as_served("/?preset=dual-write").await?;
        let shown = before_wasm
            .js(
                "const s = document.querySelector('#prerendered'); \
                 return s ? getComputedStyle(s).display : 'none';",
                vec![],
            )
            .await?;
        if shown != json!("none") {
            return Err(format!(
                "a link with a query shows the default run's first paint (display {shown})"
            ));
        }
        Ok(shell)
    }
    .await;
    let _ = std::fs::remove_dir_all(&copy);
    let shell = outcome?;

    page.open("/").await?;
    page.wait_finished("[data-testid=progress]").await?;
    let app = page.js(TEXTS, vec![json!(false)]).await?;
    for (i, what) in ["counters", "ledger sentence", "summary"]
        .iter()
        .enumerate()
    {
        if app[i] != shell[i] {
            return Err(format!(
                "the first paint's {what} read {} but the running app's {}",
                shell[i], app[i]
            ));
        }
    }
    page.expect_no_csp_violations().await?;

    // A preset by name: its mode and broker pressed, each number it sets in its field, its
    // button marked as the one chosen, and the run finished on it.
    for preset in ["dual-write", "exactly-once-trap", "rabbitmq-auto-ack-crash"] {
        let want = dsim_core::presets()
            .iter()
            .find(|p| p.key == preset)
            .ok_or_else(|| format!("no preset {preset}"))?;
        let scenario = want.scenario().map_err(|e| e.to_string())?;
        page.open(&format!("/?preset={preset}")).await?;
        page.wait_finished("[data-testid=progress]").await?;
        page.expect_pressed(&format!("mode-{}", scenario.mode.key()))
            .await?;
        page.expect_pressed(&format!("broker-{}", scenario.broker.key()))
            .await?;
        page.expect_pressed(&format!("preset-{preset}")).await?;
        for pair in want.query.split('&') {
            let (key, _) = pair.split_once('=').unwrap_or((pair, ""));
            let Some(knob) = dsim_core::knobs().iter().find(|k| k.key == key) else {
                continue;
            };
            let field = format!("[data-testid=knob-{key}-number]");
            if !page.exists(&field).await? {
                continue;
            }
            let shown = page.value(&field).await?;
            let wanted = dsim_core::knobs::format_number(knob.get(&scenario));
            if shown != wanted {
                return Err(format!(
                    "?preset={preset} shows {key} = {shown:?}, not the preset's {wanted:?}"
                ));
            }
        }
    }
    Ok(())
}

/// The run the first step opens: at-least-once, where lost publish acks make duplicates.
const DEFAULT_QUERY: &str =
    "mode=at-least-once&publish-ack-loss=0.1&seed=7&messages=3000&producer-idempotence=off";

/// The scenario in a page's address: its knobs, without the page's own keys (view, embed...).
fn scenario_in(url: &str) -> Result<dsim_core::Scenario, String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or_default();
    let knobs: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or_default();
            dsim_core::knobs().iter().any(|k| k.key == key)
        })
        .collect();
    let (scenario, errors) = dsim_core::Scenario::from_query(&knobs.join("&"), &[]);
    if errors.is_empty() {
        Ok(scenario)
    } else {
        Err(format!("the address {url} holds bad values: {errors:?}"))
    }
}

/// What a log slider's position stands for before the page rounds it to two significant
/// digits: 200 positions, position 1 at 0.0001 and 200 at 1 (`slider_scale`'s documented
/// scale for a fault rate).
fn log_slider_value(position: f64) -> f64 {
    let t = ((position - 1.0) / 199.0).clamp(0.0, 1.0);
    1e-4 * 1e4f64.powf(t)
}

/// A person drags the publish-ack-loss slider up from zero with the mouse and moves the
/// consumers slider one step with the arrow key: each time the field beside the slider, the
/// address and the rerun's counters (as shown, and against a fresh run of that scenario) follow.
async fn sliders(page: &Page<'_>) -> Step {
    let query = "mode=at-least-once&messages=2000&seed=11&producer-idempotence=off";
    page.open(&format!("/?{query}")).await?;
    page.wait_finished("[data-testid=progress]").await?;
    if page.counter("duplicates").await? != 0 {
        return Err("duplicates before any fault: the scenario is not the one meant".into());
    }

    let slider = "[data-testid=knob-publish-ack-loss]";
    let geometry = page
        .js(
            "const e = document.querySelector(arguments[0]); \
             e.scrollIntoView({block: 'center', behavior: 'instant'}); \
             const r = e.getBoundingClientRect(); \
             return {left: r.left, width: r.width, y: r.top + r.height / 2, position: Number(e.value)};",
            vec![json!(slider)],
        )
        .await?;
    let number = |k: &str| geometry[k].as_f64().ok_or(format!("no {k} in {geometry}"));
    let (left, width, y) = (number("left")?, number("width")?, number("y")?);
    if number("position")? != 0.0 {
        return Err(format!("the slider does not start at zero: {geometry}"));
    }
    // The thumb rests at the left end; grab it there and drag it 60 % of the way.
    let (grab, drop_at) = ((left + 4.0).round(), (left + 0.6 * width).round());
    page.pointer(vec![
        PointerAction::MoveTo {
            duration: None,
            x: grab,
            y: y.round(),
        },
        PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        },
        PointerAction::MoveTo {
            duration: Some(Duration::from_millis(300)),
            x: drop_at,
            y: y.round(),
        },
        PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        },
    ])
    .await?;
    page.wait_until("the address records the dragged value", async || {
        Ok(page.url().await?.contains("publish-ack-loss="))
    })
    .await?;
    page.wait_finished("[data-testid=progress]").await?;
    // Where the pointer let go, as a position: the thumb's width (not known here, under 24 px
    // in any stylesheet the page has had) shifts it a little either way.
    let fraction = |thumb: f64| ((drop_at - left - thumb / 2.0) / (width - thumb)).clamp(0.0, 1.0);
    let (low, high) = (
        fraction(24.0).min(fraction(0.0)),
        fraction(0.0).max(fraction(24.0)),
    );
    let (p_low, p_high) = ((low * 200.0).floor() - 1.0, (high * 200.0).ceil() + 1.0);
    let position: f64 = page
        .value(slider)
        .await?
        .parse()
        .map_err(|_| "the slider has no numeric position".to_string())?;
    if !(p_low..=p_high).contains(&position) {
        return Err(format!(
            "the pointer let go at {:.0} % of the slider, but it sits at position {position} of 200",
            (drop_at - left) / width * 100.0
        ));
    }
    let dragged = expect_knob_shown(page, "publish-ack-loss").await?;
    let (v_low, v_high) = (
        log_slider_value(p_low) * 0.95,
        log_slider_value(p_high) * 1.05,
    );
    if !(v_low..=v_high).contains(&dragged) {
        return Err(format!(
            "the dragged slider set publish-ack-loss to {dragged}, not within {v_low:.4}-{v_high:.4}"
        ));
    }
    let after_drag = expect_rerun_of_address(page, "after the drag").await?;
    if after_drag.duplicates == 0 {
        return Err(format!(
            "no duplicates at publish-ack-loss {dragged}: the drag made no difference"
        ));
    }

    // The arrow key moves a linear slider by one step, the whole number of consumers.
    let consumers = expect_knob_shown(page, "consumers").await?;
    page.element("[data-testid=knob-consumers]")
        .await?
        .send_keys("\u{E014}")
        .await
        .map_err(|e| format!("press ArrowRight on the consumers slider: {e}"))?;
    let want = consumers + 1.0;
    page.wait_until("the address records one more consumer", async || {
        Ok(page.url().await?.contains(&format!("consumers={want}")))
    })
    .await?;
    page.wait_finished("[data-testid=progress]").await?;
    let shown = expect_knob_shown(page, "consumers").await?;
    if shown != want {
        return Err(format!(
            "ArrowRight took the consumers from {consumers} to {shown}, not {want}"
        ));
    }
    let after_key = expect_rerun_of_address(page, "after ArrowRight").await?;
    if after_key == after_drag {
        return Err(
            "one more consumer changes none of the counters: pick a scenario where it does".into(),
        );
    }
    page.expect_no_csp_violations().await
}

/// The value of `key` as the field beside its slider shows it, after checking that the
/// slider's spoken value and the address say the same.
async fn expect_knob_shown(page: &Page<'_>, key: &str) -> Result<f64, String> {
    let field = page
        .value(&format!("[data-testid=knob-{key}-number]"))
        .await?;
    let shown: f64 = field
        .trim()
        .parse()
        .map_err(|_| format!("the {key} field shows {field:?}"))?;
    let spoken = page
        .attr(&format!("[data-testid=knob-{key}]"), "aria-valuetext")
        .await?;
    let spoken_value = spoken
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .parse::<f64>();
    if spoken_value != Ok(shown) {
        return Err(format!(
            "the {key} field shows {field:?}, its slider says {spoken:?}"
        ));
    }
    let scenario = scenario_in(&page.url().await?)?;
    let knob = dsim_core::knob(key).ok_or_else(|| format!("no knob {key}"))?;
    let running = knob.get(&scenario);
    if running != shown {
        return Err(format!(
            "the {key} field shows {shown}, the address runs {running}"
        ));
    }
    Ok(shown)
}

/// The counters a fresh run of the scenario in the page's address ends with, checked against
/// what the page shows.
async fn expect_rerun_of_address(page: &Page<'_>, when: &str) -> Result<dsim_core::Report, String> {
    let scenario = scenario_in(&page.url().await?)?;
    let mut fresh = dsim_core::Simulation::new(&scenario);
    fresh.run_to_end();
    expect_counters(page, &fresh, when).await?;
    Ok(fresh.report())
}

/// Copy link on a page whose scenario differs from the defaults in several knobs, then the
/// copied address in a fresh page: the same controls, the same counters.
async fn copy_link(page: &Page<'_>) -> Step {
    page.open("/?mode=outbox&publish-ack-loss=0.02&consumers=5&seed=13&messages=2500")
        .await?;
    page.wait_finished("[data-testid=progress]").await?;
    let address = page.url().await?;
    let scenario = scenario_in(&address)?;
    let counters = page.counters().await?;
    page.click("[data-testid=copy-link]").await?;
    page.wait_until("the page says what it copied", async || {
        page.exists("[data-testid=share-feedback]").await
    })
    .await?;
    let feedback = page
        .js(
            "return document.querySelector('[data-testid=share-feedback]').innerText;",
            vec![],
        )
        .await?;
    let feedback = feedback.as_str().unwrap_or_default().to_string();
    let link = if feedback.starts_with("Link copied") {
        println!("Copy link wrote to the clipboard; pasted it with Ctrl+V");
        page.paste().await?
    } else if page.exists("[data-testid=share-text]").await? {
        // The clipboard refused, so the page shows the link to copy by hand.
        println!("Copy link could not use the clipboard ({feedback:?}); read its field");
        page.value("[data-testid=share-text]").await?
    } else {
        return Err(format!("Copy link said {feedback:?} and showed no link"));
    };
    if !link.starts_with(&page.base) {
        return Err(format!(
            "Copy link gave {link:?}, not an address of this page"
        ));
    }
    if scenario_in(&link)? != scenario {
        return Err(format!(
            "Copy link gave {link}, which runs another scenario than {address}"
        ));
    }
    page.client
        .goto("about:blank")
        .await
        .map_err(|e| format!("leave the page: {e}"))?;
    tokio::time::timeout(WAIT, page.client.goto(&link))
        .await
        .map_err(|_| format!("{link} did not load within {WAIT:?}"))?
        .map_err(|e| format!("cannot load {link}: {e}"))?;
    page.wait_finished("[data-testid=progress]").await?;
    page.expect_pressed(&format!("mode-{}", scenario.mode.key()))
        .await?;
    for key in ["publish-ack-loss", "consumers"] {
        let knob = dsim_core::knob(key).ok_or_else(|| format!("no knob {key}"))?;
        let shown = expect_knob_shown(page, key).await?;
        if shown != knob.get(&scenario) {
            return Err(format!(
                "the copied link's page shows {key} {shown}, the page copied from {}",
                knob.get(&scenario)
            ));
        }
    }
    let again = page.counters().await?;
    if again != counters {
        return Err(format!(
            "the copied link's page counts {again:?}, the page copied from {counters:?}"
        ));
    }
    page.expect_no_csp_violations().await
}

/// The pointer over the duplicates chart at a time bucket chosen from the run's own series
/// (mapped to a pixel through the chart's time axis): the tooltip names that bucket and its
/// counts.
async fn tooltip(page: &Page<'_>) -> Step {
    page.open(&format!("/?{DEFAULT_QUERY}")).await?;
    page.wait_finished("[data-testid=progress]").await?;
    let report = dsim_core::simulate(&scenario_of(DEFAULT_QUERY)).map_err(|e| e.to_string())?;
    let s = &report.series;
    let dups = &s.duplicates_cumulative;
    // A bucket past the middle where the count moved on both sides, so that the bucket next
    // door would show another number.
    let i = (s.t_ms.len() / 2..s.t_ms.len() - 1)
        .find(|&i| dups[i - 1] < dups[i] && dups[i] < dups[i + 1])
        .ok_or("no bucket where the duplicates rise on both sides")?;
    page.scroll_to("[data-testid=chart-dup-loss]").await?;
    let chart = page.chart_geometry("chart-dup-loss").await?;
    let per = chart.time_unit_ms()?;
    let x = chart.x.pixel((s.t_ms[i] + s.bucket_ms / 2.0) / per);
    let (client_x, client_y) = chart.client(x, (chart.frame_top + chart.frame_bottom) / 2.0);
    page.pointer(vec![PointerAction::MoveTo {
        duration: None,
        x: client_x.round(),
        y: client_y.round(),
    }])
    .await?;
    let tip = "[data-testid=chart-dup-loss] .tooltip";
    page.wait_until("the tooltip shows", async || page.exists(tip).await)
        .await?;
    let read = page
        .js(
            "const t = document.querySelector(arguments[0]); const r = t.getBoundingClientRect(); \
             return {title: t.querySelector('.tooltip-title').innerText, \
                     rows: [...t.querySelectorAll('li')].map(l => l.innerText), \
                     seen: r.width > 0 && r.height > 0};",
            vec![json!(tip)],
        )
        .await?;
    if read["seen"] != json!(true) {
        return Err(format!("the tooltip takes no room on the screen: {read}"));
    }
    let title = read["title"].as_str().unwrap_or_default();
    let (from, to) = title
        .trim_end_matches(|c: char| c.is_alphabetic() || c == ' ')
        .split_once('–')
        .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)))
        .ok_or_else(|| format!("the tooltip's title is {title:?}, not a time span"))?;
    let near = |shown: f64, ms: f64| (shown * per - ms).abs() < s.bucket_ms / 2.0;
    if !near(from, s.t_ms[i]) || !near(to, s.t_ms[i] + s.bucket_ms) {
        return Err(format!(
            "the pointer is over the bucket from {} ms, the tooltip says {title:?}",
            s.t_ms[i]
        ));
    }
    let rows: Vec<&str> = read["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for (name, want) in [("duplicates", dups[i]), ("lost", s.lost_cumulative[i])] {
        let shown = rows
            .iter()
            .find_map(|r| r.strip_prefix(&format!("{name}: ")))
            .and_then(browser::axis::grouped_count);
        if shown != Some(want) {
            return Err(format!(
                "over {title}, the tooltip reads {rows:?}; the run has {want} {name} there"
            ));
        }
    }
    page.expect_no_csp_violations().await
}

/// Every download of a run, saved by the browser and read back: the history and the metrics
/// against the core's report of the same scenario, the chart's SVG point by point through its
/// own axes, and its PNG at twice the SVG's size with the line where the SVG draws it.
async fn downloads(page: &Page<'_>) -> Step {
    page.open(&format!("/?{DEFAULT_QUERY}")).await?;
    page.wait_finished("[data-testid=progress]").await?;
    let scenario = scenario_of(DEFAULT_QUERY);
    let report = dsim_core::simulate(&scenario).map_err(|e| e.to_string())?;

    let history = page
        .download(
            "[data-testid=download-history]",
            "dsim-at-least-once-seed-7-history.jsonl",
        )
        .await?;
    check_history(&history, &scenario, &report)?;

    let metrics = page
        .download(
            "[data-testid=download-metrics]",
            "dsim-at-least-once-seed-7-metrics.csv",
        )
        .await?;
    check_metrics(&metrics, &report)?;

    let svg = page
        .download("[data-testid=chart-dup-loss-svg]", "chart-dup-loss.svg")
        .await?;
    let svg = String::from_utf8(svg).map_err(|_| "the SVG is not UTF-8".to_string())?;
    let last_point = check_dup_loss_svg(&svg, &report)?;

    let png = page
        .download("[data-testid=chart-dup-loss-png]", "chart-dup-loss.png")
        .await?;
    let (width, height) = browser::saved::png_size(&png)?;
    let file = browser::saved::tags(&svg, "svg");
    let svg_size = file
        .first()
        .map(|t| Ok::<_, String>((t.number("width")?, t.number("height")?)))
        .ok_or("the SVG has no <svg>")??;
    if (f64::from(width), f64::from(height)) != (svg_size.0 * 2.0, svg_size.1 * 2.0) {
        return Err(format!(
            "the PNG is {width}×{height}, not twice the SVG's {}×{}",
            svg_size.0, svg_size.1
        ));
    }
    // Decoded by the browser, the picture has the duplicates' colour (#d97706 in the file's
    // style) where the SVG ends that line.
    let (px, py) = ((last_point.0 * 2.0).round(), (last_point.1 * 2.0).round());
    let pixels = page
        .client
        .execute_async(
            "const [bytes, x, y] = arguments; const done = arguments[arguments.length - 1]; \
             createImageBitmap(new Blob([new Uint8Array(bytes)], {type: 'image/png'})).then(img => { \
               const c = new OffscreenCanvas(img.width, img.height); const g = c.getContext('2d'); \
               g.drawImage(img, 0, 0); const d = g.getImageData(x - 4, y - 4, 9, 9).data; \
               const px = []; for (let i = 0; i < d.length; i += 4) px.push([d[i], d[i + 1], d[i + 2]]); \
               done({width: img.width, height: img.height, px}); \
             }, e => done({error: String(e)}));",
            vec![json!(png), json!(px), json!(py)],
        )
        .await
        .map_err(|e| format!("decode the PNG in the browser: {e}"))?;
    if pixels["width"] != json!(width) || pixels["height"] != json!(height) {
        return Err(format!("the browser decodes the PNG as {pixels:.200}"));
    }
    let orange = pixels["px"].as_array().into_iter().flatten().any(|p| {
        let c: Vec<i64> = p
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_i64)
            .collect();
        c.len() == 3 && (c[0] - 217).abs() < 40 && (c[1] - 119).abs() < 40 && (c[2] - 6).abs() < 40
    });
    if !orange {
        return Err(format!(
            "the PNG has no duplicates line at ({px}, {py}), where the SVG ends it"
        ));
    }
    page.expect_no_csp_violations().await
}

/// The history file: the core's bytes for the scenario, and read event by event, the report's
/// payments applied, unique and duplicated.
fn check_history(bytes: &[u8], scenario: &dsim_core::Scenario, r: &dsim_core::Report) -> Step {
    let text = std::str::from_utf8(bytes).map_err(|_| "the history is not UTF-8".to_string())?;
    let want = dsim_core::export::history_json_lines(scenario).map_err(|e| e.to_string())?;
    if text != want {
        return Err(format!(
            "the saved history ({} bytes) is not the core's history of the run ({} bytes)",
            text.len(),
            want.len()
        ));
    }
    let mut applied = std::collections::BTreeMap::<u64, u64>::new();
    for (n, line) in text.lines().enumerate() {
        let event: Value = serde_json::from_str(line)
            .map_err(|e| format!("history line {} is not JSON: {e}", n + 1))?;
        if event["kind"] == "processed" {
            let message = event["message"]
                .as_u64()
                .ok_or_else(|| format!("history line {} has no message", n + 1))?;
            *applied.entry(message).or_default() += 1;
        }
    }
    let total: u64 = applied.values().sum();
    let unique = applied.len() as u64;
    let extra: u64 = applied.values().map(|n| n - 1).sum();
    if (total, unique, extra) != (r.side_effects, r.unique_processed, r.duplicates) {
        return Err(format!(
            "the history applies {total} payments ({unique} unique, {extra} again); \
             the report says {} ({} unique, {} duplicates)",
            r.side_effects, r.unique_processed, r.duplicates
        ));
    }
    Ok(())
}

/// The metrics file: a row per bucket of the report's series, every number the same, ending
/// at the report's duplicates and losses.
fn check_metrics(bytes: &[u8], r: &dsim_core::Report) -> Step {
    let text = std::str::from_utf8(bytes).map_err(|_| "the metrics are not UTF-8".to_string())?;
    let rows = browser::saved::csv(text)?;
    let s = &r.series;
    if rows.len() != s.t_ms.len() {
        return Err(format!(
            "the metrics have {} rows, the report {} buckets",
            rows.len(),
            s.t_ms.len()
        ));
    }
    let num = |row: &std::collections::BTreeMap<String, String>, key: &str| {
        row.get(key)
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or_else(|| format!("no number {key} in {row:?}"))
    };
    for (i, row) in rows.iter().enumerate() {
        let want = [
            ("t_ms", s.t_ms[i]),
            ("throughput_per_s", s.throughput_per_s[i]),
            ("applied", s.applied[i] as f64),
            ("duplicates_cumulative", s.duplicates_cumulative[i] as f64),
            ("lost_cumulative", s.lost_cumulative[i] as f64),
        ];
        for (key, want) in want {
            if num(row, key)? != want {
                return Err(format!(
                    "metrics row {i}: {key} is {}, the report {want}",
                    row[key]
                ));
            }
        }
    }
    let last = rows.last().ok_or("the metrics have no rows")?;
    let ends = (
        num(last, "duplicates_cumulative")? as u64,
        num(last, "lost_cumulative")? as u64,
    );
    if ends != (r.duplicates, r.lost) {
        return Err(format!(
            "the metrics end at {ends:?} duplicates and losses, the report at {:?}",
            (r.duplicates, r.lost)
        ));
    }
    Ok(())
}

/// The saved duplicates chart: its duplicates line has a point per bucket, each where the
/// file's own axes put that bucket's count. Gives the line's last point in the file's
/// coordinates (the plot's, shifted down by the file's header).
fn check_dup_loss_svg(svg: &str, r: &dsim_core::Report) -> Result<(f64, f64), String> {
    use browser::saved::{path_points, tags};
    let header = tags(svg, "g")
        .iter()
        .find_map(|g| {
            g.attr("transform")?
                .strip_prefix("translate(0 ")?
                .strip_suffix(')')?
                .parse::<f64>()
                .ok()
        })
        .ok_or("the SVG has no translated plot group")?;
    let texts = tags(svg, "text");
    let x_ticks: Vec<(f64, String)> = texts
        .iter()
        .filter(|t| t.has_class("tick") && t.attr("text-anchor") == Some("middle"))
        .map(|t| Ok((t.number("x")?, t.text.clone())))
        .collect::<Result<_, String>>()?;
    let y_labels: Vec<String> = texts
        .iter()
        .filter(|t| t.has_class("tick") && t.attr("text-anchor") == Some("end"))
        .map(|t| t.text.clone())
        .collect();
    let grid: Vec<f64> = tags(svg, "line")
        .iter()
        .filter(|l| l.has_class("grid"))
        .map(|l| l.number("y1"))
        .collect::<Result<_, _>>()?;
    if grid.len() != y_labels.len() {
        return Err(format!(
            "the SVG has {} grid lines for {} y labels",
            grid.len(),
            y_labels.len()
        ));
    }
    let x_axis = browser::axis::Axis::from_ticks(&x_ticks)?;
    let y_axis =
        browser::axis::Axis::from_ticks(&grid.into_iter().zip(y_labels).collect::<Vec<_>>())?;
    let per = if texts.iter().any(|t| t.text == "simulated time (s)") {
        1000.0
    } else {
        1.0
    };
    let line = tags(svg, "path")
        .into_iter()
        .find(|p| p.has_class("s-dup"))
        .ok_or("the SVG has no duplicates line")?;
    let points = path_points(line.attr("d").unwrap_or_default())?;
    let s = &r.series;
    if points.len() != s.t_ms.len() {
        return Err(format!(
            "the SVG's duplicates line has {} points, the report {} buckets",
            points.len(),
            s.t_ms.len()
        ));
    }
    let x_max_ms = s.t_ms.last().map_or(0.0, |t| t + s.bucket_ms);
    for (i, &(x, y)) in points.iter().enumerate() {
        let mid = ((s.t_ms[i] + s.bucket_ms / 2.0).min(x_max_ms)) / per;
        let want = (
            x_axis.pixel(mid),
            y_axis.pixel(s.duplicates_cumulative[i] as f64),
        );
        // The file writes a tenth of a unit; the axis labels are exact round numbers.
        if (want.0 - x).abs() > 0.3 || (want.1 - y).abs() > 0.3 {
            return Err(format!(
                "the SVG draws bucket {i} ({} duplicates) at ({x}, {y}); its axes put it at ({:.1}, {:.1})",
                s.duplicates_cumulative[i], want.0, want.1
            ));
        }
    }
    let &(x, y) = points.last().expect("a point per bucket");
    Ok((x, y + header))
}

/// The sweep's table as saved: a row per value and mode, each estimate the core's to the bit.
fn check_sweep_csv(bytes: &[u8], expected: &dsim_core::SweepResult) -> Step {
    let text = std::str::from_utf8(bytes).map_err(|_| "the sweep CSV is not UTF-8".to_string())?;
    let rows = browser::saved::csv(text)?;
    let want_rows: usize = expected.points.iter().map(|p| p.modes.len()).sum();
    if rows.len() != want_rows {
        return Err(format!(
            "the sweep CSV has {} rows, the sweep {want_rows} points × modes",
            rows.len()
        ));
    }
    let mut rows = rows.iter();
    for point in &expected.points {
        for m in &point.modes {
            let row = rows.next().expect("counted");
            let num = |key: &str| {
                row.get(key)
                    .and_then(|v| v.parse::<f64>().ok())
                    .ok_or_else(|| format!("no number {key} in {row:?}"))
            };
            if row.get("mode").map(String::as_str) != Some(m.mode.key())
                || num("value")? != point.value
                || num("runs")? != m.runs as f64
            {
                return Err(format!(
                    "a sweep CSV row is {row:?}, the sweep has {} at {} over {} runs",
                    m.mode.key(),
                    point.value,
                    m.runs
                ));
            }
            for (key, e) in [
                ("duplicates_per_message", m.duplicates_per_message),
                ("lost_per_message", m.lost_per_message),
                ("latency_p99_ms", m.latency_p99_ms),
                ("throughput_per_s", m.throughput_per_s),
            ] {
                let got = (
                    num(key)?,
                    num(&format!("{key}_low"))?,
                    num(&format!("{key}_high"))?,
                );
                if got != (e.mean, e.low, e.high) {
                    return Err(format!(
                        "the sweep CSV has {key} {got:?} for {} at {}, the core {e:?}",
                        m.mode.key(),
                        point.value
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A chart as drawn on the page: its axes read from the tick labels, its frame, and where its
/// SVG sits on the screen.
struct ChartGeometry {
    x: browser::axis::Axis,
    y: browser::axis::Axis,
    x_title: String,
    frame_top: f64,
    frame_bottom: f64,
    view_box: (f64, f64),
    rect: (f64, f64, f64, f64),
}

impl ChartGeometry {
    /// Milliseconds per unit of a time axis, from its title.
    fn time_unit_ms(&self) -> Result<f64, String> {
        match self.x_title.as_str() {
            "simulated time (s)" => Ok(1000.0),
            "simulated time (ms)" => Ok(1.0),
            other => Err(format!("the x axis is {other:?}, not simulated time")),
        }
    }

    /// A point in the chart's own units, on the screen.
    fn client(&self, x: f64, y: f64) -> (f64, f64) {
        let (left, top, width, height) = self.rect;
        (
            left + x / self.view_box.0 * width,
            top + y / self.view_box.1 * height,
        )
    }
}

/// Marks a worker sends on, receives from and is stopped by, in the order they happen, from
/// now on: `Worker.prototype` is wrapped, so the page's own workers (made by its wasm) are
/// seen too. The test adds `cancel` and `next` marks of its own.
const WORKER_SPY: &str = "if (!window.__spy) { \
       window.__spy = {workers: [], log: []}; \
       const P = Worker.prototype, post = P.postMessage, stop = P.terminate; \
       const id = w => { let i = __spy.workers.indexOf(w); \
         if (i < 0) { i = __spy.workers.push(w) - 1; \
           w.addEventListener('message', () => __spy.log.push({worker: i, what: 'reply'})); } \
         return i; }; \
       P.postMessage = function (...a) { __spy.log.push({worker: id(this), what: 'job'}); return post.apply(this, a); }; \
       P.terminate = function () { __spy.log.push({worker: id(this), what: 'stop'}); return stop.apply(this); }; \
     }";

/// Whether Cancel stopped the worker that had the job: the spy's log, with a `cancel` mark
/// where Cancel was clicked and a `next` mark where the next job was asked for, must show the
/// busy worker stopped at Cancel, no reply from it after the stop, and the next job sent to
/// another worker: it does not queue behind the cancelled computation.
async fn expect_cancelled_worker_stopped(page: &Page<'_>) -> Step {
    let log = page.js("return window.__spy.log;", vec![]).await?;
    let log: Vec<(i64, String)> = log
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["worker"].as_i64().unwrap_or(-1),
                e["what"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let at = |mark: &str| log.iter().position(|(_, w)| w == mark);
    let (Some(cancel), Some(next)) = (at("cancel"), at("next")) else {
        return Err(format!("the spy's log lacks the test's marks: {log:?}"));
    };
    let busy = log[..cancel]
        .iter()
        .rev()
        .find(|(_, w)| w == "job")
        .map(|(worker, _)| *worker)
        .ok_or_else(|| format!("no job was sent to a worker before Cancel: {log:?}"))?;
    let Some(stop) = log[cancel..next]
        .iter()
        .position(|e| *e == (busy, "stop".to_string()))
    else {
        return Err(format!(
            "Cancel did not stop worker {busy}, which had the job: {log:?}"
        ));
    };
    // A reply may come between the click and the page handling it; none after the stop.
    if log[cancel + stop..]
        .iter()
        .any(|e| *e == (busy, "reply".to_string()))
    {
        return Err(format!(
            "worker {busy} replied after Cancel stopped it: its computation went on ({log:?})"
        ));
    }
    let next_job = log[next..]
        .iter()
        .find(|(_, w)| w == "job")
        .map(|(worker, _)| *worker)
        .ok_or_else(|| format!("the next job was never sent to a worker: {log:?}"))?;
    if next_job == busy {
        return Err(format!(
            "the next job went to the cancelled worker {busy}: {log:?}"
        ));
    }
    Ok(())
}

fn scenario_of(query: &str) -> dsim_core::Scenario {
    let (scenario, errors) = dsim_core::Scenario::from_query(query, &[]);
    assert!(errors.is_empty(), "bad test query {query}: {errors:?}");
    scenario
}

/// Moves the scrubber to `t_ms` as a person's drag would (an `input` event), waits for the
/// position, and compares the counters and the in-flight view with the core's.
async fn scrub_and_check(page: &Page<'_>, query: &str, t_ms: f64) -> Step {
    page.js(
        "const e = document.querySelector('[data-testid=scrubber]'); \
         e.value = String(arguments[0]); \
         e.dispatchEvent(new Event('input', {bubbles: true}));",
        vec![json!(t_ms)],
    )
    .await?;
    page.wait_until("the scrubbed position is shown", async || {
        let mode = page.attr("[data-testid=time-travel]", "data-mode").await?;
        let at = page
            .number_attr("[data-testid=time-travel]", "data-t-ms")
            .await?;
        Ok(mode == "past" && (at - t_ms).abs() < 1e-6)
    })
    .await?;
    let mut fresh = dsim_core::Simulation::new(&scenario_of(query));
    fresh.advance_to((t_ms * 1000.0).round() as u64);
    expect_counters(page, &fresh, &format!("at {t_ms} ms")).await?;
    let in_flight = page
        .number_attr("[data-testid=in-flight]", "data-messages")
        .await?;
    let want = fresh.queue_state().messages_in_flight as f64;
    if in_flight != want {
        return Err(format!(
            "at {t_ms} ms the in-flight view shows {in_flight} messages, a fresh run {want}"
        ));
    }
    // Kafka's lag per partition at that instant: the log end offset minus the committed one.
    if fresh.scenario().broker == dsim_core::Broker::Kafka {
        let shown = page
            .js(
                "return Array.from(document.querySelectorAll('[data-testid=partition-lag]'))\
                 .map(e => e.innerText.replace(/,/g, ''));",
                vec![],
            )
            .await?;
        let want: Vec<String> = fresh
            .queue_state()
            .partitions
            .iter()
            .map(|p| (p.end - p.committed).to_string())
            .collect();
        if shown != json!(want) {
            return Err(format!(
                "at {t_ms} ms the in-flight table's lag column reads {shown}, a fresh run {want:?}"
            ));
        }
    }
    if !page.exists("[data-testid=chart-throughput-marker]").await? {
        return Err("no time marker on the throughput chart".into());
    }
    Ok(())
}

/// The big counters against a fresh run's report.
async fn expect_counters(page: &Page<'_>, fresh: &dsim_core::Simulation, when: &str) -> Step {
    let r = fresh.report();
    for (id, want) in [
        ("produced", r.produced),
        ("applied", r.side_effects),
        ("duplicates", r.duplicates),
        ("lost", r.lost),
        ("retries", r.retries),
        ("throughput", r.throughput_per_s.max(0.0).round() as u64),
    ] {
        let shown = page.counter(id).await?;
        if shown != want {
            return Err(format!(
                "{when}: the {id} counter shows {shown}, a fresh run stopped there {want}"
            ));
        }
    }
    let events = page
        .number_attr("[data-testid=time-travel]", "data-events")
        .await?;
    if events != r.events as f64 {
        return Err(format!(
            "{when}: the page is at event {events}, a fresh run at {}",
            r.events
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

/// chromedriver's own command for the browser's console log (`goog:loggingPrefs`).
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

/// The browser at the served `dist/`, with the screenshots taken so far.
struct Page<'a> {
    client: &'a Client,
    base: String,
    shots: Vec<(&'static str, Vec<u8>)>,
    /// Where the browser saves what the page offers as a file.
    downloads: &'a browser::saved::Downloads,
}

impl Page<'_> {
    /// Loads a page of the playground and waits until the app has taken over from the
    /// prerendered first paint (at once for a link with a query), so that what a step clicks
    /// is the app, not the hidden copy of it.
    async fn open(&self, path: &str) -> Step {
        self.open_as_served(path).await?;
        self.wait_until("the app takes over from the first paint", async || {
            Ok(!self.exists("#prerendered").await?)
        })
        .await
    }

    /// Loads a page and takes it as it comes.
    async fn open_as_served(&self, path: &str) -> Step {
        let url = format!("{}{path}", self.base);
        tokio::time::timeout(WAIT, self.client.goto(&url))
            .await
            .map_err(|_| format!("{url} did not load within {WAIT:?}"))?
            .map_err(|e| format!("cannot load {url}: {e}"))
    }

    /// The page's address now.
    async fn url(&self) -> Result<String, String> {
        self.client
            .current_url()
            .await
            .map(|u| u.to_string())
            .map_err(|e| e.to_string())
    }

    /// Moves the mouse (and presses its button) as a person would, through WebDriver's
    /// pointer actions: the browser makes the same events a real pointer does.
    async fn pointer(&self, actions: Vec<PointerAction>) -> Step {
        let mouse = actions
            .into_iter()
            .fold(MouseActions::new("mouse".into()), |m, a| m.then(a));
        self.client
            .perform_actions(mouse)
            .await
            .map_err(|e| format!("pointer actions failed: {e}"))
    }

    /// Every big counter, as a person reads it.
    async fn counters(&self) -> Result<Vec<(&'static str, u64)>, String> {
        let mut out = Vec::new();
        for id in [
            "produced",
            "applied",
            "duplicates",
            "lost",
            "retries",
            "throughput",
        ] {
            out.push((id, self.counter(id).await?));
        }
        Ok(out)
    }

    /// What the clipboard holds, pasted with Ctrl+V into a field the test adds for it: the
    /// way a person gets a copied link out, and the only one that needs no permission.
    async fn paste(&self) -> Result<String, String> {
        self.js(
            "const t = document.createElement('textarea'); t.id = 'e2e-paste'; \
             document.body.append(t);",
            vec![],
        )
        .await?;
        let field = self.element("#e2e-paste").await?;
        field
            .send_keys("\u{E009}v\u{E000}")
            .await
            .map_err(|e| format!("paste: {e}"))?;
        let text = self.value("#e2e-paste").await?;
        self.js("document.getElementById('e2e-paste').remove();", vec![])
            .await?;
        if text.is_empty() {
            return Err("Ctrl+V pasted nothing: the clipboard is empty".into());
        }
        Ok(text)
    }

    /// Clicks `button` and gives back the file the browser saved as `name`.
    async fn download(&self, button: &str, name: &str) -> Result<Vec<u8>, String> {
        self.downloads.clear(name);
        self.click(button).await?;
        self.downloads.wait_for(name, WAIT).await
    }

    /// The axes (from their labelled ticks), the frame and the screen rectangle of a chart.
    async fn chart_geometry(&self, testid: &str) -> Result<ChartGeometry, String> {
        let read = self
            .js(
                "const s = document.querySelector(`[data-testid=${arguments[0]}] svg:not(.overlay)`); \
                 if (!s) return null; \
                 const r = s.getBoundingClientRect(); const vb = s.viewBox.baseVal; \
                 const ticks = a => [...s.querySelectorAll(`text.tick[text-anchor=${a}]`)]; \
                 const axes = [...s.querySelectorAll('line.axis')]; \
                 return { \
                   x: ticks('middle').map(t => [Number(t.getAttribute('x')), t.textContent]), \
                   y: [...s.querySelectorAll('line.grid')].map((g, i) => [Number(g.getAttribute('y1')), ticks('end')[i]?.textContent]), \
                   title: s.querySelector('text.axis-title')?.textContent, \
                   top: Math.min(...axes.map(l => Number(l.getAttribute('y1')))), \
                   bottom: Number(axes[0]?.getAttribute('y1')), \
                   box: [vb.width, vb.height], rect: [r.left, r.top, r.width, r.height] };",
                vec![json!(testid)],
            )
            .await?;
        if read.is_null() {
            return Err(format!("no chart {testid}"));
        }
        let pairs = |key: &str| -> Result<Vec<(f64, String)>, String> {
            read[key]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| match (p[0].as_f64(), p[1].as_str()) {
                    (Some(at), Some(label)) => Ok((at, label.to_string())),
                    _ => Err(format!("{testid}: a tick reads {p}")),
                })
                .collect()
        };
        let number = |v: &Value| v.as_f64().ok_or_else(|| format!("{testid}: {read}"));
        Ok(ChartGeometry {
            x: browser::axis::Axis::from_ticks(&pairs("x")?)?,
            y: browser::axis::Axis::from_ticks(&pairs("y")?)?,
            x_title: read["title"].as_str().unwrap_or_default().to_string(),
            frame_top: number(&read["top"])?,
            frame_bottom: number(&read["bottom"])?,
            view_box: (number(&read["box"][0])?, number(&read["box"][1])?),
            rect: (
                number(&read["rect"][0])?,
                number(&read["rect"][1])?,
                number(&read["rect"][2])?,
                number(&read["rect"][3])?,
            ),
        })
    }

    /// The files this document has fetched whose names end with `ending`, in the order it
    /// asked for them.
    async fn fetched(&self, ending: &str) -> Result<Vec<String>, String> {
        let names = self
            .js(
                "return performance.getEntriesByType('resource') \
                   .map(e => new URL(e.name).pathname.split('/').pop()) \
                   .filter(n => n.endsWith(arguments[0]));",
                vec![json!(ending)],
            )
            .await?;
        Ok(names
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect())
    }

    async fn js(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
        self.client
            .execute(script, args)
            .await
            .map_err(|e| format!("script failed: {e}\n{script}"))
    }

    /// How far the page reaches past the screen's right edge, in px, and where: the document
    /// itself, and each part the stylesheet lets the browser skip while off screen
    /// (`content-visibility: auto`, on a phone's one column). Such a part contains its
    /// content's paint, so what is too wide for it is cut off instead of widening the page, and
    /// its overflow reads as nothing while it is skipped: each is drawn for the measure
    /// (`DRAWN_WHOLE`). `[]` when everything fits.
    async fn overflow(&self) -> Result<Value, String> {
        self.js(
            &[
                DRAWN_WHOLE,
                "const out = []; \
                 const doc = document.documentElement; \
                 if (doc.scrollWidth > doc.clientWidth) out.push(['page', doc.scrollWidth - doc.clientWidth]); \
                 drawnWhole(document, skipped => { \
                   for (const el of skipped) { \
                     const over = el.scrollWidth - el.clientWidth; \
                     if (over > 0) out.push([el.dataset.testid || el.className, over]); \
                   } \
                 }); \
                 return out;",
            ]
            .concat(),
            vec![],
        )
        .await
    }

    /// Sets the window's size (a phone's, `PHONE`, or the story's own, `WINDOW`).
    async fn resize(&self, (width, height): (u32, u32)) -> Step {
        self.client
            .set_window_size(width, height)
            .await
            .map_err(|e| format!("resize the window to {width}×{height}: {e}"))
    }

    /// Runs axe-core's rules over the document (WebDriver's script runs outside the page's
    /// policy, so the page's CSP stays as it is) and fails on any violation.
    async fn axe(&self, axe_source: &str, what: &str) -> Step {
        if self.js("return typeof window.axe;", vec![]).await? != json!("object") {
            self.js(&format!("{axe_source}\nreturn true;"), vec![])
                .await
                .map_err(|e| e.lines().next().unwrap_or_default().to_string())?;
        }
        let found = tokio::time::timeout(
            WAIT,
            self.client.execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                    .then(r => done(r.violations.map(v =>
                        `${v.id} (${v.impact}): ${v.help}; ${v.nodes.length} node(s), first ${v.nodes[0].target.join(' ')}: ${v.nodes[0].failureSummary.replace(/\\s+/g, ' ')}`)))
                    .catch(e => done(['axe failed: ' + e]));",
                vec![],
            ),
        )
        .await
        .map_err(|_| format!("axe did not finish on {what} within {WAIT:?}"))?
        .map_err(|e| format!("axe could not run on {what}: {e}"))?;
        let violations: Vec<String> = serde_json::from_value(found).map_err(|e| e.to_string())?;
        if violations.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "axe-core finds {} violation(s) on {what}:\n{}",
                violations.len(),
                violations.join("\n")
            ))
        }
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

    /// A big counter as a person reads it, `12,345`, after checking that it agrees with the
    /// report's field the page keeps in `data-value`: a counter whose text and data disagree
    /// would pass a check of either one alone.
    async fn counter(&self, id: &str) -> Result<u64, String> {
        let read = self
            .js(
                "const c = document.querySelector(`[data-testid=counter-${arguments[0]}]`); \
                 if (!c) return null; \
                 const v = c.querySelector('.counter-value'); \
                 return [c.getAttribute('data-value'), v ? v.innerText : null];",
                vec![json!(id)],
            )
            .await?;
        let (Some(raw), Some(shown)) = (read[0].as_str(), read[1].as_str()) else {
            return Err(format!(
                "the {id} counter is missing its value or its text: {read}"
            ));
        };
        let raw: u64 = raw
            .parse()
            .map_err(|_| format!("the {id} counter's data-value is {raw:?}"))?;
        let seen = browser::axis::grouped_count(shown)
            .ok_or_else(|| format!("the {id} counter shows {shown:?}, not a count"))?;
        if seen != raw {
            return Err(format!(
                "the {id} counter shows {shown:?} to a person but holds {raw} in data-value"
            ));
        }
        Ok(seen)
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

    /// Every CSP violation the current document has seen since it loaded, as
    /// "directive blocked-url": a buffered `ReportingObserver` receives the reports queued
    /// before it was created, so violations during the page's own start-up count too.
    async fn csp_violations(&self) -> Result<Vec<String>, String> {
        let script = "const done = arguments[arguments.length - 1]; \
             const seen = []; \
             const keep = (reports) => { for (const r of reports) \
               seen.push(`${r.body.effectiveDirective} ${r.body.blockedURL} ${r.body.sourceFile || ''}:${r.body.lineNumber || ''}`); }; \
             const observer = new ReportingObserver(keep, {types: ['csp-violation'], buffered: true}); \
             observer.observe(); \
             setTimeout(() => { keep(observer.takeRecords()); observer.disconnect(); done(seen); }, 250);";
        let seen = self
            .client
            .execute_async(script, vec![])
            .await
            .map_err(|e| format!("cannot read the CSP reports: {e}"))?;
        Ok(seen
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect())
    }

    /// The console's errors since the last call (chromedriver's log of the browser, which it
    /// empties as it hands it over): an uncaught exception, a failed fetch, a policy
    /// violation, a `console.error`.
    async fn console_errors(&self) -> Result<Vec<String>, String> {
        let log = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .map_err(|e| format!("cannot read the browser's console: {e}"))?;
        Ok(log
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_string())
            .collect())
    }

    async fn expect_no_csp_violations(&self) -> Step {
        let violations = self.csp_violations().await?;
        if violations.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the page broke its Content-Security-Policy: {violations:?}"
            ))
        }
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

    /// Clicks the field, selects what is in it (Ctrl+A, then release), deletes it and types
    /// `keys` in its place.
    async fn type_over(&self, selector: &str, keys: &str) -> Step {
        let input = self.element(selector).await?;
        input
            .click()
            .await
            .map_err(|e| format!("click {selector}: {e}"))?;
        input
            .send_keys(&format!("\u{E009}a\u{E000}\u{E017}{keys}"))
            .await
            .map_err(|e| format!("type into {selector}: {e}"))
    }

    async fn element(&self, selector: &str) -> Result<Element, String> {
        self.client
            .find(Locator::Css(selector))
            .await
            .map_err(|e| format!("no {selector}: {e}"))
    }

    async fn click(&self, selector: &str) -> Step {
        let element = self.element(selector).await?;
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
        let png = self.look(name).await?;
        self.shots.push((name, png));
        Ok(())
    }

    /// A screenshot to look at, not for the README: written to `DSIM_SHOTS_DIR` if set.
    async fn look(&self, name: &str) -> Result<Vec<u8>, String> {
        let png = self
            .client
            .screenshot()
            .await
            .map_err(|e| format!("screenshot {name}: {e}"))?;
        if let Some(dir) = std::env::var_os("DSIM_SHOTS_DIR") {
            let path = std::path::Path::new(&dir).join(name);
            std::fs::write(&path, &png).map_err(|e| format!("write {}: {e}", path.display()))?;
        }
        Ok(png)
    }
}
