//! The policy file's trust rule inside real user namespaces: owners are
//! judged as the host sees them. A root an unprivileged user built (owned by
//! their namespace's uid 0) is not trusted, even after `chroot` into it; the
//! host's root-owned policy, seen as the overflow uid in a rootless
//! namespace, is.
//!
//! Each case re-runs this test binary under `unshare` (a user namespace
//! needs a single-threaded process, which a test thread is not): the helper
//! test `policy_as_seen_in_this_namespace` loads the policy there and prints
//! what it got.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use mayexec::policy::{PolicyError, SystemPolicy};
use mayexec_testkit::{give_to, require_unprivileged_userns, root_test, TempDir, NOBODY};

const POLICY_VAR: &str = "MAYEXEC_USERNS_TEST_POLICY";
const CHROOT_VAR: &str = "MAYEXEC_USERNS_TEST_CHROOT";
const POLICY: &str = "interpreted_access = 3\ndeny_interactive = true\n";

/// The helper: run only by the tests below, inside a namespace.
#[test]
#[ignore = "helper: the tests below run it inside a user namespace"]
fn policy_as_seen_in_this_namespace() {
    let Some(policy) = std::env::var_os(POLICY_VAR) else {
        // Run directly (--include-ignored): it is only a helper.
        eprintln!("policy_as_seen_in_this_namespace: a helper, run by the tests below");
        return;
    };
    if let Some(root) = std::env::var_os(CHROOT_VAR) {
        std::os::unix::fs::chroot(&root).expect("chroot into the home-made root");
        std::env::set_current_dir("/").expect("chdir /");
    }
    let uid_map = fs::read_to_string("/proc/self/uid_map").unwrap_or_else(|e| format!("{e}"));
    println!("uid_map: {}", uid_map.trim());
    let outcome = match SystemPolicy::load_from(Path::new(&policy)) {
        Ok(Some(p)) => format!(
            "trusted: interpreted_access={} deny_interactive={}",
            p.interpreted_access.as_u8(),
            p.deny_interactive
        ),
        Ok(None) => "none".to_owned(),
        Err(PolicyError::Untrusted { fault, .. }) => {
            format!(
                "untrusted: {:?} at {}: {fault}",
                fault.kind,
                fault.path.display()
            )
        }
        Err(e) => format!("error: {e}"),
    };
    println!("outcome: {outcome}");
}

/// Runs the helper through `prefix` (an `unshare …` command line, maybe
/// behind `setpriv`), and returns its `outcome:` line.
fn outcome(prefix: &[&str], policy: &Path, chroot: Option<&Path>) -> String {
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = Command::new(prefix[0]);
    cmd.args(&prefix[1..])
        .arg(&exe)
        .args([
            "--ignored",
            "--exact",
            "policy_as_seen_in_this_namespace",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(POLICY_VAR, policy);
    if let Some(root) = chroot {
        cmd.env(CHROOT_VAR, root);
    }
    let out = cmd.output().expect("run the helper under unshare");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{prefix:?}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("outcome: "))
        .unwrap_or_else(|| panic!("no outcome in\n{stdout}"))
        .to_owned()
}

fn mkdir(path: &Path, uid: u32) -> PathBuf {
    fs::create_dir(path).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    give_to(path, uid, uid);
    path.to_owned()
}

/// A root `nobody` built: `root/etc/mayexec.conf` (no policy in it: a
/// level-0 file) and an empty `root/proc`, all owned by nobody.
fn home_made_root(dir: &TempDir) -> PathBuf {
    let root = mkdir(&dir.path().join("root"), NOBODY);
    mkdir(&root.join("proc"), NOBODY);
    let etc = mkdir(&root.join("etc"), NOBODY);
    let conf = dir.write("root/etc/mayexec.conf", "interpreted_access = 0\n", 0o644);
    give_to(&conf, NOBODY, NOBODY);
    let _ = etc;
    root
}

/// `setpriv` to nobody, then `unshare -Urm` (nobody becomes the
/// namespace's uid 0), `/proc` bound into the home-made root so the library
/// can read the namespace, then the helper (which chroots).
fn as_nobody_in_own_root(nested: bool, root: &Path) -> Vec<String> {
    in_own_root(nested, root, "")
}

/// The same, with `setup` (shell, `$0` is the root) run before the helper.
fn in_own_root(nested: bool, root: &Path, setup: &str) -> Vec<String> {
    let mut prefix: Vec<String> = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--",
        "unshare",
        "-Urm",
    ]
    .map(String::from)
    .to_vec();
    if nested {
        prefix.extend(["unshare", "-Urm"].map(String::from));
    }
    prefix.extend(
        [
            "sh",
            "-c",
            &format!("{setup} mount --rbind /proc \"$0/proc\" && exec \"$@\""),
            &root.to_string_lossy(),
        ]
        .map(|s| s.to_string()),
    );
    prefix
}

