//! `mayexec trust`: the content-trust database.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mayexec::policy::{SystemPolicy, TrustMode};
use mayexec::trust::{
    Database, Entry, Identity, Previous, ReadLease, Source, Staged, TrustError, TrustStore, Writer,
    TRUST_DIR,
};
use md5::Md5;
use rustix::fs::{open, FileType, Mode, OFlags};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{output, Status};

/// The content-trust database: files whose content the system trusts.
///
/// With `trust = "required"` in /etc/mayexec.conf, every file an
/// enlightened interpreter loads as code must also be in this database
/// (reason untrusted-content otherwise), on a mount listed in
/// `trust_mounts`. An entry is the file's identity (device, inode, inode
/// generation, size, ctime, mode, owner) and its SHA-256: any change to the
/// file after it was trusted changes its ctime, and it is refused until it
/// is trusted again. Only files owned by root and not writable by group or
/// others can be trusted. Writing needs root; reading (list, verify,
/// status) anyone who can read the database.
#[derive(Debug, clap::Subcommand)]
#[command(after_help = "Examples:\n  \
    mayexec trust from-dpkg\n  \
    mayexec trust add /usr/local/bin/backup.sh\n  \
    mayexec trust add --manifest /opt/app/SHA256SUMS --root /opt/app\n  \
    mayexec trust verify --json")]
pub enum Command {
    /// Trust files, hashed now. Exit status: 0 all trusted; 1 one was
    /// refused (changed while hashed, open for writing, writable by others,
    /// a digest that does not match its manifest); 2 a path that cannot be
    /// examined (missing, not a regular file). Nothing is recorded unless
    /// every path (or, with --manifest, every line that matches) is trusted.
    Add(AddArgs),
    /// Forget files (by the path they were trusted by, or by the file now at
    /// that path). Exit status: 0, or 1 when a path has no entry (then
    /// nothing is removed).
    Remove(PathsArgs),
    /// Hash trusted files again and report any that changed. Exit status: 0
    /// all unchanged, 1 any changed, missing or unreadable.
    Verify(VerifyArgs),
    /// The database: where, how many files, when written, and what the
    /// policy makes of it. Exit status: 0, or 1 when it cannot be used.
    Status(JsonArgs),
    /// Every trusted file. Exit status: 0, or 1 when the database cannot be
    /// read.
    List(JsonArgs),
    /// Trust the files of installed packages, each verified first against
    /// the package's own digests (/var/lib/dpkg/info/PACKAGE.md5sums, and
    /// the conffiles' in /var/lib/dpkg/status). A file whose content does
    /// not match is reported and not trusted. Without PACKAGE, every
    /// installed package, and entries of packages no longer installed are
    /// dropped. The packages' maintainer scripts are trusted too, as dpkg
    /// keeps them (it records no digest of them). Exit status: 0, or 1 when
    /// a file was refused.
    FromDpkg(FromDpkgArgs),
    /// Stage the content of package archives about to be installed: the
    /// first half of the apt hook (DPkg::Pre-Install-Pkgs), before dpkg
    /// runs. While something is staged, a file in no entry is trusted when
    /// its path and its content are those of a staged archive, so that the
    /// packages' maintainer scripts, and the files they run, pass while
    /// dpkg installs them. Exit status: 0; 2 when an archive cannot be read
    /// (then nothing is staged, and the hook stops apt before dpkg starts).
    Stage(StageArgs),
    /// Trust again the packages a dpkg run changed, forget those it
    /// removed, and drop what was staged: the second half of the apt hook
    /// (DPkg::Post-Invoke). Exit status: 0, or 1 when a file was refused.
    Sync(SyncArgs),
}

#[derive(Debug, clap::Args)]
pub struct JsonArgs {
    /// Print JSON instead.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct Progress {
    /// Print JSON instead.
    #[arg(long)]
    json: bool,
    /// Report progress on stderr even when it is not a terminal.
    #[arg(long)]
    progress: bool,
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    #[command(flatten)]
    out: Progress,
    /// Trust the files a manifest lists (`sha256sum` lines: HEX, two
    /// spaces or " *", the path), each only if its content has that digest.
    #[arg(long, value_name = "FILE", conflicts_with = "paths")]
    manifest: Option<PathBuf>,
    /// Relative paths of the manifest are taken from DIR (default: the
    /// current directory, as `sha256sum -c` does).
    #[arg(long, value_name = "DIR", requires = "manifest")]
    root: Option<PathBuf>,
    /// Files to trust.
    #[arg(value_name = "PATH", required_unless_present = "manifest")]
    paths: Vec<OsString>,
}

#[derive(Debug, clap::Args)]
pub struct PathsArgs {
    /// Print JSON instead.
    #[arg(long)]
    json: bool,
    /// Files to forget.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<OsString>,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    out: Progress,
    /// Only these files [default: every trusted file].
    #[arg(value_name = "PATH")]
    paths: Vec<OsString>,
}

#[derive(Debug, clap::Args)]
pub struct FromDpkgArgs {
    #[command(flatten)]
    out: Progress,
    /// The root the packages are installed in, as dpkg's --root: paths
    /// and the database directory DIR/var/lib/dpkg are taken from it.
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// dpkg's database directory [default: ROOT/var/lib/dpkg].
    #[arg(long, value_name = "DIR")]
    admindir: Option<PathBuf>,
    /// Packages to trust (NAME or NAME:ARCH) [default: every installed one].
    #[arg(value_name = "PACKAGE")]
    packages: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct StageArgs {
    /// Read the archives from standard input, one a line, as apt's
    /// DPkg::Pre-Install-Pkgs gives them, and do nothing when the policy
    /// leaves trust off.
    #[arg(long)]
    apt: bool,
    /// dpkg's database directory, where it runs maintainer scripts from.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/dpkg")]
    admindir: PathBuf,
    /// Package archives (.deb).
    #[arg(value_name = "DEB", required_unless_present = "apt")]
    debs: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    #[command(flatten)]
    out: Progress,
    /// Do nothing when the policy leaves trust off (the apt hook).
    #[arg(long)]
    apt: bool,
    /// dpkg's database directory.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/dpkg")]
    admindir: PathBuf,
}

pub fn main(command: &Command) -> ExitCode {
    match command {
        Command::Add(args) => add(args),
        Command::Remove(args) => remove(args),
        Command::Verify(args) => verify(args),
        Command::Status(args) => status(args),
        Command::List(args) => list(args),
        Command::FromDpkg(args) => from_dpkg(args),
        Command::Stage(args) => stage(args),
        Command::Sync(args) => sync(args),
    }
}

fn database_dir() -> &'static Path {
    Path::new(TRUST_DIR)
}

