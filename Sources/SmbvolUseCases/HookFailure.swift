import StaleHandleCleanup

/// What stopped a hook run (`prepare` or `migrate`; `LibvirtHookRun` in SmbvolWiring): the
/// executable's `FailureText` makes the one line libvirt shows (and the hook logs) from it;
/// the exit status is 1. Here, below the wiring, so that the presentation can render it.
public enum HookFailure: Error, Sendable {
    /// A live holder refused the start.
    case refused(StartRefusal)
    /// The start (or incoming migration) failed, its migration mark included.
    case failed(StartFailure)
    /// The run stopped before its operation: the configuration, the state directory's trust,
    /// the domain XML or its UUID.
    case stopped(any Error)
}
