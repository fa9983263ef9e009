//! "A drop-in for /usr/bin/perl": the enlightened perl uses the system's
//! @INC and configuration, loads the system's XS modules, and real programs
//! of this machine give the same output, messages and status under it as
//! under /usr/bin/perl — pod2man, perldoc, prove, json_pp,
//! dpkg-parsechangelog, and the Test::More suite of an installed module —
//! without a policy, under deny-interactive, and under policy level 1
//! (noexec mounts only), where the system's files pass the check.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mayexec_perl::{BUILT, STOCK_PERL};
use mayexec_testkit::interp::{workspace_root, Outcome};
use mayexec_testkit::{root_test, workspace_bin, Sandbox, Tmpfs};

/// How a program is run: plain, `mayexec run -i`, or under policy level 1.
#[derive(Debug, Clone, Copy)]
enum Under {
    Nothing,
    DenyInteractive,
    Level1,
}

const UNDER: [Under; 3] = [Under::Nothing, Under::DenyInteractive, Under::Level1];

/// `PERL ARGS…` with a clean environment in `dir`.
fn run(perl: &Path, args: &[&str], dir: &Path, under: Under, stdin: Option<&str>) -> Outcome {
    let sandbox = Sandbox::new().policy("interpreted_access = 1\n");
    let mut cmd = match under {
        Under::Nothing => Command::new(perl),
        Under::DenyInteractive => {
            let mut cmd = Command::new(workspace_bin("mayexec"));
            cmd.args(["run", "-i", "--"]).arg(perl);
            cmd
        }
        Under::Level1 => sandbox.command(perl),
    };
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
        .env("HOME", dir)
        .env("TMPDIR", "/tmp")
        .env("LC_ALL", "C")
        .env("PAGER", "cat");
    match stdin {
        None => Outcome::of(&mut cmd),
        Some(input) => {
            use std::io::Write;
            let mut child = cmd
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start perl");
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("write stdin");
            Outcome::from_output(child.wait_with_output().expect("wait"))
        }
    }
}

/// Lines that tell the time a run took, which no two runs share.
fn timeless(outcome: Outcome) -> Outcome {
    let strip = |text: &str| {
        text.lines()
            .filter(|line| !line.contains("wallclock secs"))
            .map(|line| format!("{line}\n"))
            .collect::<String>()
    };
    Outcome {
        exit: outcome.exit,
        stdout: strip(&outcome.stdout),
        stderr: strip(&outcome.stderr),
    }
}

#[root_test]
fn perl_uses_the_systems_inc_configuration_and_xs_modules() {
    let Some(perl) = BUILT.require("perl_uses_the_systems_inc_configuration_and_xs_modules") else {
        return;
    };
    let dir = Tmpfs::exec();
    let code = "use POSIX (); use Data::Dumper (); use Storable (); use List::Util ();\n\
                print join(\"\\n\", @INC), \"\\n\";\n\
                print \"$_ $INC{$_}\\n\" for sort keys %INC;\n\
                open my $maps, '<', '/proc/self/maps' or die $!;\n\
                my %so; while (<$maps>) { $so{$1} = 1 if m{ (/\\S+/auto/\\S+\\.so)$} }\n\
                print \"$_\\n\" for sort keys %so;\n";
    let program = dir.write("inc.pl", code, 0o755);
    let program = program.to_str().expect("UTF-8");
    let ours = run(&perl, &[program], dir.path(), Under::Nothing, None);
    let stock = run(
        Path::new(STOCK_PERL),
        &[program],
        dir.path(),
        Under::Nothing,
        None,
    );
    assert_eq!(ours, stock);
    for so in [
        "auto/POSIX/POSIX.so",
        "auto/Storable/Storable.so",
        "auto/List/Util/Util.so",
    ] {
        assert!(
            ours.stdout.lines().any(
                |line| line.starts_with("/usr/lib/x86_64-linux-gnu/perl") && line.ends_with(so)
            ),
            "{so} from the system's library in {ours}"
        );
    }

    // The configuration perl reports is the system's; so is what perl -V
    // says of the build, but for the patch list and the build date.
    let keys = "-V:archname|version|privlib|archlib|vendorarch|sitearch|useithreads|usemultiplicity|use64bitint|ivsize|nvtype|byteorder|so|dlext";
    let ours = run(&perl, &[keys], dir.path(), Under::Nothing, None);
    assert_eq!(
        ours,
        run(
            Path::new(STOCK_PERL),
            &[keys],
            dir.path(),
            Under::Nothing,
            None
        )
    );
    assert!(
        ours.stdout
            .contains("archname='x86_64-linux-gnu-thread-multi';"),
        "{ours}"
    );
    let options = |perl: &Path| {
        let v = run(perl, &["-V"], dir.path(), Under::Nothing, None);
        let start = v
            .stdout
            .find("Compile-time options:")
            .expect("perl -V lists options");
        let end = v.stdout[start..]
            .find("Locally applied")
            .expect("and patches");
        v.stdout[start..start + end].to_owned()
    };
    assert_eq!(options(&perl), options(Path::new(STOCK_PERL)));
}

