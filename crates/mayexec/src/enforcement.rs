//! What is enforced: the stricter of the securebits and the system policy.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use std::sync::Arc;

use rustix::fs::FileType;

use crate::audit::{self, AuditRecord};
use crate::policy::{Mode, PolicyError, SystemPolicy, TrustMode};
use crate::securebits::{self, SecureBits, SecureBitsError};
use crate::trust::TrustStore;
use crate::{Backend, Checker, Level, OpenError, Reason, Script, Verdict};

/// What happens when a check fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Nothing: no policy asks for anything. The check still runs.
    Ignore,
    /// The denial is logged, the input is interpreted (`mode = "audit"`).
    Audit,
    /// The denial is logged and the input refused.
    Enforce,
}

impl Action {
    /// `ignore`, `audit` or `enforce`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Ignore => "ignore",
            Action::Audit => "audit",
            Action::Enforce => "enforce",
        }
    }

    fn of(mode: Mode) -> Action {
        match mode {
            Mode::Enforce => Action::Enforce,
            Mode::Audit => Action::Audit,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The effective enforcement for this process: read once, at start-up, and
/// consulted for every script and every piece of interactive input.
///
/// Nothing a user controls (environment, interpreter flags, files of
/// theirs) goes into it: only the securebits and the root-owned policy file.
/// Built by [`Enforcement::current`] or [`Enforcement::from_parts`]; fields
/// may be added.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Enforcement {
    /// The checker for script files and files loaded as code.
    pub checker: Checker,
    /// What a denied script file does.
    pub scripts: Action,
    /// What code not from a checked file does (`-c`, prompts, pipes).
    pub interactive: Action,
    /// The securebits it was computed from.
    pub securebits: SecureBits,
    /// The system policy it was computed from, if there is one.
    pub policy: Option<SystemPolicy>,
    /// Content trust, when the policy asks for it (`trust`).
    pub trust: Option<Trust>,
}

/// Content trust as enforced: files loaded as code must also be in the
/// trust database ([`crate::trust`]). It only ever adds denials.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Trust {
    /// What an untrusted file does: `enforce` (`trust = "required"`),
    /// `audit` (`trust = "audit"`, or any trust under `mode = "audit"`).
    pub action: Action,
    /// The database, as this process consults it.
    pub store: Arc<TrustStore>,
}

impl Trust {
    /// Files loaded as code must be in `store`; an untrusted one does
    /// `action`.
    pub fn new(action: Action, store: Arc<TrustStore>) -> Trust {
        Trust { action, store }
    }
}

