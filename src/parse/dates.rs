//! Lenient parsing of the dates found in feeds.
//!
//! Feeds carry dates in RFC 3339 and RFC 2822 as the specifications ask, and
//! in many other shapes besides: named time zones, missing seconds or
//! weekdays, wrong weekdays, two-digit years, month and day names in
//! English, Italian, French, German, Spanish and Portuguese, 12-hour clocks,
//! bare ISO dates and Unix timestamps. [`parse_date`] reads all of these and
//! returns `None` rather than guessing when a string is ambiguous or
//! impossible.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

/// Longest input considered; anything longer is not a date.
const MAX_LEN: usize = 256;

/// Parses a feed date leniently; None when nothing sensible can be read.
///
/// A date without a time is midnight; a time without a zone is UTC.
pub(crate) fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() || s.len() > MAX_LEN {
        return None;
    }
    if s.bytes().all(|c| c.is_ascii_digit()) {
        return parse_digits(s);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return in_range(dt.with_timezone(&Utc));
    }
    if let Some(dt) = parse_iso_like(s) {
        return Some(dt);
    }
    parse_textual(s)
}

fn in_range(dt: DateTime<Utc>) -> Option<DateTime<Utc>> {
    use chrono::Datelike;
    (1..=9999).contains(&dt.year()).then_some(dt)
}

/// Builds the instant from local parts and an offset in seconds east of UTC.
fn build(year: i32, month: u32, day: u32, clock: Clock, offset: i32) -> Option<DateTime<Utc>> {
    if !(1..=9999).contains(&year) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    // A leap second is read as the last second of the minute.
    let time = NaiveTime::from_hms_nano_opt(clock.hour, clock.minute, clock.second.min(59), clock.nano)?;
    let zone = FixedOffset::east_opt(offset)?;
    let local = zone.from_local_datetime(&date.and_time(time)).single()?;
    in_range(local.with_timezone(&Utc))
}

#[derive(Debug, Clone, Copy, Default)]
struct Clock {
    hour: u32,
    minute: u32,
    second: u32,
    nano: u32,
}

