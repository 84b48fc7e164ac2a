//! The fingerprint of one item ([`Print`]), its candidate keys, and its
//! stored form.
//!
//! A print is computed from the item alone (its title and body), never from
//! what the store holds, so that the same item always has the same print and
//! the same keys whatever arrived before it. It holds:
//!
//! - sizes: body words, distinct content words, distinct 3-shingles;
//! - bottom-k sketches of the content words and of the word 3-shingles, to
//!   estimate how much of their words and phrasing two texts share;
//! - the opening: the 3-shingles of the body's first [`LEAD_WORDS`] plain
//!   words (stop words, names and numbers left out, so that a byline, a
//!   credit or a date line above the text does not shift it), to see whether
//!   one text is the beginning of the other;
//! - the facts: every name and number of the body (and of the title when
//!   its capitals mean something), and the *slots* they fill (the words on
//!   either side), to see whether two texts tell the same facts or fill one
//!   frame with different ones;
//! - the title's content words;
//! - the candidate keys (see [`Print::keys`]).

use std::hash::Hasher;

use siphasher::sip::SipHasher13;

use super::text::{self, Class, Token};
use super::words::{is_date, is_furniture};

/// Version of the print's definition: stored prints of another version are
/// recomputed from the stored text.
pub const PRINT_VERSION: u8 = 1;

/// Plain words of the opening whose shingles form [`Print::lead`].
pub const LEAD_WORDS: usize = 80;
/// Size of the bottom-k sketch of 3-shingles.
pub const SKETCH: usize = 128;
/// Size of the bottom-k sketch of content words.
pub const TERM_SKETCH: usize = 96;
/// Facts kept per print (the lowest hashes).
pub const FACTS: usize = 96;
/// Slots kept per print (the lowest context hashes).
pub const SLOTS: usize = 64;
/// Facts sampled as candidate keys (the lowest hashes among the facts
/// that are rare enough to be keys: see `key_fact_hashes`).
pub const SAMPLE: usize = 8;
/// Plain words of the opening hashed into one lead key; two lead keys
/// cover the first `2 × LEAD_KEY_WORDS`.
pub const LEAD_KEY_WORDS: usize = 8;
/// Title content words a title needs to give a key.
pub const TITLE_KEY_WORDS: usize = 3;

/// Which family a candidate key belongs to, in its top two bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// One sampled fact: a candidate needs two shared.
    Fact,
    /// A run of the opening's plain words: one shared is enough.
    Lead,
    /// The title's content words: one shared is enough.
    Title,
}

impl KeyKind {
    /// The family of a key.
    pub fn of(key: u32) -> KeyKind {
        match key >> 30 {
            0 => KeyKind::Fact,
            1 => KeyKind::Lead,
            _ => KeyKind::Title,
        }
    }

    fn tag(self, hash: u32) -> u32 {
        let bits: u32 = match self {
            KeyKind::Fact => 0,
            KeyKind::Lead => 1,
            KeyKind::Title => 2,
        };
        (hash & 0x3fff_ffff) | (bits << 30)
    }
}

/// The fingerprint of one item. Lists are sorted ascending.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Print {
    /// Tokens of the body.
    pub words: u32,
    /// Distinct content words (plain words and names) of the body.
    pub terms: u32,
    /// The [`TERM_SKETCH`] lowest content-word hashes.
    pub term_sketch: Vec<u32>,
    /// Distinct 3-shingles of the body.
    pub shingles: u32,
    /// The [`SKETCH`] lowest shingle hashes.
    pub sketch: Vec<u32>,
    /// Distinct shingles of the opening's first [`LEAD_WORDS`] plain words.
    pub lead: Vec<u32>,
    /// Distinct fact hashes, at most [`FACTS`] (the lowest).
    pub facts: Vec<u32>,
    /// (context, value) of each run of facts, at most [`SLOTS`] contexts
    /// (the lowest), sorted.
    pub slots: Vec<(u32, u32)>,
    /// Distinct content words of the title.
    pub title: Vec<u32>,
    /// Candidate keys, tagged by [`KeyKind`].
    pub keys: Vec<u32>,
}

