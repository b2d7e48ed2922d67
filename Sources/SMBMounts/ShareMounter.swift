import Logging
import SmbvolSystem

#if canImport(Glibc)
import Glibc
#endif

/// Mounts and unmounts shares by running the configured mount and umount programs. Callers
/// serialise per share (a flock in the attachment service); this type only does one step.
public struct ShareMounter: Sendable {
    public var settings: MountSettings
    public var accountResolver: QemuAccountResolver
    public var runner: any ProcessRunning
    public var mountTable: any MountTableReading
    public var probe: any MountHealthProbing
    public var clock: any MonotonicClock
    public var logger: Logger
    /// Pause between unmount attempts that failed with "target is busy".
    public var busyRetryDelay: Duration = .milliseconds(300)

    public init(
        settings: MountSettings, accountResolver: QemuAccountResolver, runner: any ProcessRunning = PosixProcessRunner(),
        mountTable: any MountTableReading = ProcMountTableReader(), probe: any MountHealthProbing = ChildProcessMountHealthProbe(),
        clock: any MonotonicClock = SystemClock(), logger: Logger
    ) {
        self.settings = settings
        self.accountResolver = accountResolver
        self.runner = runner
        self.mountTable = mountTable
        self.probe = probe
        self.clock = clock
        self.logger = logger
    }

    /// Whether `share` is mounted at its mount point (a foreign mount there does not count).
    public func isMounted(_ share: MountableShare) throws -> Bool {
        if share.isLocal { return true }
        guard let entry = try MountTable.read(from: mountTable).entry(at: share.mountPoint) else { return false }
        return share.export.matches(mountSource: entry.source)
    }

    /// Whether anything is mounted at `mountPoint` (for shares known only by their mount point).
    public func hasMount(at mountPoint: String) throws -> Bool {
        try MountTable.read(from: mountTable).entry(at: mountPoint) != nil
    }

    /// Makes sure `share` is mounted at its mount point: nothing to do when it already is (and
    /// answers), unmount-and-mount when the mount is dead, refuse when something else is there.
    public func ensureMounted(_ share: MountableShare, deadline: Deadline) throws -> MountOutcome {
        if share.isLocal { return .local }
        if let entry = try MountTable.read(from: mountTable).entry(at: share.mountPoint) {
            guard share.export.matches(mountSource: entry.source) else {
                throw MountCommandError.foreignMount(
                    mountPoint: share.mountPoint, found: entry.source, expected: share.export.commandForm)
            }
            let code: Int32
            switch probe.health(of: share.mountPoint, deadline: deadline) {
            case .healthy: return .alreadyMounted
            case .hung(let seconds):
                logger.warning(
                    "hung mount found; not touching it",
                    metadata: ["event": "hung-mount", "share": "\(share.name)", "mount_point": "\(share.mountPoint)"])
                throw MountCommandError.mountHung(share: share.name, mountPoint: share.mountPoint, seconds: seconds)
            case .dead(let errno): code = errno
            }
            let cause = SystemCallError(call: "stat", code: code).reason.lowercased()
            logger.warning(
                "dead mount found; unmounting it to mount again",
                metadata: ["event": "dead-mount", "share": "\(share.name)", "mount_point": "\(share.mountPoint)", "errno": "\(code)"])
            do {
                try unmountNow(mountPoint: share.mountPoint, share: share.name, lazy: false, deadline: deadline)
            } catch {
                throw MountCommandError.deadMountNotRemoved(mountPoint: share.mountPoint, cause: cause)
            }
            try mount(share, deadline: deadline)
            return .remounted
        }
        try mount(share, deadline: deadline)
        return .mounted
    }

