//! When each source is next due.
//!
//! Owns the schedule language of the config file (ordinary 5-field crontab,
//! 6/7-field cron with seconds, `@hourly`/`@daily`…, and `every 15m`) and the
//! pure arithmetic of due times: cron tick, stable per-source jitter, and the
//! "poll at once if the last poll is older than one interval" start rule.
//! It takes `now` as an argument and never sleeps or reads a clock: the
//! daemon does the waiting.
//!
//! Everything is computed in UTC: the `cron` crate fires twice or never
//! around daylight-saving changes when given a local zone.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use siphasher::sip::SipHasher13;
use std::hash::Hasher;

use crate::model::PollState;

/// A parsed schedule: either a cron expression or a fixed interval.
#[derive(Clone)]
pub enum Schedule {
    /// A cron expression, already translated to the `cron` crate's dialect.
    Cron {
        /// The expression as the user wrote it, for messages.
        written: String,
        /// The parsed expression.
        cron: Box<cron::Schedule>,
    },
    /// `every 15m`: a fixed interval after the previous poll.
    Every(Duration),
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({self})")
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Cron { written, .. } => f.write_str(written),
            Schedule::Every(d) => write!(f, "every {}", humantime::format_duration(*d)),
        }
    }
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

/// The shortest interval accepted by `every …`, so a typo cannot hammer a server.
pub const MIN_INTERVAL: Duration = Duration::from_secs(10);

impl Schedule {
    /// Parses the schedule language; the error text says what was expected.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let written = text.trim();
        if written.is_empty() {
            return Err("the schedule is empty: write e.g. \"*/15 * * * *\" or \"every 15m\"".into());
        }
        if let Some(rest) = written
            .strip_prefix("@every ")
            .or_else(|| written.strip_prefix("every "))
        {
            let d = humantime::parse_duration(rest.trim()).map_err(|e| {
                format!("cannot read the interval {rest:?} ({e}): write e.g. \"every 15m\" or \"every 1h30m\"")
            })?;
            if d < MIN_INTERVAL {
                return Err(format!(
                    "the interval {rest:?} is shorter than the minimum of {}",
                    humantime::format_duration(MIN_INTERVAL)
                ));
            }
            return Ok(Schedule::Every(d));
        }
        check_cron(written)?;
        let translated = translate_cron(written)?;
        // Every field was checked above in the user's own terms; the crate's
        // message would speak of the translated line, so it is not shown.
        let cron = cron::Schedule::from_str(&translated).map_err(|_| {
            "not a valid cron expression: use 5 fields \"min hour day month weekday\", 6/7 fields with seconds, @hourly/@daily, or \"every 15m\"".to_string()
        })?;
        if cron.upcoming(Utc).next().is_none() {
            return Err("this cron expression never fires again".into());
        }
        Ok(Schedule::Cron {
            written: written.to_string(),
            cron: Box::new(cron),
        })
    }

    /// The first fire time strictly after `t`, if the schedule fires again.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Cron { cron, .. } => cron.after(&t).next(),
            Schedule::Every(d) => TimeDelta::from_std(*d).ok().map(|d| t + d),
        }
    }

    /// The interval between the two fire times that follow `t`: the nominal
    /// poll period used for "is the last poll stale?" and for backoff floors.
    pub fn interval_at(&self, t: DateTime<Utc>) -> Duration {
        match self {
            Schedule::Every(d) => *d,
            Schedule::Cron { cron, .. } => {
                let mut it = cron.after(&t);
                match (it.next(), it.next()) {
                    (Some(a), Some(b)) => (b - a).to_std().unwrap_or(Duration::from_secs(3600)),
                    _ => Duration::from_secs(24 * 3600),
                }
            }
        }
    }
}

/// The shorthands the `cron` crate reads.
const SHORTHANDS: [&str; 5] = ["@yearly", "@monthly", "@weekly", "@daily", "@hourly"];

/// One field of a cron line, as the user counts it.
struct CronField {
    /// Its name, singular ("minute").
    name: &'static str,
    /// Its name, plural ("minutes").
    plural: &'static str,
    /// The smallest and largest number it takes.
    min: u32,
    max: u32,
    /// The names it takes besides numbers, with their numbers (crontab's).
    names: &'static [(&'static str, u32)],
    /// Whether `?` ("any") is accepted, as for the two day fields.
    any: bool,
}

