//! The roll-out tools on real trees: `mayexec scan`, `mayexec mark`,
//! `mayexec run --exec-allow`, and `status`'s Landlock line.

mod common;

use common::*;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mayexec_testkit::{
    as_nobody, deny_landlock, give_to, root_test, workspace_bin, TempDir, Tmpfs, NOBODY,
};
use serde_json::Value;

/// `scan --json` output: code/special/problem objects by path, and the summary.
struct Scan {
    by_path: BTreeMap<String, Value>,
    summary: Value,
}

fn scan_json(out: &Output) -> Scan {
    let mut by_path = BTreeMap::new();
    let mut summary = None;
    for line in stdout(out).lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if v["type"] == "summary" {
            assert!(summary.is_none(), "one summary");
            summary = Some(v);
        } else {
            assert!(summary.is_none(), "the summary comes last");
            by_path.insert(v["path"].as_str().unwrap().to_owned(), v);
        }
    }
    Scan {
        by_path,
        summary: summary.unwrap_or_else(|| panic!("no summary in\n{}", stdout(out))),
    }
}

fn mode_of(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

fn mkdir(path: &Path, mode: u32) -> PathBuf {
    fs::create_dir(path).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    path.to_owned()
}

fn mkfifo(path: &Path) {
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        path,
        rustix::fs::Mode::from_raw_mode(0o644),
    )
    .expect("mkfifo");
}

/// A tree with code and non-code files, wrong modes, symlinks in and out of
/// the tree, a FIFO, a device, an unreadable directory, a `noexec` mount
/// and a second file system inside it.
struct Tree {
    root: PathBuf,
    // Inner mounts first: dropped (unmounted) before the tree's own mount.
    _noexec: Tmpfs,
    _other: Tmpfs,
    outside: TempDir,
    _tmpfs: Tmpfs,
}

impl Tree {
    fn new() -> Tree {
        let tmpfs = Tmpfs::exec();
        let outside = TempDir::new();
        let root = tmpfs.path().to_owned();
        let p = |rel: &str| root.join(rel);
        mkdir(&p("lib"), 0o755);
        mkdir(&p("bin"), 0o755);
        mkdir(&p("data"), 0o755);
        mkdir(&p("secret"), 0o700);
        tmpfs.write("lib/m.py", "import os\n", 0o644);
        tmpfs.write("lib/ok.py", "pass\n", 0o755);
        tmpfs.write("lib/mod.pm", "1;\n", 0o444);
        tmpfs.write("lib/w.sh", "echo\n", 0o200);
        tmpfs.write("bin/tool", "#!/usr/bin/env python3\nprint()\n", 0o640);
        tmpfs.write("bin/run", "#!/bin/sh\necho hi\n", 0o755);
        tmpfs.write("data/odd.bin", "#!/bin/sh\n", 0o644);
        tmpfs.write("data/readme.txt", "see #!/bin/sh\n", 0o644);
        tmpfs.write("data/libx.so", b"\x7fELF\x02\x01\x01", 0o755);
        tmpfs.write("data/empty", "", 0o644);
        tmpfs.write("secret/hidden.py", "x = 1\n", 0o644);
        symlink("m.py", p("lib/in.py")).unwrap();
        let outside_script = outside.write("outside.sh", "#!/bin/sh\n", 0o644);
        symlink(&outside_script, p("lib/out.sh")).unwrap();
        symlink(outside.path(), p("lib/outdir")).unwrap();
        mkfifo(&p("data/pipe.sh"));
        rustix::fs::mknodat(
            rustix::fs::CWD,
            p("data/null"),
            rustix::fs::FileType::CharacterDevice,
            rustix::fs::Mode::from_raw_mode(0o666),
            rustix::fs::makedev(1, 3),
        )
        .expect("mknod");
        let noexec = Tmpfs::mount_at(p("mnt-noexec"), true).expect("mount noexec tmpfs");
        noexec.write("s.sh", "echo\n", 0o755);
        noexec.write("t.py", "pass\n", 0o644);
        let other = Tmpfs::mount_at(p("mnt-other"), false).expect("mount tmpfs");
        other.write("u.py", "pass\n", 0o644);
        Tree {
            root,
            _noexec: noexec,
            _other: other,
            outside,
            _tmpfs: tmpfs,
        }
    }

    fn path(&self, rel: &str) -> String {
        self.root.join(rel).to_str().unwrap().to_owned()
    }
}

