//! libmayexec as C programs see it: `make install` into a temporary
//! prefix, C programs from `tests/c/` compiled with nothing but
//! `pkg-config --cflags --libs mayexec` (and `--static`), run on real tmpfs
//! mounts under the system policy levels (`/etc/mayexec.conf` in a
//! `Sandbox`), under `mayexec run -f/-i/-fi`, as root and as nobody.
//!
//! The C programs check their own expectations and print
//! `N passed, N failed`; these tests set the scene and require success.

use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

mod version_script;

use mayexec_testkit::{
    give_to, root_test, workspace_bin, Sandbox, SpecialFiles, TempDir, Tmpfs, NOBODY,
};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// target/<profile>, where the test runs from.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("test binaries live in target/<profile>/deps")
        .to_owned()
}

fn make(args: &[&OsStr]) {
    let profile_dir = profile_dir();
    let profile = profile_dir.file_name().expect("a profile directory");
    let target_dir = profile_dir.parent().expect("target/<profile>");
    let output = Command::new("make")
        .arg("-C")
        .arg(repo_root())
        .arg("--no-print-directory")
        .arg(format!("PROFILE={}", profile.to_string_lossy()))
        .arg(format!("CARGO_TARGET_DIR={}", target_dir.display()))
        .args(args)
        .output()
        .expect("run make (is it installed?)");
    assert!(
        output.status.success(),
        "make {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// An installed libmayexec and the test programs built against it.
struct Installed {
    prefix: TempDir,
}

impl Installed {
    /// `make install PREFIX=…` (cargo builds the library once per test
    /// process; `cargo test` itself never builds a cdylib); `static_only`
    /// installs with `make install-static`, without the shared library.
    fn new(static_only: bool) -> Installed {
        static BUILT: OnceLock<()> = OnceLock::new();
        BUILT.get_or_init(|| make(&[OsStr::new("build")]));
        let prefix = TempDir::new();
        let target = if static_only {
            "install-static-files"
        } else {
            "install-files"
        };
        make(&[
            OsStr::new(target),
            format!("PREFIX={}", prefix.path().display()).as_ref(),
        ]);
        Installed { prefix }
    }

    fn lib(&self) -> PathBuf {
        self.prefix.path().join("lib")
    }

    /// Compiles `tests/c/NAME.c` exactly as a user would:
    /// `cc … $(pkg-config [--static] --cflags --libs mayexec)`.
    fn compile(&self, name: &str, pkg_config_static: bool) -> PathBuf {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/c")
            .join(format!("{name}.c"));
        let out = self.prefix.path().join(name);
        let flags = if pkg_config_static { "--static " } else { "" };
        let script = format!(
            "cc -std=c11 -Wall -Wextra -Werror -o \"$1\" \"$2\" \
             $(pkg-config {flags}--cflags --libs mayexec)"
        );
        let output = Command::new("sh")
            .args(["-c", &script, "sh"])
            .arg(&out)
            .arg(&source)
            .env("PKG_CONFIG_PATH", self.lib().join("pkgconfig"))
            .output()
            .expect("run cc (are cc and pkg-config installed?)");
        assert!(
            output.status.success(),
            "compiling {name}.c failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        out
    }

    /// Runs a compiled program (under `mayexec run`, or in a sandbox, when
    /// `cmd` says so) with the installed library on its search path.
    fn run(&self, mut cmd: Command) -> Output {
        cmd.env("LD_LIBRARY_PATH", self.lib());
        cmd.output().expect("run a C test program")
    }

    /// Like [`Installed::run`] in `sandbox`, reading its syslog while the
    /// program runs: a full datagram queue would block its next denial.
    fn run_logged(&self, sandbox: &Sandbox, mut cmd: Command) -> (Output, Vec<String>) {
        cmd.env("LD_LIBRARY_PATH", self.lib())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run a C test program");
        let stdout = child.stdout.take().expect("stdout");
        let reader = std::thread::spawn(move || std::io::read_to_string(stdout));
        let mut lines = Vec::new();
        let status = loop {
            lines.extend(sandbox.syslog_lines());
            match child.try_wait().expect("wait") {
                Some(status) => break status,
                None => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        };
        lines.extend(sandbox.syslog_lines());
        let stdout = reader.join().expect("stdout reader").expect("read stdout");
        let mut stderr = Vec::new();
        if let Some(mut pipe) = child.stderr.take() {
            std::io::Read::read_to_end(&mut pipe, &mut stderr).expect("read stderr");
        }
        let output = Output {
            status,
            stdout: stdout.into_bytes(),
            stderr,
        };
        (output, lines)
    }
}

/// Requires the C program's own verdict: exit 0 and "N passed, 0 failed".
fn assert_passed(what: &str, output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let failures: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(
        output.status.success() && failures.is_empty(),
        "{what}: {:?}\n{}\n{stderr}",
        output.status,
        failures.join("\n")
    );
    let summary = stdout.lines().last().unwrap_or("");
    assert!(
        summary.ends_with(" passed, 0 failed") && !summary.starts_with("0 passed"),
        "{what}: no summary, or nothing checked: {summary:?}\n{stdout}"
    );
}

/// The files of the RFC matrix on one tmpfs: see tests/c/rfc_matrix.c.
fn matrix_files(noexec: bool) -> SpecialFiles {
    let files = if noexec {
        SpecialFiles::noexec()
    } else {
        SpecialFiles::new()
    };
    let tmpfs = files.tmpfs();
    for (name, mode) in [
        ("x755", 0o755),
        ("r644", 0o644),
        ("x500", 0o500),
        ("r400", 0o400),
        ("x711", 0o711),
    ] {
        let path = tmpfs.write(name, "+\n", mode);
        if name == "x500" || name == "r400" {
            give_to(&path, NOBODY, NOBODY);
        }
    }
    files
}

#[root_test]
fn rfc_matrix_at_every_level_as_root_and_as_nobody() {
    let installed = Installed::new(false);
    let program = installed.compile("rfc_matrix", false);
    let exec = matrix_files(false);
    let noexec = matrix_files(true);
    for level in 0..=3 {
        for user in [None, Some(NOBODY)] {
            let mut sandbox = Sandbox::new()
                .policy(&format!("interpreted_access = {level}\n"))
                .capture_syslog();
            if let Some(uid) = user {
                sandbox = sandbox.as_user(uid, uid);
            }
            let mut cmd = sandbox.command(&program);
            cmd.arg(level.to_string())
                .arg(exec.tmpfs().path())
                .arg(noexec.tmpfs().path());
            let what = format!("level {level} as {}", user.map_or("root", |_| "nobody"));
            let (output, lines) = installed.run_logged(&sandbox, cmd);
            assert_passed(&what, &output);
            if level == 0 {
                assert!(lines.is_empty(), "{what}: level 0 logs nothing: {lines:?}");
            } else {
                assert!(
                    lines
                        .iter()
                        .any(|l| l.contains("reason=not-regular-file")
                            && l.contains("action=denied")),
                    "{what}: denials are logged: {lines:?}"
                );
            }
        }
    }
}

#[root_test]
fn rfc_matrix_with_no_policy_file_is_level_0() {
    let installed = Installed::new(false);
    let program = installed.compile("rfc_matrix", false);
    let exec = matrix_files(false);
    let noexec = matrix_files(true);
    // The sandbox lives as long as the command: its directory is the namespace's.
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.command(&program);
    cmd.arg("0")
        .arg(exec.tmpfs().path())
        .arg(noexec.tmpfs().path());
    assert_passed("no policy", &installed.run(cmd));
}

#[root_test]
fn contract_basics_with_no_policy() {
    let installed = Installed::new(false);
    let program = installed.compile("contract", false);
    let dir = Tmpfs::exec();
    let backend = if mayexec::kernel_check_available() {
        "kernel"
    } else {
        "emulated"
    };
    // The sandbox lives as long as the command: its directory is the namespace's.
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.command(&program);
    cmd.arg("basics").arg(dir.path()).arg(backend);
    assert_passed("basics", &installed.run(cmd));
}

/// Scripts for the enforcement scenarios.
struct Scripts {
    exec: Tmpfs,
    noexec: Tmpfs,
}

impl Scripts {
    fn new() -> Scripts {
        let scripts = Scripts {
            exec: Tmpfs::exec(),
            noexec: Tmpfs::noexec(),
        };
        scripts.exec.write("x755", "+\n", 0o755);
        scripts.exec.write("r644", "+\n", 0o644);
        scripts.noexec.write("x755", "+\n", 0o755);
        scripts
    }

    fn exec_755(&self) -> PathBuf {
        self.exec.path().join("x755")
    }

    fn exec_644(&self) -> PathBuf {
        self.exec.path().join("r644")
    }

    fn noexec_755(&self) -> PathBuf {
        self.noexec.path().join("x755")
    }
}

fn contract_args(cmd: &mut Command, steps: &[&[&OsStr]]) {
    for step in steps {
        cmd.args(*step);
    }
}

fn os<S: AsRef<OsStr> + ?Sized>(s: &S) -> &OsStr {
    s.as_ref()
}

#[root_test]
fn open_script_and_check_interactive_under_mayexec_run() {
    let installed = Installed::new(false);
    let program = installed.compile("contract", false);
    let s = Scripts::new();
    let (x755, r644, noexec) = (s.exec_755(), s.exec_644(), s.noexec_755());
    for (flag, restrict, deny) in [
        ("-f", true, false),
        ("-i", false, true),
        ("-fi", true, true),
    ] {
        let enforced = |reason: &'static str| os(if restrict { reason } else { "ok" });
        // stdin: a pipe (refused under -i), then regular files.
        for (stdin, stdin_reason) in [
            (None, "not-regular-file"),
            (Some(&x755), "ok"),
            (Some(&r644), "not-executable"),
            (Some(&noexec), "noexec-mount"),
        ] {
            let mut cmd = Command::new(workspace_bin("mayexec"));
            cmd.args(["run", flag, "--"]).arg(&program);
            let (rf, di) = (u8::from(restrict).to_string(), u8::from(deny).to_string());
            contract_args(
                &mut cmd,
                &[
                    &[os("enforcement"), os(&rf), os(&di), os("0"), os("3")],
                    &[os("open"), x755.as_os_str(), os("ok")],
                    &[os("open"), noexec.as_os_str(), enforced("noexec-mount")],
                    &[os("open"), r644.as_os_str(), enforced("not-executable")],
                    &[os("script"), x755.as_os_str(), os("ok")],
                    &[os("script"), noexec.as_os_str(), enforced("noexec-mount")],
                    &[os("script"), r644.as_os_str(), enforced("not-executable")],
                    &[
                        os("interactive"),
                        os("-1"),
                        os(if deny { "interactive" } else { "ok" }),
                    ],
                    &[
                        os("interactive"),
                        os("stdin"),
                        os(if deny { stdin_reason } else { "ok" }),
                    ],
                    &[
                        os("label"),
                        os("PS4"),
                        os(if deny { "interactive" } else { "ok" }),
                    ],
                ],
            );
            match stdin {
                Some(path) => cmd.stdin(File::open(path).expect("open stdin")),
                None => cmd.stdin(Stdio::piped()),
            };
            let what = format!("mayexec run {flag}, stdin {stdin:?}");
            assert_passed(&what, &installed.run(cmd));
        }
    }
}

#[root_test]
fn open_script_refuses_a_file_open_for_writing_as_write_busy() {
    if !mayexec::kernel_check_available() {
        eprintln!("skipped: ETXTBSY comes from the kernel check (Linux 6.14)");
        return;
    }
    let installed = Installed::new(false);
    let program = installed.compile("contract", false);
    let exec = Tmpfs::exec();
    let busy = exec.write("busy", "+\n", 0o755);
    let _writer = std::fs::OpenOptions::new()
        .write(true)
        .open(&busy)
        .expect("open for writing");
    let mut cmd = Command::new(workspace_bin("mayexec"));
    cmd.args(["run", "-f", "--"]).arg(&program);
    cmd.arg("open").arg(&busy).arg("write-busy");
    cmd.arg("check").arg(&busy).arg("write-busy");
    cmd.arg("script").arg(&busy).arg("write-busy");
    assert_passed("write-busy", &installed.run(cmd));
}

#[root_test]
fn open_script_under_the_policy_levels_and_modes() {
    let installed = Installed::new(false);
    let program = installed.compile("contract", false);
    let s = Scripts::new();
    let (x755, r644, noexec) = (s.exec_755(), s.exec_644(), s.noexec_755());
    let cases: [(&str, [&str; 4], [&str; 3], &str); 7] = [
        // policy, enforcement {rf di audit level}, open {x755 noexec r644}, -c
        (
            "interpreted_access = 1",
            ["1", "0", "0", "1"],
            ["ok", "noexec-mount", "ok"],
            "ok",
        ),
        (
            "interpreted_access = 2",
            ["1", "0", "0", "2"],
            ["ok", "ok", "not-executable"],
            "ok",
        ),
        (
            "interpreted_access = 3",
            ["1", "0", "0", "3"],
            ["ok", "noexec-mount", "not-executable"],
            "ok",
        ),
        (
            "interpreted_access = 3\nmode = \"audit\"",
            ["0", "0", "1", "3"],
            ["ok", "ok", "ok"],
            "ok",
        ),
        (
            "deny_interactive = true",
            ["0", "1", "0", "3"],
            ["ok", "ok", "ok"],
            "interactive",
        ),
        (
            "deny_interactive = true\nmode = \"audit\"",
            ["0", "0", "1", "3"],
            ["ok", "ok", "ok"],
            "ok",
        ),
        (
            "interpreted_access = 0",
            ["0", "0", "0", "3"],
            ["ok", "ok", "ok"],
            "ok",
        ),
    ];
    for (policy, enforcement, opens, dash_c) in cases {
        let sandbox = Sandbox::new().policy(policy).capture_syslog();
        let mut cmd = sandbox.command(&program);
        cmd.arg("enforcement").args(enforcement);
        for (path, want) in [&x755, &noexec, &r644].into_iter().zip(opens) {
            cmd.arg("open").arg(path).arg(want);
        }
        cmd.args(["interactive", "-1", dash_c]);
        cmd.args(["label", "PS4", dash_c]);
        let (output, lines) = installed.run_logged(&sandbox, cmd);
        assert_passed(policy, &output);
        let denials =
            opens.iter().filter(|w| **w != "ok").count() + 2 * usize::from(dash_c != "ok");
        if policy.contains("audit") {
            assert!(
                lines.iter().any(|l| l.contains("action=audit")),
                "{policy}: audit-mode denials are logged: {lines:?}"
            );
            if policy.contains("deny_interactive") {
                assert!(
                    lines
                        .iter()
                        .any(|l| l.contains(" path=PS4 ") && l.ends_with(" action=audit")),
                    "{policy}: a labelled input is logged under its label: {lines:?}"
                );
            }
        } else {
            assert_eq!(
                lines.iter().filter(|l| l.contains("action=denied")).count(),
                denials,
                "{policy}: one line per denial: {lines:?}"
            );
        }
    }
}

#[root_test]
fn untrusted_or_malformed_policy_fails_closed_naming_the_file() {
    let installed = Installed::new(false);
    let program = installed.compile("contract", false);
    for sandbox in [
        Sandbox::new().policy_file("interpreted_access = 1\n", 0o666, 0),
        Sandbox::new().policy_file("interpreted_access = 1\n", 0o644, NOBODY),
        Sandbox::new().policy("interpreted_access = 7\n"),
        Sandbox::new().policy("this is not toml"),
    ] {
        let mut cmd = sandbox.command(&program);
        cmd.arg("broken-policy");
        assert_passed(&format!("{sandbox:?}"), &installed.run(cmd));
    }
}

/// A transient failure to read the policy (`EMFILE`) refuses that call
/// only: the next call reads the file. Cached, it refused everything for
/// the life of the interpreter.
#[root_test]
fn a_transient_policy_read_error_is_retried() {
    let installed = Installed::new(false);
    let program = installed.compile("contract", false);
    let sandbox = Sandbox::new().policy("interpreted_access = 1\n");
    let mut cmd = sandbox.command(&program);
    cmd.args(["transient-policy-error", "1"]);
    assert_passed("transient policy error", &installed.run(cmd));
}

#[root_test]
fn static_link_with_pkg_config_static() {
    let installed = Installed::new(true);
    assert!(!installed.lib().join("libmayexec.so").exists());
    let program = installed.compile("contract", true);
    let dynamic = Command::new("readelf")
        .arg("-d")
        .arg(&program)
        .output()
        .expect("run readelf");
    let dynamic = String::from_utf8_lossy(&dynamic.stdout);
    assert!(
        !dynamic.contains("libmayexec"),
        "linked statically: {dynamic}"
    );
    let dir = Tmpfs::exec();
    let backend = if mayexec::kernel_check_available() {
        "kernel"
    } else {
        "emulated"
    };
    // The sandbox lives as long as the command: its directory is the namespace's.
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.command(&program);
    cmd.arg("basics").arg(dir.path()).arg(backend);
    // No LD_LIBRARY_PATH needed: nothing of libmayexec is loaded at run time.
    assert_passed("static", &cmd.output().expect("run"));
}

#[root_test]
fn installed_layout_and_soname() {
    let installed = Installed::new(false);
    let lib = installed.lib();
    let version = env!("CARGO_PKG_VERSION");
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    let real = lib.join(format!("libmayexec.so.{version}"));
    assert!(real.is_file());
    assert_eq!(
        std::fs::read_link(lib.join(format!("libmayexec.so.{major}"))).unwrap(),
        PathBuf::from(format!("libmayexec.so.{version}"))
    );
    assert_eq!(
        std::fs::read_link(lib.join("libmayexec.so")).unwrap(),
        PathBuf::from(format!("libmayexec.so.{major}"))
    );
    assert!(lib.join("libmayexec.a").is_file());
    assert!(installed.prefix.path().join("include/mayexec.h").is_file());
    let readelf = Command::new("readelf")
        .arg("-d")
        .arg(&real)
        .output()
        .expect("run readelf");
    let dynamic = String::from_utf8_lossy(&readelf.stdout);
    assert!(
        dynamic.contains(&format!("Library soname: [libmayexec.so.{major}]")),
        "{dynamic}"
    );
    let pc = std::fs::read_to_string(lib.join("pkgconfig/mayexec.pc")).unwrap();
    assert!(pc.contains(&format!("Version: {version}")), "{pc}");
    assert!(pc.contains("Libs: -L${libdir} -lmayexec"), "{pc}");
    let private = pc
        .lines()
        .find_map(|l| l.strip_prefix("Libs.private: "))
        .expect("Libs.private");
    assert!(private.contains("-lc"), "rustc's native-static-libs: {pc}");
    // Only the ABI is exported.
    let nm = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&real)
        .output()
        .expect("run nm");
    let exported: Vec<String> = String::from_utf8_lossy(&nm.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_owned))
        .filter(|s| s.starts_with("mayexec_"))
        .collect();
    assert_eq!(
        exported.len(),
        version_script::names().len(),
        "{exported:?}"
    );
}

/// The installed shared library exports the functions of `mayexec.map`,
/// each as `NAME@@NODE` under its node (`MAYEXEC_0`, `MAYEXEC_0.2`), and nothing else: no Rust std symbol leaks
/// into the ABI a Debian symbols file pins.
#[test]
fn shared_library_exports_only_the_version_script_under_its_nodes() {
    let installed = Installed::new(false);
    let real = installed
        .lib()
        .join(format!("libmayexec.so.{}", env!("CARGO_PKG_VERSION")));
    let readelf = Command::new("readelf")
        .args(["--dyn-syms", "-W"])
        .arg(&real)
        .output()
        .expect("run readelf");
    assert!(readelf.status.success(), "readelf failed");
    let table = String::from_utf8_lossy(&readelf.stdout);
    let mut exported = Vec::new();
    for line in table.lines() {
        // Num: Value Size Type Bind Vis Ndx Name
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, _, _, kind, bind, _, ndx, name] = fields[..] else {
            continue;
        };
        if ndx == "UND" || !matches!(bind, "GLOBAL" | "WEAK" | "GNU_UNIQUE") {
            continue;
        }
        // GNU ld defines each version node itself as an absolute symbol.
        if name.starts_with("MAYEXEC_") && ndx == "ABS" {
            continue;
        }
        let (function, version) = name.split_once("@@").unwrap_or((name, ""));
        assert_eq!(kind, "FUNC", "{name}: every export is a function\n{table}");
        exported.push((function.to_owned(), version.to_owned()));
    }
    exported.sort();
    assert_eq!(
        exported,
        version_script::read(),
        "every export under the node mayexec.map gives it\n{table}"
    );
}

/// LMDB (the trust database) is compiled into libmayexec.a, and from there
/// into interpreters that export their symbols for their plug-ins (bash's
/// `-rdynamic`, perl's `-Wl,-E`): its `mdb_*` must be hidden there, or an
/// XS module linking the system's liblmdb would get ours (another version).
/// A program linked like perl exports none of them.
#[test]
fn lmdb_stays_inside_a_program_that_exports_its_symbols() {
    let installed = Installed::new(true);
    let dir = mayexec_testkit::TempDir::new();
    let source = dir.write(
        "main.c",
        "#include <mayexec.h>\nint main(void) { return mayexec_check_fd(-1, 0, 0) == 0; }\n",
        0o644,
    );
    let program = dir.path().join("exports");
    let pkg_config = Command::new("pkg-config")
        .args(["--static", "--cflags", "--libs", "mayexec"])
        .env("PKG_CONFIG_PATH", installed.lib().join("pkgconfig"))
        .output()
        .expect("run pkg-config");
    assert!(pkg_config.status.success(), "pkg-config failed");
    let flags = String::from_utf8_lossy(&pkg_config.stdout).into_owned();
    let status = Command::new(std::env::var_os("CC").unwrap_or_else(|| "cc".into()))
        .arg("-o")
        .arg(&program)
        .arg(&source)
        .arg("-Wl,--whole-archive")
        .arg(installed.lib().join("libmayexec.a"))
        .arg("-Wl,--no-whole-archive")
        .args(flags.split_whitespace())
        .arg("-Wl,-E")
        .status()
        .expect("run the C compiler");
    assert!(status.success(), "link a program with -Wl,-E");
    let readelf = Command::new("readelf")
        .args(["--dyn-syms", "-W"])
        .arg(&program)
        .output()
        .expect("run readelf");
    let table = String::from_utf8_lossy(&readelf.stdout);
    assert!(table.contains(" mayexec_check_fd"), "{table}");
    let leaked: Vec<&str> = table
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .filter(|name| name.starts_with("mdb_"))
        .collect();
    assert!(leaked.is_empty(), "LMDB's symbols exported: {leaked:?}");
}
