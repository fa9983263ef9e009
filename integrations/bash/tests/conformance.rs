//! The conformance suite every interpreter owes, for bash
//! (`mayexec_testkit::conformance`).

mayexec_testkit::conformance_suite!(bash: mayexec_bash::BASH, shell);
