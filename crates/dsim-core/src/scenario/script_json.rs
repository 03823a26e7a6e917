//! A scripted fault's JSON object (`{"fault": "crash-broker", "atMs": 2000}`) read by hand.
//!
//! serde's derived `Deserialize` for an internally tagged enum buffers the object into its
//! private `Content` tree and is instantiated once per deserializer that meets it (the JSON
//! text of the worker protocol, `serde_json::Value` for scenario files and the JS API), which
//! cost every bundle tens of kilobytes. This reads one `serde_json::Value` instead, and every
//! `Deserialize` of a `ScriptedFault` goes through it. It accepts and rejects exactly what the
//! derive did for an object, with the same messages, word for word: they are built with
//! serde's own error constructors from the same `Unexpected` and `Expected` parts, and the
//! test below holds them against the derive over a corpus of good and bad objects. (The derive
//! also took a list `[tag, fields...]`; nothing ever wrote one, and scenario JSON hands only
//! objects here.)

use serde::de::{Error as _, Unexpected};
use serde_json::{Map, Value};

use crate::scenario::script::{CrashPoint, Link, ScriptedFault};

type Error = serde_json::Error;

const TAG: &str = "fault";
const VARIANTS: &[&str] = &["crash-consumer", "crash-broker", "partition"];
const POINTS: &[&str] = &["now", "before-processing", "after-processing"];
const CRASH_CONSUMER_FIELDS: &[&str] = &["atMs", "consumer", "point"];
const CRASH_BROKER_FIELDS: &[&str] = &["atMs"];
const PARTITION_FIELDS: &[&str] = &["fromMs", "toMs", "link"];

impl<'de> serde::Deserialize<'de> for ScriptedFault {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        from_value(&value).map_err(serde::de::Error::custom)
    }
}

/// One scripted fault from its JSON object; the error is serde's message for it.
pub(crate) fn from_value(value: &Value) -> Result<ScriptedFault, Error> {
    let Value::Object(object) = value else {
        return Err(Error::invalid_type(
            unexpected(value),
            &"internally tagged enum ScriptedFault",
        ));
    };
    // The tag is read where it stands among the keys; the other entries wait for the variant.
    let mut tag = None;
    for (key, v) in object {
        if key == TAG {
            tag = Some(variant(v)?);
        }
    }
    let fields = || object.iter().filter(|(k, _)| *k != TAG);
    match tag {
        None => Err(Error::missing_field(TAG)),
        Some(0) => {
            let (mut at_ms, mut consumer, mut point) = (None, None, None);
            for (key, v) in fields() {
                match key.as_str() {
                    "atMs" => at_ms = Some(float(v)?),
                    "consumer" => consumer = Some(small_integer(v)?),
                    "point" => point = Some(crash_point(v)?),
                    other => return Err(Error::unknown_field(other, CRASH_CONSUMER_FIELDS)),
                }
            }
            Ok(ScriptedFault::CrashConsumer {
                at_ms: at_ms.ok_or_else(|| Error::missing_field("atMs"))?,
                consumer: consumer.ok_or_else(|| Error::missing_field("consumer"))?,
                point: point.unwrap_or_default(),
            })
        }
        Some(1) => {
            let mut at_ms = None;
            for (key, v) in fields() {
                match key.as_str() {
                    "atMs" => at_ms = Some(float(v)?),
                    other => return Err(Error::unknown_field(other, CRASH_BROKER_FIELDS)),
                }
            }
            Ok(ScriptedFault::CrashBroker {
                at_ms: at_ms.ok_or_else(|| Error::missing_field("atMs"))?,
            })
        }
        Some(_) => {
            let (mut from_ms, mut to_ms, mut link) = (None, None, None);
            for (key, v) in fields() {
                match key.as_str() {
                    "fromMs" => from_ms = Some(float(v)?),
                    "toMs" => to_ms = Some(float(v)?),
                    "link" => link = Some(link_of(v)?),
                    other => return Err(Error::unknown_field(other, PARTITION_FIELDS)),
                }
            }
            Ok(ScriptedFault::Partition {
                from_ms: from_ms.ok_or_else(|| Error::missing_field("fromMs"))?,
                to_ms: to_ms.ok_or_else(|| Error::missing_field("toMs"))?,
                link: link.ok_or_else(|| Error::missing_field("link"))?,
            })
        }
    }
}

/// The tag's value: a variant name (the derive reads it straight off the JSON value).
fn variant(value: &Value) -> Result<usize, Error> {
    match value {
        Value::String(name) => VARIANTS
            .iter()
            .position(|v| v == name)
            .ok_or_else(|| Error::unknown_variant(name, VARIANTS)),
        other => Err(Error::invalid_type(
            unexpected(other),
            &"variant identifier",
        )),
    }
}

