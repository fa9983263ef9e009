//! Execute permission from the file's owner, mode and POSIX ACL, as the
//! kernel's `generic_permission` decides it.
//!
//! Needed for one case only: the RFC's level 2 ("the file must be
//! executable", mount ignored) on a `noexec` mount, where `faccessat2(X_OK)`
//! always fails because the kernel folds the mount into its answer. Unlike
//! `faccessat2`, this does not consult LSM inode hooks.

use std::os::fd::{AsRawFd, BorrowedFd};

use rustix::fs::{fgetxattr, getxattr, Stat};
use rustix::process::{getegid, geteuid, getgroups};
use rustix::thread::{capabilities, CapabilitySet};

use crate::uapi::Errno;

const S_IXUGO: u32 = 0o111;
const ACL_XATTR: &str = "system.posix_acl_access";
const ACL_USER_OBJ: u16 = 0x01;
const ACL_USER: u16 = 0x02;
const ACL_GROUP_OBJ: u16 = 0x04;
const ACL_GROUP: u16 = 0x08;
const ACL_MASK: u16 = 0x10;
const ACL_OTHER: u16 = 0x20;
const MAY_EXEC: u16 = 1;

/// May the caller's effective (file-system) credentials execute the file,
/// judging by owner, mode, ACL and `CAP_DAC_OVERRIDE` alone?
pub(super) fn may_execute(fd: BorrowedFd<'_>, stat: &Stat) -> Result<bool, Errno> {
    let uid = geteuid().as_raw();
    let mode = stat.st_mode;
    let allowed = if stat.st_uid == uid {
        mode & 0o100 != 0
    } else {
        let groups = Groups::of_caller()?;
        match (mode & 0o070 != 0)
            .then(|| read_acl(fd))
            .transpose()?
            .flatten()
        {
            Some(acl) => acl_allows_exec(&acl, uid, stat.st_gid, &groups)?,
            None if groups.contains(stat.st_gid) => mode & 0o010 != 0,
            None => mode & 0o001 != 0,
        }
    };
    // CAP_DAC_OVERRIDE executes anything with at least one execute bit.
    Ok(allowed
        || (mode & S_IXUGO != 0
            && capabilities(None)?
                .effective
                .contains(CapabilitySet::DAC_OVERRIDE)
            && ids_mapped(stat)))
}

struct Groups {
    egid: u32,
    supplementary: Vec<u32>,
}

impl Groups {
    fn of_caller() -> Result<Groups, Errno> {
        Ok(Groups {
            egid: getegid().as_raw(),
            supplementary: getgroups()?.into_iter().map(|g| g.as_raw()).collect(),
        })
    }

    fn contains(&self, gid: u32) -> bool {
        self.egid == gid || self.supplementary.contains(&gid)
    }
}

/// One ACL entry: tag, permission bits, user or group ID.
type AclEntry = (u16, u16, u32);

/// The access ACL's entries, or `None` when there is none.
fn read_acl(fd: BorrowedFd<'_>) -> Result<Option<Vec<AclEntry>>, Errno> {
    let mut buf = vec![0u8; 4096];
    let len = match fgetxattr(fd, ACL_XATTR, &mut buf[..]) {
        // An O_PATH descriptor has no xattr operations; its magic link does.
        Err(Errno::BADF) => getxattr(
            format!("/proc/self/fd/{}", fd.as_raw_fd()),
            ACL_XATTR,
            &mut buf[..],
        ),
        other => other,
    };
    let len = match len {
        Ok(len) => len,
        Err(Errno::NODATA) | Err(Errno::OPNOTSUPP) => return Ok(None),
        Err(errno) => return Err(errno),
    };
    let bytes = &buf[..len];
    // Header: version 2 (little endian u32), then 8-byte entries.
    if bytes.len() < 4 || u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes")) != 2 {
        return Err(Errno::IO);
    }
    let entries = bytes[4..]
        .chunks_exact(8)
        .map(|e| {
            (
                u16::from_le_bytes([e[0], e[1]]),
                u16::from_le_bytes([e[2], e[3]]),
                u32::from_le_bytes([e[4], e[5], e[6], e[7]]),
            )
        })
        .collect();
    Ok(Some(entries))
}

/// The kernel's `posix_acl_permission` for `MAY_EXEC`, for a caller that
/// does not own the file.
fn acl_allows_exec(
    acl: &[AclEntry],
    uid: u32,
    file_gid: u32,
    groups: &Groups,
) -> Result<bool, Errno> {
    let mask = acl
        .iter()
        .find(|(tag, _, _)| *tag == ACL_MASK)
        .map(|(_, perm, _)| *perm);
    let masked = |perm: u16| perm & mask.unwrap_or(0o7) & MAY_EXEC != 0;
    let mut in_a_group = false;
    for &(tag, perm, id) in acl {
        match tag {
            ACL_USER_OBJ | ACL_MASK => {}
            ACL_USER if id == uid => return Ok(masked(perm)),
            ACL_GROUP_OBJ | ACL_GROUP => {
                let gid = if tag == ACL_GROUP_OBJ { file_gid } else { id };
                if groups.contains(gid) {
                    in_a_group = true;
                    if perm & MAY_EXEC != 0 {
                        return Ok(masked(perm));
                    }
                }
            }
            ACL_OTHER => return Ok(!in_a_group && perm & MAY_EXEC != 0),
            _ => {}
        }
    }
    // An ACL without an "other" entry is corrupt.
    Err(Errno::IO)
}

/// `capable_wrt_inode_uidgid`: a capability only covers files whose owner
/// and group are mapped into the caller's user namespace. Unmapped IDs show
/// up as the overflow IDs, which only exist outside the initial namespace.
fn ids_mapped(stat: &Stat) -> bool {
    let initial_namespace = std::fs::read_to_string("/proc/self/uid_map")
        .map(|map| map.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
        .unwrap_or(true);
    if initial_namespace {
        return true;
    }
    let overflow = |what: &str| {
        std::fs::read_to_string(format!("/proc/sys/kernel/{what}"))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .unwrap_or(65534)
    };
    stat.st_uid != overflow("overflowuid") && stat.st_gid != overflow("overflowgid")
}
