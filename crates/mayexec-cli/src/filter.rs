//! `mayexec run`'s seccomp filter: what the tree may not do to the
//! securebits, the mounts, its terminal and, in an exec allow-list, memory
//! files.
//!
//! The filter is built by libseccomp, in one context that holds the native
//! architecture and its 32-bit compat one (i386 on x86_64, arm on aarch64),
//! so that every rule below also holds for a 32-bit program (`int $0x80`),
//! with each architecture's own system call numbers. x32 system calls (on
//! x86_64, numbers with bit 30 set) are not in the context and fail with
//! `ENOSYS`, as on kernels built or booted without x32. Every comparison is
//! a masked one on the low 32 bits of an `int` argument, as the kernel reads
//! it, whatever the register's upper half holds.
//!
//! What it refuses:
//!
//! - **User namespaces** (unless `--allow-userns`): the kernel resets a
//!   process's securebits, lock bits included, when it creates or enters a
//!   user namespace, so any process of the tree could otherwise undo
//!   `mayexec run -f -i` with `unshare -Ur`. `unshare` and `clone` with
//!   `CLONE_NEWUSER`: `EPERM`; `clone3`: `ENOSYS` whatever it asks (its
//!   flags are in memory, which a seccomp filter cannot read; glibc then
//!   falls back to `clone`); `setns` with `CLONE_NEWUSER` in `nstype`, or
//!   `nstype` 0 (the descriptor may be a user namespace): `EPERM`.
//! - **The terminal**: `ioctl` `TIOCSTI` and `TIOCLINUX`: `EPERM`. They push
//!   bytes into the terminal's input, which the shell that started the tree
//!   reads as typed commands once the tree has ended.
//! - **The new mount API**: `open_tree` with `OPEN_TREE_CLONE`,
//!   `mount_setattr`, `move_mount`, `fsopen`, `fsconfig`, `fsmount` and
//!   `fspick`: `EPERM`. With them root could clone a `noexec` mount and clear
//!   the flag on the clone (`mount_setattr` has no LSM hook, so the tree's
//!   Landlock domain, which refuses `mount(2)`, cannot see it), or mount a
//!   file system of its own, and run what the policy keeps on `noexec`
//!   mounts. The classic `mount`, `umount` and `pivot_root` are refused by
//!   the Landlock domain every tree is in.
//! - **Executable memory files** (in `--exec-allow` and `--lockdown` trees):
//!   a memfd lives on an internal mount that Landlock does not govern, so a
//!   program the tree may run could copy any executable, an interpreter
//!   left out of the allow-list included, into one and execute it.
//!   `memfd_create` with `MFD_EXEC`: `EACCES` (what `vm.memfd_noexec = 2`
//!   answers); with neither `MFD_EXEC` nor `MFD_NOEXEC_SEAL`: `ENOSYS`, so
//!   that a program takes the path it has for kernels without memfds (a file
//!   in `/dev/shm` or `$XDG_RUNTIME_DIR`, which the domain governs); with
//!   `MFD_NOEXEC_SEAL` (the file can never become executable): allowed.
//!
//! Installing a filter without privilege needs no_new_privs, which it sets:
//! set-user-ID programs (sudo, su) do not gain privileges in the tree.

use std::fmt;

use libseccomp::error::SeccompError;
use libseccomp::{scmp_cmp, ScmpAction, ScmpArch, ScmpArgCompare, ScmpFilterContext, ScmpSyscall};

/// What the user-namespace rules do, for `mayexec run -v`.
pub const USERNS_SUMMARY: &str = "unshare/clone with CLONE_NEWUSER and setns into a user \
     namespace (or of any type) fail with EPERM, clone3 with ENOSYS";

/// What the rules every tree gets do, for `mayexec run -v`.
pub const TREE_SUMMARY: &str = "ioctl TIOCSTI and TIOCLINUX (typing into the terminal) and \
     the new mount API (open_tree with OPEN_TREE_CLONE, mount_setattr, move_mount, fsopen, \
     fsconfig, fsmount, fspick) fail with EPERM";