#[root_test]
fn scan_reports_code_files_verdicts_rules_and_everything_it_did_not_examine() {
    let tree = Tree::new();
    let out = run(mayexec().args(["scan", "--json"]).arg(&tree.root));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let scan = scan_json(&out);
    let code = |rel: &str| -> &Value {
        let v = scan
            .by_path
            .get(&tree.path(rel))
            .unwrap_or_else(|| panic!("{rel} not reported: {:#?}", scan.by_path.keys()));
        assert_eq!(v["type"], "code", "{rel}");
        v
    };
    let m = code("lib/m.py");
    assert_eq!(m["rule"], "extension");
    assert_eq!(m["extension"], ".py");
    assert_eq!(m["language"], "python");
    assert_eq!(m["allowed"], false);
    assert_eq!(m["reason"], "not-executable");
    assert_eq!(m["backend"], "kernel");
    assert_eq!(m["mode"], "0644");
    assert_eq!(m["fix"], "0755");
    assert_eq!(code("lib/ok.py")["allowed"], true);
    assert_eq!(code("lib/ok.py")["fix"], Value::Null);
    assert_eq!(code("lib/mod.pm")["language"], "perl");
    assert_eq!(code("lib/mod.pm")["fix"], "0555");
    // Denied for its mode, but there is no read bit to match.
    assert_eq!(code("lib/w.sh")["reason"], "not-executable");
    assert_eq!(code("lib/w.sh")["fix"], Value::Null);
    let tool = code("bin/tool");
    assert_eq!(tool["rule"], "shebang");
    assert_eq!(tool["extension"], Value::Null);
    assert_eq!(tool["language"], "python");
    assert_eq!(tool["interpreter"], "/usr/bin/env python3");
    assert_eq!(tool["fix"], "0750");
    assert_eq!(code("bin/run")["allowed"], true);
    assert_eq!(code("bin/run")["language"], "shell");
    // The content decides when the name does not.
    assert_eq!(code("data/odd.bin")["rule"], "shebang");
    assert_eq!(code("secret/hidden.py")["reason"], "not-executable");
    for not_code in [
        "data/readme.txt",
        "data/libx.so",
        "data/empty",
        "lib/in.py",
        "lib/out.sh",
        "lib/outdir/outside.sh",
    ] {
        assert!(
            !scan.by_path.contains_key(&tree.path(not_code)),
            "{not_code} reported"
        );
    }
    assert!(
        !scan.by_path.keys().any(|p| p.contains("outside")),
        "the walk left the tree: {:#?}",
        scan.by_path.keys()
    );
    assert_eq!(scan.by_path[&tree.path("data/pipe.sh")]["type"], "special");
    assert_eq!(scan.by_path[&tree.path("data/pipe.sh")]["kind"], "fifo");
    assert_eq!(scan.by_path[&tree.path("data/null")]["kind"], "char-device");
    for mount in ["mnt-noexec", "mnt-other"] {
        assert_eq!(
            scan.by_path[&tree.path(mount)]["type"],
            "other-filesystem",
            "{mount}"
        );
    }
    let s = &scan.summary;
    assert_eq!(s["files"], 11, "{s}");
    assert_eq!(s["code_files"], 8, "{s}");
    assert_eq!(s["by_rule"]["shebang"], 3);
    assert_eq!(s["by_rule"]["extension"], 5);
    assert_eq!(s["allowed"], 2);
    assert_eq!(s["denied"], 6);
    assert_eq!(s["denied_by_reason"]["not-executable"], 6);
    assert_eq!(s["fixable"], 5);
    assert_eq!(s["symlinks"], 3);
    assert_eq!(s["special_files"], 2);
    assert_eq!(s["other_filesystems"], 2);
    assert_eq!(s["problems"], 0);
    assert_eq!(s["backend"], "kernel");
    assert_eq!(s["level"], 3);

    // With --cross-filesystems the mounts are entered: the noexec one is
    // denied for its mount, which no mode fixes.
    let out = run(mayexec()
        .args(["scan", "--json", "--cross-filesystems"])
        .arg(&tree.root));
    let scan = scan_json(&out);
    let s_sh = &scan.by_path[&tree.path("mnt-noexec/s.sh")];
    assert_eq!(s_sh["reason"], "noexec-mount");
    assert_eq!(s_sh["fix"], Value::Null);
    assert_eq!(
        scan.by_path[&tree.path("mnt-noexec/t.py")]["reason"],
        "noexec-mount"
    );
    assert_eq!(
        scan.by_path[&tree.path("mnt-other/u.py")]["reason"],
        "not-executable"
    );
    assert_eq!(scan.summary["other_filesystems"], 0);
    assert_eq!(scan.summary["denied_by_reason"]["noexec-mount"], 2);
    assert_eq!(scan.summary["code_files"], 11);
}

#[root_test]
fn scan_as_nobody_reports_unreadable_directories_and_goes_on() {
    let tree = Tree::new();
    let out = run(as_nobody(&mut mayexec())
        .args(["scan", "--json"])
        .arg(&tree.root));
    // Not the whole tree was seen: never an answer to rely on.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "mayexec: not fully examined: 3 paths listed above could not be examined; \
             the result covers only the rest"
        ),
        "{}",
        stderr(&out)
    );
    let scan = scan_json(&out);
    let secret = &scan.by_path[&tree.path("secret")];
    assert_eq!(secret["type"], "problem");
    assert_eq!(secret["kind"], "unreadable-directory");
    assert_eq!(secret["errno"], libc::EACCES);
    assert!(!scan.by_path.contains_key(&tree.path("secret/hidden.py")));
    assert_eq!(scan.summary["problems_by_kind"]["unreadable-directory"], 1);
    // nobody may read lib/m.py (0644) but not bin/tool (0640, root's
    // group) nor lib/w.sh (0200).
    assert_eq!(
        scan.by_path[&tree.path("lib/m.py")]["reason"],
        "not-executable"
    );
    for unreadable in ["bin/tool", "lib/w.sh"] {
        let v = &scan.by_path[&tree.path(unreadable)];
        assert_eq!(v["type"], "problem", "{unreadable}");
        assert_eq!(v["kind"], "unreadable-file", "{unreadable}");
    }
    // The rest of the tree is still scanned.
    assert_eq!(scan.by_path[&tree.path("bin/run")]["allowed"], true);

    // Human output: problems on stderr, the report on stdout.
    let out = run(as_nobody(&mut mayexec()).arg("scan").arg(&tree.root));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!(
            "mayexec: {}: unreadable-directory: Permission denied",
            tree.path("secret")
        )),
        "{}",
        stderr(&out)
    );
    let text = stdout(&out);
    for needle in [
        format!("{}/\n  not-executable (", tree.path("lib")),
        "    m.py  [extension .py] mode 0644, fix: chmod 0755\n".to_owned(),
        "special files (never opened):".to_owned(),
        format!("  {}  fifo\n", tree.path("data/pipe.sh")),
        "other file systems (not entered; --cross-filesystems enters them):".to_owned(),
        "not examined:       3 (unreadable-directory 1, unreadable-file 2)".to_owned(),
        "files scanned:".to_owned(),
        "files/s".to_owned(),
    ] {
        assert!(text.contains(&needle), "{needle:?} in\n{text}");
    }
    assert!(
        !stderr(&out).contains("scanning:"),
        "no progress line when stderr is not a terminal"
    );
    // mark marks what it saw, and does not report success either.
    let out = run(as_nobody(&mut mayexec())
        .args(["mark", "--dry-run"])
        .arg(&tree.root));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not fully examined"));
}

