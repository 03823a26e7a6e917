//! The in-browser half of `cargo xtask bench`, not a test: it measures and prints, and
//! asserts nothing about speed. In headless Chromium against the release `dist/`:
//!
//! - the JS API's wasm simulating the benchmark scenarios (`presets::bench_scenario`), for
//!   the wasm/native ratio (after an untimed warm-up round: V8 optimises hot wasm for its
//!   next call), two ways: `simulate` (a plain run and its report, as `dsim bench` runs) and
//!   the `Simulation` class (which records the run for time travel);
//! - a 1,000,000-message at-least-once run with 10 % faults in the page's Web Worker: its wall
//!   time, and the page's frame rate meanwhile;
//! - slider-to-redraw: a fault knob changed 40 times on the default scenario, each time from
//!   the input event to the animation frame after the finished run is drawn, as the page
//!   itself measures with `performance.now()`.
//!
//! The same scenarios also run natively in this process (build it with `--release`), the same
//! two ways, so each wasm figure has its like. Every figure is the median of `REPEATS` runs.
//! Ignored, so a plain `cargo test` lists it as not run rather than passing it unrun; `cargo
//! xtask bench` runs it with `--ignored`. It writes its figures as JSON to
//! `target/browser-bench.json` and as markdown tables to `target/browser-bench.md`, which
//! `cargo xtask bench` puts into BENCHMARKS.md.

mod browser;

use std::time::{Duration, Instant};

use dsim_core::{Mode, TimeTravel, presets::bench_scenario};
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(120);
/// Messages per wasm scenario: enough to time, small enough for a quick bench.
pub const WASM_MESSAGES: u32 = 200_000;
const SLIDER_MOVES: usize = 40;
/// Runs per wasm and native throughput figure; the median is reported.
const REPEATS: usize = 3;
/// Times the million-message worker run is repeated; the median is reported.
const WORKER_RUNS: usize = 3;

#[tokio::test(flavor = "current_thread")]
#[ignore = "a benchmark that needs a release dist/ and Chromium: `cargo xtask bench` runs it"]
async fn browser_bench() {
    let dist = browser::dist();
    assert!(dist.join("index.html").is_file(), "build dist/ first");
    let base = format!("http://127.0.0.1:{}", browser::serve(dist));
    let driver = browser::Chromedriver::start();
    let mut args: Vec<String> = browser::CHROMIUM_FLAGS
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push("--window-size=1400,1000".into());
    let profile = std::env::temp_dir().join(format!("dsim-bench-{}", std::process::id()));
    args.push(format!("--user-data-dir={}", profile.display()));
    let caps = json!({"goog:chromeOptions": {"binary": browser::chromium(), "args": args}});
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url())
        .await
        .expect("connect to chromedriver");
    let outcome = measure(&client, &base).await;
    let _ = client.close().await;
    drop(driver);
    let _ = std::fs::remove_dir_all(profile);
    let mut figures = outcome.unwrap_or_else(|e| panic!("{e}"));
    figures["native"] = native_throughput();
    // The repository's `target/`, where `cargo xtask bench` reads them, whatever
    // `CARGO_TARGET_DIR` says (then it may not exist yet).
    let target = browser::repo_root().join("target");
    std::fs::create_dir_all(&target).expect("create target/");
    let text = serde_json::to_string_pretty(&figures).expect("json");
    std::fs::write(target.join("browser-bench.json"), &text).expect("write json");
    let md = markdown(&figures);
    std::fs::write(target.join("browser-bench.md"), &md).expect("write markdown");
    println!("{md}\nwrote target/browser-bench.json and target/browser-bench.md");
}

/// The wasm scenarios, natively, in this (release) process: plain (`simulate`, a run and its
/// report, as `dsim bench` and the JS API's `simulate` run them) and recorded for time travel
/// as the JS API's `Simulation` records them (snapshots of the whole state). Natively the
/// recording costs more than in wasm (each large snapshot is a fresh `mmap` from the system
/// allocator, page faults and all), so the two are compared separately.
fn native_throughput() -> Value {
    let runs: Vec<Value> = Mode::ALL
        .iter()
        .flat_map(|&mode| {
            [false, true].map(|faulty| {
                let s = bench_scenario(mode, WASM_MESSAGES, faulty);
                let mut events = 0;
                let plain = median_seconds(|| {
                    let report = dsim_core::simulate(&s).expect("a valid scenario");
                    events = report.events;
                });
                let recorded = median_seconds(|| {
                    let mut tape = TimeTravel::with_limits(
                        &s,
                        TimeTravel::DEFAULT_CAPACITY,
                        TimeTravel::DEFAULT_BYTE_BUDGET,
                    );
                    tape.step(u64::MAX);
                    assert_eq!(tape.live().events(), events, "the same run either way");
                });
                json!({
                    "mode": mode,
                    "faults": if faulty { "10%" } else { "0%" },
                    "events": events,
                    "plainSeconds": plain,
                    "recordedSeconds": recorded,
                })
            })
        })
        .collect();
    json!(runs)
}

