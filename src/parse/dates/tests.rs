//! Unit tests of `parse/dates`.

#![allow(clippy::unwrap_used)]

use super::*;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn check(cases: &[(&str, DateTime<Utc>)]) {
    for (input, expected) in cases {
        assert_eq!(parse_date(input), Some(*expected), "{input:?}");
    }
}

fn check_none(cases: &[&str]) {
    for input in cases {
        assert_eq!(parse_date(input), None, "{input:?}");
    }
}

#[test]
fn rfc3339() {
    let t = utc(2021, 9, 6, 14, 20, 0);
    check(&[
        ("2021-09-06T16:20:00+02:00", t),
        ("2021-09-06T14:20:00Z", t),
        ("2021-09-06t14:20:00z", t),
        ("2021-09-06T09:20:00-05:00", t),
        ("  2021-09-06T14:20:00Z  ", t),
        ("2021-09-06T16:20:00+0200", t),
        ("2021-09-06T16:20:00+02", t),
        ("2021-09-06T16:20+02:00", t),
        ("2021-09-06T14:20Z", t),
        ("2021-09-06T14:20:00", t),
        ("2021-09-06T14:20:00 UTC", t),
        ("2021-09-06T16:20:00 CEST", t),
        ("2021-09-06T16:20:00 GMT+02:00", t),
        ("2021-09-06 16:20:00 +02:00", t),
    ]);
    let frac = parse_date("2021-09-06T16:20:00.123456+02:00").unwrap();
    assert_eq!(frac, t + chrono::Duration::microseconds(123_456));
    let frac = parse_date("2021-09-06T14:20:00.5z").unwrap();
    assert_eq!(frac, t + chrono::Duration::milliseconds(500));
    let frac = parse_date("2021-09-06T14:20:00.1234567891234Z").unwrap();
    assert_eq!(frac, t + chrono::Duration::nanoseconds(123_456_789));
    let frac = parse_date("2021-09-06 14:20:00,25").unwrap();
    assert_eq!(frac, t + chrono::Duration::milliseconds(250));
}

#[test]
fn iso_without_zone_or_time() {
    check(&[
        ("2021-09-06 16:20:00", utc(2021, 9, 6, 16, 20, 0)),
        ("2021-09-06 16:20", utc(2021, 9, 6, 16, 20, 0)),
        ("2021-09-06", utc(2021, 9, 6, 0, 0, 0)),
        ("2021-9-6", utc(2021, 9, 6, 0, 0, 0)),
        ("2021/09/06 16:20", utc(2021, 9, 6, 16, 20, 0)),
        ("2021/09/06", utc(2021, 9, 6, 0, 0, 0)),
        ("2021.09.06 16:20:05", utc(2021, 9, 6, 16, 20, 5)),
        ("2021/9/6 4:20 PM", utc(2021, 9, 6, 16, 20, 0)),
    ]);
}

#[test]
fn rfc2822() {
    let t = utc(2021, 9, 6, 16, 20, 0);
    check(&[
        ("Mon, 06 Sep 2021 16:20:00 +0000", t),
        ("Mon, 06 Sep 2021 18:20:00 +0200", t),
        ("Mon, 06 Sep 2021 11:20:00 -0500", t),
        ("Mon, 06 Sep 2021 16:20:00 -0000", t),
        ("Mon, 06 Sep 2021 16:20:00 GMT", t),
        ("Mon, 06 Sep 2021 16:20:00 UT", t),
        ("Mon, 06 Sep 2021 16:20:00 UTC", t),
        ("Mon, 06 Sep 2021 16:20:00 Z", t),
        ("Mon, 06 Sep 2021 16:20:00 +0000 (UTC)", t),
        ("Mon, 06 Sep 2021 16:20:00 GMT+0200", utc(2021, 9, 6, 14, 20, 0)),
        ("06 Sep 2021 16:20 +0000", t),
        ("Mon, 6 Sep 2021 16:20:00 +0000", t),
        ("6 Sep 2021 16:20:00 GMT", t),
        ("Fri, 06 Sep 2021 16:20:00 GMT", t),
        ("Mon,06 Sep 2021 16:20:00 GMT", t),
        ("mon, 06 sep 2021 16:20:00 gmt", t),
        ("MON, 06 SEP 2021 16:20:00 GMT", t),
        ("  Mon,  06   Sep  2021   16:20:00   GMT ", t),
        ("Mon, 06 Sep. 2021 16:20:00 GMT", t),
        ("Mon, 06-Sep-2021 16:20:00 GMT", t),
        ("Monday, 06-Sep-21 16:20:00 GMT", t),
        ("Mon Sep  6 16:20:00 UTC 2021", t),
        ("Mon Sep 6 16:20:00 2021", t),
        ("Mon, 06 Sep 2021 16:20:60 GMT", utc(2021, 9, 6, 16, 20, 59)),
        ("Mon, 06 Sep 2021 16:20:00 XYZ", t),
        ("Mon, 06 Sep 2021 18:20:00 +0200 CEST", t),
        ("Mon, 06 Sep 2021 18:20:00 CEST +0200", t),
        ("Mon, 06 Sep 2021 18:20:00 XYZ +0200", t),
        ("Mon, 06 Sep 2021 11:20:00 GMT-5", t),
        ("Mon, 06 Sep 2021 11:20:00 EST-0500", t),
    ]);
}

