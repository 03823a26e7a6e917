//! `cargo xtask bench`: run the benchmarks and record them in BENCHMARKS.md.

use std::fs;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::cmd::{Ctx, header};
use crate::lighthouse::Report;

pub fn run(ctx: &Ctx) -> Result<(), String> {
    header("CLI benchmark");
    let cli = ctx
        .cargo()
        .args(["run", "--release", "-p", "dsim-cli", "--", "bench"])
        .read_shown()?;
    print!("{cli}");

    let core_benches = ctx.root.join("crates/dsim-core/benches");
    let criterion = if core_benches.is_dir() {
        header("core benchmarks");
        let out = ctx
            .cargo()
            .args(["bench", "-p", "dsim-core", "--bench", "*"])
            .read_shown()?;
        print!("{out}");
        Some(out)
    } else {
        println!("\nno crates/dsim-core/benches: skipping cargo bench");
        None
    };

    header("release build for the browser benchmark");
    crate::test::trunk_build(ctx)?;
    header("browser benchmark (wasm in headless Chromium)");
    ctx.cargo()
        .args([
            "test",
            "--release",
            "-p",
            "dsim-tests",
            "--test",
            "browser_bench",
        ])
        // Ignored in plain test runs, where it could only pass without measuring anything.
        .args(["--", "--ignored", "--nocapture"])
        .env("DSIM_DIST", ctx.root.join("dist"))
        .env("CHROMEDRIVER", crate::test::chromedriver(ctx)?)
        .run()?;
    let browser_md = ctx.root.join("target/browser-bench.md");
    let browser = fs::read_to_string(&browser_md)
        .map_err(|e| format!("cannot read {}: {e}", browser_md.display()))?;
    let sizes = bundle_sizes(ctx)?;
    header("Lighthouse on the served dist/");
    let lighthouse = lighthouse_section(&crate::lighthouse::measure(ctx)?, ctx);

    let mut md = format!(
        "# Benchmarks\n\nWritten by `cargo xtask bench`; rerun it to update. What each change \
         gained, and what was tried: [docs/performance-notes.md](docs/performance-notes.md).\n\n\
         ## {} on {}\n\n\
         Native, `cargo run --release -p dsim-cli -- bench` (target: 2 M msgs/s for \
         at-least-once with 10 % faults):\n\n```text\n{}\n```\n\n{}\n{}",
        today(),
        machine(ctx),
        cli.trim_end(),
        browser.trim_end(),
        sizes,
    );
    if let Some(out) = criterion.filter(|o| !o.trim().is_empty()) {
        md.push_str(&format!(
            "\n`cargo bench -p dsim-core --bench '*'`:\n\n```text\n{}\n```\n",
            out.trim_end()
        ));
    }
    md.push('\n');
    md.push_str(&lighthouse);
    let path = ctx.root.join("BENCHMARKS.md");
    fs::write(&path, md).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("\nwrote {}", path.display());
    Ok(())
}

/// `cargo xtask bench lighthouse`: only Lighthouse, against the `dist/` there is, its section
/// of BENCHMARKS.md replaced (or added) and the rest kept.
pub fn lighthouse_only(ctx: &Ctx) -> Result<(), String> {
    header("Lighthouse on the served dist/");
    let section = lighthouse_section(&crate::lighthouse::measure(ctx)?, ctx);
    let path = ctx.root.join("BENCHMARKS.md");
    let old = fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".to_string());
    let md = replace_section(&old, &lighthouse_heading(), &section);
    fs::write(&path, md).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("\n{}\nwrote {}", section.trim(), path.display());
    Ok(())
}

fn lighthouse_heading() -> String {
    format!(
        "## Lighthouse {} on the served release dist/",
        crate::install::LIGHTHOUSE_VERSION
    )
}

/// `md` with the section under `heading` (up to the next `## ` heading) replaced by
/// `section`, or with `section` added at its end.
fn replace_section(md: &str, heading: &str, section: &str) -> String {
    let section = section.trim_end_matches('\n');
    let Some(start) = md
        .match_indices(heading)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || md[..i].ends_with('\n'))
    else {
        return format!("{}\n\n{section}\n", md.trim_end_matches('\n'));
    };
    let after = start + heading.len();
    match md[after..].find("\n## ") {
        Some(i) => format!("{}{section}\n\n{}", &md[..start], &md[after + i + 1..]),
        None => format!("{}{section}\n", &md[..start]),
    }
}

