//! Sweeps as a story: a sweep is nothing but ordinary runs, averaged. Its points are the means
//! of the single runs they summarise (bit for bit), its bands behave like confidence intervals,
//! the same spec gives the same result however it is stepped, and where theory draws a curve
//! the measured points fall on it.

use dsim_core::stats::Estimate;
use dsim_core::sweep::ModeSummary;
use dsim_core::{Mode, Report, Scenario, Sweep, SweepResult, SweepSpec, sweep};

use crate::support::{replay, run, scenario};

fn spec(knob: &str, from: f64, to: f64, steps: u32, seeds: u32) -> SweepSpec {
    SweepSpec {
        knob: knob.into(),
        from,
        to,
        steps,
        seeds,
    }
}

fn summary(result: &SweepResult, point: usize, mode: Mode) -> &ModeSummary {
    result.points[point]
        .modes
        .iter()
        .find(|m| m.mode == mode)
        .expect("every mode at every point")
}

#[test]
fn a_sweeps_points_are_the_means_of_the_single_runs_they_summarise() {
    let base = scenario("messages=300&seed=11&duplicate=0.05");
    let result = sweep(&base, &spec("ack-loss", 0.0, 0.4, 3, 3)).unwrap();
    assert_eq!(result.points.len(), 3);
    for (i, point) in result.points.iter().enumerate() {
        for m in &point.modes {
            // The same runs, built by hand and run through the public `simulate`.
            let reports: Vec<Report> = (0..3)
                .map(|k| {
                    run(&Scenario {
                        mode: m.mode,
                        ack_loss: point.value,
                        seed: base.seed + k,
                        ..base.clone()
                    })
                })
                .collect();
            let of =
                |f: fn(&Report) -> f64| Estimate::of(&reports.iter().map(f).collect::<Vec<_>>());
            let context = format!(
                "point {i} ({}), {:?}: {}",
                point.value,
                m.mode,
                replay(&reports[0].scenario)
            );
            assert_eq!(m.runs, 3, "{context}");
            assert_eq!(
                m.duplicates_per_message,
                of(|r| r.duplicates as f64 / r.messages as f64),
                "{context}"
            );
            assert_eq!(
                m.lost_per_message,
                of(|r| r.lost as f64 / r.messages as f64),
                "{context}"
            );
            assert_eq!(m.latency_p99_ms, of(|r| r.latency_ms.p99), "{context}");
            assert_eq!(m.throughput_per_s, of(|r| r.throughput_per_s), "{context}");
        }
    }
}

#[test]
fn the_same_spec_gives_the_same_result_however_it_is_stepped() {
    let base = scenario("messages=200&publish-ack-loss=0.1");
    let s = spec("delivery-loss", 0.0, 0.2, 2, 2);
    let whole = sweep(&base, &s).unwrap();
    let mut stepped = Sweep::new(&base, &s).unwrap();
    let mut fractions = Vec::new();
    while let Some(progress) = stepped.step() {
        fractions.push(progress.fraction);
    }
    assert_eq!(stepped.result(), whole);
    assert_eq!(fractions.len(), 2 * 5 * 2);
    assert!(
        fractions.windows(2).all(|w| w[0] < w[1]),
        "progress only grows"
    );
    assert_eq!(fractions.last(), Some(&1.0));
    assert_eq!(sweep(&base, &s).unwrap(), whole, "and again, from scratch");
}

#[test]
fn confidence_bands_contain_the_mean_and_shrink_with_more_seeds() {
    // Without idempotence, so that a duplicated publish is a second record.
    let base = scenario("messages=400&ack-loss=0.3&producer-idempotence=off");
    let band = |seeds| {
        let r = sweep(&base, &spec("duplicate", 0.05, 0.05, 1, seeds)).unwrap();
        for m in &r.points[0].modes {
            for e in [
                m.duplicates_per_message,
                m.lost_per_message,
                m.latency_p99_ms,
                m.throughput_per_s,
            ] {
                assert!(e.low <= e.mean && e.mean <= e.high, "{e:?} in {:?}", m.mode);
            }
        }
        summary(&r, 0, Mode::AtLeastOnce).duplicates_per_message
    };
    let (few, many) = (band(3), band(30));
    assert!(few.half_width() > 0.0);
    assert!(
        many.half_width() < few.half_width() / 2.0,
        "30 seeds should give a much narrower band than 3: {many:?} vs {few:?}"
    );
    // Both bands are about the same quantity, so they overlap.
    assert!(many.low <= few.high && few.low <= many.high);
}

/// Checks every point of a sweep where theory has a curve: the measured mean is within five
/// standard errors of the expectation (an expected zero must be measured as exactly zero), and
/// returns how many 95 % bands contained it.
fn check_theory(result: &SweepResult, modes: &[Mode]) -> (usize, usize) {
    let (mut inside, mut total) = (0, 0);
    for (i, point) in result.points.iter().enumerate() {
        for &mode in modes {
            let m = summary(result, i, mode);
            let e = m.expected.unwrap_or_else(|| {
                panic!(
                    "{mode:?} at {} = {} has no expectation",
                    result.knob, point.value
                )
            });
            for (what, measured, expected) in [
                (
                    "duplicates",
                    m.duplicates_per_message,
                    e.duplicates_per_message,
                ),
                ("lost", m.lost_per_message, e.lost_per_message),
            ] {
                let context = format!(
                    "{what} per message, {mode:?}, {} = {}: measured {measured:?}, theory {expected}",
                    result.knob, point.value
                );
                if expected == 0.0 {
                    assert_eq!(measured.high, 0.0, "{context}");
                    continue;
                }
                // The band's half width is t·s/√n with t ≈ 2.26 for 10 runs.
                let std_error = measured.half_width() / 2.0;
                assert!(
                    (measured.mean - expected).abs() <= 5.0 * std_error.max(1e-4),
                    "{context}"
                );
                total += 1;
                inside += usize::from(measured.low <= expected && expected <= measured.high);
            }
        }
    }
    (inside, total)
}

