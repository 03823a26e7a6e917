//! `cargo xtask test`: every check CI runs, in order, stopping at the first failure.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cmd::{Ctx, header};
use crate::folders;
use crate::install::{self, Scope, WASM_TARGET};
use crate::meta::{Package, Workspace};

/// Crates that talk to a real broker (crates/dsim-validate and its AMQP client): native
/// only, never in the core or a wasm bundle. Not tokio, which the validation also uses:
/// `--target all` lists it under the page's wasm-bindgen-futures already, for an Emscripten
/// build behind an unstable cfg that no build here enables.
const FORBIDDEN_IN_BUNDLES: &[&str] = &["dsim-validate", "lapin"];

/// Crates the core must never pull in: it stays a pure, deterministic library
/// that the CLI, the web UI and the JS API can all share.
const FORBIDDEN_IN_CORE: &[&str] = &["leptos", "web-sys", "js-sys", "wasm-bindgen", "getrandom"];

/// Workspace crates that cannot build for the host. Empty on purpose: the web
/// crates are meant to compile natively too; add one here only if that breaks.
const NATIVE_EXCLUDE: &[&str] = &[];

const TESTS_PACKAGE: &str = "dsim-tests";
/// dsim-tests targets that drive Chromium against the release build in dist/.
const BROWSER_TESTS: &[&str] = &["e2e", "embed_example"];

const MINUTE: Duration = Duration::from_secs(60);

pub(crate) enum Outcome {
    Passed,
    Skipped(String),
}

type StepFn = fn(&Ctx) -> Result<Outcome, String>;

/// (key for `cargo xtask test <key>...`, title, step)
const STEPS: &[(&str, &str, StepFn)] = &[
    ("install", "install tools", install_all),
    ("fmt", "cargo fmt --check", format),
    ("boundary", "dsim-core dependency boundary", boundary),
    (
        "clippy",
        "clippy, native and the split page, -D warnings",
        clippy,
    ),
    ("native", "native tests", native_tests),
    (
        "validate",
        "RabbitMQ model vs a real RabbitMQ (dsim-validate)",
        validate,
    ),
    ("wasm-web", "dsim-web tests in Chromium", wasm_web),
    ("wasm-api", "dsim-wasm tests (wasm-pack)", wasm_api),
    ("trunk", "release build: page + JS API", trunk_build),
    ("e2e", "end-to-end tests in Chromium", e2e),
];

/// Runs every step, or only those named in `only` (for a quick local rerun).
pub fn run(ctx: &Ctx, only: &[&str]) -> Result<(), String> {
    let keys: Vec<&str> = STEPS.iter().map(|s| s.0).collect();
    if let Some(bad) = only.iter().find(|k| !keys.contains(k)) {
        return Err(format!("unknown step {bad:?}; steps: {}", keys.join(" ")));
    }
    let steps: Vec<_> = STEPS
        .iter()
        .filter(|s| only.is_empty() || only.contains(&s.0))
        .collect();
    let start = Instant::now();
    let mut report = Vec::new();
    let (mut passed, mut skipped) = (0, 0);
    for (i, &&(key, title, step)) in steps.iter().enumerate() {
        header(&format!("[{}/{}] {title}", i + 1, steps.len()));
        let step_start = Instant::now();
        let result = step(ctx);
        let took = step_start.elapsed().as_secs();
        match result {
            Ok(Outcome::Passed) => {
                passed += 1;
                report.push(format!("  ok    {title} ({took}s)"));
            }
            Ok(Outcome::Skipped(why)) => {
                skipped += 1;
                println!("skipped: {why}");
                report.push(format!("  skip  {title}: {why}"));
            }
            Err(e) => {
                report.push(format!("  FAIL  {title} ({took}s): {e}"));
                summary(&report, start);
                println!("steps: {passed} passed, 1 failed, {skipped} skipped");
                return Err(format!("step \"{key}\" ({title}) failed: {e}"));
            }
        }
    }
    summary(&report, start);
    println!("steps: {passed} passed, 0 failed, {skipped} skipped");
    Ok(())
}

fn install_all(ctx: &Ctx) -> Result<Outcome, String> {
    install::install(ctx, Scope::All)?;
    Ok(Outcome::Passed)
}

fn summary(report: &[String], start: Instant) {
    let secs = start.elapsed().as_secs();
    header(&format!("summary ({}m{:02}s)", secs / 60, secs % 60));
    for line in report {
        println!("{line}");
    }
}

