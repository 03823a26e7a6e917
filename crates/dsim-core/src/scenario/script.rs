//! Scripted faults: a timeline of faults that strike at given times, besides the random ones.
//!
//! "At 2 s crash consumer 1 after processing; from 3 s to 4 s partition the broker from
//! producer 1" is a `Scenario::script` of two `ScriptedFault`s. This module owns the type, its
//! two written forms and their checks:
//!
//! - scenario JSON holds a list of objects people can read
//!   (`{"fault": "crash-consumer", "atMs": 2000, "consumer": 1, "point": "after-processing"}`);
//! - URLs, the CLI's `--script` and the page's editor use a compact text
//!   (`2s:crash-consumer-1-after;3s-4s:partition-broker-producer-1`), parsed by `parse` into
//!   the same type and printed back by `format`, so a link round-trips.
//!
//! Whether a scripted fault strikes a given message is decided where every other fault is,
//! in `faults::FaultPlan`, from the compiled `ScriptPlan` below; the engine asks one question.
//! Producers and consumers are numbered from 0, as in every trace.

use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;
use crate::scenario::knobs::{ScenarioError, format_number};
use crate::time::{Micros, ms_to_us};

/// The most entries a script may hold: a timeline for people, not a fault generator.
pub const MAX_SCRIPT_ENTRIES: usize = 32;

/// The scenario key of the script, in URLs, JSON and as a CLI flag.
pub const SCRIPT_KEY: &str = "script";

/// Where in its work a scripted consumer crash strikes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum CrashPoint {
    /// At the scripted time, whatever the consumer is doing.
    #[default]
    Now,
    /// On the first record it starts to process from the scripted time on, before applying it.
    BeforeProcessing,
    /// On the first record it finishes processing from the scripted time on, before its ack or
    /// commit.
    AfterProcessing,
}

/// The far end of a network link from the broker: every link in the model has the broker at
/// one end. Written `broker-producer-1` or `broker-consumer-0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(type = "string"))]
pub enum Link {
    /// Publishes and their acks (the outbox relay's included).
    Producer(u16),
    /// Deliveries, acks, commits, fetches and commit responses.
    Consumer(u16),
}

impl Link {
    /// The compact form, `broker-producer-1`.
    pub fn key(self) -> String {
        match self {
            Link::Producer(n) => format!("broker-producer-{n}"),
            Link::Consumer(n) => format!("broker-consumer-{n}"),
        }
    }

    /// For people: `broker↔producer 1`.
    pub fn title(self) -> String {
        match self {
            Link::Producer(n) => format!("broker↔producer {n}"),
            Link::Consumer(n) => format!("broker↔consumer {n}"),
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Link, String> {
        let rest = text.strip_prefix("broker-").ok_or_else(|| {
            format!("a link is broker-producer-N or broker-consumer-N (got {text:?})")
        })?;
        let (party, number) = rest.rsplit_once('-').ok_or_else(|| {
            format!("a link is broker-producer-N or broker-consumer-N (got {text:?})")
        })?;
        let n = index(number)?;
        match party {
            "producer" => Ok(Link::Producer(n)),
            "consumer" => Ok(Link::Consumer(n)),
            _ => Err(format!(
                "a link is broker-producer-N or broker-consumer-N (got {text:?})"
            )),
        }
    }
}

/// A link is its compact text in JSON too (`"link": "broker-producer-0"`).
impl Serialize for Link {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.key())
    }
}

impl<'de> Deserialize<'de> for Link {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Link, D::Error> {
        let text = String::deserialize(deserializer)?;
        Link::parse(&text).map_err(serde::de::Error::custom)
    }
}

// Its `Deserialize` is written by hand in `script_json.rs`, to the letter of what these
// attributes derived (a doc comment here would change the JS API's TypeScript declarations).
/// One entry of a fault timeline. Times are milliseconds of simulated time from the start of
/// the run, like every duration of a scenario.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "fault", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ScriptedFault {
    /// Consumer `consumer` crashes at `at_ms`, or on its next record from then on (`point`).
    /// It restarts after `restart-ms`, like after a random crash.
    #[serde(rename_all = "camelCase")]
    CrashConsumer {
        at_ms: f64,
        consumer: u16,
        #[serde(default)]
        point: CrashPoint,
    },
    /// The partition leader crashes at `at_ms`: appends not yet replicated are lost, and the
    /// broker is unavailable for `failover-ms`.
    #[serde(rename_all = "camelCase")]
    CrashBroker { at_ms: f64 },
    /// Every message sent over `link` from `from_ms` until `to_ms` is lost. Fetch requests
    /// and commit responses, which the model never loses, wait until the link heals.
    #[serde(rename_all = "camelCase")]
    Partition {
        from_ms: f64,
        to_ms: f64,
        link: Link,
    },
}