/// The median wall time of `REPEATS` calls of `run`.
fn median_seconds(mut run: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..REPEATS)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[REPEATS / 2]
}

fn markdown(f: &Value) -> String {
    let mut md = format!(
        "Wasm in headless Chromium (the JS API's release build) against native, \
         {WASM_MESSAGES} messages per scenario, median of {REPEATS} runs each (target: wasm \
         within 1.5x of native). \"plain\" is a run and its report: `simulate()` in wasm, \
         `dsim_core::simulate` natively (as `dsim bench`). \"recording\" also records the run \
         for time travel: the JS API's `Simulation` class, and `TimeTravel` natively:\n\n\
         | mode | faults | native plain msgs/s | wasm plain msgs/s | wasm plain events/s \
         | wasm / native, plain | native recording msgs/s | wasm recording msgs/s \
         | wasm / native, recording |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    let empty = vec![];
    let wasm = f["wasm"].as_array().unwrap_or(&empty);
    let native = f["native"].as_array().unwrap_or(&empty);
    let seconds = |v: &Value, key: &str| v[key].as_f64().unwrap_or(f64::NAN);
    for (w, n) in wasm.iter().zip(native) {
        let (wp, wr) = (seconds(w, "plainSeconds"), seconds(w, "recordedSeconds"));
        let (np, nr) = (seconds(n, "plainSeconds"), seconds(n, "recordedSeconds"));
        let msgs = WASM_MESSAGES as f64;
        md.push_str(&format!(
            "| {} | {} | {:.0} | {:.0} | {:.0} | {:.2}x | {:.0} | {:.0} | {:.2}x |\n",
            w["mode"].as_str().unwrap_or("?"),
            w["faults"].as_str().unwrap_or("?"),
            msgs / np,
            msgs / wp,
            w["events"].as_f64().unwrap_or(0.0) / wp,
            wp / np,
            msgs / nr,
            msgs / wr,
            wr / nr,
        ));
    }
    let worker = &f["worker"];
    let slider = &f["slider"];
    let list = |v: &Value| {
        v.as_array()
            .map(|all| {
                all.iter()
                    .map(|ms| format!("{:.0}", ms.as_f64().unwrap_or(f64::NAN)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    let rerun = &worker["rerun"];
    md.push_str(&format!(
        "\nIn the page (release `dist/`), the 1,000,000-message at-least-once run with 10 % \
         faults, median of {WORKER_RUNS}: first in a freshly loaded page, whose first heavy run \
         starts a new Web Worker, then again in that page (Run pressed), in the worker the \
         first run left idle. \"In the worker\" is the run's own wall time there; \"until \
         shown\" runs from the page handing the run over (or the click) to the animation frame \
         that shows it finished, worker start-up included.\n\n\
         | measure | value | target |\n|---|---:|---:|\n\
         | 1M run, fresh page: in the worker ({} ms) | {:.0} ms | < 1000 ms |\n\
         | 1M run, fresh page: until shown, new worker's start included | {:.0} ms | |\n\
         | 1M run again, Run pressed: click until shown ({} ms) | {:.0} ms | < 1000 ms |\n\
         | page frame rate during the fresh page's run, from the job reaching the worker to the finished run | {:.0} fps (worst frame {:.0} ms, {} over 20 ms) | 60 fps |\n\
         | slider to redraw, default scenario, median of {} moves | {:.1} ms | < 16 ms |\n\
         | slider to redraw, p95 | {:.1} ms | |\n",
        list(&worker["allRunMs"]),
        number(worker, "runMs"),
        number(worker, "shownMs"),
        list(&rerun["allShownMs"]),
        number(rerun, "shownMs"),
        number(worker, "fps"),
        number(worker, "worstFrameMs"),
        worker["longFrames"],
        slider["moves"],
        number(slider, "medianMs"),
        number(slider, "p95Ms"),
    ));
    md
}

async fn measure(client: &Client, base: &str) -> Result<Value, String> {
    let goto = |path: String| async move {
        client
            .goto(&format!("{base}{path}"))
            .await
            .map_err(|e| format!("load {path}: {e}"))
    };
    goto("/".into()).await?;
    let wasm = wasm_throughput(client).await?;

    let faults = "publish-loss=0.1&publish-ack-loss=0.1&delivery-loss=0.1&ack-loss=0.1\
                  &duplicate=0.1&crash-before-process=0.001&crash-after-process=0.001\
                  &broker-crash=0.0001";
    // Timings on a shared machine swing between runs: the run is timed WORKER_RUNS times, each
    // in a freshly loaded page (a fresh worker, as a user gets), and the median reported.
    // Each page then runs it again, as a user pressing Run does, in the worker the first run
    // left idle.
    let mut runs = Vec::with_capacity(WORKER_RUNS);
    let mut reruns = Vec::with_capacity(WORKER_RUNS);
    for _ in 0..WORKER_RUNS {
        goto(format!(
            "/?mode=at-least-once&messages=1000000&seed=1&{faults}"
        ))
        .await?;
        runs.push(worker_run(client).await?);
        reruns.push(worker_rerun(client).await?);
    }
    // The run's other figures (frame rate, long frames) come from the run of median time.
    runs.sort_by(|a, b| f64::total_cmp(&number(a, "runMs"), &number(b, "runMs")));
    let mut worker = runs[WORKER_RUNS / 2].clone();
    let (_, all_run_ms) = median_of(&runs, "runMs");
    worker["allRunMs"] = json!(all_run_ms);
    worker["shownMs"] = json!(median_of(&runs, "shownMs").0);
    let (shown_ms, all_shown_ms) = median_of(&reruns, "shownMs");
    worker["rerun"] = json!({ "shownMs": shown_ms, "allShownMs": all_shown_ms });

    goto("/".into()).await?;
    let slider = slider_latency(client).await?;
    Ok(json!({ "wasm": wasm, "worker": worker, "slider": slider }))
}

/// `key` of a measured figure as a number (NaN if the page gave none).
fn number(run: &Value, key: &str) -> f64 {
    run[key].as_f64().unwrap_or(f64::NAN)
}

/// The median of `key` over `runs`, and every value in increasing order.
fn median_of(runs: &[Value], key: &str) -> (f64, Vec<f64>) {
    let mut all: Vec<f64> = runs.iter().map(|r| number(r, key)).collect();
    all.sort_by(f64::total_cmp);
    (all[all.len() / 2], all)
}

/// Each mode at 0 % and 10 % faults through the JS API, run to the end.
async fn wasm_throughput(client: &Client) -> Result<Value, String> {
    let scenarios: Vec<Value> = Mode::ALL
        .iter()
        .flat_map(|&mode| {
            [false, true].map(|faulty| {
                json!({
                    "mode": mode,
                    "faults": if faulty { "10%" } else { "0%" },
                    "scenario": bench_scenario(mode, WASM_MESSAGES, faulty),
                })
            })
        })
        .collect();
    let script = r#"
        const [scenarios, repeats, done] = arguments;
        (async () => {
            const api = await import('/pkg/dsim_wasm.js');
            await api.default();
            // V8 runs new wasm code in its baseline compiler and optimises what proves hot
            // for later calls (compiled in the background), so the figures are of warm code,
            // as a native binary's are: every scenario runs once untimed first.
            const record = s => {
                const sim = new api.Simulation(s.scenario);
                const snap = sim.step(Number.MAX_SAFE_INTEGER);
                sim.free();
                return snap;
            };
            for (const s of scenarios) {
                record(s);
                api.simulate(s.scenario);
            }
            const median = run => {
                const ms = [];
                let result;
                for (let i = 0; i < repeats; i++) {
                    const t0 = performance.now();
                    result = run();
                    ms.push(performance.now() - t0);
                }
                ms.sort((a, b) => a - b);
                return [ms[Math.floor(repeats / 2)] / 1000, result];
            };
            const out = [];
            for (const s of scenarios) {
                const [plainSeconds, report] = median(() => api.simulate(s.scenario));
                const [recordedSeconds, snap] = median(() => record(s));
                if (snap.events !== report.events) {
                    throw new Error(`${s.mode} ${s.faults}: the two runs differ`);
                }
                out.push({ mode: s.mode, faults: s.faults, messages: report.produced,
                           events: report.events, plainSeconds, recordedSeconds });
            }
            return out;
        })().then(done, e => done({ error: String(e) }));
    "#;
    let result = in_page(
        client,
        "wasm bench script",
        script,
        vec![json!(scenarios), json!(REPEATS)],
    )
    .await?;
    if let Some(error) = result.get("error") {
        return Err(format!("wasm bench failed: {error}"));
    }
    Ok(result)
}

/// Waits for the page's worker run to finish, counting animation frames meanwhile: from the
/// first frame after the page handed the run to its worker (`data-worker`) to the frame that
/// shows it finished. The frame that mounts the page comes before and is not the run's: it
/// builds the whole page once, whatever runs next.
async fn worker_run(client: &Client) -> Result<Value, String> {
    let script = r#"
        const done = arguments[0];
        let frames = 0, worst = 0, long = 0, last = null, t0 = null;
        const tick = () => {
            const now = performance.now();
            const p = document.querySelector('[data-testid=progress]');
            if (t0 === null) {
                if (p && p.dataset.worker === 'true') {
                    t0 = last = now;
                }
            } else {
                const frame = now - last;
                worst = Math.max(worst, frame);
                if (frame > 20) long++;
                last = now;
                frames++;
            }
            if (p && p.dataset.state === 'finished' && p.dataset.workerRunMs) {
                done({ runMs: Number(p.dataset.workerRunMs),
                       shownMs: t0 === null ? NaN : now - t0,
                       fps: t0 === null ? NaN : frames / ((now - t0) / 1000),
                       worstFrameMs: worst, longFrames: long });
            } else {
                requestAnimationFrame(tick);
            }
        };
        requestAnimationFrame(tick);
    "#;
    in_page(client, "worker run", script, vec![]).await
}

/// Presses Run on a page whose run has finished and times, on the page, from the click to
/// the animation frame that shows the new run finished: what a user waits for. The run goes
/// to the worker the last run left idle (`offload`), already loaded.
async fn worker_rerun(client: &Client) -> Result<Value, String> {
    let script = r#"
        const done = arguments[0];
        const progress = () => document.querySelector('[data-testid=progress]');
        const t0 = performance.now();
        document.querySelector('[data-testid=run]').click();
        let started = false;
        const tick = () => {
            const p = progress();
            if (p.dataset.state !== 'finished') started = true;
            if (started && p.dataset.state === 'finished' && p.dataset.workerRunMs) {
                done({ shownMs: performance.now() - t0, runMs: Number(p.dataset.workerRunMs) });
            } else {
                requestAnimationFrame(tick);
            }
        };
        requestAnimationFrame(tick);
    "#;
    in_page(client, "worker rerun", script, vec![]).await
}

/// Runs `script` in the page, which answers through its last argument (WebDriver's
/// asynchronous script callback); a WebDriver failure names `what`.
async fn in_page(
    client: &Client,
    what: &str,
    script: &str,
    args: Vec<Value>,
) -> Result<Value, String> {
    client
        .execute_async(script, args)
        .await
        .map_err(|e| format!("{what}: {e}"))
}

/// Moves the ack-loss slider and waits for the page's own measurement of each redraw.
async fn slider_latency(client: &Client) -> Result<Value, String> {
    // The page mounts after its wasm loads: wait for it (and its first run) before moving.
    in_page(
        client,
        "page never mounted",
        r#"
            const done = arguments[0];
            const ready = () => {
                const root = document.querySelector('[data-testid=app-root]');
                if (root && document.querySelector('input[data-testid=knob-ack-loss]')) {
                    done(true);
                } else {
                    requestAnimationFrame(ready);
                }
            };
            ready();
        "#,
        vec![],
    )
    .await?;
    let mut samples = Vec::with_capacity(SLIDER_MOVES);
    for i in 0..SLIDER_MOVES {
        // Positions across the slider's range, never the same twice in a row.
        let value = 0.05 + 0.9 * ((i * 7) % SLIDER_MOVES) as f64 / SLIDER_MOVES as f64;
        let script = r#"
            const [fraction, done] = arguments;
            const root = document.querySelector('[data-testid=app-root]');
            const before = Number(root.dataset.inputCount);
            const slider = document.querySelector('input[type=range][data-testid=knob-ack-loss]');
            if (!slider) { done({ error: 'no ack-loss slider' }); return; }
            const min = Number(slider.min), max = Number(slider.max);
            slider.value = String(min + (max - min) * fraction);
            slider.dispatchEvent(new Event('input', { bubbles: true }));
            const wait = () => {
                if (Number(root.dataset.inputCount) > before) {
                    done({ ms: Number(root.dataset.inputLatencyMs) });
                } else {
                    requestAnimationFrame(wait);
                }
            };
            requestAnimationFrame(wait);
        "#;
        let what = format!("slider move {i}");
        let start = Instant::now();
        let result = in_page(client, &what, script, vec![json!(value)]).await?;
        if let Some(error) = result.get("error") {
            return Err(format!("slider move {i}: {error}"));
        }
        let ms = result["ms"].as_f64().ok_or("no latency")?;
        samples.push(ms);
        if start.elapsed() > WAIT {
            return Err("slider moves take too long".into());
        }
    }
    samples.sort_by(f64::total_cmp);
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Ok(json!({ "moves": samples.len(), "medianMs": pick(0.5), "p95Ms": pick(0.95) }))
}
