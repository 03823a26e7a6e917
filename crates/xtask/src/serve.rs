//! `cargo xtask serve [--release]`: the web UI on http://127.0.0.1:8080.

use crate::cmd::{Ctx, header};
use crate::install::{self, Scope};
use crate::test::trunk;

pub fn run(ctx: &Ctx, release: bool) -> Result<(), String> {
    if !ctx.root.join("index.html").exists() {
        header("no index.html yet: showing the CLI comparison instead of the web UI");
        return ctx
            .cargo()
            .args(["run", "-p", "dsim-cli", "--", "compare"])
            .run();
    }
    header("install web tools");
    install::install(
        ctx,
        if release {
            Scope::ReleaseWeb
        } else {
            Scope::Web
        },
    )?;
    header("serve the web UI on http://127.0.0.1:8080 (the book on http://127.0.0.1:8080/book/)");
    // Trunk.toml sets offline = true, so cargo must have every crate already.
    ctx.cargo().arg("fetch").run()?;
    let mut serve = trunk(ctx).args(["serve", "--address", "127.0.0.1", "--port", "8080"]);
    if release {
        serve = serve.arg("--release");
    }
    serve.run()
}
