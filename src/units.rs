//! Sizes, rates and durations: how a user writes them and how s3up prints them.
//!
//! A leaf: it knows numbers and units and nothing of S3, the engine or the
//! command line, so `cli` (parsing), `output` and `progress` (printing) all
//! use it without depending on each other. Sizes are binary (K = 1024); a rate
//! is a size a second (`10MiB/s`, `/s` optional); every
//! duration flag takes one syntax (`30`, `30s`, `5m`, `12h`, `7d`, `1w`), a bare
//! number being seconds. The wall clock in Unix seconds ([`now_unix`]), as
//! journals and listings record times, lives here too.

use std::time::Duration;

/// The wall clock in whole seconds since the Unix epoch (0 before it).
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// 1 MiB.
pub const MIB: u64 = 1024 * 1024;

/// Parses a byte size: a number with an optional unit K, M, G or T (powers of
/// 1024, also written KiB, MiB, KB, MB …, any case) or B.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits_end);
    if unit.starts_with('.') && !num.is_empty() {
        return Err(decimal_size(s, num, unit, "sizes", ""));
    }
    let n: u64 = num.parse().map_err(|_| {
        format!("'{s}' is not a size: write a number with an optional unit, like 8MiB or 64M")
    })?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(format!(
                "'{s}' has an unknown unit: use K, M, G or T (powers of 1024)"
            ))
        }
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("'{s}' is too large"))
}

/// The message for a size with a decimal point, such as `5.5MiB`: sizes
/// are whole numbers, so it says the same size in the next smaller unit.
/// `what` names the kind (`sizes`), and `suffix` follows the unit (`/s`).
fn decimal_size(s: &str, whole: &str, rest: &str, what: &str, suffix: &str) -> String {
    let frac_end = rest[1..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(rest.len(), |i| i + 1);
    let (frac, unit) = rest.split_at(frac_end);
    let units = ["", "k", "m", "g", "t"];
    let names = ["B", "KiB", "MiB", "GiB", "TiB"];
    let unit_lower = unit.trim().to_ascii_lowercase();
    let level = units.iter().position(|u| {
        !u.is_empty()
            && (unit_lower == *u || unit_lower == format!("{u}b") || unit_lower == format!("{u}ib"))
    });
    let exact = level.and_then(|level| {
        let value: f64 = format!("{whole}{frac}").parse().ok()?;
        let smaller = value * 1024.0;
        (smaller.fract() == 0.0)
            .then(|| format!(", like {}{}{suffix}", smaller as u64, names[level - 1]))
    });
    format!(
        "'{s}' is not a whole number: {what} take no decimals. Write it in a smaller unit{}",
        exact.unwrap_or_default()
    )
}

/// Parses a rate in bytes a second: a [`parse_size`] with an optional `/s`
/// (`10MiB/s`, `500KiB/s`, `10M`; a bare number is bytes a second, as in
/// curl's `--limit-rate`). Zero is refused: it would never send anything.
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let size = t
        .strip_suffix("/s")
        .or_else(|| t.strip_suffix("/S"))
        .unwrap_or(t);
    let digits_end = size
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(size.len());
    let (num, unit) = size.split_at(digits_end);
    if unit.starts_with('.') && !num.is_empty() {
        return Err(decimal_size(s, num, unit, "rates", "/s"));
    }
    match parse_size(size) {
        Ok(0) => Err(format!(
            "'{s}' is not a rate above 0: write bytes a second, like 10MiB/s or 500KiB/s"
        )),
        Ok(n) => Ok(n),
        Err(e) if e.ends_with("is too large") => Err(format!("'{s}' is too large")),
        Err(e) if e.contains("unknown unit") => Err(format!(
            "'{s}' has an unknown unit: use B, K, M, G or T (powers of 1024) a second, like \
             10MiB/s or 500KiB/s"
        )),
        Err(_) => Err(format!(
            "'{s}' is not a rate: write bytes a second with an optional unit, like 10MiB/s or \
             500KiB/s"
        )),
    }
}

/// A byte count in the largest binary unit that keeps it at 1 or more:
/// "512 B", "1.5 KiB", "440.0 MiB", "100.0 GiB".
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Bytes a second as [`size`] words them: "10.0 MiB/s".
pub fn rate(bytes_per_sec: f64) -> String {
    format!("{}/s", size(bytes_per_sec as u64))
}

/// Parses a duration: a whole number of seconds, or a whole number and a
/// unit s, m, h, d or w (`30`, `30s`, `5m`, `12h`, `7d`, `1w`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (n, unit) = split_duration(s)?;
    let secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(format!(
                "'{s}' has an unknown unit: use s, m, h, d or w, like 30s, 5m or 7d"
            ))
        }
    };
    n.checked_mul(secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("'{s}' is too long"))
}

/// [`parse_duration`], refusing zero: a timeout of nothing is no timeout.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    match parse_duration(s)? {
        d if d.is_zero() => Err(format!("'{s}' is not a duration above 0")),
        d => Ok(d),
    }
}

/// An age as the user wrote it (`7d`), and how long that is: messages
/// quote it as written, not as 604800 seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Age {
    pub text: String,
    pub duration: Duration,
}

impl Age {
    pub fn parse(s: &str) -> Result<Age, String> {
        Ok(Age {
            text: s.trim().to_string(),
            duration: parse_age(s)?,
        })
    }
}

/// [`parse_duration`] for an age, which must name its unit: an age spares
/// the uploads still being sent, and a bare `7` meant as days would take
/// uploads seven seconds old.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let (_, unit) = split_duration(s)
        .map_err(|_| format!("'{s}' is not an age: write a number and a unit, like 7d or 12h"))?;
    if !matches!(unit, "s" | "m" | "h" | "d" | "w") {
        return Err(format!("'{s}' has no unit: use s, m, h, d or w, like 7d"));
    }
    parse_duration(s)
}

