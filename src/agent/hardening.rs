//! The agent process's own protection: no core files, and whether its
//! memory is closed to the user's other programs.

/// No core files of the agent. It stays *dumpable*, deliberately: a
/// non-dumpable process's `/proc/PID/exe` is closed to the user's other
/// processes, and that is the kernel's only word on which program
/// listens on `agent.sock` — without it a client could not tell the agent
/// from a program posing as it, and would hand that program the PIN
/// ([`crate::link::peer`]). Reading the agent's memory is then what ptrace
/// allows: under Yama's `ptrace_scope` 1 or more (Ubuntu's default) no
/// program of the user but root's may; without Yama any could — as it
/// could read a client's, where the PIN is typed ([`memory_closed`]).
pub fn harden_process() {
    let _ = rustix::process::setrlimit(
        rustix::process::Resource::Core,
        rustix::process::Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
}

/// Whether the user's other programs are kept from reading this
/// process's memory: it is not dumpable, or Yama restricts ptrace.
pub fn memory_closed() -> bool {
    let not_dumpable = matches!(
        rustix::process::dumpable_behavior(),
        Ok(rustix::process::DumpableBehavior::NotDumpable)
    );
    let yama = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(0);
    not_dumpable || yama >= 1
}
