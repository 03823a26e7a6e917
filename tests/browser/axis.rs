//! Reading a chart's axis as a person does: from its labelled ticks. A test that maps its own
//! data through the ticks to pixels checks where the page drew a point, independently of how
//! the page computed the position.

/// A linear axis known by two of its labelled ticks: the first and the last.
#[derive(Clone, Copy, Debug)]
pub struct Axis {
    from: (f64, f64),
    to: (f64, f64),
}

impl Axis {
    /// From `(pixel, label)` pairs as the chart draws them; the labels are numbers as the page
    /// writes them (`0.25`, `1.5k`, `2M`).
    pub fn from_ticks(ticks: &[(f64, String)]) -> Result<Axis, String> {
        let parsed: Vec<(f64, f64)> = ticks
            .iter()
            .map(|(at, label)| {
                tick_value(label)
                    .map(|v| (v, *at))
                    .ok_or_else(|| format!("the tick label {label:?} is not a number"))
            })
            .collect::<Result<_, _>>()?;
        match (parsed.first(), parsed.last()) {
            (Some(&from), Some(&to)) if from.0 != to.0 => Ok(Axis { from, to }),
            _ => Err(format!("an axis needs two distinct ticks, got {ticks:?}")),
        }
    }

    /// Where the axis puts `value`.
    pub fn pixel(&self, value: f64) -> f64 {
        let ((v0, p0), (v1, p1)) = (self.from, self.to);
        p0 + (value - v0) / (v1 - v0) * (p1 - p0)
    }

    /// The value the axis reads at `pixel`.
    pub fn value(&self, pixel: f64) -> f64 {
        let ((v0, p0), (v1, p1)) = (self.from, self.to);
        v0 + (pixel - p0) / (p1 - p0) * (v1 - v0)
    }
}

/// A tick label's number: `"1.5k"` is 1500.
pub fn tick_value(label: &str) -> Option<f64> {
    let label = label.trim();
    let (digits, scale) = match label.chars().last()? {
        'k' => (&label[..label.len() - 1], 1e3),
        'M' => (&label[..label.len() - 1], 1e6),
        'G' => (&label[..label.len() - 1], 1e9),
        _ => (label, 1.0),
    };
    digits.parse::<f64>().ok().map(|v| v * scale)
}

/// A count as the page shows it to a person, `"12,345"`.
pub fn grouped_count(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits_ok = !text.is_empty()
        && text.split(',').enumerate().all(|(i, group)| {
            let len_ok = if i == 0 {
                (1..=3).contains(&group.len())
            } else {
                group.len() == 3
            };
            len_ok && group.chars().all(|c| c.is_ascii_digit())
        });
    digits_ok
        .then(|| text.replace(',', "").parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_counts_read_back() {
        assert_eq!(tick_value("1.5k"), Some(1500.0));
        assert_eq!(tick_value("0.25"), Some(0.25));
        assert_eq!(grouped_count("12,345"), Some(12_345));
        assert_eq!(grouped_count("12,34"), None);
        let axis = Axis::from_ticks(&[(64.0, "0".into()), (586.0, "0.5".into())]).unwrap();
        assert_eq!(axis.pixel(0.25), 325.0);
        assert_eq!(axis.value(325.0), 0.25);
    }
}
