import SmbvolShares
import Logging
import SmbvolLogging
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
    public func isMounted(_ share: Share) throws -> Bool {
        try ShareMountQuery(mountTable: mountTable).state(of: share).isUsable
    }

    /// Whether anything is mounted at `mountPoint` (for shares known only by their mount point).
    public func hasMount(at mountPoint: String) throws -> Bool {
        try entry(at: mountPoint) != nil
    }

    /// The topmost mount at `mountPoint`, by the mount-state query's canonical-path rule.
    func entry(at mountPoint: String) throws -> MountTableEntry? {
        try ShareMountQuery(mountTable: mountTable).entry(at: mountPoint)
    }

    /// The real path of the longest existing prefix of `path` (`ShareMountQuery.canonicalPath`).
    public static func canonicalPath(_ path: String) -> String { ShareMountQuery.canonicalPath(path) }

    /// Whether the mount at a mount point is one smbvol recognises as `expected`'s — or, for a
    /// share known only from its locks (no export recorded), a mount whose source is an SMB
    /// export smbvol would mount at a directory of this name.
    static func recognises(_ entry: MountTableEntry, mountPoint: String, expected: SMBExport?) -> Bool {
        if let expected { return expected.matches(mountSource: entry.source) }
        guard let found = try? SMBExport(parsing: entry.source) else { return false }
        let name = mountPoint.split(separator: "/").last.map(String.init) ?? ""
        return MountPointNaming.directoryName(for: found) == name
    }

    /// Makes sure `share` is mounted at its mount point: nothing to do when it already is (and
    /// answers), unmount-and-mount when the mount is dead, refuse when something else is there.
    public func ensureMounted(_ share: Share, deadline: Deadline) throws -> MountOutcome {
        if share.isLocal { return .local }
        let export = try share.requiredExport()
        if let entry = try entry(at: share.mountPoint) {
            guard export.matches(mountSource: entry.source) else {
                throw MountCommandError.foreignMount(
                    mountPoint: share.mountPoint, found: entry.source, expected: export.commandForm)
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
            logger.audit(
                Self.shareEvent(
                    .deadMount, "dead mount found; unmounting it to mount again", share: share.name, mountPoint: share.mountPoint,
                    extra: ["errno": "\(code)"]))
            do {
                try unmountNow(mountPoint: share.mountPoint, share: share.name, lazy: false, deadline: deadline)
            } catch {
                throw MountCommandError.deadMountNotRemoved(mountPoint: share.mountPoint, cause: cause)
            }
            try mount(share, export: export, deadline: deadline)
            return .remounted
        }
        try mount(share, export: export, deadline: deadline)
        return .mounted
    }

    /// Unmounts the share's mount at `mountPoint`: retried on "target is busy", lazy only when
    /// `force` is set. Returns false when nothing was mounted there. Anything smbvol does not
    /// recognise as the share's mount (another export, a local filesystem, a bind mount) is
    /// refused — not unmounted, and its directory not removed — `--force` included.
    @discardableResult
    public func unmount(mountPoint: String, share: String, export: SMBExport? = nil, force: Bool, deadline: Deadline) throws -> Bool {
        guard let entry = try entry(at: mountPoint) else { return false }
        guard Self.recognises(entry, mountPoint: mountPoint, expected: export) else {
            // An audit event (syslog); the caller's error is the one line the operator sees.
            logger.notice(
                "refused to unmount a mount that is not the share's",
                metadata: ["event": "unmount-refused", "share": "\(share)", "mount_point": "\(mountPoint)", "found": "\(entry.source)"])
            throw MountCommandError.notOurMount(mountPoint: mountPoint, share: share, found: entry.source, expected: export?.commandForm)
        }
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
            logger.audit(
                Self.shareEvent(.unmountLazy, "share is busy; unmounting lazily because --force was given", share: name, mountPoint: point))
            try unmountNow(mountPoint: mountPoint, share: share, lazy: true, deadline: deadline)
        }
        // The directory is ours; remove it when empty (it is not when another namespace still
        // has the share mounted there, which is fine).
        rmdir(mountPoint)
        return true
    }

    /// Mounts, or audits why not (mount-failed, counted per share in the metrics) and throws.
    func mount(_ share: Share, export: SMBExport, deadline: Deadline) throws {
        do {
            try mountOnce(share, export: export, deadline: deadline)
        } catch {
            logger.audit(
                Self.shareEvent(
                    .mountFailed, "mount failed", share: share.name, mountPoint: share.mountPoint,
                    extra: ["export": export.commandForm, "error": "\(error)"]))
            throw error
        }
    }

    static func shareEvent(
        _ kind: AuditEventKind, _ message: String, share: String, mountPoint: String, extra: [String: String] = [:]
    ) -> AuditEvent {
        var event = AuditEvent(kind, message: message, extra: extra.merging(["mount_point": mountPoint]) { new, _ in new })
        event[.share] = share
        return event
    }

    private func mountOnce(_ share: Share, export: SMBExport, deadline: Deadline) throws {
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
        let before = try entry(at: share.mountPoint)?.mountID
        let outcome = try runner.run(
            ProcessRequest(executable: settings.mountCommand, arguments: arguments, timeout: settings.mountTimeout),
            deadline: deadline)
        temporary?.remove()
        try Self.check(outcome, share: share, export: export, timeout: settings.mountTimeout)

        guard try isMounted(share) else {
            // Whatever this run put there is given back: a start that fails must not leave a
            // mount behind (each retry would stack another one).
            if let made = try? entry(at: share.mountPoint), made.mountID != before {
                try? unmountNow(mountPoint: Self.canonicalPath(share.mountPoint), share: share.name, lazy: false, deadline: deadline)
            }
            throw MountCommandError.notInMountTable(export: export.commandForm, mountPoint: share.mountPoint)
        }
        logger.audit(
            Self.shareEvent(.mount, "mounted share", share: share.name, mountPoint: share.mountPoint, extra: ["export": export.commandForm]))
    }

    static func check(_ outcome: ProcessOutcome, share: Share, export: SMBExport, timeout: Duration) throws {
        let export = export.commandForm
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
                logger.audit(
                    Self.shareEvent(lazy ? .unmountLazy : .unmount, "unmounted share", share: share, mountPoint: mountPoint).at(.notice))
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
