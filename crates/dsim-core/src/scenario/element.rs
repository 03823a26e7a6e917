//! The attributes of the `<delivery-playground>` element, which the book's ```` ```dsim ````
//! blocks become: the URL's keys (read by `Scenario::apply_query`, as every other door does)
//! plus the element's own two, `view` and `height`. The element (dsim-web) and the book's
//! preprocessor (mdbook-dsim) both read them here, so a block the book accepts is an element
//! the page shows, and the same bad value gets the same line in both.

use std::ops::RangeInclusive;

use crate::knobs::{ScenarioError, encode_component};
use crate::scenario::Scenario;

/// The element's own attributes, beside the URL's keys.
pub const ELEMENT_KEYS: &[&str] = &["view", "height", "theme"];

/// The colours an element may be told to use (`theme`); `auto`, or none, follows the reader's
/// system. Its stylesheet reads the attribute itself (`:host([theme=dark])`), so a page can
/// follow its own theme toggle without re-running anything.
pub const THEMES: &[&str] = &["light", "dark", "auto"];

/// The heights an element may be given, in CSS pixels.
pub const HEIGHT_PX: RangeInclusive<u32> = 100..=4000;

/// What an element shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The guarantee badge, the counters and the ledger's sentence.
    Counters,
    /// Those, the side effects and the live charts: what an iframe embed shows.
    Dashboard,
    /// Every mode on the same faults and seed, side by side.
    Compare,
    /// The story of the run's first message that went wrong (its first duplicate, else its
    /// first loss, else message 0).
    Timeline,
    /// The real-world systems table: every broker family in every mode.
    Matrix,
}

impl View {
    pub const ALL: [View; 5] = [
        View::Counters,
        View::Dashboard,
        View::Compare,
        View::Timeline,
        View::Matrix,
    ];

    pub fn key(self) -> &'static str {
        match self {
            View::Counters => "counters",
            View::Dashboard => "dashboard",
            View::Compare => "compare",
            View::Timeline => "timeline",
            View::Matrix => "matrix",
        }
    }

    pub fn from_key(key: &str) -> Option<View> {
        View::ALL.into_iter().find(|v| v.key() == key)
    }
}

/// An element without a `view` shows its counters: the smallest view, and the one a sentence
/// in a text most often points at.
pub const DEFAULT_VIEW: View = View::Counters;

/// Reads a `view` attribute.
pub fn parse_view(value: &str) -> Result<View, ScenarioError> {
    View::from_key(value.trim()).ok_or_else(|| ScenarioError {
        key: "view".into(),
        message: format!(
            "must be one of {} (got {:?})",
            View::ALL.map(View::key).join(", "),
            value
        ),
    })
}

/// Reads a `height` attribute: whole CSS pixels, with or without `px`.
pub fn parse_height(value: &str) -> Result<u32, ScenarioError> {
    let number = value.trim();
    let number = number.strip_suffix("px").unwrap_or(number);
    number
        .parse::<u32>()
        .ok()
        .filter(|h| HEIGHT_PX.contains(h))
        .ok_or_else(|| ScenarioError {
            key: "height".into(),
            message: format!(
                "must be a whole number of pixels, {} to {} (got {:?})",
                HEIGHT_PX.start(),
                HEIGHT_PX.end(),
                value
            ),
        })
}

/// Reads a `theme` attribute.
pub fn parse_theme(value: &str) -> Result<&'static str, ScenarioError> {
    THEMES
        .iter()
        .copied()
        .find(|t| *t == value.trim())
        .ok_or_else(|| ScenarioError {
            key: "theme".into(),
            message: format!("must be one of {} (got {:?})", THEMES.join(", "), value),
        })
}

