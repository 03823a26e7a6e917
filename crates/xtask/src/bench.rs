//! `cargo xtask bench`: run the benchmarks and record them in BENCHMARKS.md.

use std::fs;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::cmd::{Ctx, header};

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
    let path = ctx.root.join("BENCHMARKS.md");
    fs::write(&path, md).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("\nwrote {}", path.display());
    Ok(())
}

/// Gzipped sizes of what the browser downloads (target: the app's wasm under 300 KB).
fn bundle_sizes(ctx: &Ctx) -> Result<String, String> {
    let dist = ctx.root.join("dist");
    let mut files: Vec<_> = fs::read_dir(&dist)
        .map_err(|e| format!("cannot list {}: {e}", dist.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wasm" || x == "js"))
        .collect();
    for file in ["pkg/dsim_wasm_bg.wasm", "pkg/dsim_wasm.js"] {
        files.push(dist.join(file));
    }
    files.sort();
    let mut md = String::from(
        "\nBundle, release build, gzipped (`gzip -9`):\n\n| file | bytes | gzipped |\n|---|---:|---:|\n",
    );
    for path in files.iter().filter(|p| p.is_file()) {
        let raw = fs::metadata(path).map_or(0, |m| m.len());
        let gz = crate::budget::gzipped_size(ctx, path)?;
        let name = path
            .strip_prefix(&dist)
            .unwrap_or(path)
            .display()
            .to_string();
        md.push_str(&format!("| {name} | {raw} | {gz} |\n"));
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