/// All-digit strings: `YYYYMMDD`, epoch seconds (9–11 digits), epoch
/// milliseconds (12–13 digits) and `YYYYMMDDHHMMSS`.
fn parse_digits(s: &str) -> Option<DateTime<Utc>> {
    let num = |range: std::ops::Range<usize>| s.get(range)?.parse::<u32>().ok();
    match s.len() {
        8 | 14 => {
            let year = i32::try_from(num(0..4)?).ok()?;
            let clock = if s.len() == 14 {
                Clock {
                    hour: num(8..10)?,
                    minute: num(10..12)?,
                    second: num(12..14)?,
                    nano: 0,
                }
            } else {
                Clock::default()
            };
            build(year, num(4..6)?, num(6..8)?, clock, 0)
        }
        9..=11 => in_range(DateTime::from_timestamp(s.parse().ok()?, 0)?),
        12 | 13 => in_range(DateTime::from_timestamp_millis(s.parse().ok()?)?),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// ISO 8601 / RFC 3339 and their relatives
// ---------------------------------------------------------------------------

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) -> usize {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
        self.i - start
    }

    fn at_end(&self) -> bool {
        self.i >= self.b.len()
    }

    /// Reads between `min` and `max` digits (a longer run fails).
    fn digits(&mut self, min: usize, max: usize) -> Option<(u32, usize)> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let len = self.i - start;
        if len < min || len > max {
            return None;
        }
        let text = std::str::from_utf8(&self.b[start..self.i]).ok()?;
        Some((text.parse().ok()?, len))
    }

    /// `H:MM[:SS[.fraction]]`.
    fn clock(&mut self) -> Option<Clock> {
        let (hour, _) = self.digits(1, 2)?;
        if !self.eat(b':') {
            return None;
        }
        let (minute, _) = self.digits(2, 2)?;
        let mut clock = Clock {
            hour,
            minute,
            ..Clock::default()
        };
        if self.eat(b':') {
            clock.second = self.digits(2, 2)?.0;
            if matches!(self.peek(), Some(b'.' | b',')) && self.b.get(self.i + 1).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
                clock.nano = self.fraction();
            }
        }
        (clock.hour < 24 && clock.minute < 60 && clock.second <= 60).then_some(clock)
    }

    /// Fractional seconds as nanoseconds (digits beyond the ninth ignored).
    fn fraction(&mut self) -> u32 {
        let mut nano = 0u32;
        let mut scale = 100_000_000u32;
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            nano += u32::from(c - b'0') * scale;
            scale /= 10;
            self.i += 1;
        }
        nano
    }

    /// `Z`, `±HH:MM`, `±HHMM`, `±HH` or a zone name, possibly followed by
    /// an offset (`GMT+2`); seconds east of UTC.
    fn zone(&mut self) -> Option<i32> {
        match self.peek()? {
            b'+' | b'-' => self.offset(),
            c if c.is_ascii_alphabetic() => {
                let start = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                    self.i += 1;
                }
                let name = std::str::from_utf8(&self.b[start..self.i]).ok()?.to_ascii_lowercase();
                let base = zone_offset(&name)?;
                if base == 0 && matches!(self.peek(), Some(b'+' | b'-')) {
                    return self.offset();
                }
                Some(base)
            }
            _ => None,
        }
    }

    fn offset(&mut self) -> Option<i32> {
        let sign = if self.eat(b'-') {
            -1
        } else if self.eat(b'+') {
            1
        } else {
            return None;
        };
        let (value, len) = self.digits(1, 4)?;
        let (hours, minutes) = match len {
            3 | 4 => (value / 100, value % 100),
            _ => {
                let minutes = if self.eat(b':') { self.digits(2, 2)?.0 } else { 0 };
                (value, minutes)
            }
        };
        offset_seconds(sign, hours, minutes)
    }
}

fn offset_seconds(sign: i32, hours: u32, minutes: u32) -> Option<i32> {
    if hours > 23 || minutes > 59 {
        return None;
    }
    let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
    Some(sign * seconds)
}

/// `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYY.MM.DD`, optionally followed by
/// `T` or spaces, a time and a zone.
fn parse_iso_like(s: &str) -> Option<DateTime<Utc>> {
    let mut c = Cursor { b: s.as_bytes(), i: 0 };
    let (year, _) = c.digits(4, 4)?;
    let sep = c.peek()?;
    if !matches!(sep, b'-' | b'/' | b'.') {
        return None;
    }
    c.i += 1;
    let (month, _) = c.digits(1, 2)?;
    if !c.eat(sep) {
        return None;
    }
    let (day, _) = c.digits(1, 2)?;
    let year = i32::try_from(year).ok()?;
    c.skip_ws();
    if c.at_end() {
        return build(year, month, day, Clock::default(), 0);
    }
    if c.eat(b'T') || c.eat(b't') {
        c.skip_ws();
    }
    let clock = c.clock()?;
    c.skip_ws();
    let offset = if c.at_end() { 0 } else { c.zone()? };
    c.skip_ws();
    if !c.at_end() {
        return None;
    }
    build(year, month, day, clock, offset)
}

// ---------------------------------------------------------------------------
// RFC 2822 and free-form text
// ---------------------------------------------------------------------------

#[derive(Debug)]
enum Token {
    /// A number of up to four digits, with the separator that preceded it.
    Number {
        value: u32,
        len: usize,
        sep: char,
    },
    Time(Clock),
    /// A signed numeric zone offset, seconds east of UTC.
    Offset(i32),
    /// A lower-cased word without diacritics.
    Word(String),
}

