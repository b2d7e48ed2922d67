import SmbvolUseCases
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem

/// The start's progress, reported to the watchdog the entry point armed: if the process still
/// runs half a second after its deadline, children are killed and it exits — 0 for operations
/// that must not fail; for start and migration 1 until the mount and locks are recorded, then
/// per `on_cluster_error`. It never moves the deadline.
public struct WatchdogRunProgress: RunProgress {
    public let configuration: SmbvolConfiguration
    public let domainName: String

    public init(configuration: SmbvolConfiguration, domainName: String) {
        self.configuration = configuration
        self.domainName = domainName
    }

    public func began(_ operation: String, mayFail: Bool) {
        // Progress only: the deadline is the one the entry point armed (the hook's, or an
        // operator's `attach` with the start's `deadline_seconds`); this names what was cut off.
        DeadlineWatchdog.setExitStatus(mayFail ? 1 : 0)
        DeadlineWatchdog.setMessage(
            "smbvol: \(operation) for domain \(LineEscaping.oneLine(domainName)) did not finish within deadline_seconds = \(configuration.deadlineSeconds); child processes killed")
    }

    public func attachmentRecorded() {
        DeadlineWatchdog.setExitStatus(configuration.policy.onClusterError == .fail ? 1 : 0)
    }

    public func givingBack() { DeadlineWatchdog.setExitStatus(1) }
}
