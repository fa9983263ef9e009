//! Files perl compiles besides the program, each checked and enforced like
//! the program: AutoLoader's `.al` files, a `.pmc` that `require` prefers
//! to the `.pm`, `do` of a relative path, the debugger's perl5db.pl and
//! PERL5DB, and XS libraries loaded by DynaLoader. A denied file fails like
//! one perl cannot read.
//!
//! The system's own modules are mode 0644: under the full check
//! (`mayexec run -f`, levels 2 and 3) they are denied like any other file,
//! so tests that need them run under policy level 1 (noexec mounts only).

use std::path::{Path, PathBuf};
use std::process::Command;

use mayexec_perl::{denial, strerror, BUILT};
use mayexec_testkit::conformance::assert_one_line;
use mayexec_testkit::interp::{Exit, Outcome};
use mayexec_testkit::{root_test, workspace_bin, write_file, Sandbox, Tmpfs};

/// `mayexec run FLAG -- PROGRAM`.
fn run(flag: &str, program: &Path) -> Command {
    let mut cmd = Command::new(workspace_bin("mayexec"));
    cmd.args(["run", flag, "--"]).arg(program);
    cmd
}

/// Policy level 1: only code on noexec mounts is denied.
fn level1() -> Sandbox {
    Sandbox::new().policy("interpreted_access = 1\n")
}

fn mkdirs(path: &Path) {
    std::fs::create_dir_all(path).expect("mkdir -p");
}

/// `Hello.pm` (0755, in `dir`, with AutoLoader's index next to it) with
/// an AutoLoader'ed `hello`: its `.al` file is `AL/auto/Hello/hello.al`,
/// found through @INC.
fn autoloaded(dir: &Path, al_root: &Path) -> PathBuf {
    write_file(
        &dir.join("Hello.pm"),
        b"package Hello;\nuse AutoLoader 'AUTOLOAD';\n1;\n",
        0o755,
    );
    mkdirs(&dir.join("auto/Hello"));
    write_file(&dir.join("auto/Hello/autosplit.ix"), b"1;\n", 0o755);
    let auto = al_root.join("auto/Hello");
    mkdirs(&auto);
    write_file(
        &auto.join("hello.al"),
        b"package Hello;\nsub hello { print \"autoloaded hello\\n\" }\n1;\n",
        0o755,
    )
}

#[root_test]
fn autoloader_al_files_are_checked() {
    let Some(perl) = BUILT.require("autoloader_al_files_are_checked") else {
        return;
    };
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    let main = exec.write(
        "main.pl",
        format!(
            "BEGIN {{ unshift @INC, \"{}\", \"{}\" }}\nuse Hello;\nHello::hello();\nprint \"after\\n\";\n",
            exec.path().display(),
            noexec.path().display()
        ),
        0o755,
    );
    let al = autoloaded(exec.path(), noexec.path());

    let plain = Outcome::of(Command::new(&perl).arg(&main));
    assert_eq!(plain, Outcome::ran("autoloaded hello\nafter\n"));
    let denied = Outcome::of(level1().command(&perl).arg(&main));
    // AutoLoader dies with its own status (255), not $!.
    assert_eq!(denied.exit, Exit::Code(255), "{denied}");
    assert_eq!(denied.stdout, "");
    let message = format!(
        "Can't locate auto/Hello/hello.al:   {}: {}",
        al.display(),
        strerror(libc::EACCES)
    );
    assert!(
        denied.stderr.starts_with(&message),
        "{message:?} in {denied}"
    );

    // The same .al on an exec mount is loaded under the same policy.
    let exec2 = Tmpfs::exec();
    let main2 = exec2.write(
        "main.pl",
        format!(
            "BEGIN {{ unshift @INC, \"{}\" }}\nuse Hello;\nHello::hello();\n",
            exec2.path().display()
        ),
        0o755,
    );
    autoloaded(exec2.path(), exec2.path());
    assert_eq!(
        Outcome::of(level1().command(&perl).arg(&main2)),
        Outcome::ran("autoloaded hello\n")
    );
}

#[root_test]
fn a_denied_pmc_never_runs_and_require_falls_back_to_the_checked_pm() {
    let Some(perl) =
        BUILT.require("a_denied_pmc_never_runs_and_require_falls_back_to_the_checked_pm")
    else {
        return;
    };
    let exec = Tmpfs::exec();
    exec.write("Mod.pm", "print \"pm ran\\n\";\n1;\n", 0o755);
    exec.write("Mod.pmc", "print \"PMC RAN\\n\";\n1;\n", 0o644);
    let main = exec.write(
        "main.pl",
        format!(
            "BEGIN {{ unshift @INC, \"{}\" }}\nuse Mod;\n",
            exec.path().display()
        ),
        0o755,
    );
    // Without a policy perl prefers the .pmc, as stock perl does.
    assert_eq!(
        Outcome::of(Command::new(&perl).arg(&main)),
        Outcome::ran("PMC RAN\n")
    );
    // Under restrict-file the 0644 .pmc fails as an unreadable one would:
    // perl goes on to the .pm, which passes the check.
    assert_eq!(
        Outcome::of(run("-f", &perl).arg(&main)),
        Outcome::ran("pm ran\n")
    );
}

