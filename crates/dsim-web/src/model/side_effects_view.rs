//! What the page says about the stories past the textbook: the external provider's books
//! (the exactly-once trap), consumer stalls (zombies), and a RabbitMQ or SQS queue's own
//! counters.
//! Plain Rust over the report, tested natively; `side_effects` draws it.

use dsim_core::{Report, Status};

use crate::format::{dollars_rounded, plural, thousands};

/// The card provider's books next to the broker's ledger.
#[derive(Clone, Debug, PartialEq)]
pub struct ExternalView {
    /// "12 cards charged twice, $3,177: outside the broker's ledger".
    pub sentence: String,
    /// The report's note on what this means for the mode's promise.
    pub note: String,
    pub calls: String,
    pub charges: String,
    pub double_charges: String,
    pub deduplicated: String,
    /// The number of double charges, for tests and styling.
    pub double_charges_raw: u64,
    pub bad: bool,
    /// The first payment charged twice, for the link to its timeline.
    pub example: Option<u32>,
}

pub fn external(r: &Report) -> Option<ExternalView> {
    let x = r.external.as_ref()?;
    let bad = x.double_charges > 0;
    let sentence = if bad {
        format!(
            "{} charged twice by the card provider, {} too much: outside the broker's ledger",
            plural(x.double_charges, "payment", "payments"),
            dollars_rounded(x.overcharged_cents)
        )
    } else if r.status == Status::Running {
        "No card charged twice so far.".to_string()
    } else {
        "Every card was charged at most once.".to_string()
    };
    Some(ExternalView {
        sentence,
        note: x.note.clone(),
        calls: thousands(x.calls),
        charges: thousands(x.charges),
        double_charges: thousands(x.double_charges),
        deduplicated: if x.idempotency_key {
            thousands(x.deduplicated_by_key)
        } else {
            "no key".to_string()
        },
        double_charges_raw: x.double_charges,
        bad,
        example: x.example_double_charge.filter(|_| bad),
    })
}

/// A queue broker's run in the broker's own terms, every number from the report: RabbitMQ's
/// (`Report::queue`, the management UI's and `rabbitmqctl list_queues`' names) or SQS's
/// (`Report::sqs`, its queue attributes' and CloudWatch metrics' names).
#[derive(Clone, Debug, PartialEq)]
pub struct QueueView {
    /// "Queue (RabbitMQ)", "Queue (SQS standard)", "Queue (SQS FIFO)".
    pub title: &'static str,
    /// How consumers take messages: "manual ack, basic.qos prefetch 10", or SQS's visibility
    /// timeout, receive batch and redrive policy.
    pub subscription: String,
    pub sentence: String,
    /// The column of the values at the end: "at end", or "now" while the run goes on.
    pub when: &'static str,
    /// The broker's two queue depths under its own names: (`data-testid` stem, name, peak,
    /// at the end).
    pub depths: [(&'static str, &'static str, u64, u64); 2],
    /// The broker's counters: (`data-testid` stem, words before the name, the broker's name
    /// for it or "", words after, value).
    pub counters: Vec<QueueCounter>,
    pub bad: bool,
}

/// One counter of a queue: `before` `code` `after`, as "deliveries with the `redelivered` flag".
pub type QueueCounter = (&'static str, &'static str, &'static str, &'static str, u64);

pub fn queue(r: &Report) -> Option<QueueView> {
    if let Some(q) = r.sqs.as_ref() {
        return Some(sqs_queue(r, q));
    }
    let q = r.queue.as_ref()?;
    let subscription = if q.auto_ack {
        "auto-ack (basic.consume no-ack): basic.qos prefetch does not apply".to_string()
    } else if q.prefetch == 0 {
        "manual ack, basic.qos prefetch 0 (unlimited)".to_string()
    } else {
        format!(
            "manual ack, basic.qos prefetch {}",
            thousands(q.prefetch.into())
        )
    };
    let sentence = if q.auto_ack {
        "With auto-ack the broker forgets a message as it pushes it: what a closed connection's buffer held is lost, never redelivered.".to_string()
    } else if q.redelivered > 0 {
        // A crashed consumer's channel closes as a dropped connection's does; the report
        // counts only the latter as connections lost, so the sentence names both.
        format!(
            "{} came again with the redelivered flag set: RabbitMQ requeued what a crashed consumer or a dropped connection held unacknowledged.",
            plural(q.redelivered, "delivery", "deliveries")
        )
    } else {
        "No delivery came back with the redelivered flag set.".to_string()
    };
    Some(QueueView {
        title: "Queue (RabbitMQ)",
        subscription,
        sentence,
        when: when(r),
        depths: [
            ("ready", "messages_ready", q.peak_ready, q.ready_at_end),
            (
                "unacked",
                "messages_unacknowledged",
                q.peak_unacked,
                q.unacked_at_end,
            ),
        ],
        counters: vec![
            (
                "redelivered",
                "deliveries with the ",
                "redelivered",
                " flag",
                q.redelivered,
            ),
            (
                "connections-lost",
                "connections lost",
                "",
                "",
                q.connections_lost,
            ),
        ],
        bad: q.redelivered > 0 || q.auto_ack && q.connections_lost > 0,
    })
}

