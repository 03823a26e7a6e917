//! How a knob's value maps to a slider position.
//!
//! Fault rates that matter span 0.0001 to 0.5, and durations span microseconds to a day, so a
//! linear slider would leave the interesting values in its first pixel. Such knobs get a
//! logarithmic slider over integer positions; knobs with a short range (replicas, consumers)
//! keep a linear slider in their own units, so the arrow keys move them one unit at a time.
//! The typed number beside each slider always holds the exact value.

use dsim_core::{Kind, Knob};

/// Positions of a logarithmic slider: about 50 per decade for a fault rate, so the arrow keys
/// step by roughly 5 % of the value.
pub const LOG_POSITIONS: u32 = 200;

/// Above this ratio of largest to smallest non-zero value, a slider is logarithmic.
const LOG_RATIO: f64 = 200.0;

/// The smallest fault rate a logarithmic slider reaches before its zero position.
const SMALLEST_PROBABILITY: f64 = 1e-4;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SliderScale {
    /// The slider's position is the value itself.
    Linear { min: f64, max: f64, step: f64 },
    /// Position 0 is `floor` (the knob's minimum, often zero); positions 1 to
    /// `LOG_POSITIONS` run logarithmically from `lo` to `hi`.
    Log {
        floor: f64,
        lo: f64,
        hi: f64,
        whole: bool,
    },
}

impl SliderScale {
    pub fn for_knob(knob: &Knob) -> SliderScale {
        let whole = matches!(knob.kind, Kind::Count);
        let lo = match knob.kind {
            Kind::Probability => SMALLEST_PROBABILITY.max(knob.min),
            _ => knob.min.max(knob.step),
        };
        if matches!(knob.kind, Kind::Probability) || knob.max / lo > LOG_RATIO {
            SliderScale::Log {
                floor: knob.min,
                lo,
                hi: knob.max,
                whole,
            }
        } else {
            SliderScale::Linear {
                min: knob.min,
                max: knob.max,
                step: knob.step,
            }
        }
    }

    /// The `min`, `max` and `step` attributes of the `<input type="range">`.
    pub fn input_range(&self) -> (f64, f64, f64) {
        match *self {
            SliderScale::Linear { min, max, step } => (min, max, step),
            SliderScale::Log { .. } => (0.0, LOG_POSITIONS as f64, 1.0),
        }
    }

    /// Where the slider sits for a value.
    pub fn position(&self, value: f64) -> f64 {
        match *self {
            SliderScale::Linear { min, max, .. } => value.clamp(min, max),
            SliderScale::Log { floor, lo, hi, .. } => {
                if value <= floor {
                    return 0.0;
                }
                let t = (value.max(lo).ln() - lo.ln()) / (hi.ln() - lo.ln());
                1.0 + (t.clamp(0.0, 1.0) * (LOG_POSITIONS - 1) as f64).round()
            }
        }
    }

    /// The value a slider position stands for, rounded to what a person would type.
    pub fn value(&self, position: f64) -> f64 {
        match *self {
            SliderScale::Linear { min, max, step } => {
                let snapped = min + ((position - min) / step).round() * step;
                round_significant(snapped.clamp(min, max), 6)
            }
            SliderScale::Log {
                floor,
                lo,
                hi,
                whole,
            } => {
                if position < 0.5 {
                    return floor;
                }
                let t = ((position - 1.0) / (LOG_POSITIONS - 1) as f64).clamp(0.0, 1.0);
                let raw = (lo.ln() + t * (hi.ln() - lo.ln())).exp();
                let v = round_significant(raw, 2).clamp(lo, hi);
                if whole { v.round().clamp(lo, hi) } else { v }
            }
        }
    }
}

/// Rounds to `digits` significant digits, so a slider gives 0.0031, not 0.003107.
pub fn round_significant(v: f64, digits: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let magnitude = v.abs().log10().floor() as i32;
    let factor = 10f64.powi(digits - 1 - magnitude);
    (v * factor).round() / factor
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsim_core::{knob, knobs};

    #[test]
    fn fault_rates_are_logarithmic_with_a_zero_stop() {
        let s = SliderScale::for_knob(knob("publish-loss").unwrap());
        assert!(matches!(s, SliderScale::Log { .. }));
        assert_eq!(s.value(0.0), 0.0);
        assert_eq!(s.position(0.0), 0.0);
        assert_eq!(s.value(1.0), 0.0001);
        assert_eq!(s.value(LOG_POSITIONS as f64), 1.0);
        // The presets' rates survive a trip through the slider to within its resolution.
        for v in [0.0003, 0.002, 0.05, 0.3] {
            let back = s.value(s.position(v));
            assert!((back - v).abs() / v < 0.06, "{v} came back as {back}");
        }
    }

    #[test]
    fn short_ranges_stay_linear_in_their_own_units() {
        let s = SliderScale::for_knob(knob("replication-factor").unwrap());
        assert_eq!(s.input_range(), (1.0, 5.0, 1.0));
        assert_eq!(s.value(3.0), 3.0);
    }

    #[test]
    fn counts_on_log_sliders_are_whole_numbers() {
        let s = SliderScale::for_knob(knob("messages").unwrap());
        for p in 0..=LOG_POSITIONS {
            let v = s.value(p as f64);
            assert_eq!(v.fract(), 0.0, "position {p} gave {v}");
        }
    }

    #[test]
    fn every_slider_value_is_accepted_by_its_knob() {
        for k in knobs() {
            if matches!(k.kind, Kind::Choice(_)) || k.key == "seed" {
                continue;
            }
            let s = SliderScale::for_knob(k);
            let (min, max, step) = s.input_range();
            let mut p = min;
            while p <= max {
                let v = s.value(p);
                assert!(k.check(v).is_ok(), "{} rejects slider value {v}", k.key);
                p += step.max((max - min) / 50.0);
            }
        }
    }

    #[test]
    fn significant_rounding() {
        assert_eq!(round_significant(0.003107, 2), 0.0031);
        assert_eq!(round_significant(123_456.0, 2), 120_000.0);
    }
}
