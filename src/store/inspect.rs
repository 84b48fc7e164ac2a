//! The read-only look at an existing file that decides whether
//! [`Store::open`](super::Store::open) may write to it (the rule is in the
//! module documentation of [`store`](super)).
//!
//! Nothing here writes: the header is read with a plain read-only file
//! handle, and the schema through an SQLite connection opened read-only.
//! That connection reads the file as `immutable` (no locks, no `-wal` or
//! `-shm` created, no hot journal rolled back) unless the file is in WAL
//! mode and its `-wal` already exists: then the log must be read too (a
//! store whose last commits were not yet copied into the file), so the
//! connection is a normal read-only one, with checkpoint-on-close off.

use std::io::Read;
use std::path::Path;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use super::files::sidecar;
use super::{APPLICATION_ID, StoreError, migrations, schema_version};

/// What the look found in a file that passed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Tributary's application id: open and migrate.
    Ours,
    /// A store written by a release before the application id: stamp it, then migrate.
    Adopt,
}

/// The header and schema of an existing SQLite file.
#[derive(Debug)]
struct Look {
    application_id: u32,
    user_version: i64,
    /// Tables, views and triggers, without SQLite's own, sorted.
    objects: Vec<String>,
}

/// Bytes SQLite's header starts with.
const MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Decides, without writing anything, whether the existing file at `path`
/// may be opened as a store.
pub(crate) fn judge(path: &Path) -> Result<Verdict, StoreError> {
    let look = look(path)?;
    let known = schema_version();
    let not_ours = |what: String| StoreError::NotOurs {
        path: path.to_path_buf(),
        detail: format!(
            "{what}; it has application_id {} and user_version {} (Tributary's stores have application_id {} and user_version 0 to {known})",
            show_id(look.application_id),
            look.user_version,
            show_id(APPLICATION_ID)
        ),
    };
    let newer = || StoreError::NewerSchema {
        path: path.to_path_buf(),
        found: usize::try_from(look.user_version).unwrap_or(usize::MAX),
        known,
    };
    if look.application_id == APPLICATION_ID {
        return match usize::try_from(look.user_version) {
            Ok(v) if v <= known => Ok(Verdict::Ours),
            Ok(_) => Err(newer()),
            Err(_) => Err(not_ours("a negative schema version".into())),
        };
    }
    if look.application_id != 0 {
        return Err(not_ours("it belongs to another application".into()));
    }
    let version = match usize::try_from(look.user_version) {
        Ok(0) if look.objects.is_empty() => {
            return Err(not_ours(
                "an SQLite database without tables that Tributary did not create (if it is meant as the store, delete it and Tributary creates a new one)".into(),
            ));
        }
        Ok(0) => {
            return Err(not_ours(format!(
                "it holds {} but no Tributary schema",
                list(&look.objects)
            )));
        }
        Ok(v) if v <= known => v,
        _ => return Err(not_ours(format!("it holds {}", list(&look.objects)))),
    };
    let expected = objects_at(version).map_err(|detail| StoreError::Migration {
        path: path.to_path_buf(),
        detail,
    })?;
    if look.objects == expected {
        Ok(Verdict::Adopt)
    } else {
        Err(not_ours(format!(
            "it holds {}, not the tables of Tributary's schema version {version} ({})",
            list(&look.objects),
            expected.join(", ")
        )))
    }
}

/// `0x54524942 ("TRIB")`, or the number alone when it is not text.
fn show_id(id: u32) -> String {
    let bytes = id.to_be_bytes();
    if bytes.iter().all(|b| b.is_ascii_graphic()) {
        format!("{id:#010x} (\"{}\")", String::from_utf8_lossy(&bytes))
    } else {
        format!("{id:#010x}")
    }
}

/// Names a few objects, for an error message.
fn list(objects: &[String]) -> String {
    const SHOWN: usize = 6;
    let mut text = objects.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if objects.len() > SHOWN {
        text.push_str(&format!(" and {} more", objects.len() - SHOWN));
    }
    format!("the tables {text}")
}

/// The tables, views and triggers Tributary's migrations create up to `version`.
fn objects_at(version: usize) -> Result<Vec<String>, String> {
    let mut conn = Connection::open_in_memory().map_err(|e| e.to_string())?;
    migrations().to_version(&mut conn, version).map_err(|e| e.to_string())?;
    objects(&conn).map_err(|e| e.to_string())
}

fn objects(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut st = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view', 'trigger')
           AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )?;
    st.query_map([], |r| r.get(0))?.collect()
}

fn look(path: &Path) -> Result<Look, StoreError> {
    let open_err = |e: std::io::Error| StoreError::Open {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    let not_sqlite = || StoreError::NotOurs {
        path: path.to_path_buf(),
        detail: "the file is not an SQLite database, or is encrypted or corrupt".into(),
    };
    let mut file = std::fs::File::open(path).map_err(open_err)?;
    if file.metadata().map_err(open_err)?.len() == 0 {
        return Err(StoreError::Empty {
            path: path.to_path_buf(),
        });
    }
    let mut header = [0u8; 100];
    file.read_exact(&mut header).map_err(|_| not_sqlite())?;
    drop(file);
    if &header[..16] != MAGIC {
        return Err(not_sqlite());
    }
    // Bytes 18 and 19 are 2 in WAL mode; only then can a log hold newer pages.
    let wal_mode = header[18] == 2 && header[19] == 2;
    let with_log = wal_mode && sidecar(path, "-wal").exists();
    let conn = if with_log {
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
    } else {
        let uri = immutable_uri(path).map_err(open_err)?;
        Connection::open_with_flags(
            uri,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
    };
    let sql_err = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => not_sqlite(),
        _ => StoreError::Open {
            path: path.to_path_buf(),
            detail: format!("cannot read it: {e}{}", super::hint(&e)),
        },
    };
    let conn = conn.map_err(sql_err)?;
    if with_log {
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .map_err(sql_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(sql_err)?;
    }
    let application_id: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(sql_err)?;
    let user_version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sql_err)?;
    let objects = objects(&conn).map_err(sql_err)?;
    Ok(Look {
        // SQLite reports the 32-bit field as a signed number.
        application_id: application_id as i32 as u32,
        user_version,
        objects,
    })
}

/// A `file:` URI that opens `path` immutable: read as it is, without locks
/// or any file beside it.
fn immutable_uri(path: &Path) -> std::io::Result<String> {
    let absolute = std::path::absolute(path)?;
    let url = url::Url::from_file_path(&absolute)
        .map_err(|()| std::io::Error::other(format!("{} cannot be written as a URI", absolute.display())))?;
    Ok(format!("{url}?immutable=1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_ids_are_shown_as_text_when_they_are() {
        assert_eq!(show_id(APPLICATION_ID), "0x54524942 (\"TRIB\")");
        assert_eq!(show_id(0), "0x00000000");
    }
}
