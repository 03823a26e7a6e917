//! `dsim-validate`: runs every case on a real RabbitMQ server and in the simulator, prints
//! both side by side, and exits non-zero when any case disagrees.

use std::process::ExitCode;

use dsim_validate::server::Node;
use dsim_validate::{select, summary, table, validate};

const USAGE: &str = "usage: dsim-validate [--amqp-url URL] [--case NAME]...

Runs each case on a real RabbitMQ server and in the simulator's rabbitmq family, and
compares them. Without --amqp-url it starts a private node (Debian's rabbitmq-server,
which `cargo xtask install` installs) on free ports of 127.0.0.1 and stops it at the end.
The broker at --amqp-url gets queues named dsim-validate.*, deleted afterwards.";

fn main() -> ExitCode {
    let mut url = None;
    let mut names = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--amqp-url" => url = args.next(),
            "--case" => names.extend(args.next()),
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("dsim-validate: unknown argument {other:?}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let cases = match select(&names) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dsim-validate: {e}");
            return ExitCode::from(2);
        }
    };
    // The node lives until the end of main; dropping it stops it, on every path.
    let mut node = None;
    let url = match url {
        Some(u) => {
            println!("Broker: {u} (given)\n");
            u
        }
        None => match Node::start() {
            Ok(n) => {
                println!(
                    "Broker: RabbitMQ {} (a private node, started for this run)\n",
                    n.version()
                );
                let u = n.amqp_url();
                node = Some(n);
                u
            }
            Err(e) => {
                eprintln!("dsim-validate: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let results = validate(&url, &cases);
    let mut failed = 0;
    for (case, result) in cases.iter().zip(&results) {
        println!("{}", table(case, result));
        if !result.as_ref().is_ok_and(|o| o.agrees()) {
            failed += 1;
        }
    }
    println!(
        "### Summary (real / simulated)\n\n{}",
        summary(&cases, &results)
    );
    if let Some(mut n) = node {
        n.stop();
        let left = n.leftovers();
        if left.is_empty() {
            println!("The node is stopped, and no process it started is left.");
        } else {
            println!("Processes of the node still running after its stop: {left:?}");
            failed += 1;
        }
    }
    if failed > 0 {
        println!(
            "{failed} check(s) of {} cases disagree or failed.",
            cases.len()
        );
        ExitCode::FAILURE
    } else {
        println!("All {} cases agree.", cases.len());
        ExitCode::SUCCESS
    }
}
