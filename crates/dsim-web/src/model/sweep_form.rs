//! The sweep view's settings: which knob, from, to, how many points and how many seeds, as
//! the page's form holds them and as the address records them
//! (`sweep=ack-loss&sweep-from=0&sweep-to=0.5&sweep-steps=11&sweep-seeds=10`).
//!
//! Every field is checked on its own, by the core's `SweepSpec::validate` (the one validation
//! of a sweep, shared with the CLI and the JS API), so a bad field is named and the others keep
//! their values. Pure, so it is tested natively.

use dsim_core::knobs::format_number;
use dsim_core::{Kind, Knob, Scenario, ScenarioError, SweepSpec, knob, knobs};

/// The knob a sweep starts on: the textbook's retry-duplicates curve, q/(1−q).
pub const DEFAULT_KNOB: &str = "ack-loss";

/// The fields, in the order the form and the address show them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Knob,
    From,
    To,
    Steps,
    Seeds,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::Knob,
        Field::From,
        Field::To,
        Field::Steps,
        Field::Seeds,
    ];

    /// The query key, also the key an error names.
    pub fn key(self) -> &'static str {
        match self {
            Field::Knob => "sweep",
            Field::From => "sweep-from",
            Field::To => "sweep-to",
            Field::Steps => "sweep-steps",
            Field::Seeds => "sweep-seeds",
        }
    }

    /// The name `SweepSpec` gives the field (and its errors).
    fn spec_key(self) -> &'static str {
        match self {
            Field::Knob => "knob",
            Field::From => "from",
            Field::To => "to",
            Field::Steps => "steps",
            Field::Seeds => "seeds",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Field::Knob => "Setting",
            Field::From => "From",
            Field::To => "To",
            Field::Steps => "Points",
            Field::Seeds => "Seeds per point",
        }
    }
}

/// The query keys of a sweep; the page's, not the scenario's.
pub const SWEEP_KEYS: [&str; 5] = [
    "sweep",
    "sweep-from",
    "sweep-to",
    "sweep-steps",
    "sweep-seeds",
];

/// A sweep's settings, each valid on its own (whether the whole sweep fits the budget depends
/// on the scenario's message count, and is checked when it runs).
#[derive(Clone, Debug, PartialEq)]
pub struct SweepForm {
    /// The knob's kebab-case key.
    pub knob: &'static str,
    pub from: f64,
    pub to: f64,
    pub steps: u32,
    pub seeds: u32,
}

impl Default for SweepForm {
    fn default() -> SweepForm {
        SweepForm {
            knob: DEFAULT_KNOB,
            from: 0.0,
            to: 0.5,
            steps: 11,
            seeds: 10,
        }
    }
}

/// The knobs a sweep can vary: every probability and number of the knob table; not the mode
/// or other choices (every sweep runs every mode) nor the seed (every point averages seeds).
pub fn sweepable() -> Vec<&'static Knob> {
    knobs()
        .iter()
        .filter(|k| check(Field::Knob, &probe_form(k.key)).is_ok())
        .collect()
}

/// A form on `knob` whose other fields are known good.
fn probe_form(knob_key: &'static str) -> SweepForm {
    let min = knob(knob_key).map_or(0.0, |k| k.min);
    SweepForm {
        knob: knob_key,
        from: min,
        to: min,
        steps: 1,
        seeds: 2,
    }
}

/// Checks one field of `form` through the core's validation, with every other field set to a
/// value known to pass and a one-message scenario, so that only this field can fail.
fn check(field: Field, form: &SweepForm) -> Result<(), ScenarioError> {
    let mut probe = probe_form(form.knob);
    match field {
        Field::Knob => {}
        Field::From => probe.from = form.from,
        Field::To => probe.to = form.to,
        Field::Steps => probe.steps = form.steps,
        Field::Seeds => probe.seeds = form.seeds,
    }
    let base = Scenario {
        messages: 1,
        seed: 0,
        ..Scenario::default()
    };
    match probe.spec().validate(&base) {
        Err(e) if e.key == field.spec_key() => Err(ScenarioError {
            key: field.key().to_string(),
            message: e.message,
        }),
        _ => Ok(()),
    }
}

fn clip(text: &str) -> String {
    let mut out: String = text.trim().chars().take(40).collect();
    if text.trim().chars().count() > 40 {
        out.push('…');
    }
    out
}

fn field_error(field: Field, message: String) -> ScenarioError {
    ScenarioError {
        key: field.key().to_string(),
        message,
    }
}