#[test]
fn named_zones() {
    let t = utc(2021, 9, 6, 16, 20, 0);
    for (zone, local_hour, local_minute) in [
        ("EST", 11, 20),
        ("EDT", 12, 20),
        ("CST", 10, 20),
        ("CDT", 11, 20),
        ("MST", 9, 20),
        ("MDT", 10, 20),
        ("PST", 8, 20),
        ("PDT", 9, 20),
        ("CET", 17, 20),
        ("CEST", 18, 20),
        ("EET", 18, 20),
        ("EEST", 19, 20),
        ("WET", 16, 20),
        ("WEST", 17, 20),
        ("BST", 17, 20),
        ("MSK", 19, 20),
        ("IST", 21, 50),
        ("JST", 1, 20),
    ] {
        let day = if zone == "JST" { 7 } else { 6 };
        let input = format!("Mon, {day:02} Sep 2021 {local_hour:02}:{local_minute:02}:00 {zone}");
        assert_eq!(parse_date(&input), Some(t), "{input}");
    }
}

#[test]
fn two_digit_years() {
    check(&[
        ("Mon, 06 Sep 21 16:20:00 GMT", utc(2021, 9, 6, 16, 20, 0)),
        ("Sat, 06 Sep 49 16:20:00 GMT", utc(2049, 9, 6, 16, 20, 0)),
        ("Mon, 06 Sep 50 16:20:00 GMT", utc(1950, 9, 6, 16, 20, 0)),
        ("06 Sep 99 16:20 GMT", utc(1999, 9, 6, 16, 20, 0)),
        ("06 Sep 121 16:20 GMT", utc(2021, 9, 6, 16, 20, 0)),
    ]);
}

#[test]
fn italian() {
    let t = utc(2021, 9, 7, 14, 20, 0);
    check(&[
        ("Mar, 07 Set 2021 16:20:00 +0200", t),
        ("mar, 07 set 2021 16:20:00 +0200", t),
        ("martedì 7 settembre 2021 16:20:00 +0200", t),
        ("Martedì, 7 Settembre 2021 ore 16:20 +0200", t),
        ("7 set. 2021 14:20", t),
        ("Lun, 06 Set 2021 16:20:00 GMT", utc(2021, 9, 6, 16, 20, 0)),
        ("Mar, 07 Mar 2021 10:00:00 GMT", utc(2021, 3, 7, 10, 0, 0)),
        ("07 mar 2021", utc(2021, 3, 7, 0, 0, 0)),
    ]);
    let months = [
        "gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic",
    ];
    let full = [
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ];
    for (index, (short, long)) in months.iter().zip(full).enumerate() {
        let month = u32::try_from(index + 1).unwrap();
        let expected = utc(2021, month, 5, 8, 0, 0);
        assert_eq!(
            parse_date(&format!("5 {short} 2021 08:00 GMT")),
            Some(expected),
            "{short}"
        );
        assert_eq!(
            parse_date(&format!("5 {long} 2021 08:00 GMT")),
            Some(expected),
            "{long}"
        );
    }
    for day in ["lun", "mar", "mer", "gio", "ven", "sab", "dom"] {
        assert_eq!(
            parse_date(&format!("{day}, 07 set 2021 16:20:00 +0200")),
            Some(t),
            "{day}"
        );
    }
    for day in [
        "lunedì",
        "martedì",
        "mercoledì",
        "giovedì",
        "venerdì",
        "sabato",
        "domenica",
    ] {
        assert_eq!(parse_date(&format!("{day} 7 settembre 2021 14:20")), Some(t), "{day}");
    }
}

#[test]
fn other_languages() {
    let t = utc(2021, 9, 6, 16, 20, 0);
    check(&[
        ("lundi 6 septembre 2021 16:20", t),
        ("lun. 6 sept. 2021 16h20", t),
        ("Lundi, 6 Sep 2021 16:20:00 GMT", t),
        ("1er février 2021", utc(2021, 2, 1, 0, 0, 0)),
        ("15 déc. 2021", utc(2021, 12, 15, 0, 0, 0)),
        ("15 août 2021", utc(2021, 8, 15, 0, 0, 0)),
        ("Montag, 6. September 2021 16:20", t),
        ("Mo, 06 Sep 2021 16:20:00 GMT", t),
        ("Di, 7. Okt. 2021 16:20 Uhr", utc(2021, 10, 7, 16, 20, 0)),
        ("3. März 2021", utc(2021, 3, 3, 0, 0, 0)),
        ("3 Mrz 2021", utc(2021, 3, 3, 0, 0, 0)),
        ("24. Dez 2021", utc(2021, 12, 24, 0, 0, 0)),
        ("lunes, 6 de septiembre de 2021 16:20", t),
        ("Lun, 6 Sep 2021 16:20:00 GMT", t),
        ("mié, 8 dic 2021", utc(2021, 12, 8, 0, 0, 0)),
        ("1 ene 2021", utc(2021, 1, 1, 0, 0, 0)),
        ("segunda-feira, 6 de setembro de 2021 16:20", t),
        ("Seg, 06 Set 2021 16:20:00 GMT", t),
        ("6 de outubro de 2021", utc(2021, 10, 6, 0, 0, 0)),
        ("6 de março de 2021", utc(2021, 3, 6, 0, 0, 0)),
        ("Sáb, 4 Dez 2021", utc(2021, 12, 4, 0, 0, 0)),
        ("1 abr 2021", utc(2021, 4, 1, 0, 0, 0)),
    ]);
}

