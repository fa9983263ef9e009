//! `mayexec run` keeps its tree out of user namespaces, because the kernel
//! resets securebits (lock bits too) in a process that creates or joins
//! one: real `unshare`, real namespaces, as root and as nobody, and a small
//! C program for the raw system calls (`tests/c/userns_probe.c`).

mod common;

use common::*;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

use mayexec_testkit::{as_nobody, require_unprivileged_userns, root_test};

/// SECBIT_EXEC_RESTRICT_FILE | _LOCKED | SECBIT_EXEC_DENY_INTERACTIVE | _LOCKED
const ALL_EXEC_BITS: u64 = 0xf00;

/// The probe, compiled once per test process.
fn probe() -> &'static Path {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE.get_or_init(|| compile_c("userns_probe"))
}

/// `mayexec run -f -i [EXTRA…] -- CMD…`, as root or as nobody.
fn run_restricted(nobody: bool, extra: &[&str], cmd: &[&str]) -> Output {
    let mut c = mayexec();
    c.args(["run", "-f", "-i"]).args(extra).arg("--").args(cmd);
    if nobody {
        as_nobody(&mut c);
    }
    run(&mut c)
}

/// [`run_restricted`] as root with `ns` (a namespace file opened here) as
/// standard input: the tree, a Landlock domain, may not open the
/// namespace files of a process outside it, but may use a descriptor it
/// was given, so `/dev/stdin` reaches the filter's test.
fn run_restricted_with_ns(extra: &[&str], cmd: &[&str], ns: &str) -> Output {
    let mut c = mayexec();
    c.args(["run", "-f", "-i"]).args(extra).arg("--").args(cmd);
    c.stdin(std::fs::File::open(ns).expect("open the namespace file"));
    run(&mut c)
}

/// The probe's answer for one way in, and the securebits it had after.
fn probe_answer(out: &Output, what: &str) -> (String, u64) {
    let text = stdout(out);
    let answer = text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{what}: ")))
        .unwrap_or_else(|| panic!("no answer for {what}:\n{text}\n{}", stderr(out)))
        .to_owned();
    let bits = text
        .lines()
        .find_map(|l| l.strip_prefix("securebits: "))
        .map(|v| u64::from_str_radix(v.trim_start_matches("0x"), 16).unwrap_or(0))
        .unwrap_or_else(|| panic!("no securebits in\n{text}"));
    (answer, bits)
}

/// The securebits `mayexec status --json` printed.
fn status_bits(out: &Output) -> u64 {
    json(out)["securebits"]["raw"]
        .as_u64()
        .unwrap_or_else(|| panic!("no securebits in {}", stdout(out)))
}

/// A process in a user namespace of its own (created by root, outside any
/// filter), whose `/proc/PID/ns/user` the probe then tries to join.
struct Holder(Child);

