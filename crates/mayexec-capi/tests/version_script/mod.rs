//! `mayexec.map`, read by the tests: its one version node and the names it
//! exports.

use std::path::Path;

/// The node's name and its `global:` names, sorted.
pub fn read() -> (String, Vec<String>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("mayexec.map");
    let map = std::fs::read_to_string(path).expect("read mayexec.map");
    // What follows the leading comment.
    let map = map.rsplit("*/").next().unwrap_or_default();
    let (node, body) = map.split_once('{').expect("a version node");
    let mut names: Vec<String> = body
        .split_once("global:")
        .and_then(|(_, rest)| rest.split_once("local:"))
        .expect("mayexec.map has global: and local:")
        .0
        .split(';')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    names.sort();
    (node.trim().to_owned(), names)
}
