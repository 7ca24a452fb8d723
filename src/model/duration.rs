//! Durations as people type them (`900`, `45m`, `12h`, `1h30m`, `7d`) and
//! as keyfob shows them, over the `humantime` crate. Owns only the text
//! form; AWS's ranges for each kind of session are in [`crate::model::limits`].

use std::time::Duration;

use crate::model::field::{Field, FieldError};

/// Parses `value`: plain seconds, or humantime's units (`s`, `m`, `h`,
/// `d`, …) run together without spaces. Whole seconds only.
pub fn parse(value: &str) -> Result<Duration, FieldError> {
    let err = || {
        FieldError::new(
            Field::Duration,
            "must be like 900s, 45m, 12h or 1h30m (or plain seconds)",
        )
    };
    // humantime also takes spaces ("1h 30m") and sub-second units; keyfob
    // takes one word of digits and units, so a value means one thing in a
    // config file, a shell and a form.
    if value.is_empty()
        || !value
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    {
        return Err(err());
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return value
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| err());
    }
    let parsed = humantime::parse_duration(value).map_err(|_| err())?;
    if parsed.subsec_nanos() != 0 {
        return Err(err());
    }
    Ok(parsed)
}

/// `3600` → `1h`, `5400` → `1h30m`, `900` → `15m`: what [`parse`] reads
/// back, in the largest units (hours at most, as AWS's limits are).
pub fn human(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    // humantime would write "1h 30m" and roll 24 h over into "1day"; the
    // same parts without spaces read back through `parse` unchanged.
    let text = humantime::format_duration(Duration::from_secs(h * 3600 + m * 60 + s)).to_string();
    if h < 24 {
        return text.replace(' ', "");
    }
    let mut out = format!("{h}h");
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_read_back() {
        let secs = |s: &str| parse(s).unwrap().as_secs();
        assert_eq!(secs("900"), 900);
        assert_eq!(secs("900s"), 900);
        assert_eq!(secs("45m"), 2700);
        assert_eq!(secs("12h"), 43200);
        assert_eq!(secs("1h30m"), 5400);
        assert_eq!(secs("1d"), 86400);
        for bad in [
            "",
            "h",
            "1x",
            "1.5h",
            "-1h",
            "1h 30m",
            " 1h",
            "1500ms",
            "99999999999999999999h",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(human(5400), "1h30m");
        assert_eq!(human(0), "0s");
        assert_eq!(human(900), "15m");
        assert_eq!(human(129600), "36h");
        for secs in [1, 59, 61, 3599, 3600, 5400, 43200, 86400, 129600, 90061] {
            assert_eq!(parse(&human(secs)).unwrap().as_secs(), secs, "{secs}");
        }
    }
}
