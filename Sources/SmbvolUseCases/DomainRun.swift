import DomainXML
import Logging
import QumuloClient
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolSystem

/// The resolved inputs every use case about one domain starts from: the configuration and its
/// shares (resolved once, at load), the domain, and the run's two deadlines.
public struct DomainRun: Sendable {
    public let configuration: SmbvolConfiguration
    public let shares: ShareCatalog
    public let domain: DomainDefinition
    public let uuid: DomainUUID
    public let deadlines: RunDeadlines
    public let logger: Logger

    public init(
        configuration: SmbvolConfiguration, shares: ShareCatalog, domain: DomainDefinition, uuid: DomainUUID,
        deadlines: RunDeadlines, logger: Logger
    ) {
        self.configuration = configuration
        self.shares = shares
        self.domain = domain
        self.uuid = uuid
        self.deadlines = deadlines
        self.logger = logger
    }
}

/// When the work (mounting, asking the cluster, closing) must be done, and the overall deadline:
/// the time between them is kept for giving back what a failed run took (unmount, drop its
/// locks), so a timeout never leaves a mount behind.
public struct RunDeadlines: Sendable {
    public let work: Deadline
    public let cleanup: Deadline

    public init(work: Deadline, cleanup: Deadline) {
        self.work = work
        self.cleanup = cleanup
    }

    /// `deadline_seconds`, of which a quarter (at most 5 s) is the cleanup reserve.
    public init(configuration: SmbvolConfiguration, clock: any MonotonicClock = SystemClock()) {
        let overall = configuration.deadlineSeconds
        let reserve = min(5, overall * 0.25)
        work = .after(.milliseconds(Int64((overall - reserve) * 1000)), clock: clock)
        cleanup = .after(.milliseconds(Int64(overall * 1000)), clock: clock)
    }
}

/// Where a use case tells the process's deadline backstop how a timeout must end now (the hook
/// arms a watchdog; commands and tests need none).
public protocol RunProgress: Sendable {
    /// The work begins; a timeout from here fails (`mayFail`) or is survived.
    func began(_ operation: String, mayFail: Bool)
    /// The mount and locks of a start are recorded: a timeout now is a cluster that cannot be
    /// asked (`on_cluster_error`).
    func attachmentRecorded()
    /// Something this run took is being given back: a timeout now must fail the start.
    func givingBack()
}

/// No backstop (operator commands are bounded by `command_deadline_seconds`; tests).
public struct NoRunProgress: RunProgress {
    public init() {}
    public func began(_ operation: String, mayFail: Bool) {}
    public func attachmentRecorded() {}
    public func givingBack() {}
}

/// A client per cluster name (nil: the only configured cluster), bounded by a deadline.
public protocol ClusterClientMaking: Sendable {
    func client(forCluster name: String?, deadline: Deadline, logger: Logger) throws -> QumuloClient
}

/// What a step that must not ask a cluster (none is configured) throws if it ever did.
struct ClusterNotAsked: Error, CustomStringConvertible {
    var description: String { "no cluster is asked here" }
}
