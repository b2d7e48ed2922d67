import DomainXML
import HandleEvidence
import Logging
import SMBMounts
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem
import SmbvolUseCases

/// The hook's operations for one domain: each calls one use case and turns its outcome into
/// the exit status and the one stderr line libvirt shows.
struct HookOperations {
    let configuration: SmbvolConfiguration
    let domain: DomainDefinition
    let uuid: DomainUUID
    let logger: Logger
    /// The configured shares, resolved once; a configuration that does not resolve fails a
    /// start and is logged by the operations that never fail.
    let shares: Result<ShareCatalog, any Error>

    private var marks: IncomingMigrationMarks { IncomingMigrationMarks(stateDirectory: configuration.stateDirectory) }
    private var progress: WatchdogRunProgress { WatchdogRunProgress(configuration: configuration, domainName: domain.name) }

    private func domainRun(_ shares: ShareCatalog) -> DomainRun {
        DomainRun(
            configuration: configuration, shares: shares, domain: domain, uuid: uuid, deadlines: RunDeadlines(configuration: configuration),
            logger: logger)
    }

    private func attachments(_ shares: ShareCatalog) -> ShareAttachmentWiring {
        ShareAttachmentWiring(configuration: configuration, catalog: shares, logger: logger)
    }

    /// VM start (`prepare begin`): migration mode when a `migrate begin` marked the domain.
    func prepare() -> Int32 { start(migrating: marks.isMarked(uuid)) }

    /// `migrate begin`: the mark is written only once the hook has succeeded: a failed (or
    /// timed-out) one must not leave the next plain start in migration mode, where it is never
    /// refused. A stale mark of an earlier run is dropped first.
    func migrate() throws -> Int32 {
        marks.clear(uuid)
        let status = start(migrating: true)
        guard status == 0 else { return status }
        do {
            try marks.mark(uuid)
        } catch {
            // Without the mark the prepare that follows would refuse the live source's
            // handles: fail now and give back what this run took.
            progress.givingBack()
            _ = release()
            throw HookFailure("incoming migration of \(domain.name): could not record the migration mark (\(error))")
        }
        return 0
    }

    private func start(migrating: Bool) -> Int32 {
        let outcome: StartOutcome
        switch shares {
        case .failure(let error):
            outcome = .failed("\(migrating ? "incoming migration" : "start") of \(domain.name) failed: \(oneLine("\(error)"))")
        case .success(let shares):
            let start = StartDomain(
                run: domainRun(shares), attachments: attachments(shares),
                clusters: ConfiguredClusterClients(configuration: configuration),
                progress: progress, localAddresses: { [configuration] in LocalAddresses.current(extra: configuration.localAddresses) })
            outcome = start(migrating: migrating)
        }
        switch outcome {
        case .nothingToDo, .attached: return 0
        case .refused(let message):
            Observability.noteRefusedStart()
            writeToStandardError("smbvol: \(message)\n")
            return 1
        case .failed(let message):
            logger.error("\(migrating ? "incoming migration" : "start") failed", metadata: ["error": "\(message)"])
            writeToStandardError("smbvol: \(message)\n")
            return 1
        }
    }

    /// `release end`. Never fails.
    func release() -> Int32 {
        switch shares {
        case .success(let shares):
            ReleaseDomain(run: domainRun(shares), attachments: attachments(shares), marks: marks, progress: progress)()
        case .failure(let error):
            marks.clear(uuid)
            logger.error("release failed; run `smbvol reconcile`", metadata: ["error": "\(oneLine("\(error)"))"])
        }
        return 0
    }

    /// `reconnect begin`. Never fails: a failing reconnect hook kills the VM.
    func reconnect() -> Int32 {
        switch shares {
        case .success(let shares):
            ReconnectDomain(run: domainRun(shares), attachments: attachments(shares), progress: progress)()
        case .failure(let error):
            logger.error("reconnect: could not restore the domain's locks; run `smbvol reconcile`", metadata: ["error": "\(oneLine("\(error)"))"])
        }
        return 0
    }

    /// `started begin`: the domain runs; its incoming-migration mark (if any) has served.
    func started() -> Int32 {
        marks.clear(uuid)
        return 0
    }
}