impl ScriptedFault {
    /// When it starts to strike, ms.
    pub fn from_ms(&self) -> f64 {
        match *self {
            ScriptedFault::CrashConsumer { at_ms, .. } | ScriptedFault::CrashBroker { at_ms } => {
                at_ms
            }
            ScriptedFault::Partition { from_ms, .. } => from_ms,
        }
    }

    /// When a window ends, ms; `None` for an instant.
    pub fn to_ms(&self) -> Option<f64> {
        match *self {
            ScriptedFault::Partition { to_ms, .. } => Some(to_ms),
            _ => None,
        }
    }

    /// The compact text form, e.g. `3s-4s:partition-broker-producer-1`.
    pub fn to_text(&self) -> String {
        let when = match self.to_ms() {
            Some(to) => format!("{}-{}", time_text(self.from_ms()), time_text(to)),
            None => time_text(self.from_ms()),
        };
        let what = match *self {
            ScriptedFault::CrashConsumer {
                consumer, point, ..
            } => match point {
                CrashPoint::Now => format!("crash-consumer-{consumer}"),
                CrashPoint::BeforeProcessing => format!("crash-consumer-{consumer}-before"),
                CrashPoint::AfterProcessing => format!("crash-consumer-{consumer}-after"),
            },
            ScriptedFault::CrashBroker { .. } => "crash-broker".into(),
            ScriptedFault::Partition { link, .. } => format!("partition-{}", link.key()),
        };
        format!("{when}:{what}")
    }

    /// In words, without the time: `consumer 1 crashes after processing`.
    pub fn title(&self) -> String {
        match *self {
            ScriptedFault::CrashConsumer {
                consumer, point, ..
            } => match point {
                CrashPoint::Now => format!("consumer {consumer} crashes"),
                CrashPoint::BeforeProcessing => {
                    format!("consumer {consumer} crashes before processing")
                }
                CrashPoint::AfterProcessing => {
                    format!("consumer {consumer} crashes after processing")
                }
            },
            ScriptedFault::CrashBroker { .. } => "the broker crashes".into(),
            ScriptedFault::Partition { link, .. } => format!("partition {}", link.title()),
        }
    }

    /// In words with the time, for trace notes and lists:
    /// `partition broker↔producer 1 from 3 s to 4 s`.
    pub fn describe(&self) -> String {
        match self.to_ms() {
            Some(to) => format!(
                "{} from {} to {}",
                self.title(),
                spoken_time(self.from_ms()),
                spoken_time(to)
            ),
            None => format!("{} at {}", self.title(), spoken_time(self.from_ms())),
        }
    }

    /// Whether the entry fits the scenario: a consumer or producer that exists, times in
    /// order and within the horizon. The message names what is wrong, without the entry.
    pub fn check(&self, s: &Scenario) -> Result<(), String> {
        let horizon = s.horizon_ms;
        let within = |t: f64, what: &str| {
            if !t.is_finite() || t < 0.0 {
                Err(format!(
                    "{what} must be a time of 0 or more (got {})",
                    format_number(t)
                ))
            } else if t > horizon {
                Err(format!(
                    "{what} {} is past the horizon ({})",
                    spoken_time(t),
                    spoken_time(horizon)
                ))
            } else {
                Ok(())
            }
        };
        within(self.from_ms(), "the time")?;
        if let Some(to) = self.to_ms() {
            within(to, "the end")?;
            if to <= self.from_ms() {
                return Err(format!(
                    "the window ends ({}) before it starts ({})",
                    spoken_time(to),
                    spoken_time(self.from_ms())
                ));
            }
        }
        let node = match *self {
            ScriptedFault::CrashConsumer { consumer, .. } => Some(Link::Consumer(consumer)),
            ScriptedFault::Partition { link, .. } => Some(link),
            ScriptedFault::CrashBroker { .. } => None,
        };
        match node {
            Some(Link::Consumer(n)) if n as u32 >= s.consumers => Err(match s.consumers {
                0 => format!("there is no consumer {n}: the scenario has no consumers"),
                1 => format!("there is no consumer {n}: the only consumer is consumer 0"),
                c => format!(
                    "there is no consumer {n}: consumers are numbered 0 to {}",
                    c - 1
                ),
            }),
            Some(Link::Producer(n)) if n as u32 >= s.producers => Err(match s.producers {
                1 => format!("there is no producer {n}: the only producer is producer 0"),
                p => format!(
                    "there is no producer {n}: producers are numbered 0 to {}",
                    p - 1
                ),
            }),
            _ => Ok(()),
        }
    }
}