#[root_test]
fn do_and_require_of_relative_paths_are_checked() {
    let Some(perl) = BUILT.require("do_and_require_of_relative_paths_are_checked") else {
        return;
    };
    let exec = Tmpfs::exec();
    let noexec = Tmpfs::noexec();
    noexec.write("lib.pl", "print \"lib ran\\n\";\n1;\n", 0o755);
    let main = exec.write(
        "main.pl",
        "my $r = do \"./lib.pl\";\nprint defined $r ? \"do ok\\n\" : \"do: $!\\n\";\n\
         eval { require \"./lib.pl\" } or print \"require: $@\";\n",
        0o755,
    );
    let plain = Outcome::of(Command::new(&perl).arg(&main).current_dir(noexec.path()));
    assert_eq!(plain, Outcome::ran("lib ran\ndo ok\n"));
    let denied = Outcome::of(run("-f", &perl).arg(&main).current_dir(noexec.path()));
    assert_eq!(
        denied,
        Outcome::ran(format!(
            "do: {e}\nrequire: Can't locate ./lib.pl:   ./lib.pl: {e} at {} line 3.\n",
            main.display(),
            e = strerror(libc::EACCES)
        ))
    );
}

#[root_test]
fn the_debuggers_file_and_perl5db_code_are_checked() {
    let Some(perl) = BUILT.require("the_debuggers_file_and_perl5db_code_are_checked") else {
        return;
    };
    let exec = Tmpfs::exec();
    let main = exec.write("main.pl", "print \"main ran\\n\";\n", 0o755);

    // perl -d loads perl5db.pl, the system's (0644): restrict-file refuses
    // it as an unreadable file; without a policy the debugger runs.
    let debug = |cmd: &mut Command| {
        Outcome::of(
            cmd.arg("-d")
                .arg(&main)
                .env("PERLDB_OPTS", "NonStop=1")
                .env_remove("PERL5DB"),
        )
    };
    let plain = debug(&mut Command::new(&perl));
    assert_eq!(plain.exit, Exit::Code(0), "{plain}");
    assert!(plain.stdout.contains("main ran\n"), "{plain}");
    let denied = debug(&mut run("-f", &perl));
    assert_ne!(denied.exit, Exit::Code(0), "{denied}");
    assert!(!denied.stdout.contains("main ran"), "{denied}");
    assert!(
        denied.stderr.starts_with("Can't locate perl5db.pl:   ")
            && denied
                .stderr
                .contains(&format!("perl5db.pl: {}", strerror(libc::EACCES))),
        "{denied}"
    );

    // PERL5DB is code from no file: refused under deny-interactive.
    let code = "sub DB::DB {} BEGIN { print \"db code ran\\n\" }";
    let with_perl5db =
        |cmd: &mut Command| Outcome::of(cmd.arg("-d").arg(&main).env("PERL5DB", code));
    assert_eq!(
        with_perl5db(&mut Command::new(&perl)),
        Outcome::ran("db code ran\nmain ran\n")
    );
    assert_eq!(
        with_perl5db(&mut run("-i", &perl)),
        Outcome::refused(denial("PERL5DB", "interactive"))
    );

    // -d:Module writes PERL5DB itself ("use Devel::Module"): the module is
    // a file, checked like any other, and runs under deny-interactive.
    let devel = exec.path().join("Devel");
    mkdirs(&devel);
    write_file(
        &devel.join("Trace0.pm"),
        b"package Devel::Trace0;\nsub DB::DB {}\nprint \"devel loaded\\n\";\n1;\n",
        0o755,
    );
    let dash_d = |cmd: &mut Command| {
        Outcome::of(
            cmd.arg(format!("-I{}", exec.path().display()))
                .arg("-d:Trace0")
                .arg(&main)
                .env_remove("PERL5DB"),
        )
    };
    let want = Outcome::ran("devel loaded\nmain ran\n");
    assert_eq!(dash_d(&mut Command::new(&perl)), want);
    assert_eq!(dash_d(&mut run("-fi", &perl)), want);
}

/// A copy of the system's Fcntl.so in `fs` as `name`.
fn xs_library(fs: &Tmpfs, name: &str, mode: u32) -> PathBuf {
    let system = Path::new("/usr/lib/x86_64-linux-gnu/perl/5.36/auto/Fcntl/Fcntl.so");
    let bytes = std::fs::read(system)
        .unwrap_or_else(|e| panic!("{}: {e} (Debian's perl-base has it)", system.display()));
    fs.write(name, bytes, mode)
}