/// Writes need root: the database directory is root's.
fn require_root(what: &str) -> Result<(), ExitCode> {
    if rustix::process::geteuid().is_root() {
        return Ok(());
    }
    output::error(format_args!(
        "trust {what}: only root can change the trust database ({})",
        database_dir().display()
    ));
    Err(Status::Error.into())
}

fn open_writer() -> Result<Writer, ExitCode> {
    match Writer::open(database_dir()) {
        Ok((writer, previous)) => {
            if let Previous::Unreadable(error) = previous {
                output::error(format_args!("warning: {error}; starting a new database"));
            }
            Ok(writer)
        }
        Err(error) => {
            output::error(error);
            Err(Status::Error.into())
        }
    }
}

fn commit(writer: Writer) -> Result<u64, ExitCode> {
    match writer.commit() {
        Ok(size) => Ok(size),
        Err(error) => {
            output::error(error);
            Err(Status::Error.into())
        }
    }
}

/// Why a file is not trusted: `Refused` (status 1) was examined and found
/// wanting; `Unusable` (status 2) could not be examined.
#[derive(Debug, Clone)]
enum Failure {
    Refused(String),
    Unusable(String),
    Missing(String),
}

impl Failure {
    fn status(&self) -> Status {
        match self {
            Failure::Refused(_) => Status::Denied,
            Failure::Unusable(_) | Failure::Missing(_) => Status::Error,
        }
    }
    fn message(&self) -> &str {
        match self {
            Failure::Refused(m) | Failure::Unusable(m) | Failure::Missing(m) => m,
        }
    }
}

/// A file hashed for trust: its identity (the same before and after) and
/// digests of the content read in between from the same descriptor.
struct Hashed {
    identity: Identity,
    sha256: [u8; 32],
    md5: [u8; 16],
}

fn type_name(mode: u32) -> &'static str {
    match FileType::from_raw_mode(mode) {
        FileType::Directory => "a directory",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Symlink => "a symbolic link",
        _ => "not a regular file",
    }
}