/// A time as the compact form writes it: from a second up in seconds (`2s`, `2.5s`) when
/// that reads back exactly, else in milliseconds (`250ms`, `1234.5678ms`).
fn time_text(ms: f64) -> String {
    let s = ms / 1000.0;
    let text = format_number(s);
    if ms >= 1000.0 && text.parse::<f64>().map(|v| v * 1000.0) == Ok(ms) && !text.contains('e') {
        format!("{text}s")
    } else {
        format!("{}ms", format_number(ms))
    }
}

/// A time for sentences: `2 s`, `2.5 s`, `250 ms`.
fn spoken_time(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{} s", format_number(ms / 1000.0))
    } else {
        format!("{} ms", format_number(ms))
    }
}

fn index(text: &str) -> Result<u16, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("expected a number, from 0 (got {:?})", clip(text)));
    }
    text.parse::<u16>()
        .map_err(|_| format!("{} is far too large a number", clip(text)))
}

/// Reads `2s`, `2.5s`, `250ms` (a unit is required: `2` could mean either).
fn parse_time(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return Err(format!(
            "a time needs its unit, like 2s or 250ms (got {:?})",
            clip(text)
        ));
    };
    // Plain decimals only: `inf`, `NaN` and exponents are not times people type.
    let plain = !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && number.bytes().filter(|&b| b == b'.').count() <= 1
        && number != ".";
    match number.parse::<f64>() {
        Ok(v) if plain => Ok(v * scale),
        _ => Err(format!(
            "a time is a number with s or ms, like 2s or 250ms (got {:?})",
            clip(text)
        )),
    }
}

/// Parses one entry of the compact form, `WHEN:WHAT`, without checking it against a scenario.
pub fn parse_entry(text: &str) -> Result<ScriptedFault, String> {
    let text = text.trim();
    let (when, what) = text.split_once(':').ok_or_else(|| {
        format!(
            "an entry is WHEN:WHAT, like 2s:crash-broker or 3s-4s:partition-broker-producer-0 (got {:?})",
            clip(text)
        )
    })?;
    if when.trim_start().starts_with('-') {
        return Err(format!(
            "a time is 0 or more, like 2s or 250ms (got {:?})",
            clip(when.trim())
        ));
    }
    let (from, to) = match when.split_once('-') {
        Some((a, b)) => (parse_time(a)?, Some(parse_time(b)?)),
        None => (parse_time(when)?, None),
    };
    let what = what.trim();
    let instant = |fault: ScriptedFault| match to {
        None => Ok(fault),
        Some(_) => Err(format!(
            "a crash happens at one time: write {}:{what}",
            when.split('-').next().unwrap_or(when).trim()
        )),
    };
    if what == "crash-broker" {
        return instant(ScriptedFault::CrashBroker { at_ms: from });
    }
    if let Some(rest) = what.strip_prefix("crash-consumer-") {
        let (number, point) = match rest.split_once('-') {
            None => (rest, CrashPoint::Now),
            Some((n, "before")) => (n, CrashPoint::BeforeProcessing),
            Some((n, "after")) => (n, CrashPoint::AfterProcessing),
            Some((_, other)) => {
                return Err(format!(
                    "a consumer crash ends with -before or -after, or nothing (got {:?})",
                    clip(other)
                ));
            }
        };
        return instant(ScriptedFault::CrashConsumer {
            at_ms: from,
            consumer: index(number)?,
            point,
        });
    }
    if let Some(link) = what.strip_prefix("partition-") {
        let link = Link::parse(link)?;
        return match to {
            Some(to_ms) => Ok(ScriptedFault::Partition {
                from_ms: from,
                to_ms,
                link,
            }),
            None => Err(format!(
                "a partition lasts a while: give a window, like {}-{}:{what}",
                when.trim(),
                time_text(from + 1000.0)
            )),
        };
    }
    Err(format!(
        "unknown fault {:?}: use crash-consumer-N[-before|-after], crash-broker or partition-broker-producer-N / partition-broker-consumer-N",
        clip(what)
    ))
}

