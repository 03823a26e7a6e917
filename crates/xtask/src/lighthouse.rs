//! Lighthouse on the release `dist/` (issue 30, "Measured by the project"): part of
//! `cargo xtask bench`, or alone as `cargo xtask bench lighthouse` against the `dist/` there
//! is. Never part of `cargo xtask test`: its numbers are timings, which vary by machine.
//!
//! `dist/` is served by xtask's own file server (file_server.rs) on a free loopback port, and
//! Lighthouse runs Debian's Chromium (or `CHROMIUM`) headless through chrome-launcher, `RUNS`
//! times with its default mobile settings and `RUNS` times with `--preset=desktop`; each
//! preset's median run is the one reported, as Lighthouse's own documentation advises for its
//! run-to-run variance (its throttling is simulated from this machine's timings). Lighthouse runs in a
//! process group of its own, killed afterwards with every group it started (Chromium's).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::cmd::Ctx;
use crate::file_server::FileServer;
use crate::install;
use crate::meta::Workspace;

/// The categories measured, as Lighthouse names them.
pub const CATEGORIES: [&str; 4] = ["performance", "accessibility", "best-practices", "seo"];

/// The metrics read from each report, as Lighthouse names its audits.
pub const METRICS: [&str; 6] = [
    "first-contentful-paint",
    "largest-contentful-paint",
    "total-blocking-time",
    "cumulative-layout-shift",
    "max-potential-fid",
    "speed-index",
];

/// How many times each preset runs; the median run is reported.
pub const RUNS: usize = 5;

const CHROME_FLAGS: &str = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage";

/// Reads the JSON report named by its argument and prints one tab-separated line per value.
const EXTRACT_JS: &str = r#"
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const clean = (s) => String(s ?? "").replace(/\s+/g, " ").trim();
if (r.runtimeError) {
  console.error(`Lighthouse: ${r.runtimeError.code}: ${clean(r.runtimeError.message)}`);
  process.exit(1);
}
const [categories, metrics] = JSON.parse(process.argv[2]);
for (const c of categories) {
  const s = r.categories[c] ? r.categories[c].score : null;
  console.log(["category", c, s == null ? "" : Math.round(s * 100)].join("\t"));
}
for (const m of metrics) {
  const a = r.audits[m] || {};
  console.log(["metric", m, a.numericValue ?? "", clean(a.displayValue)].join("\t"));
}
console.log(["benchmark", r.environment ? r.environment.benchmarkIndex ?? "" : ""].join("\t"));
for (const w of r.runWarnings || []) console.log(["warning", clean(w)].join("\t"));
"#;

/// One preset's results.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// "mobile" or "desktop".
    pub preset: String,
    /// Category id and score 0-100 (`None`: Lighthouse gave none).
    pub categories: Vec<(String, Option<u32>)>,
    /// Audit id, numeric value (ms, or unitless for CLS) and Lighthouse's own display.
    pub metrics: Vec<(String, Option<f64>, String)>,
    /// Lighthouse's measure of the machine's CPU speed (`environment.benchmarkIndex`),
    /// higher is faster: its throttling is simulated from the machine's own timings.
    pub benchmark_index: Option<f64>,
    pub warnings: Vec<String>,
}

impl Report {
    pub fn score(&self, category: &str) -> Option<u32> {
        self.categories
            .iter()
            .find(|(c, _)| c == category)
            .and_then(|(_, s)| *s)
    }

    pub fn metric(&self, audit: &str) -> Option<(f64, &str)> {
        self.metrics
            .iter()
            .find(|(m, _, _)| m == audit)
            .and_then(|(_, v, d)| v.map(|v| (v, d.as_str())))
    }

    /// Parses `EXTRACT_JS`'s output.
    fn parse(preset: &str, out: &str) -> Report {
        let mut report = Report {
            preset: preset.to_string(),
            ..Report::default()
        };
        for line in out.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            match fields.as_slice() {
                ["category", id, score] => {
                    report.categories.push((id.to_string(), score.parse().ok()))
                }
                ["metric", id, value, display] => {
                    report
                        .metrics
                        .push((id.to_string(), value.parse().ok(), display.to_string()))
                }
                ["benchmark", index] => report.benchmark_index = index.parse().ok(),
                ["warning", w] => report.warnings.push(w.to_string()),
                _ => {}
            }
        }
        report
    }
}

/// The run whose performance score is the median of `runs` (ties: the one with the median
/// blocking time among them), or `None` for no runs.
pub fn median_run(runs: &[Report]) -> Option<&Report> {
    let key = |r: &Report| {
        (
            r.score("performance").unwrap_or(0),
            // Less blocking ranks higher, as a higher score does.
            std::cmp::Reverse(
                r.metric("total-blocking-time")
                    .map_or(u64::MAX, |(ms, _)| ms.round() as u64),
            ),
        )
    };
    let mut sorted: Vec<&Report> = runs.iter().collect();
    sorted.sort_by_key(|r| key(r));
    sorted.get(sorted.len() / 2).copied()
}

/// What the measurement ran on, for the section's first lines.
pub struct Measured {
    /// Each preset's median run (`median_run`), mobile first.
    pub reports: Vec<Report>,
    /// Every run, in the order they ran.
    pub runs: Vec<Report>,
    /// How the `.wasm` and `.js` files went out, in words.
    pub serving: String,
    /// e.g. "Chromium 156.0.8078.129".
    pub browser: String,
}

