//! `mayexec scan`: what would enforcement break under these trees?

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use std::sync::Arc;

use mayexec::policy::{PolicyError, TrustMode};
use mayexec::trust::TrustStore;
use mayexec::{BackendChoice, Checker, Level, SystemPolicy};
use mayexec_rollout::scan::{scan, CodeFile, Finding, Progress, ScanOptions, ScanReport, Summary};
use serde::Serialize;

use crate::{output, Status};

/// Find the files interpreters load as code and say which would be denied.
///
/// Walks each PATH in parallel, never following symlinks (a PATH that is a
/// symlink is followed, like `find -H`) and staying on each PATH's file
/// system. Code files are those with a `#!` first line or a name ending in
/// .py .pyc .pyz .pth .sh .bash .zsh .ksh .pl .pm .rb .lua .php .tcl .awk.
/// Each is opened as an interpreter opens a script and that open file is
/// checked: without --level, the full check (the kernel's AT_EXECVE_CHECK
/// where it exists); with --level, the RFC's level (0–2 emulated; 3 as
/// without --level). The verdict is for the user running the scan: run it
/// as the user your interpreters run as to see their view.
///
/// When the system policy asks for content trust (`trust = "audit"` or
/// "required" in /etc/mayexec.conf), or with --trust, a code file the check
/// allows must also be in the trust database, on a mount the policy's
/// `trust_mounts` lists: otherwise it would be denied with reason
/// untrusted-content (trust-unavailable when the database cannot be used).
///
/// The report lists denied files by directory and reason (all code files
/// with --all), code files with an unsafe mode (writable by group or
/// others, or set-id: `mayexec mark` never makes them executable), FIFOs,
/// sockets and devices (never opened), the mount points not entered, and
/// ends with a summary. Unreadable directories and files that vanish are
/// reported on stderr and counted; the walk goes on.
///
/// Exit status: 0 nothing would be denied, 1 something would be denied or
/// a code file has an unsafe mode, 2 usage error, a PATH that does not
/// exist, or trees not fully examined (an unreadable or changed directory,
/// an unreadable file: the report covers only what was seen).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    mayexec scan /usr/lib/python3 /usr/local/bin\n  \
    mayexec scan --level 1 --json /home > scan.jsonl\n  \
    runuser -u www-data -- mayexec scan /srv/app")]
pub struct Args {
    #[command(flatten)]
    pub walk: WalkArgs,
    /// Write JSON lines: one object per code file, unsafe mode, special
    /// file, mount point not entered and problem ("type": "code",
    /// "unsafe-mode", "special", "other-filesystem", "problem"), then one
    /// "type": "summary".
    #[arg(long)]
    json: bool,
    /// List allowed code files too, not only denied ones.
    #[arg(long)]
    all: bool,
    /// Consult the trust database even when the policy does not ask for
    /// content trust: what `trust = "required"` would refuse.
    #[arg(long)]
    trust: bool,
    /// Trees or files to scan.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<OsString>,
}

/// The walk and the check, shared with `mark`.
#[derive(Debug, clap::Args)]
pub struct WalkArgs {
    /// The RFC's level: 0 none, 1 mount (noexec), 2 file (execute
    /// permission), 3 both. Without it, the full check.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=3))]
    pub level: Option<u8>,
    /// Worker threads [default: the number of available cores].
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: Option<u16>,
    /// Also enter directories on other file systems (mount points).
    #[arg(long, short = 'x')]
    pub cross_filesystems: bool,
}

impl WalkArgs {
    /// The scan options, or a message for a checker that cannot be built.
    pub fn options(&self) -> Result<ScanOptions, mayexec::CheckerError> {
        let checker = match self.level.and_then(Level::from_u8) {
            None => Checker::full(),
            Some(level) => Checker::new(level, BackendChoice::Auto)?,
        };
        let mut options = ScanOptions::new(checker);
        if let Some(jobs) = self.jobs {
            options.jobs = usize::from(jobs);
        }
        options.cross_filesystems = self.cross_filesystems;
        Ok(options)
    }
}

/// The roots that exist (each missing one is reported), and whether all do.
pub fn existing_roots(paths: &[OsString]) -> (Vec<PathBuf>, bool) {
    let mut all = true;
    let roots = paths
        .iter()
        .filter(|p| match std::fs::metadata(p) {
            Ok(_) => true,
            Err(e) => {
                output::error(format_args!("{}: {e}", Path::new(p).display()));
                all = false;
                false
            }
        })
        .map(PathBuf::from)
        .collect();
    (roots, all)
}