const MONTH_NAMES: &[(&str, u32)] = &[
    ("jan", 1),
    ("january", 1),
    ("feb", 2),
    ("february", 2),
    ("mar", 3),
    ("march", 3),
    ("apr", 4),
    ("april", 4),
    ("may", 5),
    ("jun", 6),
    ("june", 6),
    ("jul", 7),
    ("july", 7),
    ("aug", 8),
    ("august", 8),
    ("sep", 9),
    ("september", 9),
    ("oct", 10),
    ("october", 10),
    ("nov", 11),
    ("november", 11),
    ("dec", 12),
    ("december", 12),
];

const DAY_NAMES: &[(&str, u32)] = &[
    ("sun", 0),
    ("sunday", 0),
    ("mon", 1),
    ("monday", 1),
    ("tue", 2),
    ("tues", 2),
    ("tuesday", 2),
    ("wed", 3),
    ("wednesday", 3),
    ("thu", 4),
    ("thurs", 4),
    ("thursday", 4),
    ("fri", 5),
    ("friday", 5),
    ("sat", 6),
    ("saturday", 6),
];

const fn field(
    name: &'static str,
    plural: &'static str,
    min: u32,
    max: u32,
    names: &'static [(&'static str, u32)],
    any: bool,
) -> CronField {
    CronField {
        name,
        plural,
        min,
        max,
        names,
        any,
    }
}

const SECOND: CronField = field("second", "seconds", 0, 59, &[], false);
const MINUTE: CronField = field("minute", "minutes", 0, 59, &[], false);
const HOUR: CronField = field("hour", "hours", 0, 23, &[], false);
const DAY: CronField = field("day of month", "days of the month", 1, 31, &[], true);
const MONTH: CronField = field("month", "months", 1, 12, MONTH_NAMES, false);
const WEEKDAY: CronField = field("day of week", "days of the week", 0, 7, DAY_NAMES, true);
const YEAR: CronField = field("year", "years", 1970, 2100, &[], false);

impl CronField {
    /// The range in words: "0 to 59", "1 to 12 or JAN to DEC".
    fn range(&self) -> String {
        match self.name {
            "month" => "1 to 12 or JAN to DEC".into(),
            "day of week" => "0 to 7 (0 and 7 are Sunday) or SUN to SAT".into(),
            _ => format!("{} to {}", self.min, self.max),
        }
    }

    /// The number of one value of this field, or what is wrong with it.
    fn value(&self, text: &str) -> Result<u32, String> {
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return match text.parse::<u32>() {
                Ok(n) if (self.min..=self.max).contains(&n) => Ok(n),
                _ => Err(format!(
                    "{} {text} is out of range: {} go from {}",
                    self.name,
                    self.plural,
                    self.range()
                )),
            };
        }
        let lower = text.to_ascii_lowercase();
        if let Some((_, n)) = self.names.iter().find(|(name, _)| *name == lower) {
            return Ok(*n);
        }
        if self.names.is_empty() {
            Err(format!(
                "{text:?} is not a {}: {} are numbers from {}",
                self.name,
                self.plural,
                self.range()
            ))
        } else {
            Err(format!("{text:?} is not a {}: write {}", self.name, self.range()))
        }
    }

    /// Checks one comma-separated item: `*`, `?`, `N`, `A-B`, each with an
    /// optional `/STEP`.
    fn item(&self, item: &str) -> Result<(), String> {
        let (base, step) = match item.split_once('/') {
            Some((base, step)) => (base, Some(step)),
            None => (item, None),
        };
        if let Some(step) = step {
            let n = step.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                format!(
                    "the step {step:?} in the {} field {item:?} must be a whole number of at least 1",
                    self.name
                )
            })?;
            if n > self.max {
                return Err(format!(
                    "the step {n} in the {} field {item:?} is too large: at most {}",
                    self.name, self.max
                ));
            }
        }
        match base {
            "*" => Ok(()),
            "?" if self.any => Ok(()),
            "?" => Err(format!(
                "\"?\" is only for the day-of-month and day-of-week fields: write \"*\" for every {}",
                self.name
            )),
            "" => Err(format!("the {} field has an empty item in {item:?}", self.name)),
            _ => match base.split_once('-') {
                Some((a, b)) => {
                    let (from, to) = (self.value(a)?, self.value(b)?);
                    let to = if self.name == "day of week" && to == 0 { 7 } else { to };
                    if from > to {
                        return Err(format!(
                            "the {} range {base:?} runs backwards: write the smaller value first",
                            self.name
                        ));
                    }
                    Ok(())
                }
                None => {
                    let named = base.bytes().any(|b| b.is_ascii_alphabetic());
                    self.value(base)?;
                    if named && step.is_some() {
                        return Err(format!(
                            "a step needs a range or \"*\" before it in the {} field: write e.g. \"{base}-{}/{}\" instead of {item:?}",
                            self.name,
                            self.names
                                .last()
                                .map(|(n, _)| n.to_ascii_uppercase())
                                .unwrap_or_default(),
                            step.unwrap_or("2")
                        ));
                    }
                    Ok(())
                }
            },
        }
    }
}

