//! `cargo xtask install`: every tool the project needs, each skipped when present.

use std::fs;

use crate::cmd::Ctx;

pub const TRUNK_VERSION: &str = "0.21.14";
pub const WASM_PACK_VERSION: &str = "0.15.1";
/// Debian's binaryen (v108) miscompiles our wasm; the npm build is current.
pub const BINARYEN_VERSION: &str = "123.0.0";
/// The accessibility rules the end-to-end test injects into the page (tests/e2e.rs, step 26).
pub const AXE_CORE_VERSION: &str = "4.10.3";
/// Splits the release page's wasm (`cargo xtask split-page`); the crate's binary is
/// `wasm-split-cli`. Its split-section format must match `wasm_split_helpers` in Cargo.lock.
pub const WASM_SPLIT_VERSION: &str = "0.2.4";
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// mdBook, which builds the book (`book/`, into `dist/book/`) in Trunk's post-build hook.
/// 0.5 wants rustc 1.88; only its `search` feature (no `serve`, no `watch`: half the build).
pub const MDBOOK_VERSION: &str = "0.5.4";
/// Run by `cargo xtask bench` only, never by the tests. 13 wants Node 22; Debian has 20.
pub const LIGHTHOUSE_VERSION: &str = "12.2.3";
/// The RabbitMQ node `cargo xtask test validate` checks the simulator against (Debian's
/// rabbitmq-server, 3.10.8 on bookworm). crates/dsim-validate runs this script directly.
pub const RABBITMQ_SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything `cargo xtask test` needs.
    All,
    /// Only what building and serving the web UI needs (no browser, no wasm-pack).
    Web,
    /// What a release build of the web UI needs: the web tools and the headless browser that
    /// prerenders the page's first paint (`cargo xtask prerender`).
    ReleaseWeb,
}

pub fn install(ctx: &Ctx, scope: Scope) -> Result<(), String> {
    apt_packages(ctx, scope)?;
    if scope == Scope::All {
        rustfmt(ctx)?;
    }
    wasm_target(ctx)?;
    trunk(ctx)?;
    wasm_bindgen_cli(ctx)?;
    wasm_split_cli(ctx)?;
    mdbook(ctx)?;
    if scope == Scope::All {
        wasm_pack(ctx)?;
        npm_package(ctx, "axe-core", AXE_CORE_VERSION)?;
    }
    binaryen(ctx)
}

/// `<root>/.tools/<name>/node_modules/<name>`: where [`npm_package`] puts a package.
pub fn npm_package_dir(ctx: &Ctx, name: &str) -> std::path::PathBuf {
    ctx.root
        .join(".tools")
        .join(name)
        .join("node_modules")
        .join(name)
}

/// An npm package at exactly `version`, in a prefix of its own under `.tools/`; skipped when
/// that version is there already.
fn npm_package(ctx: &Ctx, name: &str, version: &str) -> Result<(), String> {
    let dir = npm_package_dir(ctx, name);
    let wanted = format!("\"version\": \"{version}\"");
    let installed = fs::read_to_string(dir.join("package.json"))
        .is_ok_and(|m| m.lines().any(|l| l.trim().trim_end_matches(',') == wanted));
    if installed {
        println!("ok {name} {version} (already installed)");
        return Ok(());
    }
    let prefix = ctx.root.join(".tools").join(name);
    println!(
        "installing {name} {version} (npm, into {})",
        prefix.display()
    );
    fs::create_dir_all(&prefix).map_err(|e| format!("cannot create {}: {e}", prefix.display()))?;
    ctx.cmd("npm")
        .args(["install", "--prefix"])
        .arg(&prefix)
        .args(["--no-audit", "--no-fund", "--save-exact"])
        .arg(format!("{name}@{version}"))
        .run()
}

/// First line of `<bin> --version`, or "" if it has none.
fn version_of(ctx: &Ctx, bin: &str) -> String {
    ctx.cmd(bin)
        .arg("--version")
        .read()
        .map(|out| out.lines().next().unwrap_or_default().trim().to_string())
        .unwrap_or_default()
}

fn has_version(ctx: &Ctx, bin: &str, version: &str) -> bool {
    ctx.which(bin).is_some()
        && version_of(ctx, bin)
            .split_whitespace()
            .any(|w| w.trim_start_matches('v') == version)
}