#[root_test]
fn scan_levels_exit_statuses_and_roots_that_are_files() {
    let noexec = Tmpfs::noexec();
    let script = noexec.write("a.sh", "echo\n", 0o755);
    let plain = noexec.write("b.py", "pass\n", 0o644);
    let fifo = noexec.path().join("c.sh");
    mkfifo(&fifo);
    let reason = |level: Option<&str>, path: &Path| {
        let mut cmd = mayexec();
        cmd.args(["scan", "--json"]);
        if let Some(level) = level {
            cmd.args(["--level", level]);
        }
        let out = run(cmd.arg(path));
        let scan = scan_json(&out);
        (
            out.status.code(),
            scan.by_path[path.to_str().unwrap()]["reason"].clone(),
        )
    };
    assert_eq!(reason(None, &script), (Some(1), "noexec-mount".into()));
    assert_eq!(reason(Some("0"), &script), (Some(0), Value::Null));
    assert_eq!(reason(Some("1"), &script), (Some(1), "noexec-mount".into()));
    assert_eq!(reason(Some("2"), &script), (Some(0), Value::Null));
    assert_eq!(
        reason(Some("2"), &plain),
        (Some(1), "not-executable".into())
    );
    // A FIFO given as a root is reported, never opened (no hang).
    let out = run(mayexec().args(["scan", "--json"]).arg(&fifo));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        scan_json(&out).by_path[fifo.to_str().unwrap()]["kind"],
        "fifo"
    );

    let out = run(mayexec()
        .args(["scan", "--level", "1"])
        .arg(noexec.path().join("missing"))
        .arg(&plain));
    assert_eq!(out.status.code(), Some(2), "a missing root is status 2");
    assert!(stderr(&out).contains("missing: No such file or directory"));
    assert!(stdout(&out).contains("code files:         1"));
    for args in [
        &["scan"][..],
        &["scan", "--level", "4", "/"],
        &["scan", "-j", "0", "/"],
    ] {
        assert_eq!(run(mayexec().args(args)).status.code(), Some(2), "{args:?}");
    }
    let out = run(mayexec().args(["scan", "--help"]));
    assert!(stdout(&out).contains(
        "Exit status: 0 nothing would be denied, 1 something would be denied or a code file has an unsafe mode"
    ));
}

/// The full mode listing of a tree (every file and directory), by `find`.
fn mode_listing(root: &Path) -> BTreeMap<String, u32> {
    let out = Command::new("find")
        .arg(root)
        .args(["-printf", "%m %p\\n"])
        .output()
        .expect("find");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (mode, path) = l.split_once(' ').unwrap();
            (path.to_owned(), u32::from_str_radix(mode, 8).unwrap())
        })
        .collect()
}

/// Code files root may not execute, found independently of mayexec: a
/// code extension or `#!`, and no execute bit at all.
fn expected_denied(root: &Path) -> BTreeSet<String> {
    const EXTS: [&str; 15] = [
        "py", "pyc", "pyz", "pth", "sh", "bash", "zsh", "ksh", "pl", "pm", "rb", "lua", "php",
        "tcl", "awk",
    ];
    let mut found = BTreeSet::new();
    let mut dirs = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let ft = entry.file_type().unwrap();
            let path = entry.path();
            if ft.is_dir() {
                dirs.push(path);
                continue;
            }
            if !ft.is_file() {
                continue;
            }
            let name = entry.file_name().into_string().unwrap();
            let by_name = name
                .rsplit_once('.')
                .is_some_and(|(stem, ext)| !stem.is_empty() && EXTS.contains(&ext));
            let code = by_name || {
                let mut head = [0u8; 2];
                let n =
                    std::io::Read::read(&mut fs::File::open(&path).unwrap(), &mut head).unwrap();
                head[..n] == *b"#!"
            };
            if code && mode_of(&path) & 0o111 == 0 {
                found.insert(path.to_str().unwrap().to_owned());
            }
        }
    }
    found
}

fn python_stdlib() -> PathBuf {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sysconfig;print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .expect("python3");
    assert!(out.status.success());
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

#[root_test]
fn scan_mark_and_undo_on_a_copy_of_the_python_standard_library() {
    let stdlib = python_stdlib();
    let tmpfs = Tmpfs::mount_sized(false, "2g").expect("mount a big tmpfs");
    let copy = tmpfs.path().join("stdlib");
    mkdir(&copy, mode_of(&stdlib));
    // The standard library, modes preserved; third-party site-packages left out.
    for entry in fs::read_dir(&stdlib).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "site-packages" {
            continue;
        }
        let status = Command::new("cp")
            .arg("-a")
            .arg(entry.path())
            .arg(&copy)
            .status()
            .expect("cp");
        assert!(status.success(), "cp -a {}", entry.path().display());
    }
    let before = mode_listing(&copy);
    let expected = expected_denied(&copy);
    assert!(
        expected.len() > 100,
        "the standard library ships 0644 code: {}",
        expected.len()
    );
    assert!(
        before.values().any(|m| m & 0o111 == 0o111),
        "and some 0755 scripts"
    );

    let out = run(mayexec().args(["scan", "--json"]).arg(&copy));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let scan = scan_json(&out);
    let denied: BTreeSet<String> = scan
        .by_path
        .iter()
        .filter(|(_, v)| v["type"] == "code" && v["allowed"] == false)
        .map(|(p, _)| p.clone())
        .collect();
    assert_eq!(denied, expected, "scan lists exactly the files without x");
    for path in &denied {
        let v = &scan.by_path[path];
        assert_eq!(v["reason"], "not-executable", "{path}");
        let old = before[path];
        assert_eq!(v["mode"], format!("{old:04o}"));
        assert_eq!(
            v["fix"],
            format!("{:04o}", old | (old & 0o444) >> 2),
            "{path}"
        );
    }
    assert_eq!(scan.summary["denied"], expected.len());
    assert_eq!(scan.summary["problems"], 0);
    assert!(scan.summary["allowed"].as_u64().unwrap() > 0);

    let journal = tmpfs.path().join("marks.journal");
    let out = run(mayexec()
        .args(["mark", "--journal"])
        .arg(&journal)
        .arg(&copy));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let changed = stdout(&out).lines().filter(|l| l.contains(" -> ")).count();
    assert_eq!(changed, expected.len(), "one line per change");
    let after = mode_listing(&copy);
    assert_eq!(after.len(), before.len());
    for (path, &old) in &before {
        let want = if expected.contains(path) {
            old | (old & 0o444) >> 2
        } else {
            old
        };
        assert_eq!(after[path], want, "{path}: {old:o}");
    }

    let out = run(mayexec().args(["scan", "--json"]).arg(&copy));
    assert_eq!(out.status.code(), Some(0), "nothing denied after mark");
    assert_eq!(scan_json(&out).summary["denied"], 0);

    let out = run(mayexec().args(["mark", "--undo"]).arg(&journal));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!(
        "restored {}, already restored 0, skipped 0",
        expected.len()
    )));
    assert_eq!(mode_listing(&copy), before, "every mode restored");
}

