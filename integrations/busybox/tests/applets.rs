//! A note speaks for a file, so the enlightened busybox must obey in every
//! applet that interprets a program, not only in `sh`. This is the audit
//! of every applet of Debian's configuration (docs/busybox.md, "Every
//! applet"), pinned against `busybox --list` of the enlightened build:
//!
//! - an applet the audit does not know fails the test: a configuration
//!   change cannot add an applet, let alone an interpreter, silently;
//! - an applet of an interpreter's family (a shell, an awk, an editor with
//!   `!`, a `make`…) must be one that obeys;
//! - every applet that obeys is probed: code from no file under
//!   `mayexec run -i`, or a program file on a `noexec` mount under
//!   `mayexec run -f`, is refused, while the stock build runs it.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use mayexec_busybox::{BUILT, STOCK};
use mayexec_testkit::interp::{Enforced, Exit, Outcome};
use mayexec_testkit::{root_test, Tmpfs};

/// What an applet does with code, as the audit found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runs {
    /// Interprets a program and obeys the policy; the probe proves it.
    Obeys(Probe),
    /// Starts a program named on its command line or in root's
    /// configuration with `execve`: the kernel (noexec, Landlock) governs
    /// it, and a program that is an interpreter obeys or not by itself.
    Execs,
    /// Hands a command line to a shell (`sh -c`, `$SHELL -c`): that shell
    /// obeys deny-interactive or not (an enlightened one refuses `-c`).
    ShellC,
    /// Interprets a language that reaches neither commands nor anything a
    /// plain command could not do (the reason is in the doc).
    Contained,
    /// Interprets nothing and starts nothing.
    Nothing,
}

/// How an obeying applet is shown to obey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// These arguments carry code from no file, which writes `INJECTED`
    /// to stderr: refused under `mayexec run -i`.
    NoFile(&'static [&'static str]),
    /// These arguments (`{}` is the file) run a program file that writes
    /// `INJECTED` to stderr: refused under `mayexec run -f` when the file
    /// is on a `noexec` mount.
    File(&'static [&'static str], &'static str),
}

use Runs::*;

const SH_PROBE: Probe = Probe::NoFile(&["-c", "echo INJECTED >&2"]);