fn tokenize(s: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = s.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut sep = ' ';
    let mut time_seen = false;
    let digit_at = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit);
    while i < chars.len() {
        let c = chars[i];
        if c == '(' {
            // RFC 2822 comment, e.g. `+0000 (UTC)`.
            while i < chars.len() && chars[i] != ')' {
                i += 1;
            }
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while digit_at(i) {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            let next = chars.get(i).copied();
            if (next == Some(':') && digit_at(i + 1)) || (matches!(next, Some('h' | 'H')) && digit_at(i + 1)) {
                // A time: `16:20[:00[.123]]` or `16h20`.
                let text: String = chars[start..].iter().collect();
                let text = text.replacen(['h', 'H'], ":", 1);
                let mut cursor = Cursor {
                    b: text.as_bytes(),
                    i: 0,
                };
                let clock = cursor.clock()?;
                i = start + text[..cursor.i].chars().count();
                tokens.push(Token::Time(clock));
                time_seen = true;
                sep = ' ';
                continue;
            }
            if run.len() > 4 {
                return None;
            }
            tokens.push(Token::Number {
                value: run.parse().ok()?,
                len: run.len(),
                sep,
            });
            sep = ' ';
            // Ordinal suffixes: 1st, 2nd, 3rd, 6th, 1er, 1º.
            let end = (i..chars.len())
                .find(|&j| !chars[j].is_alphabetic())
                .unwrap_or(chars.len());
            let suffix: String = chars[i..end].iter().collect::<String>().to_lowercase();
            if matches!(
                suffix.as_str(),
                "st" | "nd" | "rd" | "th" | "er" | "o" | "a" | "º" | "ª"
            ) {
                i = end;
            }
            continue;
        }
        if (c == '+' || (c == '-' && time_seen)) && digit_at(i + 1) {
            let text: String = chars[i..].iter().collect();
            let mut cursor = Cursor {
                b: text.as_bytes(),
                i: 0,
            };
            let offset = cursor.offset()?;
            i += text[..cursor.i].chars().count();
            tokens.push(Token::Offset(offset));
            continue;
        }
        if c.is_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_alphabetic() {
                i += 1;
            }
            tokens.push(Token::Word(normalize(&chars[start..i])));
            continue;
        }
        if !c.is_whitespace() {
            sep = c;
        }
        i += 1;
    }
    Some(tokens)
}

/// Lower-cases and removes the diacritics used in month and day names.
fn normalize(word: &[char]) -> String {
    word.iter()
        .flat_map(|c| c.to_lowercase())
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            c => c,
        })
        .collect()
}

/// Full month names in English, French, German, Italian, Spanish and
/// Portuguese (without diacritics), by month.
const MONTH_NAMES: [&[&str]; 12] = [
    &["january", "janvier", "januar", "gennaio", "enero", "janeiro", "janner"],
    &[
        "february",
        "fevrier",
        "februar",
        "febbraio",
        "febrero",
        "fevereiro",
        "feber",
    ],
    &["march", "mars", "marz", "maerz", "marzo", "marco"],
    &["april", "avril", "aprile", "abril"],
    &["may", "mai", "maggio", "mayo", "maio"],
    &["june", "juin", "juni", "giugno", "junio", "junho"],
    &["july", "juillet", "juli", "luglio", "julio", "julho"],
    &["august", "aout", "agosto"],
    &[
        "september",
        "septembre",
        "settembre",
        "septiembre",
        "setembro",
        "setiembre",
    ],
    &["october", "octobre", "oktober", "ottobre", "octubre", "outubro"],
    &["november", "novembre", "noviembre", "novembro"],
    &["december", "decembre", "dezember", "dicembre", "diciembre", "dezembro"],
];

/// Abbreviations that are not prefixes of a full name.
const MONTH_ABBREVIATIONS: [(&str, u32); 2] = [("mrz", 3), ("sbre", 9)];

