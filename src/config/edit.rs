//! Changing a config file the way a person would: `tributary add` appends
//! a `[[source]]` block and leaves every other byte (comments, blank
//! lines, key order, quoting) as it was, through `toml_edit`.
//!
//! The new block goes after the last `[[source]]` block, or at the end of
//! the file when there is none. The file is replaced atomically (a
//! temporary file in its folder, flushed, renamed over it) with its mode
//! and owner kept, and a symlink is followed, not replaced.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

/// A source to add to a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSource {
    /// Its name, `[a-z0-9-]+`, not yet used in the file.
    pub name: String,
    /// Its feed URL.
    pub url: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// A line of comment written above the block (the feed's title).
    pub comment: Option<String>,
}

/// Why a config file could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The file's text is not TOML `toml_edit` can keep the layout of.
    #[error("cannot edit {}: {detail}; fix the file (tributary check) and try again", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        detail: String,
    },
    /// `source` in the file is something other than `[[source]]` blocks.
    #[error("cannot add a source to {}: its `source` key is not a list of [[source]] blocks", path.display())]
    NotAList {
        /// The file.
        path: PathBuf,
    },
    /// Writing the new file failed; the old one is unchanged.
    #[error("cannot write {}: {source}; the file is unchanged", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// `text`, the config file at `path`, with `source` added as a
/// `[[source]]` block after the last one (at the end when there is none);
/// every other byte stays as it was.
pub fn append_source(text: &str, path: &Path, source: &NewSource) -> Result<String, EditError> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| EditError::Unreadable {
        path: path.to_path_buf(),
        detail: e.message().to_string(),
    })?;
    let mut tags = Array::new();
    for t in &source.tags {
        tags.push(t.as_str());
    }
    match doc.get_mut("source") {
        None => {
            let mut list = ArrayOfTables::new();
            list.push(block(source, tags));
            doc.insert("source", Item::ArrayOfTables(list));
        }
        Some(Item::ArrayOfTables(list)) => list.push(block(source, tags)),
        // `source = [{ name = …, url = … }]`: one more inline table.
        Some(Item::Value(Value::Array(list))) => {
            let mut t = InlineTable::new();
            t.insert("name", source.name.as_str().into());
            t.insert("url", source.url.as_str().into());
            if !tags.is_empty() {
                t.insert("tags", Value::Array(tags));
            }
            list.push(Value::InlineTable(t));
        }
        Some(_) => {
            return Err(EditError::NotAList {
                path: path.to_path_buf(),
            });
        }
    }
    let mut out = doc.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// The `[[source]]` table, with a blank line and the comment above it.
fn block(source: &NewSource, tags: Array) -> Table {
    let mut t = Table::new();
    t.insert("name", toml_edit::value(source.name.as_str()));
    t.insert("url", toml_edit::value(source.url.as_str()));
    if !tags.is_empty() {
        t.insert("tags", toml_edit::value(tags));
    }
    let comment = source
        .comment
        .as_deref()
        .map(|c| {
            c.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>()
        })
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    let prefix = match comment {
        Some(c) => format!("\n# {c}\n"),
        None => "\n".to_string(),
    };
    t.decor_mut().set_prefix(prefix);
    t
}

/// Replaces the file at `path` (following a symlink) with `text`,
/// atomically: a temporary file beside it with the same mode and owner,
/// flushed, then renamed over it. On failure the old file is unchanged.
pub fn write_config(path: &Path, text: &str) -> Result<(), EditError> {
    let fail = |source| EditError::Write {
        path: path.to_path_buf(),
        source,
    };
    let target = std::fs::canonicalize(path).map_err(fail)?;
    let meta = std::fs::metadata(&target).map_err(fail)?;
    let dir = target.parent().unwrap_or(Path::new("/"));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tributary-add-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.set_permissions(meta.permissions())?;
        keep_owner(&tmp, &meta)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &target)?;
        // The rename is durable once the folder is flushed too.
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(fail)
}

