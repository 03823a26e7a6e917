//! Checks the simulator's RabbitMQ model against a real RabbitMQ server.
//!
//! Each case (`cases`) is a scenario of dsim-core's `rabbitmq` family. It runs in the
//! simulator with every message traced (`simulated`), which gives its numbers and a plan:
//! where each scripted crash struck, counted in deliveries handled, and which publisher
//! confirms the fault plan dropped. The same case then runs on a real broker (`real`): a
//! lapin client publishes with confirms, consumes with the same `basic.qos` prefetch and
//! ack mode, and crashes for real at the plan's points by closing its connection without
//! acking. Both sides are reduced to the same `Observed` numbers and compared (`observed`):
//! exactly for deterministic cases, within 5σ for probabilistic ones. `server` starts and
//! stops a private node when no `--amqp-url` is given.
//!
//! Native only: nothing here enters a wasm bundle, and dsim-core does not depend on it.

pub mod cases;
pub mod observed;
pub mod real;
pub mod server;
pub mod simulated;

use cases::{CASES, Case, Outcome};
use observed::list;

/// Runs the cases against the broker at `url`, one after the other.
pub fn validate(url: &str, cases: &[&Case]) -> Vec<Result<Outcome, String>> {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return cases.iter().map(|_| Err(format!("tokio: {e}"))).collect(),
    };
    cases
        .iter()
        .map(|case| {
            let (simulated, plan) = case.simulate()?;
            let real = runtime.block_on(real::run(url, &plan, case.name))?;
            let mut outcome = Outcome::new(real, simulated, case.agreement);
            outcome.faults = plan.describe();
            Ok(outcome)
        })
        .collect()
}

/// The cases named, or all of them.
pub fn select(names: &[String]) -> Result<Vec<&'static Case>, String> {
    if names.is_empty() {
        return Ok(CASES.iter().collect());
    }
    names
        .iter()
        .map(|n| {
            CASES.iter().find(|c| c.name == n).ok_or_else(|| {
                let all: Vec<_> = CASES.iter().map(|c| c.name).collect();
                format!("no case {n:?}; the cases are {}", all.join(", "))
            })
        })
        .collect()
}

/// The table for one case, as Markdown (it is pasted into VALIDATION.md as printed).
pub fn table(case: &Case, result: &Result<Outcome, String>) -> String {
    let mut out = format!("### {}\n\n`{}`\n\n", case.title, case.query);
    let o = match result {
        Ok(o) => o,
        Err(e) => return out + &format!("**ERROR**: {e}\n"),
    };
    out += &format!("Faults: {}.\n\n", o.faults);
    out += "| | real RabbitMQ | simulated |\n|---|---|---|\n";
    let (r, s) = (&o.real, &o.simulated);
    let rows: [(&str, String, String); 9] = [
        (
            "delivered",
            r.delivered.to_string(),
            s.delivered.to_string(),
        ),
        (
            "redelivered",
            r.redelivered.to_string(),
            s.redelivered.to_string(),
        ),
        (
            "duplicates applied",
            r.duplicates.to_string(),
            s.duplicates.to_string(),
        ),
        ("lost", r.lost.to_string(), s.lost.to_string()),
        (
            "dead-lettered",
            r.dead_lettered.to_string(),
            s.dead_lettered.to_string(),
        ),
        (
            "dedup skips",
            r.dedup_skips.to_string(),
            s.dedup_skips.to_string(),
        ),
        (
            "republished",
            r.republished.to_string(),
            s.republished.to_string(),
        ),
        (
            "redelivery order",
            list(&r.redelivery_order),
            list(&s.redelivery_order),
        ),
        (
            "dead-lettered messages",
            list(&r.dead_letter_ids),
            list(&s.dead_letter_ids),
        ),
    ];
    for (name, real, sim) in rows {
        out += &format!("| {name} | {real} | {sim} |\n");
    }
    if o.agrees() {
        out += "\n**agree**";
        if let observed::Agreement::WithinSigma { trials, p } = case.agreement {
            let sigma = (2.0 * trials as f64 * p / ((1.0 - p) * (1.0 - p))).sqrt();
            out += &format!(
                " (within 5σ = {:.0}: {trials} messages, confirms dropped at p = {p})",
                5.0 * sigma
            );
        }
        out += "\n";
    } else {
        out += "\n**DISAGREE**:\n";
        for d in &o.disagreements {
            out += &format!("- {d}\n");
        }
    }
    out
}

/// One line per case, each cell `real / simulated`, as Markdown.
pub fn summary(cases: &[&Case], results: &[Result<Outcome, String>]) -> String {
    let mut out = String::from(
        "| case | delivered | redelivered | duplicates applied | lost | dead-lettered | verdict |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for (case, result) in cases.iter().zip(results) {
        let line = match result {
            Ok(o) => {
                let pair = |r: u64, s: u64| format!("{r} / {s}");
                let (r, s) = (&o.real, &o.simulated);
                format!(
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    case.name,
                    pair(r.delivered, s.delivered),
                    pair(r.redelivered, s.redelivered),
                    pair(r.duplicates, s.duplicates),
                    pair(r.lost, s.lost),
                    pair(r.dead_lettered, s.dead_lettered),
                    if o.agrees() { "agree" } else { "DISAGREE" },
                )
            }
            Err(_) => format!("| {} | | | | | | ERROR |", case.name),
        };
        out += &line;
        out.push('\n');
    }
    out
}