/// While the run goes on, its last values are the current ones.
fn when(r: &Report) -> &'static str {
    if r.status == Status::Running {
        "now"
    } else {
        "at end"
    }
}

/// An SQS queue under the names of its attributes and CloudWatch metrics.
fn sqs_queue(r: &Report, q: &dsim_core::SqsReport) -> QueueView {
    let mut subscription = format!(
        "visibility timeout {}, ReceiveMessage up to {} at a time, ",
        millis(q.visibility_timeout_ms),
        thousands(q.receive_batch.into())
    );
    subscription.push_str(&if q.max_receives == 0 {
        "no redrive policy".to_string()
    } else {
        format!(
            "redrive to the dead-letter queue after {} receives (maxReceiveCount)",
            thousands(q.max_receives.into())
        )
    });
    let sentence = if q.visibility_timeouts_expired > 0 {
        format!(
            "{} outlived the visibility timeout before DeleteMessage: each message became visible again and was received again, even where its first consumer was still working on it.",
            plural(q.visibility_timeouts_expired, "receive", "receives")
        )
    } else if q.extra_copies > 0 {
        format!(
            "{}: a standard queue delivers a message more than once now and then, with no fault at all.",
            plural(q.extra_copies, "extra copy", "extra copies")
        )
    } else {
        "Every received message was deleted within its visibility timeout.".to_string()
    };
    let mut counters: Vec<QueueCounter> = vec![
        (
            "receives",
            "messages received (",
            "NumberOfMessagesReceived",
            ")",
            q.receives,
        ),
        (
            "expired",
            "visibility timeouts that passed before a delete",
            "",
            "",
            q.visibility_timeouts_expired,
        ),
    ];
    if q.max_receives > 0 {
        counters.push((
            "dlq",
            "moved to the dead-letter queue",
            "",
            "",
            q.redriven_to_dlq,
        ));
    }
    if q.fifo {
        counters.push((
            "dedup-dropped",
            "sends dropped inside the five-minute deduplication window",
            "",
            "",
            q.dedup_dropped,
        ));
    } else {
        counters.push((
            "extra-copies",
            "extra copies from the standard queue",
            "",
            "",
            q.extra_copies,
        ));
    }
    QueueView {
        title: if q.fifo {
            "Queue (SQS FIFO)"
        } else {
            "Queue (SQS standard)"
        },
        subscription,
        sentence,
        when: when(r),
        depths: [
            (
                "visible",
                "ApproximateNumberOfMessagesVisible",
                q.peak_visible,
                q.visible_at_end,
            ),
            (
                "in-flight",
                "ApproximateNumberOfMessagesNotVisible",
                q.peak_in_flight,
                q.in_flight_at_end,
            ),
        ],
        counters,
        bad: q.visibility_timeouts_expired > 0 || q.extra_copies > 0 || q.redriven_to_dlq > 0,
    }
}

/// "200 ms", "30 s".
fn millis(ms: f64) -> String {
    if ms >= 1000.0 && ms % 1000.0 == 0.0 {
        format!("{} s", thousands((ms / 1000.0) as u64))
    } else {
        format!("{} ms", dsim_core::knobs::format_number(ms))
    }
}

/// Consumer stalls and what the group and the coordinator made of them.
#[derive(Clone, Debug, PartialEq)]
pub struct ZombieView {
    pub sentence: String,
    pub bad: bool,
    /// A message whose commit fencing rejected, for the link to its timeline.
    pub fenced_example: Option<u32>,
}