#[test]
fn lost_offset_commits_duplicate_nothing_at_any_rate() {
    // Kafka's commits are cumulative: every mode's expectation is zero, and check_theory
    // requires every run of every point to measure exactly zero.
    let base = scenario("messages=2000");
    let result = sweep(&base, &spec("ack-loss", 0.0, 0.5, 6, 4)).unwrap();
    assert_eq!(check_theory(&result, &Mode::ALL), (0, 0));
}

#[test]
fn duplicates_under_publish_ack_loss_follow_the_geometric_curve() {
    // Without idempotence, whose broker would drop every retry.
    let base = scenario("messages=2000&max-retries=6&producer-idempotence=off");
    let result = sweep(&base, &spec("publish-ack-loss", 0.0, 0.5, 6, 10)).unwrap();
    let (inside, total) = check_theory(&result, &Mode::ALL);
    // At-least-once's five non-zero points; 95 % bands miss now and then, not often.
    assert_eq!(total, 5);
    assert!(
        inside >= 4,
        "only {inside} of {total} bands contain the theory"
    );
    // At q = 0.5 with six retries: 0.5 + 0.25 + … + 1/64.
    let alo = summary(&result, 5, Mode::AtLeastOnce).expected.unwrap();
    assert_eq!(alo.duplicates_per_message, 63.0 / 64.0);
}

#[test]
fn losses_compound_stage_by_stage_as_each_mechanism_allows() {
    // Two attempts at everything, so the retrying modes' losses (p²) are visible. A lost
    // fetch response (delivery-loss) adds no loss: the consumer fetches again. Without an
    // idempotent producer: one keeps its records in order, so its losses are correlated and
    // theory has no formula for them.
    let base = scenario(
        "messages=2000&max-retries=1&producer-crash=0.1&delivery-loss=0.1&producer-idempotence=off",
    );
    let result = sweep(&base, &spec("publish-loss", 0.0, 0.6, 4, 10)).unwrap();
    let (inside, total) = check_theory(&result, &Mode::ALL);
    assert!(
        total >= 15 && inside * 10 >= total * 8,
        "{inside} of {total} bands contain the theory"
    );
}

#[test]
fn network_duplicates_of_publishes_follow_d() {
    // Without idempotence, whose broker would drop the copy by its sequence number.
    let base = scenario("messages=2000&producer-idempotence=off");
    let result = sweep(&base, &spec("duplicate", 0.0, 0.3, 4, 10)).unwrap();
    let (inside, total) = check_theory(&result, &Mode::ALL);
    // At-most-once's and at-least-once's three non-zero points each.
    assert_eq!(total, 6);
    assert!(
        inside >= 4,
        "only {inside} of {total} bands contain the theory"
    );
}

#[test]
fn no_expectation_is_drawn_where_theory_has_none() {
    // Consumer crashes: only the simulation knows.
    let base = scenario("messages=200&crash-after-process=0.01");
    let result = sweep(&base, &spec("ack-loss", 0.0, 0.2, 2, 2)).unwrap();
    for point in &result.points {
        assert!(point.modes.iter().all(|m| m.expected.is_none()));
    }
    // Consumer stalls past the session timeout make zombies, whose duplicates no fault rate
    // explains: no curve either (theory once drew a zero here).
    let slow = scenario("messages=2000&consumer-stall=0.002");
    let result = sweep(&slow, &spec("ack-loss", 0.0, 0.2, 2, 2)).unwrap();
    assert_eq!(summary(&result, 0, Mode::AtLeastOnce).expected, None);
    assert!(
        summary(&result, 0, Mode::AtLeastOnce)
            .duplicates_per_message
            .mean
            > 0.0
    );
}

#[test]
fn a_sweep_over_a_whole_number_knob_runs_whole_values() {
    let base = scenario("messages=300&publish-ack-loss=0.2&producer-idempotence=off");
    let result = sweep(&base, &spec("max-retries", 0.0, 3.0, 3, 2)).unwrap();
    let values: Vec<f64> = result.points.iter().map(|p| p.value).collect();
    assert_eq!(values, [0.0, 2.0, 3.0]);
    // With no retries the producer never makes a second record of a publish whose ack was
    // lost: the record it has is applied once, so nothing is duplicated and nothing is lost.
    let none = summary(&result, 0, Mode::AtLeastOnce);
    assert_eq!(none.duplicates_per_message.mean, 0.0);
    assert_eq!(none.expected.unwrap().duplicates_per_message, 0.0);
    let three = summary(&result, 2, Mode::AtLeastOnce).expected.unwrap();
    assert!((three.duplicates_per_message - (0.2 + 0.04 + 0.008)).abs() < 1e-12);
}
