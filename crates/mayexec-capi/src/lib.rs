//! libmayexec: mayexec's C ABI, for interpreters written in C.
//!
//! The header is `include/mayexec.h` (generated from this crate by
//! cbindgen); `make install PREFIX=DIR` installs `libmayexec.so`,
//! `libmayexec.a`, the header and `mayexec.pc`. See `docs/capi.md`.
//!
//! ```c
//! #include <mayexec.h>
//!
//! int fd = mayexec_open_script(path, O_CLOEXEC);
//! if (fd < 0) {
//!     fprintf(stderr, "sh: %s\n", mayexec_last_error());
//!     exit(126);
//! }
//! ```
//!
//! Every function is a thin translation to the `mayexec` crate: arguments
//! are checked (NULL pointers and negative descriptors are `EINVAL`), the
//! library is called, and its `Result` becomes `-1` + `errno` in one place
//! (`failure::entry`). No panic crosses the boundary: release builds
//! abort, and every exported body runs under `catch_unwind`.

mod api;
mod enforcement;
mod failure;
mod types;

pub use api::*;
pub use types::*;
