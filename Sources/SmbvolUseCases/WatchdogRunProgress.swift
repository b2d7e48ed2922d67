import SmbvolConfig
import SmbvolLogging
import SmbvolSystem

/// The hook's backstop: if the process still runs half a second after its deadline, children
/// are killed and it exits — 0 for operations that must not fail; for start and migration 1
/// until the mount and locks are recorded, then per `on_cluster_error`.
public struct WatchdogRunProgress: RunProgress {
    public let configuration: SmbvolConfiguration
    public let domainName: String

    public init(configuration: SmbvolConfiguration, domainName: String) {
        self.configuration = configuration
        self.domainName = domainName
    }

    public func began(_ operation: String, mayFail: Bool) {
        // The start's own deadline, measured from the process's start (the hook armed the
        // watchdog at its first instruction; an operator's `attach` with its command deadline).
        DeadlineWatchdog.setExitStatus(mayFail ? 1 : 0)
        DeadlineWatchdog.setDeadline(
            secondsAfterArming: configuration.deadlineSeconds + 0.5,
            message: "smbvol: \(operation) for domain \(LineEscaping.oneLine(domainName)) did not finish within deadline_seconds = \(configuration.deadlineSeconds); child processes killed")
    }

    public func attachmentRecorded() {
        DeadlineWatchdog.setExitStatus(configuration.policy.onClusterError == .fail ? 1 : 0)
    }

    public func givingBack() { DeadlineWatchdog.setExitStatus(1) }
}
