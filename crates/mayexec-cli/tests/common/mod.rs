//! Running the `mayexec` command under test and reading what it said.
#![allow(dead_code)] // each test file uses its own part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The `mayexec` binary this package builds.
pub fn mayexec() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mayexec"))
}

/// Runs it and collects its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run mayexec")
}

/// Its standard output, as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Its standard error, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Its standard output, as one JSON value.
pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

/// The C program `tests/c/NAME.c`, compiled into the test's scratch
/// directory (`$CC`, default `cc`). Call it once per test process.
pub fn compile_c(name: &str) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/c/{name}.c"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let status = Command::new(cc)
        .args(["-O", "-Wall", "-o"])
        .arg(&out)
        .arg(&source)
        .status()
        .expect("run the C compiler");
    assert!(status.success(), "compile {}", source.display());
    out
}