fn format(ctx: &Ctx) -> Result<Outcome, String> {
    // A missing rustfmt is installed or fails the step: a skip would pass unformatted code.
    install::rustfmt(ctx)?;
    ctx.cargo().args(["fmt", "--all", "--check"]).run()?;
    Ok(Outcome::Passed)
}

fn boundary(ctx: &Ctx) -> Result<Outcome, String> {
    if Workspace::load(ctx)?.package("dsim-core").is_none() {
        return Ok(Outcome::Skipped("no dsim-core package yet".into()));
    }
    // --target all: a wasm-only [target.'cfg(..)'.dependencies] entry must count too.
    let tree = ctx
        .cargo()
        .args([
            "tree",
            "-p",
            "dsim-core",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--target", "all", "--all-features"])
        .read()?;
    let mut offending: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| FORBIDDEN_IN_CORE.contains(name))
        .collect();
    offending.sort_unstable();
    offending.dedup();
    if !offending.is_empty() {
        return Err(format!(
            "dsim-core depends on {} (directly or transitively); it must stay free of {}. \
             See `cargo tree -p dsim-core -e normal --target all -i {}`",
            offending.join(", "),
            FORBIDDEN_IN_CORE.join(", "),
            offending[0]
        ));
    }
    println!(
        "dsim-core: none of {} in its dependency tree",
        FORBIDDEN_IN_CORE.join(", ")
    );
    // Inside the core: the arrows between its folders are the listed ones, and no more.
    let graph = folders::graph(&ctx.root.join(folders::CORE_SRC))?;
    println!("{}", folders::check(&graph)?);
    let branches = folders::family_branches(&ctx.root.join(folders::CORE_SRC))?;
    if !branches.is_empty() {
        return Err(format!(
            "only {} may branch on the broker family (a dispatch method there, named after the \
             step, calls each family's folder); found:\n  {}",
            folders::FAMILY_DISPATCH.join(" and "),
            branches.join("\n  ")
        ));
    }
    println!("{}", core_lints(&ctx.root)?);
    for package in ["dsim-core", "dsim-wasm", "dsim-web"] {
        if Workspace::load(ctx)?.package(package).is_none() {
            continue;
        }
        let tree = ctx
            .cargo()
            .args(["tree", "-p", package, "-e", "normal", "--prefix", "none"])
            .args(["--target", "all"])
            .read()?;
        let leaked: Vec<&str> = tree
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .filter(|name| FORBIDDEN_IN_BUNDLES.contains(name))
            .collect();
        if let Some(name) = leaked.first() {
            return Err(format!(
                "{package} depends on {name}: the real-broker validation must stay out of the core and the wasm bundles. \
                 See `cargo tree -p {package} -e normal --target all -i {name}`"
            ));
        }
    }
    println!(
        "dsim-core, dsim-wasm, dsim-web: none of {} in their dependency trees",
        FORBIDDEN_IN_BUNDLES.join(", ")
    );
    Ok(Outcome::Passed)
}

/// Runs crates/dsim-validate's tests with the real-broker test switched on: every case on a
/// private RabbitMQ node the harness starts and stops, and in the simulator. The server
/// comes from `install`; a machine without it gets it here, so the step never passes by
/// skipping.
fn validate(ctx: &Ctx) -> Result<Outcome, String> {
    if Workspace::load(ctx)?.package("dsim-validate").is_none() {
        return Ok(Outcome::Skipped("no dsim-validate package yet".into()));
    }
    if !Path::new(install::RABBITMQ_SERVER).exists() {
        install::install(ctx, Scope::All)?;
    }
    ctx.cargo()
        .args(["test", "-p", "dsim-validate", "--", "--nocapture"])
        .env("DSIM_VALIDATE_RABBITMQ", "1")
        // Each case is bounded (60 s at most, a few seconds in practice) and the node
        // starts in about 6 s; this bounds a hang, not the step.
        .ci_time_limit(15 * MINUTE)
        .run()?;
    Ok(Outcome::Passed)
}

/// What dsim-core's clippy.toml must ban, for the clippy step to hold the core to its
/// determinism invariants (ARCHITECTURE.md, "Invariants").
const CORE_BANS: &[&str] = &[
    "std::time::Instant::now",
    "std::time::SystemTime::now",
    "f64::ln",
    "f64::exp",
    "f64::powf",
    "f64::powi",
    "std::collections::HashMap",
    "std::collections::HashSet",
    "rustc_hash::FxHashMap",
];
const CORE_DENY: &str = "#![deny(clippy::disallowed_methods, clippy::disallowed_types)]";

/// Checks that the bans the clippy step enforces in dsim-core are still in place: the crate's
/// own clippy.toml (which clippy reads from the crate's manifest directory, so it binds
/// dsim-core alone) names each of `CORE_BANS`, and its lib.rs makes both lints errors.
fn core_lints(root: &Path) -> Result<String, String> {
    let core = root.join("crates/dsim-core");
    let read = |p: PathBuf| {
        fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    let config = read(core.join("clippy.toml"))?;
    let missing: Vec<&str> = CORE_BANS
        .iter()
        .copied()
        .filter(|path| !config.contains(&format!("path = \"{path}\"")))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "crates/dsim-core/clippy.toml no longer bans {}: the core's determinism relies on it",
            missing.join(", ")
        ));
    }
    if !read(core.join("src/lib.rs"))?.contains(CORE_DENY) {
        return Err(format!(
            "crates/dsim-core/src/lib.rs lost `{CORE_DENY}`: clippy.toml's bans would only warn"
        ));
    }
    Ok(format!(
        "dsim-core: clippy.toml bans {} and more; lib.rs denies them",
        CORE_BANS.join(", ")
    ))
}

