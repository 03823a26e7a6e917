//! The cases: each a scenario of the simulator's `rabbitmq` family, run as it is in the
//! simulator and, following the plan read off that run, on the real broker.
//!
//! Every scenario has one producer publishing far faster than one consumer processes
//! (a backlog, so the prefetch window is always full), and scripted crashes of consumer 0
//! at times that fall well after the last publish: the real client publishes everything
//! first, then consumes, and the queue holds the same messages in the same order at each
//! crash. The other settings are the simulator's defaults.

use dsim_core::Scenario;

use crate::observed::{Agreement, Disagreement, Observed, compare};
use crate::simulated::{self, Plan};

const BACKLOG: &str = "broker=rabbitmq&producers=1&consumers=1&publish-rate=10000";

pub struct Case {
    /// Short name, for `--case` and the queue names.
    pub name: &'static str,
    /// What it shows, in a line.
    pub title: &'static str,
    /// The scenario after `BACKLOG`, as a URL query.
    pub query: &'static str,
    pub agreement: Agreement,
    /// The real client drops confirms from its own generator at the scenario's
    /// `publish-ack-loss` instead of where the simulator dropped them.
    pub own_confirm_drops: bool,
}

/// The issue's cases, in its order.
pub const CASES: &[Case] = &[
    Case {
        name: "manual-ack-crash-after",
        title: "1. manual ack, two crashes after processing, before basic.ack: duplicates applied",
        query: "messages=100&prefetch=10&processing-ms=10&script=100ms:crash-consumer-0-after;400ms:crash-consumer-0-after",
        agreement: Agreement::Exact,
        own_confirm_drops: false,
    },
    Case {
        name: "auto-ack-crash-prefetch-1",
        title: "2a. auto-ack, prefetch 1, crash: the pushed buffer is lost",
        query: "messages=100&mode=at-most-once&prefetch=1&processing-ms=10&script=100ms:crash-consumer-0-before",
        agreement: Agreement::Exact,
        own_confirm_drops: false,
    },
    Case {
        name: "auto-ack-crash-prefetch-10",
        title: "2b. auto-ack, prefetch 10, crash: the same loss (basic.qos does not bound auto-ack)",
        query: "messages=100&mode=at-most-once&prefetch=10&processing-ms=10&script=100ms:crash-consumer-0-before",
        agreement: Agreement::Exact,
        own_confirm_drops: false,
    },
    Case {
        name: "manual-ack-requeue-order",
        title: "3a. manual ack, prefetch 5, crash before processing: what comes back, in what order",
        query: "messages=60&prefetch=5&processing-ms=10&script=100ms:crash-consumer-0-before",
        agreement: Agreement::Exact,
        own_confirm_drops: false,
    },
    Case {
        name: "manual-ack-requeue-unlimited",
        title: "3b. manual ack, prefetch 0 (unlimited), crash before processing: the whole backlog comes back",
        query: "messages=100&prefetch=0&processing-ms=10&script=100ms:crash-consumer-0-before",
        agreement: Agreement::Exact,
        own_confirm_drops: false,
    },
    Case {
        name: "lost-confirm-republish",
        title: "4a. publisher confirms the client drops where the model dropped them: republish, duplicate",
        query: "messages=300&prefetch=10&processing-ms=1&publish-ack-loss=0.02&seed=7",
        agreement: Agreement::Exact,
        own_confirm_drops: false,
    },
    Case {
        name: "lost-confirm-rate",
        title: "4b. confirms dropped at 20 % by each side's own generator: within 5σ",
        query: "messages=400&prefetch=10&processing-ms=1&publish-ack-loss=0.2&seed=3",
        agreement: Agreement::WithinSigma {
            trials: 400,
            p: 0.2,
        },
        own_confirm_drops: true,
    },
    Case {
        name: "quorum-delivery-limit",
        title: "5. quorum queue, x-delivery-limit 1, two crashes: the dead-lettered messages",
        query: "messages=30&queue-type=quorum&delivery-limit=1&prefetch=5&processing-ms=50&script=100ms:crash-consumer-0-before;300ms:crash-consumer-0-before",
        agreement: Agreement::Exact,
        own_confirm_drops: false,
    },
    Case {
        name: "idempotent-consumer",
        title: "6. idempotent consumer, case 1's crashes and dropped confirms: zero double charges",
        query: "messages=100&mode=idempotent-consumer&prefetch=10&processing-ms=10&publish-ack-loss=0.03&seed=5&script=100ms:crash-consumer-0-after;400ms:crash-consumer-0-after",
        agreement: Agreement::Exact,
        own_confirm_drops: false,
    },
];

