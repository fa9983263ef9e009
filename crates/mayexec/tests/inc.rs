//! `examples/inc`: every row of the kernel's upstream test table for its
//! sample interpreter (`tools/testing/selftests/exec/check-exec-tests.sh`),
//! on exec and noexec tmpfs mounts, under `mayexec run -f/-i/-fi`; the
//! system policy on top; and the language itself.
//!
//! One adaptation: the upstream table runs direct executions through its
//! `set-exec` tool, which exits 1 when `execve` fails, and through bash
//! (126). Here a refused direct execution is `mayexec run`'s 126, or the
//! spawn failing with `EACCES` when no runner is in between.

use std::ffi::OsStr;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mayexec_testkit::interp::{Backend, Enforced};
use mayexec_testkit::{on_both_backends, root_test, workspace_example, Sandbox, Tmpfs};

const SCRIPT_BODY: &str = "+\n";

fn inc() -> PathBuf {
    workspace_example("mayexec", "inc")
}

/// `PROG` under `bits` (no policy, or `mayexec run -f/-i/-fi`), with the
/// check of `backend`; add PROG's arguments.
fn under(bits: Enforced, backend: Backend, program: &Path) -> Command {
    let plain = |p: &OsStr| Command::new(p);
    let launch = backend.launcher(&plain);
    bits.command_with(program.as_os_str(), &launch)
}

fn run(mut cmd: Command, stdin: Option<&[u8]>, stdin_file: Option<&Path>) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    match (stdin, stdin_file) {
        (_, Some(file)) => {
            cmd.stdin(std::fs::File::open(file).expect("open stdin file"));
        }
        (Some(_), None) => {
            cmd.stdin(Stdio::piped());
        }
        (None, None) => {
            cmd.stdin(Stdio::null());
        }
    }
    let mut child = cmd.spawn().expect("spawn");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        // inc may refuse the pipe before reading it: EPIPE is fine.
        let _ = pipe.write_all(bytes);
    }
    child.wait_with_output().expect("wait")
}

/// Exit status 0 with output "1", or exit status 1 (the sample's).
fn assert_outcome(row: &str, output: &Output, allowed: bool) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    if allowed {
        assert_eq!(output.status.code(), Some(0), "{row}: {stderr}");
        assert_eq!(String::from_utf8_lossy(&output.stdout), "1\n", "{row}");
    } else {
        assert_eq!(output.status.code(), Some(1), "{row}: {stderr}");
        assert!(output.stdout.is_empty(), "{row}: nothing interpreted");
        assert!(
            stderr.contains("script execution denied"),
            "{row}: {stderr}"
        );
    }
}

on_both_backends! {
    /// The upstream table with the kernel's check and with the emulated one.
    fn upstream_table_on_exec_and_noexec_mounts(backend) {
        let inc = inc();
        let shebang = format!("#!{}\n{SCRIPT_BODY}", inc.display());
        let exec = Tmpfs::exec();
        let noexec = Tmpfs::noexec();
        let mut rows = 0;
        for mount in [&exec, &noexec] {
            for mode in [0o755, 0o644] {
                let script = mount.write(format!("script-{mode:o}.inc"), &shebang, mode);
                let executable = !mount.is_noexec() && mode == 0o755;
                for bits in Enforced::BITS {
                    let what = format!("{} {mode:o} {bits:?}", mount.path().display());

                    // exec_direct: the kernel decides, through the shebang,
                    // whatever the backend; it runs once.
                    let mut direct = under(bits, Backend::Kernel, &script);
                    direct.stdout(Stdio::piped()).stderr(Stdio::piped());
                    match (direct.output(), executable, bits) {
                        _ if backend == Backend::Emulated => {}
                        (Ok(out), true, _) => assert_outcome(&format!("direct {what}"), &out, true),
                        (Ok(out), false, Enforced::Nothing) => panic!("direct {what}: ran: {out:?}"),
                        (Ok(out), false, _) => {
                            assert_eq!(out.status.code(), Some(126), "direct {what}: {out:?}")
                        }
                        (Err(e), false, Enforced::Nothing) => {
                            assert_eq!(e.kind(), ErrorKind::PermissionDenied, "direct {what}")
                        }
                        (Err(e), _, _) => panic!("direct {what}: {e}"),
                    }

                    // exec_indirect: `inc SCRIPT` enforces under restrict-file.
                    let mut indirect = under(bits, backend, &inc);
                    indirect.arg(&script);
                    let allowed = executable || !bits.restricts_files();
                    assert_outcome(
                        &format!("indirect {what}"),
                        &run(indirect, None, None),
                        allowed,
                    );

                    // exec_stdin_reg: `inc -i < SCRIPT` enforces under deny-interactive.
                    let mut stdin_reg = under(bits, backend, &inc);
                    stdin_reg.arg("-i");
                    let allowed = executable || !bits.denies_interactive();
                    assert_outcome(
                        &format!("stdin_reg {what}"),
                        &run(stdin_reg, None, Some(&script)),
                        allowed,
                    );
                    rows += if backend == Backend::Kernel { 3 } else { 2 };
                }
            }
        }
        // exec_interactive: a pipe on stdin, and -c, refused under deny-interactive.
        for bits in Enforced::BITS {
            let mut pipe = under(bits, backend, &inc);
            pipe.arg("-i");
            let out = run(pipe, Some(shebang.as_bytes()), None);
            assert_outcome(
                &format!("stdin_pipe {bits:?}"),
                &out,
                !bits.denies_interactive(),
            );
            let mut argument = under(bits, backend, &inc);
            argument.arg("-c").arg(&shebang);
            let out = run(argument, None, None);
            assert_outcome(
                &format!("argument {bits:?}"),
                &out,
                !bits.denies_interactive(),
            );
            rows += 2;
        }
        assert_eq!(rows, if backend == Backend::Kernel { 56 } else { 40 });
    }
}

