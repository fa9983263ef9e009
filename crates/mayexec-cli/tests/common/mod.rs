//! Running the `mayexec` command under test and reading what it said.
#![allow(dead_code)] // each test file uses its own part

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
