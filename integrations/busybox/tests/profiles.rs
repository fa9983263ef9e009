//! A login shell (`-l`) of BusyBox ash reads `/etc/profile` and
//! `$HOME/.profile` before its script: files it loads as code, checked
//! like the script. (`.` and `ENV` are the conformance suite's.)

use std::ffi::OsStr;

use mayexec_busybox::{ASH, BUILT, SH};
use mayexec_testkit::interp::Outcome;
use mayexec_testkit::{root_test, workspace_bin, Sandbox, Tmpfs};

/// A login shell (`-l`) reads `/etc/profile` and `$HOME/.profile` first:
/// both are checked like the script, and a denied one is skipped as a
/// profile that cannot be opened, and logged.
#[root_test]
fn denied_login_profiles_are_skipped_and_logged() {
    let Some(busybox) = BUILT.require("denied_login_profiles_are_skipped_and_logged") else {
        return;
    };
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    let script = exec.write("script.sh", "echo ran\n", 0o755);
    let profile_text = "echo profile ran\n";
    let allowed_home = exec.path().join("allowed-home");
    std::fs::create_dir(&allowed_home).expect("mkdir");
    exec.write("allowed-home/.profile", profile_text, 0o755);
    let denied_home = noexec.path().join("denied-home");
    std::fs::create_dir(&denied_home).expect("mkdir");
    let denied_profile = noexec.write("denied-home/.profile", profile_text, 0o755);

    for shell in [SH, ASH] {
        // /etc/profile (0644) is denied under -f too, silently.
        let sandbox = Sandbox::new().capture_syslog();
        let mut cmd = shell.command(&busybox, &|program: &OsStr| {
            let mut cmd = sandbox.command(workspace_bin("mayexec"));
            cmd.args(["run", "-f", "--"]).arg(program);
            cmd
        });
        let got = Outcome::of(cmd.arg("-l").arg(&script).env("HOME", &denied_home));
        assert_eq!(
            got,
            Outcome::ran("ran\n"),
            "{} -l, denied profile",
            shell.name
        );
        let lines = sandbox.syslog_lines();
        assert!(
            lines.iter().any(|l| l.contains(&format!(
                " path={} reason=noexec-mount ",
                denied_profile.display()
            ))),
            "{lines:#?}"
        );

        let got = Outcome::of(
            shell
                .under("-f", &busybox)
                .arg("-l")
                .arg(&script)
                .env("HOME", &allowed_home),
        );
        assert_eq!(
            got,
            Outcome::ran("profile ran\nran\n"),
            "{} -l, allowed profile",
            shell.name
        );

        // Without a policy both profiles run.
        let got = Outcome::of(
            shell
                .plain(&busybox)
                .arg("-l")
                .arg(&script)
                .env("HOME", &denied_home),
        );
        assert_eq!(
            got.stdout, "profile ran\nran\n",
            "{} -l, no policy: {got}",
            shell.name
        );
    }
}