fn apt_packages(ctx: &Ctx, scope: Scope) -> Result<(), String> {
    // (binary, Debian packages that provide it)
    // brotli: the release build writes a `.br` beside each large file (precompress.rs).
    let mut wanted: Vec<(&str, &[&str])> =
        vec![("npm", &["nodejs", "npm"]), ("brotli", &["brotli"])];
    if scope != Scope::Web {
        wanted.push(("chromium", &["chromium"]));
        wanted.push(("chromedriver", &["chromium-driver"]));
    }
    let mut missing = Vec::new();
    if scope == Scope::All {
        // Found by its path and versioned by dpkg, never by running it: `rabbitmq-server
        // --version` starts a broker. apt-get may start the service where an init system
        // runs; the validation starts a private node of its own either way.
        if std::path::Path::new(RABBITMQ_SERVER).exists() {
            let version = ctx
                .cmd("dpkg-query")
                .args(["-W", "-f", "${Version}", "rabbitmq-server"])
                .read()
                .unwrap_or_default();
            println!("ok rabbitmq-server {} (already installed)", version.trim());
        } else {
            missing.push("rabbitmq-server");
        }
    }
    for (bin, packages) in wanted {
        if ctx.which(bin).is_some() {
            println!("ok {bin} {} (already installed)", version_of(ctx, bin));
        } else {
            missing.extend_from_slice(packages);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    println!("installing {} (apt-get)", missing.join(" "));
    let sudo = ctx.cmd("id").arg("-u").read()?.trim() != "0";
    if sudo && ctx.which("sudo").is_none() {
        return Err(format!(
            "need root or sudo to apt-get install {}",
            missing.join(" ")
        ));
    }
    let apt = |args: &[&str]| {
        let c = if sudo {
            ctx.cmd("sudo").arg("apt-get")
        } else {
            ctx.cmd("apt-get")
        };
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive").run()
    };
    apt(&["update"])?;
    apt(&[&["install", "-y"], missing.as_slice()].concat())
}

/// rustfmt, for `cargo fmt --check`. Asked through cargo, not found on PATH: rustup puts a
/// `rustfmt` proxy there even when the component is missing.
pub fn rustfmt(ctx: &Ctx) -> Result<(), String> {
    if let Ok(version) = ctx.cargo().args(["fmt", "--version"]).read() {
        println!("ok {} (already installed)", version.trim());
        return Ok(());
    }
    println!("installing rustfmt (rustup component add)");
    ctx.cmd("rustup")
        .args(["component", "add", "rustfmt"])
        .run()?;
    ctx.cargo()
        .args(["fmt", "--version"])
        .read()
        .map(drop)
        .map_err(|e| format!("rustfmt is still missing after `rustup component add`: {e}"))
}

fn wasm_target(ctx: &Ctx) -> Result<(), String> {
    let installed = ctx
        .cmd("rustup")
        .args(["target", "list", "--installed"])
        .read()?;
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        println!("ok rust target {WASM_TARGET} (already installed)");
        return Ok(());
    }
    println!("installing rust target {WASM_TARGET}");
    ctx.cmd("rustup").args(["target", "add", WASM_TARGET]).run()
}

fn trunk(ctx: &Ctx) -> Result<(), String> {
    if has_version(ctx, "trunk", TRUNK_VERSION) {
        println!("ok trunk {TRUNK_VERSION} (already installed)");
        return Ok(());
    }
    println!("installing trunk {TRUNK_VERSION} (cargo install, ~8 min)");
    ctx.cargo()
        .args(["install", "--locked", &format!("trunk@{TRUNK_VERSION}")])
        .run()
}

/// wasm-bindgen-cli must match the `wasm-bindgen` crate exactly, or trunk and
/// wasm-pack refuse the bundle (and, offline, cannot fetch a matching one).
fn wasm_bindgen_cli(ctx: &Ctx) -> Result<(), String> {
    let Some(version) = locked_version(ctx, "wasm-bindgen")? else {
        println!("skip wasm-bindgen-cli: Cargo.lock has no wasm-bindgen yet");
        return Ok(());
    };
    if has_version(ctx, "wasm-bindgen", &version) {
        println!("ok wasm-bindgen-cli {version} (already installed)");
        return Ok(());
    }
    println!("installing wasm-bindgen-cli {version} (cargo install, ~3 min)");
    // Not --locked: a dependency pinned in its lockfile was yanked from crates.io.
    ctx.cargo()
        .args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &format!("={version}"),
        ])
        .run()
}

