//! The RFC's `interpreted_access` levels.

use std::fmt;

/// What the check enforces, as the RFC's sysctl `fs.interpreted_access`
/// defined it: bit 0 checks the mount, bit 1 checks the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Level {
    /// 0: no policy; everything passes.
    #[default]
    Off = 0,
    /// 1: scripts must live on mounts without `noexec`.
    Mount = 1,
    /// 2: scripts must be executable by the caller.
    Permission = 2,
    /// 3: both; where the kernel has `AT_EXECVE_CHECK`, its full check.
    Full = 3,
}

impl Level {
    /// The level with this number (0–3).
    pub const fn from_u8(n: u8) -> Option<Level> {
        match n {
            0 => Some(Level::Off),
            1 => Some(Level::Mount),
            2 => Some(Level::Permission),
            3 => Some(Level::Full),
            _ => None,
        }
    }

    /// The RFC's number for this level.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// Does this level refuse scripts on `noexec` mounts?
    pub const fn checks_mount(self) -> bool {
        self.as_u8() & 1 != 0
    }

    /// Does this level refuse scripts the caller may not execute?
    pub const fn checks_file(self) -> bool {
        self.as_u8() & 2 != 0
    }

    /// The level that enforces everything either level enforces.
    pub const fn union(self, other: Level) -> Level {
        match Level::from_u8(self.as_u8() | other.as_u8()) {
            Some(level) => level,
            None => Level::Full,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_u8())
    }
}