/// SipHash-1-3 under fixed keys of the parts, each followed by a `0xff`
/// byte: fixed by its specification, so stored prints stay comparable
/// across builds (`tests::hashes_are_those_of_print_version_1` pins it).
/// The parts are copied into one buffer and hashed in one call, which gives
/// the same hash as feeding them one by one (SipHash reads a stream) at a
/// fraction of the cost for short words (a shingle was six calls; hashing
/// was a tenth of the CPU of a cold poll).
fn hash(parts: &[&str]) -> u32 {
    let mut buf = [0u8; 64];
    let len: usize = parts.iter().map(|p| p.len() + 1).sum();
    if len <= buf.len() {
        let mut at = 0;
        for p in parts {
            buf[at..at + p.len()].copy_from_slice(p.as_bytes());
            buf[at + p.len()] = 0xff;
            at += p.len() + 1;
        }
        hash_bytes(&buf[..len])
    } else {
        let mut h = SipHasher13::new_with_keys(KEY.0, KEY.1);
        for p in parts {
            h.write(p.as_bytes());
            h.write_u8(0xff);
        }
        (h.finish() >> 32) as u32
    }
}

/// The keys of [`hash`].
const KEY: (u64, u64) = (0x7072_696e_7473_7632, 0x7472_6962_7574_6172);

/// [`hash`] of bytes already laid out as its parts, each followed by `0xff`.
fn hash_bytes(bytes: &[u8]) -> u32 {
    (SipHasher13::new_with_keys(KEY.0, KEY.1).hash(bytes) >> 32) as u32
}

/// Words laid end to end as [`hash`] reads its parts (each followed by a
/// `0xff` byte, which UTF-8 never holds), so that the hash of any run of
/// consecutive words is one call on a slice of one buffer, with nothing
/// copied: a text's shingles and words are hashed so.
struct Laid {
    bytes: Vec<u8>,
    /// Where each word starts, and the end of the last.
    starts: Vec<usize>,
}

impl Laid {
    fn new<'w>(words: impl Iterator<Item = &'w str>) -> Laid {
        let mut laid = Laid {
            bytes: Vec::new(),
            starts: vec![0],
        };
        for w in words {
            laid.bytes.extend_from_slice(w.as_bytes());
            laid.bytes.push(0xff);
            laid.starts.push(laid.bytes.len());
        }
        laid
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// `hash` of words `from..to`.
    fn hash(&self, from: usize, to: usize) -> u32 {
        hash_bytes(&self.bytes[self.starts[from]..self.starts[to]])
    }

    /// The hashes of the word 3-shingles, or of all the words as one when
    /// there are fewer than three.
    fn shingles(&self) -> Vec<u32> {
        match self.len() {
            0 => vec![],
            n @ 1..3 => vec![self.hash(0, n)],
            n => (0..n - 2).map(|i| self.hash(i, i + 3)).collect(),
        }
    }
}

fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v.dedup();
    v
}

fn bottom(v: Vec<u32>, k: usize) -> (u32, Vec<u32>) {
    let mut v = sorted(v);
    let n = v.len() as u32;
    v.truncate(k);
    (n, v)
}

/// Whether a number is a key fact: three digits or more, and not a recent
/// year (years, small counts, scores and percentages are shared by too
/// many unrelated items to find anything); four digits or more make it a
/// strong one.
pub fn key_number(t: &Token<'_>) -> bool {
    if t.class != Class::Number {
        return false;
    }
    let digits: String = t.lower.chars().filter(char::is_ascii_digit).collect();
    let year = digits.len() == 4 && t.lower.len() == 4 && ("1950".."2050").contains(&digits.as_str());
    digits.len() >= 3 && !year
}

/// The print of an item's title and body (content, else summary); `None`
/// without a body.
pub fn print(title: &str, body_html: Option<&str>) -> Option<Print> {
    print_sampling(title, body_html, &[SAMPLE]).map(|(p, _)| p)
}

/// The print, and the candidate keys it would have with each of
/// `samples` facts sampled instead of [`SAMPLE`] (for measuring how the
/// sample's size trades candidates for recall).
pub fn print_sampling(title: &str, body_html: Option<&str>, samples: &[usize]) -> Option<(Print, Vec<Vec<u32>>)> {
    let text = text::text_of_html(body_html?);
    let body = text::tokens(&text, true);
    let title_text = text::text_of_html(title);
    let title_tokens = text::tokens(&title_text, !text::title_case(&title_text));
    Some(print_of_tokens(&body, &title_tokens, samples))
}

