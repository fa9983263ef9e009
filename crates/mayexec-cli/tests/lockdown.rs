//! `mayexec interpreters` and `mayexec run --lockdown` on real trees: real
//! copies of stock and enlightened interpreters, symlink and alternatives
//! chains, a real Landlock domain.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

use mayexec_testkit::{as_nobody, deny_landlock, root_test, workspace_bin, Tmpfs, NOBODY};
use serde_json::Value;

/// A tree of interpreters on an exec tmpfs:
///
/// ```text
/// stock/perl, stock/dash          copies of /usr/bin/perl, /usr/bin/dash
/// stock/mayexec-python            a copy of /usr/bin/python3: the name lies
/// mayexec/dash                    the enlightened dash
/// mayexec/python3                 mayexec-python under a stock name
/// mayexec/notashell               the enlightened dash, unknown name: a
///                                 shell by content
/// alternatives/sh -> ../mayexec/dash
/// bin/sh -> ../alternatives/sh    an alternatives chain
/// bin/perl -> ../stock/perl
/// bin/ls, bin/myinterp            copies of /usr/bin/ls, /usr/bin/cat
/// bin/tool                        `#!<tree>/bin/myinterp`: makes it one
/// ```
struct Tree {
    fs: Tmpfs,
}

impl Tree {
    fn new(dash: &Path) -> Tree {
        let fs = Tmpfs::exec();
        let root = fs.path();
        for dir in ["stock", "mayexec", "alternatives", "bin"] {
            fs::create_dir(root.join(dir)).unwrap();
        }
        let copy = |from: &Path, to: &str| {
            fs::copy(from, root.join(to)).unwrap_or_else(|e| panic!("copy {from:?}: {e}"));
        };
        copy(Path::new("/usr/bin/perl"), "stock/perl");
        copy(Path::new("/usr/bin/dash"), "stock/dash");
        copy(
            &fs::canonicalize("/usr/bin/python3").unwrap(),
            "stock/mayexec-python",
        );
        copy(dash, "mayexec/dash");
        copy(&workspace_bin("mayexec-python"), "mayexec/python3");
        copy(dash, "mayexec/notashell");
        copy(Path::new("/usr/bin/ls"), "bin/ls");
        copy(Path::new("/usr/bin/cat"), "bin/myinterp");
        symlink("../mayexec/dash", root.join("alternatives/sh")).unwrap();
        symlink("../alternatives/sh", root.join("bin/sh")).unwrap();
        symlink("../stock/perl", root.join("bin/perl")).unwrap();
        let tool = format!("#!{}/bin/myinterp\nhello\n", root.display());
        fs.write("bin/tool", tool, 0o755);
        Tree { fs }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.fs.path().join(rel)
    }
}

fn dash() -> Option<PathBuf> {
    mayexec_dash::BUILT.require("lockdown")
}

/// `interpreters --json` entries by path.
fn by_path(out: &Output) -> BTreeMap<String, Value> {
    json(out)["interpreters"]
        .as_array()
        .unwrap_or_else(|| panic!("no interpreters in {}", stdout(out)))
        .iter()
        .map(|e| (e["path"].as_str().unwrap().to_owned(), e.clone()))
        .collect()
}

