//! Number formatting for people: thousands separators, money, durations, short axis labels.
//! Pure functions, so every label on the page is unit-tested natively.

/// Counts and money as the report's notes and the CLI write them (`12,345`, `$2,518,775.53`,
/// `$412`): one wording for every door, in the core.
pub use dsim_core::money::{dollars, thousands, whole_dollars as dollars_rounded};

/// A duration in milliseconds with a precision that suits its size.
pub fn millis(ms: f64) -> String {
    if !ms.is_finite() {
        return "–".into();
    }
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// A value for an axis tick or a compact table cell: `1500` → `"1.5k"`, `0.25` → `"0.25"`.
pub fn short(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    format!("{}{suffix}", trim_number(scaled))
}

/// At most three significant decimals, without trailing zeros.
pub fn trim_number(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let decimals = if v.abs() >= 100.0 {
        0
    } else if v.abs() >= 10.0 {
        1
    } else if v.abs() >= 1.0 {
        2
    } else {
        3 + (-v.abs().log10()).floor().max(0.0) as usize
    };
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A rate per second: `1995.3` → `"1,995 msg/s"`.
pub fn rate(per_s: f64) -> String {
    format!("{} msg/s", thousands(per_s.max(0.0).round() as u64))
}

/// `"1 customer"`, `"3 customers"`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_short_numbers() {
        assert_eq!(millis(11.456), "11.5 ms");
        assert_eq!(millis(1.234), "1.23 ms");
        assert_eq!(millis(250.0), "250 ms");
        assert_eq!(millis(12_500.0), "12.5 s");
        assert_eq!(short(1500.0), "1500");
        assert_eq!(short(15_000.0), "15k");
        assert_eq!(short(2_500_000.0), "2.5M");
        assert_eq!(short(0.25), "0.25");
        assert_eq!(short(0.0003), "0.0003");
        assert_eq!(rate(1995.3), "1,995 msg/s");
        assert_eq!(plural(1, "customer", "customers"), "1 customer");
        assert_eq!(plural(3, "customer", "customers"), "3 customers");
    }
}
