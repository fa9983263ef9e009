//! `mayexec trust`, end to end: the command as root in a private mount
//! namespace whose `/var/lib` is an overlay (the real `/var/lib` and its
//! dpkg database are never written), and the enlightened perl under level
//! 1 + `trust = "required"`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mayexec_testkit::{root_test, Sandbox, Tmpfs};

const MAYEXEC: &str = env!("CARGO_BIN_EXE_mayexec");

/// A private `/var/lib` (so a private trust database) and, optionally, a
/// policy file, for any number of commands.
struct Host {
    sandbox: Sandbox,
}

impl Host {
    fn new(policy: Option<&str>) -> Host {
        let sandbox = match policy {
            Some(policy) => Sandbox::new().policy(policy),
            None => Sandbox::new(),
        };
        Host {
            sandbox: sandbox.private_var_lib(),
        }
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = self.sandbox.command(program);
        cmd.stdin(Stdio::null());
        cmd
    }

    fn mayexec(&self, args: &[&str]) -> Output {
        self.command(MAYEXEC).args(args).output().unwrap()
    }

    fn trust(&self, args: &[&str]) -> Output {
        let mut all = vec!["trust"];
        all.extend_from_slice(args);
        self.mayexec(&all)
    }

    fn database(&self) -> PathBuf {
        self.sandbox.var_lib().join("mayexec/trust.mdb")
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

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(output)))
}

