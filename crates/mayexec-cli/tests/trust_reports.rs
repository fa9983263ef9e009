//! Content trust in the reports: `mayexec scan` says which code files
//! `trust = "required"` would refuse, and `mayexec policy show/check` print
//! `trust` and `trust_mounts`. Each test has a private `/var/lib` (an
//! overlay in a mount namespace) for its trust database and a policy file
//! of its own: the machine's are never written.

use std::process::{Command, Output, Stdio};

use mayexec_testkit::{root_test, Sandbox, Tmpfs};

const MAYEXEC: &str = env!("CARGO_BIN_EXE_mayexec");

/// A policy file and a private `/var/lib`, for any number of commands.
struct Host {
    sandbox: Sandbox,
}

impl Host {
    fn new(policy: &str) -> Host {
        Host {
            sandbox: Sandbox::new().policy(policy).private_var_lib(),
        }
    }

    fn mayexec(&self, args: &[&str]) -> Output {
        let mut cmd: Command = self.sandbox.command(MAYEXEC);
        cmd.args(args).stdin(Stdio::null());
        cmd.output().unwrap()
    }
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `scan --json` lines: the verdict (reason, or "allowed") of each code
/// file by name, and the summary.
fn scanned(output: &Output) -> (Vec<(String, String)>, serde_json::Value) {
    let mut files = Vec::new();
    let mut summary = serde_json::Value::Null;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        match v["type"].as_str() {
            Some("code") => {
                let name = v["path"].as_str().unwrap().rsplit('/').next().unwrap();
                let verdict = v["reason"].as_str().unwrap_or("allowed");
                files.push((name.to_owned(), verdict.to_owned()));
            }
            Some("summary") => summary = v,
            _ => {}
        }
    }
    (files, summary)
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Under a policy that asks for trust, `scan` adds the trust database's
/// verdict to the check's: trust-unavailable without a database, then
/// untrusted-content for what it does not hold. A policy without trust
/// leaves it out, unless `--trust` asks.
#[root_test]
fn scan_reports_what_content_trust_would_refuse() {
    let code = Tmpfs::exec();
    let trusted = code.write("a.sh", "#!/bin/sh\necho a\n", 0o755);
    code.write("b.py", "print('b')\n", 0o644);
    let root = code.path().to_str().unwrap();
    let host = Host::new(&format!(
        "interpreted_access = 1\ntrust = \"required\"\ntrust_mounts = [\"{root}\"]\n"
    ));
    let scan = ["scan", "--json", "--level", "1", root];

    let out = host.mayexec(&scan);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let (files, summary) = scanned(&out);
    assert_eq!(
        files,
        pairs(&[("a.sh", "trust-unavailable"), ("b.py", "trust-unavailable")]),
        "{}",
        text(&out)
    );
    assert_eq!(summary["trust"], true, "{summary}");
    assert_eq!(summary["check"], "level 1 (emulated) and content trust");

    let out = host.mayexec(&["trust", "add", trusted.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = host.mayexec(&scan);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let (files, summary) = scanned(&out);
    assert_eq!(
        files,
        pairs(&[("a.sh", "allowed"), ("b.py", "untrusted-content")])
    );
    assert_eq!(
        summary["denied_by_reason"]["untrusted-content"], 1,
        "{summary}"
    );
    // The human report names the reason and what was checked.
    let out = host.mayexec(&["scan", "--level", "1", root]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("untrusted-content"), "{}", text(&out));
    assert!(
        stdout.contains("summary (level 1 (emulated) and content trust):"),
        "{}",
        text(&out)
    );

    // No trust in the policy: the check alone, unless --trust.
    let plain = Host::new("interpreted_access = 1\n");
    let out = plain.mayexec(&scan);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (files, summary) = scanned(&out);
    assert_eq!(files, pairs(&[("a.sh", "allowed"), ("b.py", "allowed")]));
    assert_eq!(summary["trust"], false);
    let out = plain.mayexec(&["scan", "--json", "--trust", "--level", "1", root]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let (files, _) = scanned(&out);
    assert_eq!(
        files,
        pairs(&[("a.sh", "trust-unavailable"), ("b.py", "trust-unavailable")])
    );
}

/// `policy show` (text and JSON) and `policy check` print `trust` and
/// `trust_mounts`.
#[root_test]
fn policy_show_and_check_print_trust_and_its_mounts() {
    let host = Host::new(
        "interpreted_access = 1\ntrust = \"required\"\ntrust_mounts = [\"/\", \"/usr\"]\n",
    );
    let out = host.mayexec(&["policy", "show", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["trust"], "required", "{v}");
    assert_eq!(v["trust_mounts"], serde_json::json!(["/", "/usr"]), "{v}");
    let out = host.mayexec(&["policy", "show"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("  trust = \"required\"\n  trust_mounts = [\"/\", \"/usr\"]\n"),
        "{}",
        text(&out)
    );
    let out = host.mayexec(&["policy", "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "/etc/mayexec.conf: valid: interpreted_access = 1, deny_interactive = false, \
         mode = \"enforce\", trust = \"required\", trust_mounts = [\"/\", \"/usr\"]\n"
    );

    // No trust asked: shown as off, with no mounts.
    let host = Host::new("interpreted_access = 2\n");
    let out = host.mayexec(&["policy", "show", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["trust"], "off", "{v}");
    assert_eq!(v["trust_mounts"], serde_json::json!([]), "{v}");
    let out = host.mayexec(&["policy", "show"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("  trust = \"off\"\n  trust_mounts = []\n"),
        "{}",
        text(&out)
    );
}
