//! What a tree could still execute around its rules, and no longer can:
//! a memfd holding an interpreter the exec allow-list leaves out (Landlock
//! does not govern the internal mount memfds live on), and a `noexec`
//! mount made exec again by root through the new mount API, which has no
//! LSM hook for Landlock to refuse (`tests/c/tree_probe.c` tries each way).

mod common;

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

use mayexec_testkit::{root_test, Tmpfs, NOBODY};

/// The probe, compiled once per test process and copied onto an exec
/// tmpfs (mode 0755) that `nobody` can reach.
struct Probe {
    fs: Tmpfs,
}

impl Probe {
    fn new() -> Probe {
        let compiled = compile_c("tree_probe");
        let fs = Tmpfs::exec();
        fs.write("tree_probe", fs::read(&compiled).unwrap(), 0o755);
        Probe { fs }
    }

    fn path(&self) -> PathBuf {
        self.fs.path().join("tree_probe")
    }

    fn dir(&self) -> &Path {
        self.fs.path()
    }
}

/// `mayexec run FLAGS -- PROBE ARGS` as `uid`, or the probe alone when
/// `flags` is `None`.
fn try_way(probe: &Probe, flags: Option<&[&str]>, uid: u32, args: &[&str]) -> Output {
    let mut cmd = match flags {
        None => Command::new(probe.path()),
        Some(flags) => {
            let mut cmd = mayexec();
            cmd.arg("run").args(flags).arg("--").arg(probe.path());
            cmd
        }
    };
    cmd.args(args);
    if uid != 0 {
        cmd.uid(uid).gid(uid);
    }
    run(&mut cmd)
}

/// `/usr/bin/dash` run from a memfd, printing ESCAPED if it ran.
const ESCAPE: [&str; 4] = ["/usr/bin/dash", "-c", "echo ESCAPED", "dash"];

#[root_test]
fn no_memfd_can_be_executed_in_an_exec_allow_or_lockdown_tree() {
    let probe = Probe::new();
    let dir = probe.dir().to_str().unwrap().to_owned();
    let file = probe.path().to_str().unwrap().to_owned();
    // The probe may run; stock dash is an interpreter --lockdown leaves
    // out, and --exec-allow /usr/lib alone does not grant it.
    let trees: [Vec<&str>; 3] = [
        vec![
            "-f",
            "-i",
            "--lockdown",
            "--exec-allow",
            "/usr",
            "--exec-allow-file",
            &file,
        ],
        vec![
            "--lockdown",
            "--exec-allow",
            "/usr",
            "--exec-allow-file",
            &file,
        ],
        vec!["-f", "--exec-allow", "/usr/lib", "--exec-allow", &dir],
    ];
    for uid in [0, NOBODY] {
        for way in ["memfd-exec", "memfd-proc"] {
            let mut args = vec![way];
            args.extend(ESCAPE);
            // Outside a tree the way is real: dash runs from the memfd.
            let out = try_way(&probe, None, uid, &args);
            assert_eq!(
                stdout(&out),
                "memfd_create: ok\nESCAPED\n",
                "{way} uid {uid}"
            );
            for tree in &trees {
                let out = try_way(&probe, Some(tree), uid, &args);
                assert_eq!(
                    stdout(&out),
                    "memfd_create: ENOSYS\n",
                    "{way} in {tree:?} as uid {uid}: {}",
                    stderr(&out)
                );
                assert!(!out.status.success(), "{tree:?}");
            }
        }
        for tree in &trees {
            let flags =
                |which: &str| stdout(&try_way(&probe, Some(tree), uid, &["memfd-flags", which]));
            assert_eq!(flags("exec"), "memfd_create: EACCES\n", "{tree:?}");
            assert_eq!(flags("none"), "memfd_create: ENOSYS\n", "{tree:?}");
            // A sealed memfd is allowed: it can never become executable.
            assert_eq!(flags("noexec-seal"), "memfd_create: ok\n", "{tree:?}");
            let mut sealed = vec!["memfd-sealed"];
            sealed.extend(ESCAPE);
            assert_eq!(
                stdout(&try_way(&probe, Some(tree), uid, &sealed)),
                "memfd_create: ok\nfchmod: EPERM\nexec: EACCES\n",
                "{tree:?}"
            );
            if cfg!(target_arch = "x86_64") {
                assert_eq!(
                    stdout(&try_way(&probe, Some(tree), uid, &["i386-memfd"])),
                    "memfd_create: ENOSYS\n",
                    "i386 in {tree:?}"
                );
            }
        }
    }
}

#[root_test]
fn memfds_are_left_alone_in_a_tree_without_an_exec_allow_list() {
    let probe = Probe::new();
    for tree in [&["-f", "-i"][..], &["-i", "--allow-userns"]] {
        for which in ["none", "exec", "noexec-seal"] {
            let out = try_way(&probe, Some(tree), 0, &["memfd-flags", which]);
            assert_eq!(stdout(&out), "memfd_create: ok\n", "{which} in {tree:?}");
        }
    }
}

#[root_test]
fn root_in_a_tree_cannot_make_a_noexec_mount_exec_again() {
    let Some(dash) = mayexec_dash::BUILT
        .require_with_root("root_in_a_tree_cannot_make_a_noexec_mount_exec_again")
    else {
        return;
    };
    let probe = Probe::new();
    let noexec = Tmpfs::noexec();
    noexec.write("x.sh", "echo ESCAPED\n", 0o755);
    let dir = noexec.path().to_str().unwrap().to_owned();
    let dash = dash.to_str().unwrap().to_owned();
    let clone = ["clone-exec", &dir, &dash, "x.sh"];

    // Outside a tree the clone of the noexec mount is exec, and the
    // enlightened dash, under restrict-file, runs the script through it.
    let outside = Command::new(probe.path()).args(clone).output().unwrap();
    assert_eq!(
        stdout(&outside),
        "open_tree: ok\nmount_setattr: ok\nESCAPED\n",
        "{}",
        stderr(&outside)
    );
    for tree in [&["-f"][..], &["-f", "-i"], &["-f", "--allow-userns"]] {
        let out = try_way(&probe, Some(tree), 0, &clone);
        assert_eq!(
            stdout(&out),
            "open_tree: EPERM\n",
            "{tree:?}: {}",
            stderr(&out)
        );
        // Nor on the mount itself, nor with mount(2) (Landlock), nor a new
        // file system of the tree's own.
        assert_eq!(
            stdout(&try_way(&probe, Some(tree), 0, &["setattr", &dir])),
            "open_tree: ok\nmount_setattr: EPERM\n",
            "{tree:?}"
        );
        assert_eq!(
            stdout(&try_way(&probe, Some(tree), 0, &["remount", &dir])),
            "mount: EPERM\n",
            "{tree:?}"
        );
        for (way, call) in [
            ("fsopen", "fsopen"),
            ("fspick", "fspick"),
            ("fsconfig", "fsconfig"),
            ("fsmount", "fsmount"),
            ("move-mount", "move_mount"),
        ] {
            let out = try_way(&probe, Some(tree), 0, &[way]);
            assert_eq!(stdout(&out), format!("{call}: EPERM\n"), "{tree:?}");
        }
    }
    // Outside a tree the kernel itself answers these: not EPERM.
    for way in ["fsopen", "fspick", "fsconfig", "fsmount", "move-mount"] {
        let out = try_way(&probe, None, 0, &[way]);
        assert!(!stdout(&out).contains("EPERM"), "{way}: {}", stdout(&out));
    }
}