#[test]
fn english_long_forms() {
    check(&[
        ("Monday, September 6, 2021", utc(2021, 9, 6, 0, 0, 0)),
        ("September 6, 2021 4:20 PM", utc(2021, 9, 6, 16, 20, 0)),
        ("September 6, 2021 4:20 am", utc(2021, 9, 6, 4, 20, 0)),
        ("September 6, 2021 12:05 AM", utc(2021, 9, 6, 0, 5, 0)),
        ("September 6, 2021 12:05 PM", utc(2021, 9, 6, 12, 5, 0)),
        ("September 6, 2021 4:20 p.m.", utc(2021, 9, 6, 16, 20, 0)),
        ("September 6, 2021 4:20:30 PM EDT", utc(2021, 9, 6, 20, 20, 30)),
        ("Sep 6th, 2021", utc(2021, 9, 6, 0, 0, 0)),
        ("1st of March 2021", utc(2021, 3, 1, 0, 0, 0)),
        ("Sept. 22, 2021, 9:05 a.m.", utc(2021, 9, 22, 9, 5, 0)),
        ("6 September 2021", utc(2021, 9, 6, 0, 0, 0)),
        ("Thursday, 1 January 1970 00:00:00 GMT", utc(1970, 1, 1, 0, 0, 0)),
    ]);
}

#[test]
fn numeric_day_month_orders() {
    check(&[
        ("06.09.2021", utc(2021, 9, 6, 0, 0, 0)),
        ("06.09.2021 16:20", utc(2021, 9, 6, 16, 20, 0)),
        ("6.9.21", utc(2021, 9, 6, 0, 0, 0)),
        ("25/09/2021", utc(2021, 9, 25, 0, 0, 0)),
        ("09/25/2021 4:20 PM", utc(2021, 9, 25, 16, 20, 0)),
    ]);
    check_none(&["06/09/2021", "06-09-2021 16:20"]);
}

#[test]
fn epochs_and_compact_forms() {
    check(&[
        ("1630945200", utc(2021, 9, 6, 16, 20, 0)),
        ("1630945200000", utc(2021, 9, 6, 16, 20, 0)),
        ("999999999", utc(2001, 9, 9, 1, 46, 39)),
        ("100000000", utc(1973, 3, 3, 9, 46, 40)),
        ("20210906", utc(2021, 9, 6, 0, 0, 0)),
        ("20210906162000", utc(2021, 9, 6, 16, 20, 0)),
    ]);
    let ms = parse_date("1630945200123").unwrap();
    assert_eq!(ms, utc(2021, 9, 6, 16, 20, 0) + chrono::Duration::milliseconds(123));
    check_none(&["12345", "1234567", "123456789012345", "20211306"]);
}

#[test]
fn impossible_dates() {
    check_none(&[
        "2021-02-30",
        "2021-02-29T00:00:00Z",
        "30 Feb 2021 10:00 GMT",
        "Mon, 31 Sep 2021 16:20:00 GMT",
        "2021-13-01",
        "2021-09-06T24:00:00Z",
        "2021-09-06T16:60:00Z",
        "06 Sep 2021 25:00 GMT",
        "Mon, 06 Sep 2021 16:20:00 +2500",
        "September 6, 2021 13:20 PM",
        "0000-01-01",
        "0000-01-01T00:00:00Z",
    ]);
    check(&[
        ("2020-02-29", utc(2020, 2, 29, 0, 0, 0)),
        ("0001-01-01", utc(1, 1, 1, 0, 0, 0)),
        ("9999-12-31T23:59:59Z", utc(9999, 12, 31, 23, 59, 59)),
        ("1 Jan 1900 00:00 GMT", utc(1900, 1, 1, 0, 0, 0)),
    ]);
}

#[test]
fn garbage() {
    check_none(&[
        "",
        "   ",
        "not a date",
        "yesterday",
        "Sep 2021",
        "Monday",
        "16:20",
        "2021",
        "06 Sep",
        "6 Sep 2021 7 Oct 2021",
        "6 Sep 2021 16:20 16:21",
        "6 Sep 2021 16:20 +0100 +0200",
        "6 Sep 2021 16:20 EST PST",
        "\u{1f600}",
        "12345678901234567890 Sep",
    ]);
    let long = "6 Sep 2021 ".repeat(40);
    assert_eq!(parse_date(&long), None);
}
