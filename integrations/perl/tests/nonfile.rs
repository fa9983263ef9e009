//! Code that does not come from a regular file: a FIFO, a device or a pipe
//! named as the program (`perl FIFO`, `perl /dev/null`, `perl <(…)`, which
//! perl reads through /dev/fd/N), `-` and /dev/stdin on a pipe, and -e/-E.
//! Under a policy they are refused at once — never a hang waiting for a
//! writer; without one perl reads them as stock perl does.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use mayexec_perl::{denial, require_root_and_perl, Exit, Outcome, STOCK_PERL};
use mayexec_testkit::{root_test, workspace_bin, SpecialFiles};

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

/// A writer that opens `fifo` (blocking until a reader comes) and writes
/// a program into it.
fn fifo_writer(fifo: &Path) -> Child {
    Command::new("sh")
        .arg("-c")
        .arg("echo 'print qq(from the fifo\\n);' > \"$1\"")
        .arg("sh")
        .arg(fifo)
        .stdout(Stdio::null())
        .spawn()
        .expect("start the FIFO's writer")
}

#[root_test]
fn a_fifo_named_as_the_program_is_refused_at_once_under_a_policy() {
    let Some(perl) =
        require_root_and_perl("a_fifo_named_as_the_program_is_refused_at_once_under_a_policy")
    else {
        return;
    };
    let files = SpecialFiles::new();
    let fifo = files.path("fifo");
    for flag in ["-f", "-i", "-fi"] {
        // No writer: a perl that waited for one would time out.
        let got = Outcome::of(bounded(Some(flag), &perl).arg(&fifo));
        assert_eq!(
            got,
            Outcome::refused(denial(&fifo, "not-regular-file")),
            "{flag}"
        );
    }
    // Without a policy the FIFO is read once a writer comes, as stock perl.
    let mut writer = fifo_writer(&fifo);
    let got = Outcome::of(bounded(None, &perl).arg(&fifo));
    let _ = writer.wait();
    assert_eq!(got, Outcome::ran("from the fifo\n"));
}

#[root_test]
fn devices_and_dev_fd_pipes_are_not_programs_under_restrict_file() {
    let Some(perl) =
        require_root_and_perl("devices_and_dev_fd_pipes_are_not_programs_under_restrict_file")
    else {
        return;
    };
    let got = Outcome::of(bounded(Some("-f"), &perl).arg("/dev/null"));
    assert_eq!(
        got,
        Outcome::refused(denial("/dev/null", "not-regular-file"))
    );
    assert_eq!(
        Outcome::of(bounded(None, &perl).arg("/dev/null")),
        Outcome::of(bounded(None, Path::new(STOCK_PERL)).arg("/dev/null"))
    );

    // `perl <(…)`: the program is a pipe, /dev/fd/63 of the outer shell,
    // which perl reads from the inherited descriptor without a policy.
    let code = format!("'{}' <(echo 'print qq(from a pipe\\n);')", perl.display());
    let got = Outcome::of(
        bounded(Some("-f"), Path::new("/bin/bash"))
            .arg("-c")
            .arg(&code),
    );
    assert_eq!(
        got,
        Outcome::refused(denial("/dev/fd/63", "not-regular-file"))
    );
    let got = Outcome::of(bounded(None, Path::new("/bin/bash")).arg("-c").arg(&code));
    assert_eq!(got, Outcome::ran("from a pipe\n"));
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
fn stdin_dash_and_dev_stdin_on_a_pipe_are_refused_under_deny_interactive() {
    let Some(perl) = require_root_and_perl(
        "stdin_dash_and_dev_stdin_on_a_pipe_are_refused_under_deny_interactive",
    ) else {
        return;
    };
    for (args, label) in [
        (&[][..], "<stdin>"),
        (&["-"][..], "<stdin>"),
        (&["-x"][..], "<stdin>"),
        (&["/dev/stdin"][..], "/dev/stdin"),
        (&["/proc/self/fd/0"][..], "/proc/self/fd/0"),
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
    let Some(perl) =
        require_root_and_perl("dash_e_and_dash_capital_e_are_refused_under_deny_interactive")
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
    let Some(perl) = require_root_and_perl("dev_fd_n_programs_are_the_inherited_file_checked")
    else {
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
