//! Recognising an interpreter by the Debian package that installed it:
//! `/usr/bin/perl5.36-x86_64-linux-gnu` comes from perl, `/bin/bash-static`
//! from bash, whatever their names say.
//!
//! dpkg's database is read, not run: `status` once (which binary packages
//! are built from which source package), then the file lists
//! (`info/PACKAGE.list`) of the packages built from an interpreter's
//! source only. A listed file is matched to a walked one by its inode, so
//! `/bin/bash-static` in the list is `/usr/bin/bash-static` on a
//! merged-/usr system; only listed names that the walk left unknown are
//! looked at.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::inventory::Kind;

/// dpkg's database.
pub const DPKG_ADMIN_DIR: &str = "/var/lib/dpkg";

/// Source packages of interpreters, by name without its version
/// (`python3.11` → `python`, `guile-3.0` → `guile`, `lua5.4` → `lua`).
const SOURCES: &[(&str, Kind)] = &[
    ("bash", Kind::Shell),
    ("dash", Kind::Shell),
    ("zsh", Kind::Shell),
    ("mksh", Kind::Shell),
    ("busybox", Kind::Shell),
    ("ksh93u+m", Kind::Shell),
    ("yash", Kind::Shell),
    ("posh", Kind::Shell),
    ("fish", Kind::Shell),
    ("tcsh", Kind::Shell),
    ("python", Kind::Python),
    ("pypy", Kind::Python),
    ("perl", Kind::Perl),
    ("ruby", Kind::Ruby),
    ("mruby", Kind::Ruby),
    ("nodejs", Kind::Node),
    ("quickjs", Kind::Node),
    ("duktape", Kind::Node),
    ("gjs", Kind::Node),
    ("lua", Kind::Lua),
    ("luajit", Kind::Lua),
    ("tcl", Kind::Tcl),
    ("tk", Kind::Tcl),
    ("jimtcl", Kind::Tcl),
    ("expect", Kind::Tcl),
    ("php", Kind::Php),
    ("gawk", Kind::Awk),
    ("mawk", Kind::Awk),
    ("original-awk", Kind::Awk),
    ("guile", Kind::OtherLanguage),
    ("r-base", Kind::OtherLanguage),
    ("julia", Kind::OtherLanguage),
    ("openjdk", Kind::OtherLanguage),
];

/// Programs those packages also ship that run no code: bash's
/// `clear_console`, Lua's compiler `luac5.4`, QuickJS's compiler `qjsc`,
/// the JDK's process launcher `jspawnhelper`.
const HELPERS: &[&str] = &["clear_console", "luac", "qjsc", "jspawnhelper"];

/// A file's package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The binary package.
    pub package: String,
    /// Its source package.
    pub source: String,
    /// The family of the source.
    pub kind: Kind,
}

/// The family of a source package, if it is an interpreter's.
fn source_kind(source: &str) -> Option<Kind> {
    let stem = source
        .trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')
        .trim_end_matches('-');
    SOURCES
        .iter()
        .find(|(name, _)| *name == stem || *name == source)
        .map(|(_, kind)| *kind)
}

/// The files of interpreters' packages whose names are in `names`, by
/// device and inode. No dpkg database (another distribution): empty.
pub fn owners(admin_dir: &Path, names: &BTreeSet<Vec<u8>>) -> HashMap<(u64, u64), Owner> {
    let mut owners = HashMap::new();
    if names.is_empty() {
        return owners;
    }
    let Ok(status) = fs::read_to_string(admin_dir.join("status")) else {
        return owners;
    };
    for paragraph in status.split("\n\n") {
        let field = |name: &str| {
            paragraph.lines().find_map(|l| {
                l.strip_prefix(name)
                    .and_then(|v| v.strip_prefix(':'))
                    .map(str::trim)
            })
        };
        let (Some(package), Some(state)) = (field("Package"), field("Status")) else {
            continue;
        };
        if !state.ends_with(" installed") {
            continue;
        }
        // `Source: perl`, or `Source: python3.11 (3.11.2-6)`; none when
        // the binary package has its source's name.
        let source = field("Source")
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or(package);
        let Some(kind) = source_kind(source) else {
            continue;
        };
        let arch = field("Architecture").unwrap_or("");
        let info = admin_dir.join("info");
        let Ok(list) = fs::read_to_string(info.join(format!("{package}.list")))
            .or_else(|_| fs::read_to_string(info.join(format!("{package}:{arch}.list"))))
        else {
            continue;
        };
        for path in list.lines().map(Path::new) {
            let Some(name) = path.file_name() else {
                continue;
            };
            let name = name.as_bytes();
            if !names.contains(name) || HELPERS.iter().any(|h| name.starts_with(h.as_bytes())) {
                continue;
            }
            if let Ok(meta) = fs::metadata(path) {
                owners.insert(
                    (meta.dev(), meta.ino()),
                    Owner {
                        package: package.to_owned(),
                        source: source.to_owned(),
                        kind,
                    },
                );
            }
        }
    }
    owners
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_packages_of_interpreters_with_their_versions() {
        for (source, kind) in [
            ("python3.11", Some(Kind::Python)),
            ("guile-3.0", Some(Kind::OtherLanguage)),
            ("lua5.4", Some(Kind::Lua)),
            ("bash", Some(Kind::Shell)),
            ("openjdk-17", Some(Kind::OtherLanguage)),
            ("ruby3.1", Some(Kind::Ruby)),
            ("coreutils", None),
            ("python-apt", None),
            ("perl-tk", None),
        ] {
            assert_eq!(source_kind(source), kind, "{source}");
        }
    }

    #[test]
    fn files_are_matched_by_inode_and_helpers_left_out() {
        let dir = mayexec_testkit::TempDir::new();
        let lua = dir.write("lua5.4", b"x", 0o755);
        let luac = dir.write("luac5.4", b"x", 0o755);
        let ls = dir.write("ls", b"x", 0o755);
        let admin = dir.path().join("dpkg");
        fs::create_dir_all(admin.join("info")).unwrap();
        fs::write(
            admin.join("status"),
            "Package: lua5.4\nStatus: install ok installed\nArchitecture: amd64\n\n\
             Package: coreutils\nStatus: install ok installed\nArchitecture: amd64\n\n\
             Package: old-lua\nStatus: deinstall ok config-files\nSource: lua5.1\n",
        )
        .unwrap();
        fs::write(
            admin.join("info/lua5.4:amd64.list"),
            format!("/.\n{}\n{}\n", lua.display(), luac.display()),
        )
        .unwrap();
        fs::write(
            admin.join("info/coreutils.list"),
            format!("{}\n", ls.display()),
        )
        .unwrap();
        let names: BTreeSet<Vec<u8>> = [&b"lua5.4"[..], b"luac5.4", b"ls"]
            .map(<[u8]>::to_vec)
            .into();
        let found = owners(&admin, &names);
        let inode = |p: &Path| {
            let m = fs::metadata(p).unwrap();
            (m.dev(), m.ino())
        };
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[&inode(&lua)],
            Owner {
                package: "lua5.4".into(),
                source: "lua5.4".into(),
                kind: Kind::Lua
            }
        );
        assert!(owners(&dir.path().join("none"), &names).is_empty());
    }
}