#[root_test]
fn the_systems_perl_programs_behave_the_same() {
    let Some(perl) = BUILT.require("the_systems_perl_programs_behave_the_same") else {
        return;
    };
    let dir = Tmpfs::exec();
    let changelog = dir.write(
        "changelog",
        "hello (1.0-2) unstable; urgency=medium\n\n  * A change.\n\n -- A Maintainer <a@example.org>  Mon, 01 Jan 2024 00:00:00 +0000\n\n\
         hello (1.0-1) unstable; urgency=low\n\n  * Initial release.\n\n -- A Maintainer <a@example.org>  Sun, 31 Dec 2023 00:00:00 +0000\n",
        0o644,
    );
    let changelog = changelog.to_str().expect("UTF-8");
    let pod = "/usr/share/perl/5.36/Getopt/Long.pm";
    let cases: [(&[&str], Option<&str>); 7] = [
        (
            &[
                "/usr/bin/pod2man",
                "--date=2024-01-01",
                "--release=r",
                "--center=c",
                pod,
            ],
            None,
        ),
        (&["/usr/bin/pod2text", pod], None),
        (&["/usr/bin/perldoc", "-h"], None),
        (&["/usr/bin/prove", "--help"], None),
        (
            &["/usr/bin/json_pp"],
            Some("{\"a\":[1,2,{\"b\":null}],\"c\":\"d\"}"),
        ),
        (&["/usr/bin/dpkg-parsechangelog", "-l", changelog], None),
        (
            &[
                "/usr/bin/dpkg-parsechangelog",
                "-l",
                changelog,
                "-S",
                "Version",
            ],
            None,
        ),
    ];
    let mut compared = 0;
    for (args, stdin) in cases {
        if !Path::new(args[0]).is_file() {
            eprintln!("skipping {}: not installed", args[0]);
            continue;
        }
        let stock = run(
            Path::new(STOCK_PERL),
            args,
            dir.path(),
            Under::Nothing,
            stdin,
        );
        // (perldoc without the perl-doc package only says so, on stderr.)
        assert!(
            !(stock.stdout.is_empty() && stock.stderr.is_empty()),
            "{args:?} printed nothing with {STOCK_PERL}: {stock}"
        );
        for under in UNDER {
            let ours = run(&perl, args, dir.path(), under, stdin);
            assert_eq!(ours, stock, "{args:?} under {under:?}");
        }
        compared += 1;
    }
    assert!(compared >= 5, "only {compared} programs compared");
}

/// The Test::More suites of modules installed on this machine, from
/// Debian's perl source (the tests the installed modules came with), run
/// by prove with each perl.
#[root_test]
fn test_more_suites_of_installed_modules_give_the_same_results() {
    let Some(perl) = BUILT.require("test_more_suites_of_installed_modules_give_the_same_results")
    else {
        return;
    };
    let source: PathBuf = workspace_root().join("target/perl-build/debian-src");
    for suite in [
        "cpan/JSON-PP/t",
        "cpan/Scalar-List-Utils/t",
        "cpan/Text-Balanced/t",
    ] {
        let tests = source.join(suite);
        assert!(
            tests.is_dir(),
            "{} is missing (integrations/perl/build.sh fetches it)",
            tests.display()
        );
        let dir = tests.parent().expect("the distribution");
        let stock = timeless(run(
            Path::new(STOCK_PERL),
            &["/usr/bin/prove", "t"],
            dir,
            Under::Nothing,
            None,
        ));
        assert!(stock.stdout.ends_with("Result: PASS\n"), "{suite}: {stock}");
        for under in [Under::Nothing, Under::Level1] {
            let ours = timeless(run(&perl, &["/usr/bin/prove", "t"], dir, under, None));
            assert_eq!(ours, stock, "{suite} under {under:?}");
        }
    }
}
