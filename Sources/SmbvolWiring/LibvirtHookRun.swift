import SmbvolUseCases
import DomainXML
import HandleEvidence
import Logging
import SmbvolConfig
import SmbvolLogging
import SmbvolMetrics
import SMBMounts
import SmbvolShares
import SmbvolSystem

/// One hook invocation (`smbvol hook NAME OP SUBOP EXTRA`): reads the domain XML from stdin,
/// loads the configuration, and runs the operation under one overall deadline. Gives back the
/// exit status and at most one line for stderr (libvirt shows it); everything else goes to syslog.
public struct LibvirtHookRun {
    public let domainName: String
    public let operation: String
    public let subOperation: String
    public let configPath: String
    /// The one line a failure is shown and logged as (the executable's `FailureText`): the hook
    /// logs the very line libvirt shows, and builds none itself.
    public let failureText: @Sendable (HookFailure) -> String

    public init(
        domainName: String, operation: String, subOperation: String, configPath: String, failureText: @escaping @Sendable (HookFailure) -> String
    ) {
        self.domainName = domainName
        self.operation = operation
        self.subOperation = subOperation
        self.configPath = configPath
        self.failureText = failureText
    }

    public enum Operation: Sendable {
        case prepare, migrate, release, reconnect, started
    }

    /// What the executable does with the run: exit with `status`, and show `failure` (when
    /// there is one) as the one stderr line libvirt shows.
    public struct Outcome: Sendable {
        /// What stopped the run; nil when it succeeded, and for an operation that must never
        /// fail (its failure is logged, never shown).
        public var failure: HookFailure?
        /// 1 when the run failed, else 0.
        public var status: Int32 { failure == nil ? 0 : 1 }

        public init(failure: HookFailure?) { self.failure = failure }
    }

    /// The operation smbvol acts on; nil for every other (operation, sub-operation) libvirt calls
    /// the hook with, which is read and ignored.
    public var kind: Operation? {
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
    public var mustSucceed: Bool {
        switch kind {
        case .release, .reconnect, .started, nil: return true
        case .prepare, .migrate: return false
        }
    }

    /// Arms the watchdog with the default `deadline_seconds`, before anything is read. Ignored
    /// operations read stdin and exit: they get the same bound.
    public func armDeadline() {
        DeadlineWatchdog.arm(
            after: SmbvolConfiguration.defaultDeadlineSeconds + 0.5, exitStatus: mustSucceed ? 0 : 1,
            message: deadlineMessage(seconds: SmbvolConfiguration.defaultDeadlineSeconds, source: "the default deadline_seconds"))
    }

    private func deadlineMessage(seconds: Double, source: String) -> String {
        "smbvol: hook \(operation) \(subOperation) for \(LineEscaping.oneLine(domainName)) did not finish within \(source) = \(seconds); child processes killed"
    }

    /// The bytes as libvirt wrote them: decoding is the XML reader's job, which refuses invalid
    /// UTF-8 instead of replacing it. Reading stops just past 64 MiB (a domain XML is never this
    /// large): the parser then refuses the cut-off document. A failed read yields nothing, which
    /// the parser refuses too. Read even when the call is ignored, so libvirt's write never fails.
    public static func readDomainXML() -> [UInt8] {
        (try? FileDescriptorIO.read(StandardStreams.input, upTo: 64 * 1024 * 1024 + 1)) ?? []
    }

    /// Runs the operation (`kind`, which must not be nil) on the domain in `xml`; records
    /// smbvol_hook_runs_total and smbvol_hook_duration_seconds.
    public func callAsFunction(_ kind: Operation, xml: [UInt8], logger: Logger) -> Outcome {
        let clock = SystemClock()
        let started = clock.now()
        var failed = false
        let outcome = run(kind, xml: xml, logger: logger, failed: &failed)
        recordRun(status: outcome.status, failed: failed, seconds: (clock.now() - started).secondsDouble)
        return outcome
    }

    /// smbvol_hook_runs_total{operation, result} and smbvol_hook_duration_seconds{operation}
    /// (written to the metrics file when the command ends).
    private func recordRun(status: Int32, failed: Bool, seconds: Double) {
        let result = Observability.refusedStart ? "refused" : (status != 0 || failed ? "failed" : "ok")
        MetricsRecorder.shared.increment(.hookRuns, labels: ["operation": operation, "result": result])
        MetricsRecorder.shared.observe(.hookDuration, labels: ["operation": operation], value: seconds)
    }

    /// The domain XML names no UUID smbvol can key its state by.
    struct NoValidDomainUUID: Error, CustomStringConvertible {
        let found: String
        var description: String { "the domain XML has no valid <uuid> (got \"\(found)\")" }
    }

    private func run(_ kind: Operation, xml: [UInt8], logger: Logger, failed: inout Bool) -> Outcome {
        var logger = logger
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
                throw NoValidDomainUUID(found: domain.uuid)
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
            case .succeeded: return Outcome(failure: nil)
            case .refused(let refusal): return Outcome(failure: .refused(refusal))
            case .failed(let failure):
                logger.error("\(failure.operation.rawValue) failed", metadata: ["error": "\(failureText(.failed(failure)))"])
                return Outcome(failure: .failed(failure))
            }
        } catch {
            failed = true
            let failure: HookFailure = (error as? StartFailure).map { .failed($0) } ?? .stopped(error)
            let message = failureText(failure)
            if mustSucceed {
                logger.error("hook failed; continuing (this operation must not fail)", metadata: ["error": "\(message)"])
                return Outcome(failure: nil)
            }
            logger.error("hook failed", metadata: ["error": "\(message)"])
            return Outcome(failure: failure)
        }
    }
}
