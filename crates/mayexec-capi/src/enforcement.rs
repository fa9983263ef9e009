//! The effective enforcement, as libmayexec computes it for each call.
//!
//! The system policy file is read once per process (at the first call that
//! needs it) and cached, with a verdict on the file included (untrusted,
//! malformed): an interpreter's answers stay consistent for its whole life,
//! as the library's `Enforcement::current()` read at start-up would be, and
//! a long-running process costs no file walk per script. A failure to read
//! the file at all (`EMFILE`, `ENOMEM`) refuses that call only and is
//! retried by the next: cached, it would refuse everything until restart. The securebits are read again at every call: one
//! `prctl`, and a process may turn its own bits on after it started (they
//! can only be added, never removed once locked).

use std::sync::OnceLock;

use mayexec::policy::PolicyError;
use mayexec::securebits::{self, SecureBits};
use mayexec::{Enforcement, SystemPolicy};

use crate::failure::Failure;

/// The policy file as first read: the policy (or none), or the message of
/// why it cannot be used. A read error is returned, not cached.
fn policy() -> Result<Option<SystemPolicy>, String> {
    static POLICY: OnceLock<Result<Option<SystemPolicy>, String>> = OnceLock::new();
    if let Some(cached) = POLICY.get() {
        return cached.clone();
    }
    match SystemPolicy::load() {
        Err(error @ PolicyError::Read { .. }) => Err(error.to_string()),
        loaded => POLICY
            .get_or_init(|| loaded.map_err(|error| error.to_string()))
            .clone(),
    }
}

/// This thread's securebits with the cached system policy. An untrusted or
/// malformed policy file is `EACCES` with a message naming the file.
pub(crate) fn current() -> Result<Enforcement, Failure> {
    let policy = policy().map_err(|message| Failure::new(libc::EACCES, message))?;
    let bits = securebits::current()
        .map_err(|error| Failure::new(libc::EIO, format!("libmayexec: {error}")))?;
    Ok(Enforcement::from_parts(bits, policy))
}

/// No securebits, no policy: for the calls that consult neither.
pub(crate) fn none() -> Enforcement {
    Enforcement::from_parts(SecureBits::empty(), None)
}
