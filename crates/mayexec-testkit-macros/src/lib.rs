//! `#[root_test]`: a test that needs root (it mounts tmpfs and changes
//! credentials). Use it through `mayexec_testkit::root_test`.
//!
//! Where the tests are built by a user other than root, the test is marked
//! `#[ignore = "needs root"]`, so the harness shows it as ignored rather
//! than as passed. Under `CI=true` it never is: a conformance test that
//! cannot run must fail there. Either way the body starts with
//! `mayexec_testkit::require_root(NAME)`, which decides at run time (root
//! that cannot mount tmpfs, a binary built as root and run as another
//! user): it panics under `CI=true`, and otherwise the test says why and
//! returns.

use proc_macro::{Delimiter, Group, Span, TokenStream, TokenTree};

/// Marks a test that needs root; see the crate documentation.
#[proc_macro_attribute]
pub fn root_test(args: TokenStream, item: TokenStream) -> TokenStream {
    if let Some(arg) = args.into_iter().next() {
        return error(arg.span(), "#[root_test] takes no arguments");
    }
    let mut tokens: Vec<TokenTree> = item.into_iter().collect();
    let name = tokens.windows(2).find_map(|pair| match pair {
        [TokenTree::Ident(keyword), TokenTree::Ident(name)] if keyword.to_string() == "fn" => {
            Some(name.clone())
        }
        _ => None,
    });
    let Some(name) = name else {
        return error(Span::call_site(), "#[root_test] goes on a test function");
    };
    let Some(TokenTree::Group(body)) = tokens.pop() else {
        return error(name.span(), "#[root_test] needs a function with a body");
    };
    if body.delimiter() != Delimiter::Brace {
        return error(body.span(), "#[root_test] needs a function with a body");
    }
    let guard: TokenStream = format!(
        "if !::mayexec_testkit::require_root({:?}) {{ return; }}",
        name.to_string()
    )
    .parse()
    .expect("the guard is valid Rust");
    let mut new_body = guard;
    new_body.extend(body.stream());
    tokens.push(TokenTree::Group(Group::new(Delimiter::Brace, new_body)));

    let mut out: TokenStream = "#[test]".parse().expect("valid attribute");
    if !runs_as_root() && !in_ci() {
        out.extend(
            "#[ignore = \"needs root\"]"
                .parse::<TokenStream>()
                .expect("valid attribute"),
        );
    }
    out.extend(tokens);
    out
}

/// The user building the tests, who is the one running them in
/// `scripts/test.sh`: the effective user of this compiler process, as
/// `/proc/self/status` tells it (a proc macro has no libc of its own).
fn runs_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| v == "true" || v == "1")
}

fn error(span: Span, message: &str) -> TokenStream {
    format!("::core::compile_error!({message:?});")
        .parse::<TokenStream>()
        .expect("valid macro call")
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}
