//! What `status` and `policy check` say about user namespaces on this host.

/// What `status` and `policy check` say when the host lets unprivileged
/// users create user namespaces with capabilities: with one, a user can
/// `chroot` into a root of their own, where the system policy file is
/// absent or theirs. `None` when the host closes that.
pub fn file_policy_exposure(host: &mayexec::userns::HostUserNamespaces) -> Option<String> {
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