/// Attributes every HTML element may carry, which are not settings: `id`, `class`, `style`,
/// `data-*`, `aria-*` and the like are the host page's business.
pub fn is_html_attribute(name: &str) -> bool {
    const GLOBAL: &[&str] = &[
        "id",
        "class",
        "style",
        "title",
        "lang",
        "dir",
        "hidden",
        "slot",
        "part",
        "tabindex",
        "role",
        "nonce",
        "translate",
        "inert",
    ];
    GLOBAL.contains(&name) || name.starts_with("data-") || name.starts_with("aria-")
}

/// The query an element's settings make: every attribute but the element's own and the HTML
/// ones, in order, encoded as the playground's URL encodes them.
pub fn settings_query(attributes: &[(String, String)]) -> String {
    attributes
        .iter()
        .filter(|(k, _)| !ELEMENT_KEYS.contains(&k.as_str()) && !is_html_attribute(k))
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// What an element's attributes ask for.
#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    pub scenario: Scenario,
    pub view: View,
    pub height: Option<u32>,
    /// The query of its settings, for "Open in the playground".
    pub query: String,
}

impl Element {
    /// Reads an element's attributes, `(name, value)` in order. One error per bad attribute,
    /// naming it; every other attribute still applies (a bad `view` shows the counters, a bad
    /// `height` leaves the height to the content).
    pub fn from_attributes(attributes: &[(String, String)]) -> (Element, Vec<ScenarioError>) {
        let mut errors = Vec::new();
        let mut view = DEFAULT_VIEW;
        let mut height = None;
        for (key, value) in attributes {
            match key.as_str() {
                "view" => match parse_view(value) {
                    Ok(v) => view = v,
                    Err(e) => errors.push(e),
                },
                "height" => match parse_height(value) {
                    Ok(h) => height = Some(h),
                    Err(e) => errors.push(e),
                },
                "theme" => {
                    if let Err(e) = parse_theme(value) {
                        errors.push(e);
                    }
                }
                _ => {}
            }
        }
        let query = settings_query(attributes);
        let (scenario, scenario_errors) = Scenario::from_query(&query, ELEMENT_KEYS);
        errors.extend(scenario_errors);
        let element = Element {
            scenario,
            view,
            height,
            query,
        };
        (element, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Mode;

    fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn settings_view_and_height_are_read_and_html_attributes_ignored() {
        let (element, errors) = Element::from_attributes(&attrs(&[
            ("id", "first"),
            ("class", "wide"),
            ("data-note", "x"),
            ("mode", "at-most-once"),
            ("publish-loss", "0.2"),
            ("view", "compare"),
            ("height", "480px"),
            ("theme", "dark"),
        ]));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(element.view, View::Compare);
        assert_eq!(element.height, Some(480));
        assert_eq!(element.scenario.mode, Mode::AtMostOnce);
        assert_eq!(element.query, "mode=at-most-once&publish-loss=0.2");
        let (by_url, _) = Scenario::from_query("mode=at-most-once&publish-loss=0.2", &[]);
        assert_eq!(element.scenario, by_url);
    }

    #[test]
    fn each_bad_attribute_is_named_and_the_others_kept() {
        let (element, errors) = Element::from_attributes(&attrs(&[
            ("mode", "exactly-once"),
            ("publish-loss", "2"),
            ("view", "pie-chart"),
            ("height", "12"),
            ("theme", "sepia"),
            ("seed", "7"),
        ]));
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["view", "height", "theme", "publish-loss"]);
        assert!(
            errors[0]
                .message
                .contains("counters, dashboard, compare, timeline, matrix")
        );
        assert!(errors[1].message.contains("100 to 4000"));
        assert_eq!(element.view, DEFAULT_VIEW);
        assert_eq!(element.height, None);
        assert_eq!(element.scenario.mode, Mode::ExactlyOnce);
        assert_eq!(element.scenario.seed, 7);
    }

    #[test]
    fn every_view_reads_back_from_its_key() {
        for view in View::ALL {
            assert_eq!(parse_view(view.key()).unwrap(), view);
        }
        assert_eq!(parse_height("100").unwrap(), 100);
        assert!(parse_height("4001").is_err());
        assert!(parse_height("-5").is_err());
    }
}
