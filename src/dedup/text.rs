//! From HTML to the tokens the fingerprint is made of.
//!
//! The visible text is what [`text_of_html`] gives: every tag a space,
//! entities decoded. It is cut into tokens: words (runs of letters and
//! digits) and numbers, where a number keeps its inner separators
//! (`1.250.000`, `3,5`, `12:30`, `3-1`, `12/11/2026`) so that a figure stays
//! one fact. Each token is classed:
//!
//! - a **number** holds a digit, or names a month or a weekday (a figure
//!   of a date);
//! - a **name** is a word written with a capital that does not open a
//!   sentence (`Verona`, `NATO`, the `Rossi` of `Mario Rossi`), and is not
//!   a stop word;
//! - a **plain** word is any other word of three letters or more that is not
//!   a stop word ([`words::is_stop`](super::words::is_stop));
//! - the rest (stop words, one- and two-letter words) carries no evidence.
//!
//! Names and numbers are the *facts* of a text: they survive a rewrite,
//! and they are what tells two items of one template series apart.

use std::borrow::Cow;

use super::words::{Listed, is_stop, listed};
use crate::html::text::{Breaks, visible_text_spaced};

/// The text of some HTML as prints read it: every tag a separator, entities
/// decoded (`html::text`'s reading with [`Breaks::EveryTag`], which
/// fingerprints have always used: it can split words, never join them).
/// Its whitespace is left as it comes: [`tokens`] reads any run of it as
/// one separator.
pub fn text_of_html(html: &str) -> String {
    visible_text_spaced(html, Breaks::EveryTag)
}

/// What a token is evidence of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A figure: holds a digit, or names a month or a weekday.
    Number,
    /// A capitalised word inside a sentence.
    Name,
    /// A content word.
    Plain,
    /// A stop word or a word of one or two letters.
    Stop,
}

impl Class {
    /// Names and numbers.
    pub fn is_fact(self) -> bool {
        matches!(self, Class::Number | Class::Name)
    }
}

/// One token of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    /// Lower-cased.
    pub lower: Cow<'a, str>,
    /// Its class.
    pub class: Class,
    /// Whether only white space separates it from the token before.
    pub joined: bool,
}

/// Characters after which a capitalised word opens a sentence.
fn opens_sentence(c: char) -> bool {
    matches!(
        c,
        '.' | ':' | '!' | '?' | '…' | '"' | '“' | '”' | '«' | '»' | '„' | '•' | '|' | '·' | '—' | '–'
    )
}

/// Separators a number keeps between two digits.
fn joins_digits(c: char) -> bool {
    matches!(c, '.' | ',' | ':' | '/' | '-')
}

/// Whether a character lower-cases to itself alone.
fn is_own_lowercase(c: char) -> bool {
    let mut lower = c.to_lowercase();
    lower.next() == Some(c) && lower.next().is_none()
}

fn lower(w: &str) -> Cow<'_, str> {
    if w.is_ascii() {
        if w.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(w.to_ascii_lowercase())
        } else {
            Cow::Borrowed(w)
        }
    } else if w.chars().all(|c| {
        if c.is_ascii() {
            !c.is_ascii_uppercase()
        } else {
            is_own_lowercase(c)
        }
    }) {
        Cow::Borrowed(w)
    } else {
        Cow::Owned(w.to_lowercase())
    }
}

