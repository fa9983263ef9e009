//! The exec securebits of Linux 6.14: per-process-tree enforcement that any
//! process may turn on (and lock) for itself and its descendants.
//!
//! Securebits are per-thread credentials: [`enable`] changes the calling
//! thread, and what it starts afterwards. Call it before spawning threads,
//! as `mayexec run` does right before `execve`.

use std::sync::OnceLock;

use crate::uapi::{self, Errno};

bitflags::bitflags! {
    /// The process's securebits (`prctl(PR_GET_SECUREBITS)`). Bits other than
    /// the exec ones are kept as they are.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct SecureBits: u32 {
        /// `SECBIT_EXEC_RESTRICT_FILE`
        const EXEC_RESTRICT_FILE = uapi::SECBIT_EXEC_RESTRICT_FILE;
        /// `SECBIT_EXEC_RESTRICT_FILE_LOCKED`
        const EXEC_RESTRICT_FILE_LOCKED = uapi::SECBIT_EXEC_RESTRICT_FILE_LOCKED;
        /// `SECBIT_EXEC_DENY_INTERACTIVE`
        const EXEC_DENY_INTERACTIVE = uapi::SECBIT_EXEC_DENY_INTERACTIVE;
        /// `SECBIT_EXEC_DENY_INTERACTIVE_LOCKED`
        const EXEC_DENY_INTERACTIVE_LOCKED = uapi::SECBIT_EXEC_DENY_INTERACTIVE_LOCKED;
        // Keep the bits this crate does not name (noroot, keep-caps …).
        const _ = !0;
    }
}

impl SecureBits {
    /// The lock bits that go with the exec bits in `self`.
    pub fn locks(self) -> SecureBits {
        let mut locks = SecureBits::empty();
        if self.contains(SecureBits::EXEC_RESTRICT_FILE) {
            locks |= SecureBits::EXEC_RESTRICT_FILE_LOCKED;
        }
        if self.contains(SecureBits::EXEC_DENY_INTERACTIVE) {
            locks |= SecureBits::EXEC_DENY_INTERACTIVE_LOCKED;
        }
        locks
    }
}

/// Why the exec securebits could not be read or set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecureBitsError {
    /// `prctl(PR_GET_SECUREBITS)` failed.
    #[error("prctl(PR_GET_SECUREBITS) failed: {0}")]
    Get(#[source] Errno),
    /// The kernel does not know the exec securebits.
    #[error(
        "the running kernel has no exec securebits (SECBIT_EXEC_RESTRICT_FILE, \
         SECBIT_EXEC_DENY_INTERACTIVE): they need Linux 6.14 or later"
    )]
    Unsupported,
    /// A bit to change is locked.
    #[error("securebits {locked:?} are locked and cannot be changed")]
    Locked {
        /// The locked bits in the way.
        locked: SecureBits,
    },
    /// `prctl(PR_SET_SECUREBITS)` failed for another reason.
    #[error("prctl(PR_SET_SECUREBITS, {bits:#x}) failed: {errno}")]
    Set {
        /// The bits that were asked for.
        bits: u32,
        /// The error.
        #[source]
        errno: Errno,
    },
}

/// This thread's securebits.
pub fn current() -> Result<SecureBits, SecureBitsError> {
    uapi::get_securebits()
        .map(SecureBits::from_bits_retain)
        .map_err(SecureBitsError::Get)
}

/// Sets this thread's securebits to exactly `bits` (a raw `PR_SET_SECUREBITS`).
pub fn set(bits: SecureBits) -> Result<(), SecureBitsError> {
    let old = current()?;
    uapi::set_securebits(bits.bits()).map_err(|errno| explain_set_error(old, bits, errno))
}

/// Turns on the exec bits in `bits` for this thread and what it starts, with
/// their lock bits when `lock` is true. Bits already set stay set. Returns
/// the new securebits.
pub fn enable(bits: SecureBits, lock: bool) -> Result<SecureBits, SecureBitsError> {
    let exec = bits & (SecureBits::EXEC_RESTRICT_FILE | SecureBits::EXEC_DENY_INTERACTIVE);
    let mut new = current()? | exec;
    if lock {
        new |= exec.locks();
    }
    set(new)?;
    Ok(new)
}

fn explain_set_error(old: SecureBits, new: SecureBits, errno: Errno) -> SecureBitsError {
    let exec_bits = SecureBits::EXEC_RESTRICT_FILE
        | SecureBits::EXEC_RESTRICT_FILE_LOCKED
        | SecureBits::EXEC_DENY_INTERACTIVE
        | SecureBits::EXEC_DENY_INTERACTIVE_LOCKED;
    if errno == Errno::PERM && (old ^ new).intersects(exec_bits) && !exec_securebits_supported() {
        return SecureBitsError::Unsupported;
    }
    // A set lock bit (the odd bits) freezes the bit below it; a lock can
    // never be cleared.
    let lock_mask = SecureBits::from_bits_retain(0xaaaa_aaaa);
    let locks = old & lock_mask;
    let frozen = SecureBits::from_bits_retain(locks.bits() >> 1) | locks;
    let locked = frozen & (old ^ new);
    if errno == Errno::PERM && !locked.is_empty() {
        return SecureBitsError::Locked { locked };
    }
    SecureBitsError::Set {
        bits: new.bits(),
        errno,
    }
}

/// Does the running kernel know the exec securebits (Linux 6.14)? Probed
/// once per process in a short-lived thread, whose credentials are its own,
/// so the probe changes nothing for the caller.
pub fn exec_securebits_supported() -> bool {
    static SUPPORTED: OnceLock<bool> = OnceLock::new();
    *SUPPORTED.get_or_init(|| {
        if let Ok(bits) = current() {
            if bits.intersects(SecureBits::EXEC_RESTRICT_FILE | SecureBits::EXEC_DENY_INTERACTIVE) {
                return true;
            }
        }
        std::thread::spawn(|| {
            let bits = uapi::get_securebits()?;
            uapi::set_securebits(bits | uapi::SECBIT_EXEC_RESTRICT_FILE)
        })
        .join()
        .is_ok_and(|result| result.is_ok())
    })
}