impl Case {
    pub fn scenario(&self) -> Result<Scenario, String> {
        let (s, errors) = Scenario::from_query(&format!("{BACKLOG}&{}", self.query), &[]);
        match errors.first() {
            Some(e) => Err(format!("case {}: {e}", self.name)),
            None => Ok(s),
        }
    }

    /// Runs the simulated side and the plan the real side follows.
    pub fn simulate(&self) -> Result<(Observed, Plan), String> {
        let s = self.scenario()?;
        let (observed, mut plan) = simulated::run(&s)?;
        if self.own_confirm_drops {
            plan.dropped_confirms.clear();
            plan.confirm_drop_rate = s.publish_ack_loss;
        }
        Ok((observed, plan))
    }
}

/// One case's result, both sides side by side.
pub struct Outcome {
    pub real: Observed,
    pub simulated: Observed,
    pub disagreements: Vec<Disagreement>,
    /// The faults both sides faced, in words (`Plan::describe`).
    pub faults: String,
}

impl Outcome {
    pub fn new(real: Observed, simulated: Observed, agreement: Agreement) -> Outcome {
        let disagreements = compare(&real, &simulated, agreement);
        Outcome {
            real,
            simulated,
            disagreements,
            faults: String::new(),
        }
    }

    pub fn agrees(&self) -> bool {
        self.disagreements.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_is_a_valid_scenario_whose_crashes_all_strike() {
        for case in CASES {
            let (_, plan) = case
                .simulate()
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            assert_eq!(
                plan.crashes.len(),
                case.scenario().unwrap().script.len(),
                "{}",
                case.name
            );
        }
    }

    #[test]
    fn the_model_claims_what_issue_25_says() {
        let sim = |name: &str| {
            CASES
                .iter()
                .find(|c| c.name == name)
                .unwrap()
                .simulate()
                .unwrap()
        };
        // Crash after processing with prefetch 10: one duplicate per crash, and the whole
        // window comes back, in order, marked redelivered.
        let (o, plan) = sim("manual-ack-crash-after");
        assert_eq!((o.duplicates, o.redelivered, o.lost), (2, 20, 0));
        let first = o.redelivery_order[0];
        assert_eq!(
            o.redelivery_order[..10],
            (first..first + 10).collect::<Vec<_>>()[..]
        );
        assert_eq!(
            plan.crashes[0].point,
            dsim_core::CrashPoint::AfterProcessing
        );
        // Auto-ack: the same loss whatever the prefetch.
        assert_eq!(
            sim("auto-ack-crash-prefetch-1").0.lost,
            sim("auto-ack-crash-prefetch-10").0.lost
        );
        // The idempotent consumer: no double charge.
        assert_eq!(sim("idempotent-consumer").0.duplicates, 0);
    }

    /// A model in which auto-ack behaved like manual ack (the broker keeping every delivery
    /// until an ack, so a crash loses nothing) is a real simulator run, of the same case with
    /// the wrong mode; compared with what RabbitMQ does, it must disagree.
    #[test]
    fn a_model_run_with_the_wrong_ack_mode_disagrees_with_the_right_one() {
        let case = CASES
            .iter()
            .find(|c| c.name == "auto-ack-crash-prefetch-10")
            .unwrap();
        let (right, _) = case.simulate().unwrap();
        let mut s = case.scenario().unwrap();
        s.mode = dsim_core::Mode::AtLeastOnce;
        let (wrong, _) = simulated::run(&s).unwrap();
        let fields: Vec<_> = Outcome::new(right, wrong, case.agreement)
            .disagreements
            .into_iter()
            .map(|d| d.field)
            .collect();
        assert!(fields.contains(&"lost"), "{fields:?}");
        assert!(fields.contains(&"redelivered"), "{fields:?}");
    }

    /// A model that loses only the delivery in hand on an auto-ack crash, not the buffer,
    /// must be caught: its observation disagrees with what the right model (and RabbitMQ)
    /// report.
    #[test]
    fn a_deliberately_wrong_model_is_reported_as_a_disagreement() {
        let case = &CASES[1];
        let (right, _) = case.simulate().unwrap();
        let wrong = Observed {
            lost: 1,
            ..right.clone()
        };
        let outcome = Outcome::new(right, wrong, case.agreement);
        assert!(!outcome.agrees());
        assert_eq!(outcome.disagreements[0].field, "lost");
    }
}
