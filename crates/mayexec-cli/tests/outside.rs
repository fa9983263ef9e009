//! A `mayexec run` tree cannot make a process outside it run code: not by
//! tracing it or writing its memory (the tree is a Landlock domain), nor by
//! typing commands into the terminal it shares with the shell that started
//! it (the seccomp filter refuses `TIOCSTI`). Real processes, as root and
//! as nobody, a real pseudo-terminal (`script`), and a small C program for
//! the raw calls (`tests/c/outside_probe.c`).

mod common;

use common::*;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

use mayexec_testkit::{as_nobody, deny_landlock, root_test};

fn probe() -> &'static Path {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE.get_or_init(|| compile_c("outside_probe"))
}

/// A process outside any tree, root's or nobody's: what the probe aims at.
struct Target(Child);

impl Target {
    fn start(nobody: bool) -> Target {
        let mut cmd = Command::new("sleep");
        cmd.arg("60").stdin(Stdio::null());
        if nobody {
            as_nobody(&mut cmd);
        }
        Target(cmd.spawn().expect("start sleep"))
    }

    fn pid(&self) -> String {
        self.0.id().to_string()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The probe's answer ("ok" or an errno name) for `what`.
fn answer(out: &Output, what: &str) -> String {
    let text = stdout(out);
    text.lines()
        .find_map(|l| l.trim_end().strip_prefix(&format!("{what}: ")))
        .unwrap_or_else(|| panic!("no answer for {what}:\n{text}\n{}", stderr(out)))
        .to_owned()
}

/// The probe with `args`, under `mayexec run -f -i [EXTRA…]` or not.
fn probe_run(under: Option<&[&str]>, nobody: bool, args: &[&str]) -> Output {
    let mut cmd = match under {
        Some(extra) => {
            let mut cmd = mayexec();
            cmd.args(["run", "-f", "-i"]).args(extra).arg("--");
            cmd.arg(probe());
            cmd
        }
        None => Command::new(probe()),
    };
    cmd.args(args);
    if nobody {
        as_nobody(&mut cmd);
    }
    run(&mut cmd)
}

/// Does Yama keep a user from tracing processes that are not its
/// descendants? Then only root's "outside a tree" runs prove the probe.
fn yama_restricts_users() -> bool {
    std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
        .map(|v| v.trim() != "0")
        .unwrap_or(false)
}

const WAYS_IN: [(&str, &str); 4] = [
    ("ptrace", "EPERM"),
    ("mem", "EACCES"),
    ("vm", "EPERM"),
    ("getfd", "EPERM"),
];

#[root_test]
fn the_tree_cannot_trace_or_reach_into_processes_outside_it() {
    for nobody in [false, true] {
        let target = Target::start(nobody);
        let pid = target.pid();
        for (what, refused) in WAYS_IN {
            // Outside a tree the same user can: the probe is sound, and
            // this is what the tree could do before.
            if !nobody || !yama_restricts_users() {
                let out = probe_run(None, nobody, &[what, &pid]);
                assert_eq!(
                    answer(&out, what),
                    "ok",
                    "nobody={nobody}: {what} outside a tree"
                );
            }
            for extra in [&[][..], &["--allow-userns"], &["--exec-allow", "/"]] {
                let out = probe_run(Some(extra), nobody, &[what, &pid]);
                assert_eq!(
                    answer(&out, what),
                    refused,
                    "nobody={nobody} {extra:?}: {what} from the tree\n{}",
                    stderr(&out)
                );
            }
        }
    }
}

#[root_test]
fn the_tree_still_traces_its_own_processes() {
    let probe = probe().to_str().expect("UTF-8 path");
    for nobody in [false, true] {
        let mut cmd = mayexec();
        cmd.args(["run", "-f", "--", "/bin/sh", "-c"])
            .arg("sleep 5 & exec \"$0\" ptrace $!")
            .arg(probe);
        if nobody {
            as_nobody(&mut cmd);
        }
        let out = run(&mut cmd);
        assert_eq!(
            answer(&out, "ptrace"),
            "ok",
            "nobody={nobody}: {}",
            stderr(&out)
        );
    }
}

/// `CMD` run by `script` with a new pseudo-terminal as its controlling
/// terminal and standard input: what an interactive user's shell has.
fn in_a_terminal(cmd: &str, nobody: bool) -> Output {
    let mut script = Command::new("script");
    script
        .args(["-q", "-e", "-c", cmd, "/dev/null"])
        .stdin(Stdio::null());
    if nobody {
        as_nobody(&mut script);
    }
    run(&mut script)
}

/// Does the kernel let a process type into its controlling terminal at
/// all (`dev.tty.legacy_tiocsti`, Linux 6.2; always before)?
fn kernel_allows_tiocsti() -> bool {
    std::fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti")
        .map(|v| v.trim() == "1")
        .unwrap_or(true)
}

#[root_test]
fn the_tree_cannot_type_into_its_terminal() {
    let me = env!("CARGO_BIN_EXE_mayexec");
    let probe = probe().to_str().expect("UTF-8 path");
    let mut ways = vec!["tiocsti"];
    if cfg!(target_arch = "x86_64") {
        ways.push("i386-tiocsti");
    }
    for nobody in [false, true] {
        for what in &ways {
            if kernel_allows_tiocsti() {
                let out = in_a_terminal(&format!("{probe} {what}"), nobody);
                assert_eq!(
                    answer(&out, what),
                    "ok",
                    "nobody={nobody}: {what} outside a tree"
                );
            }
            for extra in ["", "--allow-userns"] {
                let out =
                    in_a_terminal(&format!("{me} run -f -i {extra} -- {probe} {what}"), nobody);
                assert_eq!(
                    answer(&out, what),
                    "EPERM",
                    "nobody={nobody} {extra}: {what} from the tree\n{}",
                    stderr(&out)
                );
            }
        }
        // Other terminal requests still work.
        let out = in_a_terminal(&format!("{me} run -f -i -- {probe} tiocgwinsz"), nobody);
        assert_eq!(answer(&out, "tiocgwinsz"), "ok", "nobody={nobody}");
    }
}

#[root_test]
fn without_landlock_run_warns_or_with_landlock_required_refuses() {
    let target = Target::start(false);
    let pid = target.pid();
    for required in [false, true] {
        let mut cmd = mayexec();
        cmd.args(["run", "-f", "-i"]);
        if required {
            cmd.arg("--landlock=required");
        }
        cmd.arg("--").arg(probe()).args(["ptrace", &pid]);
        let out = std::thread::spawn(move || {
            // This thread, and what it starts, sees a kernel without it.
            deny_landlock(libc::ENOSYS);
            cmd.output().expect("run mayexec")
        })
        .join()
        .expect("the thread ends");
        let err = stderr(&out);
        assert!(
            err.contains("the tree's own Landlock domain")
                && err.contains("the kernel has no Landlock"),
            "required={required}: {err}"
        );
        if required {
            assert_eq!(out.status.code(), Some(1), "{err}");
            assert!(err.contains("not running the command"), "{err}");
            assert!(out.stdout.is_empty(), "the command ran: {}", stdout(&out));
        } else {
            assert_eq!(out.status.code(), Some(0), "{err}");
            assert!(
                err.contains("warning") && err.contains("can trace"),
                "{err}"
            );
        }
    }
}
