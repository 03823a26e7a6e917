//! Every preset's text agrees with its runs: each number it names and each fix it promises is
//! one of the preset's claims (`presets::Claim`), checked here against the simulation.

use dsim_core::claims::{check, count};
use dsim_core::presets::{Claim, Expect, Preset, presets};

#[test]
fn every_presets_text_agrees_with_its_runs() {
    let failures: Vec<String> = presets().iter().filter_map(|p| check(p).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_preset_makes_a_claim_about_its_own_run_and_one_about_its_advice() {
    for p in presets() {
        assert!(
            p.claims.iter().any(|c| c.after.is_empty()),
            "{}: nothing checked about the preset as it is",
            p.key
        );
        assert!(
            p.claims.iter().any(|c| !c.after.is_empty()),
            "{}: its advice is not checked",
            p.key
        );
    }
}

#[test]
fn a_claim_the_run_does_not_bear_out_is_named_with_both_numbers() {
    let wrong = Preset {
        key: "wrong-on-purpose",
        title: "",
        explanation: "",
        query: "mode=at-least-once&crash-after-process=0.002",
        claims: &[Claim {
            after: "",
            count: "duplicates",
            is: Expect::Zero,
        }],
    };
    let e = check(&wrong).unwrap_err();
    assert!(
        e.starts_with("wrong-on-purpose as it is: duplicates is ")
            && e.ends_with("its text says 0"),
        "{e}"
    );
    let fix_that_is_not = Preset {
        claims: &[Claim {
            after: "mode=at-most-once",
            count: "lost",
            is: Expect::Zero,
        }],
        ..wrong
    };
    let e = check(&fix_that_is_not).unwrap_err();
    assert!(e.contains("with mode=at-most-once: lost is "), "{e}");
}

#[test]
fn counts_are_read_by_their_place_in_the_report() {
    let p = presets()
        .iter()
        .find(|p| p.key == "rabbitmq-requeue-on-close")
        .unwrap();
    let r = dsim_core::simulate(&p.scenario().unwrap()).unwrap();
    assert_eq!(count(&r, "duplicates"), Some(r.duplicates));
    assert_eq!(
        count(&r, "queue.redelivered"),
        Some(r.queue.as_ref().unwrap().redelivered)
    );
    assert_eq!(
        count(&r, "guarantee.held"),
        Some(u64::from(r.guarantee.held))
    );
    assert_eq!(
        count(&r, "sqs.receives"),
        None,
        "no SQS section on RabbitMQ"
    );
}
