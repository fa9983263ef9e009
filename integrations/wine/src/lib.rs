//! The enlightened Wine, as its tests see it.
//!
//! `integrations/wine/build.sh` rebuilds Wine's Unix-side `ntdll.so` from
//! Debian's wine 8.0 source, once stock and once with `mayexec.patch`, and
//! puts each in a private tree that runs with Debian's binary Wine for
//! everything else: `target/wine-{stock,mayexec}/bin/wine`
//! (`MAYEXEC_WINE=PATH` points the tests at another build). Debian's own
//! Wine is `/usr/lib/wine/wine64`, the loader `/usr/bin/wine` starts.
//!
//! To Wine, code is PE images: the tests build small ones at test time with
//! Debian's MinGW-w64 cross-compiler ([`Programs`]) and run them in one
//! Wine prefix kept under `target/wine-build/tests` ([`Fixture`]).

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

pub use mayexec_testkit::interp::Built;
use mayexec_testkit::interp::{workspace_root, Exit, Outcome};

/// The enlightened Wine as its tests find it.
pub const BUILT: Built = Built {
    what: "the enlightened Wine",
    env: Some("MAYEXEC_WINE"),
    installed: "target/wine-mayexec/bin/wine",
    build_script: "integrations/wine/build.sh",
};

/// The same tree with the stock `ntdll.so` rebuilt from the same source.
pub const STOCK: Built = Built {
    what: "the stock Wine rebuilt from Debian's source",
    env: None,
    installed: "target/wine-stock/bin/wine",
    build_script: "integrations/wine/build.sh",
};

/// Debian's Wine loader (what `/usr/bin/wine` runs on a 64-bit system).
pub const DEBIAN: &str = "/usr/lib/wine/wine64";

/// Where Debian's Wine keeps its own Windows programs and DLLs (`cmd.exe`,
/// the script hosts …), PE images.
pub const DEBIAN_WINDOWS_DIR: &str = "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows";

/// The MinGW-w64 cross-compiler the PE programs are built with.
pub const MINGW: &str = "x86_64-w64-mingw32-gcc";

/// The message the enlightened Wine prints when it refuses `label`.
pub fn denial(label: impl AsRef<OsStr>, reason: &str) -> String {
    mayexec_testkit::interp::denial("wine", label, reason)
}

/// A program that prints its first argument, or `hello from x`.
pub const HELLO: &str = r#"#include <stdio.h>
int main(int argc, char **argv)
{
    printf("%s\n", argc > 1 ? argv[1] : "hello from x");
    return 0;
}
"#;

/// A program that loads the DLL its first argument names and calls its
/// `answer`: `loaded 42`, or `LoadLibrary failed: ERROR` (exit status 1).
pub const LOADLIB: &str = r#"#include <windows.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    HMODULE module;
    int (*answer)(void);

    if (argc < 2) return 2;
    if (!(module = LoadLibraryA(argv[1])))
    {
        printf("LoadLibrary failed: %lu\n", GetLastError());
        return 1;
    }
    answer = (int (*)(void))GetProcAddress(module, "answer");
    printf("loaded %d\n", answer ? answer() : -1);
    return 0;
}
"#;

/// A DLL whose `answer` is 42.
pub const ANSWER: &str = r#"__declspec(dllexport) int answer(void)
{
    return 42;
}
"#;

/// The PE programs the tests run, built once per test process.
#[derive(Debug)]
pub struct Programs {
    /// `hello.exe` ([`HELLO`]).
    pub hello: Vec<u8>,
    /// `loadlib.exe` ([`LOADLIB`]).
    pub loadlib: Vec<u8>,
    /// `answer.dll` ([`ANSWER`]).
    pub answer: Vec<u8>,
}

/// Where the tests keep their Wine prefix and programs.
pub fn test_dir() -> PathBuf {
    workspace_root().join("target/wine-build/tests")
}

fn compile(dir: &Path, name: &str, source: &str, extra: &[&str]) -> Vec<u8> {
    let c = dir.join(format!("{name}.c"));
    fs::write(&c, source).expect("write a C source");
    let out = dir.join(name);
    let status = Command::new(MINGW)
        .args(["-O2", "-o"])
        .arg(&out)
        .arg(&c)
        .args(extra)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {MINGW} (gcc-mingw-w64-x86-64): {e}"));
    assert!(status.success(), "{MINGW} failed on {name}");
    fs::read(&out).expect("read the PE file")
}