/// What the memory-file rules do, for `mayexec run -v`.
pub const MEMFD_SUMMARY: &str = "memfd_create fails with EACCES for MFD_EXEC and with ENOSYS \
     without MFD_NOEXEC_SEAL: no memory file can be executed";

/// Which rules [`install`] puts in the filter, besides the terminal and
/// mount rules every tree gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Keep the tree out of user namespaces (not with `--allow-userns`).
    pub user_namespaces: bool,
    /// Refuse executable memfds (trees with an exec allow-list).
    pub memfds: bool,
}

/// Why the filter could not be built or installed.
#[derive(Debug)]
pub enum FilterError {
    /// libseccomp could not build the filter (an architecture or a system
    /// call it does not know, for one).
    Build(SeccompError),
    /// The kernel refused the filter (or no_new_privs).
    Install(SeccompError),
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterError::Build(e) => write!(
                f,
                "cannot build the seccomp filter for {}: {e}",
                std::env::consts::ARCH
            ),
            FilterError::Install(e) => write!(f, "cannot install the seccomp filter: {e}"),
        }
    }
}

const CLONE_NEWUSER: u64 = libc::CLONE_NEWUSER as u64;
/// `linux/mount.h`.
const OPEN_TREE_CLONE: u64 = 1;
/// `linux/memfd.h` (Linux 6.3).
const MFD_NOEXEC_SEAL: u64 = 0x8;
const MFD_EXEC: u64 = 0x10;
// libc's type for ioctl requests differs between targets.
#[allow(clippy::unnecessary_cast)]
const TIOCSTI: u64 = libc::TIOCSTI as u64;
#[allow(clippy::unnecessary_cast)]
const TIOCLINUX: u64 = libc::TIOCLINUX as u64;

/// The new mount API, refused whole; `open_tree` is refused only when it
/// clones.
const MOUNT_API: [&str; 6] = [
    "mount_setattr",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
];

/// `ARG & mask == value` on the low 32 bits: the kernel reads these
/// arguments as `int`, so the register's upper half does not count.
fn masked(arg: u32, mask: u64, value: u64) -> ScmpArgCompare {
    debug_assert!(mask <= u64::from(u32::MAX) && value & !mask == 0);
    match arg {
        0 => scmp_cmp!($arg0 & (mask) == value),
        1 => scmp_cmp!($arg1 & (mask) == value),
        2 => scmp_cmp!($arg2 & (mask) == value),
        _ => unreachable!("no rule compares argument {arg}"),
    }
}

/// The 32-bit ABI a 64-bit kernel of this architecture also runs.
fn compat_arch(native: ScmpArch) -> Option<ScmpArch> {
    match native {
        ScmpArch::X8664 => Some(ScmpArch::X86),
        ScmpArch::Aarch64 => Some(ScmpArch::Arm),
        _ => None,
    }
}

