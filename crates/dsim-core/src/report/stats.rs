//! Means with 95 % confidence intervals over a handful of seeds, for sweeps.
//!
//! A sweep averages each point over a few runs (typically 5 to 50 seeds), too few for the
//! normal approximation: with 5 runs the normal's 1.96 would make the band 40 % too narrow.
//! The interval is therefore Student's t: `mean ± t(0.975, n - 1) · s / √n`, with the
//! quantiles in a table rather than computed, so every platform prints the same band (no
//! `ln`/`exp`/`powf` behind it; only `sqrt`, which IEEE 754 rounds exactly).

use serde::{Deserialize, Serialize};

/// The most runs one estimate may average; the t table below covers exactly this many.
pub const MAX_SAMPLES: usize = 100;

/// Two-sided 95 % quantiles of Student's t distribution, `t(0.975, df)` for df = 1..=99,
/// computed with mpmath (inverting the regularised incomplete beta function) to 7 digits.
const T_975: [f64; MAX_SAMPLES - 1] = [
    12.7062, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, //
    2.262157, 2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.13145, 2.119905, //
    2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899, //
    2.059539, 2.055529, 2.051831, 2.048407, 2.04523, 2.042272, 2.039513, 2.036933, //
    2.034515, 2.032245, 2.030108, 2.028094, 2.026192, 2.024394, 2.022691, 2.021075, //
    2.019541, 2.018082, 2.016692, 2.015368, 2.014103, 2.012896, 2.011741, 2.010635, //
    2.009575, 2.008559, 2.007584, 2.006647, 2.005746, 2.004879, 2.004045, 2.003241, //
    2.002465, 2.001717, 2.000995, 2.000298, 1.999624, 1.998972, 1.998341, 1.99773, //
    1.997138, 1.996564, 1.996008, 1.995469, 1.994945, 1.994437, 1.993943, 1.993464, //
    1.992997, 1.992543, 1.992102, 1.991673, 1.991254, 1.990847, 1.99045, 1.990063, //
    1.989686, 1.989319, 1.98896, 1.98861, 1.988268, 1.987934, 1.987608, 1.98729, //
    1.986979, 1.986675, 1.986377, 1.986086, 1.985802, 1.985523, 1.985251, 1.984984, //
    1.984723, 1.984467, 1.984217,
];

/// `t(0.975, df)`; `None` for df = 0 (one run has no spread to speak of) or beyond the table.
pub fn t_975(df: usize) -> Option<f64> {
    df.checked_sub(1).and_then(|i| T_975.get(i)).copied()
}

/// A mean and its 95 % confidence interval `[low, high]`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Estimate {
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

impl Estimate {
    /// The mean of `samples` with Student's t interval. With a single sample (or none) the
    /// interval collapses to the mean: callers that need a band ask for two or more runs.
    pub fn of(samples: &[f64]) -> Estimate {
        let n = samples.len();
        if n == 0 {
            return Estimate {
                mean: 0.0,
                low: 0.0,
                high: 0.0,
            };
        }
        // Summed in the given order, so the same samples always give the same bits.
        let mean = samples.iter().sum::<f64>() / n as f64;
        let half = match t_975(n - 1) {
            Some(t) => {
                let ss: f64 = samples.iter().map(|x| (x - mean) * (x - mean)).sum();
                t * (ss / (n - 1) as f64).sqrt() / (n as f64).sqrt()
            }
            None => 0.0,
        };
        Estimate {
            mean,
            low: mean - half,
            high: mean + half,
        }
    }

    /// Half the interval's width.
    pub fn half_width(&self) -> f64 {
        (self.high - self.low) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_falls_towards_the_normal_quantile() {
        assert_eq!(t_975(0), None);
        assert_eq!(t_975(1), Some(12.7062));
        assert_eq!(t_975(99), Some(1.984217));
        assert_eq!(t_975(100), None);
        for df in 1..99 {
            let (a, b) = (t_975(df).unwrap(), t_975(df + 1).unwrap());
            assert!(b < a && b > 1.959964, "t must fall towards 1.96 at df {df}");
        }
    }

    #[test]
    fn a_textbook_interval() {
        // Five measurements with mean 10 and sample standard deviation 1:
        // 10 ± 2.776445 · 1 / √5 = 10 ± 1.241664.
        let e = Estimate::of(&[9.0, 9.0, 10.0, 11.0, 11.0]);
        assert!((e.mean - 10.0).abs() < 1e-12);
        assert!((e.half_width() - 1.241664).abs() < 1e-6, "{e:?}");
    }

    #[test]
    fn identical_samples_and_single_samples_have_no_spread() {
        let e = Estimate::of(&[3.0, 3.0, 3.0]);
        assert_eq!((e.low, e.mean, e.high), (3.0, 3.0, 3.0));
        let one = Estimate::of(&[7.5]);
        assert_eq!((one.low, one.mean, one.high), (7.5, 7.5, 7.5));
    }
}