impl Programs {
    /// Compiles them (once per process).
    pub fn get() -> &'static Programs {
        static PROGRAMS: OnceLock<Programs> = OnceLock::new();
        PROGRAMS.get_or_init(|| {
            let dir = test_dir().join(format!("build-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).expect("mkdir the PE build directory");
            let programs = Programs {
                hello: compile(&dir, "hello.exe", HELLO, &[]),
                loadlib: compile(&dir, "loadlib.exe", LOADLIB, &[]),
                answer: compile(&dir, "answer.dll", ANSWER, &["-shared"]),
            };
            let _ = fs::remove_dir_all(&dir);
            programs
        })
    }
}

/// The Wine prefix every test uses, made once (by Debian's Wine, with no
/// policy) and kept, and a wineserver kept running for the test process.
#[derive(Debug)]
pub struct Fixture {
    /// `WINEPREFIX`.
    pub prefix: PathBuf,
    /// A directory on an exec filesystem with the programs, mode 0755:
    /// `loadlib.exe` runs from here.
    pub bin: PathBuf,
    _server: Child,
    _keeper: Child,
}

impl Fixture {
    /// The fixture (made once per process).
    pub fn get() -> &'static Fixture {
        static FIXTURE: OnceLock<Fixture> = OnceLock::new();
        FIXTURE.get_or_init(|| {
            let dir = test_dir();
            fs::create_dir_all(&dir).expect("mkdir target/wine-build/tests");
            let prefix = dir.join("prefix");
            if !prefix.join(".complete").is_file() {
                let _ = fs::remove_dir_all(&prefix);
                let out = Command::new(DEBIAN)
                    .args(["wineboot", "--init"])
                    .env("WINEPREFIX", &prefix)
                    .env("WINEDEBUG", "-all")
                    .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
                    .stdin(Stdio::null())
                    .output()
                    .expect("run Debian's wine wineboot");
                assert!(
                    out.status.success(),
                    "wineboot --init failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                // wineboot returns before the server has written the
                // registry: wait for it.
                let status = Command::new("/usr/lib/wine/wineserver64")
                    .arg("-w")
                    .env("WINEPREFIX", &prefix)
                    .status()
                    .expect("run wineserver -w");
                assert!(status.success(), "wineserver -w failed");
                fs::write(prefix.join(".complete"), "").expect("mark the prefix complete");
            }
            // One server for every test, started here in the test
            // process's mount namespace (a server started inside a
            // sandbox's namespace would not see the mounts of later tests)
            // and kept for a minute after the last client. It runs in
            // the foreground: not waited for. (If one runs already, this
            // one leaves.)
            let server = Command::new("/usr/lib/wine/wineserver64")
                .arg("-p60")
                .env("WINEPREFIX", &prefix)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .expect("start wineserver");
            // And a client that lives as long as the test process (a
            // `cmd` reading a pipe that closes when the process ends): the
            // first client of a server starts Wine's system processes
            // (services.exe, winedevice.exe …), which live until the last
            // client leaves and would otherwise inherit, and hold open, the
            // output pipes of whichever test ran first.
            let keeper = Command::new(DEBIAN)
                .arg("cmd")
                .env("WINEPREFIX", &prefix)
                .env("WINEDEBUG", "-all")
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start Wine's keeper");
            let bin = dir.join(format!("bin-{}", std::process::id()));
            let _ = fs::remove_dir_all(&bin);
            fs::create_dir_all(&bin).expect("mkdir the programs' directory");
            fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).expect("chmod");
            let programs = Programs::get();
            for (name, bytes) in [
                ("hello.exe", &programs.hello),
                ("loadlib.exe", &programs.loadlib),
                ("answer.dll", &programs.answer),
            ] {
                mayexec_testkit::write_file(&bin.join(name), bytes, 0o755);
            }
            Fixture {
                prefix,
                bin,
                _server: server,
                _keeper: keeper,
            }
        })
    }

    /// `make(wine)` with the prefix and a quiet Wine: add Wine's
    /// arguments.
    pub fn command(&self, wine: &OsStr, make: &dyn Fn(&OsStr) -> Command) -> Command {
        let mut cmd = make(wine);
        cmd.env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        cmd
    }

    /// Runs `cmd` to its end, its output through files rather than pipes:
    /// Wine's system processes (`explorer.exe /desktop`, `services.exe`
    /// …) that a command starts inherit its output and outlive it, and
    /// would hold a pipe open for as long as the server lives.
    pub fn outcome(cmd: &mut Command) -> Outcome {
        let dir = mayexec_testkit::TempDir::new();
        let out = fs::File::create(dir.path().join("stdout")).expect("create stdout file");
        let err = fs::File::create(dir.path().join("stderr")).expect("create stderr file");
        let status = match cmd.stdout(out).stderr(err).status() {
            Ok(status) => status,
            Err(e) => {
                return Outcome {
                    exit: Exit::NotStarted(e.raw_os_error().unwrap_or(-1)),
                    stdout: String::new(),
                    stderr: e.to_string(),
                }
            }
        };
        let read = |name: &str| fs::read(dir.path().join(name)).expect("read the output");
        Outcome::from_output(std::process::Output {
            status,
            stdout: read("stdout"),
            stderr: read("stderr"),
        })
    }

    /// `loadlib.exe`.
    pub fn loadlib(&self) -> PathBuf {
        self.bin.join("loadlib.exe")
    }
}

/// `path` as Windows names it through Wine's `Z:` drive.
pub fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}
