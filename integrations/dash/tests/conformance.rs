//! The conformance suite every interpreter owes, for dash
//! (`mayexec_testkit::conformance`).

mayexec_testkit::conformance_suite!(dash: mayexec_dash::DASH, shell);