#[root_test]
fn denial_messages_name_the_input_and_the_reason() {
    let inc = inc();
    let noexec = Tmpfs::noexec();
    let script = noexec.write("x.inc", SCRIPT_BODY, 0o755);
    let mut cmd = under(Enforced::RunF, Backend::Kernel, &inc);
    cmd.arg(&script);
    let out = run(cmd, None, None);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "inc: {}: script execution denied (noexec-mount)\n",
            script.display()
        )
    );
    let mut cmd = under(Enforced::RunI, Backend::Kernel, &inc);
    cmd.args(["-c", "+"]);
    let out = run(cmd, None, None);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "inc: -c: script execution denied (interactive)\n"
    );
}

/// A "script" that is not a regular file is piped or typed code: under
/// deny-interactive alone (no file restriction) it is refused like stdin,
/// and without any policy it runs like stdin.
#[root_test]
fn non_file_scripts_are_interactive_input() {
    let inc = inc();
    let exec = Tmpfs::exec();
    let file = exec.write("s.inc", SCRIPT_BODY, 0o755);
    for name in ["/dev/stdin", "/proc/self/fd/0"] {
        for bits in Enforced::BITS {
            let mut cmd = under(bits, Backend::Kernel, &inc);
            cmd.arg(name);
            let row = format!("{bits:?} {name} on a pipe");
            let out = run(cmd, Some(SCRIPT_BODY.as_bytes()), None);
            assert_outcome(&row, &out, bits == Enforced::Nothing);
        }
        // A regular file behind the name is a script file: only file
        // restriction governs it.
        let mut cmd = under(Enforced::RunI, Backend::Kernel, &inc);
        cmd.arg(name);
        let row = format!("I {name} on a checked file");
        assert_outcome(&row, &run(cmd, None, Some(&file)), true);
    }
    let fifo = exec.path().join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .expect("mkfifo");
    let mut cmd = under(Enforced::RunI, Backend::Kernel, &inc);
    cmd.arg(&fifo);
    // Refused before any writer comes: the test would hang otherwise.
    assert_outcome("I fifo", &run(cmd, None, None), false);
    let sandbox = Sandbox::new().policy("deny_interactive = true");
    let mut cmd = sandbox.command(&inc);
    cmd.arg("/dev/stdin");
    let out = run(cmd, Some(SCRIPT_BODY.as_bytes()), None);
    assert_outcome("policy deny_interactive /dev/stdin", &out, false);
}

/// The system policy adds to the securebits: `inc` obeys the stricter.
#[root_test]
fn system_policy_levels_and_modes() {
    let inc = inc();
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    let on_noexec = noexec.write("s.inc", SCRIPT_BODY, 0o755);
    let not_executable = exec.write("s.inc", SCRIPT_BODY, 0o644);
    let cases = [
        // (policy, script, allowed, reason)
        ("interpreted_access = 1", &on_noexec, false, "noexec-mount"),
        ("interpreted_access = 1", &not_executable, true, ""),
        ("interpreted_access = 2", &on_noexec, true, ""),
        (
            "interpreted_access = 2",
            &not_executable,
            false,
            "not-executable",
        ),
        ("interpreted_access = 3", &on_noexec, false, "noexec-mount"),
        (
            "interpreted_access = 3",
            &not_executable,
            false,
            "not-executable",
        ),
        ("interpreted_access = 0", &on_noexec, true, ""),
        (
            "interpreted_access = 3\nmode = \"audit\"",
            &on_noexec,
            true,
            "",
        ),
    ];
    for (policy, script, allowed, reason) in cases {
        let sandbox = Sandbox::new().policy(policy).capture_syslog();
        let mut cmd = sandbox.command(&inc);
        cmd.arg(script);
        let out = run(cmd, None, None);
        let row = format!("{policy:?} {}", script.display());
        assert_outcome(&row, &out, allowed);
        let lines = sandbox.syslog_lines();
        if !allowed {
            assert!(
                String::from_utf8_lossy(&out.stderr).contains(&format!("({reason})")),
                "{row}: {out:?}"
            );
            assert!(
                lines.iter().any(|l| l.contains("action=denied")),
                "{row}: {lines:?}"
            );
        } else if policy.contains("audit") {
            assert!(
                lines
                    .iter()
                    .any(|l| l.contains("reason=noexec-mount") && l.contains("action=audit")),
                "{row}: the audit-mode denial is logged: {lines:?}"
            );
        }
    }
}

