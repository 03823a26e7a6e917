//! mdBook runs `mdbook-dsim supports <renderer>` to ask whether it may run the preprocessor
//! for that renderer, then runs it with the book on stdin (see the library's docs).

use std::io::Read;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [cmd, renderer] = args.as_slice()
        && cmd == "supports"
    {
        // The element is HTML: other renderers (print's PDF aside, which is HTML too) get
        // the blocks as mdBook leaves them.
        return if renderer == "html" {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("mdbook-dsim: cannot read the book from stdin: {e}");
        return ExitCode::FAILURE;
    }
    match mdbook_dsim::run(&input) {
        Ok(book) => {
            print!("{book}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mdbook-dsim: {e}");
            ExitCode::FAILURE
        }
    }
}