fn listed(host: &Host) -> Vec<String> {
    let out = host.trust(&["list", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    json(&out)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect()
}

#[root_test]
fn add_list_verify_remove() {
    let host = Host::new(None);
    let code = Tmpfs::exec();
    let a = code.write("a.sh", "echo a\n", 0o755);
    let b = code.write("b.pm", "1;\n", 0o644);
    let out = host.trust(&["add", "--json", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report = json(&out);
    assert_eq!(report["trusted"].as_array().unwrap().len(), 2);
    assert_eq!(report["recorded"], true);
    assert!(host.database().exists(), "written to the private /var/lib");
    assert!(!Path::new("/var/lib/mayexec/trust.mdb").exists() || cfg!(any()));
    let mut paths = listed(&host);
    paths.sort();
    assert_eq!(paths, [a.to_str().unwrap(), b.to_str().unwrap()]);
    let list = json(&host.trust(&["list", "--json"]));
    let first = &list[0];
    assert_eq!(first["source"], "add");
    assert_eq!(first["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(
        first["generation"],
        serde_json::Value::Null,
        "tmpfs keeps none"
    );

    let out = host.trust(&["verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Drift: content, and identity alone.
    fs::write(&a, "echo changed\n").unwrap();
    fs::set_permissions(&b, fs::Permissions::from_mode(0o600)).unwrap();
    fs::set_permissions(&b, fs::Permissions::from_mode(0o644)).unwrap();
    let out = host.trust(&["verify", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let verified = json(&out);
    let status_of = |p: &Path| {
        verified
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["path"] == p.to_str().unwrap())
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(status_of(&a), "content-differs");
    assert_eq!(status_of(&b), "changed");

    let out = host.trust(&["remove", a.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(listed(&host), [b.to_str().unwrap()]);
    let out = host.trust(&["remove", a.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not in the trust database"));

    let out = host.trust(&["status", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(json(&out)["entries"], 1);
}

/// `add --manifest`: `sha256sum` lines, each file trusted only if its
/// content has the listed digest; relative names from --root.
#[root_test]
fn a_manifest_trusts_the_files_whose_digest_matches() {
    let host = Host::new(None);
    let code = Tmpfs::exec();
    let a = code.write("a.sh", "echo a\n", 0o755);
    let b = code.write("odd name\\x.pm", "1;\n", 0o644);
    let c = code.write("c.pm", "tampered\n", 0o644);
    let sha = |text: &str| {
        let out = Command::new("sha256sum").output_with_stdin(text);
        out.split_whitespace().next().unwrap().to_owned()
    };
    let manifest = code.write(
        "SHA256SUMS",
        format!(
            "{}  a.sh\n\\{} *odd name\\\\x.pm\n{}  c.pm\n",
            sha("echo a\n"),
            sha("1;\n"),
            sha("original\n")
        ),
        0o644,
    );
    let out = host.trust(&[
        "add",
        "--json",
        "--manifest",
        manifest.to_str().unwrap(),
        "--root",
        code.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = json(&out);
    assert_eq!(report["trusted"].as_array().unwrap().len(), 2, "{report}");
    assert_eq!(
        report["refused"][0]["path"],
        c.to_str().unwrap(),
        "{report}"
    );
    assert!(
        report["refused"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("content differs from the manifest's digest"),
        "{report}"
    );
    let mut paths = listed(&host);
    paths.sort();
    assert_eq!(paths, [a.to_str().unwrap(), b.to_str().unwrap()]);
    let list = json(&host.trust(&["list", "--json"]));
    assert_eq!(
        list[0]["source"],
        format!("manifest {}", manifest.display()),
        "{list}"
    );
    // Not a manifest: a usage error, nothing recorded.
    let bad = code.write("BAD", "not a digest line\n", 0o644);
    let out = host.trust(&["add", "--manifest", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1: not a sha256sum line"));
}

trait WithStdin {
    fn output_with_stdin(&mut self, input: &str) -> String;
}

impl WithStdin for Command {
    fn output_with_stdin(&mut self, input: &str) -> String {
        use std::io::Write;
        let mut child = self
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    }
}

#[root_test]
fn bad_input_is_refused_with_a_message_and_nothing_is_recorded() {
    let host = Host::new(None);
    let code = Tmpfs::exec();
    let good = code.write("good.sh", "echo good\n", 0o755);
    let fifo = code.path().join("fifo");
    let sock = code.path().join("sock");
    let loop_a = code.path().join("loop-a");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    std::os::unix::fs::symlink("loop-b", &loop_a).unwrap();
    std::os::unix::fs::symlink("loop-a", code.path().join("loop-b")).unwrap();
    let writable = code.write("writable.sh", "echo w\n", 0o666);
    let users = code.write("users.sh", "echo u\n", 0o755);
    mayexec_testkit::give_to(&users, 65534, 65534);
    let cases: [(&Path, i32, &str); 8] = [
        (&fifo, 2, "a FIFO, not a regular file"),
        (
            Path::new("/dev/null"),
            2,
            "a character device, not a regular file",
        ),
        (&sock, 2, "No such device or address"),
        (code.path(), 2, "a directory, not a regular file"),
        (&loop_a, 2, "Too many levels of symbolic links"),
        (&code.path().join("gone.sh"), 2, "No such file or directory"),
        (&writable, 1, "writable by group or others (mode 0666)"),
        (&users, 1, "owned by uid 65534, not root"),
    ];
    for (path, status, message) in cases {
        let out = host.trust(&["add", good.to_str().unwrap(), path.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(status),
            "{}: {}",
            path.display(),
            text(&out)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(message),
            "{}: {}",
            path.display(),
            text(&out)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("nothing recorded"),
            "{}",
            text(&out)
        );
        assert!(
            !host.database().exists(),
            "nothing recorded for {}",
            path.display()
        );
    }
}

#[root_test]
fn a_file_open_for_writing_or_changed_while_hashed_is_not_trusted() {
    let host = Host::new(None);
    let code = Tmpfs::exec();
    let busy = code.write("busy.sh", "echo busy\n", 0o755);
    // A writer holds it open (as a writable shared mapping would).
    let writer = fs::OpenOptions::new().append(true).open(&busy).unwrap();
    let out = host.trust(&["add", busy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("open for writing by a process"),
        "{}",
        text(&out)
    );
    drop(writer);
    assert!(!host.database().exists());

    // Renamed away and deleted while it is hashed: the link count, so the
    // ctime, moves. A large file gives the test time to do it.
    let big = code.path().join("big.pm");
    let file = fs::File::create(&big).unwrap();
    file.set_len(96 << 20).unwrap();
    drop(file);
    fs::set_permissions(&big, fs::Permissions::from_mode(0o644)).unwrap();
    let child = host
        .command(MAYEXEC)
        .args(["trust", "add", "--progress", big.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it is reading (progress shows), then remove the file.
    std::thread::sleep(std::time::Duration::from_millis(300));
    fs::remove_file(&big).unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.code() == Some(0) {
        eprintln!(
            "hashing finished before the file vanished here: {}",
            text(&out)
        );
        return;
    }
    // Gone while it was read (status 1), or before it was opened (2).
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(1) => assert!(
            stderr.contains("changed while it was hashed"),
            "{}",
            text(&out)
        ),
        Some(2) => assert!(
            stderr.contains("No such file or directory"),
            "{}",
            text(&out)
        ),
        _ => panic!("{}", text(&out)),
    }
    assert!(!host.database().exists(), "nothing recorded");
}

/// Hashing streams: the peak resident set of `trust add` does not grow
/// with the file. (The debug build hashes slowly, so the file is 256 MiB
/// here; `docs/trust.md` has the 1 GiB figure of the release build.)
#[root_test]
fn a_large_file_is_hashed_in_constant_memory() {
    let host = Host::new(None);
    let code = Tmpfs::mount_sized(false, "300m").unwrap();
    let big = code.path().join("big.bin");
    let file = fs::File::create(&big).unwrap();
    // Sparse: tmpfs serves zeros without holding the file in memory.
    file.set_len(256 << 20).unwrap();
    drop(file);
    fs::set_permissions(&big, fs::Permissions::from_mode(0o644)).unwrap();
    let child = host
        .command(MAYEXEC)
        .args(["trust", "add", big.to_str().unwrap()])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (status, peak_kib) = wait_with_peak(child);
    assert_eq!(status, 0, "trust add of the large file");
    assert!(listed(&host).contains(&big.to_str().unwrap().to_owned()));
    assert!(
        peak_kib < 32 << 10,
        "peak resident set {peak_kib} KiB for a 256 MiB file"
    );
}

/// Waits for `child` (whose process execs through the sandbox's shells
/// into mayexec, keeping its pid) and returns its exit status and the
/// largest resident set it had (`wait4`'s `ru_maxrss`, KiB).
#[allow(unsafe_code)]
fn wait_with_peak(child: std::process::Child) -> (i32, u64) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, writing only to the two locals.
    let ret = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(ret, pid, "wait4: {}", std::io::Error::last_os_error());
    std::mem::forget(child);
    (libc::WEXITSTATUS(status), usage.ru_maxrss as u64)
}

/// A fake dpkg root: real files of an installed package copied into a
/// directory with its own `var/lib/dpkg` (status, info/PKG.md5sums),
/// never the system's.
#[root_test]
fn from_dpkg_refuses_a_file_whose_content_differs_from_dpkgs_digest() {
    let host = Host::new(None);
    let root = Tmpfs::exec();
    // perl-base's md5sums, as this system has them.
    let md5sums = fs::read_to_string("/var/lib/dpkg/info/perl-base.md5sums")
        .expect("perl-base is installed (Debian)");
    let lines: Vec<&str> = md5sums
        .lines()
        .filter(|l| l.ends_with(".pm") && l.contains("perl-base/"))
        .filter(|l| Path::new("/").join(&l[34..]).is_file())
        .take(3)
        .collect();
    assert_eq!(lines.len(), 3, "three modules of perl-base");
    let admin = root.path().join("var/lib/dpkg");
    fs::create_dir_all(admin.join("info")).unwrap();
    let mut copied = Vec::new();
    for line in &lines {
        let relative = &line[34..];
        let to = root.path().join(relative);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(Path::new("/").join(relative), &to).unwrap();
        copied.push(to);
    }
    // A conffile with its digest, as the status file lists it.
    let conf = root.path().join("etc/perl-test.conf");
    fs::create_dir_all(conf.parent().unwrap()).unwrap();
    fs::write(&conf, "setting = 1\n").unwrap();
    let conf_md5 = "f8d6fbdfd4ba1d2b44dbfdb46e3cc43c"; // not its digest
    fs::write(
        admin.join("status"),
        format!(
            "Package: perl-base\nStatus: install ok installed\nArchitecture: amd64\n\
             Version: 5.36.0-7+deb12u2\nConffiles:\n /etc/perl-test.conf {conf_md5}\n\n\
             Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n"
        ),
    )
    .unwrap();
    fs::write(
        admin.join("info/perl-base.md5sums"),
        lines.join("\n") + "\n",
    )
    .unwrap();
    // One byte changed in one copy.
    let mut bytes = fs::read(&copied[1]).unwrap();
    bytes[0] ^= 0x20;
    fs::write(&copied[1], bytes).unwrap();

    let root_arg = root.path().to_str().unwrap();
    let out = host.trust(&["from-dpkg", "--json", "--root", root_arg, "perl-base"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = json(&out);
    let refused: Vec<&str> = report["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert!(refused.contains(&copied[1].to_str().unwrap()), "{report}");
    assert!(refused.contains(&conf.to_str().unwrap()), "{report}");
    assert_eq!(report["trusted"].as_array().unwrap().len(), 2, "{report}");
    let reason = report["refused"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("content differs from perl-base's digest"),
        "{reason}"
    );
    let mut paths = listed(&host);
    paths.sort();
    let mut want = vec![copied[0].to_str().unwrap(), copied[2].to_str().unwrap()];
    want.sort();
    assert_eq!(paths, want);
    let list = json(&host.trust(&["list", "--json"]));
    assert_eq!(list[0]["source"], "package perl-base 5.36.0-7+deb12u2");

    // An unknown package is a usage error.
    let out = host.trust(&["from-dpkg", "--root", root_arg, "no-such-package"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// `status` says why nothing is trusted; `check --trust` names the reason.
#[root_test]
fn status_and_check_report_trust() {
    let code = Tmpfs::exec();
    let policy = format!(
        "interpreted_access = 1\ntrust = \"required\"\ntrust_mounts = [\"{}\", \"/nonexistent\"]\n",
        code.path().display()
    );
    let host = Host::new(Some(&policy));
    let out = host.mayexec(&["status", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let trust = &json(&out)["enforcement"]["trust"];
    assert_eq!(trust["action"], "enforce");
    assert!(
        trust["error"]
            .as_str()
            .unwrap()
            .contains("no trust database"),
        "{trust}"
    );
    let mounts = trust["mounts"].to_string();
    assert!(mounts.contains("honoured (mount"), "{mounts}");
    assert!(mounts.contains("/nonexistent: NOT honoured"), "{mounts}");

    let trusted = code.write("t.pm", "1;\n", 0o644);
    let other = code.write("o.pm", "1;\n", 0o644);
    let out = host.mayexec(&[
        "check",
        "--level",
        "1",
        "--trust",
        trusted.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("denied (trust-unavailable)"));
    assert_eq!(
        host.trust(&["add", trusted.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let out = host.mayexec(&[
        "check",
        "--json",
        "--level",
        "1",
        "--trust",
        trusted.to_str().unwrap(),
        other.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let verdicts = json(&out);
    assert_eq!(verdicts[0]["allowed"], true, "{verdicts}");
    assert_eq!(verdicts[1]["reason"], "untrusted-content", "{verdicts}");
    // Checkers are anyone: nobody reads the database too.
    let out = host
        .command("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", MAYEXEC])
        .args([
            "check",
            "--level",
            "1",
            "--trust",
            trusted.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "as nobody: {}", text(&out));
    let out = host.mayexec(&["status", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(json(&out)["enforcement"]["trust"]["entries"], 1);
}

/// A process in a user namespace honours no mount: its namespace root could
/// have mounted anything where the listed paths point.
#[root_test]
fn in_a_user_namespace_no_mount_is_honoured() {
    let code = Tmpfs::exec();
    let policy = format!(
        "interpreted_access = 1\ntrust = \"required\"\ntrust_mounts = [\"{}\"]\n",
        code.path().display()
    );
    let host = Host::new(Some(&policy));
    let trusted = code.write("t.pm", "1;\n", 0o644);
    assert_eq!(
        host.trust(&["add", trusted.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let check = [
        "check",
        "--level",
        "1",
        "--trust",
        trusted.to_str().unwrap(),
    ];
    let out = host.mayexec(&check);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = host
        .command("unshare")
        .args(["--user", "--map-root-user", "--mount", MAYEXEC])
        .args(check)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("denied (untrusted-content)"),
        "{}",
        text(&out)
    );
}

#[root_test]
fn writes_need_root() {
    let host = Host::new(None);
    let out = host
        .command("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", MAYEXEC])
        .args(["trust", "add", "/usr/bin/perl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only root can change"));
}

const PERL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/perl-mayexec/bin/perl"
);

/// The enlightened perl under level 1 + trust required: Debian's 0644
/// modules run without any chmod once `from-dpkg` trusted them, and a
/// trusted copy of a module with one byte changed is refused.
#[root_test]
fn perl_runs_debians_0644_modules_under_trust_and_refuses_a_changed_one() {
    if !Path::new(PERL).exists() {
        assert!(
            !mayexec_testkit::in_ci(),
            "{PERL} is not built (integrations/perl/build.sh)"
        );
        eprintln!("skipped: {PERL} is not built");
        return;
    }
    let code = Tmpfs::exec();
    let policy = format!(
        "interpreted_access = 1\ntrust = \"required\"\ntrust_mounts = [\"/\", \"{}\"]\n",
        code.path().display()
    );
    let host = Host {
        sandbox: Sandbox::new()
            .policy(&policy)
            .capture_syslog()
            .private_var_lib(),
    };
    let lib = code.path().join("lib/Text");
    fs::create_dir_all(&lib).unwrap();
    let wrap = lib.join("Wrap.pm");
    fs::copy("/usr/share/perl/5.36/Text/Wrap.pm", &wrap).unwrap();
    let program = code.write(
        "prog.pl",
        format!(
            "use strict; use warnings; use POSIX qw(floor); use File::Spec;\n\
             use lib '{}'; use Text::Wrap qw(wrap);\n\
             print wrap('', '', 'trusted'), ' ', floor(2.5), \"\\n\";\n",
            code.path().join("lib").display()
        ),
        0o644,
    );
    let perl = || host.command(PERL).arg(&program).output().unwrap();

    // No database yet: nothing is trusted, and the refusal says why.
    let out = perl();
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("trust-unavailable"),
        "{}",
        text(&out)
    );

    let out = host.trust(&[
        "from-dpkg",
        "perl-base",
        "perl-modules-5.36",
        "libperl5.36:amd64",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = host.trust(&["add", program.to_str().unwrap(), wrap.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The modules are Debian's 0644 files: no chmod anywhere.
    assert_eq!(
        fs::metadata("/usr/share/perl/5.36.0/strict.pm")
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o644
    );
    let out = perl();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "trusted 2\n");

    // One byte of the trusted copy changed: refused.
    let mut bytes = fs::read(&wrap).unwrap();
    let at = bytes.iter().position(|&b| b == b'#').unwrap();
    bytes[at + 1] = b'!';
    fs::write(&wrap, bytes).unwrap();
    let _ = host.sandbox.syslog_lines();
    let out = perl();
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Text/Wrap.pm"),
        "{}",
        text(&out)
    );
    // The audit line names the file and the reason.
    let lines = host.sandbox.syslog_lines();
    let wrap_label = wrap.to_str().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("path={wrap_label} "))
                && l.contains("reason=untrusted-content")
                && l.contains("action=denied")),
        "{lines:?}"
    );
}

/// The apt hook's two halves by hand. `stage` records an archive's files
/// and maintainer scripts before dpkg installs them, so that they pass
/// while it does (the scripts run what was just unpacked); `sync` then
/// trusts the package by identity, verifies its scripts against what was
/// staged and drops the staged digests.
#[root_test]
fn staged_archives_pass_while_installed_and_sync_records_them() {
    let code = Tmpfs::exec();
    let policy = format!(
        "interpreted_access = 1\ntrust = \"required\"\ntrust_mounts = [\"{}\"]\n",
        code.path().display()
    );
    let host = Host::new(Some(&policy));
    // The package: a tool under the listed mount, and a postinst.
    let build = mayexec_testkit::TempDir::new();
    let tree = build.path().join("pkg");
    let prefix = code.path().strip_prefix("/").unwrap().join("share");
    fs::create_dir_all(tree.join("DEBIAN")).unwrap();
    fs::create_dir_all(tree.join(&prefix)).unwrap();
    fs::write(
        tree.join("DEBIAN/control"),
        "Package: stage-test\nVersion: 2.0\nArchitecture: all\nMaintainer: t <t@example.org>\n\
         Description: test\n",
    )
    .unwrap();
    let postinst = "#!/bin/sh\nsh /usr/share/stage-test/tool.sh\n";
    fs::write(tree.join("DEBIAN/postinst"), postinst).unwrap();
    fs::set_permissions(
        tree.join("DEBIAN/postinst"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let tool = "echo configured\n";
    fs::write(tree.join(&prefix).join("tool.sh"), tool).unwrap();
    fs::hard_link(
        tree.join(&prefix).join("tool.sh"),
        tree.join(&prefix).join("linked.sh"),
    )
    .unwrap();
    let deb = build.path().join("stage-test.deb");
    let out = Command::new("dpkg-deb")
        .args(["--root-owner-group", "--build"])
        .arg(&tree)
        .arg(&deb)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let admin = code.path().join("dpkg");
    fs::create_dir_all(admin.join("info")).unwrap();
    let admin_arg = admin.to_str().unwrap();

    let check = |path: &Path| {
        let out = host.mayexec(&[
            "check",
            "--json",
            "--level",
            "1",
            "--trust",
            path.to_str().unwrap(),
        ]);
        json(&out)[0]["reason"].as_str().map(str::to_owned)
    };
    let out = host.trust(&["stage", "--admindir", admin_arg, deb.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("staged 4 digests of 1 archives"),
        "{}",
        text(&out)
    );
    let out = host.mayexec(&["trust", "status"]);
    assert!(text(&out).contains("staged: 4 digests"), "{}", text(&out));

    // dpkg unpacks: the files are staged, a changed one and a copy are not.
    fs::create_dir_all(code.path().join("share")).unwrap();
    let installed = code.write("share/tool.sh", tool, 0o644);
    let linked = code.write("share/linked.sh", tool, 0o644);
    let script = code.write("dpkg/info/stage-test.postinst", postinst, 0o755);
    assert_eq!(check(&installed), None);
    assert_eq!(check(&linked), None);
    assert_eq!(check(&script), None);
    let copy = code.write("share/copy.sh", tool, 0o644);
    assert_eq!(check(&copy).as_deref(), Some("untrusted-content"));
    let changed = code.write("share/other.sh", "echo other\n", 0o644);
    assert_eq!(check(&changed).as_deref(), Some("untrusted-content"));

    // dpkg records the package; sync trusts it by identity.
    let md5 = |content: &str| {
        use md5::{Digest, Md5};
        hex(&Md5::digest(content.as_bytes()))
    };
    fs::write(
        admin.join("status"),
        "Package: stage-test\nStatus: install ok installed\nArchitecture: all\nVersion: 2.0\n\n",
    )
    .unwrap();
    fs::write(
        admin.join("info/stage-test.md5sums"),
        format!(
            "{}  {}\n{}  {}\n",
            md5(tool),
            prefix.join("tool.sh").display(),
            md5(tool),
            prefix.join("linked.sh").display()
        ),
    )
    .unwrap();
    let out = host.trust(&["sync", "--admindir", admin_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("1 packages changed, 0 removed, 4 digests staged"),
        "{}",
        text(&out)
    );
    let out = host.mayexec(&["trust", "status", "--json"]);
    assert_eq!(json(&out)["staged"], 0, "{}", text(&out));
    assert_eq!(check(&installed), None);
    assert_eq!(check(&script), None);
    let list = json(&host.trust(&["list", "--json"]));
    let sources: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["package stage-test 2.0"; 3], "{list}");
    // Staged no more: a new copy is untrusted.
    let again = code.write("share/again.sh", tool, 0o644);
    assert_eq!(check(&again).as_deref(), Some("untrusted-content"));

    // An upgrade whose maintainer script is not the archive's: refused by
    // sync, not trusted.
    let out = host.trust(&["stage", "--admindir", admin_arg, deb.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let script = code.write(
        "dpkg/info/stage-test.postinst",
        "#!/bin/sh\necho not it\n",
        0o755,
    );
    let out = host.trust(&["sync", "--admindir", admin_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("content differs from stage-test's digest"),
        "{}",
        text(&out)
    );
    assert_eq!(check(&script).as_deref(), Some("untrusted-content"));
    assert_eq!(check(&installed), None);

    // The package removed: its entries go.
    fs::write(admin.join("status"), "").unwrap();
    let out = host.trust(&["sync", "--admindir", admin_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("0 packages changed, 1 removed"),
        "{}",
        text(&out)
    );
    assert!(listed(&host).is_empty());

    // An archive that cannot be read stages nothing, status 2; --apt reads
    // archives from standard input and leaves "**" lines alone.
    let out = host.trust(&["stage", "/nonexistent.deb"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("nothing staged"), "{}", text(&out));
    let mut child = host
        .command(MAYEXEC)
        .args(["trust", "stage", "--apt", "--admindir", admin_arg])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    writeln!(
        child.stdin.take().unwrap(),
        "**CONFIGURE**\n{}",
        deb.display()
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("staged 4 digests"), "{}", text(&out));
}

/// Without a policy that turns trust on, the apt hook does nothing.
#[root_test]
fn the_apt_hook_does_nothing_while_trust_is_off() {
    let host = Host::new(Some("interpreted_access = 1\n"));
    let out = host.trust(&["stage", "--apt"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(text(&out).matches("staged").count(), 0, "{}", text(&out));
    let out = host.trust(&["sync", "--apt"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!host.database().exists());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
