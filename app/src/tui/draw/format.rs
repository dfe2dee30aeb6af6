//! Numbers as people read them.

/// `12345` → `12,345`.
pub fn format_count(n: u64) -> String {
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

/// Parameter counts: `4_300_000` → `4.3M`, `169_000_000` → `169M`, `1_500_000_000` → `1.5B`.
pub fn format_params(n: u64) -> String {
    let (value, unit) = match n {
        n if n >= 1_000_000_000 => (n as f64 / 1e9, "B"),
        n if n >= 1_000_000 => (n as f64 / 1e6, "M"),
        n if n >= 1_000 => (n as f64 / 1e3, "K"),
        n => return n.to_string(),
    };
    if value >= 100.0 {
        format!("{value:.0}{unit}")
    } else {
        format!("{value:.1}{unit}")
    }
}

/// Sizes on disk: `950` → `950 B`, `70_144` → `68.5 KB`, `4_300_000` → `4.1 MB` (powers of 1,024).
pub fn format_bytes(n: u64) -> String {
    let (value, unit) = match n {
        n if n >= 1 << 30 => (n as f64 / f64::from(1u32 << 30), "GB"),
        n if n >= 1 << 20 => (n as f64 / f64::from(1u32 << 20), "MB"),
        n if n >= 1 << 10 => (n as f64 / f64::from(1u32 << 10), "KB"),
        n => return format!("{n} B"),
    };
    if value >= 100.0 {
        format!("{value:.0} {unit}")
    } else {
        format!("{value:.1} {unit}")
    }
}

/// Seconds as `m:ss`, or `h:mm:ss` from an hour up.
pub fn format_duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds / 60) % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// A page range: `p.3`, `pp.3–5`, or nothing for documents without pages.
pub fn format_pages(pages: (u32, u32)) -> String {
    match pages {
        (0, _) => String::new(),
        (a, b) if b <= a => format!("p.{a}"),
        (a, b) => format!("pp.{a}–{b}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(1000), "1,000");
        assert_eq!(format_count(1_234_567), "1,234,567");
    }

    #[test]
    fn params_round_to_a_readable_unit() {
        assert_eq!(format_params(950), "950");
        assert_eq!(format_params(4_300_000), "4.3M");
        assert_eq!(format_params(169_342_464), "169M");
        assert_eq!(format_params(1_515_106_304), "1.5B");
        assert_eq!(format_params(14_200_000_000), "14.2B");
    }

    #[test]
    fn durations_and_pages() {
        assert_eq!(format_duration(0), "0:00");
        assert_eq!(format_duration(43), "0:43");
        assert_eq!(format_duration(3700), "1:01:40");
        assert_eq!(format_pages((0, 0)), "");
        assert_eq!(format_pages((3, 3)), "p.3");
        assert_eq!(format_pages((3, 5)), "pp.3–5");
    }
}