#[root_test]
fn mark_dry_run_changes_nothing_and_mark_leaves_non_mode_problems_alone() {
    let tree = Tree::new();
    let before = mode_listing(&tree.root);
    let journal = TempDir::new();
    let jpath = journal.path().join("j");
    let out = run(mayexec()
        .args(["mark", "--dry-run", "-x", "--journal"])
        .arg(&jpath)
        .arg(&tree.root));
    assert_eq!(
        out.status.code(),
        Some(1),
        "some left alone: {}",
        stderr(&out)
    );
    assert_eq!(mode_listing(&tree.root), before, "dry run changes nothing");
    assert!(!jpath.exists(), "dry run writes no journal");
    let text = stdout(&out);
    assert!(text.contains(&format!(
        "{}: would change 0644 -> 0755",
        tree.path("lib/m.py")
    )));
    assert!(text.contains(&format!(
        "{}: left alone: denied (noexec-mount) (not a mode problem)",
        tree.path("mnt-noexec/t.py")
    )));
    assert!(text.contains(&format!(
        "{}: left alone: denied (not-executable) (no read bit to match)",
        tree.path("lib/w.sh")
    )));

    let out = run(mayexec()
        .args(["mark", "-x", "--journal"])
        .arg(&jpath)
        .arg(&tree.root));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let after = mode_listing(&tree.root);
    let marked = [
        ("lib/m.py", 0o755),
        ("lib/mod.pm", 0o555),
        ("bin/tool", 0o750),
        ("data/odd.bin", 0o755),
        ("secret/hidden.py", 0o755),
        ("mnt-other/u.py", 0o755),
    ];
    for (path, mode) in &before {
        let want = marked
            .iter()
            .find(|(rel, _)| tree.path(rel) == *path)
            .map_or(*mode, |(_, new)| *new);
        assert_eq!(after[path], want, "{path}");
    }
    assert!(stdout(&out).contains("marked 6, left alone 3, refused 0, failed 0; journal "));
    // Neither the FIFO, nor the outside file behind a symlink, nor the noexec mount.
    assert_eq!(mode_of(&tree.root.join("data/pipe.sh")), 0o644);
    assert_eq!(
        mode_of(&tree.outside.path().join("outside.sh")),
        0o644,
        "never through a symlink"
    );
    let journal_text = fs::read_to_string(&jpath).unwrap();
    assert!(journal_text.starts_with("mayexec-mark-journal 2\n"));
    assert_eq!(
        journal_text
            .lines()
            .filter(|l| !l.starts_with(['#', 'm']))
            .count(),
        6
    );
}

#[root_test]
fn mark_refuses_an_existing_journal_and_other_users_files() {
    let tmpfs = Tmpfs::exec();
    let roots = mkdir(&tmpfs.path().join("roots"), 0o755);
    let mine = mkdir(&tmpfs.path().join("mine"), 0o755);
    give_to(&mine, NOBODY, NOBODY);
    let theirs = tmpfs.write("roots/theirs.py", "pass\n", 0o644);
    let own = tmpfs.write("mine/own.py", "pass\n", 0o644);
    give_to(&own, NOBODY, NOBODY);
    let existing = tmpfs.write("existing.journal", "keep me\n", 0o644);

    let out = run(mayexec()
        .args(["mark", "--journal"])
        .arg(&existing)
        .arg(&roots));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("journal exists; refusing to overwrite it"));
    assert_eq!(fs::read_to_string(&existing).unwrap(), "keep me\n");
    assert_eq!(mode_of(&theirs), 0o644, "nothing changed");

    let jpath = mine.join("j");
    let out = run(as_nobody(&mut mayexec())
        .args(["mark", "--journal"])
        .arg(&jpath)
        .arg(&roots)
        .arg(&mine));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "{}: refused: owned by uid 0, not by you (uid {NOBODY}): run as root or as its owner",
            theirs.display()
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(mode_of(&theirs), 0o644);
    assert_eq!(mode_of(&own), 0o755, "a user marks their own files");
    assert!(stdout(&out).contains("marked 1, left alone 0, refused 1"));

    let out = run(mayexec()
        .args(["mark", "--replace-journal", "--journal"])
        .arg(&existing)
        .arg(&roots));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode_of(&theirs), 0o755);
    assert!(fs::read_to_string(&existing)
        .unwrap()
        .starts_with("mayexec-mark-journal 2\n"));
}

#[root_test]
fn undo_restores_only_files_unchanged_since_and_reports_the_others() {
    let tmpfs = Tmpfs::exec();
    let dir = mkdir(&tmpfs.path().join("t"), 0o755);
    let kept = tmpfs.write("t/kept.py", "pass\n", 0o644);
    let rechmod = tmpfs.write("t/rechmod.py", "pass\n", 0o640);
    let replaced = tmpfs.write("t/replaced.sh", "echo\n", 0o644);
    let swapped = tmpfs.write("t/swapped.rb", "1\n", 0o600);
    let victim = tmpfs.write("victim", "precious\n", 0o755);
    let journal = tmpfs.path().join("j");
    let out = run(mayexec()
        .args(["mark", "--journal"])
        .arg(&journal)
        .arg(&dir));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode_of(&kept), 0o755);
    assert_eq!(mode_of(&swapped), 0o700);

    fs::set_permissions(&rechmod, fs::Permissions::from_mode(0o700)).unwrap();
    fs::remove_file(&replaced).unwrap();
    tmpfs.write("t/replaced.sh", "echo new\n", 0o755);
    fs::remove_file(&swapped).unwrap();
    symlink(&victim, &swapped).unwrap();

    let out = run(mayexec().args(["mark", "--undo"]).arg(&journal));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{}: skipped: mode changed since: 0700, expected 0750",
            rechmod.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}: skipped: replaced since", replaced.display())),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}: skipped: cannot open", swapped.display())),
        "{err}"
    );
    assert_eq!(mode_of(&kept), 0o644, "restored");
    assert_eq!(mode_of(&rechmod), 0o700, "left as changed");
    assert_eq!(mode_of(&tmpfs.path().join("t/replaced.sh")), 0o755);
    assert_eq!(mode_of(&victim), 0o755, "never through a symlink");
    assert!(stdout(&out).contains("restored 1, already restored 0, skipped 3"));

    let out = run(mayexec().args(["mark", "--undo"]).arg(&journal));
    assert!(stdout(&out).contains("restored 0, already restored 1, skipped 3"));

    let bad = tmpfs.write("bad.journal", "not a journal\n", 0o644);
    let out = run(mayexec().args(["mark", "--undo"]).arg(&bad));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a mayexec mark journal line"));
}