/// Checks every field of a cron line in the user's terms (the fields and
/// ranges of crontab: minutes 0–59, day of week 0–7 with Sunday as 0 or
/// 7…), before the line is translated for the `cron` crate.
fn check_cron(written: &str) -> Result<(), String> {
    if written.starts_with('@') {
        if SHORTHANDS.contains(&written) {
            return Ok(());
        }
        return Err(format!(
            "unknown shorthand {written:?}: use @hourly, @daily, @weekly, @monthly, @yearly, or \"every 15m\""
        ));
    }
    let fields: Vec<&str> = written.split_whitespace().collect();
    let specs: &[CronField] = match fields.len() {
        5 => &[MINUTE, HOUR, DAY, MONTH, WEEKDAY],
        6 => &[SECOND, MINUTE, HOUR, DAY, MONTH, WEEKDAY],
        7 => &[SECOND, MINUTE, HOUR, DAY, MONTH, WEEKDAY, YEAR],
        n => {
            return Err(format!(
                "a cron expression has 5 fields (min hour day month weekday), or 6/7 with seconds and year; this one has {n}"
            ));
        }
    };
    // Every wrong field is named, not only the first.
    let problems: Vec<String> = fields
        .iter()
        .zip(specs)
        .filter_map(|(field, spec)| field.split(',').find_map(|item| spec.item(item).err()))
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Translates crontab syntax to the `cron` crate's: prepends a seconds field
/// to 5-field lines and rewrites numeric day-of-week values, where crontab
/// counts 0 or 7 = Sunday, 1 = Monday, as names (the crate counts 1 = Sunday).
fn translate_cron(written: &str) -> Result<String, String> {
    if written.starts_with('@') {
        return Ok(written.to_string());
    }
    let mut fields: Vec<String> = written.split_whitespace().map(str::to_string).collect();
    let dow_index = match fields.len() {
        5 => {
            fields.insert(0, "0".into());
            5
        }
        6 | 7 => 5,
        n => {
            return Err(format!(
                "a cron expression has 5 fields (min hour day month weekday), or 6/7 with seconds and year; this one has {n}"
            ));
        }
    };
    fields[dow_index] = translate_dow(&fields[dow_index])?;
    Ok(fields.join(" "))
}

const DOW_NAMES: [&str; 8] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

fn dow_name(token: &str) -> Result<String, String> {
    match token.parse::<usize>() {
        Ok(n) if n <= 7 => Ok(DOW_NAMES[n].to_string()),
        Ok(n) => Err(format!(
            "day of week {n} is out of range: use 0–7 (0 and 7 are Sunday) or MON…SUN"
        )),
        Err(_) => Ok(token.to_string()),
    }
}

fn translate_dow(field: &str) -> Result<String, String> {
    let mut parts = Vec::new();
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (item, None),
        };
        let translated = match range.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (dow_name(a)?, dow_name(b)?);
                // "5-7" in crontab means Friday through Sunday; the crate has
                // no wrap-around ranges, so end at Saturday and add Sunday.
                if b == "SUN" && a != "SUN" && step.is_none() {
                    format!("{a}-SAT,SUN")
                } else {
                    format!("{a}-{b}")
                }
            }
            None => dow_name(range)?,
        };
        parts.push(match step {
            Some(s) => format!("{translated}/{s}"),
            None => translated,
        });
    }
    Ok(parts.join(","))
}

