//! The audit hook: it runs without the library's lock, so a hook may log
//! again or replace the hook without deadlocking. One test per process
//! state: the hook is process-wide, and this file holds a single test.

use std::ffi::OsStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use mayexec::audit::{self, AuditRecord};
use mayexec::{Backend, Reason};

fn record(path: &str) -> AuditRecord<'_> {
    let mut record = AuditRecord::new(
        OsStr::new(path),
        Reason::NoexecMount,
        Backend::Emulated,
        true,
    );
    record.program = "audit-test";
    record.uid = 0;
    record
}

/// Runs `f` on a thread and fails the test if it has not returned in ten
/// seconds (a deadlocked thread is left behind; the process ends with the
/// test binary).
fn within_ten_seconds(what: &str, f: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = done.send(());
    });
    finished
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("{what}: deadlocked"));
}

#[test]
fn a_hook_may_log_and_replace_the_hook() {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    audit::set_hook(Some(Box::new(move |record: &AuditRecord<'_>| {
        // The first record logs a second one from inside the hook.
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            let mut nested = *record;
            nested.path = OsStr::new("nested");
            let _ = audit::log(&nested);
        }
    })));
    within_ten_seconds("a hook that logs", || {
        audit::log(&record("outer")).expect("hook");
    });
    assert_eq!(seen.load(Ordering::SeqCst), 2, "outer and nested records");

    let replaced = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&replaced);
    audit::set_hook(Some(Box::new(move |_: &AuditRecord<'_>| {
        let counter = Arc::clone(&counter);
        audit::set_hook(Some(Box::new(move |_: &AuditRecord<'_>| {
            counter.fetch_add(1, Ordering::SeqCst);
        })));
    })));
    within_ten_seconds("a hook that replaces the hook", || {
        audit::log(&record("first")).expect("hook");
        audit::log(&record("second")).expect("hook");
    });
    assert_eq!(
        replaced.load(Ordering::SeqCst),
        1,
        "the new hook took the second record"
    );
    audit::set_hook(None);
}