/// The tokens of some plain text, in order. `names` says whether a
/// capitalised word inside a sentence is a name: true for body text, false
/// for a title written in title case, where every word has a capital.
pub fn tokens(text: &str, names: bool) -> Vec<Token<'_>> {
    // Walked by byte offsets, ASCII characters without decoding: every
    // word of every text printed passes here.
    let char_at = |i: usize| -> Option<char> {
        match text.as_bytes().get(i) {
            Some(&b) if b.is_ascii() => Some(char::from(b)),
            Some(_) => text.get(i..).and_then(|rest| rest.chars().next()),
            None => None,
        }
    };
    let is_digit_at = |i: usize| text.as_bytes().get(i).is_some_and(u8::is_ascii_digit);
    let mut out = Vec::with_capacity(text.len() / 6);
    let mut sentence_start = true;
    let mut joined = false;
    let mut i = 0;
    while let Some(c) = char_at(i) {
        if !c.is_alphanumeric() {
            if opens_sentence(c) {
                sentence_start = true;
            }
            joined &= c.is_whitespace();
            i += c.len_utf8();
            continue;
        }
        let start = i;
        let mut end = start;
        let mut digit = false;
        while let Some(c) = char_at(i) {
            if c.is_alphanumeric() {
                digit |= c.is_ascii_digit();
                i += c.len_utf8();
                end = i;
            } else if joins_digits(c) && digit && i > 0 && is_digit_at(i - 1) && is_digit_at(i + 1) {
                // Separators that keep a number whole are all ASCII.
                i += 1;
            } else {
                break;
            }
        }
        out.push(token(&text[start..end], digit, names && !sentence_start, joined));
        sentence_start = false;
        joined = true;
    }
    out
}

/// The token of one word: `digit` when it holds a digit, `may_name` when a
/// capital would make it a name (inside a sentence of body text).
fn token(word: &str, digit: bool, may_name: bool, joined: bool) -> Token<'_> {
    let lower = lower(word);
    let capital = word.chars().next().is_some_and(char::is_uppercase);
    let listed = listed(&lower);
    let class = if digit || listed == Some(Listed::Date) {
        Class::Number
    } else if listed == Some(Listed::Stop) || lower.chars().nth(2).is_none() {
        Class::Stop
    } else if capital && may_name {
        Class::Name
    } else {
        Class::Plain
    };
    Token { lower, class, joined }
}