/// The month a word names: a known abbreviation, or a prefix of at least
/// three letters of full names of one month only.
fn month_of(word: &str) -> Option<u32> {
    if let Some(&(_, m)) = MONTH_ABBREVIATIONS.iter().find(|(a, _)| *a == word) {
        return Some(m);
    }
    if word.chars().count() < 3 {
        return None;
    }
    let mut found = None;
    for (index, names) in MONTH_NAMES.iter().enumerate() {
        if names.iter().any(|name| name.starts_with(word)) {
            if found.is_some() {
                return None;
            }
            found = u32::try_from(index + 1).ok();
        }
    }
    found
}

/// Full weekday names (without diacritics) in the same languages.
const WEEKDAY_NAMES: [&str; 37] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "lunedi",
    "martedi",
    "mercoledi",
    "giovedi",
    "venerdi",
    "sabato",
    "domenica",
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "montag",
    "dienstag",
    "mittwoch",
    "donnerstag",
    "freitag",
    "samstag",
    "sonntag",
    "lunes",
    "martes",
    "miercoles",
    "jueves",
    "viernes",
    "segunda",
    "terca",
    "quarta",
    "quinta",
];

/// Short weekday forms that are not prefixes of the names above.
const WEEKDAY_SHORT: [&str; 14] = [
    "mo",
    "di",
    "mi",
    "do",
    "fr",
    "sa",
    "so",
    "sex",
    "sexta",
    "sab",
    "sabado",
    "dom",
    "domingo",
    "sonnabend",
];

fn is_weekday(word: &str) -> bool {
    WEEKDAY_SHORT.contains(&word)
        || (word.chars().count() >= 2 && WEEKDAY_NAMES.iter().any(|name| name.starts_with(word)))
}

/// Words that carry no date information.
const FILLERS: [&str; 22] = [
    "de", "del", "do", "da", "of", "the", "at", "on", "um", "a", "le", "la", "el", "den", "der", "am", "em", "ore",
    "alle", "uhr", "feira", "th",
];

/// Named time zones; seconds east of UTC. `cst` is US Central, `ist` India.
fn zone_offset(name: &str) -> Option<i32> {
    let hours = |h: i32| h * 3600;
    Some(match name {
        "gmt" | "ut" | "utc" | "z" | "uct" | "zulu" | "wet" => 0,
        "west" | "bst" | "cet" | "met" | "mez" => hours(1),
        "cest" | "mest" | "mesz" | "eet" => hours(2),
        "eest" | "msk" => hours(3),
        "ist" => hours(5) + 1800,
        "sgt" | "hkt" | "awst" => hours(8),
        "jst" | "kst" => hours(9),
        "acst" => hours(9) + 1800,
        "aest" => hours(10),
        "acdt" => hours(10) + 1800,
        "aedt" => hours(11),
        "nzst" => hours(12),
        "nzdt" => hours(13),
        "ndt" => -hours(2) - 1800,
        "adt" => -hours(3),
        "nst" => -hours(3) - 1800,
        "ast" | "edt" => -hours(4),
        "est" | "cdt" => -hours(5),
        "cst" | "mdt" => -hours(6),
        "mst" | "pdt" => -hours(7),
        "pst" | "akdt" => -hours(8),
        "akst" | "hdt" => -hours(9),
        "hst" => -hours(10),
        _ => return None,
    })
}