/// Runs the scan with a progress line on stderr when stderr is a terminal.
pub fn run_scan(roots: &[PathBuf], options: &ScanOptions) -> ScanReport {
    let progress = Progress::default();
    if !io::stderr().is_terminal() {
        return scan(roots, options, &progress);
    }
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let printer = s.spawn(|| loop {
            // A progress line that cannot be written is only lost.
            let _ = write!(
                io::stderr(),
                "\r\x1b[Kscanning: {} files, {} code files, {} directories",
                progress.files.load(Ordering::Relaxed),
                progress.code_files.load(Ordering::Relaxed),
                progress.directories.load(Ordering::Relaxed),
            );
            if done.load(Ordering::Relaxed) {
                // Leave the terminal's line clean for the report.
                let _ = write!(io::stderr(), "\r\x1b[K");
                break;
            }
            std::thread::park_timeout(Duration::from_millis(150));
        });
        let report = scan(roots, options, &progress);
        done.store(true, Ordering::Relaxed);
        printer.thread().unpark();
        report
    })
}

/// Problems go to stderr, one line each, as `find` reports them.
pub fn report_problems(report: &ScanReport) {
    for finding in &report.findings {
        if let Finding::Problem { path, kind, error } = finding {
            output::error(format_args!(
                "{}: {}: {error}",
                path.display(),
                kind.as_str()
            ));
        }
    }
}

/// Whether the trees were seen whole; if not, says so on stderr (the
/// paths are in the problem lines) and the command must not report
/// success.
pub fn fully_examined(report: &ScanReport) -> bool {
    let unseen = report.summary.not_examined();
    if unseen > 0 {
        output::error(format_args!(
            "not fully examined: {unseen} {} listed above could not be examined; \
             the result covers only the rest",
            if unseen == 1 { "path" } else { "paths" }
        ));
    }
    unseen == 0
}

/// The trust database to consult: the system policy's when it asks for
/// content trust, or with `--trust` (on the mounts the policy lists, if
/// any). `Err` when the policy cannot be read: interpreters then refuse
/// everything, so the scan cannot say what they would allow; with
/// `--trust`, the database is still consulted, with no mount listed.
fn trust_store(args: &Args) -> (Option<Arc<TrustStore>>, Result<(), PolicyError>) {
    let (policy, result) = match SystemPolicy::load() {
        Ok(policy) => (policy, Ok(())),
        Err(error) => (None, Err(error)),
    };
    let asked = policy.as_ref().is_some_and(|p| p.trust != TrustMode::Off);
    let store = (asked || args.trust).then(|| {
        let mounts = policy.map(|p| p.trust_mounts).unwrap_or_default();
        TrustStore::system(&mounts)
    });
    (store, result)
}

pub fn main(args: &Args) -> ExitCode {
    let mut options = match args.walk.options() {
        Ok(options) => options,
        Err(e) => {
            output::error(e);
            return Status::Error.into();
        }
    };
    let (trust, policy) = trust_store(args);
    options.trust = trust;
    if let Err(error) = &policy {
        output::error(format_args!(
            "{error}: interpreters refuse everything under it; the verdicts below are the check's{}",
            if args.trust { " and the trust database's" } else { " alone" }
        ));
    }
    let (roots, all_exist) = existing_roots(&args.paths);
    let report = run_scan(&roots, &options);
    let mut status = if report.summary.denied_total() + report.summary.unsafe_modes > 0 {
        Status::Denied
    } else {
        Status::Ok
    };
    if !all_exist || policy.is_err() {
        status = Status::Error;
    }
    report_problems(&report);
    if !fully_examined(&report) {
        status = Status::Error;
    }
    let result = if args.json {
        print_json(&report, &options)
    } else {
        print_human(&report, &options, args.all)
    };
    output::finish(result.map(|()| status))
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum Line<'a> {
    Code {
        path: String,
        rule: &'static str,
        extension: Option<&'static str>,
        language: &'static str,
        interpreter: Option<&'a str>,
        allowed: bool,
        reason: Option<&'static str>,
        backend: &'static str,
        errno: Option<i32>,
        mode: String,
        uid: u32,
        dev: u64,
        ino: u64,
        fix: Option<String>,
    },
    UnsafeMode {
        path: String,
        mode: String,
        kind: &'static str,
    },
    Special {
        path: String,
        kind: &'static str,
    },
    OtherFilesystem {
        path: String,
    },
    Problem {
        path: String,
        kind: &'static str,
        error: String,
        errno: Option<i32>,
    },
    Summary(JsonSummary),
}

