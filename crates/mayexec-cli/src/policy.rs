//! `mayexec policy`: show and validate the system policy file.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mayexec::policy::{PolicyError, TrustMode, SYSTEM_POLICY_PATH};
use mayexec::SystemPolicy;
use serde::Serialize;

use crate::{output, Status};

/// The system policy file (/etc/mayexec.conf): the RFC's sysctl, as TOML.
///
///   interpreted_access = 0..3   # 0 none, 1 noexec mounts, 2 execute permission, 3 both
///   deny_interactive = false    # refuse -c, prompts, piped code
///   mode = "enforce"            # or "audit": log denials only
///   trust = "off"               # or "audit", "required": code must be in the trust database
///   trust_mounts = ["/"]        # the mount points where the trust database is honoured
///
/// It is trusted only if it and every directory above it are owned by root
/// and not writable by group or others. A file that exists but is untrusted
/// or malformed makes every enlightened interpreter refuse to run anything.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Show the system policy as the library reads it.
    ///
    /// Exit status: 0 valid or absent, 1 present but unusable.
    Show {
        /// Print a JSON object instead.
        #[arg(long)]
        json: bool,
    },
    /// Validate a policy file the way the library would trust and parse it.
    ///
    /// Exit status: 0 valid (or, without FILE, no system policy), 1 invalid,
    /// untrusted or missing.
    Check {
        /// The file to check [default: the system policy path].
        file: Option<PathBuf>,
    },
}

/// The policy part of `status` and `policy show`.
#[derive(Serialize)]
pub struct Report {
    path: String,
    present: bool,
    trusted: Option<bool>,
    valid: Option<bool>,
    pub error: Option<String>,
    interpreted_access: Option<u8>,
    deny_interactive: Option<bool>,
    mode: Option<&'static str>,
    trust: Option<&'static str>,
    trust_mounts: Option<Vec<String>>,
}

impl Report {
    pub fn from_load(path: &Path, loaded: &Result<Option<SystemPolicy>, PolicyError>) -> Report {
        let mut report = Report {
            path: output::json_path(path.as_os_str()),
            present: true,
            trusted: None,
            valid: None,
            error: None,
            interpreted_access: None,
            deny_interactive: None,
            mode: None,
            trust: None,
            trust_mounts: None,
        };
        match loaded {
            Ok(None) => report.present = false,
            Ok(Some(policy)) => {
                report.trusted = Some(true);
                report.valid = Some(true);
                report.interpreted_access = Some(policy.interpreted_access.as_u8());
                report.deny_interactive = Some(policy.deny_interactive);
                report.mode = Some(policy.mode.as_str());
                report.trust = Some(policy.trust.as_str());
                report.trust_mounts = Some(
                    policy
                        .trust_mounts
                        .iter()
                        .map(|m| output::json_path(m.as_os_str()))
                        .collect(),
                );
            }
            Err(e) => {
                report.error = Some(e.to_string());
                match e {
                    PolicyError::Untrusted { .. } => report.trusted = Some(false),
                    PolicyError::Malformed { .. } => {
                        report.trusted = Some(true);
                        report.valid = Some(false);
                    }
                    // A read error (or a fault a newer library knows) is
                    // neither trusted nor valid yet.
                    _ => {}
                }
            }
        }
        report
    }
}

pub fn print_report(out: &mut impl Write, r: &Report) -> io::Result<()> {
    write!(out, "system policy {}: ", r.path)?;
    if !r.present {
        return writeln!(out, "none (no file: no system policy)");
    }
    if let Some(error) = &r.error {
        return writeln!(
            out,
            "UNUSABLE: enlightened interpreters refuse to run anything\n  {error}"
        );
    }
    writeln!(out, "trusted")?;
    writeln!(
        out,
        "  interpreted_access = {}\n  deny_interactive = {}\n  mode = {:?}\n  trust = {:?}\n  trust_mounts = {}",
        r.interpreted_access.unwrap_or(0),
        r.deny_interactive.unwrap_or(false),
        r.mode.unwrap_or("enforce"),
        r.trust.unwrap_or("off"),
        toml_list(r.trust_mounts.as_deref().unwrap_or_default())
    )
}

/// `["/", "/usr"]`, as the file writes it (each string quoted, a quote or
/// a backslash in it escaped).
fn toml_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

pub fn main(command: &Command) -> ExitCode {
    match command {
        Command::Show { json } => {
            let loaded = SystemPolicy::load();
            let report = Report::from_load(SYSTEM_POLICY_PATH.as_ref(), &loaded);
            let status = if loaded.is_ok() {
                Status::Ok
            } else {
                Status::Denied
            };
            let result = if *json {
                output::json(&report)
            } else {
                print_report(&mut io::stdout().lock(), &report)
            };
            output::finish(result.map(|()| status))
        }
        Command::Check { file } => check(file.as_deref()),
    }
}

fn check(file: Option<&Path>) -> ExitCode {
    let path = file.unwrap_or(Path::new(SYSTEM_POLICY_PATH));
    if let Some(note) =
        crate::userns::file_policy_exposure(&crate::userns::HostUserNamespaces::read())
    {
        let _ = writeln!(io::stderr(), "mayexec: warning: {note}");
    }
    match SystemPolicy::load_from(path) {
        Ok(Some(policy)) => {
            // Content trust, when the file sets it (a file without it reads
            // as it always has).
            let trust = if policy.trust != TrustMode::Off || !policy.trust_mounts.is_empty() {
                let mounts: Vec<String> = policy
                    .trust_mounts
                    .iter()
                    .map(|m| output::json_path(m.as_os_str()))
                    .collect();
                format!(
                    ", trust = {:?}, trust_mounts = {}",
                    policy.trust.as_str(),
                    toml_list(&mounts)
                )
            } else {
                String::new()
            };
            output::finish(
                writeln!(
                    io::stdout(),
                    "{}: valid: interpreted_access = {}, deny_interactive = {}, mode = {:?}{trust}",
                    path.display(),
                    policy.interpreted_access,
                    policy.deny_interactive,
                    policy.mode.as_str()
                )
                .map(|()| Status::Ok),
            )
        }
        Ok(None) if file.is_none() => output::finish(
            writeln!(
                io::stdout(),
                "{}: no such file: no system policy is in force",
                path.display()
            )
            .map(|()| Status::Ok),
        ),
        Ok(None) => {
            output::error(format_args!("{}: no such file", path.display()));
            Status::Denied.into()
        }
        Err(e) => {
            output::error(e);
            Status::Denied.into()
        }
    }
}
