//! The conformance suite every interpreter owes, for perl
//! (`mayexec_testkit::conformance`).

mayexec_testkit::conformance_suite!(perl: mayexec_perl::PERL);
