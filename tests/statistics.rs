//! Measured rates against probability theory. Each test states its expectation and a
//! tolerance of five standard errors, so a failure means the model is wrong, not unlucky
//! (the seeds are fixed, so the tests are also deterministic).

use dsim_core::{Idempotence, Mode, Scenario};

use crate::support::run;

const MESSAGES: u32 = 20_000;

fn assert_close(measured: f64, expected: f64, std_error: f64, what: &str) {
    let tolerance = 5.0 * std_error;
    assert!(
        (measured - expected).abs() <= tolerance,
        "{what}: measured {measured:.4}, theory {expected:.4} ± {tolerance:.4}"
    );
}

#[test]
fn at_most_once_loses_the_publish_loss_rate() {
    let p = 0.2;
    let s = Scenario {
        mode: Mode::AtMostOnce,
        messages: MESSAGES,
        publish_loss: p,
        ..Scenario::default()
    };
    let r = run(&s);
    let n = MESSAGES as f64;
    assert_close(
        r.lost as f64 / n,
        p,
        (p * (1.0 - p) / n).sqrt(),
        "lost fraction",
    );
}

#[test]
fn independent_losses_on_two_stages_compound() {
    // Lost to a producer crash before the publish, or on the publish: 1 - (1 - c)(1 - p).
    // A lost fetch response adds nothing: Kafka's consumer fetches again from its position.
    let (c, p, q) = (0.1, 0.15, 0.3);
    let s = Scenario {
        mode: Mode::AtMostOnce,
        messages: MESSAGES,
        producer_crash: c,
        publish_loss: p,
        delivery_loss: q,
        ..Scenario::default()
    };
    let r = run(&s);
    let expected = 1.0 - (1.0 - c) * (1.0 - p);
    let n = MESSAGES as f64;
    assert_close(
        r.lost as f64 / n,
        expected,
        (expected * (1.0 - expected) / n).sqrt(),
        "lost fraction",
    );
}

/// Duplicates per message when every attempt fails independently with probability `q` and
/// each failed attempt still applied the payment: the attempts until the first success are
/// geometric, so the extra applications average q / (1 - q), with variance q / (1 - q)^2.
fn geometric_duplicates(q: f64) -> (f64, f64) {
    (
        q / (1.0 - q),
        (q / ((1.0 - q) * (1.0 - q)) / MESSAGES as f64).sqrt(),
    )
}

#[test]
fn lost_offset_commits_alone_duplicate_nothing() {
    // Kafka's offset commits are cumulative: the next commit carries a later offset and
    // covers a lost one, and nobody reads a partition again while its reader lives. Exact,
    // whatever the rate: the commits are retried (a real consumer's next auto-commit), and
    // the retries are the only trace.
    for q in [0.05, 0.2, 0.4] {
        let s = Scenario {
            mode: Mode::AtLeastOnce,
            messages: MESSAGES,
            ack_loss: q,
            max_retries: 40,
            ..Scenario::default()
        };
        let r = run(&s);
        assert_eq!(
            (r.duplicates, r.lost, r.replayed),
            (0, 0, 0),
            "ack loss {q}"
        );
        assert!(r.commit_retries > 0, "ack loss {q}");
        assert_eq!(r.retries, 0, "ack loss {q}: no publish was resent");
    }
}

#[test]
fn duplicates_under_publish_ack_loss_follow_the_same_law() {
    // A lost publish ack makes the producer retry, and without an idempotent producer each
    // retry is another record that gets applied.
    let q = 0.25;
    let s = Scenario {
        mode: Mode::AtLeastOnce,
        messages: MESSAGES,
        publish_ack_loss: q,
        max_retries: 40,
        producer_idempotence: Idempotence::Off,
        ..Scenario::default()
    };
    let r = run(&s);
    let (expected, se) = geometric_duplicates(q);
    assert_close(
        r.duplicates as f64 / MESSAGES as f64,
        expected,
        se,
        "duplicates per message",
    );
    // The idempotent producer (at-least-once's default with acks=all, and exactly-once's)
    // turns the same retries into dropped duplicates instead: its window is retried from
    // the record whose ack was lost, the only one unacknowledged.
    for idempotent in [
        Scenario {
            producer_idempotence: Idempotence::Auto,
            ..s.clone()
        },
        s.with_mode(Mode::ExactlyOnce),
    ] {
        let r = run(&idempotent);
        assert_eq!(r.duplicates, 0, "{:?}", idempotent.mode);
        // Every producer retry is of a record that landed (commit retries are counted apart).
        assert_eq!(
            r.cost.duplicates_dropped_by_broker, r.retries,
            "{:?}",
            idempotent.mode
        );
        assert_close(
            r.cost.duplicates_dropped_by_broker as f64 / MESSAGES as f64,
            expected,
            se,
            "duplicates dropped by the broker",
        );
    }
}

#[test]
fn network_duplication_of_publishes_duplicates_at_its_rate() {
    // The network duplicates a publish with probability d, and without an idempotent
    // producer the copy is a second record, read like any other. A fetch response rides on
    // TCP and is never duplicated. So each message has one extra application with
    // probability d: a Bernoulli, variance d(1 - d).
    let d = 0.1;
    let s = Scenario {
        mode: Mode::AtLeastOnce,
        messages: MESSAGES,
        duplicate: d,
        producer_idempotence: Idempotence::Off,
        ..Scenario::default()
    };
    let r = run(&s);
    let expected = d;
    let se = (d * (1.0 - d) / MESSAGES as f64).sqrt();
    assert_close(
        r.duplicates as f64 / MESSAGES as f64,
        expected,
        se,
        "duplicates per message",
    );
    // An idempotent producer's broker drops the duplicated publish by its sequence number,
    // and TCP never duplicates a fetch response: no duplicates at all, exactly.
    let idempotent = run(&Scenario {
        producer_idempotence: Idempotence::Auto,
        ..s
    });
    assert_eq!(
        idempotent.duplicates, 0,
        "duplicates with an idempotent producer"
    );
}
