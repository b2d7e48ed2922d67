import AttachmentLocks
import DomainXML
import HandleEvidence
import Logging
import QumuloClient
import SmbvolConfig
import SmbvolLogging
import SmbvolMetrics
import SmbvolSystem
import SmbvolUseCases
import SMBMounts
import SmbvolShares

#if canImport(Glibc)
import Glibc
#endif

/// One hook invocation: reads the domain XML from stdin, loads the configuration, and runs the
/// operation under one overall deadline. Returns the exit status; writes at most one or two
/// lines to stderr (they become libvirt's error text), everything else to syslog.
struct HookRunner {
    let domainName: String
    let operation: String
    let subOperation: String
    let configPath: String

    enum Operation {
        case prepare, migrate, release, reconnect, started
    }

    /// The operation smbvol acts on; nil for every other (operation, sub-operation) libvirt calls
    /// the hook with, which is read and ignored.
    var kind: Operation? {
        switch (operation, subOperation) {
        case ("prepare", "begin"): return .prepare
        case ("migrate", "begin"): return .migrate
        case ("release", "end"): return .release
        case ("reconnect", "begin"): return .reconnect
        case ("started", "begin"): return .started
        default: return nil
        }
    }

    /// Operations whose failure must never reach libvirt: a failing reconnect kills the VM.
    var mustSucceed: Bool {
        switch kind {
        case .release, .reconnect, .started, nil: return true
        case .prepare, .migrate: return false
        }
    }

    /// Arms the watchdog with the default `deadline_seconds`, before anything is read. Ignored
    /// operations read stdin and exit: they get the same bound.
    func armDeadline() {
        DeadlineWatchdog.arm(
            after: SmbvolConfiguration.defaultDeadlineSeconds + 0.5, exitStatus: mustSucceed ? 0 : 1,
            message: deadlineMessage(seconds: SmbvolConfiguration.defaultDeadlineSeconds, source: "the default deadline_seconds"))
    }

    private func deadlineMessage(seconds: Double, source: String) -> String {
        "smbvol: hook \(operation) \(subOperation) for \(oneLine(domainName)) did not finish within \(source) = \(seconds); child processes killed"
    }

    func run() -> Int32 {
        // Drain stdin (the XML) even when ignoring the call, so libvirt's write never fails.
        let xml = readStandardInput()
        guard let kind else { return 0 }
        let clock = SystemClock()
        let started = clock.now()
        var failed = false
        let status = run(kind, xml: xml, failed: &failed)
        recordRun(status: status, failed: failed, seconds: (clock.now() - started).secondsDouble)
        return status
    }

    /// smbvol_hook_runs_total{operation, result} and smbvol_hook_duration_seconds{operation}
    /// (written to the metrics file by Smbvol.main when the command ends).
    private func recordRun(status: Int32, failed: Bool, seconds: Double) {
        let result = Observability.refusedStart ? "refused" : (status != 0 || failed ? "failed" : "ok")
        MetricsRecorder.shared.increment(.hookRuns, labels: ["operation": operation, "result": result])
        MetricsRecorder.shared.observe(.hookDuration, labels: ["operation": operation], value: seconds)
    }

    private func run(_ kind: Operation, xml: [UInt8], failed: inout Bool) -> Int32 {
        LoggingSetup.bootstrap(standardErrorLevel: .critical, syslogLevel: .info)
        var logger = Logger(label: "smbvol.hook")
        logger[metadataKey: "hook"] = "\(operation) \(subOperation)"
        do {
            let configuration = try ConfigurationLoader().load(path: configPath, requireFile: false)
            Observability.configure(configuration)
            // From here on nothing may outlive the deadline, parsing a huge XML included.
            // A prepare or migrate cut short before its mount and locks are recorded never
            // reports success, whatever on_cluster_error says: the VM would start with neither.
            // The start pipeline moves the status once they are recorded (WatchdogRunProgress).
            // Measured from the hook's first instruction (armDeadline), not from here.
            DeadlineWatchdog.setDeadline(
                secondsAfterArming: configuration.deadlineSeconds + 0.5,
                message: deadlineMessage(seconds: configuration.deadlineSeconds, source: "deadline_seconds"))
            try StateDirectoryTrust.verify(configuration)
            let domain = try DomainXMLParser().parse(bytes: xml)
            guard let uuid = DomainUUID(domain.uuid) else {
                throw HookFailure("the domain XML has no valid <uuid> (got \"\(domain.uuid)\")")
            }
            logger[metadataKey: "domain"] = "\(domain.name)"
            logger[metadataKey: "domain_uuid"] = "\(uuid)"
            let operations = LibvirtHookOperations(
                configuration: configuration, domain: domain, uuid: uuid, logger: logger,
                shares: Result { try ShareCatalog(configuration: configuration) })
            let outcome: LibvirtHookOperations.Outcome
            switch kind {
            case .prepare: outcome = operations.prepare()
            case .migrate: outcome = try operations.migrate()
            case .release: outcome = operations.release()
            case .reconnect: outcome = operations.reconnect()
            case .started: outcome = operations.started()
            }
            switch outcome {
            case .succeeded: return 0
            case .refused(let message), .failed(let message):
                writeToStandardError("smbvol: \(message)\n")
                return 1
            }
        } catch {
            failed = true
            let message = oneLine("\(error)")
            if mustSucceed {
                logger.error("hook failed; continuing (this operation must not fail)", metadata: ["error": "\(message)"])
                return 0
            }
            logger.error("hook failed", metadata: ["error": "\(message)"])
            writeToStandardError("smbvol: \(message)\n")
            return 1
        }
    }

    /// The bytes as libvirt wrote them: decoding is the XML reader's job, which refuses invalid
    /// UTF-8 instead of replacing it. Reading stops just past 64 MiB (a domain XML is never this
    /// large): the parser then refuses the cut-off document. A failed read yields nothing, which
    /// the parser refuses too.
    private func readStandardInput() -> [UInt8] {
        (try? FileDescriptorIO.read(STDIN_FILENO, upTo: 64 * 1024 * 1024 + 1)) ?? []
    }
}

struct HookFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
