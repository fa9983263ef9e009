//! Gives the shared library its SONAME: rustc sets none for a cdylib, and
//! the installed file is `libmayexec.so.0.2.0`, found through
//! `libmayexec.so.0` at run time.
//!
//! The symbol versions (`mayexec.map`) are not applied here: rustc gives
//! the linker its own version script for a cdylib first, and the linker
//! keeps the first. `make install` links the installed library from the
//! static archive with the map instead (see the Makefile).

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets the version");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmayexec.so.{major}");
    println!("cargo:rerun-if-changed=build.rs");
}