fn print_of_tokens(body: &[Token<'_>], title: &[Token<'_>], samples: &[usize]) -> (Print, Vec<Vec<u32>>) {
    let laid = Laid::new(body.iter().map(|t| t.lower.as_ref()));
    let (shingle_count, sketch) = bottom(laid.shingles(), SKETCH);
    let content = |t: &&Token<'_>| matches!(t.class, Class::Plain | Class::Name);
    let (terms, term_sketch) = bottom(
        body.iter()
            .enumerate()
            .filter(|(_, t)| content(t))
            .map(|(i, _)| laid.hash(i, i + 1))
            .collect(),
        TERM_SKETCH,
    );
    let plain: Vec<&str> = body
        .iter()
        .filter(|t| t.class == Class::Plain)
        .map(|t| t.lower.as_ref())
        .collect();
    let lead = sorted(Laid::new(plain.iter().take(LEAD_WORDS).copied()).shingles());

    let title_facts = title.iter().filter(|t| t.class.is_fact());
    let facts_all = body.iter().filter(|t| t.class.is_fact()).chain(title_facts.clone());
    let (_, facts) = bottom(facts_all.map(fact_hash).collect(), FACTS);
    let slots = slots(body);

    let title_terms = sorted(title.iter().filter(content).map(|t| hash(&[&t.lower])).collect());

    let ranked = ranked_facts(body, title);
    let mut other_keys = Vec::new();
    let plain_at: Vec<usize> = (0..body.len()).filter(|&i| body[i].class == Class::Plain).collect();
    for (run, at) in plain
        .chunks(LEAD_KEY_WORDS)
        .zip(plain_at.chunks(LEAD_KEY_WORDS))
        .take(2)
    {
        if run.len() == LEAD_KEY_WORDS {
            // With the key facts told among those words, so that a stock
            // opening ("A fire that broke out overnight near …") filled with
            // other places and people is another key.
            let mut facts: Vec<u32> = body[at[0]..=at[LEAD_KEY_WORDS - 1]]
                .iter()
                .filter(|t| t.class.is_fact())
                .map(fact_hash)
                .collect();
            facts.sort_unstable();
            facts.dedup();
            let facts: Vec<String> = facts.iter().map(u32::to_string).collect();
            let mut parts = vec!["lead"];
            parts.extend_from_slice(run);
            parts.extend(facts.iter().map(String::as_str));
            other_keys.push(KeyKind::Lead.tag(hash(&parts)));
        }
    }
    if title_terms.len() >= TITLE_KEY_WORDS {
        let words: Vec<String> = title_terms.iter().map(u32::to_string).collect();
        let mut parts = vec!["title"];
        parts.extend(words.iter().map(String::as_str));
        other_keys.push(KeyKind::Title.tag(hash(&parts)));
    }
    let keys_with = |k: usize| -> Vec<u32> {
        let facts = ranked.iter().take(k).map(|h| KeyKind::Fact.tag(*h));
        sorted(facts.chain(other_keys.iter().copied()).collect())
    };
    let keys = keys_with(SAMPLE);
    let alternatives = samples.iter().map(|k| keys_with(*k)).collect();

    let print = Print {
        words: body.len() as u32,
        terms,
        term_sketch,
        shingles: shingle_count,
        sketch,
        lead,
        facts,
        slots,
        title: title_terms,
        keys,
    };
    (print, alternatives)
}

/// The hash of a fact: a number by its letters and digits alone, so that
/// `2,6`, `2.6` and `26` are one figure whatever the punctuation.
fn fact_hash(t: &Token<'_>) -> u32 {
    if t.class == Class::Number {
        let plain: String = t.lower.chars().filter(|c| c.is_alphanumeric()).collect();
        hash(&[&plain])
    } else {
        hash(&[&t.lower])
    }
}