fn float(value: &Value) -> Result<f64, Error> {
    match value {
        Value::Number(n) => Ok(n.as_f64().unwrap_or(f64::NAN)),
        other => Err(Error::invalid_type(unexpected(other), &"f64")),
    }
}

fn small_integer(value: &Value) -> Result<u16, Error> {
    match unexpected(value) {
        Unexpected::Unsigned(n) => {
            u16::try_from(n).map_err(|_| Error::invalid_value(Unexpected::Unsigned(n), &"u16"))
        }
        Unexpected::Signed(n) => {
            u16::try_from(n).map_err(|_| Error::invalid_value(Unexpected::Signed(n), &"u16"))
        }
        other => Err(Error::invalid_type(other, &"u16")),
    }
}

fn link_of(value: &Value) -> Result<Link, Error> {
    match value {
        Value::String(text) => Link::parse(text).map_err(Error::custom),
        other => Err(Error::invalid_type(unexpected(other), &"a string")),
    }
}

/// `CrashPoint` as serde reads an externally tagged enum of unit variants: its name, or an
/// object of one entry whose key is the name and whose value is `null`.
fn crash_point(value: &Value) -> Result<CrashPoint, Error> {
    let point = |name: &str| match POINTS.iter().position(|p| *p == name) {
        Some(0) => Ok(CrashPoint::Now),
        Some(1) => Ok(CrashPoint::BeforeProcessing),
        Some(_) => Ok(CrashPoint::AfterProcessing),
        None => Err(Error::unknown_variant(name, POINTS)),
    };
    match value {
        Value::String(name) => point(name),
        Value::Object(entries) => single_entry(entries).and_then(|(name, payload)| {
            let p = point(name)?;
            match payload {
                Value::Null => Ok(p),
                other => Err(Error::invalid_type(unexpected(other), &"unit")),
            }
        }),
        other => Err(Error::invalid_type(unexpected(other), &"string or map")),
    }
}

fn single_entry(entries: &Map<String, Value>) -> Result<(&String, &Value), Error> {
    let mut iter = entries.iter();
    match (iter.next(), iter.next()) {
        (Some(entry), None) => Ok(entry),
        _ => Err(Error::invalid_value(
            Unexpected::Map,
            &"map with a single key",
        )),
    }
}

/// How serde names a JSON value in a type error.
fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Unexpected::Unsigned(u),
            (None, Some(i)) => Unexpected::Signed(i),
            _ => Unexpected::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

#[cfg(test)]
mod tests {
    //! The derive this module replaces, kept here to hold the hand-written reader to it.
    use super::*;
    use derive::DerivedPoint;
    use serde::Deserialize;
    use serde_json::json;

    /// The derive's error names the enum, so the mirror has the same name.
    mod derive {
        use super::*;

        #[derive(Debug, PartialEq, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum DerivedPoint {
            Now,
            BeforeProcessing,
            AfterProcessing,
        }

        #[derive(Debug)]
        pub struct DerivedLink(pub Link);

