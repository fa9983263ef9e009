//! `mayexec status`: what the kernel supports and what is enforced here.

use std::io::{self, Write};
use std::process::ExitCode;

use mayexec::policy::{PolicyError, SYSTEM_POLICY_PATH};
use mayexec::securebits::{self, SecureBits};
use mayexec::userns::UserNamespace;
use mayexec::Errno;
use mayexec::{Action, Enforcement, SystemPolicy};
use serde::Serialize;

use crate::{output, policy, Status};

/// Show kernel support, this process's securebits, the system policy,
/// the effective enforcement and how many interpreters on PATH do not obey
/// the check, with hints where something is missing.
///
/// Exit status: 0, or 1 when the policy file exists but cannot be used, or
/// it requires content trust and the trust database cannot be used (then
/// every enlightened interpreter refuses to run anything).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print a JSON object instead.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report {
    kernel: Kernel,
    backend: &'static str,
    securebits: Bits,
    policy: policy::Report,
    user_namespaces: UserNamespaces,
    enforcement: Option<Effective>,
    /// `mayexec interpreters`' verdict on the interpreters on PATH.
    interpreters: String,
    hints: Vec<String>,
}

/// Whether a user namespace can undo what is enforced: one resets the
/// securebits of the process that enters it, and lets an unprivileged user
/// chroot away from the system policy file.
#[derive(Serialize)]
struct UserNamespaces {
    /// This process runs in the initial user namespace (`null`: /proc
    /// cannot say).
    initial: Option<bool>,
    /// This process's namespace, in words.
    namespace: String,
    /// This process cannot create or join user namespaces (a seccomp
    /// filter, such as `mayexec run`'s), so its securebits hold.
    confined: bool,
    /// `kernel.unprivileged_userns_clone`, where the kernel has it.
    unprivileged_userns_clone: Option<u64>,
    /// `user.max_user_namespaces`.
    max_user_namespaces: Option<u64>,
    /// `kernel.apparmor_restrict_unprivileged_userns`, where it exists.
    apparmor_restrict_unprivileged_userns: Option<u64>,
    /// Unprivileged users can create user namespaces.
    unprivileged_can_create: bool,
    /// The system policy file holds against unprivileged users (they
    /// cannot chroot into a root of their own).
    file_policy_holds: bool,
}

#[derive(Serialize)]
struct Kernel {
    release: String,
    execve_check: bool,
    execve_check_probe_errno: Option<String>,
    exec_securebits: bool,
    /// `available`, `not-enabled` (built in, off at boot) or
    /// `not-implemented` (not built in).
    landlock: &'static str,
    /// The kernel's Landlock ABI version, when available.
    landlock_abi: Option<i32>,
}

#[derive(Serialize)]
struct Bits {
    raw: u32,
    exec_restrict_file: bool,
    exec_restrict_file_locked: bool,
    exec_deny_interactive: bool,
    exec_deny_interactive_locked: bool,
}

#[derive(Serialize)]
struct Effective {
    scripts: Scripts,
    interactive: Interactive,
    /// Content trust, when the policy asks for it.
    trust: Option<TrustReport>,
}

#[derive(Serialize)]
struct TrustReport {
    #[serde(serialize_with = "output::display")]
    action: Action,
    database: String,
    /// How many files it trusts; `null` when it cannot be used.
    entries: Option<u64>,
    /// Why it cannot be used (then nothing is trusted).
    error: Option<String>,
    /// The listed mounts: where the database is honoured, or why not.
    mounts: Vec<String>,
}

#[derive(Serialize)]
struct Scripts {
    level: u8,
    backend: &'static str,
    #[serde(serialize_with = "output::display")]
    action: Action,
}

#[derive(Serialize)]
struct Interactive {
    #[serde(serialize_with = "output::display")]
    action: Action,
}

pub fn main(args: &Args) -> ExitCode {
    let report = gather();
    let trust_unusable = report.enforcement.as_ref().is_some_and(|e| {
        e.trust
            .as_ref()
            .is_some_and(|t| t.error.is_some() && t.action == Action::Enforce)
    });
    let status = if report.policy.error.is_some() || trust_unusable {
        Status::Denied
    } else {
        Status::Ok
    };
    output::report(&report, args.json, print, status)
}