fn clippy(ctx: &Ctx) -> Result<Outcome, String> {
    let ws = Workspace::load(ctx)?;
    ctx.cargo()
        .args(["clippy", "--workspace", "--all-targets"])
        .args(excludes(&ws, NATIVE_EXCLUDE))
        .args(["--", "-D", "warnings"])
        .ci_time_limit(30 * MINUTE)
        .run()?;
    // The page's release build compiles code no other build has: its split point
    // (crates/dsim-web/build.rs sets `dsim_split` for this profile only).
    ctx.cargo()
        .args(["clippy", "-p", "dsim-web", "--bin", "dsim-web"])
        .args([
            "--target",
            crate::install::WASM_TARGET,
            "--profile",
            "wasm-release",
        ])
        .args(["--", "-D", "warnings"])
        .ci_time_limit(30 * MINUTE)
        .run()?;
    Ok(Outcome::Passed)
}

fn native_tests(ctx: &Ctx) -> Result<Outcome, String> {
    let ws = Workspace::load(ctx)?;
    // The browser tests need the release page; they run last, on their own.
    let tests_pkg = ws.package(TESTS_PACKAGE);
    let mut skip: Vec<&str> = NATIVE_EXCLUDE.to_vec();
    skip.extend(tests_pkg.map(|p| p.name.as_str()));
    native_test_cmd(ctx)
        .arg("--workspace")
        .args(excludes(&ws, &skip))
        .run()?;

    if let Some(pkg) = tests_pkg {
        let selection = targets_except_browser_tests(pkg);
        if selection.is_empty() {
            println!("{TESTS_PACKAGE}: no test targets besides the browser tests");
        } else {
            native_test_cmd(ctx)
                .args(["-p", TESTS_PACKAGE])
                .args(selection)
                .run()?;
        }
    }
    Ok(Outcome::Passed)
}

fn native_test_cmd(ctx: &Ctx) -> crate::cmd::Cmd {
    ctx.cargo()
        .arg("test")
        // Slow tests are opt-in locally but must run in CI.
        .env("DSIM_SLOW_TESTS", "1")
        .env_remove("DSIM_E2E")
        .ci_time_limit(40 * MINUTE)
}

/// Cargo can exclude packages but not single test targets, so name all the others.
fn targets_except_browser_tests(pkg: &Package) -> Vec<String> {
    let mut args = Vec::new();
    for t in &pkg.targets {
        let is = |kind: &str| t.kinds.iter().any(|k| k == kind);
        if is("lib") {
            args.push("--lib".to_string());
        } else if is("bin") {
            args.extend(["--bin".to_string(), t.name.clone()]);
        } else if is("test") && !BROWSER_TESTS.contains(&t.name.as_str()) {
            args.extend(["--test".to_string(), t.name.clone()]);
        }
    }
    args
}

fn excludes(ws: &Workspace, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .filter(|n| ws.package(n).is_some())
        .flat_map(|n| ["--exclude".to_string(), n.to_string()])
        .collect()
}

fn wasm_web(ctx: &Ctx) -> Result<Outcome, String> {
    let Some(dir) = wasm_test_crate(ctx, "dsim-web")? else {
        return Ok(Outcome::Skipped("dsim-web has no wasm tests yet".into()));
    };
    ctx.cargo()
        .args(["test", "--target", WASM_TARGET, "-p", "dsim-web"])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("CHROMEDRIVER", chromedriver(ctx)?)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
        // The runner reads webdriver.json (Chromium's --no-sandbox etc.) from the cwd.
        .dir(dir)
        .ci_time_limit(30 * MINUTE)
        .run()?;
    Ok(Outcome::Passed)
}