pub fn zombies(r: &Report) -> Option<ZombieView> {
    let z = r.zombies.as_ref()?;
    let stalls = format!(
        "{} ({} past the session timeout, waking as zombies)",
        plural(z.stalls, "consumer stall", "consumer stalls"),
        thousands(z.expelled)
    );
    let (outcome, bad) = if z.stale_commits_accepted > 0 {
        (
            format!(
                "fencing is off: {} from zombies accepted",
                plural(z.stale_commits_accepted, "commit", "commits")
            ),
            true,
        )
    } else if z.fenced_commits > 0 {
        (
            format!(
                "fencing rejected {}",
                plural(z.fenced_commits, "stale commit", "stale commits")
            ),
            false,
        )
    } else {
        (
            format!("fencing {}", if z.fencing { "on" } else { "off" }),
            false,
        )
    };
    Some(ZombieView {
        sentence: format!("{stalls}; {outcome}."),
        bad,
        fenced_example: r.example_fenced.filter(|_| z.fenced_commits > 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsim_core::presets::preset;

    fn preset_report(key: &str, extra: &str) -> Report {
        let query = format!("{}{extra}", preset(key).unwrap().query);
        let (s, errors) = dsim_core::Scenario::from_query(&query, &[]);
        assert!(errors.is_empty());
        dsim_core::simulate(&s).unwrap()
    }

    /// RabbitMQ's counters, under RabbitMQ's names, are the report's; a Kafka run has none.
    #[test]
    fn a_rabbitmq_run_shows_its_queue_and_a_kafka_run_does_not() {
        let r = preset_report("rabbitmq-requeue-on-close", "");
        let q = r.queue.as_ref().expect("a RabbitMQ run has a queue");
        let v = queue(&r).expect("shown");
        assert_eq!(
            v.depths,
            [
                ("ready", "messages_ready", q.peak_ready, q.ready_at_end),
                (
                    "unacked",
                    "messages_unacknowledged",
                    q.peak_unacked,
                    q.unacked_at_end
                ),
            ]
        );
        assert_eq!(
            v.counters,
            vec![
                (
                    "redelivered",
                    "deliveries with the ",
                    "redelivered",
                    " flag",
                    q.redelivered
                ),
                (
                    "connections-lost",
                    "connections lost",
                    "",
                    "",
                    q.connections_lost
                ),
            ]
        );
        assert_eq!((v.title, v.when), ("Queue (RabbitMQ)", "at end"));
        assert!(!q.auto_ack && q.redelivered > 0, "{q:?}");
        assert!(
            v.subscription.contains("basic.qos prefetch"),
            "{}",
            v.subscription
        );
        assert!(v.sentence.contains("redelivered flag"), "{}", v.sentence);
        let auto = queue(&preset_report("rabbitmq-auto-ack-crash", "")).expect("shown");
        assert!(
            auto.subscription.starts_with("auto-ack"),
            "{}",
            auto.subscription
        );
        assert!(queue(&preset_report("double-charge", "")).is_none());
    }

    /// SQS's numbers, under the names of its queue attributes and metrics, are the report's.
    #[test]
    fn an_sqs_run_shows_its_queue_in_sqs_terms() {
        let r = preset_report("sqs-visibility-timeout-too-short", "");
        let q = r.sqs.as_ref().expect("an SQS run has its queue");
        let v = queue(&r).expect("shown");
        assert_eq!(v.title, "Queue (SQS standard)");
        assert_eq!(
            v.depths,
            [
                (
                    "visible",
                    "ApproximateNumberOfMessagesVisible",
                    q.peak_visible,
                    q.visible_at_end
                ),
                (
                    "in-flight",
                    "ApproximateNumberOfMessagesNotVisible",
                    q.peak_in_flight,
                    q.in_flight_at_end
                ),
            ]
        );
        let value = |id: &str| v.counters.iter().find(|c| c.0 == id).map(|c| c.4);
        assert_eq!(value("receives"), Some(q.receives));
        assert_eq!(value("expired"), Some(q.visibility_timeouts_expired));
        assert_eq!(value("extra-copies"), Some(q.extra_copies));
        assert_eq!(value("dedup-dropped"), None);
        assert!(q.visibility_timeouts_expired > 0 && v.bad, "{q:?}");
        assert!(v.sentence.contains("visibility timeout"), "{}", v.sentence);
        assert!(
            v.subscription.starts_with("visibility timeout "),
            "{}",
            v.subscription
        );

        let fifo = preset_report("sqs-fifo-retry-after-window", "");
        let f = queue(&fifo).expect("shown");
        assert_eq!(f.title, "Queue (SQS FIFO)");
        let dropped = f
            .counters
            .iter()
            .find(|c| c.0 == "dedup-dropped")
            .map(|c| c.4);
        assert_eq!(dropped, Some(fifo.sqs.as_ref().unwrap().dedup_dropped));
    }

    #[test]
    fn the_trap_preset_shows_cards_charged_twice_and_the_key_shows_none() {
        let v = external(&preset_report("exactly-once-trap", "")).unwrap();
        assert!(v.bad && v.double_charges_raw > 0);
        assert!(
            v.sentence.contains("charged twice by the card provider"),
            "{}",
            v.sentence
        );
        assert_eq!(v.deduplicated, "no key");
        let keyed = external(&preset_report("exactly-once-trap", "&idempotency-key=on")).unwrap();
        assert!(!keyed.bad);
        assert_eq!(keyed.double_charges, "0");
        assert_eq!(keyed.deduplicated, thousands(v.double_charges_raw));
        assert_eq!(keyed.sentence, "Every card was charged at most once.");
    }

    #[test]
    fn nothing_is_shown_for_runs_without_the_new_settings() {
        let r = dsim_core::simulate(&dsim_core::Scenario {
            messages: 100,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(external(&r), None);
        assert_eq!(zombies(&r), None);
    }

    #[test]
    fn zombies_say_whether_fencing_stopped_them() {
        let off = zombies(&preset_report("zombie-consumer", "")).unwrap();
        assert!(off.bad);
        assert!(off.sentence.contains("fencing is off"), "{}", off.sentence);
        let on = zombies(&preset_report("zombie-consumer", "&fencing=on")).unwrap();
        assert!(!on.bad);
        assert!(on.sentence.contains("fencing rejected"), "{}", on.sentence);
    }
}