    /// Unmounts whatever is mounted at `mountPoint`: retried on "target is busy", lazy only when
    /// `force` is set. Returns false when nothing was mounted there.
    @discardableResult
    public func unmount(mountPoint: String, share: String, force: Bool, deadline: Deadline) throws -> Bool {
        guard try MountTable.read(from: mountTable).entry(at: mountPoint) != nil else { return false }
        // umount(8) resolves its argument first, which blocks on a hung mount until it is killed:
        // ask in a child first; only a lazy unmount (--force) detaches a hung mount.
        if case .hung(let seconds) = probe.health(of: mountPoint, deadline: deadline) {
            guard force else { throw MountCommandError.mountHung(share: share, mountPoint: mountPoint, seconds: seconds) }
            try unmountNow(mountPoint: mountPoint, share: share, lazy: true, deadline: deadline)
            return true
        }
        do {
            try unmountNow(mountPoint: mountPoint, share: share, lazy: false, deadline: deadline)
        } catch MountCommandError.unmountBusy(let point, let name) where force {
            logger.warning("share is busy; unmounting lazily because --force was given",
                metadata: ["event": "unmount-lazy", "share": "\(name)", "mount_point": "\(point)"])
            try unmountNow(mountPoint: mountPoint, share: share, lazy: true, deadline: deadline)
        }
        // The directory is ours; remove it when empty (it is not when another namespace still
        // has the share mounted there, which is fine).
        rmdir(mountPoint)
        return true
    }

    func mount(_ share: MountableShare, deadline: Deadline) throws {
        let account = try accountResolver.resolve()
        let builder = MountOptionsBuilder(account: account)
        try builder.validate(options: share.options, share: share.name, allowNobrl: share.allowNobrl)
        try SecureFiles.ensureDirectory(share.mountPoint)

        var temporary: TemporaryCredentialsFile?
        defer { temporary?.remove() }
        let credentialsFile: String
        switch share.credentials {
        case .file(let path):
            try SecureFiles.verifySecretFile(path)
            credentialsFile = path
        case .inline(let username, let password, let domain):
            let file = try TemporaryCredentialsFile(
                directory: settings.credentialsDirectory, username: username, password: password, domain: domain)
            temporary = file
            credentialsFile = file.path
        case nil:
            throw MountConfigurationError.missingCredentials(share: share.name)
        }

        let arguments = try builder.arguments(for: share, credentialsFile: credentialsFile)
        let outcome = try runner.run(
            ProcessRequest(executable: settings.mountCommand, arguments: arguments, timeout: settings.mountTimeout),
            deadline: deadline)
        temporary?.remove()
        try Self.check(outcome, share: share, timeout: settings.mountTimeout)

        guard try isMounted(share) else {
            throw MountCommandError.notInMountTable(export: share.export.commandForm, mountPoint: share.mountPoint)
        }
        logger.notice(
            "mounted share",
            metadata: [
                "event": "mount", "share": "\(share.name)", "export": "\(share.export.commandForm)",
                "mount_point": "\(share.mountPoint)",
            ])
    }

    static func check(_ outcome: ProcessOutcome, share: MountableShare, timeout: Duration) throws {
        let export = share.export.commandForm
        if outcome.timedOut {
            throw MountCommandError.mountTimedOut(export: export, mountPoint: share.mountPoint, seconds: timeout.secondsDouble)
        }
        switch outcome.termination {
        case .exited(0):
            return
        case .exited(let status):
            let text = outcome.standardError + outcome.standardOutput
            throw MountCommandError.mountFailed(
                export: export, mountPoint: share.mountPoint, status: status,
                kernelError: MountCommandError.kernelError(in: text), detail: outcome.firstDiagnosticLine)
        case .signalled(let signal):
            throw MountCommandError.mountKilled(export: export, signal: signal)
        }
    }

    func unmountNow(mountPoint: String, share: String, lazy: Bool, deadline: Deadline) throws {
        let arguments = lazy ? ["-l", mountPoint] : [mountPoint]
        var attempt = 0
        while true {
            attempt += 1
            let outcome = try runner.run(
                ProcessRequest(executable: settings.umountCommand, arguments: arguments, timeout: settings.mountTimeout),
                deadline: deadline)
            if outcome.timedOut { throw MountCommandError.unmountTimedOut(mountPoint: mountPoint) }
            if outcome.succeeded {
                logger.notice(
                    "unmounted share",
                    metadata: ["event": lazy ? "unmount-lazy" : "unmount", "share": "\(share)", "mount_point": "\(mountPoint)"])
                return
            }
            let text = (outcome.standardError + outcome.standardOutput).lowercased()
            if text.contains("busy") {
                if attempt > 3 { throw MountCommandError.unmountBusy(mountPoint: mountPoint, share: share) }
                clock.sleep(for: busyRetryDelay)
                continue
            }
            let status: Int32
            if case .exited(let code) = outcome.termination { status = code } else { status = -1 }
            throw MountCommandError.unmountFailed(mountPoint: mountPoint, status: status, detail: outcome.firstDiagnosticLine)
        }
    }
}
