//! The conformance suite every interpreter owes, for `busybox sh` and
//! `busybox ash` (`mayexec_testkit::conformance`).

mayexec_testkit::conformance_suite!(sh: mayexec_busybox::SH, shell);
mayexec_testkit::conformance_suite!(ash: mayexec_busybox::ASH, shell);