/// A directory with the mayexec binary in it, and one with a copy of `true`.
struct ExecDirs {
    _tmpfs: Tmpfs,
    a: PathBuf,
    b: PathBuf,
    mayexec: PathBuf,
}

impl ExecDirs {
    fn new() -> ExecDirs {
        let tmpfs = Tmpfs::exec();
        let a = mkdir(&tmpfs.path().join("A"), 0o755);
        let b = mkdir(&tmpfs.path().join("B"), 0o755);
        let mayexec = a.join("mayexec");
        fs::copy(workspace_bin("mayexec"), &mayexec).unwrap();
        fs::copy("/usr/bin/true", b.join("true")).unwrap();
        for dir in [&a, &b] {
            tmpfs.write(dir.join("s.sh"), "#!/bin/sh\necho hi\n", 0o755);
        }
        ExecDirs {
            _tmpfs: tmpfs,
            a,
            b,
            mayexec,
        }
    }

    /// `mayexec run --exec-allow A --exec-allow /usr (and /lib…) ARGS`.
    fn run(&self) -> Command {
        let mut cmd = mayexec();
        cmd.arg("run").arg("--exec-allow").arg(&self.a);
        // The shell, ld.so and `true` live there.
        for system in ["/usr", "/lib", "/lib64", "/bin"] {
            let real = fs::symlink_metadata(system).is_ok_and(|m| m.is_dir());
            if real {
                cmd.args(["--exec-allow", system]);
            }
        }
        cmd
    }
}

