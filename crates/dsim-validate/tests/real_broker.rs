//! The real validation, end to end: the `dsim-validate` binary starts a private RabbitMQ
//! node, runs every case on it and in the simulator, and stops it. Needs Debian's
//! rabbitmq-server, so it runs when `DSIM_VALIDATE_RABBITMQ` is set, as `cargo xtask test
//! validate` (and so CI) sets it.

use std::process::Command;

use dsim_validate::server::Node;

fn enabled() -> bool {
    if std::env::var_os("DSIM_VALIDATE_RABBITMQ").is_some() {
        return true;
    }
    eprintln!(
        "skipped: set DSIM_VALIDATE_RABBITMQ=1 to run the cases on a real RabbitMQ (cargo xtask test validate does)"
    );
    false
}

#[test]
fn every_case_agrees_with_a_real_rabbitmq_and_the_node_leaves_no_process() {
    if !enabled() {
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_dsim-validate"))
        .output()
        .expect("run dsim-validate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The table goes to the test's output either way: CI's log shows what was compared.
    println!("{stdout}");
    assert!(
        out.status.success(),
        "dsim-validate failed:\n{stdout}\n{stderr}"
    );
    let cases = dsim_validate::cases::CASES.len();
    assert!(
        stdout.contains(&format!("All {cases} cases agree.")),
        "{stdout}"
    );
    assert!(stdout.contains("no process it started is left"), "{stdout}");
    assert!(stdout.contains("Broker: RabbitMQ 3."), "{stdout}");
}

/// `--amqp-url`: a broker someone else runs. The harness uses it, starts no node of its own,
/// and deletes its queues afterwards.
#[test]
fn a_running_broker_given_by_url_is_used_as_it_is() {
    if !enabled() {
        return;
    }
    let mut node = Node::start().expect("start a node to stand for a running broker");
    let out = Command::new(env!("CARGO_BIN_EXE_dsim-validate"))
        .args(["--amqp-url", &node.amqp_url()])
        .args(["--case", "manual-ack-requeue-order"])
        .args(["--case", "quorum-delivery-limit"])
        .output()
        .expect("run dsim-validate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("(given)"), "{stdout}");
    assert!(stdout.contains("All 2 cases agree."), "{stdout}");
    assert!(!stdout.contains("The node is stopped"), "{stdout}");
    node.stop();
    assert_eq!(node.leftovers(), Vec::<u32>::new());
}