/// A program that loads `library` with DynaLoader::dl_load_file, what
/// XSLoader and DynaLoader::bootstrap call, and finds Fcntl's boot
/// function in it. DynaLoader's XS part is linked into perl: booting it
/// needs no module file (the system's are 0644, denied by the full check).
fn dl_program(exec: &Tmpfs, library: &Path) -> PathBuf {
    exec.write(
        format!("load-{}.pl", library.file_name().unwrap().to_string_lossy()),
        format!(
            "DynaLoader::boot_DynaLoader(\"DynaLoader\");\n\
             my $h = DynaLoader::dl_load_file(\"{}\", 0);\n\
             if (!$h) {{ my ($e) = DynaLoader::dl_error() =~ /^(.*?) at /s; print \"not loaded: $e\\n\"; exit 0 }}\n\
             my $boot = DynaLoader::dl_find_symbol($h, \"boot_Fcntl\");\n\
             print $boot ? \"loaded\\n\" : \"no boot_Fcntl\\n\";\n",
            library.display()
        ),
        0o755,
    )
}

#[root_test]
fn xs_libraries_are_checked_and_loaded_from_the_checked_file() {
    let Some(perl) = BUILT.require("xs_libraries_are_checked_and_loaded_from_the_checked_file")
    else {
        return;
    };
    // A library on a noexec mount never loads (the kernel refuses to map
    // it executable): the denied one is a 0644 file, under restrict-file.
    let exec = Tmpfs::exec();
    let allowed = xs_library(&exec, "Allowed.so", 0o755);
    let denied = xs_library(&exec, "Denied.so", 0o644);

    for (library, loads) in [(&allowed, true), (&denied, false)] {
        let program = dl_program(&exec, library);
        assert_eq!(
            Outcome::of(Command::new(&perl).arg(&program)),
            Outcome::ran("loaded\n"),
            "no policy, {}",
            library.display()
        );
        let got = Outcome::of(run("-f", &perl).arg(&program));
        let want = if loads {
            Outcome::ran("loaded\n")
        } else {
            Outcome::ran(format!("not loaded: {}\n", strerror(libc::EACCES)))
        };
        assert_eq!(got, want, "mayexec run -f, {}", library.display());
    }

    // Audit mode loads it and logs the would-be denial.
    let sandbox = Sandbox::new()
        .policy("interpreted_access = 3\nmode = \"audit\"\n")
        .capture_syslog();
    let program = dl_program(&exec, &denied);
    assert_eq!(
        Outcome::of(sandbox.command(&perl).arg(&program)),
        Outcome::ran("loaded\n")
    );
    let lines = sandbox.syslog_lines();
    assert_one_line(&lines, denied.display(), "not-executable", "audit");
}

/// Each library is loaded from its own checked descriptor, which is closed
/// once loaded: the next library often gets the same descriptor number.
/// The dynamic linker must load the new file, not hand back the library
/// it loaded before under the same /proc/self/fd/N name.
#[root_test]
fn xs_libraries_loaded_one_after_another_each_get_their_own_code() {
    let Some(perl) = BUILT.require("xs_libraries_loaded_one_after_another_each_get_their_own_code")
    else {
        return;
    };
    let exec = Tmpfs::exec();
    let program = exec.write(
        "many.pl",
        "use Fcntl (); use POSIX (); use Cwd (); use File::Glob (); use List::Util ();\n\
         use Storable (); use Data::Dumper (); use Socket (); use IO ();\n\
         print List::Util::sum(1, 2), \" \", POSIX::floor(2.5), \" \",\n\
         Storable::dclone([7])->[0], \" \", (Cwd::getcwd() eq '/' ? 'cwd' : 'elsewhere'), \"\\n\";\n",
        0o755,
    );
    let want = Outcome::ran("3 2 7 cwd\n");
    let plain = Outcome::of(Command::new(&perl).arg(&program).current_dir("/"));
    assert_eq!(plain, want);
    // The system's libraries pass deny-interactive (files are not judged)
    // and level 1 (they are not on a noexec mount): every one is loaded
    // through the checked-descriptor path.
    assert_eq!(
        Outcome::of(run("-i", &perl).arg(&program).current_dir("/")),
        want
    );
    assert_eq!(
        Outcome::of(level1().command(&perl).arg(&program).current_dir("/")),
        want
    );
}

/// The same library loaded twice is one object, as without a policy:
/// each load passes the dynamic linker a name it never saw, so that it
/// opens the file and shares only that very inode. (Looking for an unused
/// name by asking the linker found the library itself under every name,
/// and gave up: "too many libraries loaded through /proc/self/fd".)
#[root_test]
fn an_xs_library_loaded_twice_is_one_library() {
    let Some(perl) = BUILT.require("an_xs_library_loaded_twice_is_one_library") else {
        return;
    };
    let exec = Tmpfs::exec();
    let library = xs_library(&exec, "Twice.so", 0o755);
    let program = exec.write(
        "twice.pl",
        format!(
            "DynaLoader::boot_DynaLoader(\"DynaLoader\");\n\
             my @h = map {{ DynaLoader::dl_load_file(\"{}\", 0) or die DynaLoader::dl_error() }} 1, 2;\n\
             print $h[0] == $h[1] ? \"one library\\n\" : \"two libraries\\n\";\n",
            library.display()
        ),
        0o755,
    );
    let want = Outcome::ran("one library\n");
    assert_eq!(Outcome::of(Command::new(&perl).arg(&program)), want);
    assert_eq!(Outcome::of(run("-f", &perl).arg(&program)), want);
    assert_eq!(Outcome::of(level1().command(&perl).arg(&program)), want);
}
