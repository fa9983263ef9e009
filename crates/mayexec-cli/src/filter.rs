//! `mayexec run`'s seccomp filter: the tree may not create or join a user
//! namespace, nor type into its terminal.
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
//! - `ioctl` `TIOCSTI` and `TIOCLINUX`: `EPERM`. The tree usually shares
//!   its terminal with the shell that started it; `TIOCSTI` pushes bytes
//!   into the terminal's input (and `TIOCLINUX` pastes the console's
//!   selection), which that shell reads as typed commands once the tree has
//!   ended — code run outside the tree. Kernels since 6.2 can refuse
//!   `TIOCSTI` themselves (`dev.tty.legacy_tiocsti = 0`); the filter does
//!   not depend on it. These rules stay with `--allow-userns`;
//! - on x86_64, every x32 system call (number with bit 30 set): `ENOSYS`,
//!   as on kernels built or booted without x32;
//! - the 32-bit compat ABI (i386 on x86_64, arm on aarch64) gets the same
//!   rules with its own numbers; a system call of any other architecture
//!   kills the process.
//!
//! The native rules are compiled by seccompiler, whose programs kill every
//! other architecture; that first test is turned into "allow" (after
//! checking it is what it should be), and one hand-written program judges
//! the other ABIs.
//!
//! Installing a filter without privilege needs no_new_privs, which it sets:
//! set-user-ID programs (sudo, su) do not gain privileges in the tree.

use std::collections::BTreeMap;
use std::fmt;

use seccompiler::{
    apply_filter, sock_filter, BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp,
    SeccompCondition, SeccompFilter, SeccompRule, TargetArch,
};

/// What the user-namespace rules do, for `mayexec run -v`.
pub const USERNS_SUMMARY: &str = "unshare/clone with CLONE_NEWUSER and setns into a user \
     namespace (or of any type) fail with EPERM, clone3 with ENOSYS, also for 32-bit programs; \
     x32 system calls fail with ENOSYS";

/// What the terminal rules do, for `mayexec run -v`.
pub const TERMINAL_SUMMARY: &str =
    "ioctl TIOCSTI and TIOCLINUX (typing into the terminal) fail with EPERM";

/// Which rules [`install`] puts in the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rules {
    /// User namespaces and the terminal: `mayexec run`'s default.
    All,
    /// The terminal only: `mayexec run --allow-userns`.
    TerminalOnly,
}