#[root_test]
fn interpreters_are_classified_by_the_file_not_the_name() {
    let Some(dash) = dash() else { return };
    let tree = Tree::new(&dash);
    let out = run(mayexec()
        .args(["interpreters", "--json"])
        .arg(tree.fs.path()));
    assert_eq!(
        out.status.code(),
        Some(1),
        "some do not obey: {}",
        stderr(&out)
    );
    let found = by_path(&out);
    let p = |rel: &str| tree.path(rel).display().to_string();
    let expect = [
        ("stock/perl", "perl", false),
        ("stock/dash", "shell", false),
        ("stock/mayexec-python", "python", false),
        ("mayexec/dash", "shell", true),
        ("mayexec/python3", "python", true),
        ("mayexec/notashell", "shell", true),
        ("bin/sh", "shell", true),
        ("bin/perl", "perl", false),
        ("bin/myinterp", "shebang", false),
    ];
    for (rel, kind, enlightened) in expect {
        let e = found
            .get(&p(rel))
            .unwrap_or_else(|| panic!("{rel} not listed: {}", stdout(&out)));
        assert_eq!(e["kind"], kind, "{rel}: {e}");
        assert_eq!(e["enlightened"], enlightened, "{rel}: {e}");
        if enlightened {
            assert_eq!(e["marker"], "note", "{rel}: {e}");
            assert_eq!(e["hint"], Value::Null, "{rel}: {e}");
        } else {
            assert!(e["hint"].as_str().unwrap().contains("--lockdown"), "{e}");
        }
    }
    // The alternatives chain, and the real file behind it.
    assert_eq!(
        found[&p("bin/sh")]["links"],
        serde_json::json!([p("alternatives/sh"), p("mayexec/dash")])
    );
    assert_eq!(found[&p("bin/sh")]["real"], p("mayexec/dash"));
    assert_eq!(found[&p("bin/myinterp")]["shebang_uses"], 1);
    assert_eq!(found[&p("mayexec/notashell")]["recognised_by"], "strings");
    assert_eq!(found[&p("bin/perl")]["recognised_by"], "name");
    // Ordinary tools are none.
    for rel in ["bin/ls", "bin/tool"] {
        assert!(
            !found.contains_key(&p(rel)),
            "{rel} listed: {}",
            stdout(&out)
        );
    }
    assert_eq!(found.len(), expect.len() + 1, "{}", stdout(&out)); // + alternatives/sh

    // People get the verdict first, then the groups with a hint each.
    let out = run(mayexec().arg("interpreters").arg(tree.fs.path()));
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "4 interpreters do not obey the check: perl, mayexec-python, myinterp, dash\n"
        ),
        "{text}"
    );
    assert!(text.contains("do not obey the check (they run any file):\n"));
    assert!(text.contains("obey the check (enlightened):\n"));
    let note = format!("[mayexec {} note]", env!("CARGO_PKG_VERSION"));
    assert!(text.contains(&note), "{text}");

    // Only enlightened ones: status 0.
    let out = run(mayexec()
        .args(["interpreters"])
        .arg(tree.path("mayexec/dash"))
        .arg(tree.path("mayexec/python3")));
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).starts_with("all 2 interpreters found obey the check\n"));
}

#[root_test]
fn status_prints_the_verdict_on_the_interpreters_of_path() {
    let Some(dash) = dash() else { return };
    let tree = Tree::new(&dash);
    let out = run(mayexec()
        .args(["status", "--json"])
        .env("PATH", tree.path("stock")));
    assert_eq!(
        json(&out)["interpreters"],
        "3 interpreters do not obey the check: perl, mayexec-python, dash"
    );
    let out = run(mayexec().arg("status").env("PATH", tree.path("mayexec")));
    assert!(
        stdout(&out)
            .contains("interpreters on PATH:             all 3 interpreters found obey the check"),
        "{}",
        stdout(&out)
    );
}

/// `mayexec run --lockdown -f -i` with PATH = the tree's bin and /usr/bin
/// (the default roots, with ld.so's directories).
fn lockdown(tree: &Tree, extra: &[&Path]) -> Command {
    let mut cmd = mayexec();
    cmd.env(
        "PATH",
        format!(
            "{}:{}:/usr/bin",
            tree.path("bin").display(),
            tree.path("mayexec").display()
        ),
    )
    .args(["run", "--lockdown", "-f", "-i"]);
    for file in extra {
        cmd.arg("--exec-allow-file").arg(file);
    }
    cmd.arg("--");
    cmd
}