/// Runs Lighthouse, mobile then desktop, against `dist/` as it is.
pub fn measure(ctx: &Ctx) -> Result<Measured, String> {
    let cli = install::lighthouse(ctx)?;
    let chromium = chromium()?;
    let browser = ctx
        .cmd(&chromium)
        .arg("--version")
        .read()
        .ok()
        .and_then(|v| v.split(" built on").next().map(|v| v.trim().to_string()))
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| chromium.display().to_string());
    let dist = ctx.root.join("dist");
    if !dist.join("index.html").is_file() {
        return Err(format!(
            "no {}: build it first (`cargo xtask bench` does, or `trunk build --release`)",
            dist.join("index.html").display()
        ));
    }
    let out_dir = Workspace::load(ctx)?.target_dir.join("lighthouse");
    fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let server = FileServer::start(dist)?;
    println!("serving dist/ on {}", server.url());
    let mut reports = Vec::new();
    let mut runs = Vec::new();
    for preset in ["mobile", "desktop"] {
        let mut these = Vec::new();
        for run in 1..=RUNS {
            let json = out_dir.join(format!("{preset}-{run}.report.json"));
            let _ = fs::remove_file(&json);
            let mut lighthouse = ctx
                .cmd("node")
                .arg(&cli)
                .arg(server.url())
                .arg("--output=json")
                .arg(format!("--output-path={}", json.display()))
                .arg(format!("--only-categories={}", CATEGORIES.join(",")))
                .arg(format!("--chrome-flags={CHROME_FLAGS}"))
                .env("CHROME_PATH", &chromium);
            if preset == "desktop" {
                lighthouse = lighthouse.arg("--preset=desktop");
            }
            lighthouse.run_own_group(Duration::from_secs(300))?;
            these.push(extract(ctx, preset, &json)?);
        }
        if let Some(median) = median_run(&these) {
            reports.push(median.clone());
        }
        runs.extend(these);
    }
    let (compressed, uncompressed, other) = (
        server.served.compressed.load(Ordering::SeqCst),
        server.served.uncompressed.load(Ordering::SeqCst),
        server
            .served
            .other_uncompressed
            .lock()
            .map(|names| names.iter().cloned().collect::<Vec<_>>())
            .unwrap_or_default(),
    );
    drop(server);
    let mut serving = match (compressed, uncompressed) {
        (0, _) => "uncompressed (this dist/ has no pre-compressed copies beside its .wasm and \
                   .js files)"
            .to_string(),
        (_, 0) => "from the pre-compressed .br copies beside them, with `Content-Encoding`, as \
                   README's \"Hosting dist/\" asks of a host"
            .to_string(),
        (c, u) => format!("{c} from their pre-compressed copies, {u} uncompressed"),
    };
    if !other.is_empty() {
        serving.push_str(&format!(
            "; {} went out uncompressed (the build writes no copies of HTML or CSS, and this \
             server compresses nothing itself)",
            in_words(&other)
        ));
    }
    Ok(Measured {
        reports,
        runs,
        serving,
        browser,
    })
}

fn extract(ctx: &Ctx, preset: &str, json: &Path) -> Result<Report, String> {
    let lists = format!("[[{}],[{}]]", quoted(&CATEGORIES), quoted(&METRICS));
    let out = ctx
        .cmd("node")
        .args(["-e", EXTRACT_JS])
        .arg(json)
        .arg(lists)
        .read()?;
    let report = Report::parse(preset, &out);
    if report.categories.len() != CATEGORIES.len() || report.metrics.len() != METRICS.len() {
        return Err(format!("{}: unexpected extract {out:?}", json.display()));
    }
    Ok(report)
}

/// "a", "a and b", "a, b and c".
fn in_words(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(",")
}

/// `CHROMIUM`, or Debian's Chromium.
fn chromium() -> Result<PathBuf, String> {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "no Chromium at {} (set CHROMIUM, or run `cargo xtask install`)",
            path.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(performance: u32, tbt_ms: f64) -> Report {
        Report::parse(
            "mobile",
            &format!(
                "category\tperformance\t{performance}\n\
                 metric\ttotal-blocking-time\t{tbt_ms}\t{tbt_ms} ms\n"
            ),
        )
    }

    #[test]
    fn the_median_run_is_the_middle_score_and_then_the_middle_blocking_time() {
        let runs = [
            run(97, 150.0),
            run(88, 480.0),
            run(99, 90.0),
            run(94, 260.0),
            run(91, 300.0),
        ];
        assert_eq!(median_run(&runs), Some(&runs[3]));
        let tied = [run(95, 100.0), run(95, 300.0), run(95, 200.0)];
        assert_eq!(median_run(&tied), Some(&tied[2]));
        assert_eq!(median_run(&[]), None);
    }

    #[test]
    fn the_extracts_lines_become_a_report() {
        let out = "category\tperformance\t93\ncategory\tseo\t\n\
                   metric\tlargest-contentful-paint\t2412.5\t2.4 s\n\
                   metric\tspeed-index\t\t\n\
                   benchmark\t2675.5\nwarning\tslow\n";
        let r = Report::parse("mobile", out);
        assert_eq!(r.score("performance"), Some(93));
        assert_eq!(r.score("seo"), None);
        assert_eq!(
            r.metric("largest-contentful-paint"),
            Some((2412.5, "2.4 s"))
        );
        assert_eq!(r.metric("speed-index"), None);
        assert_eq!(r.benchmark_index, Some(2675.5));
        assert_eq!(r.warnings, ["slow"]);
        let names = |n: &[&str]| in_words(&n.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(names(&["a.html"]), "a.html");
        assert_eq!(names(&["a", "b", "c"]), "a, b and c");
    }
}
