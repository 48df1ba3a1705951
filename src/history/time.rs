//! RFC 3339 timestamps ↔ Unix seconds, without a date-time crate.
//!
//! The history module only needs UTC instants, whole days and day arithmetic, so
//! a small proleptic-Gregorian conversion (Howard Hinnant's `days_from_civil`)
//! is enough and keeps the dependency list short. Fractions of a second are
//! dropped: every metric works in whole seconds or coarser.

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Parse an RFC 3339 timestamp (`2026-11-26T08:29:07Z`, `…+02:00`, `….123Z`), also
/// accepting a space instead of `T` and a bare date (midnight UTC). Returns Unix
/// seconds, or `None` when the text is not a valid timestamp.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.trim().as_bytes();
    let year = digits(b, 0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let date_days = days_from_civil(year, month, day);
    if b.len() == 10 {
        return Some(date_days * DAY);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    // 60 is a leap second; fold it onto :59 rather than refusing the record.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(b, i + 1, 2)?;
            let (om, end) = match b.get(i + 3) {
                Some(b':') => (digits(b, i + 4, 2)?, i + 6),
                _ => (digits(b, i + 3, 2)?, i + 5),
            };
            if end != b.len() || oh > 23 || om > 59 {
                return None;
            }
            let off = oh * 3600 + om * 60;
            if sign == b'+' { off } else { -off }
        }
        // RFC 3339 requires an offset; a missing one is refused rather than guessed.
        _ => return None,
    };
    Some(date_days * DAY + hour * 3600 + minute * 60 + second.min(59) - offset)
}

/// Format Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339(seconds: i64) -> String {
    let days = seconds.div_euclid(DAY);
    let rem = seconds.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The UTC day number (days since 1970-01-01) of an instant.
pub fn day_of(seconds: i64) -> i64 {
    seconds.div_euclid(DAY)
}

fn digits(b: &[u8], start: usize, len: usize) -> Option<i64> {
    let slice = b.get(start..start + len)?;
    let mut value = 0i64;
    for &c in slice {
        if !c.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i64::from(c - b'0');
    }
    Some(value)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_shapes() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        // 2026-11-26 is day 20783 since the epoch (`date -u -d 2026-11-26 +%s` ÷ 86400).
        assert_eq!(
            parse_rfc3339("2026-11-26T08:29:07Z"),
            Some(20_783 * DAY + 8 * 3600 + 29 * 60 + 7)
        );
        assert_eq!(
            parse_rfc3339("2026-11-26T10:29:07+02:00"),
            parse_rfc3339("2026-11-26T08:29:07Z")
        );
        assert_eq!(
            parse_rfc3339("2026-11-26 08:29:07.999Z"),
            parse_rfc3339("2026-11-26T08:29:07Z")
        );
        assert_eq!(parse_rfc3339("2026-11-26"), Some(20_783 * DAY));
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00-0130"),
            Some(19_782 * DAY + 5400)
        );
    }

    #[test]
    fn refuses_malformed() {
        for bad in [
            "",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-26T24:00:00Z",
            "2026-11-26T08:29:07",
            "2026-11-26T08:29:07Zjunk",
            "26-11-2026",
            "2026-11-26T08:29:07.Z",
            "２０２６-11-26",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trips() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T23:59:59Z",
            "2026-11-26T08:29:07Z",
            "1969-12-31T23:59:59Z",
        ] {
            let t = parse_rfc3339(s).unwrap();
            assert_eq!(format_rfc3339(t), s);
        }
        assert_eq!(day_of(-1), -1);
    }
}
