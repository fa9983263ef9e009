//! `mayexec.map`, read by the tests: its version nodes and the names each
//! exports.

use std::path::Path;

/// Every exported name with the node that exports it, sorted by name.
pub fn read() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("mayexec.map");
    let map = std::fs::read_to_string(path).expect("read mayexec.map");
    // Comments out: `/* … */`.
    let mut text = String::new();
    let mut rest = map.as_str();
    while let Some((before, after)) = rest.split_once("/*") {
        text.push_str(before);
        rest = after.split_once("*/").expect("a comment ends").1;
    }
    text.push_str(rest);
    let mut names = Vec::new();
    let mut rest = text.as_str();
    while let Some((node, after)) = rest.split_once('{') {
        let (body, after) = after.split_once('}').expect("a version node ends");
        let node = node.trim().trim_start_matches(';').trim();
        let global = body.split_once("global:").expect("each node has global:").1;
        let global = global.split_once("local:").map_or(global, |(g, _)| g);
        names.extend(
            global
                .split(';')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(|name| (name.to_owned(), node.to_owned())),
        );
        // What follows `}`: the inherited node's name and `;`.
        rest = after.split_once(';').map_or("", |(_, next)| next);
    }
    names.sort();
    names
}

/// The exported names, sorted.
pub fn names() -> Vec<String> {
    read().into_iter().map(|(name, _)| name).collect()
}
