//! `mayexec run`'s seccomp filter: the tree may not create or join a user
//! namespace.
//!
//! The kernel resets a process's securebits, lock bits included, when it
//! creates or enters a user namespace, so without this filter any process
//! of the tree could undo `mayexec run -f -i` with `unshare -Ur`. What the
//! filter refuses:
//!
//! - `unshare` and `clone` with `CLONE_NEWUSER` in their flags: `EPERM`
//!   (`unshare(1)` then says "Operation not permitted");
//! - `clone3`: `ENOSYS`, whatever it asks. Its flags are in memory, which a
//!   seccomp filter cannot read; `ENOSYS` is what a kernel before 5.3 says,
//!   and glibc (threads, `posix_spawn`) then falls back to `clone`;
//! - `setns` with `CLONE_NEWUSER` in `nstype`, or `nstype` 0 ("any type":
//!   the filter cannot see what the descriptor is, and it may be a user
//!   namespace): `EPERM`. Joining another kind of namespace still works
//!   when its type is named (`nsenter --net=…` does);
//! - on x86_64, every x32 system call (number with bit 30 set): `ENOSYS`,
//!   as on kernels built or booted without x32, because the filter's
//!   numbers are the x86_64 ones;
//! - 32-bit (compat) system calls on a 64-bit kernel kill the process: the
//!   filter only knows the native architecture's numbers, and lets no
//!   other through.
//!
//! Installing a filter without privilege needs no_new_privs, which it sets:
//! set-user-ID programs (sudo, su) do not gain privileges in the tree.

use std::collections::BTreeMap;
use std::fmt;

use seccompiler::{
    apply_filter, sock_filter, BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp,
    SeccompCondition, SeccompFilter, SeccompRule, TargetArch,
};

/// What the filter does, for `mayexec run -v`.
pub const SUMMARY: &str = "unshare/clone with CLONE_NEWUSER and setns into a user namespace \
     (or of any type) fail with EPERM, clone3 with ENOSYS, x32 system calls with ENOSYS, 32-bit \
     system calls kill the process; no_new_privs is set";

/// Why the filter could not be installed.
#[derive(Debug)]
pub enum FilterError {
    /// Building the filter failed (an architecture seccompiler does not
    /// know, for one).
    Build(seccompiler::BackendError),
    /// The kernel refused the filter (or no_new_privs).
    Install(seccompiler::Error),
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

impl From<seccompiler::BackendError> for FilterError {
    fn from(e: seccompiler::BackendError) -> Self {
        FilterError::Build(e)
    }
}

impl From<seccompiler::Error> for FilterError {
    fn from(e: seccompiler::Error) -> Self {
        FilterError::Install(e)
    }
}

const CLONE_NEWUSER: u64 = libc::CLONE_NEWUSER as u64;

fn flags_have_newuser(arg: u8) -> Result<SeccompRule, seccompiler::BackendError> {
    SeccompRule::new(vec![SeccompCondition::new(
        arg,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::MaskedEq(CLONE_NEWUSER),
        CLONE_NEWUSER,
    )?])
}

fn compile(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    errno: i32,
    arch: TargetArch,
) -> Result<BpfProgram, seccompiler::BackendError> {
    SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(errno as u32),
        arch,
    )?
    .try_into()
}

/// The filters, in the order they are installed.
fn programs() -> Result<Vec<BpfProgram>, FilterError> {
    let arch_name = std::env::consts::ARCH;
    let arch: TargetArch = arch_name.try_into()?;
    let setns_rules = vec![
        flags_have_newuser(1)?,
        SeccompRule::new(vec![SeccompCondition::new(
            1,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::Eq,
            0,
        )?])?,
    ];
    let eperm: BTreeMap<i64, Vec<SeccompRule>> = [
        (libc::SYS_unshare, vec![flags_have_newuser(0)?]),
        // clone's flags are its first argument on x86_64 and aarch64 alike.
        (libc::SYS_clone, vec![flags_have_newuser(0)?]),
        (libc::SYS_setns, setns_rules),
    ]
    .into_iter()
    .collect();
    let enosys: BTreeMap<i64, Vec<SeccompRule>> =
        [(libc::SYS_clone3, vec![])].into_iter().collect();
    let mut programs = vec![
        compile(eperm, libc::EPERM, arch)?,
        compile(enosys, libc::ENOSYS, arch)?,
    ];
    if arch_name == "x86_64" {
        programs.push(deny_x32());
    }
    Ok(programs)
}

/// x32 system calls use the x86_64 audit architecture with bit 30 set in
/// the number: refuse them all with `ENOSYS`.
fn deny_x32() -> BpfProgram {
    // BPF_LD | BPF_W | BPF_ABS (0x00 | 0x00 | 0x20)
    const BPF_LD_W_ABS: u16 = 0x20;
    const BPF_JMP_JEQ_K: u16 = 0x05 | 0x10;
    const BPF_JMP_JGE_K: u16 = 0x05 | 0x30;
    const BPF_RET_K: u16 = 0x06;
    const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;
    // struct seccomp_data: int nr; __u32 arch; ...
    const NR: u32 = 0;
    const ARCH: u32 = 4;
    let op = |code, jt, jf, k| sock_filter { code, jt, jf, k };
    vec![
        op(BPF_LD_W_ABS, 0, 0, ARCH),
        op(BPF_JMP_JEQ_K, 0, 3, AUDIT_ARCH_X86_64),
        op(BPF_LD_W_ABS, 0, 0, NR),
        op(BPF_JMP_JGE_K, 0, 1, X32_SYSCALL_BIT),
        op(
            BPF_RET_K,
            0,
            0,
            libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
        ),
        op(BPF_RET_K, 0, 0, libc::SECCOMP_RET_ALLOW),
    ]
}

/// Sets no_new_privs and installs the filters on the calling thread (the
/// CLI is single-threaded here); everything it executes inherits them.
pub fn deny_user_namespaces() -> Result<(), FilterError> {
    for program in programs()? {
        apply_filter(&program)?;
    }
    Ok(())
}

/// What `status` and `policy check` say when the host lets unprivileged
/// users create user namespaces with capabilities: with one, a user can
/// `chroot` into a root of their own, where the system policy file is
/// absent or theirs. `None` when the host closes that.
pub fn file_policy_exposure(host: &mayexec::userns::HostUserNamespaces) -> Option<String> {
    if !host.unprivileged_can_chroot() {
        return None;
    }
    let setting = match (host.unprivileged_userns_clone, host.max_user_namespaces) {
        (Some(clone), _) => format!("kernel.unprivileged_userns_clone = {clone}"),
        (None, Some(max)) => format!("user.max_user_namespaces = {max}"),
        (None, None) => "no sysctl limits them".to_owned(),
    };
    Some(format!(
        "unprivileged users can create user namespaces on this host ({setting}): with one \
         they can chroot into a root of their own, where {} is absent or theirs, so the \
         system policy file does not hold against local users (the securebits of a \
         `mayexec run` tree and Landlock still do); close it with `{}`",
        mayexec::policy::SYSTEM_POLICY_PATH,
        host.how_to_close()
    ))
}