#[root_test]
fn run_exec_allow_confines_scripts_and_binaries_to_the_allowed_directories() {
    let dirs = ExecDirs::new();
    // As root and without privilege: Landlock and the securebits need none.
    for unprivileged in [false, true] {
        let mut cmd = dirs.run();
        if unprivileged {
            as_nobody(&mut cmd);
        }
        let out = run(cmd
            .args(["-f", "--"])
            .arg(&dirs.mayexec)
            .args(["check", "--json"])
            .arg(dirs.a.join("s.sh"))
            .arg(dirs.b.join("s.sh")));
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v[0]["allowed"], true, "{v}");
        assert_eq!(v[1]["allowed"], false);
        assert_eq!(v[1]["reason"], "kernel-policy");
        assert_eq!(v[1]["backend"], "kernel");
        assert_eq!(stderr(&out), "", "fully enforced: no warning");
    }

    // Binaries outside the allowed directories cannot be executed.
    let script = format!(
        "{}; echo \"status=$?\"; {} >/dev/null; echo \"inside=$?\"",
        dirs.b.join("true").display(),
        dirs.mayexec.display()
    );
    let out = run(dirs.run().args(["-f", "--", "/bin/sh", "-c", &script]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("status=126"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("inside=2"),
        "mayexec without arguments: usage"
    );
    assert!(stderr(&out).contains("Permission denied"));

    // Outside the domain the same script and binary are fine.
    let out = run(mayexec().args(["check"]).arg(dirs.b.join("s.sh")));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        Command::new(dirs.b.join("true")).status().unwrap().code(),
        Some(0)
    );

    // The securebits are set after the domain, and the status shows both.
    let out = run(dirs
        .run()
        .args(["-v", "-fi", "--"])
        .arg(&dirs.mayexec)
        .args(["status", "--json"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["securebits"]["exec_restrict_file_locked"], true);
    assert_eq!(v["securebits"]["exec_deny_interactive_locked"], true);
    assert!(
        stderr(&out).contains(&format!(
            "mayexec: exec allowed only beneath {}",
            dirs.a.display()
        )) && stderr(&out).contains("fully enforced (Landlock ABI"),
        "{}",
        stderr(&out)
    );
}

#[root_test]
fn run_exec_allow_needs_the_command_itself_beneath_an_allowed_directory() {
    let dirs = ExecDirs::new();
    // Only A: the command is there, but its ld.so is not.
    let out = run(mayexec()
        .args(["run", "--exec-allow"])
        .arg(&dirs.a)
        .arg("--")
        .arg(&dirs.mayexec)
        .arg("--version"));
    assert_eq!(out.status.code(), Some(126), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Hint: under --exec-allow, CMD and its ELF interpreter (ld.so)"),
        "{}",
        stderr(&out)
    );
    // --exec-allow alone (no securebits) is a binary allow-list.
    let out = run(dirs.run().arg("--").arg(dirs.b.join("true")));
    assert_eq!(out.status.code(), Some(126));
    let out = run(dirs.run().arg("--").arg("true"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = run(mayexec().args(["run", "--exec-allow", "/nonexistent", "--", "true"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--exec-allow /nonexistent: No such file or directory"));
}

#[root_test]
fn run_exec_allow_without_landlock_warns_or_fails_when_required() {
    let dirs = ExecDirs::new();
    let (best_effort, required) = std::thread::spawn(move || {
        // This thread, and what it starts, sees a kernel without Landlock.
        deny_landlock(libc::ENOSYS);
        let best_effort = dirs.run().args(["--", "true"]).output().unwrap();
        let required = dirs
            .run()
            .args(["--landlock=required", "--", "true"])
            .output()
            .unwrap();
        (best_effort, required)
    })
    .join()
    .unwrap();
    assert_eq!(
        best_effort.status.code(),
        Some(0),
        "{}",
        stderr(&best_effort)
    );
    assert!(
        stderr(&best_effort).contains("mayexec: warning: --exec-allow")
            && stderr(&best_effort).contains("not enforced (the kernel has no Landlock")
            && stderr(&best_effort).contains("running the command anyway"),
        "{}",
        stderr(&best_effort)
    );
    assert_eq!(required.status.code(), Some(1));
    assert!(
        stderr(&required).contains("--landlock=required: not running the command"),
        "{}",
        stderr(&required)
    );
}

#[root_test]
fn mark_under_a_landlock_domain_puts_the_mode_back_when_chmod_is_not_the_fix() {
    let dirs = ExecDirs::new();
    let plain = dirs.b.join("plain.py");
    fs::write(&plain, "pass\n").unwrap();
    fs::set_permissions(&plain, fs::Permissions::from_mode(0o644)).unwrap();
    let journal = dirs.a.join("j");
    // Inside the domain B is not executable whatever its modes: the kernel
    // explains the denial by the mode (0644), but 0755 does not pass either.
    let out = run(dirs
        .run()
        .arg("--")
        .arg(&dirs.mayexec)
        .args(["mark", "--journal"])
        .arg(&journal)
        .arg(&plain));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "{}: not marked: still denied (kernel-policy) with mode 0755: not a mode problem (mode 0644 restored)",
            plain.display()
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(mode_of(&plain), 0o644);
    assert!(stdout(&out).contains("marked 0, left alone 0, refused 0, failed 1"));
}

#[test]
fn status_reports_the_landlock_abi() {
    let out = run(mayexec().args(["status", "--json"]));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kernel"]["landlock"], "available");
    assert!(v["kernel"]["landlock_abi"].as_i64().unwrap() >= 1);
    let out = run(mayexec().arg("status"));
    assert!(stdout(&out).contains("Landlock:                       ABI "));
}

#[root_test]
fn scan_shows_progress_only_on_a_terminal() {
    let tree = Tree::new();
    // `script` gives the command a pseudo-terminal; stdout goes elsewhere,
    // so what comes back through the terminal is stderr.
    let command = format!(
        "{} scan {} >/dev/null",
        env!("CARGO_BIN_EXE_mayexec"),
        tree.root.display()
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("script (util-linux)");
    let tty = stdout(&out);
    assert!(tty.contains("\r\x1b[Kscanning: "), "{tty:?}");
    assert!(tty.contains(" code files, "), "{tty:?}");
    assert!(tty.ends_with("\r\x1b[K"), "the line is cleared: {tty:?}");
}

#[root_test]
fn mark_changes_a_file_with_two_names_once() {
    let tmpfs = Tmpfs::exec();
    let first = tmpfs.write("a.py", "pass\n", 0o644);
    fs::hard_link(&first, tmpfs.path().join("b.py")).unwrap();
    let journal = tmpfs.path().join("j");
    let out = run(mayexec()
        .args(["mark", "--journal"])
        .arg(&journal)
        .arg(tmpfs.path()));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("marked 1, left alone 0, refused 0, failed 0"));
    assert_eq!(mode_of(&first), 0o755);
    let out = run(mayexec().args(["mark", "--undo"]).arg(&journal));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode_of(&first), 0o644);
}

/// A file's ctime, (seconds, nanoseconds).
fn ctime_of(path: &Path) -> (i64, i64) {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::symlink_metadata(path).unwrap();
    (meta.ctime(), meta.ctime_nsec())
}

/// mayexec-python takes a cached module's verdict for its source's only
/// while the cache's ctime is newer than the source's (`docs/semantics.md`
/// §3.2), and a chmod bumps the ctime: mark changes the sources first,
/// and moves the ctime of a cache it does not change past its source's.
#[root_test]
fn mark_leaves_bytecode_caches_newer_than_their_sources() {
    let tmpfs = Tmpfs::exec();
    let pkg = mkdir(&tmpfs.path().join("pkg"), 0o755);
    mkdir(&pkg.join("__pycache__"), 0o755);
    // Sources, then their caches, as compileall writes them.
    let module = tmpfs.write("pkg/mod.py", "X = 1\n", 0o644);
    let other = tmpfs.write("pkg/other.py", "Y = 2\n", 0o644);
    let done = tmpfs.write("pkg/done.py", "Z = 3\n", 0o755);
    std::thread::sleep(std::time::Duration::from_millis(20));
    // Sorted by path, `__pycache__` comes before `mod.py`: the walk's order.
    let cache = tmpfs.write("pkg/__pycache__/mod.cpython-311.pyc", "pyc", 0o644);
    // Marked by an earlier run, or written by mayexec-python with its
    // source's bits: mark does not change its mode.
    let marked = tmpfs.write("pkg/__pycache__/other.cpython-311.opt-1.pyc", "pyc", 0o755);
    let untouched = tmpfs.write("pkg/__pycache__/done.cpython-311.pyc", "pyc", 0o755);
    let mtimes: Vec<_> = [&cache, &marked, &untouched]
        .iter()
        .map(|p| fs::metadata(p).unwrap().modified().unwrap())
        .collect();
    let ctimes = |paths: &[&PathBuf]| paths.iter().map(|p| ctime_of(p)).collect::<Vec<_>>();
    let all = [&module, &other, &done, &cache, &marked, &untouched];
    let before = ctimes(&all);

    let journal = tmpfs.path().join("j");
    let out = run(mayexec()
        .args(["mark", "--dry-run", "--journal"])
        .arg(&journal)
        .arg(&pkg));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "{}: would refresh ctime (mode 0755 kept; its source is marked)",
            marked.display()
        )),
        "{text}"
    );
    assert!(
        text.contains("dry run: 3 to mark, 0 left alone, 0 refused, 1 cache ctime to refresh;"),
        "{text}"
    );
    assert_eq!(
        ctimes(&all),
        before,
        "a dry run changes nothing, not even a ctime"
    );

    let out = run(mayexec()
        .args(["mark", "--journal"])
        .arg(&journal)
        .arg(&pkg));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode_of(&module), 0o755);
    assert_eq!(mode_of(&cache), 0o755);
    assert!(
        ctime_of(&cache) > ctime_of(&module),
        "the cache marked is newer than its source marked: {:?} <= {:?}",
        ctime_of(&cache),
        ctime_of(&module)
    );
    assert_eq!(mode_of(&other), 0o755);
    assert_eq!(mode_of(&marked), 0o755, "its mode is kept");
    assert!(
        ctime_of(&marked) > ctime_of(&other),
        "the cache not marked is newer than its source marked: {:?} <= {:?}",
        ctime_of(&marked),
        ctime_of(&other)
    );
    assert_eq!(
        ctimes(&[&done, &untouched]),
        [before[2], before[5]],
        "a cache whose source is not marked is not touched"
    );
    let after: Vec<_> = [&cache, &marked, &untouched]
        .iter()
        .map(|p| fs::metadata(p).unwrap().modified().unwrap())
        .collect();
    assert_eq!(after, mtimes, "no cache's mtime changes");

    // Reported, but neither as a mode change nor in the journal.
    let text = stdout(&out);
    assert_eq!(
        text.lines().filter(|l| l.contains(" -> ")).count(),
        3,
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{}: ctime refreshed (mode 0755 kept)",
            marked.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "marked 3, left alone 0, refused 0, failed 0, 1 cache ctime refreshed; journal "
        ),
        "{text}"
    );
    let journal_text = fs::read_to_string(&journal).unwrap();
    let listed: Vec<&str> = journal_text
        .lines()
        .filter(|l| !l.starts_with(['#', 'm']))
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    let name = |p: &PathBuf| p.to_str().unwrap().to_owned();
    assert_eq!(
        listed,
        [name(&module), name(&other), name(&cache)],
        "the sources first, in the order the changes were made"
    );

    let out = run(mayexec().args(["mark", "--undo"]).arg(&journal));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("restored 3, already restored 0, skipped 0"));
    assert_eq!(mode_of(&module), 0o644);
    assert_eq!(mode_of(&cache), 0o644);
    assert_eq!(mode_of(&marked), 0o755, "not a mark: nothing to undo");
}

