//! Counts and money as people read them, one wording for every door: the trace's and the
//! report's notes, the CLI's tables and the page write `12,345`, `$2,518,775.53` and `$5,330`
//! alike.

/// `12345` → `"12,345"`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Cents as dollars and cents: `251877553` → `"$2,518,775.53"`.
pub fn dollars(cents: u64) -> String {
    format!("${}.{:02}", thousands(cents / 100), cents % 100)
}

/// Cents as whole dollars, rounded half up: `532995` → `"$5,330"`.
pub fn whole_dollars(cents: u64) -> String {
    format!("${}", thousands((cents + 50) / 100))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_money_group_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12_345_678), "12,345,678");
        assert_eq!(dollars(0), "$0.00");
        assert_eq!(dollars(5), "$0.05");
        assert_eq!(dollars(251_877_553), "$2,518,775.53");
        assert_eq!(dollars(250_064_421), "$2,500,644.21");
    }

    #[test]
    fn whole_dollars_round_half_up_and_group_thousands() {
        assert_eq!(whole_dollars(0), "$0");
        assert_eq!(whole_dollars(49), "$0");
        assert_eq!(whole_dollars(50), "$1");
        assert_eq!(whole_dollars(41_249), "$412");
        assert_eq!(whole_dollars(41_250), "$413");
        assert_eq!(whole_dollars(532_995), "$5,330");
        assert_eq!(whole_dollars(12_345_678_900), "$123,456,789");
    }
}
