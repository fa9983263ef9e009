//! Program files of the applets other than the shell: `awk -f FILE`,
//! `mim -f FILE` (a Mimfile), `ifup -i FILE` (an interfaces file, whose
//! `pre-up` lines go to the shell) and vi's `~/.exrc`, each with code in
//! every place (0755 and 0644 on an exec tmpfs, 0755 on a `noexec` one) ×
//! every enforcement (no policy, `mayexec run -f`/`-i`/`-fi`, policy levels
//! 1–3), as root and as nobody: a file is checked like a script, on the
//! descriptor the applet reads. Without a policy each runs as in the stock
//! build. Also `awk -f -` and `awk -f /dev/stdin` (interactive input), and
//! `mayexec run --lockdown -f -i`, which grants the enlightened busybox
//! because it carries mayexec's note, with `awk` refusing its program
//! operand there.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mayexec_busybox::{BUILT, STOCK};
use mayexec_testkit::interp::{denial, Place, Places};
use mayexec_testkit::interp::{Enforced, Exit, Outcome};
use mayexec_testkit::{give_to, root_test, workspace_bin, write_file, Tmpfs, NOBODY};

/// Code that writes this to stderr when it runs.
const MARKER: &str = "INJECTED";

/// An applet that reads a program from a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Program {
    /// `busybox awk -f FILE`.
    Awk,
    /// `busybox mim -f FILE`.
    Mim,
    /// `busybox ifup -i FILE -f probe`.
    Ifup,
    /// `HOME=DIR busybox vi -c :q! /dev/null`, with `DIR/.exrc`.
    ViExrc,
}

impl Program {
    const ALL: [Program; 4] = [Program::Awk, Program::Mim, Program::Ifup, Program::ViExrc];

    fn applet(self) -> &'static str {
        match self {
            Program::Awk => "awk",
            Program::Mim => "mim",
            Program::Ifup => "ifup",
            Program::ViExrc => "vi",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Program::Awk => "BEGIN { print \"INJECTED\" > \"/dev/stderr\" }\n",
            Program::Mim => "probe:\n\techo INJECTED >&2\n",
            Program::Ifup => "iface probe link none\n\tpre-up echo INJECTED >&2\n",
            Program::ViExrc => ":!echo INJECTED >&2\n",
        }
    }

    /// Writes the program in `place`: as `.exrc` in a directory of its own
    /// for vi (its `HOME`, both `uid`'s: vi reads only the user's own).
    fn write(self, places: &Places, place: Place, uid: u32) -> PathBuf {
        match self {
            Program::ViExrc => {
                let home = places.dir(place, &format!("home-{uid}"));
                let exrc = home.join(".exrc");
                write_file(&exrc, self.text().as_bytes(), place.mode());
                give_to(&home, uid, uid);
                give_to(&exrc, uid, uid);
                exrc
            }
            _ => places.write(
                place,
                &format!("{}-{place:?}-{uid}", self.applet()),
                self.text(),
            ),
        }
    }

    /// Adds the applet, its arguments and its environment for the program
    /// `file` to `cmd` (busybox, wrapped or not).
    fn arguments(self, file: &Path, cmd: &mut Command) {
        cmd.arg(self.applet());
        match self {
            Program::Awk | Program::Mim => {
                cmd.arg("-f").arg(file);
            }
            Program::Ifup => {
                // ifup hands its `pre-up` lines to `$SHELL -c`, or to the
                // user's login shell when SHELL is unset: nobody's is
                // nologin.
                cmd.arg("-i")
                    .arg(file)
                    .args(["-f", "probe"])
                    .env("SHELL", "/bin/sh");
            }
            Program::ViExrc => {
                cmd.env("HOME", file.parent().expect("the .exrc's directory"))
                    .env("TERM", "dumb")
                    .args(["-c", ":q!", "/dev/null"]);
            }
        }
        cmd.env_remove("EXINIT")
            .current_dir(file.parent().expect("a directory"))
            .stdin(Stdio::null());
    }

    /// Does the code run? Denied files never run; vi's `:!` is refused
    /// under deny-interactive wherever it comes from.
    fn runs(self, enforced: Enforced, place: Place) -> bool {
        enforced.script_denial(place).is_none()
            && !(self == Program::ViExrc && enforced.denies_interactive())
    }
}

#[root_test]
fn program_files_are_checked_like_scripts() {
    let test = "program_files_are_checked_like_scripts";
    let Some(busybox) = BUILT.require(test) else {
        return;
    };
    let Some(stock) = STOCK.require(test) else {
        return;
    };
    let places = Places::new();
    let mut report = String::new();
    for uid in [0, NOBODY] {
        let user = if uid == 0 { "root" } else { "nobody" };
        let sandbox_for = |enforced: Enforced| {
            let sandbox = enforced.sandbox();
            if uid == 0 {
                sandbox
            } else {
                sandbox.as_user(uid, uid)
            }
        };
        for program in Program::ALL {
            for place in Place::ALL {
                let file = program.write(&places, place, uid);
                let sandbox = sandbox_for(Enforced::Nothing);
                let mut cmd = sandbox.command(&stock);
                program.arguments(&file, &mut cmd);
                let unenforced = Outcome::of(&mut cmd);
                assert!(
                    unenforced.stderr.contains(MARKER),
                    "{program:?} in {place:?} as {user}: the stock build runs nothing: {unenforced}"
                );
                for enforced in Enforced::ALL {
                    let sandbox = sandbox_for(enforced);
                    let mut cmd = enforced.command(&sandbox, &busybox);
                    program.arguments(&file, &mut cmd);
                    let got = Outcome::of(&mut cmd);
                    let ran = got.stderr.contains(MARKER);
                    let fault = match (program.runs(enforced, place), enforced.script_denial(place))
                    {
                        (true, _) if !ran => Some("the code did not run".to_owned()),
                        (true, _) if enforced == Enforced::Nothing && got != unenforced => {
                            Some(format!("differs from the stock build's {unenforced}"))
                        }
                        (false, _) if ran => Some("the code ran".to_owned()),
                        (false, Some(reason)) if program != Program::ViExrc => {
                            let want = Outcome::refused(denial(program.applet(), &file, reason));
                            (got != want).then(|| format!("want {want}"))
                        }
                        _ => None,
                    };
                    if let Some(fault) = fault {
                        report.push_str(&format!(
                            "{program:?}, {place:?}, {enforced}, as {user}: {fault}\n  got {got}\n"
                        ));
                    }
                }
            }
        }
    }
    assert!(report.is_empty(), "{report}");
}

