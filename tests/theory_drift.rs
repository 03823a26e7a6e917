//! Theory that cannot drift: every probability knob of the knob table, alone and with the
//! others, on every broker that has it and every mode that broker runs. For each scenario
//! `theory::expected` must either answer "no formula" (`None`) or a formula that the runs
//! agree with within five standard errors (an expected zero measured as exactly zero), never
//! a silent 0 for a fault it does not model. A knob added to the table without a thought for
//! theory fails here: `expected` models only the knobs it names (`theory::MODELLED`), so a new
//! one gives `None` until a formula is written and tested.

use dsim_core::theory::{self, Expected};
use dsim_core::{Broker, Kind, Knob, Scenario, knobs};

use crate::support::{replay, run};

const MESSAGES: u32 = 10_000;

fn probability_knobs() -> Vec<&'static Knob> {
    knobs()
        .iter()
        .filter(|k| matches!(k.kind, Kind::Probability))
        .collect()
}

/// The default scenario on `broker` with each `(knob, rate)` set, one per mode it runs.
fn scenarios(broker: Broker, set: &[(&Knob, f64)]) -> Vec<Scenario> {
    let mut base = Scenario {
        messages: MESSAGES,
        ..Scenario::default()
    };
    base.set_broker(broker);
    for (knob, rate) in set {
        knob.set_number(&mut base, *rate)
            .unwrap_or_else(|e| panic!("{}: {e}", knob.key));
    }
    broker.modes().map(|mode| base.with_mode(mode)).collect()
}

/// Checks one scenario: `None`, or a formula the run agrees with. Returns whether theory
/// had a formula.
fn check(s: &Scenario, what: &str) -> bool {
    let Some(Expected {
        duplicates_per_message,
        lost_per_message,
    }) = theory::expected(s)
    else {
        return false;
    };
    let r = run(s);
    let n = f64::from(s.messages);
    // Duplicates are geometric or Bernoulli (variance at most e(1 + e) per message), losses
    // Bernoulli (e(1 - e)).
    for (name, measured, expected, variance) in [
        (
            "duplicates",
            r.duplicates as f64 / n,
            duplicates_per_message,
            duplicates_per_message * (1.0 + duplicates_per_message),
        ),
        (
            "lost",
            r.lost as f64 / n,
            lost_per_message,
            lost_per_message * (1.0 - lost_per_message),
        ),
    ] {
        let tolerance = 5.0 * (variance / n).sqrt();
        assert!(
            (measured - expected).abs() <= tolerance,
            "{what}, {:?} on {:?}: theory says {expected:.4} {name} per message (± {tolerance:.4}) \
             but the run measured {measured:.4}. Model the knob in theory.rs or answer None \
             for it. {}",
            s.mode,
            s.broker,
            replay(s)
        );
    }
    true
}

#[test]
fn every_probability_knob_alone_is_modelled_or_has_no_formula() {
    let mut modelled = Vec::new();
    for knob in probability_knobs() {
        for &broker in knob.brokers {
            // A rate within the knob's own range (`extra-copy` stops at 0.1).
            for rate in [0.05, 0.25].map(|r| r * knob.max) {
                for s in scenarios(broker, &[(knob, rate)]) {
                    let what = format!("{}={rate} alone", knob.key);
                    if check(&s, &what) {
                        modelled.push(knob.key);
                    }
                }
            }
        }
    }
    // Theory still has its formulas: the loop above is not vacuous.
    for key in theory::MODELLED {
        assert!(
            modelled.contains(key),
            "theory::MODELLED names {key}, but no scenario with it alone has a formula"
        );
    }
}

#[test]
fn every_probability_knob_with_the_others_is_modelled_or_has_no_formula() {
    let all = probability_knobs();
    for &broker in &Broker::ALL {
        let on: Vec<&Knob> = all
            .iter()
            .copied()
            .filter(|k| k.applies_to(broker))
            .collect();
        // Each pair, then all of them at once.
        for (i, a) in on.iter().enumerate() {
            for b in &on[i + 1..] {
                let (ra, rb) = (0.05 * a.max, 0.05 * b.max);
                for s in scenarios(broker, &[(a, ra), (b, rb)]) {
                    check(&s, &format!("{}={ra} with {}={rb}", a.key, b.key));
                }
            }
        }
        let every: Vec<(&Knob, f64)> = on.iter().map(|&k| (k, 0.02 * k.max)).collect();
        for s in scenarios(broker, &every) {
            check(&s, "every probability knob at 0.02");
        }
    }
}

#[test]
fn theory_names_only_probability_knobs_of_the_table() {
    let keys: Vec<&str> = probability_knobs().iter().map(|k| k.key).collect();
    for key in theory::MODELLED {
        assert!(
            keys.contains(key),
            "theory::MODELLED names {key}, which is no probability knob of the table"
        );
    }
}
