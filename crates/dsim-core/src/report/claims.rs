//! A preset's claims checked against its runs: every number a preset's text names, and every
//! fix it promises, must be what the simulation shows (`presets::Claim`).

use crate::presets::{Claim, Expect, Preset};
use crate::report::Report;
use crate::scenario::Scenario;

/// A count of the report by its place in the report's JSON (`queue.redelivered`); `true` and
/// `false` count as 1 and 0. `None` for a count the report does not have (a queue count on
/// Kafka).
pub fn count(report: &Report, path: &str) -> Option<u64> {
    let json = serde_json::to_value(report).ok()?;
    let mut at = &json;
    for part in path.split('.') {
        at = at.get(part)?;
    }
    match at {
        serde_json::Value::Bool(b) => Some(u64::from(*b)),
        v => v.as_u64(),
    }
}

/// Runs the preset and each run its claims name, and checks every claim: the first that
/// fails, in one line naming the preset, the settings, the count and both numbers.
pub fn check(preset: &Preset) -> Result<(), String> {
    let run = |after: &str| -> Result<Report, String> {
        let query = if after.is_empty() {
            preset.query.to_string()
        } else {
            format!("{}&{after}", preset.query)
        };
        let (scenario, errors) = Scenario::from_query(&query, &[]);
        if let Some(e) = errors.first() {
            return Err(format!("{}: {query}: {e}", preset.key));
        }
        crate::simulate(&scenario).map_err(|e| format!("{}: {query}: {e}", preset.key))
    };
    let own = run("")?;
    for claim in preset.claims {
        let report = if claim.after.is_empty() {
            own.clone()
        } else {
            run(claim.after)?
        };
        check_one(preset, claim, &report, &own)?;
    }
    Ok(())
}

fn check_one(preset: &Preset, claim: &Claim, report: &Report, own: &Report) -> Result<(), String> {
    let name = |path: &str| {
        count(report, path).ok_or_else(|| format!("{}: the report has no count {path}", preset.key))
    };
    let value = name(claim.count)?;
    let (held, wanted) = match claim.is {
        Expect::Zero => (value == 0, "0".to_string()),
        Expect::Some => (value > 0, "above 0".to_string()),
        Expect::Equal(n) => (value == n, n.to_string()),
        Expect::Equals(other) => {
            let n = name(other)?;
            (value == n, format!("{other} = {n}"))
        }
        Expect::Times(other, k) => {
            let n = name(other)?;
            (value == k * n, format!("{k} × {other} = {}", k * n))
        }
        Expect::AtLeastTimes(other, k) => {
            let n = name(other)?;
            (
                value >= k * n,
                format!("at least {k} × {other} = {}", k * n),
            )
        }
        Expect::Below => {
            let before = count(own, claim.count).unwrap_or(0);
            (value < before, format!("below the preset's {before}"))
        }
        Expect::Above => {
            let before = count(own, claim.count).unwrap_or(u64::MAX);
            (value > before, format!("above the preset's {before}"))
        }
    };
    if held {
        Ok(())
    } else {
        let settings = if claim.after.is_empty() {
            "as it is".to_string()
        } else {
            format!("with {}", claim.after)
        };
        Err(format!(
            "{} {settings}: {} is {value}, its text says {wanted}",
            preset.key, claim.count
        ))
    }
}