/// `awk -f -` and `awk -f /dev/stdin` read the program from standard
/// input: under deny-interactive only a regular file passing the full
/// check, never a pipe, as for `sh < FILE`.
#[root_test]
fn awk_reads_a_program_from_standard_input_only_as_interactive_input_allows() {
    let Some(busybox) = BUILT.require("awk_stdin") else {
        return;
    };
    let places = Places::new();
    let program = Program::Awk.text();
    for name in ["-", "/dev/stdin"] {
        let label = if name == "-" { "<stdin>" } else { name };
        // A pipe.
        for enforced in Enforced::BITS {
            let mut cmd = enforced.command_with(busybox.as_os_str(), &|p: &OsStr| Command::new(p));
            cmd.args(["awk", "-f", name])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("spawn awk");
            {
                use std::io::Write;
                let mut stdin = child.stdin.take().unwrap();
                let _ = stdin.write_all(program.as_bytes());
            }
            let got = Outcome::from_output(child.wait_with_output().unwrap());
            // A pipe named as a file is refused by file restriction too.
            let refused =
                enforced.denies_interactive() || (name != "-" && enforced.restricts_files());
            if refused {
                assert_eq!(
                    got,
                    Outcome::refused(denial("awk", label, "not-regular-file")),
                    "awk -f {name} from a pipe, {enforced}"
                );
            } else {
                assert!(got.stderr.contains(MARKER), "{name}, {enforced}: {got}");
            }
        }
        // A file: the full check decides under deny-interactive.
        for place in Place::ALL {
            let file = places.write(place, &format!("stdin-{place:?}.awk"), program);
            for enforced in Enforced::BITS {
                let mut cmd =
                    enforced.command_with(busybox.as_os_str(), &|p: &OsStr| Command::new(p));
                cmd.args(["awk", "-f", name])
                    .stdin(fs::File::open(&file).unwrap());
                let got = Outcome::of(&mut cmd);
                // `-f -` is standard input: interactive input. `-f
                // /dev/stdin` names a file, and a regular file behind it is
                // a program file: file restriction decides.
                let decides = if name == "-" {
                    enforced.denies_interactive()
                } else {
                    enforced.restricts_files()
                };
                let denial_reason = if decides { place.full_check() } else { None };
                match denial_reason {
                    None => assert!(
                        got.stderr.contains(MARKER),
                        "awk -f {name} < {place:?}, {enforced}: {got}"
                    ),
                    Some(reason) => assert_eq!(
                        got,
                        Outcome::refused(denial("awk", label, reason)),
                        "awk -f {name} < {place:?}, {enforced}"
                    ),
                }
            }
        }
    }
}

/// `mayexec run --lockdown -f -i`: the enlightened busybox carries the
/// note, so the tree may execute it, under any name; its awk then refuses
/// a program operand and a program file the check refuses.
#[root_test]
fn under_lockdown_the_enlightened_busybox_awk_refuses_what_the_policy_refuses() {
    let Some(busybox) = BUILT.require("awk_lockdown") else {
        return;
    };
    let tree = Tmpfs::exec();
    let bin = tree.path().join("bin");
    fs::create_dir(&bin).unwrap();
    fs::copy(&busybox, bin.join("busybox")).unwrap();
    symlink("busybox", bin.join("awk")).unwrap();
    let noexec = Tmpfs::noexec();
    let prog = noexec.write("prog.awk", Program::Awk.text(), 0o755);
    let lockdown = || {
        let mut cmd = Command::new(workspace_bin("mayexec"));
        cmd.env("PATH", format!("{}:/usr/bin", bin.display()))
            .args(["run", "--lockdown", "-f", "-i", "--"]);
        cmd
    };
    let awk_program = "BEGIN { print \"INJECTED\" }";
    for (what, argv) in [
        ("busybox awk PROGRAM", vec!["busybox", "awk", awk_program]),
        ("awk PROGRAM", vec!["awk", awk_program]),
    ] {
        let got = Outcome::of(lockdown().args(&argv));
        assert_eq!(
            got,
            Outcome::refused(denial("awk", "<program>", "interactive")),
            "{what}"
        );
    }
    let got = Outcome::of(lockdown().args(["busybox", "awk", "-f"]).arg(&prog));
    assert_eq!(
        got,
        Outcome::refused(denial("awk", &prog, "noexec-mount")),
        "busybox awk -f NOEXEC"
    );
    // The tree does run the granted busybox: a program the tree may
    // execute (0755, beneath a root) runs.
    let ok = tree.write("bin/ok.awk", Program::Awk.text(), 0o755);
    let got = Outcome::of(lockdown().args(["awk", "-f"]).arg(&ok));
    assert_eq!(got.exit, Exit::Code(0), "awk -f OK: {got}");
    assert!(got.stderr.contains(MARKER), "awk -f OK: {got}");
}