/// Every `scan --json` line, keyed by (path, type): a code file with an
/// unsafe mode has two lines.
fn scan_lines(out: &Output) -> BTreeMap<(String, String), Value> {
    stdout(out)
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .map(|v| {
            let key = (
                v["path"].as_str().unwrap_or("").to_owned(),
                v["type"].as_str().unwrap().to_owned(),
            );
            (key, v)
        })
        .collect()
}

#[root_test]
fn mark_refuses_set_id_and_shared_writable_files_and_scan_reports_them() {
    let tmpfs = Tmpfs::exec();
    let unsafe_files = [
        ("w.py", 0o666, "writable-by-others"),
        ("g.py", 0o664, "writable-by-others"),
        ("o.sh", 0o646, "writable-by-others"),
        ("suid.py", 0o4644, "set-id"),
        ("sgid.sh", 0o2640, "set-id"),
        // Allowed, and still anyone's to rewrite.
        ("open.sh", 0o777, "writable-by-others"),
    ];
    for (name, mode, _) in unsafe_files {
        tmpfs.write(name, "pass\n", mode);
    }
    let plain = tmpfs.write("plain.py", "pass\n", 0o644);
    let path = |name: &str| tmpfs.path().join(name).to_str().unwrap().to_owned();

    let out = run(mayexec().args(["scan", "--json"]).arg(tmpfs.path()));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines = scan_lines(&out);
    for (name, mode, kind) in unsafe_files {
        let hazard = &lines[&(path(name), "unsafe-mode".to_owned())];
        assert_eq!(hazard["kind"], kind, "{name}");
        assert_eq!(hazard["mode"], format!("{mode:04o}"), "{name}");
        let code = &lines[&(path(name), "code".to_owned())];
        assert_eq!(code["fix"], Value::Null, "{name}: never a fix");
    }
    assert!(!lines.contains_key(&(path("plain.py"), "unsafe-mode".to_owned())));
    assert_eq!(lines[&(path("plain.py"), "code".to_owned())]["fix"], "0755");
    let summary = &lines[&(String::new(), "summary".to_owned())];
    assert_eq!(summary["unsafe_modes"], 6, "{summary}");
    assert_eq!(summary["fixable"], 1, "{summary}");

    let out = run(mayexec().arg("scan").arg(tmpfs.path()));
    let text = stdout(&out);
    for needle in [
        "unsafe modes (writable by group or others, or set-id; mark never makes them executable):\n"
            .to_owned(),
        format!("  {}  mode 0666 writable-by-others\n", path("w.py")),
        format!("  {}  mode 4644 set-id\n", path("suid.py")),
        "  unsafe modes:       6\n".to_owned(),
    ] {
        assert!(text.contains(&needle), "{needle:?} in\n{text}");
    }

    let journal = tmpfs.path().join("j");
    let out = run(mayexec()
        .args(["mark", "--journal"])
        .arg(&journal)
        .arg(tmpfs.path()));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    for (name, mode, _) in unsafe_files {
        assert_eq!(mode_of(&tmpfs.path().join(name)), mode, "{name} unchanged");
    }
    assert_eq!(mode_of(&plain), 0o755);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{}: refused: mode 0666 is writable by group or others: mark never makes such a file executable",
            path("w.py")
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}: refused: mode 4644 has a set-id bit",
            path("suid.py")
        )),
        "{err}"
    );
    assert!(
        stdout(&out).contains("marked 1, left alone 0, refused 5, failed 0"),
        "{}",
        stdout(&out)
    );
}

/// `mark --undo JOURNAL`, killed after 10 s: a journal must never hang it.
fn undo_within_10s(journal: &Path) -> Output {
    run(Command::new("timeout")
        .args(["-s", "KILL", "10"])
        .arg(env!("CARGO_BIN_EXE_mayexec"))
        .args(["mark", "--undo"])
        .arg(journal))
}