impl Holder {
    fn start() -> Holder {
        let child = Command::new("unshare")
            .args(["-U", "--", "sleep", "60"])
            .stdin(Stdio::null())
            .spawn()
            .expect("unshare -U sleep");
        let holder = Holder(child);
        let path = holder.ns_file();
        // Wait until the child has left our namespace.
        for _ in 0..200 {
            if std::fs::read_link(&path).ok() != std::fs::read_link("/proc/self/ns/user").ok() {
                return holder;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("unshare -U did not enter a new user namespace");
    }

    fn ns_file(&self) -> String {
        format!("/proc/{}/ns/user", self.0.id())
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[root_test]
fn unshare_fails_under_run_and_the_securebits_stay_set() {
    let me = env!("CARGO_BIN_EXE_mayexec");
    for nobody in [false, true] {
        for unshare in ["unshare -U --map-user=0", "unshare -Ur", "unshare -Urm"] {
            // The child tries, then reports the securebits it still has.
            let script = format!("{unshare} true; echo \"rc=$?\" >&2; exec \"$0\" status --json");
            let out = run_restricted(nobody, &[], &["/bin/sh", "-c", &script, me]);
            let err = stderr(&out);
            assert!(
                err.contains("Operation not permitted") && err.contains("rc=1"),
                "nobody={nobody}: {unshare} must fail with EPERM:\n{err}"
            );
            assert_eq!(
                status_bits(&out),
                ALL_EXEC_BITS,
                "nobody={nobody}: securebits after {unshare}"
            );
            // And the securebits never reach a namespace: it was never made.
            let out = run_restricted(
                nobody,
                &[],
                &[
                    "/bin/sh",
                    "-c",
                    &format!("exec {unshare} \"$0\" status --json"),
                    me,
                ],
            );
            assert!(
                !out.status.success() && out.stdout.is_empty(),
                "nobody={nobody}: {unshare} ran its command: {}",
                stdout(&out)
            );
        }
    }
}

#[root_test]
fn raw_system_calls_into_a_user_namespace_are_refused_under_run() {
    let probe = probe().to_str().expect("UTF-8 path");
    for nobody in [false, true] {
        for (what, errno) in [
            ("unshare", "EPERM"),
            ("clone", "EPERM"),
            ("clone3", "ENOSYS"),
        ] {
            let out = run_restricted(nobody, &[], &[probe, what]);
            assert_eq!(
                probe_answer(&out, what),
                (errno.to_owned(), ALL_EXEC_BITS),
                "nobody={nobody}"
            );
        }
    }
    // 32-bit system calls (int $0x80) get the same rules, and still work.
    if cfg!(target_arch = "x86_64") {
        for nobody in [false, true] {
            for (what, answer) in [
                ("i386-getpid", "ok"),
                ("i386-unshare", "EPERM"),
                ("i386-clone", "EPERM"),
                ("i386-clone3", "ENOSYS"),
            ] {
                let out = run_restricted(nobody, &[], &[probe, what]);
                assert_eq!(
                    probe_answer(&out, what),
                    (answer.to_owned(), ALL_EXEC_BITS),
                    "nobody={nobody}: {}",
                    stderr(&out)
                );
            }
        }
    }
    // x32 (x86_64 only): refused by the filter whether or not the kernel
    // has x32 on (this machine's may not, and says ENOSYS on its own).
    if cfg!(target_arch = "x86_64") {
        let out = run_restricted(false, &[], &[probe, "x32-unshare"]);
        assert_eq!(
            probe_answer(&out, "x32-unshare"),
            ("ENOSYS".to_owned(), ALL_EXEC_BITS)
        );
    }
}

#[root_test]
fn setns_into_a_user_namespace_is_refused_under_run_and_other_types_are_not() {
    let probe = probe().to_str().expect("UTF-8 path");
    let holder = Holder::start();
    let userns = holder.ns_file();
    // The tree cannot open it by name: the process is outside the tree's
    // Landlock domain.
    let out = run_restricted(false, &[], &[probe, "setns-user", &userns]);
    assert!(
        stderr(&out).contains("Permission denied") && !out.status.success(),
        "{}",
        stderr(&out)
    );
    for what in ["setns-user", "setns-any"] {
        let out = run_restricted_with_ns(&[], &[probe, what, "/dev/stdin"], &userns);
        assert_eq!(
            probe_answer(&out, what),
            ("EPERM".to_owned(), ALL_EXEC_BITS),
            "{what} {userns}"
        );
    }
    if cfg!(target_arch = "x86_64") {
        let out = run_restricted_with_ns(&[], &[probe, "i386-setns-any", "/dev/stdin"], &userns);
        assert_eq!(
            probe_answer(&out, "i386-setns-any"),
            ("EPERM".to_owned(), ALL_EXEC_BITS)
        );
    }
    // Naming another type still works (as nsenter --net does).
    let out = run_restricted(false, &[], &[probe, "setns-net", "/proc/self/ns/net"]);
    assert_eq!(probe_answer(&out, "setns-net").0, "ok");
    // Without the filter the same calls get in, and the bits are gone: the
    // probe is sound, and this is what the filter prevents.
    let out = run_restricted_with_ns(
        &["--allow-userns"],
        &[probe, "setns-user", "/dev/stdin"],
        &userns,
    );
    assert_eq!(probe_answer(&out, "setns-user"), ("ok".to_owned(), 0));
}

#[root_test]
fn allow_userns_opts_out_with_a_warning() {
    if !require_unprivileged_userns("allow_userns_opts_out_with_a_warning") {
        return;
    }
    let me = env!("CARGO_BIN_EXE_mayexec");
    for nobody in [false, true] {
        let out = run_restricted(
            nobody,
            &["--allow-userns"],
            &["unshare", "-Ur", me, "status", "--json"],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("warning: --allow-userns"),
            "{}",
            stderr(&out)
        );
        // The kernel reset the bits in the new namespace: why the filter
        // is on by default.
        assert_eq!(status_bits(&out), 0, "nobody={nobody}");
        let probe = probe().to_str().expect("UTF-8 path");
        for what in ["clone3", "i386-unshare"] {
            if what.starts_with("i386") && !cfg!(target_arch = "x86_64") {
                continue;
            }
            let out = run_restricted(nobody, &["--allow-userns"], &[probe, what]);
            assert_eq!(probe_answer(&out, what).0, "ok", "nobody={nobody}");
        }
    }
}

#[root_test]
fn run_verbose_says_what_the_filter_refuses() {
    let out = run_restricted(false, &["-v"], &["true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("user namespaces denied by a seccomp filter")
            && err.contains("CLONE_NEWUSER")
            && err.contains("clone3 with ENOSYS"),
        "{err}"
    );
}

#[root_test]
fn status_says_whether_this_process_is_confined() {
    if !require_unprivileged_userns("status_says_whether_this_process_is_confined") {
        return;
    }
    let out = run(mayexec().args(["status", "--json"]));
    let u = &json(&out)["user_namespaces"];
    assert_eq!(u["initial"], true, "{u}");
    assert_eq!(u["confined"], false, "{u}");
    let out = run_restricted(
        false,
        &[],
        &[env!("CARGO_BIN_EXE_mayexec"), "status", "--json"],
    );
    let v = json(&out);
    assert_eq!(v["user_namespaces"]["confined"], true, "{v}");
    let out = run_restricted(
        true,
        &["--allow-userns"],
        &[env!("CARGO_BIN_EXE_mayexec"), "status", "--json"],
    );
    let v = json(&out);
    assert_eq!(v["user_namespaces"]["confined"], false, "{v}");
    assert!(
        v["hints"].as_array().unwrap().iter().any(|h| h
            .as_str()
            .unwrap()
            .contains("can create or join a user namespace, which resets its securebits")),
        "{v}"
    );
    // In nobody's own namespace, status says it is not the initial one.
    let mut c = Command::new("unshare");
    c.args(["-Ur", env!("CARGO_BIN_EXE_mayexec"), "status"]);
    let out = run(as_nobody(&mut c));
    assert!(
        stdout(&out).contains("this process:                   a user namespace (uid map 0:65534:1; host root is not mapped)"),
        "{}",
        stdout(&out)
    );
}

/// `mayexec status --json` and `policy check` with
/// `user.max_user_namespaces` at `max` (set in a namespace of root's own,
/// where that sysctl is the namespace's: the host's stays as it is).
fn with_max_user_namespaces(max: &str) -> (serde_json::Value, Output) {
    let me = env!("CARGO_BIN_EXE_mayexec");
    let script = format!(
        "echo {max} > /proc/sys/user/max_user_namespaces || exit 99; \
         \"$0\" status --json; \"$0\" policy check >/dev/null"
    );
    let out = run(Command::new("unshare").args(["-Urm", "/bin/sh", "-c", &script, me]));
    assert!(out.status.success(), "{}", stderr(&out));
    (json(&out), out)
}

#[root_test]
fn status_and_policy_check_say_when_the_file_policy_cannot_hold() {
    let (v, out) = with_max_user_namespaces("1000");
    let u = &v["user_namespaces"];
    assert_eq!(u["max_user_namespaces"], 1000, "{u}");
    assert_eq!(u["unprivileged_can_create"], true, "{u}");
    assert_eq!(u["file_policy_holds"], false, "{u}");
    let says = |text: &str| {
        text.contains("the system policy file does not hold against local users")
            && text.contains("max_user_namespaces=0")
    };
    assert!(
        v["hints"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| says(h.as_str().unwrap())),
        "{v}"
    );
    assert!(says(&stderr(&out)), "policy check: {}", stderr(&out));

    let (v, out) = with_max_user_namespaces("0");
    let u = &v["user_namespaces"];
    assert_eq!(u["unprivileged_can_create"], false, "{u}");
    assert_eq!(u["file_policy_holds"], true, "{u}");
    assert!(!says(&v["hints"].to_string()), "{v}");
    assert!(!says(&stderr(&out)), "policy check: {}", stderr(&out));
}