/// Every applet of Debian's `deb` configuration of busybox 1.35.
const AUDIT: &[(&str, Runs)] = &[
    ("[", Nothing),
    ("[[", Nothing),
    ("acpid", Execs),
    ("adjtimex", Nothing),
    ("ar", Nothing),
    ("arch", Nothing),
    ("arp", Nothing),
    ("arping", Nothing),
    ("ascii", Nothing),
    ("ash", Obeys(SH_PROBE)),
    (
        "awk",
        Obeys(Probe::NoFile(&[
            "BEGIN { print \"INJECTED\" > \"/dev/stderr\" }",
        ])),
    ),
    ("base64", Nothing),
    ("basename", Nothing),
    ("bc", Contained),
    ("blkdiscard", Nothing),
    ("blkid", Nothing),
    ("blockdev", Nothing),
    ("brctl", Nothing),
    ("bunzip2", Nothing),
    ("bzcat", Nothing),
    ("bzip2", Nothing),
    ("cal", Nothing),
    ("cat", Nothing),
    ("chgrp", Nothing),
    ("chmod", Nothing),
    ("chown", Nothing),
    ("chroot", Execs),
    ("chvt", Nothing),
    ("clear", Nothing),
    ("cmp", Nothing),
    ("cp", Nothing),
    ("cpio", Nothing),
    ("crc32", Nothing),
    ("cttyhack", Execs),
    ("cut", Nothing),
    ("date", Nothing),
    ("dc", Contained),
    ("dd", Nothing),
    ("deallocvt", Nothing),
    ("depmod", Nothing),
    ("devmem", Nothing),
    ("df", Nothing),
    ("diff", Nothing),
    ("dirname", Nothing),
    ("dmesg", Nothing),
    ("dnsdomainname", Nothing),
    ("dos2unix", Nothing),
    ("du", Nothing),
    ("dumpkmap", Nothing),
    ("dumpleases", Nothing),
    ("echo", Nothing),
    ("egrep", Nothing),
    ("env", Execs),
    ("expand", Nothing),
    ("expr", Nothing),
    ("factor", Nothing),
    ("fallocate", Nothing),
    ("false", Nothing),
    ("fatattr", Nothing),
    ("fdisk", Nothing),
    ("fgrep", Nothing),
    ("find", Execs),
    ("findfs", Nothing),
    ("fold", Nothing),
    ("free", Nothing),
    ("freeramdisk", Nothing),
    ("fsfreeze", Nothing),
    ("fstrim", Nothing),
    ("ftpget", Nothing),
    ("ftpput", Nothing),
    ("getopt", Nothing),
    ("getty", Execs),
    ("grep", Nothing),
    ("groups", Nothing),
    ("gunzip", Nothing),
    ("gzip", Nothing),
    ("halt", Execs),
    ("head", Nothing),
    ("hexdump", Nothing),
    ("hostid", Nothing),
    ("hostname", Nothing),
    ("httpd", Execs),
    ("hwclock", Nothing),
    ("i2cdetect", Nothing),
    ("i2cdump", Nothing),
    ("i2cget", Nothing),
    ("i2cset", Nothing),
    ("i2ctransfer", Nothing),
    ("id", Nothing),
    ("ifconfig", Nothing),
    (
        "ifdown",
        Obeys(Probe::File(
            &["-i", "{}", "-f", "probe"],
            "iface probe link none\n\tdown echo INJECTED >&2\n",
        )),
    ),
    (
        "ifup",
        Obeys(Probe::File(
            &["-i", "{}", "-f", "probe"],
            "iface probe link none\n\tpre-up echo INJECTED >&2\n",
        )),
    ),
    ("init", ShellC),
    ("insmod", Nothing),
    ("ionice", Execs),
    ("ip", Nothing),
    ("ipcalc", Nothing),
    ("ipneigh", Nothing),
    ("kill", Nothing),
    ("killall", Nothing),
    ("klogd", Nothing),
    ("last", Nothing),
    ("less", Nothing),
    ("link", Nothing),
    ("linux32", Execs),
    ("linux64", Execs),
    ("linuxrc", ShellC),
    ("ln", Nothing),
    ("loadfont", Nothing),
    ("loadkmap", Nothing),
    ("logger", Nothing),
    ("login", Execs),
    ("logname", Nothing),
    ("logread", Nothing),
    ("losetup", Nothing),
    ("ls", Nothing),
    ("lsmod", Nothing),
    ("lsscsi", Nothing),
    ("lzcat", Nothing),
    ("lzma", Nothing),
    ("lzop", Nothing),
    ("md5sum", Nothing),
    ("mdev", ShellC),
    ("microcom", Nothing),
    (
        "mim",
        Obeys(Probe::File(&["-f", "{}"], "probe:\n\techo INJECTED >&2\n")),
    ),
    ("mkdir", Nothing),
    ("mkdosfs", Nothing),
    ("mke2fs", Nothing),
    ("mkfifo", Nothing),
    ("mknod", Nothing),
    ("mkpasswd", Nothing),
    ("mkswap", Nothing),
    ("mktemp", Nothing),
    ("modinfo", Nothing),
    ("modprobe", Nothing),
    ("more", Nothing),
    ("mount", Execs),
    ("mt", Nothing),
    ("mv", Nothing),
    ("nameif", Nothing),
    ("nc", Execs),
    ("netstat", Nothing),
    ("nologin", Nothing),
    ("nl", Nothing),
    ("nproc", Nothing),
    ("nsenter", Execs),
    ("nslookup", Nothing),
    ("nuke", Nothing),
    ("od", Nothing),
    ("openvt", Execs),
    ("partprobe", Nothing),
    ("paste", Nothing),
    ("patch", Nothing),
    ("pidof", Nothing),
    ("ping", Nothing),
    ("ping6", Nothing),
    ("pivot_root", Nothing),
    ("poweroff", Execs),
    ("printf", Nothing),
    ("ps", Nothing),
    ("pwd", Nothing),
    ("rdate", Nothing),
    ("readlink", Nothing),
    ("realpath", Nothing),
    ("reboot", Execs),
    ("renice", Nothing),
    ("reset", Execs),
    ("resume", Nothing),
    ("rev", Nothing),
    ("rm", Nothing),
    ("rmdir", Nothing),
    ("rmmod", Nothing),
    ("route", Nothing),
    ("rpm", Nothing),
    ("rpm2cpio", Nothing),
    ("run-init", Execs),
    ("run-parts", Execs),
    ("sed", Contained),
    ("seq", Nothing),
    ("setkeycodes", Nothing),
    ("setpriv", Execs),
    ("setsid", Execs),
    ("sh", Obeys(SH_PROBE)),
    ("sha1sum", Nothing),
    ("sha256sum", Nothing),
    ("sha3sum", Nothing),
    ("sha512sum", Nothing),
    ("shred", Nothing),
    ("shuf", Nothing),
    ("sleep", Nothing),
    ("sort", Nothing),
    ("ssl_client", Nothing),
    ("start-stop-daemon", Execs),
    ("stat", Nothing),
    ("strings", Nothing),
    ("stty", Nothing),
    ("svc", Nothing),
    ("svok", Nothing),
    ("swapoff", Nothing),
    ("swapon", Nothing),
    ("switch_root", Execs),
    ("sync", Nothing),
    ("sysctl", Nothing),
    ("syslogd", Nothing),
    ("tac", Nothing),
    ("tail", Nothing),
    ("tar", ShellC),
    ("taskset", Execs),
    ("tee", Nothing),
    ("telnet", Nothing),
    ("test", Nothing),
    ("tftp", Nothing),
    ("time", Execs),
    ("timeout", Execs),
    ("top", Nothing),
    ("touch", Nothing),
    ("tr", Nothing),
    ("traceroute", Nothing),
    ("traceroute6", Nothing),
    ("true", Nothing),
    ("truncate", Nothing),
    ("ts", Nothing),
    ("tty", Nothing),
    ("ubirename", Nothing),
    ("udhcpc", Execs),
    ("udhcpd", Execs),
    ("uevent", Execs),
    ("umount", Nothing),
    ("uname", Nothing),
    ("uncompress", Nothing),
    ("unexpand", Nothing),
    ("uniq", Nothing),
    ("unix2dos", Nothing),
    ("unlink", Nothing),
    ("unlzma", Nothing),
    ("unshare", Execs),
    ("unxz", Nothing),
    ("unzip", Nothing),
    ("uptime", Nothing),
    ("usleep", Nothing),
    ("uudecode", Nothing),
    ("uuencode", Nothing),
    ("vconfig", Nothing),
    (
        "vi",
        Obeys(Probe::NoFile(&[
            "-c",
            ":!echo INJECTED >&2",
            "-c",
            ":q!",
            "/dev/null",
        ])),
    ),
    ("w", Nothing),
    ("watch", ShellC),
    ("watchdog", Nothing),
    ("wc", Nothing),
    ("wget", Execs),
    ("which", Nothing),
    ("who", Nothing),
    ("whoami", Nothing),
    ("xargs", Execs),
    ("xxd", Nothing),
    ("xz", Nothing),
    ("xzcat", Nothing),
    ("yes", Nothing),
    ("zcat", Nothing),
];