/// The enforcement cannot be known; an interpreter must refuse everything.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnforcementError {
    /// The securebits could not be read.
    #[error(transparent)]
    SecureBits(#[from] SecureBitsError),
    /// The policy file exists but cannot be trusted or parsed.
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

/// Input refused by the enforcement: the interpreter must not interpret it.
/// Built from a verdict by [`Denial::of`]; fields may be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("{}: script execution denied ({reason})", Path::new(path).display())]
pub struct Denial {
    /// The file, or the label of the input (`-c`, `<stdin>` …).
    pub path: OsString,
    /// Why it was refused.
    pub reason: Reason,
    /// The error number a C caller sees (`EACCES`, `ETXTBSY`, or the
    /// unexpected error of a check that failed).
    pub errno: i32,
    /// Which backend decided.
    pub backend: Backend,
}

impl Denial {
    /// The refusal of `path` by `verdict`; `None` when the verdict allows.
    pub fn of(path: &OsStr, verdict: Verdict) -> Option<Denial> {
        match verdict {
            Verdict::Allowed { .. } => None,
            Verdict::Denied {
                reason,
                errno,
                backend,
            } => Some(Denial {
                path: path.to_owned(),
                reason,
                errno,
                backend,
            }),
        }
    }

    /// The verdict that refused it.
    pub fn verdict(&self) -> Verdict {
        Verdict::Denied {
            reason: self.reason,
            errno: self.errno,
            backend: self.backend,
        }
    }
}

/// A script could not be opened, or may not be interpreted.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// `open` failed.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The enforcement refused the script.
    #[error(transparent)]
    Denied(#[from] Denial),
}

/// The type of the open file behind `fd`, from one `fstat` (std's
/// `metadata` makes a `statx` of every field, for one of them).
fn file_type(fd: BorrowedFd<'_>) -> Option<FileType> {
    rustix::fs::fstat(fd)
        .ok()
        .map(|st| FileType::from_raw_mode(st.st_mode))
}

/// Waits until a FIFO opened without blocking has had a writer: Linux
/// reports neither data nor hang-up on a FIFO no writer has opened since
/// the reader did, so `poll` returns exactly when a blocking `open` would
/// have (or later, when the writer has written or gone).
fn wait_for_a_writer(fifo: &std::fs::File) -> std::io::Result<()> {
    use rustix::event::{poll, PollFd, PollFlags};
    let mut fds = [PollFd::new(fifo, PollFlags::IN)];
    loop {
        match poll(&mut fds, None) {
            Ok(_) => return Ok(()),
            Err(rustix::io::Errno::INTR) => continue,
            Err(errno) => return Err(errno.into()),
        }
    }
}

impl Enforcement {
    /// The enforcement in force: this thread's securebits and the system
    /// policy file.
    pub fn current() -> Result<Enforcement, EnforcementError> {
        let securebits = securebits::current()?;
        let policy = SystemPolicy::load()?;
        Ok(Enforcement::from_parts(securebits, policy))
    }

    /// Combines securebits and a system policy: the stricter of the two.
    ///
    /// `SECBIT_EXEC_RESTRICT_FILE` means the full check, enforced (audit mode
    /// never relaxes it); otherwise the policy's level in the policy's mode.
    /// With neither, nothing is in force ([`Enforcement::is_active`] is
    /// false): scripts are opened and not checked.
    ///
    /// A policy that asks for content trust gets this process's store of
    /// the system's trust database ([`TrustStore::system`]).
    pub fn from_parts(securebits: SecureBits, policy: Option<SystemPolicy>) -> Enforcement {
        let trust = policy.as_ref().and_then(|p| {
            let action = match (p.trust, p.mode) {
                (TrustMode::Off, _) => return None,
                (TrustMode::Required, Mode::Enforce) => Action::Enforce,
                _ => Action::Audit,
            };
            Some(Trust {
                action,
                store: TrustStore::system(&p.trust_mounts),
            })
        });
        Enforcement::without_trust(securebits, policy).with_trust(trust)
    }

    /// Replaces the content trust (for embedders and tests that keep their
    /// own database; interpreters take the policy's, [`Enforcement::from_parts`]).
    pub fn with_trust(mut self, trust: Option<Trust>) -> Enforcement {
        if trust.is_some() && !self.is_active() {
            // Files will be checked after all: with the best backend.
            self.checker = Checker::new(self.checker.level(), crate::BackendChoice::Auto)
                .expect("the automatic choice always has a backend");
        }
        self.trust = trust;
        self
    }

    fn without_trust(securebits: SecureBits, policy: Option<SystemPolicy>) -> Enforcement {
        let policy_action = policy.as_ref().map(|p| Action::of(p.mode));
        let (level, scripts) = match &policy {
            _ if securebits.contains(SecureBits::EXEC_RESTRICT_FILE) => {
                (Level::Full, Action::Enforce)
            }
            Some(p) if p.interpreted_access != Level::Off => {
                (p.interpreted_access, Action::of(p.mode))
            }
            _ => (Level::Full, Action::Ignore),
        };
        let interactive = match &policy {
            _ if securebits.contains(SecureBits::EXEC_DENY_INTERACTIVE) => Action::Enforce,
            Some(p) if p.deny_interactive => policy_action.unwrap_or(Action::Enforce),
            _ => Action::Ignore,
        };
        // With nothing in force no file is checked: the kernel is not even
        // probed (`with_trust` and `check` choose again if they need to).
        let choice = if scripts == Action::Ignore && interactive == Action::Ignore {
            crate::BackendChoice::Emulated
        } else {
            crate::BackendChoice::Auto
        };
        let checker = Checker::new(level, choice)
            .expect("the automatic and emulated choices always have a backend");
        Enforcement {
            checker,
            scripts,
            interactive,
            securebits,
            policy,
            trust: None,
        }
    }

    /// Opens a script, checks it, logs a denial, and refuses it when
    /// enforced. Use for the main script and every file loaded as code.
    ///
    /// A "script" that is not a regular file (`/dev/stdin` on a pipe,
    /// `/proc/self/fd/0`, a FIFO, a terminal) carries piped or typed code:
    /// it is interactive input as well, and deny-interactive refuses it
    /// even where file restriction is off.
    ///
    /// A FIFO that may be interpreted (only ever without a policy: every
    /// level refuses FIFOs) is waited on until a writer comes, as a plain
    /// blocking `open` would, instead of reading an early end of file.
    pub fn open_script<P: AsRef<Path>>(&self, path: P) -> Result<Script, ScriptError> {
        let path = path.as_ref();
        if self.scripts == Action::Ignore && self.trust.is_none() {
            return self.open_unjudged(path);
        }
        let mut script = self.checker.open_and_check(path)?;
        let checked = script.verdict;
        let verdict = self.decide(path.as_os_str(), checked, self.scripts)?;
        script.verdict =
            self.decide_trust(path.as_os_str(), script.file.as_fd(), verdict, self.scripts)?;
        // A type that cannot be read is not known to be a regular file.
        let file_type = file_type(script.file.as_fd());
        // Logged once: a denial the script decision already logged with
        // the same action is not logged again as interactive input.
        let already_decided = !checked.is_allowed() && self.scripts == self.interactive;
        if file_type != Some(FileType::RegularFile) && !already_decided {
            self.check_interactive(Some(script.file.as_fd()), path.as_os_str())?;
        }
        if file_type == Some(FileType::Fifo) {
            wait_for_a_writer(&script.file).map_err(|source| OpenError {
                path: path.to_owned(),
                source,
            })?;
        }
        Ok(script)
    }

    /// Where no rule judges script files (no level, no restrict-file
    /// securebit, no content trust), a script is opened as a plain `open`
    /// would, and a regular file is not checked: no answer would be used.
    /// Its verdict says "allowed" ([`Enforcement::unchecked`]). Anything
    /// else is still interactive input, and a FIFO is waited on, as in
    /// [`Enforcement::open_script`].
    fn open_unjudged(&self, path: &Path) -> Result<Script, ScriptError> {
        if !self.is_active() {
            // Not even interactive input is judged: one plain `open`, as the
            // stock interpreter's (a FIFO waits for its writer in it).
            return Ok(Script {
                file: crate::script::open_plainly(path)?,
                verdict: self.unchecked(),
            });
        }
        let file = crate::open_for_reading(path)?;
        let file_type = file_type(file.as_fd());
        if file_type != Some(FileType::RegularFile) {
            self.check_interactive(Some(file.as_fd()), path.as_os_str())?;
        }
        if file_type == Some(FileType::Fifo) {
            wait_for_a_writer(&file).map_err(|source| OpenError {
                path: path.to_owned(),
                source,
            })?;
        }
        Ok(Script {
            file,
            verdict: self.unchecked(),
        })
    }

    /// The verdict on input that nothing in force judges, given without a
    /// check: allowed, by the backend that would have checked.
    fn unchecked(&self) -> Verdict {
        Verdict::allow(self.checker.chosen_backend())
    }

    /// Checks a script file the caller already opened; `path` names it in
    /// logs and messages. Where no rule judges script files, nothing is
    /// checked.
    pub fn check_script<Fd: AsFd>(&self, fd: Fd, path: &OsStr) -> Result<Verdict, Denial> {
        if self.scripts == Action::Ignore && self.trust.is_none() {
            return Ok(self.unchecked());
        }
        let fd = fd.as_fd();
        let verdict = self.decide(path, self.checker.check(fd), self.scripts)?;
        self.decide_trust(path, fd, verdict, self.scripts)
    }

    /// The verdict on the file behind `fd` at the effective level, with
    /// content trust where the policy asks for it; never logs, never
    /// refuses (what `mayexec_check_fd` answers).
    pub fn check<Fd: AsFd>(&self, fd: Fd) -> Verdict {
        let fd = fd.as_fd();
        let verdict = if self.is_active() {
            self.checker.check(fd)
        } else {
            // The full check, best effort, for whoever asks.
            Checker::full().check(fd)
        };
        match &self.trust {
            Some(trust) => trust.store.judge(fd, verdict),
            None => verdict,
        }
    }

    /// Adds content trust to a decision already made with `action`: a
    /// file the level let through (or that no level governs) must also be
    /// trusted. A denial already logged or refused is not judged again.
    fn decide_trust(
        &self,
        path: &OsStr,
        fd: BorrowedFd<'_>,
        verdict: Verdict,
        action: Action,
    ) -> Result<Verdict, Denial> {
        let Some(trust) = &self.trust else {
            return Ok(verdict);
        };
        if !verdict.is_allowed() && action != Action::Ignore {
            return Ok(verdict);
        }
        // Judged as if the level had allowed it: what no level governs
        // must be trusted all the same.
        match trust.store.judge(fd, Verdict::allow(verdict.backend())) {
            judged if judged.is_allowed() => Ok(verdict),
            denied => self.decide(path, denied, trust.action),
        }
    }

    /// May this interactive input be interpreted? `input` is the descriptor
    /// code will be read from (stdin), or `None` for code given on the
    /// command line or typed at a prompt; `label` names it in messages.
    ///
    /// Under deny-interactive, only a regular file that passes the full
    /// check is allowed.
    pub fn check_interactive(
        &self,
        input: Option<BorrowedFd<'_>>,
        label: &OsStr,
    ) -> Result<Verdict, Denial> {
        if self.interactive == Action::Ignore {
            // Nothing judges interactive input: no check is made.
            return Ok(self.unchecked());
        }
        let verdict = match input {
            Some(fd) => Checker::full().check(fd),
            None => Verdict::deny(self.checker.chosen_backend(), Reason::Interactive),
        };
        let verdict = self.decide(label, verdict, self.interactive)?;
        // A file read as code where no other way in is open (deny-
        // interactive) must be trusted too.
        match input {
            Some(fd) if self.interactive != Action::Ignore && verdict.is_allowed() => {
                self.decide_trust(label, fd, verdict, self.interactive)
            }
            _ => Ok(verdict),
        }
    }

    /// Does any policy ask for anything? When not, an interpreter opens its
    /// scripts as a plain `open` would and checks nothing (not even
    /// whether the kernel can check), and refuses and logs nothing.
    pub fn is_active(&self) -> bool {
        self.scripts != Action::Ignore || self.interactive != Action::Ignore || self.trust.is_some()
    }

    /// Checks a file named `path` that the caller opened `O_PATH` (the RFC
    /// drop-in) against the trust database, after the level let it
    /// through.
    pub(crate) fn decide_trust_path(
        &self,
        path: &OsStr,
        fd: BorrowedFd<'_>,
        verdict: Verdict,
    ) -> Result<Verdict, Denial> {
        self.decide_trust(path, fd, verdict, self.scripts)
    }

    pub(crate) fn decide(
        &self,
        path: &OsStr,
        verdict: Verdict,
        action: Action,
    ) -> Result<Verdict, Denial> {
        let denial = match Denial::of(path, verdict) {
            Some(denial) if action != Action::Ignore => denial,
            _ => return Ok(verdict),
        };
        // A failure to reach syslog must not change what the input may do.
        let _ = audit::log(&AuditRecord::new(
            path,
            denial.reason,
            denial.backend,
            action == Action::Enforce,
        ));
        match action {
            Action::Enforce => Err(denial),
            _ => Ok(verdict),
        }
    }
}
