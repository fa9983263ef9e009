//! The fixtures do what they promise, on this machine.

use mayexec_testkit::{root_test, Sandbox, Tmpfs};

#[root_test]
fn tmpfs_mounts_are_real_and_noexec_is_visible_in_statfs() {
    for noexec in [false, true] {
        let fs = Tmpfs::mount(noexec).unwrap();
        let file = fs.write("x", "", 0o644);
        let stat = rustix::fs::statfs(&file).unwrap();
        assert_eq!(stat.f_type as u32, 0x0102_1994, "tmpfs magic");
        assert_eq!(stat.f_flags as u64 & libc::ST_NOEXEC != 0, noexec);
    }
}

#[root_test]
fn sandbox_shows_a_private_policy_and_routes_dev_log() {
    let sandbox = Sandbox::new()
        .policy("interpreted_access = 2\n")
        .capture_syslog();
    let out = sandbox
        .command("sh")
        .args([
            "-c",
            "cat /etc/mayexec.conf; logger -u /dev/log -t probe hello-from-sandbox",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "interpreted_access = 2\n"
    );
    let lines = sandbox.syslog_lines();
    assert!(
        lines.iter().any(|l| l.contains("hello-from-sandbox")),
        "{lines:?}"
    );
    // Outside the namespace nothing changed.
    assert!(!std::path::Path::new("/etc/mayexec.conf").exists());
}

#[root_test]
fn sandbox_drops_to_the_requested_user() {
    let out = Sandbox::new()
        .as_user(65534, 65534)
        .command("id")
        .arg("-u")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "65534");
}

/// The emulated half of an `on_both_backends!` table really is emulated:
/// under `Backend::Emulated` the command sees no kernel check.
#[test]
fn the_emulated_backend_launcher_hides_the_kernel_check() {
    use mayexec_testkit::interp::Backend;
    let status = |backend: Backend| {
        let plain = |program: &std::ffi::OsStr| std::process::Command::new(program);
        let make = backend.launcher(&plain);
        let out = make(mayexec_testkit::workspace_bin("mayexec").as_os_str())
            .args(["status", "--json"])
            .output()
            .expect("run mayexec status");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        json["backend"].as_str().expect("a backend").to_owned()
    };
    assert_eq!(status(Backend::Emulated), "emulated");
    assert_eq!(
        status(Backend::Kernel),
        if mayexec::kernel_check_available() {
            "kernel"
        } else {
            "emulated"
        }
    );
}
