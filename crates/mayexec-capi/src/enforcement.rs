//! The effective enforcement, as libmayexec computes it for each call.
//!
//! The system policy file is read once per process (at the first call that
//! needs it) and cached, error included: an interpreter's answers stay
//! consistent for its whole life, as the library's `Enforcement::current()`
//! read at start-up would be, and a long-running process costs no file
//! walk per script. The securebits are read again at every call: one
//! `prctl`, and a process may turn its own bits on after it started (they
//! can only be added, never removed once locked).

use std::sync::OnceLock;

use mayexec::securebits::{self, SecureBits};
use mayexec::{Enforcement, SystemPolicy};

use crate::failure::Failure;

/// The policy file as first read: the policy (or none), or the message of
/// why it cannot be used.
fn policy() -> &'static Result<Option<SystemPolicy>, String> {
    static POLICY: OnceLock<Result<Option<SystemPolicy>, String>> = OnceLock::new();
    POLICY.get_or_init(|| SystemPolicy::load().map_err(|error| error.to_string()))
}

/// This thread's securebits with the cached system policy. An untrusted or
/// malformed policy file is `EACCES` with a message naming the file.
pub(crate) fn current() -> Result<Enforcement, Failure> {
    let policy = policy()
        .clone()
        .map_err(|message| Failure::new(libc::EACCES, message))?;
    let bits = securebits::current()
        .map_err(|error| Failure::new(libc::EIO, format!("libmayexec: {error}")))?;
    Ok(Enforcement::from_parts(bits, policy))
}

/// No securebits, no policy: for the calls that consult neither.
pub(crate) fn none() -> Enforcement {
    Enforcement::from_parts(SecureBits::empty(), None)
}