/// The filter, not yet loaded.
fn context(rules: Rules) -> Result<ScmpFilterContext, SeccompError> {
    let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
    if let Some(compat) = compat_arch(ScmpArch::native()) {
        ctx.add_arch(compat)?;
    }
    // A system call of an architecture the context does not hold: on
    // x86_64 only x32's can reach the filter.
    ctx.set_act_badarch(ScmpAction::Errno(libc::ENOSYS))?;
    ctx.set_ctl_nnp(true)?;

    let eperm = ScmpAction::Errno(libc::EPERM);
    let syscall = ScmpSyscall::from_name;
    for request in [TIOCSTI, TIOCLINUX] {
        ctx.add_rule_conditional(
            eperm,
            syscall("ioctl")?,
            &[masked(1, u32::MAX.into(), request)],
        )?;
    }
    ctx.add_rule_conditional(
        eperm,
        syscall("open_tree")?,
        &[masked(2, OPEN_TREE_CLONE, OPEN_TREE_CLONE)],
    )?;
    for name in MOUNT_API {
        ctx.add_rule(eperm, syscall(name)?)?;
    }
    if rules.user_namespaces {
        let newuser = masked(0, CLONE_NEWUSER, CLONE_NEWUSER);
        ctx.add_rule_conditional(eperm, syscall("unshare")?, &[newuser])?;
        // clone's flags are its first argument on every architecture here
        // (x86_64, i386, aarch64, arm, riscv64).
        ctx.add_rule_conditional(eperm, syscall("clone")?, &[newuser])?;
        ctx.add_rule_conditional(
            eperm,
            syscall("setns")?,
            &[masked(1, CLONE_NEWUSER, CLONE_NEWUSER)],
        )?;
        ctx.add_rule_conditional(eperm, syscall("setns")?, &[masked(1, u32::MAX.into(), 0)])?;
        ctx.add_rule(ScmpAction::Errno(libc::ENOSYS), syscall("clone3")?)?;
    }
    if rules.memfds {
        let exec_flags = MFD_EXEC | MFD_NOEXEC_SEAL;
        ctx.add_rule_conditional(
            ScmpAction::Errno(libc::EACCES),
            syscall("memfd_create")?,
            &[masked(1, exec_flags, MFD_EXEC)],
        )?;
        ctx.add_rule_conditional(
            ScmpAction::Errno(libc::ENOSYS),
            syscall("memfd_create")?,
            &[masked(1, exec_flags, 0)],
        )?;
    }
    Ok(ctx)
}

/// Sets no_new_privs and installs the filter on the calling thread (the
/// CLI is single-threaded here); everything it executes inherits it.
pub fn install(rules: Rules) -> Result<(), FilterError> {
    context(rules)
        .map_err(FilterError::Build)?
        .load()
        .map_err(FilterError::Install)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libseccomp's own rendering of the filter, to read which rules each
    /// architecture got (the behaviour itself is tested by running real
    /// programs, native and i386, in `tests/`).
    fn pfc(rules: Rules) -> String {
        let ctx = context(rules).expect("build the filter");
        let (reader, writer) = rustix::pipe::pipe().expect("pipe");
        let reading = std::thread::spawn(move || {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::fs::File::from(reader), &mut text)
                .expect("read the filter's text");
            text
        });
        ctx.export_pfc(&writer).expect("export the filter's text");
        drop(writer);
        reading.join().expect("the reader")
    }

    /// The names libseccomp gives the rules' system calls in its text.
    fn judged(text: &str) -> Vec<String> {
        let mut names: Vec<String> = text
            .lines()
            .filter_map(|l| l.split("filter for syscall \"").nth(1))
            .filter_map(|l| l.split('"').next())
            .map(str::to_owned)
            .collect();
        names.sort();
        names.dedup();
        names
    }

    #[test]
    fn every_architecture_of_the_context_gets_every_rule() {
        let all = Rules {
            user_namespaces: true,
            memfds: true,
        };
        let text = pfc(all);
        let arches = text.matches("# filter for arch ").count();
        let want = if compat_arch(ScmpArch::native()).is_some() {
            2
        } else {
            1
        };
        assert_eq!(arches, want, "{text}");
        let names = judged(&text);
        for name in [
            "ioctl",
            "open_tree",
            "mount_setattr",
            "move_mount",
            "fsopen",
            "fsconfig",
            "fsmount",
            "fspick",
            "unshare",
            "clone",
            "setns",
            "clone3",
            "memfd_create",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} missing: {text}");
            // Once per architecture.
            let rules = text.matches(&format!("\"{name}\"")).count();
            assert_eq!(rules, want, "{name}: {text}");
        }
        assert!(
            text.contains("# invalid architecture action\naction ERRNO(38);"),
            "{text}"
        );
    }

    #[test]
    fn the_rules_left_out_are_left_out() {
        let tree = pfc(Rules {
            user_namespaces: false,
            memfds: false,
        });
        let names = judged(&tree);
        for absent in ["unshare", "clone", "setns", "clone3", "memfd_create"] {
            assert!(!names.iter().any(|n| n == absent), "{absent}: {tree}");
        }
        for present in ["ioctl", "open_tree", "mount_setattr"] {
            assert!(names.iter().any(|n| n == present), "{present}: {tree}");
        }
    }
}