fn gather() -> Report {
    let probe = mayexec::kernel_check_probe();
    let landlock = crate::uapi::landlock_abi_version();
    let kernel = Kernel {
        release: rustix::system::uname()
            .release()
            .to_string_lossy()
            .into_owned(),
        execve_check: probe.is_ok(),
        execve_check_probe_errno: probe
            .err()
            .map(|errno| output::errno_name(errno.raw_os_error())),
        exec_securebits: securebits::exec_securebits_supported(),
        landlock: match landlock {
            Ok(_) => "available",
            Err(Errno::OPNOTSUPP) => "not-enabled",
            Err(_) => "not-implemented",
        },
        landlock_abi: landlock.ok(),
    };
    let mut hints = Vec::new();
    let bits = match securebits::current() {
        Ok(bits) => bits,
        Err(e) => {
            hints.push(format!("{e}"));
            SecureBits::empty()
        }
    };
    let loaded = SystemPolicy::load();
    let enforcement = match &loaded {
        Ok(policy) => Some(Enforcement::from_parts(bits, policy.clone())),
        Err(_) => None,
    };
    if !kernel.execve_check {
        hints.push(format!(
            "the running kernel lacks AT_EXECVE_CHECK (Linux 6.14; the probe failed with {}): \
             the emulated backend is used",
            kernel.execve_check_probe_errno.as_deref().unwrap_or("?")
        ));
    }
    if !kernel.exec_securebits {
        hints.push(
            "the running kernel has no exec securebits (Linux 6.14): `mayexec run` cannot \
             restrict a process tree; use /etc/mayexec.conf instead"
                .to_owned(),
        );
    }
    match &loaded {
        Ok(None) => hints.push(format!(
            "no system policy: create {SYSTEM_POLICY_PATH} (owned by root, not group/other \
             writable) to enforce for every enlightened interpreter"
        )),
        Err(PolicyError::Untrusted { fault, .. }) => hints.push(format!(
            "only root may be able to change the policy: `chown root:root {0}; chmod go-w {0}`, \
             then `mayexec policy check`",
            fault.path.display()
        )),
        Err(_) => hints.push("fix the policy file, then `mayexec policy check`".to_owned()),
        Ok(Some(_)) => {}
    }
    let trust = enforcement
        .as_ref()
        .and_then(|e| e.trust.as_ref())
        .map(|t| {
            let status = t.store.status();
            if let Err(error) = &status {
                hints.push(format!(
                    "the trust database cannot be used ({error}): every file an enlightened \
                 interpreter loads as code is refused (trust-unavailable); create it with \
                 `mayexec trust from-dpkg`"
                ));
            }
            let mounts: Vec<String> = t
                .store
                .mounts()
                .iter()
                .map(|m| match &m.mount {
                    Ok(id) => format!("{}: honoured (mount {})", m.path.display(), id.id),
                    Err(e) => format!("{}: NOT honoured: {e}", m.path.display()),
                })
                .collect();
            if t.store.mounts().iter().all(|m| m.mount.is_err()) {
                hints.push(
                "trust is on but no listed mount is honoured (trust_mounts): no file is trusted"
                    .to_owned(),
            );
            }
            TrustReport {
                action: t.action,
                database: output::json_path(
                    t.store
                        .dir()
                        .join(mayexec::trust::DATABASE_FILE)
                        .as_os_str(),
                ),
                entries: status.as_ref().ok().map(|(n, _)| *n),
                error: status.err().map(|e| e.to_string()),
                mounts,
            }
        });
    let user_namespaces = user_namespaces(&bits, &mut hints);
    if let Some(e) = &enforcement {
        if !e.is_active() && kernel.exec_securebits {
            hints.push(
                "nothing is enforced for this process: `mayexec run -f -i -- CMD` restricts \
                 a process tree"
                    .to_owned(),
            );
        }
    }
    Report {
        interpreters: crate::interpreters::gather(&crate::interpreters::path_dirs(), false)
            .verdict()
            .to_owned(),
        backend: mayexec::Checker::full().backend().as_str(),
        securebits: Bits {
            raw: bits.bits(),
            exec_restrict_file: bits.contains(SecureBits::EXEC_RESTRICT_FILE),
            exec_restrict_file_locked: bits.contains(SecureBits::EXEC_RESTRICT_FILE_LOCKED),
            exec_deny_interactive: bits.contains(SecureBits::EXEC_DENY_INTERACTIVE),
            exec_deny_interactive_locked: bits.contains(SecureBits::EXEC_DENY_INTERACTIVE_LOCKED),
        },
        policy: policy::Report::from_load(SYSTEM_POLICY_PATH.as_ref(), &loaded),
        user_namespaces,
        enforcement: enforcement.map(|e| Effective {
            scripts: Scripts {
                level: e.checker.level().as_u8(),
                // With nothing in force nothing is checked: the backend a
                // policy would get.
                backend: if e.is_active() {
                    e.checker.backend()
                } else {
                    mayexec::Checker::full().backend()
                }
                .as_str(),
                action: e.scripts,
            },
            interactive: Interactive {
                action: e.interactive,
            },
            trust,
        }),
        kernel,
        hints,
    }
}