/// Parses the compact form: entries separated by `;` (or new lines), spaces ignored.
/// The first bad entry is named in the error; nothing is checked against a scenario yet.
pub fn parse(text: &str) -> Result<Vec<ScriptedFault>, ScenarioError> {
    let entries: Vec<&str> = text
        .split([';', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if entries.len() > MAX_SCRIPT_ENTRIES {
        return Err(error(format!(
            "at most {MAX_SCRIPT_ENTRIES} entries (got {})",
            entries.len()
        )));
    }
    entries
        .iter()
        .map(|entry| parse_entry(entry).map_err(|e| entry_error(entry, &e)))
        .collect()
}

/// The compact form of a script: `format(&parse(t)?)` means the same as `t`.
pub fn format(script: &[ScriptedFault]) -> String {
    script
        .iter()
        .map(ScriptedFault::to_text)
        .collect::<Vec<_>>()
        .join(";")
}

/// Checks every entry against the scenario (its consumers, producers and horizon).
pub fn check(s: &Scenario) -> Result<(), ScenarioError> {
    if s.script.len() > MAX_SCRIPT_ENTRIES {
        return Err(error(format!(
            "at most {MAX_SCRIPT_ENTRIES} entries (got {})",
            s.script.len()
        )));
    }
    for fault in &s.script {
        fault
            .check(s)
            .map_err(|e| entry_error(&fault.to_text(), &e))?;
    }
    Ok(())
}

/// Reads the script's JSON value: the compact text, or a list whose items are objects or
/// compact entries. Not checked against the scenario (its other keys may still change).
pub fn from_json(value: &serde_json::Value) -> Result<Vec<ScriptedFault>, ScenarioError> {
    match value {
        serde_json::Value::String(text) => parse(text),
        serde_json::Value::Array(items) => {
            if items.len() > MAX_SCRIPT_ENTRIES {
                return Err(error(format!(
                    "at most {MAX_SCRIPT_ENTRIES} entries (got {})",
                    items.len()
                )));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    serde_json::Value::String(text) => {
                        parse_entry(text).map_err(|e| entry_error(text, &e))
                    }
                    serde_json::Value::Object(_) => {
                        crate::scenario::script_json::from_value(item).map_err(|e| {
                            // serde's messages end with a position in a text we never had.
                            let message = e.to_string();
                            let message = message.split(" at line ").next().unwrap_or_default();
                            error(format!("entry {}: {}", i + 1, clip(message)))
                        })
                    }
                    other => Err(error(format!(
                        "entry {}: must be an object or a text like \"2s:crash-broker\" (got {})",
                        i + 1,
                        crate::scenario::knobs::json_type(other)
                    ))),
                })
                .collect()
        }
        other => Err(error(format!(
            "must be a text like \"2s:crash-broker;3s-4s:partition-broker-producer-0\" or a list of faults (got {})",
            crate::scenario::knobs::json_type(other)
        ))),
    }
}

fn error(message: String) -> ScenarioError {
    ScenarioError {
        key: SCRIPT_KEY.into(),
        message,
    }
}

fn entry_error(entry: &str, message: &str) -> ScenarioError {
    error(format!("{:?}: {message}", clip(entry)))
}

/// Keeps error messages one line long whatever the user pasted.
fn clip(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    let mut out: String = line.chars().take(60).collect();
    if line.chars().count() > 60 || text.lines().nth(1).is_some() {
        out.push('…');
    }
    out
}

/// A scripted fault in the engine's terms: integer microseconds, checked indices.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Compiled {
    Crash {
        at: Micros,
        consumer: u16,
        point: CrashPoint,
    },
    BrokerCrash {
        at: Micros,
    },
    Partition {
        from: Micros,
        to: Micros,
        link: Link,
    },
}

/// When a scripted fault struck, as the run went.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Struck {
    /// The first time it struck.
    pub first: Option<Micros>,
    /// Messages it dropped, or crashes it caused.
    pub count: u64,
}