/// Issue 30's targets for the mobile run: (what, met, the measured value as shown).
fn lighthouse_targets(mobile: &Report) -> Vec<(&'static str, Option<bool>, String)> {
    let metric = |audit: &str, below: f64| match mobile.metric(audit) {
        Some((value, shown)) => (Some(value < below), shown.to_string()),
        None => (None, "not measured".to_string()),
    };
    let performance = mobile.score("performance");
    let (lcp_met, lcp) = metric("largest-contentful-paint", 2500.0);
    let (tbt_met, tbt) = metric("total-blocking-time", 200.0);
    let (cls_met, cls) = metric("cumulative-layout-shift", 0.1);
    vec![
        (
            "performance ≥ 90",
            performance.map(|p| p >= 90),
            performance.map_or("not measured".into(), |p| p.to_string()),
        ),
        ("LCP < 2.5 s", lcp_met, lcp),
        ("TBT < 200 ms", tbt_met, tbt),
        ("CLS < 0.1", cls_met, cls),
    ]
}

/// The Lighthouse section of BENCHMARKS.md.
fn lighthouse_section(measured: &crate::lighthouse::Measured, ctx: &Ctx) -> String {
    let mut md = format!(
        "{}\n\n`cargo xtask bench lighthouse` ({} on {}): Lighthouse's default mobile \
         settings (a Moto G Power on slow 4G with a 4x slower CPU, simulated) and \
         `--preset=desktop`, in headless {} (`--headless=new`), against dist/ served on 127.0.0.1 by xtask; the .wasm and .js files \
         went out {}.\n\n\
         | preset | performance | accessibility | best practices | SEO | FCP | LCP | TBT | CLS | max potential FID | Speed Index |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        lighthouse_heading(),
        today(),
        machine(ctx),
        measured.browser,
        measured.serving,
    );
    for r in &measured.reports {
        let score = |c: &str| r.score(c).map_or("–".to_string(), |s| s.to_string());
        let shown = |m: &str| r.metric(m).map_or("–".to_string(), |(_, d)| d.to_string());
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.preset,
            score("performance"),
            score("accessibility"),
            score("best-practices"),
            score("seo"),
            shown("first-contentful-paint"),
            shown("largest-contentful-paint"),
            shown("total-blocking-time"),
            shown("cumulative-layout-shift"),
            shown("max-potential-fid"),
            shown("speed-index"),
        ));
    }
    for preset in ["mobile", "desktop"] {
        let these: Vec<&Report> = measured
            .runs
            .iter()
            .filter(|r| r.preset == preset)
            .collect();
        if these.len() > 1 {
            let each: Vec<String> = these
                .iter()
                .map(|r| {
                    format!(
                        "{} ({})",
                        r.score("performance")
                            .map_or("–".to_string(), |s| s.to_string()),
                        r.metric("total-blocking-time")
                            .map_or("–".to_string(), |(_, d)| d.to_string())
                    )
                })
                .collect();
            md.push_str(&format!(
                "\n{preset}: the median of {} runs by performance score, as Lighthouse advises \
                 for its run-to-run variance; the runs scored (TBT) {}.\n",
                these.len(),
                each.join(", ")
            ));
        }
    }
    if let Some(mobile) = measured.reports.iter().find(|r| r.preset == "mobile") {
        let verdicts: Vec<String> = lighthouse_targets(mobile)
            .into_iter()
            .map(|(what, met, shown)| {
                let verdict = match met {
                    Some(true) => "met",
                    Some(false) => "not met",
                    None => "unknown",
                };
                format!("{what} ({verdict}: {shown})")
            })
            .collect();
        md.push_str(&format!(
            "\nIssue 30's targets, on mobile: {}.\n",
            verdicts.join(", ")
        ));
    }
    let indexes: Vec<String> = measured
        .reports
        .iter()
        .filter_map(|r| Some(format!("{:.0} ({})", r.benchmark_index?, r.preset)))
        .collect();
    if !indexes.is_empty() {
        md.push_str(&format!(
            "\nLighthouse simulates the throttling from this machine's own timings, so the \
             scores move with its load: its CPU benchmark index was {} (higher is faster).\n",
            indexes.join(", ")
        ));
    }
    for r in &measured.reports {
        for w in &r.warnings {
            md.push_str(&format!("\nLighthouse warned ({}): {w}\n", r.preset));
        }
    }
    md
}

