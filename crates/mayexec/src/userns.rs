//! Which user namespace this process runs in, and who a file's owner is
//! from the host's point of view.
//!
//! Inside a user namespace, `stat` shows owners translated into the
//! namespace: a file of host root shows as the overflow uid (65534) when host
//! root is not mapped, and a file of an unprivileged host user can show as
//! uid 0. The system policy file is trusted only if its owner is host root
//! (or, where host root is not mapped, an id the namespace's users cannot
//! own: see [`Owner::Unmapped`]).
//!
//! How host root appears here is read from the kernel, not from the uid map:
//! every nsfs inode (`/proc/self/ns/user`) is owned by host root, and `fstat`
//! translates that owner into the caller's namespace. The uid map alone
//! cannot say it: its second column is relative to the *parent* namespace,
//! which in a nested namespace is itself someone's namespace. The map is
//! still read to know which ids the namespace maps (an id that is mapped
//! belongs to someone the namespace's owner chose).
//!
//! The namespace is the initial one exactly when the uid map is the
//! identity over the whole range (`0 0 4294967295`): only a namespace whose
//! parent maps every id can map that range, so ids there equal host ids.

use std::fmt;
use std::io::{self, Read};
use std::os::fd::OwnedFd;

use rustix::fs::{fstat, fstatfs, open, Mode, OFlags};

use crate::uapi::magic;

/// The uid map of a namespace whose ids are the host's.
const IDENTITY: Extent = Extent {
    inside: 0,
    outside: 0,
    count: u32::MAX,
};

/// One line of `/proc/self/uid_map`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Extent {
    inside: u32,
    outside: u32,
    count: u32,
}

/// The calling process's user namespace, as far as owners of files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserNamespace {
    extents: Vec<Extent>,
    /// How host root's files appear here.
    host_root: u32,
    /// `/proc/sys/kernel/overflowuid`: how unmapped owners appear here.
    overflow: u32,
}

/// Who owns a file, from the host's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Owner {
    /// Host root (uid 0 of the initial user namespace).
    HostRoot,
    /// An id this namespace does not map (shown as the overflow uid): host
    /// root, or a host user outside the namespace. No user of the namespace
    /// can create such a file or chown to it, and none can write it unless
    /// its mode lets group or others write. Trusted when it is not group or
    /// other writable: that is what a rootless container that bind-mounts
    /// the host's `/etc` sees.
    Unmapped,
    /// An id the namespace maps, other than host root: a user the
    /// namespace's owner chose (often the owner itself, as uid 0).
    NamespaceUser,
    /// The overflow uid, which this namespace also maps: an unmapped owner
    /// and that namespace user look the same, so it is not trusted.
    Ambiguous,
}

impl UserNamespace {
    /// Reads the calling process's namespace from `/proc` (which must be
    /// mounted; an error is a reason to refuse, not to trust).
    pub fn current() -> io::Result<UserNamespace> {
        let map = read_proc("/proc/self/uid_map", magic::PROC)?;
        let extents = parse_uid_map(&map).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("/proc/self/uid_map: {e}"),
            )
        })?;
        let ns = open_checked("/proc/self/ns/user", magic::NSFS)?;
        let host_root = fstat(&ns)
            .map_err(|e| with_path("/proc/self/ns/user", e.into()))?
            .st_uid;
        let overflow = if extents == [IDENTITY] {
            // Nothing is unmapped in the initial namespace.
            u32::MAX
        } else {
            let text = read_proc("/proc/sys/kernel/overflowuid", magic::PROC)?;
            text.trim().parse().map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("/proc/sys/kernel/overflowuid: {text:?}: {e}"),
                )
            })?
        };
        Ok(UserNamespace {
            extents,
            host_root,
            overflow,
        })
    }

    /// Is this the initial user namespace (ids are the host's)?
    pub fn is_initial(&self) -> bool {
        self.extents == [IDENTITY]
    }

    /// How host root's files appear here: 0 in the initial namespace and
    /// in one that maps root to root, the overflow uid where it is unmapped.
    pub fn host_root_uid(&self) -> u32 {
        self.host_root
    }

    /// The overflow uid (how unmapped owners appear), outside the initial
    /// namespace.
    pub fn overflow_uid(&self) -> Option<u32> {
        (!self.is_initial()).then_some(self.overflow)
    }

    fn maps(&self, uid: u32) -> bool {
        self.extents
            .iter()
            .any(|e| uid >= e.inside && uid - e.inside < e.count)
    }

    /// Who a file owned by `uid` (as `stat` shows it here) belongs to.
    pub fn owner(&self, uid: u32) -> Owner {
        if self.is_initial() {
            return if uid == 0 {
                Owner::HostRoot
            } else {
                Owner::NamespaceUser
            };
        }
        // The overflow uid first: when the namespace maps it, host root seen
        // as the overflow uid may be unmapped or mapped there; no telling.
        if uid == self.overflow {
            return if self.maps(uid) {
                Owner::Ambiguous
            } else {
                Owner::Unmapped
            };
        }
        if uid == self.host_root && self.maps(uid) {
            return Owner::HostRoot;
        }
        Owner::NamespaceUser
    }
}