/// A stable per-source offset in `[0, max)`, so sources sharing a cron line
/// spread out but each keeps the same slot across restarts.
pub fn jitter_for(name: &str, max: Duration) -> Duration {
    let millis = max.as_millis() as u64;
    if millis == 0 {
        return Duration::ZERO;
    }
    let mut h = SipHasher13::new_with_keys(0x7472_6962_7574_6172, 0x795f_6a69_7474_6572);
    h.write(name.as_bytes());
    Duration::from_millis(h.finish() % millis)
}

/// The longest backoff after failures.
pub const MAX_BACKOFF: Duration = Duration::from_secs(24 * 3600);

/// The wait after `failures` failed polls in a row: the schedule's interval
/// doubled per failure, stretched by a stable per-source factor in
/// [1, 1.25) so failing sources do not retry in lockstep, capped at
/// [`MAX_BACKOFF`]. It never gives up.
pub fn backoff(interval: Duration, failures: u32, name: &str) -> Duration {
    if failures == 0 {
        return interval;
    }
    let doubled = interval.saturating_mul(1u32 << (failures - 1).min(20));
    let mut h = SipHasher13::new_with_keys(0x6261_636b_6f66_6621, 0x7472_6962_7574_6172);
    h.write(name.as_bytes());
    h.write_u32(failures);
    let stretch = 1.0 + (h.finish() % 1000) as f64 / 4000.0;
    doubled.mul_f64(stretch).min(MAX_BACKOFF)
}