/// Gzipped sizes of what the browser downloads (target: the app's wasm under 300 KB).
fn bundle_sizes(ctx: &Ctx) -> Result<String, String> {
    let dist = ctx.root.join("dist");
    let mut files: Vec<_> = fs::read_dir(&dist)
        .map_err(|e| format!("cannot list {}: {e}", dist.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        // Never the .gz and .br copies beside them: their sizes are the columns.
        .filter(|p| crate::precompress::is_compressible(p))
        .collect();
    for file in ["pkg/dsim_wasm_bg.wasm", "pkg/dsim_wasm.js"] {
        files.push(dist.join(file));
    }
    files.sort();
    let mut md = String::from(
        "\nBundle, release build, gzipped (`gzip -9`) and with brotli (`brotli -q 11`, the .br \
         copy beside the file):\n\n| file | bytes | gzipped | brotli |\n|---|---:|---:|---:|\n",
    );
    for path in files.iter().filter(|p| p.is_file()) {
        let raw = fs::metadata(path).map_or(0, |m| m.len());
        let gz = crate::budget::gzipped_size(ctx, path)?;
        let br = crate::precompress::brotli_size(ctx, path)?;
        let name = path
            .strip_prefix(&dist)
            .unwrap_or(path)
            .display()
            .to_string();
        md.push_str(&format!("| {name} | {raw} | {gz} | {br} |\n"));
    }
    Ok(md)
}

/// e.g. "x86_64, AMD EPYC 7B13, 2 cores": enough to tell machines apart.
fn machine(ctx: &Ctx) -> String {
    let arch = ctx.cmd("uname").arg("-m").read().unwrap_or_default();
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{}, {cpu}, {cores} cores", arch.trim())
}

/// UTC date as YYYY-MM-DD (Howard Hinnant's days-to-civil; std has no calendar).
fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mobile(performance: u32, lcp: f64, tbt: f64, cls: f64) -> Report {
        Report {
            preset: "mobile".into(),
            categories: vec![("performance".into(), Some(performance))],
            metrics: vec![
                (
                    "largest-contentful-paint".into(),
                    Some(lcp),
                    format!("{lcp} ms"),
                ),
                ("total-blocking-time".into(), Some(tbt), format!("{tbt} ms")),
                (
                    "cumulative-layout-shift".into(),
                    Some(cls),
                    format!("{cls}"),
                ),
            ],
            ..Report::default()
        }
    }

    #[test]
    fn the_targets_are_judged_from_the_numbers() {
        let met = |r: &Report| -> Vec<Option<bool>> {
            lighthouse_targets(r).into_iter().map(|t| t.1).collect()
        };
        assert_eq!(met(&mobile(90, 2499.0, 199.0, 0.099)), [Some(true); 4]);
        assert_eq!(met(&mobile(89, 2500.0, 200.0, 0.1)), [Some(false); 4]);
        let none = Report::default();
        assert_eq!(met(&none), [None; 4]);
    }

    #[test]
    fn the_lighthouse_section_is_replaced_in_place_or_added() {
        let h = "## Lighthouse 1 on x";
        let md =
            "# B\n\n## 2026 on m\n\nold\n\n## Lighthouse 1 on x\n\nstale\n\n## After\n\nkept\n";
        assert_eq!(
            replace_section(md, h, "## Lighthouse 1 on x\n\nnew\n"),
            "# B\n\n## 2026 on m\n\nold\n\n## Lighthouse 1 on x\n\nnew\n\n## After\n\nkept\n"
        );
        let last = "# B\n\n## Lighthouse 1 on x\n\nstale\n";
        assert_eq!(
            replace_section(last, h, "## Lighthouse 1 on x\n\nnew\n"),
            "# B\n\n## Lighthouse 1 on x\n\nnew\n"
        );
        assert_eq!(
            replace_section("# B\n\ntext\n", h, "S\n"),
            "# B\n\ntext\n\nS\n"
        );
    }
}
