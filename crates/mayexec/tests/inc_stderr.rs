//! `examples/inc` with a stderr it cannot write (`2>/dev/full`, a pipe
//! nobody reads, a closed descriptor 2): the message is lost, the exit
//! status is not. A denial still exits 1, never 134 (a panic's abort).

use std::process::Command;

use mayexec_testkit::{
    outputs_with_unwritable_stderr, root_test, workspace_bin, workspace_example, TempDir,
};

fn assert_status(make: impl Fn() -> Command, expected: i32, what: &str) {
    for (how, out) in outputs_with_unwritable_stderr(make) {
        assert_eq!(
            out.status.code(),
            Some(expected),
            "{what} with stderr {how}: {:?}",
            out.status
        );
    }
}

#[root_test]
fn inc_exits_with_its_own_status_when_stderr_cannot_be_written() {
    let inc = workspace_example("mayexec", "inc");
    let dir = TempDir::new();
    let script = dir.write("count.inc", "+\n", 0o644);
    let absent = dir.path().join("absent.inc");

    assert_status(|| Command::new(&inc), 1, "usage error");
    assert_status(
        || {
            let mut cmd = Command::new(&inc);
            cmd.arg(&absent);
            cmd
        },
        1,
        "a missing script",
    );
    assert_status(
        || {
            let mut cmd = Command::new(&inc);
            cmd.args(["-c", "bad"]);
            cmd
        },
        1,
        "an unknown command",
    );
    // Denied: restrict-file and a script without an execute bit.
    assert_status(
        || {
            let mut cmd = Command::new(workspace_bin("mayexec"));
            cmd.args(["run", "-f", "--"]).arg(&inc).arg(&script);
            cmd
        },
        1,
        "a denied script",
    );
    // `?` prompts on stderr, then reads the number (stdin redirected by a
    // shell: the closed-stderr case runs the command through one).
    let five = dir.write("five", "5\n", 0o644);
    for (how, out) in outputs_with_unwritable_stderr(|| {
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "exec \"$0\" -c '?\n+' < \"$1\""])
            .arg(&inc)
            .arg(&five);
        cmd
    }) {
        assert_eq!(out.status.code(), Some(0), "`?` with stderr {how}");
        assert_eq!(out.stdout, b"6\n", "`?` with stderr {how}");
    }
}