fn user_namespaces(bits: &SecureBits, hints: &mut Vec<String>) -> UserNamespaces {
    let host = crate::userns::HostUserNamespaces::read();
    let (initial, namespace) = match UserNamespace::current() {
        Ok(ns) => (Some(ns.is_initial()), ns.to_string()),
        Err(e) => (None, format!("unknown ({e})")),
    };
    let confined = crate::userns::creation_blocked();
    let exec_bits = SecureBits::EXEC_RESTRICT_FILE | SecureBits::EXEC_DENY_INTERACTIVE;
    if !confined && bits.intersects(exec_bits) {
        hints.push(
            "this process can create or join a user namespace, which resets its securebits \
             (lock bits too): start the tree with `mayexec run` (without --allow-userns), \
             whose seccomp filter prevents it"
                .to_owned(),
        );
    }
    if let Some(note) = crate::userns::file_policy_exposure(&host) {
        hints.push(note);
    }
    UserNamespaces {
        initial,
        namespace,
        confined,
        unprivileged_userns_clone: host.unprivileged_userns_clone,
        max_user_namespaces: host.max_user_namespaces,
        apparmor_restrict_unprivileged_userns: host.apparmor_restrict_unprivileged_userns,
        unprivileged_can_create: host.unprivileged_can_create(),
        file_policy_holds: !host.unprivileged_can_chroot(),
    }
}

fn describe(action: Action) -> &'static str {
    match action {
        Action::Ignore => "not enforced (checked for information only)",
        Action::Audit => "audit (denials logged, not refused)",
        Action::Enforce => "enforced (denials logged and refused)",
        // An action of a newer library: its name.
        _ => action.as_str(),
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "available"
    } else {
        "unavailable"
    }
}

fn on_off(on: bool, locked: bool) -> String {
    format!(
        "{}, {}",
        if on { "on" } else { "off" },
        if locked { "locked" } else { "unlocked" }
    )
}

fn print(r: &Report) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "kernel {}", r.kernel.release)?;
    write!(
        out,
        "  execve check (AT_EXECVE_CHECK):  {}",
        yes_no(r.kernel.execve_check)
    )?;
    match &r.kernel.execve_check_probe_errno {
        Some(errno) => writeln!(out, " (probe: {errno})")?,
        None => writeln!(out)?,
    }
    writeln!(
        out,
        "  exec securebits:                {}",
        yes_no(r.kernel.exec_securebits)
    )?;
    match r.kernel.landlock_abi {
        Some(abi) => writeln!(
            out,
            "  Landlock:                       ABI {abi} (`mayexec run --exec-allow` is enforced)"
        )?,
        None => writeln!(
            out,
            "  Landlock:                       {} (`mayexec run --exec-allow` is not enforced)",
            r.kernel.landlock
        )?,
    }
    writeln!(out, "backend for the full check:       {}", r.backend)?;
    writeln!(
        out,
        "securebits of this process:       {:#x}",
        r.securebits.raw
    )?;
    let b = &r.securebits;
    writeln!(
        out,
        "  SECBIT_EXEC_RESTRICT_FILE:      {}",
        on_off(b.exec_restrict_file, b.exec_restrict_file_locked)
    )?;
    writeln!(
        out,
        "  SECBIT_EXEC_DENY_INTERACTIVE:   {}",
        on_off(b.exec_deny_interactive, b.exec_deny_interactive_locked)
    )?;
    policy::print_report(&mut out, &r.policy)?;
    let u = &r.user_namespaces;
    writeln!(out, "user namespaces:")?;
    writeln!(out, "  this process:                   {}", u.namespace)?;
    writeln!(
        out,
        "  confined (seccomp):             {}",
        if u.confined {
            "yes: cannot create or join a user namespace, its securebits hold"
        } else {
            "no: entering a user namespace would reset its securebits"
        }
    )?;
    writeln!(
        out,
        "  unprivileged users:             {}",
        match (u.unprivileged_can_create, u.file_policy_holds) {
            (false, _) => "cannot create user namespaces",
            (true, true) => "can create user namespaces, without capabilities in them",
            (true, false) => {
                "can create user namespaces: the system policy file does not hold against them"
            }
        }
    )?;
    match &r.enforcement {
        Some(e) => {
            writeln!(out, "effective enforcement:")?;
            writeln!(
                out,
                "  script files:                   level {} ({} backend): {}",
                e.scripts.level,
                e.scripts.backend,
                describe(e.scripts.action)
            )?;
            writeln!(
                out,
                "  interactive input, -c:          {}",
                describe(e.interactive.action)
            )?;
            match &e.trust {
                None => writeln!(out, "  content trust:                  off")?,
                Some(t) => {
                    writeln!(
                        out,
                        "  content trust:                  {}; database {}: {}",
                        describe(t.action),
                        t.database,
                        match (&t.entries, &t.error) {
                            (Some(n), _) => format!("{n} files"),
                            (None, Some(e)) => format!("UNUSABLE, nothing is trusted: {e}"),
                            (None, None) => "?".to_owned(),
                        }
                    )?;
                    for mount in &t.mounts {
                        writeln!(out, "    {mount}")?;
                    }
                }
            }
        }
        None => writeln!(
            out,
            "effective enforcement:            none can be computed: enlightened interpreters refuse to run anything"
        )?,
    }
    writeln!(
        out,
        "interpreters on PATH:             {} (`mayexec interpreters`)",
        r.interpreters
    )?;
    for hint in &r.hints {
        writeln!(out, "Hint: {hint}")?;
    }
    Ok(())
}
