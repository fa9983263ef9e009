//! Script-execution control for Linux interpreters.
//!
//! `noexec` mounts and the execute bit stop `./evil.sh` but not `sh evil.sh`:
//! an interpreter opens code for *reading*. This crate lets an interpreter
//! ask "would executing this open file be allowed?" — with the kernel's
//! `execveat(…, AT_EXECVE_CHECK)` where it exists (Linux 6.14), and with a
//! faithful emulation of the script-execution-control RFC's rules everywhere
//! else — and tells it what the policy (the exec securebits and
//! `/etc/mayexec.conf`) wants done about the answer.
//!
//! ```
//! use mayexec::{Enforcement, ScriptError};
//!
//! # let dir = std::env::temp_dir().join(format!("mayexec-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let path = dir.join("hello.sh");
//! # std::fs::write(&path, "echo hello\n")?;
//! let enforcement = Enforcement::current()?;
//! match enforcement.open_script(&path) {
//!     // Interpret `script.file`: the very file that was checked.
//!     Ok(script) => println!("{}: {}", path.display(), script.verdict),
//!     Err(ScriptError::Denied(denial)) => eprintln!("sh: {denial}"),
//!     Err(ScriptError::Open(error)) => eprintln!("sh: {error}"),
//! }
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Checking and enforcing are separate: [`Checker::check`] only answers
//! (with a [`Verdict`] that says why), [`Enforcement`] decides and logs.
//!
//! # A surface that can grow
//!
//! A struct with public fields is `#[non_exhaustive]`: read and set its
//! fields, build it with its constructor (`Denial::of`, `Entry::new`,
//! `SystemPolicy::default` …), so that a new field is not a breaking
//! change. So is an enum that may gain variants (`Reason`, `Action`, every
//! error): match it with a `_` arm. Exhaustive on purpose: [`Level`] (the
//! RFC's four levels), [`Backend`] (one-to-one with the C ABI's
//! `mayexec_backend`: a new backend is a new ABI value every caller must
//! map), [`ScriptError`] (the two ways [`Enforcement::open_script`] fails)
//! and [`Verdict`] (allowed or denied; its variants may gain fields).
//! `crates/mayexec/api/mayexec.txt` lists the public API and CI compares
//! it with the code (`crates/mayexec/api/check.sh`): a change to it is
//! made on purpose.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod audit;
mod backend;
mod enforcement;
mod level;
pub mod policy;
pub mod rfc;
mod script;
pub mod securebits;
pub mod trust;
mod uapi;
pub mod userns;
mod verdict;

pub use backend::{
    check, kernel_check_available, kernel_check_probe, BackendChoice, Checker, CheckerError,
};
pub use enforcement::{Action, Denial, Enforcement, EnforcementError, ScriptError, Trust};
pub use level::Level;
pub use policy::SystemPolicy;
pub use script::{open_and_check, open_for_reading, OpenError, Script};
pub use uapi::{Errno, ENLIGHTENED_NOTE_OWNER, ENLIGHTENED_NOTE_SECTION, ENLIGHTENED_NOTE_TYPE};
pub use verdict::{Backend, Reason, Verdict};

/// Not part of the API: the raw system calls, for the benchmarks that
/// compare the library with the bare calls it makes.
#[doc(hidden)]
pub mod __bench {
    pub use crate::uapi::{execveat_check, faccess_fd, Errno, R_OK, X_OK};
}