/// Why the filter could not be installed.
#[derive(Debug)]
pub enum FilterError {
    /// Building the filter failed (an architecture seccompiler does not
    /// know, for one).
    Build(seccompiler::BackendError),
    /// The kernel refused the filter (or no_new_privs).
    Install(seccompiler::Error),
    /// seccompiler's program did not start as expected, or this
    /// architecture has no filter here.
    Unexpected,
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
            FilterError::Unexpected => write!(
                f,
                "cannot build the seccomp filter for {}: unexpected program",
                std::env::consts::ARCH
            ),
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

// libc's type for ioctl requests differs between targets.
#[allow(clippy::unnecessary_cast)]
const TIOCSTI: u64 = libc::TIOCSTI as u64;
#[allow(clippy::unnecessary_cast)]
const TIOCLINUX: u64 = libc::TIOCLINUX as u64;

/// `ioctl(fd, REQUEST, …)`: the request is an `unsigned int` to the
/// kernel, so only its low 32 bits count.
fn request_is(request: u64) -> Result<SeccompRule, seccompiler::BackendError> {
    SeccompRule::new(vec![SeccompCondition::new(
        1,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::Eq,
        request,
    )?])
}

/// The filters, in the order they are installed.
fn programs(rules: Rules) -> Result<Vec<BpfProgram>, FilterError> {
    let arch_name = std::env::consts::ARCH;
    let arch: TargetArch = arch_name.try_into()?;
    let mut eperm: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    eperm.insert(
        libc::SYS_ioctl,
        vec![request_is(TIOCSTI)?, request_is(TIOCLINUX)?],
    );
    let mut enosys: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    if rules == Rules::All {
        let setns_rules = vec![
            flags_have_newuser(1)?,
            SeccompRule::new(vec![SeccompCondition::new(
                1,
                SeccompCmpArgLen::Dword,
                SeccompCmpOp::Eq,
                0,
            )?])?,
        ];
        eperm.insert(libc::SYS_unshare, vec![flags_have_newuser(0)?]);
        // clone's flags are its first argument on x86_64 and aarch64 alike.
        eperm.insert(libc::SYS_clone, vec![flags_have_newuser(0)?]);
        eperm.insert(libc::SYS_setns, setns_rules);
        enosys.insert(libc::SYS_clone3, vec![]);
    }
    let mut programs = vec![native_only(compile(eperm, libc::EPERM, arch)?)?];
    if !enosys.is_empty() {
        programs.push(native_only(compile(enosys, libc::ENOSYS, arch)?)?);
    }
    programs.push(other_abis(arch_name, rules)?);
    Ok(programs)
}

// BPF opcodes (linux/bpf_common.h) and struct seccomp_data offsets.
const BPF_LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const BPF_JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const BPF_JGE_K: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const BPF_JSET_K: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const BPF_RET_K: u16 = 0x06; // BPF_RET | BPF_K
const NR: u32 = 0;
const ARCH: u32 = 4;
/// The low 32 bits of `args[0]` and `args[1]` (little-endian).
const ARG0: u32 = 16;
const ARG1: u32 = 24;
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
const AUDIT_ARCH_LE_64: u32 = 0x8000_0000 | 0x4000_0000;

/// seccompiler's programs kill a system call of any other architecture
/// than theirs; they start with that test. Let those calls through instead:
/// [`other_abis`] judges them (and kills what it does not know).
fn native_only(mut program: BpfProgram) -> Result<BpfProgram, FilterError> {
    let kill = sock_filter {
        code: BPF_RET_K,
        jt: 0,
        jf: 0,
        k: libc::SECCOMP_RET_KILL_PROCESS,
    };
    match program.get(..3) {
        Some([load, test, ret])
            if load.code == BPF_LD_W_ABS
                && load.k == ARCH
                && test.code == BPF_JEQ_K
                && (test.jt, test.jf) == (1, 0)
                && *ret == kill => {}
        _ => return Err(FilterError::Unexpected),
    }
    program[2].k = libc::SECCOMP_RET_ALLOW;
    Ok(program)
}

/// A 32-bit ABI a 64-bit kernel also runs: its audit architecture and
/// its numbers for the calls the filter judges.
struct Compat {
    audit_arch: u32,
    ioctl: u32,
    unshare: u32,
    clone: u32,
    setns: u32,
    clone3: u32,
}

/// i386 on x86_64 (`int $0x80`).
const I386: Compat = Compat {
    audit_arch: 3 | 0x4000_0000,
    ioctl: 54,
    unshare: 310,
    clone: 120,
    setns: 346,
    clone3: 435,
};

/// arm (EABI) on aarch64.
const ARM: Compat = Compat {
    audit_arch: 40 | 0x4000_0000,
    ioctl: 54,
    unshare: 337,
    clone: 120,
    setns: 375,
    clone3: 435,
};

/// A BPF instruction whose jumps name their targets.
enum Op {
    Label(&'static str),
    Load(u32),
    Jump(u16, u32, &'static str, &'static str),
    Ret(u32),
}

/// Where a jump falls through to the next instruction.
const NEXT: &str = "";

fn assemble(ops: &[Op]) -> Result<BpfProgram, FilterError> {
    let mut labels = BTreeMap::new();
    let mut pc = 0usize;
    for op in ops {
        match op {
            Op::Label(name) => {
                labels.insert(*name, pc);
            }
            _ => pc += 1,
        }
    }
    let mut program = Vec::with_capacity(pc);
    for op in ops {
        let here = program.len();
        let offset = |target: &str| -> Result<u8, FilterError> {
            if target == NEXT {
                return Ok(0);
            }
            let to = *labels.get(target).ok_or(FilterError::Unexpected)?;
            to.checked_sub(here + 1)
                .and_then(|d| u8::try_from(d).ok())
                .ok_or(FilterError::Unexpected)
        };
        let insn = |code, jt, jf, k| sock_filter { code, jt, jf, k };
        program.push(match *op {
            Op::Label(_) => continue,
            Op::Load(at) => insn(BPF_LD_W_ABS, 0, 0, at),
            Op::Jump(code, k, yes, no) => insn(code, offset(yes)?, offset(no)?, k),
            Op::Ret(action) => insn(BPF_RET_K, 0, 0, action),
        });
    }
    Ok(program)
}

/// Everything the native filters do not see: on x86_64 the x32 ABI (the
/// x86_64 audit architecture, numbers with bit 30 set: all `ENOSYS`, as
/// where x32 is off, whatever `rules` says: no x32 program is expected),
/// and the 32-bit compat ABI (i386, arm) with the same rules as the native
/// filters. Any other architecture is killed.
fn other_abis(arch_name: &str, rules: Rules) -> Result<BpfProgram, FilterError> {
    use Op::*;
    let (native, compat) = match arch_name {
        "x86_64" => (62 | AUDIT_ARCH_LE_64, Some(&I386)),
        "aarch64" => (183 | AUDIT_ARCH_LE_64, Some(&ARM)),
        "riscv64" => (243 | AUDIT_ARCH_LE_64, None),
        _ => return Err(FilterError::Unexpected),
    };
    let newuser = libc::CLONE_NEWUSER as u32;
    let mut ops = vec![Load(ARCH), Jump(BPF_JEQ_K, native, "native", NEXT)];
    match compat {
        Some(c) => {
            ops.extend([
                Jump(BPF_JEQ_K, c.audit_arch, NEXT, "kill"),
                Load(NR),
                Jump(BPF_JEQ_K, c.ioctl, "request", NEXT),
            ]);
            if rules == Rules::All {
                ops.extend([
                    Jump(BPF_JEQ_K, c.unshare, "flags", NEXT),
                    Jump(BPF_JEQ_K, c.clone, "flags", NEXT),
                    Jump(BPF_JEQ_K, c.setns, "nstype", NEXT),
                    Jump(BPF_JEQ_K, c.clone3, "enosys", NEXT),
                ]);
            }
            ops.extend([
                Ret(libc::SECCOMP_RET_ALLOW),
                Label("request"),
                Load(ARG1),
                Jump(BPF_JEQ_K, TIOCSTI as u32, "eperm", NEXT),
                Jump(BPF_JEQ_K, TIOCLINUX as u32, "eperm", "allow"),
            ]);
            if rules == Rules::All {
                ops.extend([
                    Label("flags"),
                    Load(ARG0),
                    Jump(BPF_JSET_K, newuser, "eperm", "allow"),
                    Label("nstype"),
                    Load(ARG1),
                    Jump(BPF_JSET_K, newuser, "eperm", NEXT),
                    Jump(BPF_JEQ_K, 0, "eperm", "allow"),
                ]);
            }
        }
        None => ops.push(Ret(libc::SECCOMP_RET_KILL_PROCESS)),
    }
    ops.push(Label("native"));
    if arch_name == "x86_64" {
        ops.extend([
            Load(NR),
            Jump(BPF_JGE_K, X32_SYSCALL_BIT, "enosys", "allow"),
        ]);
    } else {
        ops.push(Ret(libc::SECCOMP_RET_ALLOW));
    }
    ops.extend([
        Label("eperm"),
        Ret(libc::SECCOMP_RET_ERRNO | libc::EPERM as u32),
        Label("enosys"),
        Ret(libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
        Label("allow"),
        Ret(libc::SECCOMP_RET_ALLOW),
        Label("kill"),
        Ret(libc::SECCOMP_RET_KILL_PROCESS),
    ]);
    assemble(&ops)
}

/// Sets no_new_privs and installs the filters on the calling thread (the
/// CLI is single-threaded here); everything it executes inherits them.
pub fn install(rules: Rules) -> Result<(), FilterError> {
    for program in programs(rules)? {
        apply_filter(&program)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a classic-BPF seccomp program (the opcodes used here) on one
    /// system call: the kernel's answer for an architecture this machine
    /// cannot run.
    fn verdict(program: &[sock_filter], arch: u32, nr: u32, args: [u32; 2]) -> u32 {
        let word = |at: u32| match at {
            NR => nr,
            ARCH => arch,
            ARG0 => args[0],
            ARG1 => args[1],
            _ => panic!("load at {at}"),
        };
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let insn = &program[pc];
            let jump = |taken: bool| pc + 1 + usize::from(if taken { insn.jt } else { insn.jf });
            pc = match insn.code {
                BPF_LD_W_ABS => {
                    acc = word(insn.k);
                    pc + 1
                }
                BPF_JEQ_K => jump(acc == insn.k),
                BPF_JGE_K => jump(acc >= insn.k),
                BPF_JSET_K => jump(acc & insn.k != 0),
                BPF_RET_K => return insn.k,
                code => panic!("opcode {code:#x}"),
            };
        }
    }

    const EPERM: u32 = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
    const ENOSYS: u32 = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
    const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
    const KILL: u32 = libc::SECCOMP_RET_KILL_PROCESS;
    const NEWUSER: u32 = libc::CLONE_NEWUSER as u32;

    #[test]
    fn arm_programs_on_aarch64_get_the_native_rules() {
        let p = other_abis("aarch64", Rules::All).unwrap();
        let arm = ARM.audit_arch;
        assert_eq!(verdict(&p, arm, ARM.unshare, [NEWUSER, 0]), EPERM);
        assert_eq!(
            verdict(&p, arm, ARM.unshare, [libc::CLONE_NEWNS as u32, 0]),
            ALLOW
        );
        assert_eq!(verdict(&p, arm, ARM.clone, [NEWUSER | 17, 0]), EPERM);
        assert_eq!(verdict(&p, arm, ARM.clone, [17, 0]), ALLOW);
        assert_eq!(verdict(&p, arm, ARM.setns, [3, 0]), EPERM);
        assert_eq!(verdict(&p, arm, ARM.setns, [3, NEWUSER]), EPERM);
        assert_eq!(
            verdict(&p, arm, ARM.setns, [3, libc::CLONE_NEWNET as u32]),
            ALLOW
        );
        assert_eq!(verdict(&p, arm, ARM.clone3, [0, 0]), ENOSYS);
        assert_eq!(verdict(&p, arm, 20, [0, 0]), ALLOW);
        // Native calls are left to the seccompiler programs; others die.
        assert_eq!(verdict(&p, 183 | AUDIT_ARCH_LE_64, 97, [NEWUSER, 0]), ALLOW);
        assert_eq!(verdict(&p, I386.audit_arch, 310, [NEWUSER, 0]), KILL);
    }

    #[test]
    fn x32_and_i386_on_x86_64() {
        let p = other_abis("x86_64", Rules::All).unwrap();
        let x86_64 = 62 | AUDIT_ARCH_LE_64;
        assert_eq!(
            verdict(&p, x86_64, X32_SYSCALL_BIT | 272, [NEWUSER, 0]),
            ENOSYS
        );
        assert_eq!(verdict(&p, x86_64, 272, [NEWUSER, 0]), ALLOW);
        assert_eq!(
            verdict(&p, I386.audit_arch, I386.unshare, [NEWUSER, 0]),
            EPERM
        );
        assert_eq!(verdict(&p, I386.audit_arch, I386.setns, [3, 0]), EPERM);
        assert_eq!(verdict(&p, ARM.audit_arch, ARM.unshare, [NEWUSER, 0]), KILL);
    }

    #[test]
    fn the_native_programs_let_other_architectures_through_to_other_abis() {
        for rules in [Rules::All, Rules::TerminalOnly] {
            for program in programs(rules).unwrap() {
                assert_ne!(program[2].k, KILL, "no architecture kill left in front");
            }
            assert!(other_abis("riscv64", rules).is_ok());
            assert!(other_abis("mips64", rules).is_err());
        }
    }

    #[test]
    fn compat_programs_may_not_type_into_the_terminal() {
        const STI: u32 = libc::TIOCSTI as u32;
        const LINUX: u32 = libc::TIOCLINUX as u32;
        const WINSZ: u32 = libc::TIOCGWINSZ as u32;
        for (arch, compat) in [("x86_64", &I386), ("aarch64", &ARM)] {
            for rules in [Rules::All, Rules::TerminalOnly] {
                let p = other_abis(arch, rules).unwrap();
                let a = compat.audit_arch;
                assert_eq!(verdict(&p, a, compat.ioctl, [0, STI]), EPERM, "{arch}");
                assert_eq!(verdict(&p, a, compat.ioctl, [0, LINUX]), EPERM, "{arch}");
                assert_eq!(verdict(&p, a, compat.ioctl, [0, WINSZ]), ALLOW, "{arch}");
                // The namespace rules only where asked for.
                let unshare = verdict(&p, a, compat.unshare, [NEWUSER, 0]);
                let clone3 = verdict(&p, a, compat.clone3, [0, 0]);
                match rules {
                    Rules::All => assert_eq!((unshare, clone3), (EPERM, ENOSYS), "{arch}"),
                    Rules::TerminalOnly => assert_eq!((unshare, clone3), (ALLOW, ALLOW), "{arch}"),
                }
            }
        }
    }
}
