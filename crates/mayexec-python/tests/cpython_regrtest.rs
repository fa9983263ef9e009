//! CPython's own regression tests for the machinery mayexec-python touches
//! (the command line, `runpy`, imports, zip imports, `site`, `.pyc`
//! files), run through mayexec-python and through `python3`: the same
//! tests run, and the same ones fail (none, on this machine, in the fixed
//! environment used here). Once more
//! under a level-1 system policy, which the machine's files all pass.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;
use mayexec_testkit::{root_test, Sandbox, TempDir};

const TESTS: [&str; 10] = [
    "test_cmd_line",
    "test_cmd_line_script",
    "test_runpy",
    "test_import",
    "test_zipimport",
    "test_zipimport_support",
    "test_zipapp",
    "test_site",
    "test_pkgutil",
    "test_py_compile",
];

#[derive(Debug, PartialEq, Eq)]
struct Results {
    /// `Ran N tests` of each module, in order.
    ran: Vec<usize>,
    /// `FAIL: …` and `ERROR: …` lines.
    failed: BTreeSet<String>,
}

fn results(output: &str) -> Results {
    let ran = output
        .lines()
        .filter_map(|l| l.strip_prefix("Ran "))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    let failed = output
        .lines()
        .filter(|l| l.starts_with("FAIL: ") || l.starts_with("ERROR: "))
        .map(str::to_owned)
        .collect();
    Results { ran, failed }
}

fn regrtest(mut cmd: Command, cwd: &Path) -> Results {
    // A fixed environment: PYTHONUNBUFFERED or PYTHONDONTWRITEBYTECODE,
    // say, change what some of these tests expect.
    let out = cmd
        .args(["-m", "test", "-v"])
        .args(TESTS)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", cwd)
        .env("LC_ALL", "C.UTF-8")
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!("{}{}", stdout(&out), stderr(&out));
    let results = results(&text);
    assert_eq!(
        results.ran.len(),
        TESTS.len(),
        "every test module ran\n{}",
        &text[text.len().saturating_sub(3000)..]
    );
    results
}

#[root_test]
fn cpython_regression_tests_give_the_same_results() {
    let lib_test = stdlib_dir().join("test");
    for test in TESTS {
        let module = lib_test.join(format!("{test}.py"));
        assert!(
            module.exists() || lib_test.join(test).is_dir(),
            "{} is missing: CPython's test suite is not installed with the python3 \
             mayexec-python was built against ({}); Debian's python3.X has it in \
             the package libpython3.X-testsuite, a CPython built from source (pyenv) has it",
            module.display(),
            reference_python().display()
        );
    }
    let dir = TempDir::new();
    let baseline = regrtest(Command::new(reference_python()), dir.path());
    eprintln!(
        "python3: {} tests in {} modules, failing: {:?}",
        baseline.ran.iter().sum::<usize>(),
        baseline.ran.len(),
        baseline.failed
    );
    let ours = regrtest(Command::new(mayexec_python()), dir.path());
    assert_eq!(ours, baseline, "mayexec-python (left), python3 (right)");

    let sandbox = Sandbox::new().policy("interpreted_access = 1\n");
    let enforced = regrtest(sandbox.command(mayexec_python()), dir.path());
    assert_eq!(
        enforced, baseline,
        "mayexec-python under level 1 (left), python3 (right)"
    );
}
