//! What `status` and `policy check` say about user namespaces on this host:
//! the host's sysctls and whether this process can create one. (Which
//! namespace a file's owner is judged in is the library's `mayexec::userns`.)

/// What `status` and `policy check` say when the host lets unprivileged
/// users create user namespaces with capabilities: with one, a user can
/// `chroot` into a root of their own, where the system policy file is
/// absent or theirs. `None` when the host closes that.
pub fn file_policy_exposure(host: &HostUserNamespaces) -> Option<String> {
    if !host.unprivileged_can_chroot() {
        return None;
    }
    let setting = match (host.unprivileged_userns_clone, host.max_user_namespaces) {
        (Some(clone), _) => format!("kernel.unprivileged_userns_clone = {clone}"),
        (None, Some(max)) => format!("user.max_user_namespaces = {max}"),
        (None, None) => "no sysctl limits them".to_owned(),
    };
    Some(format!(
        "unprivileged users can create user namespaces on this host ({setting}): with one \
         they can chroot into a root of their own, where {} is absent or theirs, so the \
         system policy file does not hold against local users (the securebits of a \
         `mayexec run` tree and Landlock still do); close it with `{}`",
        mayexec::policy::SYSTEM_POLICY_PATH,
        host.how_to_close()
    ))
}

/// Whether unprivileged users of this host can create user namespaces, from
/// the sysctls that govern it (each `None` where the kernel lacks it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HostUserNamespaces {
    /// `kernel.unprivileged_userns_clone` (Debian and Ubuntu kernels).
    pub unprivileged_userns_clone: Option<u64>,
    /// `user.max_user_namespaces`.
    pub max_user_namespaces: Option<u64>,
    /// `kernel.apparmor_restrict_unprivileged_userns` (Ubuntu): new
    /// namespaces of unprivileged users get no capabilities in them.
    pub apparmor_restrict_unprivileged_userns: Option<u64>,
}

impl HostUserNamespaces {
    /// Reads the sysctls under `/proc/sys`.
    pub fn read() -> HostUserNamespaces {
        let read = |path: &str| -> Option<u64> {
            std::fs::read_to_string(path)
                .ok()
                .and_then(|text| text.trim().parse().ok())
        };
        HostUserNamespaces {
            unprivileged_userns_clone: read("/proc/sys/kernel/unprivileged_userns_clone"),
            max_user_namespaces: read("/proc/sys/user/max_user_namespaces"),
            apparmor_restrict_unprivileged_userns: read(
                "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
            ),
        }
    }

    /// Can an unprivileged user create a user namespace at all? (Its
    /// securebits are then reset, unless a seccomp filter such as the one
    /// `mayexec run` installs stops it.)
    pub fn unprivileged_can_create(&self) -> bool {
        self.max_user_namespaces != Some(0) && self.unprivileged_userns_clone != Some(0)
    }

    /// Can an unprivileged user create a user namespace *with* capabilities
    /// in it, and so `chroot` into a root of their own where the system
    /// policy file is absent or theirs? When so, the policy file does not
    /// hold against local users.
    pub fn unprivileged_can_chroot(&self) -> bool {
        self.unprivileged_can_create()
            && !matches!(self.apparmor_restrict_unprivileged_userns, Some(v) if v != 0)
    }

    /// The sysctl settings that close it, for a hint.
    pub fn how_to_close(&self) -> &'static str {
        if self.unprivileged_userns_clone.is_some() {
            "sysctl kernel.unprivileged_userns_clone=0 (or user.max_user_namespaces=0)"
        } else {
            "sysctl user.max_user_namespaces=0"
        }
    }
}

/// Is the calling process unable to create user namespaces because of a
/// seccomp filter (such as the one `mayexec run` installs)? A side-effect
/// free probe: `unshare(CLONE_NEWUSER)` with an invalid extra flag, which the
/// filter refuses before the kernel validates the flags.
pub fn creation_blocked() -> bool {
    matches!(
        crate::uapi::unshare_newuser_probe(),
        Err(e) if e == rustix::io::Errno::PERM || e == rustix::io::Errno::NOSYS
    )
}