/// Opens and hashes `path` (never blocking, never the controlling
/// terminal), following a final symlink only when `follow`.
fn hash(path: &Path, follow: bool, bytes: &AtomicU64) -> Result<Hashed, Failure> {
    let unusable = |e: io::Error| Failure::Unusable(format!("{}: {e}", path.display()));
    let mut flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
    if !follow {
        flags |= OFlags::NOFOLLOW;
    }
    let fd = open(path, flags, Mode::empty()).map_err(|e| {
        let e = io::Error::from(e);
        if e.kind() == io::ErrorKind::NotFound {
            Failure::Missing(format!("{}: {e}", path.display()))
        } else if e.raw_os_error() == Some(libc::ELOOP) && !follow {
            Failure::Unusable(format!(
                "{}: a symbolic link, not a regular file",
                path.display()
            ))
        } else {
            unusable(e)
        }
    })?;
    let before = Identity::of(&fd).map_err(unusable)?;
    if !before.is_regular() {
        return Err(Failure::Unusable(format!(
            "{}: {}, not a regular file: not trusted",
            path.display(),
            type_name(before.mode)
        )));
    }
    if before.uid != 0 {
        return Err(Failure::Refused(format!(
            "{}: owned by uid {}, not root: its owner could change it unseen within the \
             ctime's resolution; not trusted",
            path.display(),
            before.uid
        )));
    }
    if before.mode & 0o022 != 0 {
        return Err(Failure::Refused(format!(
            "{}: writable by group or others (mode {:04o}): not trusted",
            path.display(),
            before.mode & 0o7777
        )));
    }
    let lease = ReadLease::take(fd.as_fd()).map_err(|e| {
        if e.kind() == io::ErrorKind::WouldBlock {
            Failure::Refused(format!(
                "{}: open for writing by a process: not trusted",
                path.display()
            ))
        } else {
            unusable(e)
        }
    })?;
    let mut file = File::from(fd.try_clone().map_err(unusable)?);
    let mut sha = Sha256::new();
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(unusable(e)),
        };
        sha.update(&buf[..n]);
        md5.update(&buf[..n]);
        bytes.fetch_add(n as u64, Ordering::Relaxed);
    }
    let after = Identity::of(&fd).map_err(unusable)?;
    if after != before || lease.broken() {
        return Err(Failure::Refused(format!(
            "{}: changed while it was hashed: not trusted",
            path.display()
        )));
    }
    drop(lease);
    Ok(Hashed {
        identity: after,
        sha256: sha.finalize().into(),
        md5: md5.finalize().into(),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Progress on stderr: on a terminal, or when asked.
struct Meter {
    enabled: bool,
    total: usize,
    done: AtomicUsize,
    bytes: AtomicU64,
    last: Mutex<Instant>,
    start: Instant,
}

impl Meter {
    fn new(asked: bool, total: usize) -> Meter {
        Meter {
            enabled: asked || io::stderr().is_terminal(),
            total,
            done: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
            last: Mutex::new(Instant::now()),
            start: Instant::now(),
        }
    }

    fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if !self.enabled {
            return;
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() < Duration::from_millis(200) && done != self.total {
            return;
        }
        *last = Instant::now();
        let _ = write!(
            io::stderr(),
            "\rmayexec trust: {done}/{} files, {} MiB, {:.0} s ",
            self.total,
            self.bytes.load(Ordering::Relaxed) >> 20,
            self.start.elapsed().as_secs_f64()
        );
    }

    fn finish(&self) {
        if self.enabled {
            let _ = writeln!(io::stderr());
        }
    }
}

/// Runs `f` over `items` on a few threads, in any order.
fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every item done"))
        .collect()
}

#[derive(Serialize, Default)]
struct Outcome {
    trusted: Vec<String>,
    refused: Vec<Refusal>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    missing: Vec<String>,
    recorded: bool,
    entries: Option<usize>,
    database_bytes: Option<u64>,
    seconds: f64,
}

#[derive(Serialize)]
struct Refusal {
    path: String,
    reason: String,
}

fn finish_outcome(outcome: &Outcome, json: bool, status: Status) -> ExitCode {
    output::report(
        outcome,
        json,
        |o| {
            let mut out = io::stdout().lock();
            writeln!(
                out,
                "{} trusted, {} refused{}{}",
                o.trusted.len(),
                o.refused.len(),
                if o.missing.is_empty() {
                    String::new()
                } else {
                    format!(", {} missing", o.missing.len())
                },
                match (o.recorded, o.entries, o.database_bytes) {
                    (true, Some(n), Some(b)) => format!(
                        "; the database now holds {n} files ({:.1} MiB), in {:.1} s",
                        b as f64 / (1 << 20) as f64,
                        o.seconds
                    ),
                    _ => "; nothing recorded".to_owned(),
                }
            )
        },
        status,
    )
}

fn add(args: &AddArgs) -> ExitCode {
    if let Err(code) = require_root("add") {
        return code;
    }
    if let Some(manifest) = &args.manifest {
        return add_manifest(args, manifest);
    }
    let start = Instant::now();
    let paths: Vec<PathBuf> = args.paths.iter().map(PathBuf::from).collect();
    let meter = Meter::new(args.out.progress, paths.len());
    let results = parallel(&paths, |path| {
        let r = hash(path, true, &meter.bytes);
        meter.tick();
        r
    });
    meter.finish();
    let mut outcome = Outcome::default();
    let mut status = Status::Ok;
    let mut entries = Vec::new();
    for (path, result) in paths.iter().zip(results) {
        match result {
            Ok(hashed) => {
                outcome.trusted.push(output::json_path(path.as_os_str()));
                entries.push(Entry::new(
                    hashed.identity,
                    hashed.sha256,
                    Source::Added,
                    absolute(path),
                ));
            }
            Err(failure) => {
                output::error(failure.message());
                status = status.max(failure.status());
                outcome.refused.push(Refusal {
                    path: output::json_path(path.as_os_str()),
                    reason: failure.message().to_owned(),
                });
            }
        }
    }
    if status != Status::Ok {
        return finish_outcome(&outcome, args.out.json, status);
    }
    let mut writer = match open_writer() {
        Ok(writer) => writer,
        Err(code) => return code,
    };
    let paths: HashSet<&Path> = entries.iter().map(|e| e.path.as_path()).collect();
    writer.retain(|e| !paths.contains(e.path.as_path()));
    drop(paths);
    for entry in entries {
        writer.insert(entry);
    }
    outcome.entries = Some(writer.len());
    match commit(writer) {
        Ok(size) => {
            outcome.recorded = true;
            outcome.database_bytes = Some(size);
        }
        Err(code) => return code,
    }
    outcome.seconds = start.elapsed().as_secs_f64();
    finish_outcome(&outcome, args.out.json, status)
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// `sha256sum` lines: `HEX  NAME` or `HEX *NAME`; a line starting with `\`
/// has `\\` and `\n` escaped in NAME.
fn parse_manifest(text: &[u8]) -> Result<Vec<([u8; 32], PathBuf)>, String> {
    let mut lines = Vec::new();
    for (n, line) in text.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let (escaped, line) = match line.strip_prefix(b"\\") {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let bad = || format!("line {}: not a sha256sum line", n + 1);
        if line.len() < 66 || !(line[64] == b' ' && (line[65] == b' ' || line[65] == b'*')) {
            return Err(bad());
        }
        let digest = std::str::from_utf8(&line[..64])
            .ok()
            .and_then(|h| parse_hex::<32>(&h.to_ascii_lowercase()))
            .ok_or_else(bad)?;
        let mut name = line[66..].to_vec();
        if escaped {
            let mut out = Vec::with_capacity(name.len());
            let mut it = name.iter();
            while let Some(&b) = it.next() {
                if b == b'\\' {
                    match it.next() {
                        Some(b'n') => out.push(b'\n'),
                        Some(b'\\') => out.push(b'\\'),
                        _ => return Err(bad()),
                    }
                } else {
                    out.push(b);
                }
            }
            name = out;
        }
        lines.push((digest, PathBuf::from(OsString::from_vec(name))));
    }
    Ok(lines)
}

fn add_manifest(args: &AddArgs, manifest: &Path) -> ExitCode {
    let start = Instant::now();
    let text = match std::fs::read(manifest) {
        Ok(text) => text,
        Err(e) => {
            output::error(format_args!("{}: {e}", manifest.display()));
            return Status::Error.into();
        }
    };
    let lines = match parse_manifest(&text) {
        Ok(lines) => lines,
        Err(e) => {
            output::error(format_args!("{}: {e}", manifest.display()));
            return Status::Error.into();
        }
    };
    let base = args
        .root
        .clone()
        .unwrap_or_else(|| std::env::current_dir().unwrap_or_else(|_| "/".into()));
    let source = Source::Manifest {
        path: absolute(manifest),
    };
    let items: Vec<(PathBuf, [u8; 32])> = lines
        .into_iter()
        .map(|(digest, name)| (base.join(name), digest))
        .collect();
    let meter = Meter::new(args.out.progress, items.len());
    let results = parallel(&items, |(path, digest)| {
        let r = hash(path, false, &meter.bytes).and_then(|h| {
            if &h.sha256 == digest {
                Ok(h)
            } else {
                Err(Failure::Refused(format!(
                    "{}: content differs from the manifest's digest ({} here, {} listed): \
                     not trusted",
                    path.display(),
                    hex(&h.sha256),
                    hex(digest)
                )))
            }
        });
        meter.tick();
        r
    });
    meter.finish();
    record_bulk(
        Status::Ok,
        items.iter().map(|(p, _)| p.clone()).collect(),
        results,
        |_| source.clone(),
        |writer| writer.retain(|e| e.source != source),
        args.out.json,
        start,
    )
}

/// Records what was trusted (after `clear` drops what the same source
/// trusted before), reports what was refused.
fn record_bulk(
    mut status: Status,
    paths: Vec<PathBuf>,
    results: Vec<Result<Hashed, Failure>>,
    source_of: impl Fn(usize) -> Source,
    clear: impl FnOnce(&mut Writer),
    json: bool,
    start: Instant,
) -> ExitCode {
    let mut outcome = Outcome::default();
    let mut entries = Vec::new();
    for (i, (path, result)) in paths.into_iter().zip(results).enumerate() {
        match result {
            Ok(hashed) => {
                outcome.trusted.push(output::json_path(path.as_os_str()));
                entries.push(Entry::new(
                    hashed.identity,
                    hashed.sha256,
                    source_of(i),
                    path,
                ));
            }
            Err(Failure::Missing(_)) => {
                outcome.missing.push(output::json_path(path.as_os_str()));
            }
            Err(failure) => {
                if !json {
                    output::error(failure.message());
                }
                status = status.max(Status::Denied);
                outcome.refused.push(Refusal {
                    path: output::json_path(path.as_os_str()),
                    reason: failure.message().to_owned(),
                });
            }
        }
    }
    let mut writer = match open_writer() {
        Ok(writer) => writer,
        Err(code) => return code,
    };
    clear(&mut writer);
    // Older entries for these paths (other inodes) go; one pass.
    let paths: HashSet<&Path> = entries.iter().map(|e| e.path.as_path()).collect();
    writer.retain(|e| !paths.contains(e.path.as_path()));
    drop(paths);
    for entry in entries {
        writer.insert(entry);
    }
    outcome.entries = Some(writer.len());
    match commit(writer) {
        Ok(size) => {
            outcome.recorded = true;
            outcome.database_bytes = Some(size);
        }
        Err(code) => return code,
    }
    outcome.seconds = start.elapsed().as_secs_f64();
    finish_outcome(&outcome, json, status)
}

fn remove(args: &PathsArgs) -> ExitCode {
    if let Err(code) = require_root("remove") {
        return code;
    }
    let mut writer = match open_writer() {
        Ok(writer) => writer,
        Err(code) => return code,
    };
    let mut missing = Vec::new();
    let mut removed = Vec::new();
    for path in &args.paths {
        let path = Path::new(path);
        let by_path = absolute(path);
        let now = File::open(path).ok().and_then(|f| Identity::of(&f).ok());
        let before = writer.len();
        writer.retain(|e| {
            e.path != by_path
                && !now.is_some_and(|id| (id.dev, id.ino) == (e.identity.dev, e.identity.ino))
        });
        if writer.len() == before {
            missing.push(path.to_owned());
        } else {
            removed.push(output::json_path(path.as_os_str()));
        }
    }
    if !missing.is_empty() {
        for path in &missing {
            output::error(format_args!(
                "{}: not in the trust database; nothing removed",
                path.display()
            ));
        }
        return Status::Denied.into();
    }
    let entries = writer.len();
    if let Err(code) = commit(writer) {
        return code;
    }
    let report = serde_json::json!({ "removed": removed, "entries": entries });
    output::report(
        &report,
        args.json,
        |_| {
            writeln!(
                io::stdout(),
                "{} removed; {entries} files trusted",
                removed.len()
            )
        },
        Status::Ok,
    )
}

fn open_database() -> Result<Database, ExitCode> {
    Database::open_system().map_err(|error| {
        output::error(error);
        Status::Denied.into()
    })
}

#[derive(Serialize)]
struct Listed {
    path: String,
    sha256: String,
    source: String,
    dev: u64,
    ino: u64,
    generation: Option<u32>,
    size: u64,
    ctime: String,
    mode: String,
    uid: u32,
    gid: u32,
}

impl From<&Entry> for Listed {
    fn from(e: &Entry) -> Listed {
        let id = &e.identity;
        Listed {
            path: output::json_path(e.path.as_os_str()),
            sha256: hex(&e.sha256),
            source: e.source.to_string(),
            dev: id.dev,
            ino: id.ino,
            generation: id.generation,
            size: id.size,
            ctime: format!("{}.{:09}", id.ctime_sec, id.ctime_nsec),
            mode: format!("{:04o}", id.mode & 0o7777),
            uid: id.uid,
            gid: id.gid,
        }
    }
}

fn list(args: &JsonArgs) -> ExitCode {
    let db = match open_database() {
        Ok(db) => db,
        Err(code) => return code,
    };
    let mut entries = match db.entries() {
        Ok(entries) => entries,
        Err(error) => {
            output::error(error);
            return Status::Denied.into();
        }
    };
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    if args.json {
        let listed: Vec<Listed> = entries.iter().map(Listed::from).collect();
        return output::finish(output::json(&listed).map(|()| Status::Ok));
    }
    let result = (|| {
        let mut out = io::BufWriter::new(io::stdout().lock());
        for e in &entries {
            write!(out, "{}  ", hex(&e.sha256))?;
            output::path(&mut out, e.path.as_os_str())?;
            writeln!(out, "  ({})", e.source)?;
        }
        out.flush()
    })();
    output::finish(result.map(|()| Status::Ok))
}

#[derive(Serialize)]
struct Verified {
    path: String,
    /// `ok`, `changed` (identity moved, content the same), `content-differs`,
    /// `missing`, `replaced` (another inode at the path), `error`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

fn verify(args: &VerifyArgs) -> ExitCode {
    let db = match open_database() {
        Ok(db) => db,
        Err(code) => return code,
    };
    let mut entries = match db.entries() {
        Ok(entries) => entries,
        Err(error) => {
            output::error(error);
            return Status::Denied.into();
        }
    };
    if !args.paths.is_empty() {
        let wanted: Vec<PathBuf> = args.paths.iter().map(|p| absolute(Path::new(p))).collect();
        let mut unknown: Vec<&PathBuf> = Vec::new();
        for path in &wanted {
            if !entries.iter().any(|e| &e.path == path) {
                unknown.push(path);
            }
        }
        if !unknown.is_empty() {
            for path in unknown {
                output::error(format_args!(
                    "{}: not in the trust database",
                    path.display()
                ));
            }
            return Status::Denied.into();
        }
        entries.retain(|e| wanted.contains(&e.path));
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let meter = Meter::new(args.out.progress, entries.len());
    let results = parallel(&entries, |e| {
        let r = verify_one(e, &meter.bytes);
        meter.tick();
        r
    });
    meter.finish();
    let drift = results.iter().any(|r| r.status != "ok");
    let status = if drift { Status::Denied } else { Status::Ok };
    output::report(
        &results,
        args.out.json,
        |results| {
            let mut out = io::stdout().lock();
            let mut bad = 0;
            for r in results.iter().filter(|r| r.status != "ok") {
                bad += 1;
                writeln!(
                    out,
                    "{}: {}{}",
                    r.path,
                    r.status,
                    r.detail
                        .as_ref()
                        .map_or(String::new(), |d| format!(" ({d})"))
                )?;
            }
            writeln!(out, "{} verified, {bad} drifted", results.len())
        },
        status,
    )
}

fn verify_one(e: &Entry, bytes: &AtomicU64) -> Verified {
    let path = output::json_path(e.path.as_os_str());
    let verified = |status, detail: Option<String>| Verified {
        path: path.clone(),
        status,
        detail,
    };
    let file = match File::open(&e.path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return verified("missing", None);
        }
        Err(error) => return verified("error", Some(error.to_string())),
    };
    let now = match Identity::of(&file) {
        Ok(now) => now,
        Err(error) => return verified("error", Some(error.to_string())),
    };
    if (now.dev, now.ino) != (e.identity.dev, e.identity.ino) {
        return verified("replaced", Some("another file is at this path".into()));
    }
    drop(file);
    match hash(&e.path, true, bytes) {
        Ok(h) if h.sha256 != e.sha256 => verified(
            "content-differs",
            Some(format!("sha256 {} now", hex(&h.sha256))),
        ),
        Ok(h) if h.identity != with_mount(&e.identity, &h.identity) => verified(
            "changed",
            Some(
                "same content, but its ctime, mode or owner moved: untrusted until trusted again"
                    .into(),
            ),
        ),
        Ok(_) => verified("ok", None),
        Err(failure) => verified("error", Some(failure.message().to_owned())),
    }
}

/// `recorded` with `now`'s mount: the mount is not part of what must match.
fn with_mount(recorded: &Identity, now: &Identity) -> Identity {
    let mut identity = *recorded;
    identity.mount = now.mount;
    identity
}

#[derive(Serialize)]
struct StatusReport {
    database: String,
    usable: bool,
    error: Option<String>,
    entries: Option<u64>,
    updated: Option<u64>,
    bytes: Option<u64>,
    sources: Option<BTreeMap<String, u64>>,
    staged: Option<u64>,
    policy_trust: Option<&'static str>,
    trust_mounts: Vec<MountReport>,
}

#[derive(Serialize)]
struct MountReport {
    path: String,
    honoured: bool,
    mount_id: Option<u64>,
    error: Option<String>,
}

fn status(args: &JsonArgs) -> ExitCode {
    let report = status_report();
    let code = if report.usable {
        Status::Ok
    } else {
        Status::Denied
    };
    output::report(&report, args.json, print_status, code)
}

fn status_report() -> StatusReport {
    let policy = SystemPolicy::load().ok().flatten();
    let db = Database::open_system();
    let mut sources: BTreeMap<String, u64> = BTreeMap::new();
    if let Ok(db) = &db {
        if let Ok(entries) = db.entries() {
            for e in entries {
                let kind = match e.source {
                    Source::Package { .. } => "package",
                    Source::Manifest { .. } => "manifest",
                    _ => "add",
                };
                *sources.entry(kind.to_owned()).or_default() += 1;
            }
        }
    }
    let mounts = policy
        .as_ref()
        .map(|p| {
            TrustStore::open(database_dir(), &p.trust_mounts)
                .mounts()
                .to_vec()
        })
        .unwrap_or_default();
    StatusReport {
        database: output::json_path(database_dir().join("trust.mdb").as_os_str()),
        usable: db.is_ok(),
        error: db.as_ref().err().map(TrustError::to_string),
        entries: db.as_ref().ok().map(Database::len),
        updated: db.as_ref().ok().map(Database::updated),
        bytes: db.as_ref().ok().map(Database::file_size),
        sources: db.is_ok().then_some(sources),
        staged: db.as_ref().ok().map(Database::staged_len),
        policy_trust: policy.as_ref().map(|p| p.trust.as_str()),
        trust_mounts: mounts
            .into_iter()
            .map(|m| MountReport {
                path: output::json_path(m.path.as_os_str()),
                honoured: m.mount.is_ok(),
                mount_id: m.mount.as_ref().ok().map(|id| id.id),
                error: m.mount.err(),
            })
            .collect(),
    }
}

fn print_status(r: &StatusReport) -> io::Result<()> {
    let mut out = io::stdout().lock();
    write!(out, "trust database {}: ", r.database)?;
    match &r.error {
        Some(error) => writeln!(out, "UNUSABLE: {error}")?,
        None => writeln!(
            out,
            "{} files ({:.1} MiB), written {} (seconds since the epoch){}",
            r.entries.unwrap_or(0),
            r.bytes.unwrap_or(0) as f64 / (1 << 20) as f64,
            r.updated.unwrap_or(0),
            match &r.sources {
                Some(s) if !s.is_empty() => {
                    let parts: Vec<String> = s.iter().map(|(k, v)| format!("{v} by {k}")).collect();
                    format!(": {}", parts.join(", "))
                }
                _ => String::new(),
            }
        )?,
    }
    if let Some(n @ 1..) = r.staged {
        writeln!(
            out,
            "staged: {n} digests of package archives (a package manager's run in progress, or \
             one that did not finish: `mayexec trust sync` ends it)"
        )?;
    }
    match r.policy_trust {
        None => writeln!(out, "policy: no system policy: trust = \"off\"")?,
        Some(mode) => writeln!(out, "policy: trust = \"{mode}\"")?,
    }
    for m in &r.trust_mounts {
        match &m.error {
            None => writeln!(
                out,
                "  honoured on {} (mount {})",
                m.path,
                m.mount_id.unwrap_or(0)
            )?,
            Some(e) => writeln!(out, "  NOT honoured on {}: {e}", m.path)?,
        }
    }
    if r.policy_trust == Some(TrustMode::Required.as_str()) && r.error.is_some() {
        writeln!(
            out,
            "every file an enlightened interpreter loads is refused (trust-unavailable)"
        )?;
    }
    Ok(())
}

/// One installed package, from dpkg's status file.
struct Package {
    name: String,
    arch: String,
    version: String,
    multi_arch_same: bool,
    conffiles: Vec<(PathBuf, [u8; 16])>,
}

impl Package {
    /// The name dpkg's info files use: NAME, or NAME:ARCH for Multi-Arch: same.
    fn info_name(&self) -> String {
        if self.multi_arch_same {
            format!("{}:{}", self.name, self.arch)
        } else {
            self.name.clone()
        }
    }
}

fn installed_packages(admindir: &Path) -> io::Result<Vec<Package>> {
    let file = File::open(admindir.join("status"))?;
    let mut packages = Vec::new();
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut last: Option<String> = None;
    let mut lines = io::BufReader::new(file).split(b'\n');
    loop {
        let line = lines.next().transpose()?;
        let text = line.as_deref().map(String::from_utf8_lossy);
        match text.as_deref() {
            None | Some("") => {
                if let Some(p) = package_of(&fields) {
                    packages.push(p);
                }
                fields.clear();
                last = None;
                if line.is_none() {
                    break;
                }
            }
            Some(l) if l.starts_with(' ') || l.starts_with('\t') => {
                if let Some(key) = &last {
                    let v = fields.entry(key.clone()).or_default();
                    v.push('\n');
                    v.push_str(l.trim());
                }
            }
            Some(l) => {
                if let Some((k, v)) = l.split_once(':') {
                    fields.insert(k.to_owned(), v.trim().to_owned());
                    last = Some(k.to_owned());
                }
            }
        }
    }
    Ok(packages)
}

fn package_of(fields: &BTreeMap<String, String>) -> Option<Package> {
    let status = fields.get("Status")?;
    if !status.ends_with(" installed") {
        return None;
    }
    let conffiles = fields
        .get("Conffiles")
        .map(|c| {
            c.lines()
                .filter_map(|l| {
                    let mut parts = l.split_whitespace();
                    let path = parts.next()?;
                    let md5 = parse_hex::<16>(parts.next()?)?;
                    // "obsolete" or "remove-on-upgrade" conffiles are not the package's now.
                    parts.next().is_none().then(|| (PathBuf::from(path), md5))
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Package {
        name: fields.get("Package")?.clone(),
        arch: fields.get("Architecture").cloned().unwrap_or_default(),
        version: fields.get("Version")?.clone(),
        multi_arch_same: fields.get("Multi-Arch").map(String::as_str) == Some("same"),
        conffiles,
    })
}

fn from_dpkg(args: &FromDpkgArgs) -> ExitCode {
    if let Err(code) = require_root("from-dpkg") {
        return code;
    }
    let start = Instant::now();
    let admindir = args
        .admindir
        .clone()
        .unwrap_or_else(|| args.root.join("var/lib/dpkg"));
    let mut packages = match installed_packages(&admindir) {
        Ok(p) => p,
        Err(e) => {
            output::error(format_args!("{}: {e}", admindir.join("status").display()));
            return Status::Error.into();
        }
    };
    if !args.packages.is_empty() {
        let wanted: HashSet<&str> = args.packages.iter().map(String::as_str).collect();
        let found: HashSet<String> = packages
            .iter()
            .flat_map(|p| [p.name.clone(), format!("{}:{}", p.name, p.arch)])
            .filter(|n| wanted.contains(n.as_str()))
            .collect();
        let unknown: Vec<&&str> = wanted.iter().filter(|w| !found.contains(**w)).collect();
        if !unknown.is_empty() {
            for name in unknown {
                output::error(format_args!("{name}: no such installed package"));
            }
            return Status::Error.into();
        }
        packages.retain(|p| {
            wanted.contains(p.name.as_str())
                || wanted.contains(format!("{}:{}", p.name, p.arch).as_str())
        });
    }
    let everything = args.packages.is_empty();
    let names: HashSet<String> = packages.iter().map(Package::info_name).collect();
    trust_packages(
        &packages,
        &args.root,
        &admindir,
        &HashMap::new(),
        |writer| {
            writer.retain(|e| match &e.source {
                Source::Package { name, .. } => !everything && !names.contains(name),
                _ => true,
            })
        },
        &args.out,
        start,
    )
}

/// What a file of a package must hash to.
#[derive(Clone, Copy)]
enum Expected {
    /// dpkg's digest of a file (md5sums, conffiles).
    Md5([u8; 16]),
    /// A maintainer script staged from the archive it came from.
    Sha256([u8; 32]),
    /// A maintainer script of which no digest is kept: trusted as dpkg
    /// left it (root's, in dpkg's root-only directory).
    AsKept,
}

/// The maintainer scripts dpkg runs.
const MAINTAINER_SCRIPTS: [&str; 5] = ["preinst", "postinst", "prerm", "postrm", "config"];

/// Trusts every file of `packages` (installed under `root`, dpkg's
/// database in `admindir`) and their maintainer scripts (`staged` gives
/// the digests of those that were staged), after `clear` has dropped what
/// they replace.
fn trust_packages(
    packages: &[Package],
    root: &Path,
    admindir: &Path,
    staged: &HashMap<PathBuf, [u8; 32]>,
    clear: impl FnOnce(&mut Writer),
    out: &Progress,
    start: Instant,
) -> ExitCode {
    // The work: every file of every package, with what it must hash to.
    let mut items: Vec<(PathBuf, Expected, usize)> = Vec::new();
    let mut refused_lists = Vec::new();
    for (i, p) in packages.iter().enumerate() {
        let md5sums = admindir
            .join("info")
            .join(format!("{}.md5sums", p.info_name()));
        match std::fs::read(&md5sums) {
            Ok(text) => {
                for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                    let parsed = (line.len() > 34 && &line[32..34] == b"  ")
                        .then(|| {
                            std::str::from_utf8(&line[..32])
                                .ok()
                                .and_then(parse_hex::<16>)
                        })
                        .flatten();
                    match parsed {
                        Some(md5) => items.push((
                            root.join(OsStr::from_bytes(&line[34..])),
                            Expected::Md5(md5),
                            i,
                        )),
                        None => refused_lists.push(format!(
                            "{}: a line that is no md5sums line",
                            md5sums.display()
                        )),
                    }
                }
            }
            // Packages without files (metapackages) have no md5sums.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => refused_lists.push(format!("{}: {e}", md5sums.display())),
        }
        for (path, md5) in &p.conffiles {
            let relative = path.strip_prefix("/").unwrap_or(path);
            items.push((root.join(relative), Expected::Md5(*md5), i));
        }
        for script in MAINTAINER_SCRIPTS {
            let path = admindir
                .join("info")
                .join(format!("{}.{script}", p.info_name()));
            if path.symlink_metadata().is_ok() {
                let expected = staged
                    .get(&path)
                    .map_or(Expected::AsKept, |d| Expected::Sha256(*d));
                items.push((path, expected, i));
            }
        }
    }
    let meter = Meter::new(out.progress, items.len());
    let results = parallel(&items, |(path, expected, i)| {
        let r = hash(path, false, &meter.bytes).and_then(|h| {
            let (here, theirs, whose) = match expected {
                Expected::Md5(md5) if &h.md5 != md5 => (hex(&h.md5), hex(md5), "dpkg's database"),
                Expected::Sha256(sha) if &h.sha256 != sha => {
                    (hex(&h.sha256), hex(sha), "the archive staged")
                }
                _ => return Ok(h),
            };
            Err(Failure::Refused(format!(
                "{}: content differs from {}'s digest ({here} here, {theirs} in {whose}): \
                 not trusted",
                path.display(),
                packages[*i].name,
            )))
        });
        meter.tick();
        r
    });
    meter.finish();
    for message in &refused_lists {
        output::error(message);
    }
    let sources: Vec<Source> = packages
        .iter()
        .map(|p| Source::Package {
            name: p.info_name(),
            version: p.version.clone(),
        })
        .collect();
    let status = if refused_lists.is_empty() {
        Status::Ok
    } else {
        Status::Denied
    };
    record_bulk(
        status,
        items.iter().map(|(p, _, _)| p.clone()).collect(),
        results,
        |i| sources[items[i].2].clone(),
        clear,
        out.json,
        start,
    )
}

/// Does the policy turn trust on? A policy that cannot be read counts as
/// on: staging only adds what root's archives hold, and under a policy that
/// cannot be read every check denies anyway.
fn trust_on() -> bool {
    match SystemPolicy::load() {
        Ok(None) => false,
        Ok(Some(policy)) => policy.trust != TrustMode::Off,
        Err(_) => true,
    }
}

fn stage(args: &StageArgs) -> ExitCode {
    if let Err(code) = require_root("stage") {
        return code;
    }
    let start = Instant::now();
    let mut debs = args.debs.clone();
    if args.apt {
        // Read all of it, trust on or off: apt writes the list whatever
        // the hook does with it.
        for line in io::stdin().lock().split(b'\n') {
            let line = match line {
                Ok(line) => line,
                Err(e) => {
                    output::error(format_args!("standard input: {e}"));
                    return Status::Error.into();
                }
            };
            // Version 1 of the protocol: one archive a line ("**CONFIGURE**"
            // and the like name no archive).
            if !line.is_empty() && !line.starts_with(b"**") {
                debs.push(PathBuf::from(OsString::from_vec(line)));
            }
        }
        if !trust_on() {
            return Status::Ok.into();
        }
    }
    let results = parallel(&debs, |deb| archive_digests(deb, &args.admindir));
    let mut staged = Vec::new();
    let mut failed = false;
    for (deb, result) in debs.iter().zip(results) {
        match result {
            Ok(digests) => staged.extend(digests),
            Err(e) => {
                output::error(format_args!("{}: {e}", deb.display()));
                failed = true;
            }
        }
    }
    if failed {
        output::error("nothing staged");
        return Status::Error.into();
    }
    if staged.is_empty() {
        return Status::Ok.into();
    }
    let mut writer = match open_writer() {
        Ok(writer) => writer,
        Err(code) => return code,
    };
    let count = staged.len();
    for digest in staged {
        writer.stage(digest);
    }
    if let Err(code) = commit(writer) {
        return code;
    }
    println!(
        "mayexec trust: staged {count} digests of {} archives in {:.1} s",
        debs.len(),
        start.elapsed().as_secs_f64()
    );
    Status::Ok.into()
}

/// Runs `dpkg-deb ARGS DEB` and hands its standard output to `read`.
fn dpkg_deb<T>(
    args: &[&str],
    deb: &Path,
    read: impl FnOnce(&mut dyn Read) -> Result<T, String>,
) -> Result<T, String> {
    let mut child = std::process::Command::new("dpkg-deb")
        .args(args)
        .arg(deb)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("dpkg-deb: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped");
    let result = read(&mut stdout);
    // Whatever was not read (an error above) must not block the child.
    let _ = io::copy(&mut stdout, &mut io::sink());
    let output = child
        .wait_with_output()
        .map_err(|e| format!("dpkg-deb: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "dpkg-deb {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    result
}

/// The paths a file the archive names `relative` will have once installed:
/// as written, and as its descriptor will name it (the longest ancestor
/// that exists resolved, for /bin → usr/bin and the like).
fn installed_paths(relative: &Path) -> Vec<PathBuf> {
    let literal = Path::new("/").join(relative.strip_prefix(".").unwrap_or(relative));
    let mut paths = vec![literal.clone()];
    let mut ancestor = literal.parent();
    while let Some(dir) = ancestor {
        if let Ok(real) = dir.canonicalize() {
            let rest = literal.strip_prefix(dir).expect("an ancestor");
            let resolved = real.join(rest);
            if resolved != literal {
                paths.push(resolved);
            }
            break;
        }
        ancestor = dir.parent();
    }
    paths
}

/// The staged digests of one archive: its files at the paths they will
/// have, its maintainer scripts where dpkg runs them (`tmp.ci` while it
/// unpacks, `info` after).
fn archive_digests(deb: &Path, admindir: &Path) -> Result<Vec<Staged>, String> {
    let fields = dpkg_deb(&["--field"], deb, |out| {
        let mut text = String::new();
        out.read_to_string(&mut text).map_err(|e| e.to_string())?;
        Ok(text)
    });
    let fields = fields?;
    let field = |name: &str| {
        fields.lines().find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_owned())
        })
    };
    let (Some(name), Some(version)) = (field("Package"), field("Version")) else {
        return Err("no Package or Version field".into());
    };
    let info_name = match (field("Multi-Arch").as_deref(), field("Architecture")) {
        (Some("same"), Some(arch)) => format!("{name}:{arch}"),
        _ => name,
    };
    let source = Source::Package {
        name: info_name.clone(),
        version,
    };
    let mut staged = Vec::new();
    let mut push = |paths: Vec<PathBuf>, sha256: [u8; 32]| {
        for path in paths {
            staged.push(Staged::new(path, sha256, source.clone()));
        }
    };
    let files = dpkg_deb(&["--fsys-tarfile"], deb, |out| tar_digests(out))?;
    for (relative, sha256) in files {
        push(installed_paths(&relative), sha256);
    }
    let control = dpkg_deb(&["--ctrl-tarfile"], deb, |out| tar_digests(out))?;
    for (relative, sha256) in control {
        let Some(script) = relative.file_name().and_then(OsStr::to_str) else {
            continue;
        };
        if MAINTAINER_SCRIPTS.contains(&script) {
            push(
                [
                    admindir.join("info").join(format!("{info_name}.{script}")),
                    admindir.join("tmp.ci").join(script),
                ]
                .iter()
                .flat_map(|p| installed_paths(p.strip_prefix("/").unwrap_or(p)))
                .collect(),
                sha256,
            );
        }
    }
    Ok(staged)
}

/// The SHA-256 of every regular file (and hard link) of a tar stream.
fn tar_digests(out: &mut dyn Read) -> Result<Vec<(PathBuf, [u8; 32])>, String> {
    let mut digests: Vec<(PathBuf, [u8; 32])> = Vec::new();
    let mut by_path: HashMap<PathBuf, [u8; 32]> = HashMap::new();
    let mut archive = tar::Archive::new(out);
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path().map_err(|e| e.to_string())?.into_owned();
        let sha256 = match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut sha = Sha256::new();
                io::copy(&mut entry, &mut sha).map_err(|e| e.to_string())?;
                sha.finalize().into()
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name()
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("{}: a hard link to nothing", path.display()))?;
                *by_path.get(target.as_ref()).ok_or_else(|| {
                    format!(
                        "{}: a hard link to {}, not earlier in the archive",
                        path.display(),
                        target.display()
                    )
                })?
            }
            _ => continue,
        };
        by_path.insert(path.clone(), sha256);
        digests.push((path, sha256));
    }
    Ok(digests)
}

fn sync(args: &SyncArgs) -> ExitCode {
    if let Err(code) = require_root("sync") {
        return code;
    }
    if args.apt && !trust_on() {
        return Status::Ok.into();
    }
    let start = Instant::now();
    // What the database says now: the packages and versions it trusts, and
    // what was staged.
    let (trusted, staged) = match Database::open_system() {
        Ok(db) => {
            let read = db.entries().and_then(|e| Ok((e, db.staged()?)));
            match read {
                Ok(read) => read,
                Err(error) => {
                    output::error(error);
                    return Status::Error.into();
                }
            }
        }
        Err(TrustError::Missing { .. }) => (Vec::new(), Vec::new()),
        Err(error) => {
            output::error(error);
            return Status::Error.into();
        }
    };
    let installed = match installed_packages(&args.admindir) {
        Ok(p) => p,
        Err(e) => {
            output::error(format_args!(
                "{}: {e}",
                args.admindir.join("status").display()
            ));
            return Status::Error.into();
        }
    };
    let version_of: HashMap<String, String> = installed
        .iter()
        .map(|p| (p.info_name(), p.version.clone()))
        .collect();
    // Changed: staged, or trusted at another version than the one installed.
    // Gone: trusted, no longer installed.
    let mut changed: HashSet<String> = HashSet::new();
    let mut gone: HashSet<String> = HashSet::new();
    let package_sources = trusted
        .iter()
        .map(|e| &e.source)
        .chain(staged.iter().map(|s| &s.source));
    for (i, source) in package_sources.enumerate() {
        let Source::Package { name, version } = source else {
            continue;
        };
        match version_of.get(name) {
            Some(now) if i >= trusted.len() || now != version => {
                changed.insert(name.clone());
            }
            Some(_) => {}
            None => {
                gone.insert(name.clone());
            }
        }
    }
    let packages: Vec<Package> = installed
        .into_iter()
        .filter(|p| changed.contains(&p.info_name()))
        .collect();
    // The maintainer scripts' digests, of the versions now installed.
    let scripts: HashMap<PathBuf, [u8; 32]> = staged
        .iter()
        .filter(|s| match &s.source {
            Source::Package { name, version } => version_of.get(name) == Some(version),
            _ => false,
        })
        .map(|s| (s.path.clone(), s.sha256))
        .collect();
    if !args.out.json {
        println!(
            "mayexec trust: {} packages changed, {} removed, {} digests staged",
            packages.len(),
            gone.len(),
            staged.len()
        );
    }
    if packages.is_empty() && gone.is_empty() && staged.is_empty() {
        return output::report(&Outcome::default(), args.out.json, |_| Ok(()), Status::Ok);
    }
    trust_packages(
        &packages,
        Path::new("/"),
        &args.admindir,
        &scripts,
        |writer| {
            writer.retain(|e| match &e.source {
                Source::Package { name, .. } => !changed.contains(name) && !gone.contains(name),
                _ => true,
            });
            writer.retain_staged(|_| false);
        },
        &args.out,
        start,
    )
}
