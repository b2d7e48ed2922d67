import AttachmentLocks
import DiskImages
import DomainXML
import HandleEvidence
import StaleHandleCleanup
import LockHygiene
import Logging
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolSystem

/// `smbvol check`: what the start pipeline would decide for a domain, as a dry run — the same
/// locating, evidence and decisions, with nothing mounted and nothing closed.
public struct CheckDomain: Sendable {
    public struct Result: Sendable {
        public var inspection: DomainInspection
        /// Share name → mounted (by export, at its mount point); local shares count as mounted.
        public var mounted: [String: Bool]
        public var requestCount: Int
    }

    public let configuration: SmbvolConfiguration
    public let shares: ShareCatalog
    public let clusters: any ClusterClientMaking
    public let logger: Logger
    public var extraProtectedClients: [String] = []
    public var localAddresses: @Sendable () -> Set<String>
    public var mountTable: any MountTableReading = ProcMountTableReader()

    public init(
        configuration: SmbvolConfiguration, shares: ShareCatalog, clusters: any ClusterClientMaking, logger: Logger,
        extraProtectedClients: [String] = [], localAddresses: @escaping @Sendable () -> Set<String>
    ) {
        self.configuration = configuration
        self.shares = shares
        self.clusters = clusters
        self.logger = logger
        self.extraProtectedClients = extraProtectedClients
        self.localAddresses = localAddresses
    }

    public func callAsFunction(_ domain: DomainDefinition, migration: Bool, force: Bool) throws -> Result {
        let deadline = Deadline.after(.milliseconds(Int64(configuration.deadlineSeconds * 1000)), clock: SystemClock())
        let hygiene = DomainHygiene(
            configuration: configuration, shares: shares,
            attachmentRecords: try AttachmentLockStore(stateDirectory: configuration.stateDirectory).load(),
            localAddresses: localAddresses(), extraProtectedClients: extraProtectedClients, logger: logger,
            clientForCluster: { [clusters, logger] in try clusters.client(forCluster: $0, deadline: deadline, logger: logger) })
        var inspection: DomainInspection
        do {
            let located = try DiskImageLocator(catalog: shares).locate(domain)
            inspection = hygiene.inspect(domain, images: located, operation: migration ? .migration : .start, force: force)
        } catch {
            // As the start pipeline: a disk that cannot be placed is a configuration failure.
            let policy = HygienePolicy.configured(configuration, operation: migration ? .migration : .start, force: force)
            inspection = DomainInspection(
                domainName: domain.name, domainUUID: domain.uuid, policy: policy, images: [], unmanagedDisks: [],
                failure: .configuration(error))
        }
        // A host_id collision and dropped record entries are worth an audit event each (the
        // system log); the command warns on stderr too.
        HygieneAudit(logger: logger).recordHeartbeatAnomalies(inspection)
        return Result(inspection: inspection, mounted: mountStates(), requestCount: hygiene.requestCount)
    }

    private func mountStates() -> [String: Bool] {
        ShareMountQuery(mountTable: mountTable).states(of: shares.shares).mapValues(\.isUsable)
    }
}
