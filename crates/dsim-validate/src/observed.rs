//! What a case measures, the same way on the real broker and in the simulator, and how the
//! two are compared. No server needed: the comparison is tested on its own.

use std::fmt;

/// One side's numbers for one case.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observed {
    /// `basic.deliver` frames the broker sent: first deliveries and redeliveries, those
    /// processed, those still in a client's buffer when its connection closed, and those
    /// the broker sent before it learnt of the close (a refill for the last `basic.ack`).
    pub delivered: u64,
    /// Deliveries with `redelivered=true`.
    pub redelivered: u64,
    /// Payments applied more than once (applications minus distinct payments applied).
    pub duplicates: u64,
    /// Payments published and confirmed, never applied and not dead-lettered.
    pub lost: u64,
    /// Payments dead-lettered (quorum queue `x-delivery-limit`).
    pub dead_lettered: u64,
    /// Copies the idempotent consumer recognised and skipped.
    pub dedup_skips: u64,
    /// Extra copies the queue received (a republish after a confirm that never arrived).
    pub republished: u64,
    /// Message numbers of the redeliveries, in the order they reached the consumer.
    pub redelivery_order: Vec<u32>,
    /// Message numbers dead-lettered, in order.
    pub dead_letter_ids: Vec<u32>,
}

/// How closely the two sides must agree on a case.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Agreement {
    /// Deterministic: every number and list equal.
    Exact,
    /// Both sides drop publisher confirms at rate `p`, independently, for `trials` messages;
    /// a message whose confirm is dropped is republished until one arrives, so its
    /// republishes are geometric (mean p/(1-p), variance p/(1-p)²). Each count may differ
    /// by 5σ of the difference of two such sums.
    WithinSigma { trials: u64, p: f64 },
}

/// One number or list the two sides disagree on.
#[derive(Clone, Debug, PartialEq)]
pub struct Disagreement {
    pub field: &'static str,
    pub real: String,
    pub simulated: String,
    /// The tolerance that was exceeded, for a probabilistic case.
    pub tolerance: Option<f64>,
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: real {} vs simulated {}",
            self.field, self.real, self.simulated
        )?;
        if let Some(t) = self.tolerance {
            write!(f, " (more than 5σ = {t:.1} apart)")?;
        }
        Ok(())
    }
}

/// Every field on which `real` and `simulated` disagree under `agreement`.
pub fn compare(real: &Observed, simulated: &Observed, agreement: Agreement) -> Vec<Disagreement> {
    let counts: [(&'static str, u64, u64); 7] = [
        ("delivered", real.delivered, simulated.delivered),
        ("redelivered", real.redelivered, simulated.redelivered),
        ("duplicates applied", real.duplicates, simulated.duplicates),
        ("lost", real.lost, simulated.lost),
        ("dead-lettered", real.dead_lettered, simulated.dead_lettered),
        ("dedup skips", real.dedup_skips, simulated.dedup_skips),
        ("republished", real.republished, simulated.republished),
    ];
    let mut out = Vec::new();
    match agreement {
        Agreement::Exact => {
            for (field, r, s) in counts {
                if r != s {
                    out.push(Disagreement {
                        field,
                        real: r.to_string(),
                        simulated: s.to_string(),
                        tolerance: None,
                    });
                }
            }
            for (field, r, s) in [
                (
                    "redelivery order",
                    &real.redelivery_order,
                    &simulated.redelivery_order,
                ),
                (
                    "dead-lettered messages",
                    &real.dead_letter_ids,
                    &simulated.dead_letter_ids,
                ),
            ] {
                if r != s {
                    out.push(Disagreement {
                        field,
                        real: list(r),
                        simulated: list(s),
                        tolerance: None,
                    });
                }
            }
        }
        Agreement::WithinSigma { trials, p } => {
            // The difference of two independent sums of n geometric counts.
            let sigma = (2.0 * trials as f64 * p / ((1.0 - p) * (1.0 - p))).sqrt();
            // At least one event of slack, so a p near 0 does not demand equality.
            let tolerance = (5.0 * sigma).max(1.0);
            for (field, r, s) in counts {
                if (r as f64 - s as f64).abs() > tolerance {
                    out.push(Disagreement {
                        field,
                        real: r.to_string(),
                        simulated: s.to_string(),
                        tolerance: Some(tolerance),
                    });
                }
            }
        }
    }
    out
}

/// A list of message numbers, shortened in the middle when long.
pub fn list(ids: &[u32]) -> String {
    if ids.is_empty() {
        return "-".into();
    }
    let show = |s: &[u32]| s.iter().map(u32::to_string).collect::<Vec<_>>().join(" ");
    if ids.len() <= 12 {
        show(ids)
    } else {
        format!(
            "{} … {} ({} in all)",
            show(&ids[..6]),
            show(&ids[ids.len() - 3..]),
            ids.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window() -> Observed {
        Observed {
            delivered: 110,
            redelivered: 10,
            duplicates: 1,
            redelivery_order: (5..15).collect(),
            ..Observed::default()
        }
    }

    #[test]
    fn equal_observations_agree() {
        assert!(compare(&window(), &window(), Agreement::Exact).is_empty());
    }

    #[test]
    fn a_model_that_requeues_in_the_wrong_order_is_a_disagreement() {
        let mut wrong = window();
        wrong.redelivery_order.reverse();
        let d = compare(&window(), &wrong, Agreement::Exact);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].field, "redelivery order");
    }

    #[test]
    fn a_model_that_forgets_the_prefetched_buffer_is_a_disagreement() {
        // The classic wrong model: only the one delivery in hand comes back.
        let wrong = Observed {
            delivered: 101,
            redelivered: 1,
            redelivery_order: vec![5],
            ..window()
        };
        let fields: Vec<_> = compare(&window(), &wrong, Agreement::Exact)
            .into_iter()
            .map(|d| d.field)
            .collect();
        assert_eq!(fields, ["delivered", "redelivered", "redelivery order"]);
    }

    #[test]
    fn probabilistic_counts_agree_within_five_sigma_and_not_beyond() {
        let agreement = Agreement::WithinSigma {
            trials: 400,
            p: 0.05,
        };
        // 5σ of the difference: 5 · sqrt(2 · 400 · 0.05 / 0.95²) ≈ 33.3.
        let real = Observed {
            duplicates: 20,
            ..Observed::default()
        };
        let close = Observed {
            duplicates: 50,
            ..Observed::default()
        };
        let far = Observed {
            duplicates: 54,
            ..Observed::default()
        };
        assert!(compare(&real, &close, agreement).is_empty());
        let d = compare(&real, &far, agreement);
        assert_eq!(d.len(), 1);
        assert!(d[0].to_string().contains("more than 5σ"), "{}", d[0]);
    }
}