/// The key facts of some tokens: each run of names as one fact (`Verona`,
/// `Rachel Hughes`, `Leeds City Council`), and each number of three digits
/// or more that is not a recent year ([`key_number`]). A run of two names
/// or more and a number of four digits or more are *strong* (bit
/// [`STRONG`] of the key): two unrelated stories rarely share one, while a
/// place or a surname alone is in many stories of a large store.
fn key_fact_hashes(tokens: &[Token<'_>], out: &mut Vec<u32>) {
    for (start, end) in runs(tokens) {
        let run = &tokens[start..end];
        if run[0].class == Class::Name {
            let words: Vec<&str> = run.iter().map(|t| t.lower.as_ref()).collect();
            out.push(strength(hash(&["key", &words.join(" ")]), words.len() >= 2));
        } else {
            out.extend(run.iter().filter(|t| key_number(t)).map(|t| {
                let digits = t.lower.chars().filter(char::is_ascii_digit).count();
                strength(fact_hash(t) ^ 0x5bd1_e995, digits >= 4)
            }));
        }
    }
}

/// The bit of a fact key set for a strong fact (see `key_fact_hashes`).
pub const STRONG: u32 = 1 << 29;

fn strength(hash: u32, strong: bool) -> u32 {
    if strong { hash | STRONG } else { hash & !STRONG }
}

/// Whether a key is a strong fact's.
pub fn is_strong(key: u32) -> bool {
    KeyKind::of(key) == KeyKind::Fact && key & STRONG != 0
}

/// The key facts in the order they are sampled: lowest hash first, taking
/// first the facts the text names more than once (its own subject, rather
/// than a byline or the titles of a list of related articles).
fn ranked_facts(body: &[Token<'_>], title: &[Token<'_>]) -> Vec<u32> {
    let mut hashes = Vec::new();
    key_fact_hashes(body, &mut hashes);
    key_fact_hashes(title, &mut hashes);
    hashes.sort_unstable();
    let mut ranked: Vec<(bool, u32)> = hashes
        .chunk_by(|a, b| a == b)
        .map(|run| (run.len() < 2, run[0]))
        .collect();
    ranked.sort_unstable();
    ranked.into_iter().map(|(_, h)| h).collect()
}

/// The slots of a text's facts: for each run of facts of one class (names,
/// or figures; consecutive, with only white space between them), the two
/// words that are not facts before it and the one after it (the context,
/// its lowest bit set when the run holds a date: [`is_date_slot`]), once
/// per fact of the run (the values). Runs next to a furniture word (`By …
/// Reporter`, `… comments`, `… min read`) are left out.
fn slots(body: &[Token<'_>]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for (start, end) in runs(body) {
        let words = slot_context_words(body, start, end);
        // A byline, a comment count, a reading time: page furniture.
        if words[1..].iter().any(|w| is_furniture(w)) {
            continue;
        }
        let date = body[start..end].iter().any(|t| is_date(&t.lower));
        // The words around the run, and the same without the word just
        // before it (`bramble-doc 5.15.10, a` and `bramble-server 5.15.4, a`
        // fill one slot).
        for context in [
            hash(&["slot", words[0], words[1], words[2]]),
            hash(&["slot", words[0], "", words[2]]),
        ] {
            let context = context & !1 | u32::from(date);
            out.extend(body[start..end].iter().map(|t| (context, fact_hash(t))));
        }
    }
    out.sort_unstable();
    out.dedup();
    // Keep every value of the SLOTS lowest contexts, so that two prints
    // keep the same contexts.
    let mut contexts: Vec<u32> = out.iter().map(|(c, _)| *c).collect();
    contexts.dedup();
    if let Some(&last) = contexts.get(SLOTS.saturating_sub(1)) {
        out.retain(|(c, _)| *c <= last);
    }
    out
}

/// The runs of facts of one class: `(start, end)` token ranges.
fn runs(body: &[Token<'_>]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < body.len() {
        if !body[i].class.is_fact() {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < body.len() && body[i].class == body[start].class && body[i].joined {
            i += 1;
        }
        out.push((start, i));
    }
    out
}

/// The words around a run of facts, facts skipped: two before, one after.
fn slot_context_words<'a>(body: &'a [Token<'_>], start: usize, end: usize) -> [&'a str; 3] {
    let mut before = body[..start].iter().rev().filter(|t| !t.class.is_fact());
    let b1 = before.next().map_or("", |t| t.lower.as_ref());
    let b2 = before.next().map_or("", |t| t.lower.as_ref());
    let a1 = body[end..]
        .iter()
        .find(|t| !t.class.is_fact())
        .map_or("", |t| t.lower.as_ref());
    [b2, b1, a1]
}

/// Whether a slot context holds a date (a month or weekday name): its
/// lowest bit.
pub fn is_date_slot(context: u32) -> bool {
    context & 1 == 1
}

/// A print and its stored form ([`Print::encode`]), made together where
/// items are prepared, so that the single writer only copies the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The print.
    pub print: Print,
    /// `print.encode()`.
    pub bytes: Vec<u8>,
}

impl Encoded {
    /// Encodes `print`.
    pub fn new(print: Print) -> Encoded {
        let bytes = print.encode();
        Encoded { print, bytes }
    }
}

impl Print {
    /// The candidate keys, tagged by family ([`KeyKind`]): the lowest
    /// hashes of up to [`SAMPLE`] key facts (`key_fact`), one key per
    /// [`LEAD_KEY_WORDS`] plain words of the opening (two at most), and one
    /// for the title's content words when it has [`TITLE_KEY_WORDS`] or
    /// more. Computed from the item alone.
    pub fn keys(&self) -> &[u32] {
        &self.keys
    }

    /// Whether the item has almost no key facts (fewer than two): its
    /// opening or title alone makes others worth comparing with it.
    pub fn fact_poor(&self) -> bool {
        self.keys.iter().filter(|k| KeyKind::of(**k) == KeyKind::Fact).count() < 2
    }

    /// Encodes the print for the store.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            16 + 4
                * (self.term_sketch.len()
                    + self.sketch.len()
                    + self.lead.len()
                    + self.facts.len()
                    + 2 * self.slots.len()
                    + self.title.len()
                    + self.keys.len()),
        );
        out.push(PRINT_VERSION);
        for n in [self.words, self.terms, self.shingles] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        let list = |out: &mut Vec<u8>, v: &[u32]| {
            out.extend_from_slice(&(v.len() as u16).to_le_bytes());
            for x in v {
                out.extend_from_slice(&x.to_le_bytes());
            }
        };
        list(&mut out, &self.term_sketch);
        list(&mut out, &self.sketch);
        list(&mut out, &self.lead);
        list(&mut out, &self.facts);
        let flat: Vec<u32> = self.slots.iter().flat_map(|&(c, v)| [c, v]).collect();
        list(&mut out, &flat);
        list(&mut out, &self.title);
        list(&mut out, &self.keys);
        out
    }

    /// Decodes a stored print; `None` when it is of another version or
    /// malformed (it is then recomputed).
    pub fn decode(bytes: &[u8]) -> Option<Print> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(1)?[0] != PRINT_VERSION {
            return None;
        }
        let words = r.u32()?;
        let terms = r.u32()?;
        let shingles = r.u32()?;
        let term_sketch = r.list()?;
        let sketch = r.list()?;
        let lead = r.list()?;
        let facts = r.list()?;
        let flat = r.list()?;
        let title = r.list()?;
        let keys = r.list()?;
        if r.at != bytes.len() || flat.len() % 2 != 0 {
            return None;
        }
        Some(Print {
            words,
            terms,
            term_sketch,
            shingles,
            sketch,
            lead,
            facts,
            slots: flat.chunks_exact(2).map(|p| (p[0], p[1])).collect(),
            title,
            keys,
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.bytes.get(self.at..self.at + n)?;
        self.at += n;
        Some(s)
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn list(&mut self) -> Option<Vec<u32>> {
        let b = self.take(2)?;
        let n = u16::from_le_bytes([b[0], b[1]]) as usize;
        (0..n).map(|_| self.u32()).collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const BODY: &str = "<p>Il consiglio comunale di Verona ha approvato ieri sera il nuovo piano per la mobilità sostenibile, che prevede 40 chilometri di piste ciclabili entro il 2028 e una spesa di 12,5 milioni di euro.</p><p>La sindaca Giulia Ferraro ha spiegato che i fondi arrivano per metà dal bilancio regionale e per metà da un prestito della Banca europea per gli investimenti.</p>";

    #[test]
    fn hashes_are_those_of_print_version_1() {
        // Stored prints are compared with new ones: a change of these
        // values needs a new PRINT_VERSION (and a migration forgetting the
        // stored prints and keys).
        assert_eq!(PRINT_VERSION, 1);
        // The parts fed one by one, as version 1 was first written.
        let streamed = |parts: &[&str]| {
            let mut h = SipHasher13::new_with_keys(0x7072_696e_7473_7632, 0x7472_6962_7574_6172);
            for p in parts {
                h.write(p.as_bytes());
                h.write_u8(0xff);
            }
            (h.finish() >> 32) as u32
        };
        let long = "città".repeat(20);
        let cases: [&[&str]; 7] = [
            &["verona"],
            &["il", "consiglio", "comunale"],
            &["slot", "di", "", "ha"],
            &[&long, "a"],
            &[],
            &[""],
            &["x"; 40],
        ];
        for parts in cases {
            assert_eq!(hash(parts), streamed(parts), "{parts:?}");
        }
        let got = [
            hash(&["verona"]),
            hash(&["il", "consiglio", "comunale"]),
            hash(&[&long, "a"]),
        ];
        assert_eq!(got, [2_342_692_818, 3_248_219_265, 3_566_424_287]);
    }

    #[test]
    fn laid_words_hash_as_their_parts() {
        let long = "perché".repeat(15);
        let words = ["il", "consiglio", &long, "", "di", "verona", "ha", "approvato"];
        for n in 0..=words.len() {
            let laid = Laid::new(words[..n].iter().copied());
            assert_eq!(laid.len(), n);
            let want: Vec<u32> = match n {
                0 => vec![],
                1 | 2 => vec![hash(&words[..n])],
                _ => words[..n].windows(3).map(hash).collect(),
            };
            assert_eq!(laid.shingles(), want, "{n} words");
            for (i, word) in words[..n].iter().enumerate() {
                assert_eq!(laid.hash(i, i + 1), hash(&[word]), "word {i}");
            }
        }
    }

    #[test]
    fn a_print_survives_its_stored_form() {
        let p = print("Verona approva il piano ciclabile", Some(BODY)).unwrap();
        assert_eq!(Print::decode(&p.encode()), Some(p.clone()));
        let mut other = p.encode();
        other[0] = PRINT_VERSION.wrapping_add(1);
        assert_eq!(Print::decode(&other), None);
        assert_eq!(Print::decode(&p.encode()[..20]), None);
    }

    #[test]
    fn facts_keys_and_the_opening_come_from_the_item_alone() {
        let p = print("Verona approva il piano ciclabile", Some(BODY)).unwrap();
        let kinds: Vec<KeyKind> = p.keys().iter().map(|k| KeyKind::of(*k)).collect();
        // Key facts: Verona, Giulia Ferraro (a run of two names, strong),
        // Banca and 12,5; 40 and 2028 are too common to be keys but are
        // facts.
        assert_eq!(kinds.iter().filter(|k| **k == KeyKind::Fact).count(), 4, "{kinds:?}");
        assert_eq!(p.keys().iter().filter(|k| is_strong(**k)).count(), 1);
        assert_eq!(kinds.iter().filter(|k| **k == KeyKind::Lead).count(), 2);
        assert_eq!(kinds.iter().filter(|k| **k == KeyKind::Title).count(), 1);
        assert!(p.facts.len() >= 7, "{:?}", p.facts);
        assert_eq!(p, print("Verona approva il piano ciclabile", Some(BODY)).unwrap());
        // A byline above the text changes neither the opening nor its keys.
        let bylined = format!("<p>di Marco Bellini, 12 novembre 2026 — Foto ANSA</p>{BODY}");
        let q = print("Verona approva il piano ciclabile", Some(&bylined)).unwrap();
        assert_eq!(q.lead, p.lead);
        let lead_keys = |p: &Print| -> Vec<u32> {
            p.keys()
                .iter()
                .copied()
                .filter(|k| KeyKind::of(*k) == KeyKind::Lead)
                .collect()
        };
        assert_eq!(lead_keys(&q), lead_keys(&p));
    }

    #[test]
    fn slots_pair_a_fact_with_the_words_around_it() {
        let a = print("Meteo", Some("<p>Minime di 3 gradi, massime di 12 gradi a Torino.</p>")).unwrap();
        let b = print("Meteo", Some("<p>Minime di 5 gradi, massime di 14 gradi a Torino.</p>")).unwrap();
        let ctx = |p: &Print| -> Vec<u32> { p.slots.iter().map(|s| s.0).collect() };
        assert_eq!(ctx(&a), ctx(&b));
        assert_ne!(a.slots, b.slots);
    }
}