/// The script of a run, compiled once, with what each entry has done so far. Entries that
/// name a consumer or producer the scenario does not have never strike (validation refuses
/// them; the engine must still never index out of bounds).
#[derive(Clone, Debug, Default)]
pub(crate) struct ScriptPlan {
    pub entries: Vec<Compiled>,
    pub struck: Vec<Struck>,
}

impl ScriptPlan {
    pub fn new(s: &Scenario) -> ScriptPlan {
        let entries: Vec<Compiled> = s
            .script
            .iter()
            .map(|f| match *f {
                ScriptedFault::CrashConsumer {
                    at_ms,
                    consumer,
                    point,
                } => Compiled::Crash {
                    at: ms_to_us(at_ms),
                    consumer,
                    point,
                },
                ScriptedFault::CrashBroker { at_ms } => Compiled::BrokerCrash {
                    at: ms_to_us(at_ms),
                },
                ScriptedFault::Partition {
                    from_ms,
                    to_ms,
                    link,
                } => Compiled::Partition {
                    from: ms_to_us(from_ms),
                    to: ms_to_us(to_ms),
                    link,
                },
            })
            .collect();
        ScriptPlan {
            struck: vec![Struck::default(); entries.len()],
            entries,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries that happen at an instant whatever the run is doing (a plain consumer
    /// crash, a broker crash): `(time, entry)`, sorted by time then by their place in the
    /// script, so that simultaneous entries always fire in the same order.
    pub fn instants(&self) -> Vec<(Micros, u16)> {
        // Kept in order as it is built (a script has a handful of entries): a sort here would
        // be the page's only one of this type, about 2 KB gzipped of wasm.
        let mut out: Vec<(Micros, u16)> = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            if let Compiled::Crash {
                at,
                point: CrashPoint::Now,
                ..
            }
            | Compiled::BrokerCrash { at } = *e
            {
                let instant = (at, i as u16);
                out.insert(out.partition_point(|x| *x < instant), instant);
            }
        }
        out
    }

    /// The first partition (in script order) that cuts `link` at `now`.
    pub fn partition(&self, link: Link, now: Micros) -> Option<u16> {
        self.entries.iter().position(|e| {
            matches!(*e, Compiled::Partition { from, to, link: l } if l == link && from <= now && now < to)
        }).map(|i| i as u16)
    }

    /// The latest end of the partitions that cut `link` at `now`, if any cuts it.
    pub fn heals_at(&self, link: Link, now: Micros) -> Option<Micros> {
        let mut t = now;
        let mut cut = false;
        // A message held by one window may meet another that overlaps it: wait for all.
        loop {
            let next = self
                .entries
                .iter()
                .filter_map(|e| match *e {
                    Compiled::Partition { from, to, link: l }
                        if l == link && from <= t && t < to =>
                    {
                        Some(to)
                    }
                    _ => None,
                })
                .max();
            match next {
                Some(to) => {
                    cut = true;
                    t = to;
                }
                None => return cut.then_some(t),
            }
        }
    }

    /// The armed, not yet spent crash of `consumer` at `point`, if `now` has reached it.
    pub fn armed_crash(&self, consumer: u16, point: CrashPoint, now: Micros) -> Option<u16> {
        self.entries
            .iter()
            .zip(&self.struck)
            .position(|(e, s)| {
                s.count == 0
                    && matches!(*e, Compiled::Crash { at, consumer: c, point: p } if c == consumer && p == point && at <= now)
            })
            .map(|i| i as u16)
    }

    pub fn record(&mut self, entry: u16, now: Micros) {
        if let Some(s) = self.struck.get_mut(entry as usize) {
            s.first.get_or_insert(now);
            s.count += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The engine schedules the instants in this order once, at the start, so entries due at
    /// the same time always strike in script order.
    #[test]
    fn instants_come_in_time_order_then_script_order() {
        let scenario = Scenario {
            script: parse(
                "3s:crash-broker; 1s:crash-consumer-0; 3s:crash-consumer-1; \
                 2s-4s:partition-broker-producer-0; 1s:crash-broker; 2s:crash-consumer-1-after",
            )
            .expect("a valid script"),
            ..Scenario::default()
        };
        let plan = ScriptPlan::new(&scenario);
        // Partitions are windows and armed crashes wait for their point: neither is an instant.
        assert_eq!(
            plan.instants(),
            vec![
                (1_000_000, 1),
                (1_000_000, 4),
                (3_000_000, 0),
                (3_000_000, 2)
            ]
        );
    }
}