#[derive(Serialize)]
struct JsonSummary {
    check: String,
    backend: &'static str,
    level: u8,
    /// Did verdicts include content trust?
    trust: bool,
    jobs: usize,
    files: u64,
    directories: u64,
    symlinks: u64,
    code_files: u64,
    by_rule: BTreeMap<&'static str, u64>,
    allowed: u64,
    denied: u64,
    denied_by_reason: BTreeMap<&'static str, u64>,
    fixable: u64,
    unsafe_modes: u64,
    special_files: u64,
    other_filesystems: u64,
    problems: u64,
    problems_by_kind: BTreeMap<&'static str, u64>,
    seconds: f64,
    files_per_second: f64,
}

fn code_line(file: &CodeFile) -> Line<'_> {
    Line::Code {
        path: output::json_path(file.path.as_os_str()),
        rule: file.rule.kind(),
        extension: match file.rule {
            mayexec_rollout::scan::Rule::Extension(ext) => Some(ext),
            mayexec_rollout::scan::Rule::Shebang => None,
        },
        language: file.language.as_str(),
        interpreter: file.interpreter.as_deref(),
        allowed: file.verdict.is_allowed(),
        reason: file.verdict.reason().map(|r| r.as_str()),
        backend: file.verdict.backend().as_str(),
        errno: file.verdict.errno(),
        mode: format!("{:04o}", file.mode),
        uid: file.uid,
        dev: file.dev,
        ino: file.ino,
        fix: file.fix.map(|fix| format!("{:04o}", fix.new)),
    }
}

/// What the scan checked, in words.
pub fn describe_check(options: &ScanOptions) -> String {
    let checker = &options.checker;
    let check = match (checker.level(), checker.backend()) {
        (Level::Full, mayexec::Backend::Kernel) => {
            "the full check (kernel, AT_EXECVE_CHECK)".to_owned()
        }
        (level, backend) => format!("level {level} ({backend})"),
    };
    match options.trust {
        Some(_) => format!("{check} and content trust"),
        None => check,
    }
}

fn files_per_second(summary: &Summary) -> f64 {
    summary.files as f64 / summary.elapsed.as_secs_f64().max(1e-9)
}

fn print_json(report: &ScanReport, options: &ScanOptions) -> io::Result<()> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut line = |value: &Line<'_>| -> io::Result<()> {
        serde_json::to_writer(&mut out, value).map_err(io::Error::from)?;
        out.write_all(b"\n")
    };
    for finding in &report.findings {
        line(&match finding {
            Finding::Code(file) => code_line(file),
            Finding::UnsafeMode { path, mode, kind } => Line::UnsafeMode {
                path: output::json_path(path.as_os_str()),
                mode: format!("{mode:04o}"),
                kind: kind.as_str(),
            },
            Finding::Special { path, kind } => Line::Special {
                path: output::json_path(path.as_os_str()),
                kind: kind.as_str(),
            },
            Finding::OtherFilesystem { path } => Line::OtherFilesystem {
                path: output::json_path(path.as_os_str()),
            },
            Finding::Problem { path, kind, error } => Line::Problem {
                path: output::json_path(path.as_os_str()),
                kind: kind.as_str(),
                error: error.to_string(),
                errno: error.raw_os_error(),
            },
        })?;
    }
    let s = &report.summary;
    line(&Line::Summary(JsonSummary {
        check: describe_check(options),
        backend: options.checker.backend().as_str(),
        level: options.checker.level().as_u8(),
        trust: options.trust.is_some(),
        jobs: options.jobs,
        files: s.files,
        directories: s.directories,
        symlinks: s.symlinks,
        code_files: s.code_files,
        by_rule: s.by_rule.clone(),
        allowed: s.allowed,
        denied: s.denied_total(),
        denied_by_reason: s.denied.clone(),
        fixable: s.fixable,
        unsafe_modes: s.unsafe_modes,
        special_files: s.special_files,
        other_filesystems: s.other_filesystems,
        problems: s.problems_total(),
        problems_by_kind: s.problems.iter().map(|(k, v)| (k.as_str(), *v)).collect(),
        seconds: s.elapsed.as_secs_f64(),
        files_per_second: files_per_second(s),
    }))?;
    out.flush()
}