fn wasm_api(ctx: &Ctx) -> Result<Outcome, String> {
    let Some(dir) = wasm_test_crate(ctx, "dsim-wasm")? else {
        return Ok(Outcome::Skipped("dsim-wasm has no wasm tests yet".into()));
    };
    // no-install: wasm-pack must use the tools `install` pinned, never download its own.
    ctx.cmd("wasm-pack")
        .args([
            "test",
            "--headless",
            "--chrome",
            "--mode",
            "no-install",
            "--chromedriver",
        ])
        .arg(chromedriver(ctx)?)
        .arg(&dir)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
        .dir(dir)
        .ci_time_limit(30 * MINUTE)
        .run()?;
    Ok(Outcome::Passed)
}

/// The crate's directory, if the crate exists and has any wasm-bindgen tests.
fn wasm_test_crate(ctx: &Ctx, name: &str) -> Result<Option<PathBuf>, String> {
    let ws = Workspace::load(ctx)?;
    let Some(pkg) = ws.package(name) else {
        return Ok(None);
    };
    let has_tests =
        pkg.dir.join("tests").is_dir() || mentions(&pkg.dir.join("src"), "wasm_bindgen_test");
    Ok(has_tests.then(|| pkg.dir.clone()))
}

fn mentions(dir: &Path, needle: &str) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let path = e.path();
        if path.is_dir() {
            mentions(&path, needle)
        } else {
            path.extension().is_some_and(|x| x == "rs")
                && fs::read_to_string(&path).is_ok_and(|s| s.contains(needle))
        }
    })
}

pub(crate) fn chromedriver(ctx: &Ctx) -> Result<PathBuf, String> {
    ctx.which("chromedriver")
        .ok_or_else(|| "chromedriver not found (run `cargo xtask install`)".to_string())
}

pub(crate) fn trunk_build(ctx: &Ctx) -> Result<Outcome, String> {
    if !ctx.root.join("index.html").exists() {
        return Ok(Outcome::Skipped(
            "no index.html yet (web UI not written)".into(),
        ));
    }
    // Trunk.toml sets offline = true, so cargo must have every crate already.
    ctx.cargo().arg("fetch").run()?;
    trunk(ctx)
        .args(["build", "--release"])
        .ci_time_limit(30 * MINUTE)
        .run()?;
    js_api_into_dist(ctx)?;
    header("bundle size budgets");
    crate::budget::check(ctx)?;
    header("the built page's policy");
    built_page_checks(ctx)?;
    Ok(Outcome::Passed)
}

/// The tests that read what ships (the page, the book), which the native step (before any
/// build) can only skip; `BUILT_TESTS` of them must run.
const BUILT_PAGE_TEST: &str = "page_hardening::the_built_";
const BUILT_TESTS: usize = 2;

/// Runs the `BUILT_PAGE_TEST` tests on the fresh dist/. With `DSIM_DIST` set, they fail
/// instead of skipping when there is nothing there; and a filter that matches no test passes
/// in cargo, so a renamed test must fail here, not turn this into a check of nothing.
fn built_page_checks(ctx: &Ctx) -> Result<(), String> {
    let out = ctx
        .cargo()
        .args(["test", "-p", TESTS_PACKAGE, "--lib", BUILT_PAGE_TEST])
        .env("DSIM_DIST", ctx.root.join("dist"))
        .read_shown()?;
    print!("{out}");
    if !out.contains(&format!("test result: ok. {BUILT_TESTS} passed")) {
        return Err(format!(
            "not all {BUILT_TESTS} of `{BUILT_PAGE_TEST}*` ran (renamed?)"
        ));
    }
    Ok(())
}

/// The JS API is built for speed, like the page's worker: see `worker-release` in Cargo.toml.
pub const JS_API_PROFILE: &str = "worker-release";