#[root_test]
fn undo_refuses_crafted_and_untrusted_journals() {
    use std::os::unix::fs::MetadataExt;
    let tmpfs = Tmpfs::exec();
    let victim = tmpfs.write("victim", "#!/bin/sh\n", 0o755);
    let meta = fs::metadata(&victim).unwrap();
    let (dev, ino) = (meta.dev(), meta.ino());
    // Journals of the first format (no birth time), which undo still
    // reads, so that the same journal meets main's undo too.
    let journal = |name: &str, lines: &str, mode: u32| {
        tmpfs.write(name, format!("mayexec-mark-journal 1\n{lines}"), mode)
    };
    // A journal that would make the victim set-uid and world-writable, or
    // add bits, or claim a mark of a file others may write.
    for (name, line) in [
        (
            "setuid",
            format!("4777 0755 {dev} {ino} {}\n", victim.display()),
        ),
        (
            "adds",
            format!("0755 0644 {dev} {ino} {}\n", victim.display()),
        ),
        (
            "shared",
            format!("0666 0777 {dev} {ino} {}\n", victim.display()),
        ),
    ] {
        let crafted = journal(name, &line, 0o600);
        let out = undo_within_10s(&crafted);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("is not a change mark makes"),
            "{name}: {}",
            stderr(&out)
        );
        assert_eq!(mode_of(&victim), 0o755, "{name}: nothing changed");
    }

    // The right device and inode, but another birth time: another file.
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o755)).unwrap();
    let reborn = tmpfs.write(
        "reborn",
        format!(
            "mayexec-mark-journal 2\n0644 0755 {dev} {ino} 1.000000000 {}\n",
            victim.display()
        ),
        0o600,
    );
    let out = undo_within_10s(&reborn);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("skipped: replaced since: born at"),
        "{}",
        stderr(&out)
    );
    assert_eq!(mode_of(&victim), 0o755);

    // A well-formed journal that root must not trust: someone else's, or
    // writable by others.
    let good = format!("0644 0755 {dev} {ino} {}\n", victim.display());
    let theirs = journal("theirs", &good, 0o600);
    give_to(&theirs, NOBODY, NOBODY);
    let shared = journal("shared-journal", &good, 0o620);
    for (journal, why) in [
        (
            &theirs,
            format!("owned by uid {NOBODY}, neither you (uid 0) nor root"),
        ),
        (&shared, "mode 0620: writable by group or others".to_owned()),
    ] {
        let out = undo_within_10s(journal);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(&why), "{why}: {}", stderr(&out));
        assert_eq!(mode_of(&victim), 0o755);
    }

    // A FIFO with no writer, a device that never ends, a huge file: each
    // refused at once.
    let fifo = tmpfs.path().join("fifo");
    mkfifo(&fifo);
    fs::set_permissions(&fifo, fs::Permissions::from_mode(0o600)).unwrap();
    let huge = journal("huge", "", 0o600);
    fs::OpenOptions::new()
        .write(true)
        .open(&huge)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    for (journal, why) in [
        (fifo.as_path(), "not a regular file"),
        (Path::new("/dev/zero"), "not a regular file"),
        (huge.as_path(), "larger than"),
    ] {
        let out = undo_within_10s(journal);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {:?} {}",
            journal.display(),
            out.status,
            stderr(&out)
        );
        assert!(stderr(&out).contains(why), "{}", stderr(&out));
    }

    // The good journal, root's and private, is used: 0755 -> 0644.
    let own = journal("own", &good, 0o600);
    let out = undo_within_10s(&own);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode_of(&victim), 0o644);
}

/// Depth of the deep tree: 300 names of 20 bytes, some 6300 bytes of path,
/// past `PATH_MAX` (4096).
const DEEP_LEVELS: usize = 300;
const DEEP_NAME: &str = "dddddddddddddddddddd";

/// Builds, relative to directory descriptors (no path is long enough to
/// reach the bottom), `DEEP_LEVELS` nested directories; every level also
/// has a directory `s` with a code file `x.py` (0644), so that at every
/// level a subdirectory waits while the walk goes deeper; `deep.py` (0644)
/// is at the bottom.
fn deep_tree(root: &Path) -> PathBuf {
    use rustix::fs::{mkdirat, openat, Mode, OFlags, CWD};
    let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let write = |dir: &std::os::fd::OwnedFd, name: &str| {
        let fd = openat(
            dir,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .unwrap();
        rustix::io::write(&fd, b"pass\n").unwrap();
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(0o644)).unwrap();
    };
    let mut dir = openat(CWD, root, dir_flags, Mode::empty()).unwrap();
    let mut path = root.to_owned();
    for _ in 0..DEEP_LEVELS {
        mkdirat(&dir, "s", Mode::from_raw_mode(0o755)).unwrap();
        write(
            &openat(&dir, "s", dir_flags, Mode::empty()).unwrap(),
            "x.py",
        );
        mkdirat(&dir, DEEP_NAME, Mode::from_raw_mode(0o755)).unwrap();
        dir = openat(&dir, DEEP_NAME, dir_flags, Mode::empty()).unwrap();
        path.push(DEEP_NAME);
    }
    write(&dir, "deep.py");
    path.join("deep.py")
}

/// The mode of a file at a path of any length, looked up from `root` one
/// name at a time.
fn deep_mode(root: &Path, path: &Path) -> u32 {
    use rustix::fs::{openat, statat, AtFlags, Mode, OFlags, CWD};
    let rel = path.strip_prefix(root).unwrap();
    let mut names: Vec<_> = rel.iter().collect();
    let last = names.pop().unwrap();
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let mut dir = openat(CWD, root, flags, Mode::empty()).unwrap();
    for name in names {
        dir = openat(&dir, name, flags | OFlags::NOFOLLOW, Mode::empty()).unwrap();
    }
    statat(&dir, last, AtFlags::SYMLINK_NOFOLLOW)
        .unwrap()
        .st_mode
        & 0o7777
}

#[root_test]
fn scan_and_mark_reach_files_below_path_max_with_few_descriptors() {
    let tmpfs = Tmpfs::exec();
    let root = tmpfs.path().to_owned();
    let deep = deep_tree(&root);
    assert!(deep.as_os_str().len() > 4096);
    // 64 descriptors for the whole walk: far fewer than the levels whose
    // `s` waits while the walk goes deeper.
    let limited = |args: &[&str]| {
        let mut cmd = Command::new("prlimit");
        cmd.arg("--nofile=64:64")
            .arg(env!("CARGO_BIN_EXE_mayexec"))
            .args(args)
            .arg(&root);
        cmd
    };
    let out = run(&mut limited(&["scan", "--json", "-j", "2"]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let scan = scan_json(&out);
    assert_eq!(scan.summary["problems"], 0, "{}", stderr(&out));
    assert_eq!(scan.summary["code_files"], DEEP_LEVELS + 1);
    assert_eq!(scan.summary["directories"], 2 * DEEP_LEVELS + 1);
    let v = &scan.by_path[deep.to_str().unwrap()];
    assert_eq!(v["reason"], "not-executable");
    assert_eq!(v["fix"], "0755");

    let journal = root.join("j");
    let out = run(&mut limited(&[
        "mark",
        "-j",
        "2",
        "--journal",
        journal.to_str().unwrap(),
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("marked {}, left alone 0", DEEP_LEVELS + 1)),
        "{}",
        stdout(&out)
    );
    assert_eq!(deep_mode(&root, &deep), 0o755);
    let out = run(mayexec().args(["mark", "--undo"]).arg(&journal));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("restored {}, already", DEEP_LEVELS + 1)));
    assert_eq!(deep_mode(&root, &deep), 0o644);
}