/// Whether a title is written in title case (most of its content words
/// capitalised), so that its capitals say nothing about names.
pub fn title_case(title: &str) -> bool {
    let words: Vec<&str> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3 && w.chars().next().is_some_and(char::is_alphabetic))
        .filter(|w| !is_stop(&lower(w)))
        .collect();
    let capitals = words
        .iter()
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .count();
    words.len() >= 3 && capitals * 10 >= words.len() * 7
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// `tokens` as first written, walking `char_indices`: the byte walk
    /// must find the same words (each read by the same `token`).
    fn tokens_by_chars(text: &str, names: bool) -> Vec<Token<'_>> {
        let mut out = Vec::new();
        let mut sentence_start = true;
        let mut joined = false;
        let mut chars = text.char_indices().peekable();
        while let Some(&(start, c)) = chars.peek() {
            if !c.is_alphanumeric() {
                if opens_sentence(c) {
                    sentence_start = true;
                }
                joined &= c.is_whitespace();
                chars.next();
                continue;
            }
            let mut end = start;
            let mut digit = false;
            while let Some(&(i, c)) = chars.peek() {
                if c.is_alphanumeric() {
                    digit |= c.is_ascii_digit();
                    end = i + c.len_utf8();
                    chars.next();
                } else if joins_digits(c)
                    && digit
                    && text[..i].ends_with(|p: char| p.is_ascii_digit())
                    && text[i + c.len_utf8()..].starts_with(|n: char| n.is_ascii_digit())
                {
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(token(&text[start..end], digit, names && !sentence_start, joined));
            sentence_start = false;
            joined = true;
        }
        out
    }

    #[test]
    fn the_byte_walk_gives_the_tokens_of_the_character_walk() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut texts = vec![
            std::fs::read_to_string(root.join("article-it.txt")).unwrap(),
            "12,5 milioni 1.000.000 2-1 10:30 3/4 5. 6 x1.2 1..2 ,5 7, È l’Università «Ferraro» ab 1ª".into(),
            "é1.2 ñ-3 日本語 2026 ΑΒΓ İstanbul ǅemal a\u{2028}B .Z x".into(),
            String::new(),
        ];
        for seed in ["seed-7", "seed-23"] {
            let dir = root.join("dedup").join(seed).join("round1");
            for f in std::fs::read_dir(dir).unwrap() {
                // Some are in legacy encodings: their bytes read as UTF-8
                // where they can.
                texts.push(String::from_utf8_lossy(&std::fs::read(f.unwrap().path()).unwrap()).into_owned());
            }
        }
        for text in &texts {
            for names in [true, false] {
                let (got, want) = (tokens(text, names), tokens_by_chars(text, names));
                let first = got.iter().zip(&want).position(|(a, b)| a != b);
                assert_eq!(got.len(), want.len(), "{}", text.chars().take(80).collect::<String>());
                assert_eq!(first, None, "{:?}", first.map(|i| (&got[i], &want[i])));
            }
        }
    }

    fn classes(text: &str) -> Vec<(String, Class)> {
        tokens(text, true)
            .into_iter()
            .map(|t| (t.lower.into_owned(), t.class))
            .collect()
    }

    #[test]
    fn names_are_capitals_inside_a_sentence() {
        let got = classes("Il sindaco Mario Rossi ha incontrato la NATO. Dopo Verona, “Questa città” cambia.");
        let names: Vec<&str> = got
            .iter()
            .filter(|(_, c)| *c == Class::Name)
            .map(|(w, _)| w.as_str())
            .collect();
        assert_eq!(names, ["mario", "rossi", "nato", "verona"]);
        assert!(got.contains(&("dopo".into(), Class::Stop)));
        assert!(got.contains(&("questa".into(), Class::Stop)));
        assert!(got.contains(&("sindaco".into(), Class::Plain)));
        assert!(got.contains(&("cambia".into(), Class::Plain)));
    }

    #[test]
    fn numbers_keep_their_inner_separators() {
        let got: Vec<String> = tokens(
            "Costa 1.250.000 euro, il 3,5 per cento; finale 3-1 alle 12:30 del 12/11/2026. Fine.",
            true,
        )
        .into_iter()
        .filter(|t| t.class == Class::Number)
        .map(|t| t.lower.into_owned())
        .collect();
        assert_eq!(got, ["1.250.000", "3,5", "3-1", "12:30", "12/11/2026"]);
    }

    #[test]
    fn words_with_digits_are_numbers_and_apostrophes_split() {
        let got = classes("sull’A14 dell'Italia");
        assert_eq!(
            got,
            [
                ("sull".into(), Class::Stop),
                ("a14".into(), Class::Number),
                ("dell".into(), Class::Stop),
                ("italia".into(), Class::Name),
            ]
        );
    }

    #[test]
    fn title_case_is_recognised() {
        assert!(title_case("Council Approves New Cycle Network For Leeds"));
        assert!(!title_case("Leeds council approves the new cycle network"));
        assert!(!title_case("Verona, via libera al piano per la mobilità"));
    }

    #[test]
    fn html_is_read_with_every_tag_a_separator_and_entities_decoded_once() {
        let text = text_of_html("<p>L&rsquo;Italia &amp;amp; <b>og</b>gi</p>");
        assert_eq!(crate::html::text::collapse_whitespace(&text), "L’Italia &amp; og gi");
    }

    #[test]
    fn tokens_of_uncollapsed_text_are_those_of_the_collapsed_text() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut htmls = vec![
            "<p> a\u{2028}\u{2028}B  c </p>\n\t<p>D\u{a0} e.\r\nF</p>".to_string(),
            format!(
                "<p>{}</p>",
                std::fs::read_to_string(root.join("article-it.txt")).unwrap()
            ),
        ];
        let dir = root.join("dedup/seed-11/round1");
        for f in std::fs::read_dir(dir).unwrap() {
            htmls.push(String::from_utf8_lossy(&std::fs::read(f.unwrap().path()).unwrap()).into_owned());
        }
        for html in &htmls {
            let spaced = text_of_html(html);
            let collapsed = crate::html::text::visible_text(html, Breaks::EveryTag);
            assert_ne!(spaced, collapsed);
            for names in [true, false] {
                assert_eq!(tokens(&spaced, names), tokens(&collapsed, names));
            }
        }
    }
}
