//! With no enforcement in force, mayexec-python is indistinguishable from
//! the `python3` it embeds: the same output, errors and exit status for
//! the same command line, environment and input.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::*;
use mayexec_testkit::{root_test, TempDir};

/// The probe: what a program can see of how it was started.
const PROBE: &str = r#"import sys
print("argv", sys.argv)
print("orig_argv", sys.orig_argv[1:])
print("file", globals().get("__file__"))
print("name", __name__, type(globals().get("__loader__")).__name__)
print("spec", getattr(globals().get("__spec__"), "name", None))
print("path0", sys.path[0] if sys.path else None)
print("path", sys.path[1:])
print("flags", sys.flags)
print("prefix", sys.prefix, sys.base_prefix, sys.exec_prefix, sys.platlibdir)
print("stdio", sys.stdin.encoding, sys.stdout.encoding, sys.stdout.line_buffering)
print("warnoptions", sys.warnoptions, sys._xoptions)
"#;

struct Case<'a> {
    args: Vec<&'a OsStr>,
    stdin: Option<&'a Path>,
    env: Vec<(&'a str, &'a str)>,
}

fn case<'a>(args: &[&'a str]) -> Case<'a> {
    Case {
        args: args.iter().map(|a| OsStr::new(*a)).collect(),
        stdin: None,
        env: Vec::new(),
    }
}