/// Gives `tmp` the owner and group of the file it replaces, when they
/// differ (a root-owned file with a service's group): refusing to replace
/// it otherwise, so the service keeps reading its config.
fn keep_owner(tmp: &Path, original: &std::fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let now = std::fs::metadata(tmp)?;
    if (now.uid(), now.gid()) == (original.uid(), original.gid()) {
        return Ok(());
    }
    std::os::unix::fs::chown(tmp, Some(original.uid()), Some(original.gid())).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!(
                "cannot give the new file the owner {}:{} of the old one ({e}); run as that user or as root",
                original.uid(),
                original.gid()
            ),
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const FILE: &str = r#"# Tributary config — hand-written
[daemon]
listen   = "127.0.0.1:8080"   # the usual port
schedule = '*/15 * * * *'

# --- sources ---
[[source]]
name = "alpha"  # first
url = "https://a.example.org/feed"
tags = [ "x",
  "y" ]

[[source]]
  name = "beta"
  url = "https://b.example.org/rss"
# trailing note about beta

# --- outputs ---
[[output]]
name = "x"
tags = ["x"]
"#;

    fn new(name: &str) -> NewSource {
        NewSource {
            name: name.into(),
            url: "https://c.example.org/atom.xml".into(),
            tags: vec!["news".into(), "it".into()],
            comment: Some("Gamma\nNews".into()),
        }
    }

    #[test]
    fn added_source_goes_after_the_last_one_and_every_other_byte_stays() {
        let out = append_source(FILE, Path::new("t.toml"), &new("gamma")).unwrap();
        let block = "\n# Gamma News\n[[source]]\nname = \"gamma\"\nurl = \"https://c.example.org/atom.xml\"\ntags = [\"news\", \"it\"]\n";
        let at = out.find(block).unwrap_or_else(|| panic!("{out}"));
        let mut without = out.clone();
        without.replace_range(at..at + block.len(), "");
        assert_eq!(without, FILE, "{out}");
        assert!(at < out.find("[[output]]").unwrap(), "{out}");
        assert!(at > out.find("name = \"beta\"").unwrap(), "{out}");
        let parsed: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(parsed["source"].as_array().unwrap().len(), 3);
        assert_eq!(parsed["source"][2]["name"].as_str(), Some("gamma"));
    }

    #[test]
    fn first_source_is_appended_at_the_end() {
        let text = "# nothing yet\n[daemon]\nlisten = \"127.0.0.1:9000\"";
        let out = append_source(
            text,
            Path::new("t.toml"),
            &NewSource {
                name: "a".into(),
                url: "https://e.org/feed".into(),
                tags: vec![],
                comment: None,
            },
        )
        .unwrap();
        assert!(out.starts_with(text), "{out}");
        assert!(
            out.ends_with("\n[[source]]\nname = \"a\"\nurl = \"https://e.org/feed\"\n"),
            "{out:?}"
        );
        let parsed: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(parsed["source"][0]["url"].as_str(), Some("https://e.org/feed"));
    }

    #[test]
    fn an_inline_list_of_sources_gets_one_more() {
        let text = "source = [{ name = \"a\", url = \"https://e.org/a\" }]\n";
        let out = append_source(text, Path::new("t.toml"), &new("b")).unwrap();
        let parsed: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(parsed["source"][1]["name"].as_str(), Some("b"));
        let err = append_source("source = 3\n", Path::new("t.toml"), &new("b")).unwrap_err();
        assert!(err.to_string().contains("not a list of [[source]] blocks"), "{err}");
    }

    #[test]
    fn values_are_quoted_as_toml_strings() {
        let mut s = new("q");
        s.url = "https://e.org/feed?a=\"1\"&b=\\".into();
        let out = append_source("", Path::new("t.toml"), &s).unwrap();
        let parsed: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(parsed["source"][0]["url"].as_str(), Some(s.url.as_str()));
    }

    #[test]
    fn write_config_keeps_the_mode_and_follows_a_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.toml");
        std::fs::write(&real, "a = 1\n").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_config(&link, "a = 2\n").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "a = 2\n");
        assert_eq!(std::fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o640);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
    }
}