#[root_test]
fn under_lockdown_only_enlightened_interpreters_run_and_they_obey_the_check() {
    let Some(dash) = dash() else { return };
    let tree = Tree::new(&dash);
    let scripts = Tmpfs::exec();
    let ok_sh = scripts.write("ok.sh", "echo shell ran\n", 0o755);
    let bad_sh = scripts.write("bad.sh", "echo should not run\n", 0o755);
    let data = scripts.write("data.txt", "alpha\nbeta\n", 0o644);

    // The enlightened dash (by PATH name `sh`, through the chain) runs the
    // allowed script and refuses the other: Landlock's rule is the check.
    let out = run(lockdown(&tree, &[&ok_sh]).arg("sh").arg(&ok_sh));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "shell ran\n");
    let out = run(lockdown(&tree, &[&ok_sh]).arg("sh").arg(&bad_sh));
    assert_eq!(out.status.code(), Some(126), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "{}: script execution denied (kernel-policy)",
            bad_sh.display()
        )),
        "{}",
        stderr(&out)
    );
    // -i still holds: no -c.
    let out = run(lockdown(&tree, &[]).args(["sh", "-c", "echo interactive"]));
    assert_eq!(out.status.code(), Some(126), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");

    // Stock interpreters cannot even be started: EACCES, with the reason.
    let stock: [(&str, PathBuf, &[&str]); 5] = [
        ("perl", tree.path("bin/perl"), &["-e", "print qq(ran\\n)"]),
        ("stock dash", tree.path("stock/dash"), &["-c", "echo ran"]),
        (
            "/usr/bin/perl",
            PathBuf::from("/usr/bin/perl"),
            &["-e", "1"],
        ),
        (
            "/usr/bin/dash",
            PathBuf::from("/usr/bin/dash"),
            &["-c", "echo ran"],
        ),
        (
            "python3",
            PathBuf::from("/usr/bin/python3"),
            &["-c", "print(1)"],
        ),
    ];
    for (what, program, args) in stock {
        let out = run(lockdown(&tree, &[]).arg(&program).args(args));
        assert_eq!(out.status.code(), Some(126), "{what}: {}", stderr(&out));
        assert_eq!(stdout(&out), "", "{what}");
        assert!(
            stderr(&out).contains(&format!(
                "mayexec: {}: Permission denied (os error 13)\nHint: under --lockdown",
                program.display()
            )),
            "{what}: {}",
            stderr(&out)
        );
    }
    // Also through a `#!` line, from inside the tree: the kernel checks
    // the script's interpreter against the domain too.
    let pl = scripts.write("x.pl", "#!/usr/bin/perl\nprint qq(ran\\n);\n", 0o755);
    let out = run(lockdown(&tree, &[&pl, &ok_sh]).arg("sh").arg(scripts.write(
        "calls-perl.sh",
        format!("{}\n", pl.display()),
        0o755,
    )));
    assert_ne!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stdout(&out).contains("ran"), "{}", stdout(&out));

    // Ordinary tools still run.
    let out = run(lockdown(&tree, &[]).arg("ls").arg(scripts.path()));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("ok.sh"));
    let out = run(lockdown(&tree, &[]).arg("cat").arg(&data));
    assert_eq!(stdout(&out), "alpha\nbeta\n", "{}", stderr(&out));
    let out = run(lockdown(&tree, &[]).args(["grep", "beta"]).arg(&data));
    assert_eq!(stdout(&out), "beta\n", "{}", stderr(&out));
}

