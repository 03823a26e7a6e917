//! Project automation, run as `cargo xtask <command>` (alias in .cargo/config.toml).

mod bench;
mod book;
mod budget;
mod cmd;
mod element;
mod file_server;
mod folders;
mod install;
mod lighthouse;
mod meta;
mod precompress;
mod prerender;
mod serve;
mod split_page;
mod test;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  install            install every tool the project needs (skips what is present)
  serve [--release]  serve the web UI on http://127.0.0.1:8080 with trunk
  test [STEP...]     run every check and test, as CI does (.ci/run); or only the
                     named steps: install fmt boundary clippy native wasm-web
                     wasm-api trunk e2e
  bench              run the benchmarks and rewrite BENCHMARKS.md (Lighthouse included)
  bench lighthouse   only Lighthouse, against the dist/ there is: rewrites its
                     section of BENCHMARKS.md
  folders [SRC]      print the arrows between dsim-core's folders (or those of the
                     crate source at SRC) and the circles among them
  split-page         trunk's post-build hook (Trunk.toml): split the release page's
                     wasm into the dashboard's module and the lower panels' chunk,
                     then prerender the page's first paint into index.html
  prerender [DIR]    write the default run's first paint into DIR/index.html
                     (default dist/): headless Chromium renders the built page";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let ctx = cmd::Ctx::new();
    let result = match args.as_slice() {
        ["install"] => {
            cmd::header("install tools");
            install::install(&ctx, install::Scope::All)
        }
        ["serve"] => serve::run(&ctx, false),
        ["serve", "--release"] => serve::run(&ctx, true),
        ["test", only @ ..] => test::run(&ctx, only),
        ["bench"] => bench::run(&ctx),
        ["bench", "lighthouse"] => bench::lighthouse_only(&ctx),
        ["folders"] => folders::print(&ctx.root.join(folders::CORE_SRC)),
        ["folders", src] => folders::print(std::path::Path::new(src)),
        ["split-page"] => split_page::run(&ctx),
        ["prerender"] => prerender::run(&ctx, &ctx.root.join("dist")),
        ["prerender", dir] => prerender::run(&ctx, std::path::Path::new(dir)),
        [] | ["help" | "-h" | "--help"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown arguments: {}\n\n{USAGE}", args.join(" "))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}