/// RFC 2822 year rules: two digits below 50 are 20xx, otherwise 19xx;
/// three digits are added to 1900.
fn full_year(value: u32, len: usize) -> Option<i32> {
    let year = match len {
        1 | 2 if value < 50 => value + 2000,
        1 | 2 => value + 1900,
        3 => value + 1900,
        _ => value,
    };
    i32::try_from(year).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ZoneSource {
    None,
    Unknown,
    Named,
    Numeric,
}

fn parse_textual(s: &str) -> Option<DateTime<Utc>> {
    let tokens = tokenize(s)?;
    let mut clock: Option<Clock> = None;
    let mut time_index = 0;
    let mut offset: Option<i32> = None;
    // Where `offset` came from; a numeric offset wins over a zone name.
    let mut zone_source = ZoneSource::None;
    let mut pm: Option<bool> = None;
    let mut months: Vec<(u32, bool)> = Vec::new();
    let mut numbers: Vec<(u32, usize, char)> = Vec::new();
    let mut index = 0;
    while index < tokens.len() {
        match &tokens[index] {
            Token::Time(c) => {
                if clock.is_some() {
                    return None;
                }
                clock = Some(*c);
                time_index = index;
            }
            Token::Offset(o) => {
                if zone_source == ZoneSource::Numeric {
                    return None;
                }
                offset = Some(*o);
                zone_source = ZoneSource::Numeric;
            }
            Token::Number { value, len, sep } => numbers.push((*value, *len, *sep)),
            Token::Word(word) => {
                let after_time = clock.is_some() && index == time_index + 1;
                let next_is_m = matches!(tokens.get(index + 1), Some(Token::Word(w)) if w == "m");
                if after_time && pm.is_none() && matches!(word.as_str(), "am" | "pm") {
                    pm = Some(word == "pm");
                } else if after_time && pm.is_none() && matches!(word.as_str(), "a" | "p") && next_is_m {
                    pm = Some(word == "p");
                    index += 1;
                } else if let Some(z) = zone_offset(word) {
                    match zone_source {
                        ZoneSource::Named => return None,
                        // `+0200 CEST`: the name only labels the offset.
                        ZoneSource::Numeric => {}
                        ZoneSource::None | ZoneSource::Unknown => {
                            offset = Some(z);
                            zone_source = ZoneSource::Named;
                        }
                    }
                } else if let Some(m) = month_of(word) {
                    months.push((m, is_weekday(word)));
                } else if is_weekday(word) || FILLERS.contains(&word.as_str()) {
                    // No date information.
                } else if clock.is_some() && zone_source == ZoneSource::None && (3..=5).contains(&word.len()) {
                    // An unknown alphabetic zone counts as UTC (RFC 2822 4.3).
                    offset = Some(0);
                    zone_source = ZoneSource::Unknown;
                }
            }
        }
        index += 1;
    }

    let mut clock = clock.unwrap_or_default();
    if let Some(pm) = pm {
        if !(1..=12).contains(&clock.hour) {
            return None;
        }
        clock.hour = clock.hour % 12 + if pm { 12 } else { 0 };
    }
    let offset = offset.unwrap_or(0);

    // A month name that is not also a weekday name wins (Italian `mar` is
    // both martedì and marzo).
    let plain: Vec<u32> = months.iter().filter(|(_, wd)| !wd).map(|(m, _)| *m).collect();
    let month = match plain.as_slice() {
        [m] => Some(*m),
        [first, rest @ ..] if rest.iter().all(|m| m == first) => Some(*first),
        [] => months.first().map(|(m, _)| *m),
        _ => return None,
    };

    let (year, month, day) = match month {
        Some(month) => {
            let (years, days): (Vec<_>, Vec<_>) = numbers.iter().partition(|(_, len, _)| *len >= 3);
            match (years.as_slice(), days.as_slice()) {
                ([(y, len, _)], [(d, _, _)]) => (full_year(*y, *len)?, month, *d),
                ([], [(d, _, _), (y, len, _)]) => (full_year(*y, *len)?, month, *d),
                _ => return None,
            }
        }
        None => {
            let [(a, alen, _), (b, _, sep), (c, clen, _)] = numbers.as_slice() else {
                return None;
            };
            if *alen == 4 {
                (full_year(*a, *alen)?, *b, *c)
            } else if *clen == 4 || (*clen == 2 && *sep == '.') {
                let year = full_year(*c, *clen)?;
                if *sep == '.' || *a > 12 {
                    (year, *b, *a)
                } else if *b > 12 {
                    (year, *a, *b)
                } else {
                    // 06/09/2021 could be June or September.
                    return None;
                }
            } else {
                return None;
            }
        }
    };
    build(year, month, day, clock, offset)
}

#[cfg(test)]
mod tests;
