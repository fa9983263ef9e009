//! BusyBox's own ash test suite (`shell/ash_test`) through the stock and
//! the enlightened build of the same source, without a policy: the same
//! result for every test, and a failing test's diff against its `.right`
//! the same in both (`integrations/busybox/ash-test.sh`).

use std::process::{Command, Stdio};

use mayexec_busybox::{BUILT, STOCK};
use mayexec_testkit::interp::{workspace_root, Exit, Outcome};

#[test]
fn busybox_ash_test_suite_gives_the_same_results_through_both_builds() {
    let test = "busybox_ash_test_suite_gives_the_same_results_through_both_builds";
    let Some(ours) = BUILT.require(test) else {
        return;
    };
    let Some(stock) = STOCK.require(test) else {
        return;
    };
    let script = workspace_root().join("integrations/busybox/ash-test.sh");
    let got = Outcome::of(
        Command::new("sh")
            .arg(&script)
            .arg(&stock)
            .arg(&ours)
            .stdin(Stdio::null()),
    );
    assert_eq!(
        got.exit,
        Exit::Code(0),
        "{}:\n{}{}",
        script.display(),
        got.stdout,
        got.stderr
    );
    assert!(
        got.stdout
            .contains("ash-test: identical results, failures on the same lines"),
        "{}",
        got.stdout
    );
    eprint!("{}", got.stdout);
}
