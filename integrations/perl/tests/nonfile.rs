//! perl's own ways to code that is not a regular file (a FIFO, a device,
//! `perl <(…)`, `/dev/stdin` are the conformance suite's): standard input
//! as `-` and with `-x` on a pipe, `-e` and `-E`, and `/dev/fd/N`, which
//! perl reads from the inherited descriptor. Refused at once under a
//! policy — never a hang — and read as stock perl does without one.

use std::path::Path;
use std::process::{Command, Stdio};

use mayexec_perl::{denial, BUILT};
use mayexec_testkit::interp::{Exit, Outcome};
use mayexec_testkit::{root_test, workspace_bin};

/// `timeout 20 mayexec run FLAG -- PROGRAM` (no flag: no policy): a hang
/// is status 124, never a stuck test.
fn bounded(flag: Option<&str>, program: &Path) -> Command {
    let mut cmd = Command::new("timeout");
    cmd.arg("20");
    if let Some(flag) = flag {
        cmd.arg(workspace_bin("mayexec")).args(["run", flag, "--"]);
    }
    cmd.arg(program);
    cmd
}

/// `PERL ARGS` under `flag` with a pipe on stdin carrying a program.
fn piped(perl: &Path, flag: Option<&str>, args: &[&str]) -> Outcome {
    let mut echo = Command::new("echo")
        .arg("print qq(piped\\n);")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start echo");
    let mut cmd = bounded(flag, perl);
    cmd.args(args)
        .stdin(echo.stdout.take().expect("echo's stdout"));
    let got = Outcome::of(&mut cmd);
    let _ = echo.wait();
    got
}

#[root_test]
fn stdin_and_dash_and_dash_x_on_a_pipe_are_refused_under_deny_interactive() {
    let Some(perl) =
        BUILT.require("stdin_and_dash_and_dash_x_on_a_pipe_are_refused_under_deny_interactive")
    else {
        return;
    };
    // (`/dev/stdin` and `/proc/self/fd/0` are the conformance suite's.)
    for (args, label) in [
        (&[][..], "<stdin>"),
        (&["-"][..], "<stdin>"),
        (&["-x"][..], "<stdin>"),
    ] {
        assert_eq!(
            piped(&perl, Some("-i"), args),
            Outcome::refused(denial(label, "not-regular-file")),
            "{args:?}"
        );
        if args != ["-x"] {
            assert_eq!(
                piped(&perl, None, args),
                Outcome::ran("piped\n"),
                "{args:?}"
            );
        }
    }
}

#[root_test]
fn dash_e_and_dash_capital_e_are_refused_under_deny_interactive() {
    let Some(perl) = BUILT.require("dash_e_and_dash_capital_e_are_refused_under_deny_interactive")
    else {
        return;
    };
    for switch in ["-e", "-E"] {
        for flag in ["-i", "-fi"] {
            let got = Outcome::of(bounded(Some(flag), &perl).args([switch, "print 1"]));
            assert_eq!(
                got,
                Outcome::refused(denial(switch, "interactive")),
                "{flag} {switch}"
            );
        }
        // restrict-file alone leaves code from the command line alone; but
        // -E loads feature.pm, the system's (0644), which it refuses.
        let got = Outcome::of(bounded(Some("-f"), &perl).args([switch, "print 1"]));
        if switch == "-e" {
            assert_eq!(got, Outcome::ran("1"), "-f {switch}");
        } else {
            assert_eq!(got.exit, Exit::Code(libc::EACCES), "{got}");
            assert!(
                got.stderr
                    .starts_with("Can't locate feature.pm:   /usr/lib/x86_64-linux-gnu/perl-base/feature.pm: Permission denied"),
                "{got}"
            );
        }
        let got = Outcome::of(bounded(None, &perl).args([switch, "print 1"]));
        assert_eq!(got, Outcome::ran("1"), "{switch}");
    }
}

/// `perl /dev/fd/N` and perl's old set-id form `perl /dev/fd/N/NAME` (NAME
/// is only `$0`) read descriptor N: under a policy that is the file checked,
/// named `/dev/fd/N`, never a file called NAME.
#[root_test]
fn dev_fd_n_programs_are_the_inherited_file_checked() {
    let Some(perl) = BUILT.require("dev_fd_n_programs_are_the_inherited_file_checked") else {
        return;
    };
    let exec = mayexec_testkit::Tmpfs::exec();
    let allowed = exec.write("allowed.pl", "print qq(ran $0\\n);\n", 0o755);
    let denied = exec.write("denied.pl", "print qq(ran $0\\n);\n", 0o644);
    // bash opens the file as descriptor 3 and execs perl on it.
    let with_fd3 = |flag: Option<&str>, file: &Path, name: &str| {
        let mut cmd = bounded(flag, Path::new("/bin/bash"));
        cmd.arg("-c")
            .arg("exec 3<\"$1\"; exec \"$2\" \"$3\"")
            .arg("sh")
            .arg(file)
            .arg(&perl)
            .arg(name)
            .current_dir(exec.path());
        Outcome::of(&mut cmd)
    };
    for name in ["/dev/fd/3", "/dev/fd/3/allowed.pl"] {
        let label = name.rsplit_once("/dev/fd/3/").map_or(name, |(_, n)| n);
        let ran = Outcome::ran(format!("ran {label}\n"));
        assert_eq!(with_fd3(None, &denied, name), ran, "{name}");
        assert_eq!(with_fd3(Some("-f"), &allowed, name), ran, "-f {name}");
        assert_eq!(
            with_fd3(Some("-f"), &denied, name),
            Outcome::refused(denial("/dev/fd/3", "not-executable")),
            "-f {name}"
        );
    }
}
