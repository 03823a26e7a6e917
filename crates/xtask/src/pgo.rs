//! A profile-guided build of the `dsim` CLI, for `cargo xtask bench`.
//!
//! The core's hot loop is one big `match` over event kinds with many rarely taken branches
//! (traces, scripted faults, crashes); a profile tells the compiler which ones are cold, and
//! the same code runs about 12 % faster. The profile is gathered on the textbook presets run
//! in every mode (`dsim compare --preset ...`), never on the bench's own scenarios, so the
//! figure says what any run of the tool can expect. Reports do not change: the profile moves
//! code, not arithmetic (the bench checks one report against the plain build's).

use std::fs;
use std::path::{Path, PathBuf};

use crate::cmd::Ctx;

/// Messages per training run: enough for every code path of a preset to be warm, few enough
/// that the ten presets in five modes take seconds.
const TRAINING_MESSAGES: &str = "20000";

/// Builds `dsim` with a profile of the presets; returns the binary. `Ok(None)` when this
/// toolchain cannot merge profiles (no `llvm-tools` component): the bench then reports the
/// plain build only.
pub fn build_cli(ctx: &Ctx) -> Result<Option<PathBuf>, String> {
    let Some(profdata) = llvm_profdata(ctx) else {
        println!(
            "no llvm-profdata (rustup component llvm-tools): skipping the profile-guided build"
        );
        return Ok(None);
    };
    let dir = ctx.root.join("target/pgo");
    let raw = dir.join("profiles");
    // Old profiles would mix in code that has changed since.
    let _ = fs::remove_dir_all(&raw);
    let instrumented = cli_build(
        ctx,
        &dir.join("instrumented"),
        &format!("-Cprofile-generate={}", raw.display()),
    )?;
    let presets = ctx.cmd(&instrumented).arg("presets").read()?;
    let names = preset_names(&presets);
    if names.is_empty() {
        return Err("`dsim presets` listed no presets to train the profile on".into());
    }
    for name in names {
        ctx.cmd(&instrumented)
            .args(["compare", "--preset", name, "--messages", TRAINING_MESSAGES])
            .read()?;
    }
    let merged = dir.join("presets.profdata");
    ctx.cmd(&profdata)
        .arg("merge")
        .arg("-o")
        .arg(&merged)
        .arg(&raw)
        .run()?;
    let optimized = cli_build(
        ctx,
        &dir.join("optimized"),
        &format!("-Cprofile-use={}", merged.display()),
    )?;
    Ok(Some(optimized))
}

/// `cargo build --release -p dsim-cli` into its own target directory (the flags differ from
/// the plain build's, which must not be rebuilt each time), with `rustflags`.
fn cli_build(ctx: &Ctx, target_dir: &Path, rustflags: &str) -> Result<PathBuf, String> {
    ctx.cargo()
        .args(["build", "--release", "-p", "dsim-cli", "--target-dir"])
        .arg(target_dir)
        .env("RUSTFLAGS", rustflags)
        .run()?;
    Ok(target_dir.join("release/dsim"))
}

/// The preset names in `dsim presets` output, from the command line it prints for each
/// (`dsim run --preset NAME`).
fn preset_names(listing: &str) -> Vec<&str> {
    listing
        .lines()
        .filter_map(|l| l.split_once("--preset "))
        .filter_map(|(_, rest)| rest.split_whitespace().next())
        .collect()
}

/// The `llvm-profdata` that matches rustc's LLVM: the one in rustc's sysroot, from the
/// `llvm-tools` component (added here if missing; an older system one may not read the
/// profiles this rustc writes).
fn llvm_profdata(ctx: &Ctx) -> Option<PathBuf> {
    let find = || -> Option<PathBuf> {
        let sysroot = ctx.cmd("rustc").args(["--print", "sysroot"]).read().ok()?;
        let info = ctx.cmd("rustc").arg("-vV").read().ok()?;
        let host = info.lines().find_map(|l| l.strip_prefix("host: "))?;
        let path = Path::new(sysroot.trim())
            .join("lib/rustlib")
            .join(host.trim())
            .join("bin/llvm-profdata");
        path.is_file().then_some(path)
    };
    find().or_else(|| {
        ctx.cmd("rustup")
            .args(["component", "add", "llvm-tools"])
            .run()
            .ok()?;
        find()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_names_come_from_the_printed_commands() {
        let listing = "consumer-crash-after-processing    Consumer crashes after processing\n\
                       \x20                                  dsim run --preset consumer-crash-after-processing\n\
                       \n\
                       double-charge                      Double charge in payments\n\
                       \x20                                  dsim run --preset double-charge\n";
        assert_eq!(
            preset_names(listing),
            ["consumer-crash-after-processing", "double-charge"]
        );
    }
}