/// When a source should next be polled.
///
/// A source never polled is due at once. After a failure it waits the
/// [`backoff`]; otherwise, if its last poll is older than one interval it is
/// due at once, else at the first tick after its last poll plus its stable
/// jitter. Server hints then act as floors: the cache-hint interval after the
/// last poll, and `Retry-After`. Never before `now`.
pub fn next_due(
    schedule: &Schedule,
    state: &PollState,
    name: &str,
    jitter_max: Duration,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let delta = |d: Duration| TimeDelta::from_std(d).unwrap_or(TimeDelta::days(1));
    let mut due = match state.last_poll {
        None => now,
        Some(last) => {
            let interval = schedule.interval_at(last);
            if state.failures > 0 {
                last + delta(backoff(interval, state.failures, name))
            } else if now - last >= delta(interval) {
                now
            } else {
                match schedule.next_after(last) {
                    Some(tick) => tick + delta(jitter_for(name, jitter_max)),
                    None => now + TimeDelta::days(365),
                }
            }
        }
    };
    if let (Some(last), Some(min)) = (state.last_poll, state.min_interval) {
        due = due.max(last + delta(min.min(MAX_BACKOFF)));
    }
    if let Some(retry) = state.retry_after {
        due = due.max(retry);
    }
    due.max(now)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Weekday};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn five_field_crontab_gets_a_seconds_field() {
        let s = Schedule::parse("*/15 * * * *").unwrap();
        assert_eq!(
            s.next_after(at("2026-12-02T10:07:00Z")),
            Some(at("2026-12-02T10:15:00Z"))
        );
        assert_eq!(s.interval_at(at("2026-12-02T10:07:00Z")), Duration::from_secs(900));
    }

    #[test]
    fn six_and_seven_fields_with_seconds() {
        let s = Schedule::parse("30 */5 * * * *").unwrap();
        assert_eq!(
            s.next_after(at("2026-12-02T10:07:00Z")),
            Some(at("2026-12-02T10:10:30Z"))
        );
        let s = Schedule::parse("0 0 12 * * * 2027").unwrap();
        assert_eq!(
            s.next_after(at("2026-12-02T10:07:00Z")),
            Some(at("2027-01-01T12:00:00Z"))
        );
    }

    #[test]
    fn crontab_weekday_numbers_count_monday_as_one() {
        // 2026-12-02 is a Wednesday.
        let monday = Schedule::parse("0 9 * * 1").unwrap();
        let next = monday.next_after(at("2026-12-02T10:00:00Z")).unwrap();
        assert_eq!(next.weekday(), Weekday::Mon);
        for sunday in ["0 9 * * 0", "0 9 * * 7"] {
            let next = Schedule::parse(sunday)
                .unwrap()
                .next_after(at("2026-12-02T10:00:00Z"))
                .unwrap();
            assert_eq!(next.weekday(), Weekday::Sun, "{sunday}");
        }
        let weekend = Schedule::parse("0 9 * * 6-7").unwrap();
        let mut t = at("2026-12-02T10:00:00Z");
        let mut days = vec![];
        for _ in 0..3 {
            t = weekend.next_after(t).unwrap();
            days.push(t.weekday());
        }
        assert_eq!(days, [Weekday::Sat, Weekday::Sun, Weekday::Sat]);
        let weekdays = Schedule::parse("0 9 * * 1-5").unwrap();
        assert_eq!(
            weekdays.next_after(at("2026-12-05T10:00:00Z")).unwrap().weekday(),
            Weekday::Mon
        );
    }

    #[test]
    fn macros_and_every() {
        let s = Schedule::parse("@hourly").unwrap();
        assert_eq!(
            s.next_after(at("2026-12-02T10:07:00Z")),
            Some(at("2026-12-02T11:00:00Z"))
        );
        assert!(Schedule::parse("@daily").is_ok());
        let s = Schedule::parse("every 15m").unwrap();
        assert_eq!(s, Schedule::Every(Duration::from_secs(900)));
        assert_eq!(
            s.next_after(at("2026-12-02T10:07:00Z")),
            Some(at("2026-12-02T10:22:00Z"))
        );
        assert_eq!(
            Schedule::parse("every 1h30m").unwrap().interval_at(Utc::now()),
            Duration::from_secs(5400)
        );
    }

    #[test]
    fn bad_schedules_say_what_to_write() {
        for bad in ["", "* * *", "61 * * * *", "every fortnight", "every 1s", "0 9 * * 8"] {
            let err = Schedule::parse(bad).unwrap_err();
            assert!(!err.is_empty(), "{bad}");
        }
        assert!(Schedule::parse("* * *").unwrap_err().contains("5 fields"));
    }

    #[test]
    fn cron_errors_speak_of_the_users_own_fields_and_ranges() {
        for (line, said) in [
            ("61 * * * *", "minute 61 is out of range: minutes go from 0 to 59"),
            ("0 24 * * *", "hour 24 is out of range: hours go from 0 to 23"),
            (
                "0 0 32 * *",
                "day of month 32 is out of range: days of the month go from 1 to 31",
            ),
            (
                "0 0 0 * *",
                "day of month 0 is out of range: days of the month go from 1 to 31",
            ),
            (
                "0 0 * 13 *",
                "month 13 is out of range: months go from 1 to 12 or JAN to DEC",
            ),
            (
                "0 9 * * 8",
                "day of week 8 is out of range: days of the week go from 0 to 7 (0 and 7 are Sunday) or SUN to SAT",
            ),
            ("60 0 * * * *", "second 60 is out of range: seconds go from 0 to 59"),
            (
                "0 0 0 1 1 * 1969",
                "year 1969 is out of range: years go from 1970 to 2100",
            ),
            (
                "*/0 * * * *",
                "the step \"0\" in the minute field \"*/0\" must be a whole number of at least 1",
            ),
            (
                "*/60 * * * *",
                "the step 60 in the minute field \"*/60\" is too large: at most 59",
            ),
            (
                "50-10 * * * *",
                "the minute range \"50-10\" runs backwards: write the smaller value first",
            ),
            ("0 9 * FOO *", "\"FOO\" is not a month: write 1 to 12 or JAN to DEC"),
            (
                "0 9 * * MON/2",
                "a step needs a range or \"*\" before it in the day of week field",
            ),
            ("x * * * *", "\"x\" is not a minute: minutes are numbers from 0 to 59"),
            ("? * * * *", "\"?\" is only for the day-of-month and day-of-week fields"),
            ("@fortnightly", "unknown shorthand \"@fortnightly\""),
        ] {
            let err = Schedule::parse(line).unwrap_err();
            assert!(err.starts_with(said), "{line}: {err}");
            // Nothing of the translation for the cron crate shows.
            assert!(!err.contains("less than"), "{line}: {err}");
            assert!(!err.contains('\n'), "{line}: {err}");
        }
        assert_eq!(
            Schedule::parse("*/0 * 32 13 8").unwrap_err(),
            "the step \"0\" in the minute field \"*/0\" must be a whole number of at least 1; \
             day of month 32 is out of range: days of the month go from 1 to 31; \
             month 13 is out of range: months go from 1 to 12 or JAN to DEC; \
             day of week 8 is out of range: days of the week go from 0 to 7 (0 and 7 are Sunday) or SUN to SAT"
        );
        for ok in [
            "0 9 * * 0-7",
            "0 9 * * 5-0",
            "0 9 * * MON-FRI",
            "0 9 * * mon-fri/2",
            "0 9 ? * SUN",
            "0 0 1 JAN,jul *",
            "5/15 * * * *",
            "0 0 29 2 *",
            "0 0 1 */12 *",
            "59 59 23 31 12 * 2100",
        ] {
            assert!(Schedule::parse(ok).is_ok(), "{ok}: {:?}", Schedule::parse(ok).err());
        }
    }

    #[test]
    fn jitter_is_stable_and_bounded() {
        let max = Duration::from_secs(120);
        let a = jitter_for("ansa-mondo", max);
        assert_eq!(a, jitter_for("ansa-mondo", max));
        assert!(a < max);
        assert_ne!(a, jitter_for("ansa-italia", max));
        assert_eq!(jitter_for("x", Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn never_polled_or_stale_sources_are_due_at_once() {
        let s = Schedule::parse("*/15 * * * *").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 10, 7, 0).unwrap();
        let j = Duration::ZERO;
        assert_eq!(next_due(&s, &PollState::default(), "a", j, now), now);
        let stale = PollState {
            last_poll: Some(now - TimeDelta::minutes(20)),
            ..PollState::default()
        };
        assert_eq!(next_due(&s, &stale, "a", j, now), now);
        let fresh = PollState {
            last_poll: Some(now - TimeDelta::minutes(2)),
            ..PollState::default()
        };
        assert_eq!(next_due(&s, &fresh, "a", j, now), at("2026-12-02T10:15:00Z"));
        let jittered = next_due(&s, &fresh, "a", Duration::from_secs(60), now);
        assert!(jittered >= at("2026-12-02T10:15:00Z") && jittered < at("2026-12-02T10:16:00Z"));
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_a_day_and_never_gives_up() {
        let i = Duration::from_secs(900);
        assert_eq!(backoff(i, 0, "a"), i);
        let mut prev = Duration::ZERO;
        for f in 1..=8 {
            let b = backoff(i, f, "a");
            let nominal = i * (1 << (f - 1));
            assert!(
                b >= nominal.min(MAX_BACKOFF) && b < nominal.mul_f64(1.25).max(MAX_BACKOFF),
                "{f}: {b:?}"
            );
            assert!(b >= prev, "grows");
            prev = b;
        }
        assert_eq!(backoff(i, 100, "a"), MAX_BACKOFF);
        assert_eq!(backoff(i, 3, "a"), backoff(i, 3, "a"), "stable");
    }

    #[test]
    fn failures_back_off_and_success_resets() {
        let s = Schedule::parse("every 10m").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap();
        let mut st = PollState {
            last_poll: Some(now),
            failures: 3,
            ..PollState::default()
        };
        let due = next_due(&s, &st, "a", Duration::ZERO, now);
        assert!(
            due >= now + TimeDelta::minutes(40) && due < now + TimeDelta::minutes(50),
            "{due}"
        );
        st.failures = 0;
        assert_eq!(
            next_due(&s, &st, "a", Duration::ZERO, now),
            now + TimeDelta::minutes(10)
        );
    }

    #[test]
    fn server_hints_are_floors() {
        let s = Schedule::parse("every 10m").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap();
        let st = PollState {
            last_poll: Some(now),
            min_interval: Some(Duration::from_secs(3600)),
            ..PollState::default()
        };
        assert_eq!(next_due(&s, &st, "a", Duration::ZERO, now), now + TimeDelta::hours(1));
        let st = PollState {
            last_poll: Some(now),
            failures: 1,
            retry_after: Some(now + TimeDelta::hours(2)),
            ..PollState::default()
        };
        assert_eq!(next_due(&s, &st, "a", Duration::ZERO, now), now + TimeDelta::hours(2));
        let st = PollState {
            last_poll: Some(now),
            min_interval: Some(Duration::from_secs(7 * 86400)),
            ..PollState::default()
        };
        assert_eq!(
            next_due(&s, &st, "a", Duration::ZERO, now),
            now + TimeDelta::hours(24),
            "capped"
        );
    }
}
