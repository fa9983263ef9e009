//! The exec securebits: set, lock, inherited across fork and exec, and a
//! locked bit cannot be cleared. Each test changes credentials, so each runs
//! in a child process of its own.

use std::process::Command;

use mayexec::securebits::{self, SecureBits, SecureBitsError};
use mayexec::{Action, Enforcement, Level};
use mayexec_testkit::workspace_bin;
use rusty_fork::rusty_fork_test;

const RESTRICT: SecureBits = SecureBits::EXEC_RESTRICT_FILE;
const DENY: SecureBits = SecureBits::EXEC_DENY_INTERACTIVE;

fn bits_seen_by_a_child() -> SecureBits {
    let out = Command::new(workspace_bin("mayexec"))
        .args(["status", "--json"])
        .output()
        .expect("run mayexec status");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status --json");
    SecureBits::from_bits_retain(report["securebits"]["raw"].as_u64().expect("raw bits") as u32)
}

rusty_fork_test! {
    #[test]
    fn the_kernel_supports_the_exec_securebits() {
        assert!(securebits::exec_securebits_supported());
        // The probe ran in a thread of its own: this thread is untouched.
        assert_eq!(securebits::current().unwrap() & (RESTRICT | DENY), SecureBits::empty());
    }

    #[test]
    fn enabling_without_lock_sets_the_bits_and_they_can_be_cleared_again() {
        let before = securebits::current().unwrap();
        let after = securebits::enable(RESTRICT | DENY, false).unwrap();
        assert_eq!(after, before | RESTRICT | DENY);
        assert_eq!(securebits::current().unwrap(), after);
        securebits::set(before).unwrap();
        assert_eq!(securebits::current().unwrap(), before);
    }

    #[test]
    fn enabling_with_lock_sets_the_lock_bits_and_a_locked_bit_cannot_be_cleared() {
        let now = securebits::enable(RESTRICT, true).unwrap();
        assert!(now.contains(RESTRICT | SecureBits::EXEC_RESTRICT_FILE_LOCKED));
        assert!(!now.contains(DENY), "only the asked bit");
        let err = securebits::set(now - RESTRICT).unwrap_err();
        assert!(matches!(err, SecureBitsError::Locked { locked } if locked.contains(RESTRICT)), "{err:?}");
        // Clearing the lock itself is refused too.
        let err = securebits::set(now - SecureBits::EXEC_RESTRICT_FILE_LOCKED).unwrap_err();
        assert!(matches!(err, SecureBitsError::Locked { .. }), "{err:?}");
        // An unlocked bit can still be added.
        assert!(securebits::enable(DENY, false).unwrap().contains(DENY));
        assert_eq!(securebits::current().unwrap(), now | DENY);
    }

    #[test]
    fn the_bits_are_inherited_across_fork_and_exec() {
        securebits::enable(RESTRICT | DENY, true).unwrap();
        let seen = bits_seen_by_a_child();
        assert!(seen.contains(RESTRICT | DENY | SecureBits::EXEC_RESTRICT_FILE_LOCKED | SecureBits::EXEC_DENY_INTERACTIVE_LOCKED));
        // And through a shell in between.
        let out = Command::new("sh")
            .arg("-c")
            .arg("exec \"$0\" status --json")
            .arg(workspace_bin("mayexec"))
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["securebits"]["exec_restrict_file_locked"], true);
        assert_eq!(report["enforcement"]["scripts"]["action"], "enforce");
        assert_eq!(report["enforcement"]["interactive"]["action"], "enforce");
    }

    #[test]
    fn restrict_file_means_the_full_check_enforced() {
        securebits::enable(RESTRICT, false).unwrap();
        let enforcement = Enforcement::current().unwrap();
        assert_eq!(enforcement.checker.level(), Level::Full);
        assert_eq!(enforcement.scripts, Action::Enforce);
        assert_eq!(enforcement.interactive, Action::Ignore);
    }
}

#[test]
fn mayexec_run_sets_both_bits_and_their_locks() {
    let out = Command::new(workspace_bin("mayexec"))
        .args(["run", "-f", "-i", "--"])
        .arg(workspace_bin("mayexec"))
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let bits = &report["securebits"];
    for key in [
        "exec_restrict_file",
        "exec_restrict_file_locked",
        "exec_deny_interactive",
        "exec_deny_interactive_locked",
    ] {
        assert_eq!(bits[key], true, "{key}");
    }
    assert_eq!(bits["raw"].as_u64().unwrap() & 0xf00, 0xf00);
}
