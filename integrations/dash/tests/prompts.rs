//! dash's own prompts: a script that turns itself interactive (`set -i`)
//! and reads a two-line command makes dash print `PS1` and `PS2` while it
//! reads the rest of the file. Imported ones, which expand command
//! substitutions, run no code under deny-interactive (dash's defaults come
//! back) and run as with stock dash without a policy. (`PS4`, and the
//! policy file's log of imported prompts, are the conformance suite's.)

use std::path::Path;
use std::process::Command;

use mayexec_dash::DASH;
use mayexec_testkit::conformance::mayexec_run;
use mayexec_testkit::interp::{Exit, Outcome};
use mayexec_testkit::{root_test, TempDir, Tmpfs};

#[root_test]
fn prompts_of_a_script_that_makes_itself_interactive() {
    let Some((dash, stock)) =
        DASH.require_both("prompts_of_a_script_that_makes_itself_interactive")
    else {
        return;
    };
    let exec = Tmpfs::exec();
    let script = exec.write("prompted.sh", "set -i\necho \"a\nb\"\n", 0o755);
    let traces = TempDir::new();
    let trace = |name: &str| traces.path().join(name);
    let run = |mut cmd: Command| {
        for name in ["PS1", "PS2"] {
            cmd.env(name, format!("$(touch {})+ ", trace(name).display()));
        }
        let got = Outcome::of(cmd.arg(&script));
        let ran: Vec<&str> = ["PS1", "PS2"]
            .into_iter()
            .filter(|name| std::fs::remove_file(trace(name)).is_ok())
            .collect();
        (got, ran)
    };
    let (got, ran) = run(mayexec_run("-i", &dash));
    assert_eq!(got.exit, Exit::Code(0), "set -i: {got}");
    assert_eq!(got.stdout, "a\nb\n", "set -i");
    assert_eq!(
        got.stderr, "# > # \n",
        "set -i: the default prompts of root"
    );
    assert_eq!(ran, Vec::<&str>::new(), "set -i");

    for shell in [dash.as_path(), Path::new(&stock)] {
        let (got, ran) = run(Command::new(shell));
        assert_eq!(got.stdout, "a\nb\n", "{}: {got}", shell.display());
        assert_eq!(ran, ["PS1", "PS2"], "{}", shell.display());
    }
}
