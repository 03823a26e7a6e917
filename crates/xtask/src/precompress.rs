//! Pre-compressed copies beside the release build's large files (issue 30, "Less to fetch
//! first"): `NAME.gz` (`gzip -9 -n`) and `NAME.br` (`brotli -q 11`) beside every `.wasm` and
//! `.js` over `MIN_BYTES`, so a host can send them as they are (README, "Hosting dist/")
//! instead of compressing on the fly at a lower level, or not at all. Run at the end of the
//! page's post-build hook (`split_page::run`, on Trunk's staging folder) and on the JS API's
//! `dist/pkg/` (`test::trunk_build`).

use std::fs;
use std::path::{Path, PathBuf};

use crate::cmd::Ctx;

/// Smaller files are not worth a copy: a response's headers weigh about as much.
pub const MIN_BYTES: u64 = 1024;

/// Writes `NAME.gz` and `NAME.br` beside each large `.wasm` and `.js` directly in `dir`,
/// replacing older ones.
pub fn run(ctx: &Ctx, dir: &Path) -> Result<(), String> {
    for file in candidates(dir)? {
        ctx.cmd("gzip")
            .args(["-9", "-k", "-n", "-f", "--"])
            .arg(&file)
            .read()?;
        ctx.cmd("brotli")
            .args(["-q", "11", "-k", "-f", "--"])
            .arg(&file)
            .read()?;
        let size = |suffix: &str| fs::metadata(with_suffix(&file, suffix)).map_or(0, |m| m.len());
        println!(
            "precompress: {}: {} bytes, {} as .gz, {} as .br",
            file.file_name().unwrap_or_default().to_string_lossy(),
            size(""),
            size(".gz"),
            size(".br")
        );
    }
    Ok(())
}

/// The `.wasm`, `.js`, `.html` and `.css` files directly in `dir` larger than `MIN_BYTES`, sorted.
fn candidates(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_compressible(p))
        .filter(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.len() > MIN_BYTES))
        .collect();
    files.sort();
    Ok(files)
}

/// A `.wasm`, `.js`, `.html` or `.css` file: never one of the copies (`.wasm.br` ends in `.br`).
pub fn is_compressible(path: &Path) -> bool {
    // index.html too: it carries the prerendered first paint (about 100 KB, 16 KB as brotli).
    path.extension()
        .is_some_and(|x| x == "wasm" || x == "js" || x == "html" || x == "css")
}

/// `path` with `suffix` appended to its whole name: `a.wasm` and `.br` give `a.wasm.br`.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The file's size as brotli sends it: its `.br` copy's, or `brotli -q 11`'s output when it
/// has none.
pub fn brotli_size(ctx: &Ctx, path: &Path) -> Result<u64, String> {
    if let Ok(m) = fs::metadata(with_suffix(path, ".br")) {
        return Ok(m.len());
    }
    let out = ctx
        .cmd("sh")
        .arg("-c")
        .arg(format!("brotli -q 11 -c -- '{}' | wc -c", path.display()))
        .read()?;
    out.trim()
        .parse()
        .map_err(|_| format!("brotli of {} gave {out:?}, not a size", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn decompressed(tool: &str, file: &Path) -> Vec<u8> {
        let out = Command::new(tool).arg("-dc").arg(file).output().unwrap();
        assert!(out.status.success(), "{tool} -dc {}", file.display());
        out.stdout
    }

    #[test]
    fn the_copies_decompress_to_the_original_byte_for_byte() {
        let ctx = Ctx::new();
        let missing: Vec<&str> = ["gzip", "brotli"]
            .into_iter()
            .filter(|t| ctx.which(t).is_none())
            .collect();
        if !missing.is_empty() {
            println!(
                "skipped: {} not on PATH (cargo xtask install)",
                missing.join(", ")
            );
            return;
        }
        let dir = std::env::temp_dir().join(format!("xtask-precompress-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        // Every byte value, so no text-only path could pass.
        let big: Vec<u8> = (0..8000u32).map(|i| (i * 7 % 256) as u8).collect();
        fs::write(dir.join("app_bg.wasm"), &big).unwrap();
        fs::write(dir.join("app.js"), "export const x = 1;\n".repeat(100)).unwrap();
        fs::write(dir.join("small.js"), "x").unwrap();
        fs::write(dir.join("style.css"), "p{}".repeat(1000)).unwrap();
        fs::write(dir.join("notes.txt"), "p{}".repeat(1000)).unwrap();

        run(&ctx, &dir).unwrap();
        for name in ["app_bg.wasm", "app.js", "style.css"] {
            let original = fs::read(dir.join(name)).unwrap();
            let file = dir.join(name);
            assert_eq!(
                decompressed("gzip", &with_suffix(&file, ".gz")),
                original,
                "{name}.gz"
            );
            assert_eq!(
                decompressed("brotli", &with_suffix(&file, ".br")),
                original,
                "{name}.br"
            );
        }
        for name in ["small.js.gz", "small.js.br", "notes.txt.br", "app.js.br.gz"] {
            assert!(!dir.join(name).exists(), "{name} should not exist");
        }
        // A second run replaces the copies instead of failing on them.
        run(&ctx, &dir).unwrap();
        assert_eq!(
            brotli_size(&ctx, &dir.join("app.js")).unwrap(),
            fs::metadata(dir.join("app.js.br")).unwrap().len()
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
