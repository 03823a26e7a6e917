//! The book (`book/`) into `dist/book/`: part of Trunk's post-build hook (`split-page`), in
//! every profile, so `cargo xtask serve` and `cargo xtask test` both have it beside the
//! playground. mdBook runs our preprocessor (`crates/mdbook-dsim`, built here) on every
//! chapter: each ```dsim block becomes a `<delivery-playground>` element, and a bad block
//! fails this build with its chapter, line and field.

use std::path::Path;

use crate::cmd::Ctx;
use crate::meta::Workspace;

/// mdBook's setting `preprocessor.dsim.command`, given from the environment so that
/// `book.toml` does not need to know where cargo puts the binary.
const COMMAND_VARIABLE: &str = "MDBOOK_PREPROCESSOR__DSIM__COMMAND";

pub fn build(ctx: &Ctx, staging: &Path) -> Result<(), String> {
    let book = ctx.root.join("book");
    if !book.join("book.toml").exists() {
        println!("book: no book/book.toml, nothing to build");
        return Ok(());
    }
    if ctx.which("mdbook").is_none() {
        return Err("the book needs mdbook (cargo xtask install)".into());
    }
    ctx.cargo()
        .args(["build", "-q", "-p", "mdbook-dsim", "--bin", "mdbook-dsim"])
        .run()?;
    let preprocessor = Workspace::load(ctx)?.target_dir.join("debug/mdbook-dsim");
    let out = staging.join("book");
    ctx.cmd("mdbook")
        .arg("build")
        .arg(&book)
        .arg("--dest-dir")
        .arg(&out)
        .env(COMMAND_VARIABLE, &preprocessor)
        .run()?;
    println!("book: built into {}", out.display());
    Ok(())
}