/// The number and the unit of a duration, or the message for a malformed one.
fn split_duration(s: &str) -> Result<(u64, &str), String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n = num.parse().map_err(|_| {
        format!("'{s}' is not a duration: write a number of seconds, or a number and a unit, like 30, 5m or 7d")
    })?;
    Ok((n, unit))
}

/// "42s", "3m05s", "1h02m": an elapsed time or an ETA, to the second.
pub fn clock(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// "42s", "5m", "3h", "2d": an age, in its one largest useful unit.
pub fn age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 2 * 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("5GiB"), Ok(5 << 30));
        assert_eq!(parse_size("5gb"), Ok(5 << 30));
        assert_eq!(parse_size("1234"), Ok(1234));
        assert!(parse_size("").is_err());
        assert!(parse_size("8 furlongs").is_err());
        assert!(parse_size("-1M").is_err());
        assert!(parse_size("99999999999T").is_err());
    }

    // Issue 13, item 8: `5.5MiB` was called "an unknown unit".
    #[test]
    fn decimal_sizes_are_explained() {
        assert_eq!(
            parse_size("5.5MiB"),
            Err(
                "'5.5MiB' is not a whole number: sizes take no decimals. Write it in a smaller \
                 unit, like 5632KiB"
                    .to_string()
            )
        );
        assert_eq!(
            parse_size("1.5G"),
            Err(
                "'1.5G' is not a whole number: sizes take no decimals. Write it in a smaller \
                 unit, like 1536MiB"
                    .to_string()
            )
        );
        assert!(parse_size("0.3B").unwrap_err().ends_with("smaller unit"));
    }

    // Issue 18, item 4: `--limit-rate` takes the sizes the rest of the CLI
    // takes, `/s` optional, a bare number in bytes a second.
    #[test]
    fn rates() {
        assert_eq!(parse_rate("10MiB/s"), Ok(10 << 20));
        assert_eq!(parse_rate("500KiB/s"), Ok(500 << 10));
        assert_eq!(parse_rate("5M/s"), Ok(5 << 20));
        assert_eq!(parse_rate("5mb/S"), Ok(5 << 20));
        assert_eq!(parse_rate("10MiB"), Ok(10 << 20));
        assert_eq!(parse_rate("1G"), Ok(1 << 30));
        assert_eq!(parse_rate("65536"), Ok(65536));
        assert_eq!(parse_rate("100B/s"), Ok(100));
        assert_eq!(parse_rate(" 2K/s "), Ok(2048));
        for zero in ["0", "0/s", "0MiB/s"] {
            assert!(
                parse_rate(zero)
                    .unwrap_err()
                    .contains("is not a rate above 0"),
                "{zero}"
            );
        }
        assert_eq!(
            parse_rate("fast"),
            Err(
                "'fast' is not a rate: write bytes a second with an optional unit, like \
                 10MiB/s or 500KiB/s"
                    .to_string()
            )
        );
        for bad in ["", "/s", "-5M/s", "10MiB/h", "10 MiB per second", "10M/s/s"] {
            assert!(
                parse_rate(bad).unwrap_err().contains(&format!("'{bad}'")),
                "{bad}"
            );
        }
        assert!(parse_rate("10Mbit/s").unwrap_err().contains("unknown unit"));
        assert_eq!(
            parse_rate("1.5MiB/s"),
            Err(
                "'1.5MiB/s' is not a whole number: rates take no decimals. Write it in a \
                 smaller unit, like 1536KiB/s"
                    .to_string()
            )
        );
        assert_eq!(
            parse_rate("99999999999T/s"),
            Err("'99999999999T/s' is too large".to_string())
        );
    }

    // Issue 13, item 8: sizes switch to GiB and beyond.
    #[test]
    fn sizes_use_the_largest_unit() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(440 << 20), "440.0 MiB");
        assert_eq!(size(100 << 30), "100.0 GiB");
        assert_eq!(size(3 << 40), "3.0 TiB");
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_age("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_age("90m"), Ok(Duration::from_secs(5400)));
        assert!(parse_age("7").unwrap_err().contains("'7'"));
        assert!(parse_age("d").is_err());
        assert!(parse_age("3y").is_err());
    }

    // Issue 17: one syntax for every duration flag, a bare number in seconds.
    #[test]
    fn ages_keep_their_own_words() {
        assert!(parse_age("abc").unwrap_err().contains("is not an age"));
        assert!(parse_age("3y").unwrap_err().contains("has no unit"));
        assert!(parse_age("7").unwrap_err().contains("has no unit"));
        assert_eq!(parse_age("2h"), Ok(Duration::from_secs(7200)));
    }

    #[test]
    fn every_duration_takes_one_syntax() {
        for (text, secs) in [
            ("30", 30),
            ("30s", 30),
            ("5m", 300),
            ("12h", 43_200),
            ("7d", 604_800),
            ("1w", 604_800),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(secs)),
                "{text}"
            );
            assert_eq!(parse_timeout(text), Ok(Duration::from_secs(secs)), "{text}");
        }
        assert!(parse_timeout("0").unwrap_err().contains("'0'"));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_duration("soon").unwrap_err().contains("'soon'"));
        assert!(parse_duration("3y").unwrap_err().contains("'3y'"));
        assert!(parse_duration("99999999999999999w").is_err());
    }

    #[test]
    fn durations_print_compactly() {
        assert_eq!(clock(44), "44s");
        assert_eq!(clock(185), "3m05s");
        assert_eq!(clock(10_140), "2h49m");
        assert_eq!(age(90), "90s");
        assert_eq!(age(600), "10m");
        assert_eq!(age(3 * 86_400), "3d");
    }
}
