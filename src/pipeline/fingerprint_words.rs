//! Fingerprints keep reading the words of earlier releases.

/// The words as fingerprints read them before the reading moved to
/// `html::text`: every `<` up to the next `>` a separator, entities decoded
/// afterwards, lower-cased, split at anything not alphanumeric.
fn words_as_before(html: &str) -> Vec<String> {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                text.push(' ');
                in_tag = true;
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    htmlize::unescape(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Stored fingerprints were computed from the old reading of the text:
/// over every entry of the labelled corpus and the shipped samples, the
/// titles and bodies read the same words now, so the fingerprints of new
/// copies still match the stored ones.
#[test]
fn fingerprint_words_are_unchanged_on_the_corpus_and_the_samples() {
    let mut files = vec![];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("config/samples")];
    for seed in std::fs::read_dir(root.join("tests/fixtures/dedup")).unwrap() {
        let seed = seed.unwrap().path();
        if seed.is_dir() {
            dirs.push(seed.join("round1"));
            dirs.push(seed.join("round2"));
        }
    }
    for dir in dirs {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if matches!(path.extension().and_then(|e| e.to_str()), Some("xml" | "json")) {
                files.push(path);
            }
        }
    }
    files.sort();
    let now = chrono::Utc::now();
    let (mut bodies, mut titles) = (0, 0);
    for path in files {
        let url = url::Url::from_file_path(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let parsed = crate::parse::parse(crate::parse::Document {
            bytes: &bytes,
            charset: None,
            media_type: None,
            url: &url,
        })
        .unwrap();
        for item in &parsed.items {
            let cx = crate::normalize::Context {
                base_url: Some(&url),
                feed: &parsed.info,
                now,
            };
            let entry = crate::normalize::normalize(item, &cx);
            for body in [&entry.content_html, &entry.summary_html].into_iter().flatten() {
                assert_eq!(crate::dedup::words(body), words_as_before(body), "{body:?}");
                bodies += 1;
            }
            assert_eq!(
                crate::dedup::words(&entry.title),
                words_as_before(&entry.title),
                "{:?}",
                entry.title
            );
            titles += 1;
        }
    }
    assert!(bodies > 1_000 && titles > 800, "{bodies} bodies, {titles} titles");
}
