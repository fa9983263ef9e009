//! Which mounts the trust database is honoured on: the mount points the
//! policy lists (`trust_mounts`), resolved once per process to the mounts
//! they are now, and never a FUSE filesystem or a mount of a mount
//! namespace that a user namespace owns.
//!
//! A file's identity is only as good as its filesystem: ctime, inode and
//! size come from the filesystem's driver. A FUSE daemon reports whatever
//! it likes, and a mount made inside a user namespace can be any filesystem
//! its creator chose; on either an attacker could present a file with a
//! trusted file's identity and other content.

use std::fs::File;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use rustix::fs::{fstat, fstatfs, open, statx, AtFlags, Mode, OFlags, StatxAttributes, StatxFlags};

use super::MountId;
use crate::uapi;

/// `FUSE_SUPER_MAGIC` (fuse and fuseblk alike).
const FUSE_SUPER_MAGIC: u32 = 0x6573_5546;
/// `STATX_MNT_ID_UNIQUE` (Linux 6.8): a mount ID never reused while the
/// system runs.
pub(crate) const STATX_MNT_ID_UNIQUE: u32 = 0x4000;

/// A listed mount point, and whether the trust database is honoured there.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListedMount {
    /// The path as the policy lists it.
    pub path: PathBuf,
    /// The mount it is now, or why it is not honoured.
    pub mount: Result<MountId, String>,
}

/// The mount ID `statx` gives for `fd`'s file: the unique one where the
/// kernel has it (Linux 6.8), the reusable one otherwise.
pub(crate) fn mount_id(stx: &rustix::fs::Statx) -> Option<MountId> {
    let mask = stx.stx_mask;
    if mask & STATX_MNT_ID_UNIQUE != 0 {
        Some(MountId {
            id: stx.stx_mnt_id,
            unique: true,
        })
    } else if mask & StatxFlags::MNT_ID.bits() != 0 {
        Some(MountId {
            id: stx.stx_mnt_id,
            unique: false,
        })
    } else {
        None
    }
}

/// Resolves the policy's `trust_mounts` in this process's mount namespace.
pub(crate) fn resolve(paths: &[PathBuf]) -> Vec<ListedMount> {
    let namespace = own_mount_namespace();
    paths
        .iter()
        .map(|path| ListedMount {
            path: path.clone(),
            mount: namespace.clone().and_then(|()| resolve_one(path)),
        })
        .collect()
}

/// Mounts count only in a mount namespace that the initial user namespace
/// owns, seen from that user namespace: there only host root made them. In
/// any other, the namespace's root (any user, with `unshare -Urm`) can
/// mount what it likes where the policy's paths point.
fn own_mount_namespace() -> Result<(), String> {
    let userns = crate::userns::UserNamespace::current()
        .map_err(|e| format!("cannot tell which user namespace this is: {e}"))?;
    if !userns.is_initial() {
        return Err("this process is in a user namespace: no mount is honoured there".into());
    }
    let fail = |what: &str, e: std::io::Error| format!("cannot read {what}: {e}");
    let mnt = File::open("/proc/self/ns/mnt").map_err(|e| fail("/proc/self/ns/mnt", e))?;
    let user = File::open("/proc/self/ns/user").map_err(|e| fail("/proc/self/ns/user", e))?;
    let owner = uapi::namespace_owner(mnt.as_fd())
        .map_err(|e| fail("the owner of this mount namespace", e.into()))?;
    let (owner, user) = (
        fstat(&owner).map_err(|e| fail("the mount namespace's owner", e.into()))?,
        fstat(&user).map_err(|e| fail("/proc/self/ns/user", e.into()))?,
    );
    if (owner.st_dev, owner.st_ino) != (user.st_dev, user.st_ino) {
        return Err(
            "this mount namespace belongs to a user namespace: no mount is honoured in it".into(),
        );
    }
    Ok(())
}

fn resolve_one(path: &Path) -> Result<MountId, String> {
    let dir = open(
        path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("{}: {}", path.display(), std::io::Error::from(e)))?;
    let stx = statx(
        &dir,
        c"",
        AtFlags::EMPTY_PATH,
        StatxFlags::BASIC_STATS
            | StatxFlags::MNT_ID
            | StatxFlags::from_bits_retain(STATX_MNT_ID_UNIQUE),
    )
    .map_err(|e| format!("{}: statx: {}", path.display(), std::io::Error::from(e)))?;
    let root = StatxAttributes::MOUNT_ROOT;
    if !stx.stx_attributes_mask.contains(root) {
        return Err(format!(
            "{}: this kernel cannot tell a mount point (Linux 5.8 can)",
            path.display()
        ));
    }
    if !stx.stx_attributes.contains(root) {
        return Err(format!("{} is not a mount point", path.display()));
    }
    let fs = fstatfs(&dir)
        .map_err(|e| format!("{}: statfs: {}", path.display(), std::io::Error::from(e)))?;
    if fs.f_type as u32 == FUSE_SUPER_MAGIC {
        return Err(format!(
            "{} is a FUSE filesystem, whose daemon reports any identity: never honoured",
            path.display()
        ));
    }
    mount_id(&stx).ok_or_else(|| {
        format!(
            "{}: this kernel gives no mount ID (Linux 5.8 does)",
            path.display()
        )
    })
}
