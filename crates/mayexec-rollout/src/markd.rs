//! The trees kept marked across package upgrades: `/etc/mayexec/mark.d`.
//!
//! Package upgrades install files mode 0644 again, so a tree marked with
//! `mayexec mark` falls out of a level 2/3 policy at the next `apt upgrade`.
//! Each `*.conf` file in the directory lists trees, one absolute path a
//! line (`#` starts a comment); `mayexec mark --config` and the apt hook
//! mark them all again, with a journal in [`JOURNAL_DIR`].
//!
//! The list decides which files root changes the mode of, so it is trusted
//! as the policy file is: the directory, every directory above it and
//! every file must be owned by root (or by whoever runs the command) and
//! not writable by group or others (a directory above may be, with the
//! sticky bit, as /tmp is: nobody else can then rename what is in it);
//! symlinked lists and anything but regular files are refused. Any fault
//! refuses the whole configuration (nothing is marked), never only a part.

use std::ffi::OsStr;
use std::fs::File;
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{fstat, openat, Dir, FileType, Mode, OFlags, CWD};

/// Where the packages look for the lists of trees.
pub const MARK_D: &str = "/etc/mayexec/mark.d";
/// Where `mark --config` keeps its journals (one per run that changed
/// something), so that every change of the apt hook can be undone.
pub const JOURNAL_DIR: &str = "/var/lib/mayexec/mark";
/// The largest list file read.
const MAX_LIST_BYTES: u64 = 64 * 1024;

/// Why the configuration cannot be used. Every message names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MarkdError {
    /// Opening, reading or listing failed.
    #[error("{}: {source}", path.display())]
    Read {
        /// The directory or file.
        path: PathBuf,
        /// The failing call's error.
        #[source]
        source: std::io::Error,
    },
    /// Someone other than root (or the caller) could change the list.
    #[error("{}: untrusted: {why}", path.display())]
    Untrusted {
        /// The directory or file.
        path: PathBuf,
        /// What is wrong.
        why: &'static str,
    },
    /// A line that is not an absolute path.
    #[error("{}:{line}: not an absolute path: {text:?}", path.display())]
    NotAbsolute {
        /// The list file.
        path: PathBuf,
        /// Its line number, from 1.
        line: usize,
        /// The line as written.
        text: String,
    },
}

fn read_error(path: &Path) -> impl FnOnce(rustix::io::Errno) -> MarkdError + '_ {
    move |e| MarkdError::Read {
        path: path.to_owned(),
        source: e.into(),
    }
}

fn trusted(fd: impl AsFd, path: &Path, kind: FileType) -> Result<(), MarkdError> {
    let st = fstat(fd).map_err(read_error(path))?;
    owner_and_mode(&st, path, kind, false)
}

/// Whoever could replace the directory could write the list: every
/// directory above it must be trusted too.
fn ancestors_trusted(dir: &Path) -> Result<(), MarkdError> {
    let real = std::fs::canonicalize(dir).map_err(|source| MarkdError::Read {
        path: dir.to_owned(),
        source,
    })?;
    for above in real.ancestors().skip(1) {
        let st = rustix::fs::stat(above).map_err(read_error(above))?;
        owner_and_mode(&st, above, FileType::Directory, true)?;
    }
    Ok(())
}

fn owner_and_mode(
    st: &rustix::fs::Stat,
    path: &Path,
    kind: FileType,
    sticky_ok: bool,
) -> Result<(), MarkdError> {
    let untrusted = |why| MarkdError::Untrusted {
        path: path.to_owned(),
        why,
    };
    if FileType::from_raw_mode(st.st_mode) != kind {
        return Err(untrusted(if kind == FileType::Directory {
            "not a directory"
        } else {
            "not a regular file"
        }));
    }
    if st.st_uid != 0 && st.st_uid != rustix::process::geteuid().as_raw() {
        return Err(untrusted("owned by another user than root or you"));
    }
    if st.st_mode & 0o022 != 0 && !(sticky_ok && st.st_mode & 0o1000 != 0) {
        return Err(untrusted("writable by group or others"));
    }
    Ok(())
}

