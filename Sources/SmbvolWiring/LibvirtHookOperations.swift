import SmbvolUseCases
import DomainXML
import HandleEvidence
import StaleHandleCleanup
import Logging
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem

/// The libvirt hook's operations for one domain, each one use case: the start pipeline for
/// `prepare` and `migrate`, release, reconnect, and the incoming-migration mark around them.
/// LibvirtHookRun turns the outcome into the exit status and the one stderr line libvirt shows.
public struct LibvirtHookOperations {
    public enum Outcome: Sendable {
        case succeeded
        /// A start refused (a live holder): exit 1.
        case refused(StartRefusal)
        /// A start that failed: exit 1.
        case failed(StartFailure)
    }

    public let configuration: SmbvolConfiguration
    public let domain: DomainDefinition
    public let uuid: DomainUUID
    public let logger: Logger
    /// The configured shares, resolved once; a configuration that does not resolve fails a
    /// start and is logged by the operations that never fail.
    public let shares: Result<ShareCatalog, any Error>

    public init(configuration: SmbvolConfiguration, domain: DomainDefinition, uuid: DomainUUID, logger: Logger, shares: Result<ShareCatalog, any Error>) {
        self.configuration = configuration
        self.domain = domain
        self.uuid = uuid
        self.logger = logger
        self.shares = shares
    }

    private var marks: IncomingMigrationMarks { IncomingMigrationMarks(stateDirectory: configuration.stateDirectory) }
    private var progress: WatchdogRunProgress { WatchdogRunProgress(configuration: configuration, domainName: domain.name) }

    private func domainRun(_ shares: ShareCatalog) -> DomainRun {
        DomainRun(
            configuration: configuration, shares: shares, domain: domain, uuid: uuid, deadlines: RunDeadlines(configuration: configuration),
            logger: logger)
    }

    private func attachments(_ shares: ShareCatalog) -> ShareAttachments {
        CIFSShareAttachments(configuration: configuration).attachments(for: shares, connectionInfoShares: [], logger: logger)
    }

    /// VM start (`prepare begin`): migration mode when a `migrate begin` marked the domain.
    public func prepare() -> Outcome { start(migrating: marks.isMarked(uuid)) }

    /// `migrate begin`: the mark is written only once the hook has succeeded: a failed (or
    /// timed-out) one must not leave the next plain start in migration mode, where it is never
    /// refused. A stale mark of an earlier run is dropped first. A mark that cannot be recorded
    /// throws `StartFailure` (`migrationMarkNotRecorded`) once what the run took is given back.
    public func migrate() throws -> Outcome {
        marks.clear(uuid)
        let outcome = start(migrating: true)
        guard case .succeeded = outcome else { return outcome }
        do {
            try marks.mark(uuid)
        } catch {
            // Without the mark the prepare that follows would refuse the live source's
            // handles: fail now and give back what this run took.
            progress.givingBack()
            _ = release()
            throw StartFailure(.incomingMigration, of: domain.name, .migrationMarkNotRecorded(error))
        }
        return .succeeded
    }

    private func start(migrating: Bool) -> Outcome {
        let outcome: StartOutcome
        switch shares {
        case .failure(let error):
            outcome = .failed(StartFailure(migrating ? .incomingMigration : .start, of: domain.name, .other(error)))
        case .success(let shares):
            let start = StartDomain(
                run: domainRun(shares), attachments: attachments(shares),
                clusters: ConfiguredClusterClients(configuration: configuration),
                progress: progress, localAddresses: { [configuration] in LocalAddresses.current(extra: configuration.localAddresses) })
            outcome = start(migrating: migrating)
        }
        switch outcome {
        case .nothingToDo, .attached: return .succeeded
        case .refused(let refusal):
            Observability.noteRefusedStart()
            return .refused(refusal)
        case .failed(let failure):
            // Logged by LibvirtHookRun, with the line libvirt shows.
            return .failed(failure)
        }
    }

    /// `release end`. Never fails.
    @discardableResult
    public func release() -> Outcome {
        switch shares {
        case .success(let shares):
            ReleaseDomain(run: domainRun(shares), attachments: attachments(shares), marks: marks, progress: progress)()
        case .failure(let error):
            marks.clear(uuid)
            logger.error("release failed; run `smbvol reconcile`", metadata: ["error": "\(LineEscaping.oneLine("\(error)"))"])
        }
        return .succeeded
    }

    /// `reconnect begin`. Never fails: a failing reconnect hook kills the VM.
    public func reconnect() -> Outcome {
        switch shares {
        case .success(let shares):
            ReconnectDomain(run: domainRun(shares), attachments: attachments(shares), progress: progress)()
        case .failure(let error):
            logger.error("reconnect: could not restore the domain's locks; run `smbvol reconcile`", metadata: ["error": "\(LineEscaping.oneLine("\(error)"))"])
        }
        return .succeeded
    }

    /// `started begin`: the domain runs; its incoming-migration mark (if any) has served.
    public func started() -> Outcome {
        marks.clear(uuid)
        return .succeeded
    }
}