        impl<'de> Deserialize<'de> for DerivedLink {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                Link::parse(&text)
                    .map(DerivedLink)
                    .map_err(serde::de::Error::custom)
            }
        }

        #[derive(Debug, Deserialize)]
        #[serde(tag = "fault", rename_all = "kebab-case", deny_unknown_fields)]
        pub enum ScriptedFault {
            #[serde(rename_all = "camelCase")]
            CrashConsumer {
                at_ms: f64,
                consumer: u16,
                #[serde(default = "now")]
                point: DerivedPoint,
            },
            #[serde(rename_all = "camelCase")]
            CrashBroker { at_ms: f64 },
            #[serde(rename_all = "camelCase")]
            Partition {
                from_ms: f64,
                to_ms: f64,
                link: DerivedLink,
            },
        }

        pub fn now() -> DerivedPoint {
            DerivedPoint::Now
        }
    }
    use derive::ScriptedFault as Mirror;

    fn convert(d: Mirror) -> super::ScriptedFault {
        match d {
            Mirror::CrashConsumer {
                at_ms,
                consumer,
                point,
            } => ScriptedFault::CrashConsumer {
                at_ms,
                consumer,
                point: match point {
                    DerivedPoint::Now => CrashPoint::Now,
                    DerivedPoint::BeforeProcessing => CrashPoint::BeforeProcessing,
                    DerivedPoint::AfterProcessing => CrashPoint::AfterProcessing,
                },
            },
            Mirror::CrashBroker { at_ms } => ScriptedFault::CrashBroker { at_ms },
            Mirror::Partition {
                from_ms,
                to_ms,
                link,
            } => ScriptedFault::Partition {
                from_ms,
                to_ms,
                link: link.0,
            },
        }
    }

    /// Values a field may meet: every JSON type, edge numbers, good and bad names.
    fn field_values() -> Vec<Value> {
        vec![
            json!(null),
            json!(true),
            json!(0),
            json!(3),
            json!(65535),
            json!(65536),
            json!(-1),
            json!(-70000),
            json!(1.5),
            json!(2.0),
            json!(-0.5),
            json!(1e300),
            json!(18446744073709551615u64),
            json!(-9223372036854775808i64),
            json!(""),
            json!("x"),
            json!("now"),
            json!("before-processing"),
            json!("after-processing"),
            json!("After-Processing"),
            json!("broker-producer-0"),
            json!("broker-consumer-2"),
            json!("broker-consumer-x"),
            json!("broker-thing-1"),
            json!("producer-1"),
            json!([]),
            json!([1, 2]),
            json!({}),
            json!({"now": null}),
            json!({"after-processing": null}),
            json!({"now": 1}),
            json!({"now": "x"}),
            json!({"nope": null}),
            json!({"now": null, "after-processing": null}),
        ]
    }

    fn corpus() -> Vec<Value> {
        let tags = [
            None,
            Some(json!("crash-consumer")),
            Some(json!("crash-broker")),
            Some(json!("partition")),
            Some(json!("crash")),
            Some(json!(1)),
            Some(json!(null)),
            Some(json!(["partition"])),
        ];
        let keys = [
            "atMs", "consumer", "point", "fromMs", "toMs", "link", "x", "at_ms", "a", "zz",
        ];
        let good: Vec<(&str, Value)> = vec![
            ("atMs", json!(2000)),
            ("consumer", json!(1)),
            ("point", json!("after-processing")),
            ("fromMs", json!(3000.5)),
            ("toMs", json!(4000)),
            ("link", json!("broker-producer-0")),
        ];
        // No list: the derive's positional form is left out on purpose (see the module note).
        let mut out = vec![json!(null), json!(3), json!("crash-broker"), json!({})];
        for tag in &tags {
            let mut base = Map::new();
            if let Some(t) = tag {
                base.insert(TAG.into(), t.clone());
            }
            // Every subset of the good fields...
            for mask in 0..(1u32 << good.len()) {
                let mut o = base.clone();
                for (i, (k, v)) in good.iter().enumerate() {
                    if mask & (1 << i) != 0 {
                        o.insert((*k).into(), v.clone());
                    }
                }
                out.push(Value::Object(o));
            }
            // ...and each key with each value, on top of a complete entry and alone.
            for key in keys {
                for v in field_values() {
                    for full in [false, true] {
                        let mut o = base.clone();
                        if full {
                            // The fields of the tag's own variant (all of them for a bad tag).
                            let own: &[&str] = match tag.as_ref().and_then(Value::as_str) {
                                Some("crash-consumer") => CRASH_CONSUMER_FIELDS,
                                Some("crash-broker") => CRASH_BROKER_FIELDS,
                                Some("partition") => PARTITION_FIELDS,
                                _ => &[],
                            };
                            for (k, gv) in &good {
                                if own.is_empty() || own.contains(k) {
                                    o.insert((*k).into(), gv.clone());
                                }
                            }
                        }
                        o.insert(key.into(), v.clone());
                        out.push(Value::Object(o));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn reads_exactly_what_the_derive_read_with_the_same_messages() {
        let corpus = corpus();
        let mut accepted = 0;
        let mut mismatches = Vec::new();
        for value in &corpus {
            let derived = Mirror::deserialize(value).map(convert);
            let ours = from_value(value);
            match (&derived, &ours) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "{value}");
                    accepted += 1;
                }
                (Err(a), Err(b)) if a.to_string() == b.to_string() => {}
                (Err(a), Err(b)) => mismatches.push(format!("{value}: derive {a}, ours {b}")),
                _ => panic!("{value}: derive {derived:?}, ours {ours:?}"),
            }
        }
        assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
        assert!(accepted > 50 && accepted < corpus.len() / 2, "{accepted}");
    }

    #[test]
    fn json_text_reads_through_the_same_reader() {
        let fault: ScriptedFault = serde_json::from_str(
            r#"{"fault": "partition", "fromMs": 1, "toMs": 2, "link": "broker-consumer-1"}"#,
        )
        .unwrap();
        assert_eq!(
            fault,
            ScriptedFault::Partition {
                from_ms: 1.0,
                to_ms: 2.0,
                link: Link::Consumer(1)
            }
        );
        let e = serde_json::from_str::<ScriptedFault>(r#"{"fault": "crash-broker"}"#)
            .expect_err("no time");
        assert!(e.to_string().starts_with("missing field `atMs`"), "{e}");
        let back: ScriptedFault =
            serde_json::from_str(&serde_json::to_string(&fault).unwrap()).unwrap();
        assert_eq!(back, fault);
    }
}