/// The trees listed in `dir/*.conf`, files in name order, lines in file
/// order, each once. A missing directory lists nothing.
///
/// # Errors
/// Any unreadable or untrusted file, and any line that is not blank, a
/// comment or an absolute path: the whole configuration is refused.
pub fn read_trees(dir: &Path) -> Result<Vec<PathBuf>, MarkdError> {
    let dir_fd = match openat(
        CWD,
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(Vec::new()),
        Err(e) => return Err(read_error(dir)(e)),
    };
    trusted(&dir_fd, dir, FileType::Directory)?;
    ancestors_trusted(dir)?;
    let mut names = Vec::new();
    for entry in Dir::read_from(&dir_fd).map_err(read_error(dir))? {
        let entry = entry.map_err(read_error(dir))?;
        let name = OsStr::from_bytes(entry.file_name().to_bytes()).to_owned();
        let bytes = name.as_bytes();
        if bytes.ends_with(b".conf") && !bytes.starts_with(b".") {
            names.push(name);
        }
    }
    names.sort();
    let mut trees: Vec<PathBuf> = Vec::new();
    for name in names {
        let path = dir.join(&name);
        let fd = openat(
            &dir_fd,
            name.as_os_str(),
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(read_error(&path))?;
        trusted(&fd, &path, FileType::RegularFile)?;
        let mut text = String::new();
        File::from(fd)
            .take(MAX_LIST_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|source| MarkdError::Read {
                path: path.clone(),
                source,
            })?;
        if text.len() as u64 > MAX_LIST_BYTES {
            return Err(MarkdError::Untrusted {
                path,
                why: "larger than 64 KiB",
            });
        }
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let tree = Path::new(line);
            if !tree.is_absolute() {
                return Err(MarkdError::NotAbsolute {
                    path,
                    line: i + 1,
                    text: line.to_owned(),
                });
            }
            if !trees.iter().any(|t| t == tree) {
                trees.push(tree.to_owned());
            }
        }
    }
    Ok(trees)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn write(dir: &Path, name: &str, text: &str, mode: u32) {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn lists_trees_in_file_order_once_and_skips_comments_and_other_names() {
        let dir = mayexec_testkit::TempDir::new();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        write(
            dir.path(),
            "20-app.conf",
            "/srv/app\n/usr/lib/python3.11\n",
            0o644,
        );
        write(
            dir.path(),
            "10-py.conf",
            "# python\n\n  /usr/lib/python3.11  \n",
            0o644,
        );
        write(dir.path(), "notes.txt", "relative\n", 0o644);
        write(dir.path(), ".hidden.conf", "relative\n", 0o644);
        let trees = read_trees(dir.path()).unwrap();
        assert_eq!(
            trees,
            [
                PathBuf::from("/usr/lib/python3.11"),
                PathBuf::from("/srv/app")
            ]
        );
    }

    #[test]
    fn a_missing_directory_lists_nothing() {
        let dir = mayexec_testkit::TempDir::new();
        assert!(read_trees(&dir.path().join("absent")).unwrap().is_empty());
    }

    #[test]
    fn refuses_relative_paths_and_writable_lists_whole() {
        let dir = mayexec_testkit::TempDir::new();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        write(dir.path(), "a.conf", "/ok\nsrv/app\n", 0o644);
        let e = read_trees(dir.path()).unwrap_err();
        assert!(matches!(e, MarkdError::NotAbsolute { line: 2, .. }), "{e}");
        write(dir.path(), "a.conf", "/ok\n", 0o666);
        let e = read_trees(dir.path()).unwrap_err();
        assert!(e.to_string().contains("writable by group or others"), "{e}");
        write(dir.path(), "a.conf", "/ok\n", 0o644);
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("b.conf")).unwrap();
        assert!(
            read_trees(dir.path()).is_err(),
            "a symlinked list is refused"
        );
        std::fs::remove_file(dir.path().join("b.conf")).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = read_trees(dir.path()).unwrap_err();
        assert!(e.to_string().contains("writable by group or others"), "{e}");
    }

    #[test]
    fn refuses_a_list_below_a_directory_others_may_write() {
        let top = mayexec_testkit::TempDir::new();
        let conf = top.path().join("mark.d");
        std::fs::create_dir(&conf).unwrap();
        std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o755)).unwrap();
        write(&conf, "a.conf", "/ok\n", 0o644);
        std::fs::set_permissions(top.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(read_trees(&conf).unwrap(), [PathBuf::from("/ok")]);
        std::fs::set_permissions(top.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert_eq!(
            read_trees(&conf).unwrap(),
            [PathBuf::from("/ok")],
            "sticky: as /tmp"
        );
        std::fs::set_permissions(top.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = read_trees(&conf).unwrap_err();
        assert!(e.to_string().contains("writable by group or others"), "{e}");
        assert!(
            e.to_string().starts_with(&top.path().display().to_string()),
            "{e}"
        );
    }
}