fn run(python: &Path, case: &Case<'_>, cwd: &Path) -> Output {
    let mut cmd = Command::new(python);
    cmd.args(&case.args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", cwd)
        .env("LC_ALL", "C.UTF-8");
    for (key, value) in &case.env {
        cmd.env(key, value);
    }
    match case.stdin {
        Some(path) => cmd.stdin(fs::File::open(path).unwrap()),
        None => cmd.stdin(Stdio::null()),
    };
    cmd.output().unwrap()
}

/// Runs the case with both interpreters and compares everything, with the
/// interpreter's own path written `PYTHON` in both.
fn same(case: Case<'_>, cwd: &Path) {
    let theirs = run(&reference_python(), &case, cwd);
    let ours = run(&mayexec_python(), &case, cwd);
    let normalize = |out: &Output, exe: &Path| {
        let text = |b: &[u8]| String::from_utf8_lossy(b).replace(exe.to_str().unwrap(), "PYTHON");
        (
            out.status.code(),
            out.status.signal(),
            text(&out.stdout),
            text(&out.stderr),
        )
    };
    let (theirs, ours) = (
        normalize(&theirs, &reference_python()),
        normalize(&ours, &mayexec_python()),
    );
    assert_eq!(
        ours, theirs,
        "{:?}: mayexec-python (left) and python3 (right) differ",
        case.args
    );
}

struct Tree {
    dir: TempDir,
}

impl Tree {
    fn new() -> Tree {
        let dir = TempDir::new();
        let p = |name: &str| dir.path().join(name);
        let exit_probe = format!("{PROBE}import sys\nsys.exit(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 0)\n");
        write(&p("probe.py"), &exit_probe, 0o644);
        write(&p("probemod.py"), PROBE, 0o644);
        fs::create_dir_all(p("pkg")).unwrap();
        write(&p("pkg/__init__.py"), "", 0o644);
        write(&p("pkg/__main__.py"), PROBE, 0o644);
        fs::create_dir_all(p("app")).unwrap();
        write(&p("app/__main__.py"), PROBE, 0o644);
        fs::create_dir_all(p("sub/deeper")).unwrap();
        std::os::unix::fs::symlink(p("probe.py"), p("sub/abs-link.py")).unwrap();
        std::os::unix::fs::symlink("../probe.py", p("sub/rel-link.py")).unwrap();
        std::os::unix::fs::symlink("deeper/../../probe.py", p("sub/dir-link.py")).unwrap();
        write(
            &p("skip.py"),
            "this line is not Python\nimport sys; print(sys.argv)\n",
            0o644,
        );
        write(
            &p("fails.py"),
            "import sys\nprint('before')\nraise ValueError('boom')\n",
            0o644,
        );
        write(&p("message.py"), "raise SystemExit('goodbye')\n", 0o644);
        write(
            &p("interrupt.py"),
            "print('x', flush=True)\nraise KeyboardInterrupt\n",
            0o644,
        );
        write(&p("hardexit.py"), "import os\nos._exit(7)\n", 0o644);
        write(&p("syntax.py"), "def f(:\n", 0o644);
        write(
            &p("startup.py"),
            "print('startup ran')\nSTARTED = 1\n",
            0o644,
        );
        write(
            &p("commands.txt"),
            "print('typed', STARTED if 'STARTED' in dir() else None)\nraise SystemExit(5)\n",
            0o644,
        );
        // (Not inspect.py: the tree is sys.path[0], and 3.14's zipfile
        // imports the standard `inspect`.)
        write(
            &p("inspected.py"),
            "import sys\nprint('script')\nsys.exit(4)\n",
            0o644,
        );
        fs::create_dir_all(p("nomain")).unwrap();
        let out = Command::new(reference_python())
            .args(["-c", "import py_compile, zipfile, sys\npy_compile.compile('probe.py', cfile='compiled.pyc', doraise=True)\nwith zipfile.ZipFile('app.pyz', 'w') as z: z.write('app/__main__.py', '__main__.py')\n"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", describe(&out));
        fs::copy(p("compiled.pyc"), p("compiled.bin")).unwrap();
        Tree { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

#[root_test]
fn scripts_modules_packages_and_zip_apps_see_the_same_start() {
    let tree = Tree::new();
    let cwd = tree.path();
    let abs = cwd.join("probe.py");
    let abs = abs.to_str().unwrap();
    for args in [
        vec![abs, "a", "b"],
        vec!["probe.py", "a", "b"],
        vec!["./probe.py"],
        vec!["sub/abs-link.py"],
        vec!["sub/rel-link.py"],
        vec!["sub/dir-link.py"],
        vec!["-m", "probemod", "x", "-y"],
        vec!["-m", "pkg", "arg"],
        vec!["app"],
        vec!["app/"],
        vec!["app.pyz", "z"],
        vec!["compiled.pyc", "c"],
        vec!["compiled.bin"],
        vec!["-x", "skip.py", "s"],
        vec!["-c", PROBE, "c1", "c2"],
        vec!["-I", "probe.py"],
        vec!["-E", "-s", "-S", "-B", "probe.py"],
        vec!["-O", "-u", "probe.py"],
        vec!["-OO", "-P", "probe.py"],
        vec!["-W", "error::DeprecationWarning", "-X", "dev", "probe.py"],
        vec!["-X", "utf8", "-X", "frozen_modules=off", "-m", "probemod"],
        vec!["-q", "-b", "-d", "probe.py"],
    ] {
        same(case(&args), cwd);
    }
    // Debug allocators from the environment: the hooks are installed after
    // pre-initialisation chose them, and freed with them.
    for malloc in ["debug", "malloc_debug", "malloc"] {
        let mut c = case(&["probe.py"]);
        c.env = vec![("PYTHONMALLOC", malloc)];
        same(c, cwd);
    }
}

#[root_test]
fn standard_input_is_read_as_python3_reads_it() {
    let tree = Tree::new();
    let cwd = tree.path();
    let probe = cwd.join("probe.py");
    for args in [vec![], vec!["-"], vec!["-", "a", "b"], vec!["-u"]] {
        let mut c = case(&args);
        c.stdin = Some(&probe);
        same(c, cwd);
    }
}

#[root_test]
fn exit_statuses_and_errors_are_python3s() {
    let tree = Tree::new();
    let cwd = tree.path();
    for args in [
        vec!["probe.py", "3"],
        vec!["probe.py", "0"],
        vec!["message.py"],
        vec!["fails.py"],
        vec!["interrupt.py"],
        vec!["hardexit.py"],
        vec!["syntax.py"],
        vec!["-c", "def f(:"],
        vec!["-c", "import sys; sys.exit(9)"],
        // From 3.14 on the command is dedented (as textwrap.dedent), and
        // a traceback shows its lines (linecache): an indented command
        // runs, blank and whitespace-only lines kept, the common
        // indentation of tabs and spaces only.
        vec![
            "-c",
            "\n    import sys\n  \n    if sys:\n        print(sys.argv)\n    1/0\n",
        ],
        vec!["-c", "\t\tprint('tabs')\n\t\tprint(1)\n \t"],
        vec!["-c", "  \t x = 1\n  \t print(x)\n    y = 2"],
        vec![
            "-c",
            "    def f():\n        raise ValueError('deep')\n    f()",
        ],
        vec!["-m", "no_such_module"],
        vec!["nomain"],
        vec!["missing.py"],
        vec!["-V"],
        vec!["-VV"],
        vec!["--version"],
        vec!["-h"],
        vec!["--bad-option"],
        vec!["-X"],
        vec!["-c"],
        vec!["-m"],
    ] {
        same(case(&args), cwd);
    }
    // The unhandled KeyboardInterrupt kills the process with SIGINT.
    let out = run(&mayexec_python(), &case(&["interrupt.py"]), cwd);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGINT),
        "{}",
        describe(&out)
    );
}

#[root_test]
fn inspect_mode_and_pythonstartup_behave_as_in_python3() {
    let tree = Tree::new();
    let cwd = tree.path();
    let commands = cwd.join("commands.txt");
    let startup = cwd.join("startup.py");
    for (args, env) in [
        // -i after a script: SystemExit does not exit, the prompt reads stdin.
        (vec!["-i", "inspected.py"], vec![]),
        (vec!["-i", "-c", "print('c')"], vec![]),
        (
            vec!["-i"],
            vec![("PYTHONSTARTUP", startup.to_str().unwrap())],
        ),
        (
            vec!["-i", "-E"],
            vec![("PYTHONSTARTUP", startup.to_str().unwrap())],
        ),
        (vec!["inspected.py"], vec![("PYTHONINSPECT", "1")]),
    ] {
        let mut c = case(&args);
        c.stdin = Some(&commands);
        c.env = env;
        same(c, cwd);
    }
}

#[root_test]
fn python_dash_m_pip_and_json_tool_work() {
    let tree = Tree::new();
    let cwd = tree.path();
    write(&cwd.join("doc.json"), "{\"b\": [1, 2], \"a\": null}", 0o644);
    same(case(&["-m", "pip", "--version"]), cwd);
    same(case(&["-m", "json.tool", "--sort-keys", "doc.json"]), cwd);
}

#[root_test]
fn a_venv_whose_python_is_mayexec_python_is_a_venv() {
    let tree = Tree::new();
    let cwd = tree.path();
    let venv = cwd.join("venv");
    // A venv made by python3, its python then pointed at mayexec-python.
    let out = Command::new(reference_python())
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    std::os::unix::fs::symlink(mayexec_python(), venv.join("bin/mx")).unwrap();
    let show =
        "import sys; print(sys.prefix, sys.base_prefix, sys.exec_prefix, sys.executable, sys.path)";
    let theirs = Command::new(venv.join("bin/python"))
        .args(["-c", show])
        .output()
        .unwrap();
    let ours = Command::new(venv.join("bin/mx"))
        .args(["-c", show])
        .output()
        .unwrap();
    assert!(ours.status.success(), "{}", describe(&ours));
    assert_eq!(
        stdout(&ours).replace("/bin/mx", "/bin/python"),
        stdout(&theirs)
    );
    assert!(stdout(&ours).starts_with(&format!("{} ", venv.display())));

    // A venv made by mayexec-python: its python is mayexec-python.
    let made = cwd.join("made");
    let out = Command::new(mayexec_python())
        .args(["-m", "venv", "--without-pip"])
        .arg(&made)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        fs::canonicalize(made.join("bin/python")).unwrap(),
        fs::canonicalize(mayexec_python()).unwrap()
    );
    let out = Command::new(made.join("bin/python"))
        .args([
            "-c",
            "import sys; print(sys.prefix == sys.base_prefix, sys.prefix)",
        ])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), format!("False {}\n", made.display()));
}