/// The embedding example is served next to the playground and loads the JS API from
/// dist/pkg (docs/embedding.md); trunk wipes dist/, so both go in after it.
fn js_api_into_dist(ctx: &Ctx) -> Result<(), String> {
    let dist = ctx.root.join("dist");
    let Some(api) = Workspace::load(ctx)?
        .package("dsim-wasm")
        .map(|p| p.dir.clone())
    else {
        println!("no dsim-wasm yet: dist/ has no pkg/");
        return Ok(());
    };
    let pkg = dist.join("pkg");
    ctx.cmd("wasm-pack")
        .args([
            "build",
            "--profile",
            JS_API_PROFILE,
            "--target",
            "web",
            "--mode",
            "no-install",
        ])
        .arg("--out-dir")
        .arg(&pkg)
        .arg(&api)
        .ci_time_limit(20 * MINUTE)
        .run()?;
    crate::precompress::run(ctx, &pkg)?;
    // No wasm-opt here: every binaryen level (even -O3) made the simulation 15-20% slower in
    // V8 (measured in node on the benchmark scenarios), and this module exists to simulate.
    for file in ["embed-example.html", "embed-example.js"] {
        let from = ctx.root.join("web").join(file);
        if from.exists() {
            fs::copy(&from, dist.join(file))
                .map_err(|e| format!("cannot copy {} into dist/: {e}", from.display()))?;
        }
    }
    Ok(())
}

pub fn trunk(ctx: &Ctx) -> crate::cmd::Cmd {
    // The update check would reach for GitHub, which this network cannot.
    ctx.cmd("trunk").env("TRUNK_SKIP_VERSION_CHECK", "true")
}

fn e2e(ctx: &Ctx) -> Result<Outcome, String> {
    let ws = Workspace::load(ctx)?;
    let present: Vec<&str> = ws
        .package(TESTS_PACKAGE)
        .map(|p| p.targets.iter().map(|t| t.name.as_str()).collect())
        .unwrap_or_default();
    let tests: Vec<&str> = BROWSER_TESTS
        .iter()
        .copied()
        .filter(|t| present.contains(t))
        .collect();
    if tests.is_empty() {
        return Ok(Outcome::Skipped(format!(
            "{TESTS_PACKAGE} has none of {} yet",
            BROWSER_TESTS.join(", ")
        )));
    }
    if !ctx.root.join("index.html").exists() {
        return Ok(Outcome::Skipped("no index.html, so no page to test".into()));
    }
    let chromium = ctx
        .which("chromium")
        .ok_or_else(|| "chromium not found (run `cargo xtask install`)".to_string())?;
    // The book's elements are checked against what the CLI prints for the same settings.
    ctx.cargo()
        .args(["build", "-q", "-p", "dsim-cli", "--bin", "dsim"])
        .run()?;
    ctx.cargo()
        .args(["test", "-p", TESTS_PACKAGE])
        .args(tests.iter().flat_map(|t| ["--test", t]))
        .env("DSIM_E2E", "1")
        .env("DSIM_DIST", ctx.root.join("dist"))
        .env("DSIM_CLI", ws.target_dir.join("debug/dsim"))
        .env("CHROMEDRIVER", chromedriver(ctx)?)
        .env("CHROMIUM", chromium)
        .env(
            "DSIM_AXE",
            install::npm_package_dir(ctx, "axe-core").join("axe.min.js"),
        )
        .ci_time_limit(20 * MINUTE)
        .run()?;
    Ok(Outcome::Passed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::ctx_with;

    #[test]
    fn the_cores_clippy_bans_are_in_place() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        core_lints(&root).unwrap();
        // A ban taken out is named.
        let tmp = std::env::temp_dir().join(format!("xtask-core-lints-{}", std::process::id()));
        let src = tmp.join("crates/dsim-core/src");
        fs::create_dir_all(&src).unwrap();
        let config = fs::read_to_string(root.join("crates/dsim-core/clippy.toml")).unwrap();
        fs::write(
            tmp.join("crates/dsim-core/clippy.toml"),
            config.replace("\"f64::exp\"", "\"f64::exp_nothing\""),
        )
        .unwrap();
        fs::write(src.join("lib.rs"), CORE_DENY).unwrap();
        let err = core_lints(&tmp).unwrap_err();
        fs::remove_dir_all(&tmp).unwrap();
        assert!(err.contains("f64::exp"), "{err}");
    }

    #[test]
    fn native_tests_run_at_full_strength_whatever_xtask_inherits() {
        let ctx = ctx_with(&[
            ("DSIM_BLESS", "1"),
            ("DSIM_FUZZ_CASES", "0"),
            ("PROPTEST_CASES", "1"),
            ("DSIM_SLOW_TESTS", "0"),
            ("DSIM_E2E", "1"),
        ]);
        let envs = native_test_cmd(&ctx).child_env();
        for key in [
            "DSIM_BLESS",
            "DSIM_FUZZ_CASES",
            "PROPTEST_CASES",
            "DSIM_E2E",
        ] {
            assert_eq!(envs.get(key), Some(&None), "{key}: {envs:?}");
        }
        assert_eq!(envs["DSIM_SLOW_TESTS"].as_deref(), Some("1"));
    }
}
