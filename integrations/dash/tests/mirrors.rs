//! `scripts/lib/debian-source.sh`: the mirrors every integration fetches
//! Debian's sources from, read off apt configurations written here.

use std::path::Path;
use std::process::Command;

use mayexec_testkit::TempDir;

/// `debian_mirrors CODENAME ETC` over an apt directory holding `files`.
fn mirrors(codename: &str, files: &[(&str, &str)]) -> Vec<String> {
    let etc = TempDir::new();
    std::fs::create_dir(etc.path().join("sources.list.d")).expect("sources.list.d");
    for (name, contents) in files {
        etc.write(name, contents, 0o644);
    }
    let helper = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/lib/debian-source.sh");
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#". "$1"; debian_mirrors "$2" "$3""#)
        .arg("sh")
        .arg(&helper)
        .arg(codename)
        .arg(etc.path())
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn codenames_in_both_formats_with_their_keyrings() {
    let found = mirrors(
        "bookworm",
        &[
            (
                "sources.list",
                "deb [arch=amd64 signed-by=/k.gpg] http://m/debian bookworm main\n\
                 # deb http://commented/debian bookworm main\n\
                 deb-src http://src-only/debian bookworm main\n",
            ),
            (
                "sources.list.d/debian.sources",
                "Types: deb\nURIs: http://d/debian\nSuites: bookworm bookworm-updates\n\
                 Components: main\n\nTypes: deb\nURIs: http://off/debian\nSuites: bookworm\n\
                 Enabled: no\n",
            ),
        ],
    );
    assert_eq!(
        found,
        [
            "http://d/debian bookworm -",
            "http://d/debian bookworm-updates -",
            "http://m/debian bookworm /k.gpg",
        ]
    );
}

/// A sources list that names the release by its alias (`stable`) was
/// "no Debian mirror": a Debian archive serves every release, so it is
/// used with the machine's codename. Other archives must name it.
#[test]
fn suite_aliases_of_debian_archives_serve_the_machines_release() {
    let found = mirrors(
        "bookworm",
        &[(
            "sources.list",
            "deb http://deb.debian.org/debian stable main\n\
             deb http://deb.debian.org/debian stable-updates main\n\
             deb http://security.debian.org/debian-security stable-security main\n\
             deb http://security.debian.org/ oldstable/updates main\n\
             deb https://packages.example.com/repo stable main\n\
             deb http://deb.debian.org/debian trixie main\n",
        )],
    );
    assert_eq!(
        found,
        [
            "http://deb.debian.org/debian bookworm -",
            "http://deb.debian.org/debian bookworm-updates -",
            "http://security.debian.org/debian-security bookworm-security -",
        ]
    );
}
