import ArgumentParser
import AttachmentLocks
import HandleEvidence
import LockHygiene
import Logging
import QumuloClient
import SmbvolConfig
import SmbvolLogging

#if canImport(Glibc)
import Glibc
#endif

struct HandlesCloseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close",
        abstract: "Force-close SMB handles by location, or every handle on one file.",
        discussion: """
            A force-closed handle loses its holder's unflushed writes and byte-range locks. Asks for \
            confirmation unless --yes. Closes in batches of at most 100, then lists again: a handle the \
            cluster reports as failed, or that is still listed, counts as not closed and makes the exit \
            status 1. Every close is written to syslog (ident smbvol).
            """)

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var clusterOptions: ClusterOptions
    @OptionGroup var loggingOptions: LoggingOptions

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Handle location(s) to close.", valueName: "location"))
    var location: [String] = []

    @Option(name: .long, help: ArgumentHelp("Close every handle on this file (absolute cluster path).", valueName: "path"))
    var path: String?

    @Flag(name: .customLong("dry-run"), help: "Show what would be closed; close nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Do not ask for confirmation.")
    var yes = false

    @Flag(name: .customLong("stale-only"), help: "With --path: close only the handles lock hygiene finds stale (as a VM start would); refuse (exit 3) when a live holder is on the file.")
    var staleOnly = false

    @Option(name: .customLong("keep-client"), help: ArgumentHelp("With --stale-only: a client address whose handles are never closed (repeatable).", valueName: "addr"))
    var keepClient: [String] = []

    func validate() throws {
        if location.isEmpty == (path == nil) { throw ValidationError("give --location L… or --path P (one of them)") }
        if let path, !path.hasPrefix("/") { throw ValidationError("--path must be an absolute cluster path (start with /)") }
        if staleOnly && path == nil { throw ValidationError("--stale-only needs --path P") }
    }

    func run() throws {
        let logger = loggingOptions.bootstrap()
        try reportingErrors {
            let configuration = try configOption.load()
            let connection = try ClusterConnection.resolve(
                options: clusterOptions, configuration: configuration, environment: ProcessEnvironment.current())
            let client = try connection.makeClient(logger: logger)
            let output = OutputWriter()
            var targets: [(location: String, detail: String)] = location.map { ($0, "") }
            var fileNumbers: Set<String>?
            if let path {
                let attributes = try client.fileAttributes(path: path)
                fileNumbers = [attributes.fileNumber]
                if staleOnly {
                    targets = try staleTargets(path: path, client: client, configuration: configuration, output: output, logger: logger)
                } else {
                    let listed = try client.handles(onFileNumber: attributes.fileNumber).handles
                    // Never trust the filter: a cluster that ignores file_number must not make
                    // this close every handle on the cluster.
                    let handles = listed.filter { ImageIdentity.sameNumber($0.fileNumber, attributes.fileNumber) }
                    if handles.count != listed.count {
                        writeToStandardError(
                            "smbvol: warning: the cluster listed \(listed.count - handles.count) handle(s) of other files for file_number \(attributes.fileNumber); they are left alone\n")
                    }
                    targets = handles.map { ($0.location, "owner \(client.ownerName(authId: $0.owner)) on \(attributes.path)") }
                }
                if targets.isEmpty {
                    output.line(staleOnly ? "no stale handles to close on \(path)" : "no handles open on \(path)")
                    return
                }
            }
            for target in targets {
                output.line("\(dryRun ? "would close" : "will close") \(target.location)\(target.detail.isEmpty ? "" : " (\(target.detail))")")
            }
            output.flush()
            if dryRun { return }
            if !yes { try confirm(count: targets.count) }
            let report = try client.closeHandles(locations: targets.map(\.location), fileNumbers: fileNumbers)
            let details = Dictionary(targets.map { ($0.location, $0.detail) }, uniquingKeysWith: { first, _ in first })
            let reason = { (location: String) in
                staleOnly ? "operator --stale-only: \(details[location] ?? "")"
                    : path == nil ? "operator request" : "operator request: every handle on the file (\(details[location] ?? ""))"
            }
            for closed in report.closed {
                // Every handle on a file, whatever the evidence says, is the operator forcing it.
                let forced = path != nil && !staleOnly
                logger.audit(
                    auditEvent(
                        forced ? .forcedClose : .close, forced ? "force-closed SMB handle (operator, --path)" : "closed SMB handle",
                        closed, decision: "closed", reason: reason(closed), cluster: connection.clusterName))
                output.line("closed \(closed)")
            }
            for failure in report.failed {
                var event = auditEvent(.closeFailed, "SMB handle not closed", failure.location, decision: "not-closed", reason: reason(failure.location), cluster: connection.clusterName)
                event.extra["error"] = failure.reason
                logger.audit(event)
                output.line("not closed \(failure.location): \(failure.reason)")
            }
            output.flush()
            if !report.allClosed { throw ExitCode.failure }
        }
    }

    /// The lock-hygiene decisions for one file, as a VM start would make them: prints every
    /// decision, refuses (exit 3, nothing closed) on a live holder, returns the stale handles.
    private func staleTargets(
        path: String, client: QumuloClient, configuration: SmbvolConfiguration, output: OutputWriter, logger: Logger
    ) throws -> [(location: String, detail: String)] {
        let records = AttachmentRecordIndex(records: try AttachmentLockStore(stateDirectory: configuration.stateDirectory).load())
        let shareRoots = ShareRootResolver(stateDirectory: configuration.stateDirectory)
        let gatherer = ImageEvidenceGatherer(
            client: client, localAddresses: LocalAddresses.current(extra: configuration.localAddresses),
            protectedClients: Set(configuration.policy.protectedClients + keepClient), logger: logger
        ) { identity in
            // By the file's identity (file number, canonical path), never by the spelling of P.
            try records.domains(
                on: identity, cluster: clusterOptions.cluster, excludingDomain: "", configuration: configuration,
                shareRoots: shareRoots, client: client)
        }
        var gathered = try gatherer.gather(clusterPath: path)
        // Heartbeat records only add liveness: a beating holder is refused here as at a start.
        HeartbeatEvidenceCollector().addObservations(to: &gathered.evidence, clusterPath: path, configuration: configuration, client: client)
        var policy = HygienePolicy(operation: .start, staleAfterSeconds: configuration.policy.staleAfterSeconds)
        policy.heartbeatFreshSeconds = configuration.effectiveHeartbeatFreshSeconds
        let decisions = LockHygieneDecider(policy: policy).decide(gathered.evidence)
        for decision in decisions.decisions where decision.action != .close {
            output.line("\(decision.action == .refuse ? "refuse" : decision.action.rawValue) \(decision.handle.location): \(decision.reason)")
        }
        if decisions.verdict == .refuse {
            output.line(decisions.summary)  // "refused: …" already
            output.flush()
            throw ExitCode(3)
        }
        return decisions.decisions.filter { $0.action == .close }.map { ($0.handle.location, $0.reason) }
    }

    /// The audit event of one close by hand: the operator (SUDO_USER, else USER) is recorded.
    private func auditEvent(
        _ kind: AuditEventKind, _ message: String, _ location: String, decision: String, reason: String, cluster: String?
    ) -> AuditEvent {
        var event = AuditEvent(kind, message: message)
        event[.location] = location
        event[.decision] = decision
        event[.reason] = reason
        event[.clusterPath] = path
        event[.cluster] = cluster
        event[.operator] = AuditEvent.invokingOperator(environment: ProcessEnvironment.current())
        return event
    }

    private func confirm(count: Int) throws {
        guard isTerminal(STDIN_FILENO) else {
            throw ValidationError("refusing to close \(count) handle(s) without confirmation: stdin is not a terminal; pass --yes")
        }
        writeToStandardError("Force-close \(count) handle(s)? Their holders lose unflushed writes and locks. [y/N] ")
        guard let answer = readLine()?.lowercased(), answer == "y" || answer == "yes" else {
            writeToStandardError("smbvol: nothing closed\n")
            throw ExitCode.failure
        }
    }
}