/// The version Cargo.lock records for `name` (the newest, if several).
pub fn locked_version(ctx: &Ctx, name: &str) -> Result<Option<String>, String> {
    let lock_path = ctx.root.join("Cargo.lock");
    if !lock_path.exists() {
        // A fresh clone may lack the lockfile; resolving writes it.
        ctx.cargo().arg("generate-lockfile").run()?;
    }
    let lock = fs::read_to_string(&lock_path)
        .map_err(|e| format!("cannot read {}: {e}", lock_path.display()))?;
    let mut found: Vec<String> = Vec::new();
    for package in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            package.lines().find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
            })
        };
        if field("name").as_deref() == Some(name) {
            found.extend(field("version"));
        }
    }
    found.sort_by_key(|v| {
        v.split('.')
            .map(|n| n.parse::<u64>().unwrap_or(0))
            .collect::<Vec<_>>()
    });
    Ok(found.pop())
}

fn wasm_pack(ctx: &Ctx) -> Result<(), String> {
    if has_version(ctx, "wasm-pack", WASM_PACK_VERSION) {
        println!("ok wasm-pack {WASM_PACK_VERSION} (already installed)");
        return Ok(());
    }
    println!("installing wasm-pack {WASM_PACK_VERSION} (cargo install, ~4 min)");
    ctx.cargo()
        .args([
            "install",
            "--locked",
            &format!("wasm-pack@{WASM_PACK_VERSION}"),
        ])
        .run()
}

fn mdbook(ctx: &Ctx) -> Result<(), String> {
    let version = ctx
        .cmd("mdbook")
        .arg("--version")
        .read()
        .unwrap_or_default();
    if version.trim() == format!("mdbook v{MDBOOK_VERSION}") {
        println!("ok mdbook {MDBOOK_VERSION} (already installed)");
        return Ok(());
    }
    println!("installing mdbook {MDBOOK_VERSION} (cargo install, ~3 min)");
    ctx.cargo()
        .args([
            "install",
            "--locked",
            &format!("mdbook@{MDBOOK_VERSION}"),
            "--no-default-features",
            "--features",
            "search",
        ])
        .run()
}

fn wasm_split_cli(ctx: &Ctx) -> Result<(), String> {
    // It has no `--version`; cargo's own list of installed crates says which one is there.
    let installed = ctx
        .cargo()
        .args(["install", "--list"])
        .read()
        .unwrap_or_default();
    if ctx.which("wasm-split-cli").is_some()
        && installed.contains(&format!("wasm_split_cli_support v{WASM_SPLIT_VERSION}:"))
    {
        println!("ok wasm-split-cli {WASM_SPLIT_VERSION} (already installed)");
        return Ok(());
    }
    println!("installing wasm-split-cli {WASM_SPLIT_VERSION} (cargo install, ~3 min)");
    ctx.cargo()
        .args([
            "install",
            "--locked",
            &format!("wasm_split_cli_support@{WASM_SPLIT_VERSION}"),
            "--features",
            "build-binary",
        ])
        .run()
}

fn binaryen(ctx: &Ctx) -> Result<(), String> {
    let dir = ctx.binaryen_dir();
    if !dir.join("node_modules/.bin/wasm-opt").exists() {
        let _ = fs::remove_file(npm_package_dir(ctx, "binaryen").join("package.json"));
    }
    npm_package(ctx, "binaryen", BINARYEN_VERSION)?;
    let wasm_opt = ctx
        .which("wasm-opt")
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    if !wasm_opt.starts_with(&dir.display().to_string()) {
        return Err(format!(
            "wasm-opt resolves to {wasm_opt:?}, not binaryen's under {}",
            dir.display()
        ));
    }
    println!(
        "ok binaryen {BINARYEN_VERSION}: {}",
        version_of(ctx, "wasm-opt")
    );
    Ok(())
}

/// Lighthouse, pinned, under `.tools/lighthouse` (npm, like binaryen); returns its CLI script.
/// Only `cargo xtask bench` asks for it.
pub fn lighthouse(ctx: &Ctx) -> Result<std::path::PathBuf, String> {
    npm_package(ctx, "lighthouse", LIGHTHOUSE_VERSION)?;
    let cli = npm_package_dir(ctx, "lighthouse").join("cli/index.js");
    if !cli.exists() {
        return Err(format!("npm installed no {}", cli.display()));
    }
    Ok(cli)
}