/// A sensible range for a knob just picked: 0 to 0.5 for a probability (beyond that most
/// runs only retry), else from the scenario's value to twice it, within the knob's range.
pub fn default_range(k: &Knob, scenario: &Scenario) -> (f64, f64) {
    if k.kind == Kind::Probability {
        // Half of the range a probability allows (SQS's extra-copy stops at 0.1).
        return (0.0, 0.5f64.min(k.max));
    }
    let whole = |v: f64| if k.kind == Kind::Count { v.round() } else { v };
    let now = k.get(scenario).clamp(k.min, k.max);
    let to = whole(if now > 0.0 { now * 2.0 } else { k.step * 10.0 }).clamp(k.min, k.max);
    if to > now {
        (now, to)
    } else {
        // Already at the top of the range: sweep the upper half instead.
        (whole((k.min + k.max) / 2.0), k.max)
    }
}

impl SweepForm {
    pub fn spec(&self) -> SweepSpec {
        SweepSpec {
            knob: self.knob.to_string(),
            from: self.from,
            to: self.to,
            steps: self.steps,
            seeds: self.seeds,
        }
    }

    pub fn knob(&self) -> &'static Knob {
        knob(self.knob).expect("the form holds only knobs of the table")
    }

    /// The field's value as the form and the address write it.
    pub fn text(&self, field: Field) -> String {
        match field {
            Field::Knob => self.knob.to_string(),
            Field::From => format_number(self.from),
            Field::To => format_number(self.to),
            Field::Steps => self.steps.to_string(),
            Field::Seeds => self.seeds.to_string(),
        }
    }

    /// Picks another knob, with a range that suits it (`default_range`).
    pub fn with_knob(&self, k: &'static Knob, scenario: &Scenario) -> SweepForm {
        let (from, to) = default_range(k, scenario);
        SweepForm {
            knob: k.key,
            from,
            to,
            ..self.clone()
        }
    }

    /// Sets one field from typed text, checked by the core; on error nothing changes and the
    /// error names the field. A new knob brings its own range (`with_knob`).
    pub fn set(
        &mut self,
        field: Field,
        text: &str,
        scenario: &Scenario,
    ) -> Result<(), ScenarioError> {
        let number = || {
            text.trim()
                .parse::<f64>()
                .map_err(|_| field_error(field, format!("must be a number (got {:?})", clip(text))))
        };
        let whole = || {
            text.trim().parse::<u32>().map_err(|_| {
                field_error(
                    field,
                    format!("must be a whole number (got {:?})", clip(text)),
                )
            })
        };
        let mut next = self.clone();
        match field {
            Field::Knob => {
                let Some(k) = knob(text.trim()) else {
                    return Err(field_error(
                        field,
                        format!("{:?} is not a scenario setting", clip(text)),
                    ));
                };
                check(field, &probe_form(k.key))?;
                if k.key != self.knob {
                    next = self.with_knob(k, scenario);
                }
            }
            Field::From => next.from = number()?,
            Field::To => next.to = number()?,
            Field::Steps => next.steps = whole()?,
            Field::Seeds => next.seeds = whole()?,
        }
        check(field, &next)?;
        *self = next;
        Ok(())
    }

    /// The sweep to run over `base`, or every field the core refuses for it (the budget and
    /// the last seed depend on the scenario), each named; `sweep` names the sweep as a whole.
    pub fn validate(&self, base: &Scenario) -> Result<SweepSpec, ScenarioError> {
        let spec = self.spec();
        spec.validate(base).map_err(|e| {
            let key = Field::ALL
                .iter()
                .find(|f| f.spec_key() == e.key)
                .map_or(e.key.clone(), |f| f.key().to_string());
            ScenarioError {
                key,
                message: e.message,
            }
        })?;
        Ok(spec)
    }

    /// The address's part: every field, so a link always means the same sweep.
    pub fn to_query(&self) -> String {
        Field::ALL
            .iter()
            .map(|f| format!("{}={}", f.key(), self.text(*f)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The sweep a query names, if it names one (any `sweep*` key), with one error per bad
    /// field; a bad field keeps its default and the others still load.
    pub fn from_pairs(
        pairs: &[(String, String)],
        scenario: &Scenario,
    ) -> Option<(SweepForm, Vec<ScenarioError>)> {
        let value = |field: Field| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == field.key())
                .map(|(_, v)| v.as_str())
        };
        if Field::ALL.iter().all(|f| value(*f).is_none()) {
            return None;
        }
        let mut form = SweepForm::default();
        let mut errors = Vec::new();
        // The knob first: the range is checked against it.
        for field in Field::ALL {
            if let Some(text) = value(field)
                && let Err(e) = form.set(field, text, scenario)
            {
                errors.push(e);
            }
        }
        Some((form, errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        dsim_core::knobs::parse_query(query)
    }

    #[test]
    fn every_number_and_probability_can_be_swept_and_nothing_else() {
        let keys: Vec<&str> = sweepable().iter().map(|k| k.key).collect();
        assert!(keys.contains(&"ack-loss") && keys.contains(&"messages"));
        assert!(keys.contains(&"ack-timeout-ms") && keys.contains(&"max-retries"));
        for refused in ["mode", "acks", "seed", "external-effect", "fencing"] {
            assert!(!keys.contains(&refused), "{refused}");
        }
        // Every knob but the seed and the choices (the mode, acks, on/off switches).
        let choices = knobs()
            .iter()
            .filter(|k| matches!(k.kind, Kind::Choice(_)))
            .count();
        assert!(choices >= 3, "mode, acks and the switches are choices");
        assert_eq!(keys.len(), knobs().len() - choices - 1);
        // Every default range is a valid sweep of that knob.
        let s = Scenario::default();
        for k in sweepable() {
            let form = SweepForm::default().with_knob(k, &s);
            assert!(form.from < form.to, "{}: {form:?}", k.key);
            for f in Field::ALL {
                assert_eq!(check(f, &form), Ok(()), "{}", k.key);
            }
        }
    }

    #[test]
    fn a_query_round_trips() {
        let s = Scenario::default();
        let (form, errors) = SweepForm::from_pairs(
            &pairs("sweep=ackLoss&sweep-from=0.1&sweep-to=0.3&sweep-steps=3&sweep-seeds=4"),
            &s,
        )
        .unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            form,
            SweepForm {
                knob: "ack-loss",
                from: 0.1,
                to: 0.3,
                steps: 3,
                seeds: 4
            }
        );
        let query = form.to_query();
        assert_eq!(
            query,
            "sweep=ack-loss&sweep-from=0.1&sweep-to=0.3&sweep-steps=3&sweep-seeds=4"
        );
        assert_eq!(SweepForm::from_pairs(&pairs(&query), &s).unwrap().0, form);
        assert_eq!(SweepForm::from_pairs(&pairs("mode=outbox"), &s), None);
    }

    #[test]
    fn a_bad_field_is_named_and_the_others_load() {
        let s = Scenario::default();
        let (form, errors) = SweepForm::from_pairs(
            &pairs("sweep=ack-loss&sweep-from=0.05&sweep-to=1.5&sweep-steps=x&sweep-seeds=1"),
            &s,
        )
        .unwrap();
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "sweep-to: ack-loss must be between 0 and 1 (got 1.5)",
                "sweep-steps: must be a whole number (got \"x\")",
                "sweep-seeds: must be between 2 and 100 (got 1): a confidence interval needs two runs or more",
            ]
        );
        let defaults = SweepForm::default();
        assert_eq!(form.from, 0.05, "the good field loaded");
        assert_eq!(
            (form.to, form.steps, form.seeds),
            (defaults.to, defaults.steps, defaults.seeds)
        );
        let (form, errors) = SweepForm::from_pairs(&pairs("sweep=mode&sweep-to=0.2"), &s).unwrap();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .to_string()
                .starts_with("sweep: mode cannot be swept")
        );
        assert_eq!((form.knob, form.to), (DEFAULT_KNOB, 0.2));
        let (_, errors) = SweepForm::from_pairs(&pairs("sweep=<b>x</b>"), &s).unwrap();
        assert_eq!(
            errors[0].to_string(),
            "sweep: \"<b>x</b>\" is not a scenario setting"
        );
    }

    #[test]
    fn a_new_knob_brings_its_own_range() {
        let s = Scenario::default();
        let mut form = SweepForm::default();
        form.set(Field::Knob, "ack-timeout-ms", &s).unwrap();
        assert_eq!(form.knob, "ack-timeout-ms");
        assert_eq!(
            (form.from, form.to),
            (s.ack_timeout_ms, 2.0 * s.ack_timeout_ms)
        );
        // A range given with the knob in the address overrides the default one.
        let (form, errors) =
            SweepForm::from_pairs(&pairs("sweep=consumers&sweep-from=1&sweep-to=3"), &s).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!((form.from, form.to), (1.0, 3.0));
        let mut form = SweepForm::default();
        assert!(form.set(Field::From, "-1", &s).is_err());
        assert_eq!(
            form,
            SweepForm::default(),
            "a refused value changes nothing"
        );
    }

    #[test]
    fn the_whole_sweep_is_checked_against_the_scenario() {
        let form = SweepForm {
            steps: 101,
            seeds: 100,
            ..SweepForm::default()
        };
        let e = form.validate(&Scenario::default()).unwrap_err();
        assert_eq!(e.key, "sweep");
        assert!(e.message.starts_with("would simulate"), "{e}");
        let high_seed = Scenario {
            seed: dsim_core::knobs::MAX_SEED,
            ..Scenario::default()
        };
        assert_eq!(
            SweepForm::default().validate(&high_seed).unwrap_err().key,
            "sweep-seeds"
        );
        assert_eq!(
            SweepForm::default().validate(&Scenario::default()),
            Ok(SweepForm::default().spec())
        );
    }
}