/// Names of interpreters' families: an applet so named must obey, whatever
/// the audit says (BusyBox has `hush`, `ed`, `man`, `make`-like `mim`,
/// `crond` in other configurations).
fn of_an_interpreter_family(name: &str) -> bool {
    const SHELLS: &[&str] = &[
        "sh", "ash", "hush", "msh", "lash", "bash", "dash", "ksh", "mksh", "zsh", "csh", "tcsh",
    ];
    const OTHERS: &[&str] = &[
        "ed", "ex", "vi", "vim", "view", "man", "make", "mim", "crond", "crontab", "perl", "php",
        "ruby", "node", "lua", "tclsh", "wish", "expect",
    ];
    SHELLS.contains(&name)
        || OTHERS.contains(&name)
        || name.ends_with("awk")
        || name.starts_with("python")
}

fn applets(busybox: &Path) -> BTreeSet<String> {
    let out = Command::new(busybox)
        .arg("--list")
        .output()
        .expect("busybox --list");
    assert!(out.status.success(), "busybox --list: {:?}", out);
    String::from_utf8(out.stdout)
        .expect("applet names are ASCII")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_applet_of_the_build_is_audited_and_every_interpreter_obeys() {
    let Some(busybox) = BUILT.require("applets") else {
        return;
    };
    let built = applets(&busybox);
    let audited: BTreeSet<String> = AUDIT.iter().map(|(name, _)| (*name).to_owned()).collect();
    assert_eq!(audited.len(), AUDIT.len(), "an applet is audited twice");
    let unaudited: Vec<_> = built.difference(&audited).collect();
    assert!(
        unaudited.is_empty(),
        "{} has applets nobody audited: {unaudited:?}. Read each one's source: does it \
         interpret a program (then it must obey: patch it), start programs, or hand a \
         command line to a shell? Add it to AUDIT here and to docs/busybox.md",
        busybox.display()
    );
    let gone: Vec<_> = audited.difference(&built).collect();
    assert!(
        gone.is_empty(),
        "audited applets that the build no longer has (take them out of AUDIT and \
         docs/busybox.md): {gone:?}"
    );
    let unobeying: Vec<_> = AUDIT
        .iter()
        .filter(|(name, runs)| of_an_interpreter_family(name) && !matches!(runs, Obeys(_)))
        .collect();
    assert!(
        unobeying.is_empty(),
        "interpreters that do not obey: {unobeying:?}"
    );
}

/// Runs an obeying applet's probe with `busybox` under `enforced`.
fn probe(busybox: &Path, applet: &str, probe: Probe, noexec: &Tmpfs) -> (Enforced, Outcome) {
    let (enforced, args): (Enforced, Vec<String>) = match probe {
        Probe::NoFile(args) => (
            Enforced::RunI,
            args.iter().map(|a| (*a).to_owned()).collect(),
        ),
        Probe::File(args, text) => {
            let file = noexec.write(format!("{applet}.probe"), text, 0o755);
            let file = file.to_str().expect("a UTF-8 path").to_owned();
            (
                Enforced::RunF,
                args.iter().map(|a| a.replace("{}", &file)).collect(),
            )
        }
    };
    let mut cmd = enforced.command_with(busybox.as_os_str(), &|p| Command::new(p));
    cmd.arg(applet).args(&args).current_dir(noexec.path());
    (enforced, Outcome::of(&mut cmd))
}

#[root_test]
fn every_applet_that_interprets_a_program_refuses_what_the_policy_refuses() {
    let Some(busybox) = BUILT.require("applets") else {
        return;
    };
    let Some(stock) = STOCK.require("applets") else {
        return;
    };
    let noexec = Tmpfs::noexec();
    let mut report = String::new();
    for &(applet, runs) in AUDIT {
        let Obeys(how) = runs else { continue };
        // The stock build runs the code: the probe is real.
        let (enforced, got) = probe(&stock, applet, how, &noexec);
        if !got.stderr.contains("INJECTED") {
            report.push_str(&format!(
                "{applet}: the probe runs nothing in the stock build under {enforced}: {got}\n"
            ));
        }
        let (enforced, got) = probe(&busybox, applet, how, &noexec);
        let refused = match how {
            // vi reports the refusal on its status line and goes on.
            Probe::NoFile(_) if applet == "vi" => !got.stderr.contains("INJECTED"),
            _ => got.exit == Exit::Code(126) && !got.stderr.contains("INJECTED"),
        };
        if !refused {
            report.push_str(&format!("{applet} under {enforced} ran it: {got}\n"));
        }
    }
    assert!(report.is_empty(), "{report}");
}
