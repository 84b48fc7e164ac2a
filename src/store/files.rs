//! The files of a store, created private whatever the umask.
//!
//! The `sources` table holds feed URLs, some with credentials in them, so
//! every file Tributary creates for a store is its owner's alone: folders
//! it creates are 0700, the database and its backups 0600 (set with
//! `fchmod` after creation, since the umask can only take bits away and
//! could leave the owner without write access). SQLite creates the `-wal`
//! and `-shm` files itself with the database file's permissions. A folder
//! or database file that already exists keeps its mode: it is the
//! administrator's choice (a store made by an earlier release stays 0644
//! until someone runs `chmod 600` on it).

use std::fs::{File, OpenOptions, Permissions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Mode of the folders Tributary creates.
pub(crate) const FOLDER_MODE: u32 = 0o700;
/// Mode of the database and backup files Tributary creates.
pub(crate) const FILE_MODE: u32 = 0o600;

/// The folder `path` lives in (`.` for a bare file name).
pub(crate) fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `path` with `suffix` appended to its file name, as SQLite names the
/// `-wal`, `-shm` and `-journal` files.
pub(crate) fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Creates the missing folders above `path`, each 0700; folders that
/// already exist are left as they are.
pub(crate) fn create_folders(path: &Path) -> std::io::Result<()> {
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    let missing: Vec<&Path> = parent
        .ancestors()
        .take_while(|p| !p.as_os_str().is_empty() && !p.exists())
        .collect();
    for folder in missing.into_iter().rev() {
        match std::fs::DirBuilder::new().mode(FOLDER_MODE).create(folder) {
            Ok(()) => std::fs::set_permissions(folder, Permissions::from_mode(FOLDER_MODE))?,
            // Created by someone else meanwhile: theirs, mode and all.
            Err(e) if e.kind() == ErrorKind::AlreadyExists && folder.is_dir() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Creates `path` as a new, empty 0600 file; fails with `AlreadyExists` if
/// anything (a symlink included, dangling or not) is already there.
pub(crate) fn create_private(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)?;
    file.set_permissions(Permissions::from_mode(FILE_MODE))?;
    Ok(file)
}

/// Creates a new, empty 0600 file with a unique name beside `target`, for
/// writing something that is then moved onto `target`.
pub(crate) fn create_temp_beside(target: &Path) -> std::io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tributary".into());
    let folder = folder_of(target);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let mut last = None;
    for _ in 0..100 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = folder.join(format!(".{name}.{}-{nanos:08x}-{n}.tmp", std::process::id()));
        match create_private(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::from(ErrorKind::AlreadyExists)))
}

/// Flushes a folder's entries (a new or renamed file in it) to disk.
pub(crate) fn sync_folder(folder: &Path) -> std::io::Result<()> {
    File::open(folder)?.sync_all()
}

/// Removes a file on drop unless [`Cleanup::keep`] was called: the files
/// of a store or backup that could not be completed.
pub(crate) struct Cleanup {
    paths: Vec<PathBuf>,
}

impl Cleanup {
    pub(crate) fn new(paths: Vec<PathBuf>) -> Cleanup {
        Cleanup { paths }
    }

    /// Keeps the files.
    pub(crate) fn keep(mut self) {
        self.paths.clear();
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.paths {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn created_folders_are_0700_and_existing_ones_keep_their_mode() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("existing");
        std::fs::create_dir(&existing).unwrap();
        std::fs::set_permissions(&existing, Permissions::from_mode(0o755)).unwrap();
        create_folders(&existing.join("a/b/t.db")).unwrap();
        assert_eq!(mode(&existing), 0o755);
        assert_eq!(mode(&existing.join("a")), 0o700);
        assert_eq!(mode(&existing.join("a/b")), 0o700);
    }

    #[test]
    fn create_private_refuses_a_dangling_symlink_and_leaves_its_target_uncreated() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link");
        let target = dir.path().join("nowhere");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = create_private(&link).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
        assert!(!target.exists());
    }
}
