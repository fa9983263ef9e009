//! Rolling out mayexec enforcement on a real system: what would it break,
//! and the fix for what is denied only for its mode.
//!
//! [`scan`] walks trees for the files interpreters load as code and the
//! check's verdict on each; [`mark`] adds execute bits where the read bits
//! are, with a write-ahead journal that [`mark::undo`] reverses exactly.
//! [`inventory`] finds the interpreters a host has — by name, by what the
//! file is ([`content`]) and by the Debian package that installed it
//! ([`package`]) — and reads from each file whether it obeys the check.
//! The `mayexec scan`, `mark` and `interpreters` commands print what these
//! return.
//! The `mayexec` library that interpreters link knows nothing of them.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod content;
pub mod elf;
pub mod inventory;
pub mod mark;
pub mod markd;
pub mod package;
pub mod scan;