#[root_test]
fn a_root_built_by_an_unprivileged_user_is_not_trusted_after_chroot() {
    if !require_unprivileged_userns(
        "a_root_built_by_an_unprivileged_user_is_not_trusted_after_chroot",
    ) {
        return;
    }
    let dir = TempDir::new();
    let root = home_made_root(&dir);
    for nested in [false, true] {
        let prefix = as_nobody_in_own_root(nested, &root);
        let prefix: Vec<&str> = prefix.iter().map(String::as_str).collect();
        let got = outcome(&prefix, Path::new("/etc/mayexec.conf"), Some(&root));
        assert!(
            got.starts_with("untrusted: OwnedInUserNamespace at /etc/mayexec.conf:"),
            "nested={nested}: the user's own root must not pass as the system's: {got}"
        );
    }
}

#[root_test]
fn the_hosts_root_owned_policy_is_trusted_in_a_rootless_namespace() {
    if !require_unprivileged_userns(
        "the_hosts_root_owned_policy_is_trusted_in_a_rootless_namespace",
    ) {
        return;
    }
    let dir = TempDir::new();
    let policy = dir.write("mayexec.conf", POLICY, 0o644);
    // nobody's namespace: host root's files show as the overflow uid.
    let got = outcome(
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            "unshare",
            "-Ur",
        ],
        &policy,
        None,
    );
    assert_eq!(got, "trusted: interpreted_access=3 deny_interactive=true");
    // Root's namespace mapping root to root: unchanged.
    let got = outcome(
        &["unshare", "-U", "--map-user=0", "--map-group=0"],
        &policy,
        None,
    );
    assert_eq!(got, "trusted: interpreted_access=3 deny_interactive=true");
}

#[root_test]
fn a_writable_overflow_owned_policy_is_not_trusted_in_a_rootless_namespace() {
    if !require_unprivileged_userns(
        "a_writable_overflow_owned_policy_is_not_trusted_in_a_rootless_namespace",
    ) {
        return;
    }
    let dir = TempDir::new();
    let policy = dir.write("mayexec.conf", POLICY, 0o666);
    let got = outcome(
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            "unshare",
            "-Ur",
        ],
        &policy,
        None,
    );
    assert!(got.starts_with("untrusted: Writable at "), "{got}");
}

#[root_test]
fn a_rootless_namespace_without_a_policy_file_has_no_policy() {
    if !require_unprivileged_userns("a_rootless_namespace_without_a_policy_file_has_no_policy") {
        return;
    }
    let dir = TempDir::new();
    let root = home_made_root(&dir);
    fs::remove_file(root.join("etc/mayexec.conf")).unwrap();
    // In the user's own root, a missing file is no policy, not an error: its
    // owner could have removed the file anyway.
    let prefix = as_nobody_in_own_root(false, &root);
    let prefix: Vec<&str> = prefix.iter().map(String::as_str).collect();
    assert_eq!(
        outcome(&prefix, Path::new("/etc/mayexec.conf"), Some(&root)),
        "none"
    );
}

#[root_test]
fn a_rootless_container_obeys_the_hosts_policy_bind_mounted_into_it() {
    if !require_unprivileged_userns(
        "a_rootless_container_obeys_the_hosts_policy_bind_mounted_into_it",
    ) {
        return;
    }
    let dir = TempDir::new();
    let root = home_made_root(&dir);
    let host_policy = dir.write("host-mayexec.conf", POLICY, 0o644);
    // The container's / and /etc are its owner's; the file is the host's.
    let setup = format!(
        "mount --bind '{}' \"$0/etc/mayexec.conf\" &&",
        host_policy.display()
    );
    let prefix = in_own_root(false, &root, &setup);
    let prefix: Vec<&str> = prefix.iter().map(String::as_str).collect();
    assert_eq!(
        outcome(&prefix, Path::new("/etc/mayexec.conf"), Some(&root)),
        "trusted: interpreted_access=3 deny_interactive=true"
    );
}