#[root_test]
fn policy_deny_interactive_refuses_c_and_pipes_but_not_checked_files() {
    let inc = inc();
    let exec = Tmpfs::exec();
    let script = exec.write("s.inc", SCRIPT_BODY, 0o755);
    let sandbox = Sandbox::new().policy("deny_interactive = true");
    let mut c = sandbox.command(&inc);
    c.args(["-c", "+"]);
    assert_outcome("policy -c", &run(c, None, None), false);
    let mut pipe = sandbox.command(&inc);
    pipe.arg("-i");
    assert_outcome("policy pipe", &run(pipe, Some(b"+\n"), None), false);
    let mut file = sandbox.command(&inc);
    file.arg("-i");
    assert_outcome("policy stdin file", &run(file, None, Some(&script)), true);
}

#[root_test]
fn a_malformed_policy_refuses_everything_naming_the_file() {
    let inc = inc();
    let sandbox = Sandbox::new().policy("interpreted_access = \"lots\"");
    let mut cmd = sandbox.command(&inc);
    cmd.args(["-c", "+"]);
    let out = run(cmd, None, None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("inc: /etc/mayexec.conf: invalid policy file"),
        "{stderr}"
    );
}

fn inc_c(program: &str, stdin: &[u8]) -> Output {
    let mut cmd = Command::new(inc());
    cmd.arg("-c").arg(program);
    run(cmd, Some(stdin), None)
}

#[test]
fn plus_counts_from_zero_and_prints_each_value() {
    let out = inc_c("+\n+\n+", b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n2\n3\n");
}

#[test]
fn question_mark_reads_the_counter_from_stdin() {
    let out = inc_c("?\n+", b"41\n");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "42\n");
}

#[test]
fn question_mark_without_a_number_warns_and_keeps_the_counter() {
    let out = inc_c("+\n?\n+", b"forty\n");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n2\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning"));
}

#[test]
fn comments_shebangs_and_empty_lines_are_ignored() {
    let out = inc_c("#!/usr/bin/env inc\n# a comment\n\n+\n", b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n");
}

#[test]
fn anything_else_is_an_error_after_the_lines_before_it_ran() {
    for program in ["+\nx\n+", "+\n++", "+\n +", "+\n-"] {
        let out = inc_c(program, b"");
        assert_eq!(out.status.code(), Some(1), "{program:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n", "{program:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("line 2: unknown command"),
            "{program:?}: {out:?}"
        );
    }
}

#[test]
fn command_line_is_the_samples() {
    let inc = inc();
    let status = |args: &[&str]| {
        Command::new(&inc)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run inc")
            .code()
    };
    // Usage errors: no argument, two inputs, unknown options, -c without CMD.
    for args in [
        &[][..],
        &["-i", "-c", "+"],
        &["a", "b"],
        &["-x"],
        &["-c"],
        &["-i", "x"],
    ] {
        assert_eq!(status(args), Some(1), "{args:?}");
    }
    assert_eq!(status(&["-c+"]), Some(0), "-cCMD, as getopt allows");
    assert_eq!(status(&["-i"]), Some(0), "an empty program on stdin");
    assert_eq!(status(&["/nonexistent/script.inc"]), Some(1));
}

/// `inc -c CODE` through the testkit's one body for code from no file
/// (`mayexec_testkit::nofile`): refused under `run -i`, `-fi` and
/// `deny_interactive`, logged, kept in audit mode, run without a policy,
/// as root and as nobody. The kernel sample exits 1 where others exit 126.
#[root_test]
fn code_on_the_command_line_follows_the_contract_for_code_from_no_file() {
    use mayexec_testkit::nofile::{CodeFromNoFile, Refusal};
    CodeFromNoFile::new("inc -c", inc())
        .args(["-c", "+\n+\n+\n+\n+\n+\n+\n"])
        .marker("7\n")
        .label("-c")
        .refusal(Refusal::Fails(
            1,
            "inc: -c: script execution denied (interactive)\n".into(),
        ))
        .assert_contract();
}