#[root_test]
fn lockdown_shows_what_it_left_out() {
    let Some(dash) = dash() else { return };
    let tree = Tree::new(&dash);
    // The default roots: PATH's directories and ld.so's.
    let out = run(mayexec()
        .env("PATH", format!("{}:/usr/bin", tree.path("bin").display()))
        .args(["run", "--lockdown", "-f", "-v", "--", "/usr/bin/true"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "mayexec: lockdown: not executable: {} (perl, does not obey the check)\n",
            tree.path("bin/perl").display()
        )),
        "{err}"
    );
    assert!(
        err.contains("mayexec: lockdown: not executable: /usr/bin/perl (perl,"),
        "{err}"
    );
    assert!(
        !err.contains(&format!(
            "not executable: {} ",
            tree.path("bin/sh").display()
        )),
        "the enlightened sh is granted: {err}"
    );
    assert!(
        err.contains("mayexec: lockdown: execute granted on "),
        "{err}"
    );
    assert!(err.contains("fully enforced (Landlock ABI"), "{err}");

    let out = run(mayexec().env("PATH", "/usr/bin").args([
        "run",
        "--lockdown",
        "-f",
        "--json",
        "--",
        "/usr/bin/true",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: Value = serde_json::from_str(stderr(&out).lines().next().unwrap())
        .unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    assert!(plan["granted"].as_u64().unwrap() > 100, "{plan}");
    let excluded: Vec<&str> = plan["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(excluded.contains(&"/usr/bin/perl"), "{plan}");
    assert!(excluded.contains(&"/usr/bin/dash"), "{plan}");
    assert!(!excluded.contains(&"/usr/bin/ls"), "{plan}");
}

#[root_test]
fn lockdown_refuses_to_run_where_landlock_cannot_enforce_it() {
    let Some(dash) = dash() else { return };
    let tree = Tree::new(&dash);
    for (errno, why) in [
        (libc::ENOSYS, "the kernel has no Landlock"),
        (libc::EOPNOTSUPP, "Landlock is built in but not enabled"),
    ] {
        let marker = tree.path(&format!("ran-{errno}"));
        let mut cmd = lockdown(&tree, &[]);
        cmd.arg("touch").arg(&marker);
        let out = std::thread::spawn(move || {
            // This thread, and what it starts, sees a kernel without it.
            deny_landlock(errno);
            cmd.output().unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(out.status.code(), Some(1), "{why}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("mayexec: --lockdown: not enforced (")
                && stderr(&out).contains(why)
                && stderr(&out).contains("not running the command"),
            "{}",
            stderr(&out)
        );
        assert!(!marker.exists(), "{why}: the command ran");
    }
}

/// What `--lockdown` cannot see, pinned so that the documentation stays
/// true: the loader run as a program maps a stock interpreter it opened
/// for reading, which Landlock's execute right does not govern.
#[root_test]
fn lockdown_does_not_stop_the_loader_from_running_a_stock_interpreter() {
    let Some(dash) = dash() else { return };
    let tree = Tree::new(&dash);
    let out = run(lockdown(&tree, &[]).arg("/usr/bin/perl").args(["-e", "1"]));
    assert_eq!(out.status.code(), Some(126), "{}", stderr(&out));
    let out = run(lockdown(&tree, &[])
        .arg("/lib64/ld-linux-x86-64.so.2")
        .args(["/usr/bin/perl", "-e", "print qq(ran through ld.so\\n)"]));
    assert_eq!(stdout(&out), "ran through ld.so\n", "{}", stderr(&out));
}

#[root_test]
fn lockdown_roots_and_files_that_do_not_exist_are_usage_errors() {
    for args in [
        ["--exec-allow", "/nonexistent"],
        ["--exec-allow-file", "/nonexistent"],
    ] {
        let out = run(mayexec()
            .args(["run", "--lockdown", "-f"])
            .args(args)
            .args(["--", "/usr/bin/true"]));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with(&format!(
                "mayexec: {} /nonexistent: No such file or directory",
                args[0]
            )),
            "{}",
            stderr(&out)
        );
    }
    // Every tree is a Landlock domain (of its own without --exec-allow or
    // --lockdown), so --landlock=required is valid everywhere.
    let out = run(mayexec().args(["run", "--landlock=required", "-f", "--", "/usr/bin/true"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(mayexec().args([
        "run",
        "--landlock=required",
        "--lockdown",
        "--",
        "/usr/bin/true",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A PATH entry that does not exist is no root, and no error.
    let path = format!(
        "/nonexistent-path-entry:{}",
        std::env::var("PATH").unwrap_or_default()
    );
    let out = run(mayexec()
        .env("PATH", path)
        .args(["run", "--lockdown", "--", "/usr/bin/true"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // --exec-allow-file and --json belong to --lockdown.
    let out = run(mayexec().args([
        "run",
        "-f",
        "--exec-allow-file",
        "/usr/bin/true",
        "--",
        "true",
    ]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// A stock interpreter of this machine, copied into its own directory
/// under the names Debian gives it and as `tool`.
struct Stock {
    dir: &'static str,
    from: &'static str,
    /// Names outside the name list: Debian's own, or the same file's.
    names: &'static [&'static str],
    kind: &'static str,
    /// Arguments that make it print `ran`.
    run: &'static [&'static str],
}

const STOCK: &[Stock] = &[
    Stock {
        dir: "perl",
        from: "/usr/bin/perl",
        names: &["perl5.36-x86_64-linux-gnu"],
        kind: "perl",
        run: &["-e", "print qq(ran\\n)"],
    },
    Stock {
        dir: "python",
        from: "/usr/bin/python3",
        names: &["python3.11d", "python3.11-dbg"],
        kind: "python",
        run: &["-c", "print('ran')"],
    },
    Stock {
        dir: "bash-static",
        from: "/bin/bash-static",
        names: &["bash-static"],
        kind: "shell",
        run: &["-c", "echo ran"],
    },
    Stock {
        dir: "zsh-static",
        from: "/bin/zsh-static",
        names: &["zsh-static"],
        kind: "shell",
        run: &["-c", "echo ran"],
    },
    Stock {
        dir: "busybox",
        from: "/bin/busybox",
        names: &[],
        kind: "shell",
        run: &["sh", "-c", "echo ran"],
    },
    Stock {
        dir: "dash",
        from: "/usr/bin/dash",
        names: &[],
        kind: "shell",
        run: &["-c", "echo ran"],
    },
    Stock {
        dir: "mawk",
        from: "/usr/bin/mawk",
        names: &[],
        kind: "awk",
        run: &["BEGIN { print \"ran\" }"],
    },
    Stock {
        dir: "lua",
        from: "/usr/bin/lua5.4",
        names: &[],
        kind: "lua",
        run: &["-e", "print('ran')"],
    },
];

/// The stock interpreters that are installed here, copied (see [`Stock`]);
/// `plain/tool`, a copy of `true`; the enlightened builds as
/// `enlightened/NAME/tool`; and `ok.sh`, a script.
struct Copies {
    fs: Tmpfs,
    stock: Vec<(&'static Stock, Vec<PathBuf>)>,
    enlightened: Vec<PathBuf>,
}

impl Copies {
    fn new(dash: &Path) -> Copies {
        let fs = Tmpfs::exec();
        let copy = |from: &Path, to: &str| {
            let to = fs.path().join(to);
            fs::create_dir_all(to.parent().unwrap()).unwrap();
            fs::copy(from, &to).unwrap_or_else(|e| panic!("copy {from:?}: {e}"));
            to
        };
        let mut stock = Vec::new();
        for s in STOCK {
            let Ok(from) = fs::canonicalize(s.from) else {
                let why = format!(
                    "{} is not installed here (scripts/setup.sh installs it)",
                    s.from
                );
                // Under CI=true a way in left untested is a failure.
                assert!(!mayexec_testkit::in_ci(), "{why}");
                eprintln!("{why}");
                continue;
            };
            let names = s.names.iter().chain(&["tool"]);
            let copies = names
                .map(|n| copy(&from, &format!("{}/{n}", s.dir)))
                .collect();
            stock.push((s, copies));
        }
        copy(Path::new("/usr/bin/true"), "plain/tool");
        let bash = mayexec_testkit::interp::workspace_root().join("target/bash-mayexec/bin/bash");
        let mut enlightened = vec![copy(dash, "enlightened/dash/tool")];
        if bash.exists() {
            enlightened.push(copy(&bash, "enlightened/bash/tool"));
        } else {
            let why = "the enlightened bash is not built (bash integrations/bash/build.sh)";
            assert!(!mayexec_testkit::in_ci(), "{why}");
            eprintln!("{why}");
        }
        fs.write("ok.sh", "echo shell ran\n", 0o755);
        Copies {
            fs,
            stock,
            enlightened,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.fs.path().join(rel)
    }

    /// `mayexec run --lockdown -f -i` with the tree as its only root (and
    /// ld.so, which dynamically linked programs need).
    fn lockdown(&self, program: &Path) -> Command {
        let mut cmd = mayexec();
        cmd.args(["run", "--lockdown", "-f", "-i", "--exec-allow"])
            .arg(self.fs.path())
            .args(["--exec-allow-file", "/lib64/ld-linux-x86-64.so.2", "--"])
            .arg(program);
        cmd
    }
}

#[root_test]
fn interpreters_are_recognised_by_what_they_are_under_any_name() {
    let Some(dash) = dash() else { return };
    let copies = Copies::new(&dash);
    let out = run(mayexec()
        .args(["interpreters", "--json"])
        .arg(copies.fs.path()));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = by_path(&out);
    let entry = |path: &Path| {
        found
            .get(&path.display().to_string())
            .unwrap_or_else(|| panic!("{} not listed: {}", path.display(), stdout(&out)))
    };
    for (stock, paths) in &copies.stock {
        for path in paths {
            let e = entry(path);
            assert_eq!(e["kind"], stock.kind, "{e}");
            assert_eq!(e["enlightened"], false, "{e}");
            let by = e["recognised_by"].as_str().unwrap();
            assert!(["library", "symbol", "strings"].contains(&by), "{e}");
            assert!(e["evidence"].as_str().is_some(), "{e}");
        }
    }
    for path in &copies.enlightened {
        let e = entry(path);
        assert_eq!(
            (&e["kind"], &e["enlightened"], &e["marker"]),
            (
                &Value::from("shell"),
                &Value::from(true),
                &Value::from("note")
            ),
            "{e}"
        );
    }
    let listed =
        copies.stock.iter().map(|(_, p)| p.len()).sum::<usize>() + copies.enlightened.len();
    assert_eq!(
        found.len(),
        listed,
        "plain/tool and ok.sh are none: {}",
        stdout(&out)
    );

    // mayexec carries the tables of names, and is none.
    let out = run(mayexec()
        .arg("interpreters")
        .arg(env!("CARGO_BIN_EXE_mayexec")));
    assert_eq!(stdout(&out), "no interpreters found\n");

    // People see why.
    let out = run(mayexec().arg("interpreters").arg(copies.path("perl")));
    assert!(
        stdout(&out).contains(&format!(
            "  perl           tool             {} (",
            copies.path("perl/tool").display()
        )),
        "{}",
        stdout(&out)
    );
}

#[root_test]
fn lockdown_refuses_copies_of_stock_interpreters_under_any_name() {
    let Some(dash) = dash() else { return };
    let copies = Copies::new(&dash);
    for (stock, paths) in &copies.stock {
        for path in paths {
            let out = run(copies.lockdown(path).args(stock.run));
            assert_eq!(out.status.code(), Some(126), "{path:?}: {}", stderr(&out));
            assert_eq!(stdout(&out), "", "{path:?}");
            assert!(
                stderr(&out).contains(&format!(
                    "mayexec: {}: Permission denied (os error 13)",
                    path.display()
                )),
                "{path:?}: {}",
                stderr(&out)
            );
        }
    }
    // A plain tool is still granted, and the enlightened shells run the
    // script: they obey the check.
    let mut cmd = copies.lockdown(&copies.path("plain/tool"));
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // --json says why each was left out.
    let out = run(mayexec()
        .args(["run", "--lockdown", "--json", "--exec-allow"])
        .arg(copies.fs.path())
        .args(["--exec-allow-file", "/lib64/ld-linux-x86-64.so.2", "--"])
        .arg(copies.path("plain/tool")));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: Value = serde_json::from_str(stderr(&out).lines().next().unwrap())
        .unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    let perl = plan["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == copies.path("perl/tool").display().to_string())
        .unwrap_or_else(|| panic!("perl/tool not excluded: {plan}"));
    assert_eq!(perl["kind"], "perl", "{perl}");
    assert!(perl["evidence"].as_str().is_some(), "{perl}");
    for shell in &copies.enlightened {
        let out = run(copies.lockdown(shell).arg(copies.path("ok.sh")));
        assert_eq!(out.status.code(), Some(0), "{shell:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "shell ran\n", "{shell:?}");
    }
}

/// Fail closed: an executable the inventory cannot read or parse may be
/// an interpreter; `--lockdown` does not grant it.
#[root_test]
fn lockdown_does_not_grant_what_it_cannot_classify() {
    let tree = Tmpfs::exec();
    let mut malformed = b"\x7fELF\x02\x01\x01".to_vec();
    malformed.resize(256, 0xff);
    let odd = tree.write("odd", malformed, 0o755);
    let secret = tree.write("secret", fs::read("/usr/bin/true").unwrap(), 0o711);
    let open = tree.write("open", fs::read("/usr/bin/true").unwrap(), 0o755);

    let out = run(mayexec().args(["interpreters", "--json"]).arg(tree.path()));
    let e = &by_path(&out)[&odd.display().to_string()];
    assert_eq!(
        (&e["kind"], &e["recognised_by"]),
        (&Value::from("unclassified"), &Value::from("unreadable")),
        "{e}"
    );
    assert!(
        e["evidence"]
            .as_str()
            .unwrap()
            .contains("malformed ELF file"),
        "{e}"
    );

    // As nobody, `secret` (0711) cannot be read: it is not granted.
    let out = run(as_nobody(&mut mayexec())
        .args(["interpreters", "--json"])
        .arg(tree.path()));
    let found = by_path(&out);
    let e = &found[&secret.display().to_string()];
    assert_eq!(e["kind"], "unclassified", "{e}");
    assert!(
        e["evidence"]
            .as_str()
            .unwrap()
            .contains("Permission denied"),
        "{e}"
    );
    assert!(
        !found.contains_key(&open.display().to_string()),
        "{found:?}"
    );
    let lockdown = |program: &Path| {
        let mut cmd = mayexec();
        as_nobody(&mut cmd)
            .args(["run", "--lockdown", "-v", "--exec-allow"])
            .arg(tree.path())
            .args(["--exec-allow-file", "/lib64/ld-linux-x86-64.so.2", "--"])
            .arg(program);
        run(&mut cmd)
    };
    let out = lockdown(&secret);
    assert_eq!(out.status.code(), Some(126), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "mayexec: lockdown: not executable: {} (unclassified: cannot read it: Permission \
             denied (os error 13))",
            secret.display()
        )),
        "{}",
        stderr(&out)
    );
    let out = lockdown(&open);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Landlock grants by inode, and a file keeps its grant when its content
/// is replaced in place: an executable the tree's user owns or may write
/// would let the tree copy an excluded interpreter into it and run that.
/// As nobody, such files are not granted; a root-owned one still is, and
/// `--exec-allow-file` grants one anyway.
#[root_test]
fn lockdown_does_not_grant_what_the_tree_could_rewrite() {
    let Some(dash) = dash() else { return };
    let tree = Tmpfs::exec();
    let true_bytes = fs::read("/usr/bin/true").unwrap();
    let owned = tree.write("owned", &true_bytes, 0o755);
    mayexec_testkit::give_to(&owned, NOBODY, NOBODY);
    let open = tree.write("open", &true_bytes, 0o777);
    let fixed = tree.write("fixed", &true_bytes, 0o755);
    let shell = tree.write("shell", fs::read(&dash).unwrap(), 0o755);
    // The tree rewrites `owned` with stock perl's bytes (same inode) and
    // runs it: the interpreter --lockdown left out, under another name.
    let attack = format!(
        "cat /usr/bin/perl > {0} && {0} -e 'print qq(ESCAPED\\n)'",
        owned.display()
    );
    let lockdown = |extra: &[&Path], args: &[&str]| {
        let mut cmd = mayexec();
        as_nobody(&mut cmd).args([
            "run",
            "--lockdown",
            "-v",
            "--exec-allow",
            "/usr",
            "--exec-allow",
        ]);
        cmd.arg(tree.path());
        for file in extra {
            cmd.arg("--exec-allow-file").arg(file);
        }
        cmd.arg("--").args(args);
        run(&mut cmd)
    };
    let shell = shell.to_str().unwrap();
    let out = lockdown(&[], &[shell, "-c", &attack]);
    assert!(!stdout(&out).contains("ESCAPED"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Permission denied"),
        "{}",
        stderr(&out)
    );
    for file in [&owned, &open] {
        assert!(
            stderr(&out).contains(&format!(
                "mayexec: lockdown: not executable: {} (the tree could rewrite it",
                file.display()
            )),
            "{}: {}",
            file.display(),
            stderr(&out)
        );
    }
    // The others are granted, and so is a rewritable file named by hand.
    let out = lockdown(&[], &[fixed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    fs::write(&owned, &true_bytes).unwrap();
    let out = lockdown(&[&owned], &[owned.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
