//! The system policy file's faults, the user the check is made for, and
//! the rename race: perl reads the descriptor that was checked, so a file
//! swapped in under the script's path after the check never runs.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use mayexec_perl::{denial, require_root_and_perl, Exit, Invocation, Outcome};
use mayexec_testkit::{root_test, workspace_bin, Sandbox, Tmpfs, NOBODY};

#[root_test]
fn an_untrusted_or_malformed_policy_file_makes_perl_refuse_everything() {
    let Some(perl) =
        require_root_and_perl("an_untrusted_or_malformed_policy_file_makes_perl_refuse_everything")
    else {
        return;
    };
    let exec = Tmpfs::exec();
    let script = exec.write("Ok.pm", "print \"ran\\n\";\n1;\n", 0o755);
    let cases = [
        (
            Sandbox::new().policy_file("interpreted_access = 1\n", 0o666, 0),
            "untrusted policy file: /etc/mayexec.conf is writable by group or others (mode 0666)",
        ),
        (
            Sandbox::new().policy_file("interpreted_access = 1\n", 0o644, NOBODY),
            "untrusted policy file: /etc/mayexec.conf is owned by uid 65534, not root",
        ),
        (
            Sandbox::new().policy("interpreted_access = 7\n"),
            "invalid policy file",
        ),
        (
            Sandbox::new().policy("no_such_key = 1\n"),
            "invalid policy file",
        ),
    ];
    for (sandbox, fault) in cases {
        for invocation in Invocation::ALL.into_iter().skip(1) {
            let got = invocation.run(&perl, &script, exec.path(), &|p| sandbox.command(p));
            assert_eq!(got.exit, Exit::Code(126), "{invocation}, {fault}: {got}");
            assert_eq!(got.stdout, "", "{invocation}, {fault}");
            let prefix = format!("perl: /etc/mayexec.conf: {fault}");
            assert!(
                got.stderr.starts_with(&prefix),
                "{invocation}: want {prefix:?}…, got {:?}",
                got.stderr
            );
        }
    }
}

#[root_test]
fn the_check_is_made_for_the_user_running_perl() {
    let Some(perl) = require_root_and_perl("the_check_is_made_for_the_user_running_perl") else {
        return;
    };
    let exec = Tmpfs::exec();
    // Mode 0744: root may execute it, nobody may only read it.
    let script = exec.write("root-only.pl", "print \"ran\\n\";\n", 0o744);
    let policy = "interpreted_access = 3\n";
    let as_root = Outcome::of(Sandbox::new().policy(policy).command(&perl).arg(&script));
    assert_eq!(as_root, Outcome::ran("ran\n"));
    let as_nobody = Outcome::of(
        Sandbox::new()
            .policy(policy)
            .as_user(NOBODY, NOBODY)
            .command(&perl)
            .arg(&script),
    );
    assert_eq!(
        as_nobody,
        Outcome::refused(denial(&script, "not-executable"))
    );
}

/// Swaps an allowed and a denied file under one path as fast as it can
/// while `mayexec run -f -- perl PATH` runs many times: every run reads
/// either the allowed file or is refused; the denied file's code never runs.
#[root_test]
fn a_file_renamed_over_the_script_after_the_check_never_runs() {
    let Some(perl) =
        require_root_and_perl("a_file_renamed_over_the_script_after_the_check_never_runs")
    else {
        return;
    };
    let exec = Tmpfs::exec();
    let path = exec.path().join("script.pl");
    let allowed = exec.write("allowed.pl", "print \"allowed\\n\";\n", 0o755);
    let denied = exec.write("denied.pl", "print \"DENIED CODE RAN\\n\";\n", 0o644);
    std::fs::copy(&allowed, &path).expect("install the script");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");

    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = Arc::clone(&stop);
        let (path, allowed, denied): (PathBuf, PathBuf, PathBuf) =
            (path.clone(), allowed.clone(), denied.clone());
        std::thread::spawn(move || {
            let tmp = path.with_extension("tmp");
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                for source in [&denied, &allowed] {
                    // A hard link keeps the source; rename is atomic.
                    let _ = std::fs::remove_file(&tmp);
                    std::fs::hard_link(source, &tmp).expect("link");
                    std::fs::rename(&tmp, &path).expect("rename");
                    swaps += 1;
                }
            }
            swaps
        })
    };
    let mayexec = workspace_bin("mayexec");
    let (mut ran, mut refused) = (0, 0);
    for _ in 0..300 {
        let got = Outcome::of(
            Command::new(&mayexec)
                .args(["run", "-f", "--"])
                .arg(&perl)
                .arg(&path),
        );
        assert!(!got.stdout.contains("DENIED"), "the denied file ran: {got}");
        if got == Outcome::ran("allowed\n") {
            ran += 1;
        } else {
            assert_eq!(got, Outcome::refused(denial(&path, "not-executable")));
            refused += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().expect("the swapper");
    assert!(swaps > 300, "the path was swapped only {swaps} times");
    // Both files were met under the path: the race was real.
    assert!(ran > 0 && refused > 0, "ran {ran}, refused {refused}");
}