fn print_human(report: &ScanReport, options: &ScanOptions, all: bool) -> io::Result<()> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    // Directory → reason ("allowed" last) → files. Findings are sorted by
    // path, so files keep their order within each group.
    let mut groups: BTreeMap<&Path, BTreeMap<(bool, &str), Vec<&CodeFile>>> = BTreeMap::new();
    for file in report.code_files() {
        if file.verdict.is_allowed() && !all {
            continue;
        }
        let dir = file.path.parent().unwrap_or(Path::new(""));
        let reason = file.verdict.reason().map_or("allowed", |r| r.as_str());
        groups
            .entry(dir)
            .or_default()
            .entry((file.verdict.is_allowed(), reason))
            .or_default()
            .push(file);
    }
    for (dir, reasons) in &groups {
        output::path(&mut out, dir.as_os_str())?;
        writeln!(out, "/")?;
        for ((_, reason), files) in reasons {
            writeln!(out, "  {reason} ({}):", files.len())?;
            for file in files {
                write!(out, "    ")?;
                output::path(&mut out, file.path.file_name().unwrap_or_default())?;
                write!(out, "  [{}] mode {:04o}", file.rule, file.mode)?;
                if let Some(fix) = file.fix {
                    write!(out, ", fix: chmod {:04o}", fix.new)?;
                }
                writeln!(out)?;
            }
        }
    }
    let mut hazards = report
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::UnsafeMode { path, mode, kind } => Some((path, mode, kind)),
            _ => None,
        })
        .peekable();
    if hazards.peek().is_some() {
        writeln!(
            out,
            "unsafe modes (writable by group or others, or set-id; mark never makes them executable):"
        )?;
        for (path, mode, kind) in hazards {
            write!(out, "  ")?;
            output::path(&mut out, path.as_os_str())?;
            writeln!(out, "  mode {mode:04o} {}", kind.as_str())?;
        }
    }
    let mut special = report
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Special { path, kind } => Some((path, kind)),
            _ => None,
        })
        .peekable();
    if special.peek().is_some() {
        writeln!(out, "special files (never opened):")?;
        for (path, kind) in special {
            write!(out, "  ")?;
            output::path(&mut out, path.as_os_str())?;
            writeln!(out, "  {}", kind.as_str())?;
        }
    }
    let mut mounts = report
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::OtherFilesystem { path } => Some(path),
            _ => None,
        })
        .peekable();
    if mounts.peek().is_some() {
        writeln!(
            out,
            "other file systems (not entered; --cross-filesystems enters them):"
        )?;
        for path in mounts {
            write!(out, "  ")?;
            output::path(&mut out, path.as_os_str())?;
            writeln!(out)?;
        }
    }
    print_summary(&mut out, &report.summary, options)?;
    out.flush()
}

fn print_summary(out: &mut impl Write, s: &Summary, options: &ScanOptions) -> io::Result<()> {
    writeln!(out, "summary ({}):", describe_check(options))?;
    writeln!(
        out,
        "  files scanned:      {} in {} directories ({} symlinks not followed)",
        s.files, s.directories, s.symlinks
    )?;
    let rules: Vec<String> = s.by_rule.iter().map(|(k, v)| format!("{k} {v}")).collect();
    writeln!(
        out,
        "  code files:         {}{}",
        s.code_files,
        if rules.is_empty() {
            String::new()
        } else {
            format!(" ({})", rules.join(", "))
        }
    )?;
    writeln!(out, "  allowed:            {}", s.allowed)?;
    writeln!(out, "  would be denied:    {}", s.denied_total())?;
    for (reason, n) in &s.denied {
        write!(out, "    {reason:<20}{n}")?;
        if *reason == "not-executable" {
            write!(out, " ({} fixable with `mayexec mark`)", s.fixable)?;
        }
        writeln!(out)?;
    }
    writeln!(out, "  unsafe modes:       {}", s.unsafe_modes)?;
    writeln!(out, "  special files:      {}", s.special_files)?;
    writeln!(out, "  other file systems: {}", s.other_filesystems)?;
    let problems: Vec<String> = s
        .problems
        .iter()
        .map(|(k, v)| format!("{} {v}", k.as_str()))
        .collect();
    writeln!(
        out,
        "  not examined:       {}{}",
        s.problems_total(),
        if problems.is_empty() {
            String::new()
        } else {
            format!(" ({})", problems.join(", "))
        }
    )?;
    writeln!(
        out,
        "  time:               {:.2} s ({:.0} files/s, {} jobs)",
        s.elapsed.as_secs_f64(),
        files_per_second(s),
        options.jobs
    )
}
