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