impl fmt::Display for UserNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_initial() {
            return f.write_str("the initial user namespace");
        }
        f.write_str("a user namespace (uid map")?;
        for e in &self.extents {
            write!(f, " {}:{}:{}", e.inside, e.outside, e.count)?;
        }
        if self.maps(self.host_root) {
            write!(f, "; host root is uid {})", self.host_root)
        } else {
            write!(f, "; host root is not mapped)")
        }
    }
}

fn parse_uid_map(text: &str) -> Result<Vec<Extent>, String> {
    let extents = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let numbers: Vec<u32> = line
                .split_whitespace()
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("{line:?}: {e}"))?;
            match numbers[..] {
                [inside, outside, count] => Ok(Extent {
                    inside,
                    outside,
                    count,
                }),
                _ => Err(format!("{line:?}: expected three numbers")),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    // An empty map (not written yet) maps nothing: every owner is unmapped.
    Ok(extents)
}

fn with_path(path: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{path}: {e}"))
}

/// Opens a kernel file and makes sure it is on the expected filesystem:
/// a mount over `/proc` in a namespace of one's own must not stand in for it.
fn open_checked(path: &str, fs_magic: u32) -> io::Result<OwnedFd> {
    let fd = open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| with_path(path, e.into()))?;
    let statfs = fstatfs(&fd).map_err(|e| with_path(path, e.into()))?;
    if statfs.f_type as u32 != fs_magic {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{path}: not on the expected kernel filesystem (f_type {:#x})",
                statfs.f_type
            ),
        ));
    }
    Ok(fd)
}

fn read_proc(path: &str, fs_magic: u32) -> io::Result<String> {
    let fd = open_checked(path, fs_magic)?;
    let mut text = String::new();
    std::fs::File::from(fd)
        .take(64 * 1024)
        .read_to_string(&mut text)
        .map_err(|e| with_path(path, e))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(map: &str, host_root: u32) -> UserNamespace {
        UserNamespace {
            extents: parse_uid_map(map).unwrap(),
            host_root,
            overflow: 65534,
        }
    }

    #[test]
    fn the_identity_map_is_the_initial_namespace() {
        let ns = ns("         0          0 4294967295\n", 0);
        assert!(ns.is_initial());
        assert_eq!(ns.owner(0), Owner::HostRoot);
        assert_eq!(ns.owner(65534), Owner::NamespaceUser);
    }

    #[test]
    fn owners_in_a_rootless_namespace() {
        let ns = ns("0 1000 1\n", 65534);
        assert!(!ns.is_initial());
        assert_eq!(ns.owner(0), Owner::NamespaceUser);
        assert_eq!(ns.owner(65534), Owner::Unmapped);
    }

    #[test]
    fn a_mapped_overflow_uid_is_ambiguous() {
        let ns = ns("0 1000 1\n1 100000 65536\n", 65534);
        assert_eq!(ns.owner(65534), Owner::Ambiguous);
        assert_eq!(ns.owner(1), Owner::NamespaceUser);
    }

    #[test]
    fn root_mapped_to_root_is_host_root() {
        let ns = ns("0 0 1\n", 0);
        assert_eq!(ns.owner(0), Owner::HostRoot);
    }

    #[test]
    fn a_nested_root_to_root_map_is_not_host_root() {
        // `unshare -Ur unshare -Ur` as a user: the map says 0 0 1, but the
        // kernel shows host root's files as the overflow uid.
        let ns = ns("0 0 1\n", 65534);
        assert_eq!(ns.owner(0), Owner::NamespaceUser);
        assert_eq!(ns.owner(65534), Owner::Unmapped);
    }
}
