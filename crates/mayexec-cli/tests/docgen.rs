//! `mayexec completions` and `mayexec manpages`: generated from the clap
//! definitions, so every subcommand has a page and a completion.

mod common;

use common::*;

use std::fs;
use std::process::Command;

use mayexec_testkit::TempDir;

const SUBCOMMANDS: [&str; 9] = [
    "status",
    "check",
    "run",
    "policy",
    "scan",
    "mark",
    "interpreters",
    "trust",
    "completions",
];

#[test]
fn completions_name_every_subcommand_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(mayexec().args(["completions", shell]));
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let text = stdout(&out);
        for sub in SUBCOMMANDS {
            assert!(text.contains(sub), "{shell} completion lacks {sub}");
        }
    }
    let out = run(mayexec().args(["completions", "tcsh"]));
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn completions_are_valid_bash() {
    let out = run(mayexec().args(["completions", "bash"]));
    let dir = TempDir::new();
    let script = dir.write("mayexec.bash", &out.stdout, 0o644);
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn manpages_writes_one_rendering_page_per_subcommand() {
    let dir = TempDir::new();
    let pages = dir.path().join("man1");
    let out = run(mayexec().arg("manpages").arg(&pages));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut names: Vec<String> = fs::read_dir(&pages)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for sub in SUBCOMMANDS {
        assert!(
            names.contains(&format!("mayexec-{sub}.1")),
            "no page for {sub}: {names:?}"
        );
    }
    assert!(names.contains(&"mayexec.1".to_owned()));
    assert!(names.contains(&"mayexec-policy-show.1".to_owned()));
    assert!(!names
        .iter()
        .any(|n| n.contains("help") || n.contains("manpages")));
    let mark = fs::read_to_string(pages.join("mayexec-mark.1")).unwrap();
    assert!(mark.starts_with(".ie \\n(.g .ds Aq") || mark.contains(".TH mayexec-mark 1"));
    assert!(mark.contains("journal"), "the long help is the DESCRIPTION");
}
