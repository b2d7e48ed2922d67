import AttachmentLocks
import DiskImages
import HandleEvidence
import HostHeartbeat
import LockHygiene
import Logging
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem
import Synchronization

/// One beat: this host's record on every configured share that is mounted (or served through
/// `local_path`). Never writes on a share that is not mounted; a failed share is logged
/// (`heartbeat-failed`) and tried again on the next beat. The held images come from this host's
/// attachment-lock store, never from libvirt.
///
/// Each share is beaten on a thread of its own, bounded: a mounted share is probed first (in a
/// child, as starts do), a hung one is reported and skipped, and no share's I/O runs past the
/// beat's bound — one hung share costs the others nothing. No flock is held across share I/O
/// (an unmount, `--force` included, never waits for a beat); a share whose previous beat is
/// still blocked is not touched again until that beat returns.
public struct HeartbeatBeat {
    public let configuration: SmbvolConfiguration
    public let hostID: String
    public let logger: Logger
    /// The attach side (this host's locks, the shares' mount state), built per beat.
    public let attachments: any ShareAttachmentsMaking
    public var writer = HeartbeatWriter()
    /// This host's holder claims, refreshed on every beat for every image its locks hold.
    public var claimStore = HolderClaimStore()
    /// When this host booted (nil: unknown): locks recorded well before it are leftovers of an
    /// earlier boot, whose images are not claimed.
    public var bootTime: Double? = HostBootTime.secondsSinceEpoch()
    public var clock: any MonotonicClock = SystemClock()
    public var probe: any MountHealthProbing
    /// What this process last wrote on each share (by share name).
    public private(set) var lastWrites: [String: HeartbeatWriter.LastWrite] = [:]
    /// When a beat of this process last wrote on some share (wall clock): the start of a gap
    /// in this host's beats, for `interruption(now:interval:)`.
    public private(set) var lastSuccessAt: Double?
    /// When this process last swept each share (wall clock).
    public private(set) var lastSweep: [String: Double] = [:]
    /// Dropped entries and collisions already reported by this process (one audit event each,
    /// not one per beat).
    private var reported: Set<String> = []
    private let inFlight = InFlightShares()

    public init(configuration: SmbvolConfiguration, hostID: String, logger: Logger, attachments: any ShareAttachmentsMaking) {
        self.configuration = configuration
        self.hostID = hostID
        self.logger = logger
        self.attachments = attachments
        probe = ChildProcessMountHealthProbe(timeout: Self.probeTimeout(interval: configuration.heartbeatIntervalSeconds))
    }

    /// How long since this process's last successful beat, when that is much longer than the
    /// interval (the host was paused, suspended, starved or cut off from its shares: long enough
    /// for other hosts to judge it dead and take its images over); nil otherwise.
    public func interruption(now: Double, interval: Double) -> Double? {
        guard let lastSuccessAt else { return nil }
        let gap = now - lastSuccessAt
        return gap > max(2 * interval, configuration.effectiveHeartbeatFreshSeconds) ? gap : nil
    }

    /// The probe's bound: half the interval, between 1 and 5 seconds.
    public static func probeTimeout(interval: Double) -> Duration {
        .milliseconds(Int64(min(5, max(1, interval / 2)) * 1000))
    }

    /// A share's whole beat (probe, then I/O) is given this long.
    public var shareBound: Double {
        Self.probeTimeout(interval: configuration.heartbeatIntervalSeconds).secondsDouble + min(5, max(1, configuration.heartbeatIntervalSeconds / 2))
    }

    /// Sweeps run on a process's first beat on a share, then hourly.
    public static let sweepEverySeconds: Double = 3600

    public struct Outcome {
        public var written: [String] = []
        public var notMounted: [String] = []
        /// The shares not written, and why (`*`: none could be, the lock store or the shares
        /// could not be read).
        public var failed: [(share: String, reason: ShareBeatFailure)] = []
        /// Entries left out of the records written (per share).
        public var dropped: [(share: String, entry: DroppedHeartbeatEntry)] = []
        /// Shares where a record with this host's host_id from another host was found.
        public var collisions: [(share: String, record: HeartbeatRecord)] = []
    }

    /// The addresses the cluster may see this host by: interface addresses except loopback
    /// (never seen by a remote cluster), plus `local_addresses`, canonical and sorted.
    public func addresses() -> [String] { Self.addresses(configuration: configuration) }

    /// `addresses()` for a configuration (also what a start names this host by in takeover records).
    public static func addresses(configuration: SmbvolConfiguration) -> [String] {
        // Configured addresses first: they are the ones the cluster sees when interfaces do
        // not tell (NAT, VIP), so the cap never drops them.
        var ordered = configuration.localAddresses.map(ClientAddress.canonical)
        ordered += ClientAddress.canonical(LocalAddresses.current()).filter { !Self.isLoopback($0) }.sorted()
        var seen: Set<String> = []
        return ordered.filter { seen.insert($0).inserted }.prefix(HeartbeatRecord.maximumAddresses).sorted()
    }

    public static func isLoopback(_ address: String) -> Bool { address == "::1" || address.hasPrefix("127.") }

    /// What one share's worker found.
    enum ShareResult: Sendable {
        /// `claimFailures`: holder claims that could not be refreshed (one line each).
        case written(HeartbeatWriter.Outcome, swept: [String]?, claimFailures: [String])
        case notMounted
        case failed(ShareBeatFailure)
    }

    public mutating func beat() -> Outcome {
        var outcome = Outcome()
        let wiring: ShareAttachments
        let locks: [AttachmentLock]
        do {
            wiring = try attachments.attachments(configuration: configuration, logger: logger)
            locks = try wiring.service.locks()
        } catch {
            let reason = ShareBeatFailure.notRead(error)
            logger.warning("heartbeat not written", metadata: ["event": "heartbeat-failed", "error": "\(reason)"])
            outcome.failed.append(("*", reason))
            return outcome
        }
        let addresses = addresses()
        let hostname = HostIdentity.hostname()
        let now = clock.wallClockSeconds()
        let fresh = configuration.effectiveHeartbeatFreshSeconds
        var started: [(share: Share, record: HeartbeatRecord, work: BoundedWork<ShareResult>)] = []
        for share in wiring.shares where configuration.shares[share.name] != nil {
            let record = HeartbeatRecord(
                hostID: hostID, hostname: hostname, addresses: addresses, writtenAt: now,
                intervalSeconds: configuration.heartbeatIntervalSeconds, images: Self.images(on: share, locks: locks))
            // The mount table is read here (it never blocks); everything that touches the
            // share runs in the share's worker.
            if !share.isLocal {
                do {
                    guard try wiring.service.isMountedNow(share) else {
                        outcome.notMounted.append(share.name)
                        logger.debug("share not mounted: no heartbeat written there", metadata: ["share": "\(share.name)"])
                        continue
                    }
                } catch {
                    fail(share.name, mountPoint: share.usablePath, .notRead(error), into: &outcome)
                    continue
                }
            }
            guard inFlight.claim(share.name) else {
                fail(share.name, mountPoint: share.usablePath, .previousBeatBlocked, into: &outcome)
                continue
            }
            let sweepAge = (lastSweep[share.name].map { now - $0 >= Self.sweepEverySeconds } ?? true)
                ? HeartbeatWriter.sweepAgeSeconds(freshSeconds: fresh) : nil
            let job = ShareJob(
                share: share, record: record, claimedImages: Self.claimedImages(on: share, locks: locks, bootTime: bootTime), claimStore: claimStore, writer: writer,
                probe: probe, previous: lastWrites[share.name], now: now, freshSeconds: fresh,
                sweepAge: sweepAge, probeTimeout: Self.probeTimeout(interval: configuration.heartbeatIntervalSeconds))
            let inFlight = self.inFlight
            let name = share.name
            guard let work = BoundedWork.start({ () -> ShareResult in
                defer { inFlight.release(name) }
                return job.run()
            }) else {
                inFlight.release(share.name)
                fail(share.name, mountPoint: share.usablePath, .noThread, into: &outcome)
                continue
            }
            started.append((share, record, work))
        }
        let waitStart = clock.now()
        for (share, record, work) in started {
            let remaining = shareBound - (clock.now() - waitStart).secondsDouble
            guard let result = work.wait(seconds: remaining) else {
                fail(share.name, mountPoint: share.usablePath, .beatNotFinished(seconds: shareBound), into: &outcome)
                continue
            }
            switch result {
            case .notMounted:
                outcome.notMounted.append(share.name)
            case .failed(let reason):
                fail(share.name, mountPoint: share.usablePath, reason, into: &outcome)
            case .written(let written, let swept, let claimFailures):
                for failure in claimFailures {
                    logger.warning(
                        "holder claim not refreshed; it goes stale unless a later beat writes it",
                        metadata: ["event": "claim-write-failed", "share": "\(share.name)", "error": "\(LineEscaping.oneLine(failure))"])
                }
                lastWrites[share.name] = written.lastWrite
                lastSuccessAt = now
                if swept != nil { lastSweep[share.name] = now }
                outcome.written.append(share.name)
                report(written, share: share, into: &outcome)
                for file in swept ?? [] {
                    logger.info("old heartbeat file swept", metadata: ["event": "heartbeat-swept", "share": "\(share.name)", "file": "\(file)"])
                }
                logger.debug("heartbeat written", metadata: ["share": "\(share.name)", "images": "\(record.images.count)"])
            }
        }
        return outcome
    }

    mutating func report(_ written: HeartbeatWriter.Outcome, share: Share, into outcome: inout Outcome) {
        for entry in written.published.dropped {
            outcome.dropped.append((share.name, entry))
            guard reported.insert("dropped \(share.name) \(entry)").inserted else { continue }
            var event = AuditEvent(
                .heartbeatEntryDropped, message: "heartbeat record entry left out: other hosts' readers would refuse it; the rest of the record is written",
                extra: ["mount_point": share.usablePath, "entry": "\(entry.kind.rawValue) \(entry.entry)", "error": entry.reason])
            event[.share] = share.name
            logger.audit(event)
        }
        if let other = written.collision {
            outcome.collisions.append((share.name, other))
            if reported.insert("collision \(share.name) \(other.addresses)").inserted {
                var event = AuditEvent(
                    .hostIDCollision,
                    message: "another host writes heartbeat records with this host's host_id (cloned /etc/machine-id?); set a distinct host_id in smbvol.toml",
                    extra: [
                        "host_id": other.hostID, "other_hostname": other.hostname, "other_addresses": other.addresses.joined(separator: ","),
                        "mount_point": share.usablePath,
                    ])
                event[.share] = share.name
                logger.audit(event)
            }
        }
    }

    func fail(_ share: String, mountPoint: String, _ reason: ShareBeatFailure, into outcome: inout Outcome) {
        outcome.failed.append((share, reason))
        var event = AuditEvent(
            .heartbeatFailed, message: "heartbeat not written on the share; retried on the next beat", level: .warning,
            extra: ["mount_point": mountPoint, "error": reason.description])
        event[.share] = share
        logger.audit(event)
    }

    /// How long before this host's boot a lock must have been recorded to count as a leftover
    /// of an earlier boot: a clock stepped forward after boot (a first NTP sync) makes a lock
    /// recorded just after boot look older than the boot by that step.
    public static let bootClockMarginSeconds: Double = 600

    /// The images on `share` whose claims this host refreshes: each hook lock's image (the top
    /// image of a disk — a `vdb+share` lock, a backing file on another share, is not claimed),
    /// as the domain spells it; the share's worker resolves in-share symlinks. One per image.
    /// A lock recorded before this host's last boot (`bootTime`, less a margin for the clock)
    /// is not claimed: no domain survives a reboot, and until `reconcile` drops the lock its
    /// fresh claim would refuse every other host's start of the image (a failover). An undated
    /// lock is claimed.
    static func claimedImages(on share: Share, locks: [AttachmentLock], bootTime: Double? = nil) -> [ShareJob.ClaimedImage] {
        var seen: Set<String> = []
        let sinceBoot = { (lock: AttachmentLock) -> Bool in
            guard let bootTime, let recorded = lock.latestRecordingSeconds else { return true }
            return recorded >= bootTime - Self.bootClockMarginSeconds
        }
        return locks.filter { $0.context == .hook && $0.share == share.name && !$0.image.isEmpty && !$0.disk.contains("+") && sinceBoot($0) }
            .sorted { ($0.image, $0.domainUUID) < ($1.image, $1.domainUUID) }
            .compactMap { lock in
                guard seen.insert(lock.image).inserted else { return nil }
                return ShareJob.ClaimedImage(image: lock.image, domainName: lock.domainName, domainUUID: lock.domainUUID)
            }
    }

    /// The images on `share` this host's attachment locks hold, relative to the share's root,
    /// spelled as readers spell them (`a//b` and `./a` are `a/b` and `a`).
    public static func images(on share: Share, locks: [AttachmentLock]) -> [HeartbeatRecord.HeldImage] {
        let base = "/" + share.usablePath.split(separator: "/").joined(separator: "/")
        var images: Set<HeartbeatRecord.HeldImage> = []
        for lock in locks where lock.share == share.name && !lock.image.isEmpty {
            let image = "/" + lock.image.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
            guard image.hasPrefix(base == "/" ? "/" : base + "/"), image.count > base.count + 1 else { continue }
            // Left as is otherwise: the codec drops what readers would refuse, and says so.
            images.insert(
                HeartbeatRecord.HeldImage(
                    path: String(image.dropFirst(base == "/" ? 1 : base.count + 1)), domainName: lock.domainName, domainUUID: lock.domainUUID))
        }
        return images.sorted { ($0.path, $0.domainUUID) < ($1.path, $1.domainUUID) }
    }
}

/// Why a beat wrote no record on a share (retried on the next beat). Its description is the
/// one-line reason the `heartbeat-failed` audit event and `heartbeat --once` show.
public enum ShareBeatFailure: Error, Sendable, CustomStringConvertible {
    /// The lock store, the shares or the mount table could not be read.
    case notRead(any Error)
    /// The share's previous beat is still blocked in its I/O: not touched until it returns.
    case previousBeatBlocked
    case noThread
    /// The share's worker did not finish within the beat's bound (`shareBound`).
    case beatNotFinished(seconds: Double)
    /// The mount did not answer its probe within `seconds`.
    case probeUnanswered(seconds: Double)
    /// The mount is dead (statfs failed).
    case deadMount(SystemCallError)
    /// Writing the record (or sweeping) failed.
    case notWritten(any Error)

    public var description: String {
        let reason: String
        switch self {
        case .notRead(let error), .notWritten(let error): reason = "\(error)"
        case .previousBeatBlocked: reason = "the previous beat on this share is still blocked in its I/O (the share hangs); not touched again until it returns"
        case .noThread: reason = "no thread could be started for the share's beat"
        case .beatNotFinished(let seconds): reason = "the share did not answer within \(StaleHandleClassifier.seconds(seconds)) (hung?); the other shares were beaten"
        case .probeUnanswered(let seconds):
            reason = "the share does not answer (no answer within \(StaleHandleClassifier.seconds(seconds))): not written; the other shares were beaten"
        case .deadMount(let error): reason = "the share's mount is dead (\(error.description))"
        }
        return LineEscaping.oneLine(reason)
    }
}

/// One share's beat, as its worker runs it: probe, check the mount point, sweep (when due),
/// write.
struct ShareJob: Sendable {
    /// An image whose claim the beat refreshes.
    struct ClaimedImage: Sendable, Equatable {
        var image: String
        var domainName: String
        var domainUUID: String
    }

    var share: Share
    var record: HeartbeatRecord
    var claimedImages: [ClaimedImage] = []
    var claimStore = HolderClaimStore()
    var writer: HeartbeatWriter
    var probe: any MountHealthProbing
    var previous: HeartbeatWriter.LastWrite?
    var now: Double
    var freshSeconds: Double
    var sweepAge: Double?
    var probeTimeout: Duration

    func run() -> HeartbeatBeat.ShareResult {
        if !share.isLocal {
            switch probe.health(of: share.usablePath, deadline: .none) {
            case .hung(let seconds):
                return .failed(.probeUnanswered(seconds: seconds))
            case .dead(let code):
                return .failed(.deadMount(SystemCallError(call: "statfs", path: share.usablePath, code: code)))
            case .healthy:
                break
            }
            // Unmounted since the mount table was read: the directory is no longer the share's.
            guard MountPointCheck.isMountPoint(share.usablePath) else { return .notMounted }
        }
        do {
            var swept: [String]?
            if let sweepAge {
                swept = writer.sweep(hostID: record.hostID, addresses: record.addresses, shareRoot: share.usablePath, now: now, olderThanSeconds: sweepAge)
            }
            let outcome = try writer.write(record, shareRoot: share.usablePath, previous: previous, now: now, freshSeconds: freshSeconds)
            let claimFailures = refreshClaims(sweepingOlderThan: sweepAge, swept: &swept)
            return .written(outcome, swept: swept, claimFailures: claimFailures)
        } catch {
            return .failed(.notWritten(error))
        }
    }
}

extension ShareJob {
    /// Rewrites this host's claim on every image of `claimedImages` (after the record: the
    /// record is what other hosts' handle rules need first), and, when a sweep is due, sweeps
    /// those images' claim directories of other hosts' old claims (appended to `swept`).
    /// In-share symlinks are followed here, in the share's bounded worker. Returns the
    /// failures, one line each.
    func refreshClaims(sweepingOlderThan sweepAge: Double? = nil, swept: inout [String]?) -> [String] {
        var failures: [String] = []
        for claimed in claimedImages {
            guard let relative = DiskImageLocator.relativePathInsideShare(of: claimed.image, shareDirectory: share.usablePath) else {
                failures.append("\(claimed.image): not below the share's directory \(share.usablePath) (or resolves outside it): no claim written")
                continue
            }
            let claim = HolderClaim(
                hostID: record.hostID, hostname: record.hostname, addresses: record.addresses, domainName: claimed.domainName,
                domainUUID: claimed.domainUUID, imagePath: relative, writtenAt: now, intervalSeconds: record.intervalSeconds)
            do {
                try claimStore.write(claim, shareRoot: share.usablePath)
            } catch {
                failures.append("\(claimed.image): \(error)")
            }
            if let sweepAge {
                let removed = claimStore.sweep(imagePath: relative, hostID: record.hostID, shareRoot: share.usablePath, now: now, olderThanSeconds: sweepAge)
                swept = (swept ?? []) + removed
            }
        }
        return failures
    }
}

/// The shares whose beat is running (possibly blocked in the kernel on a hung mount).
final class InFlightShares: Sendable {
    private let names = Mutex<Set<String>>([])

    func claim(_ name: String) -> Bool { names.withLock { $0.insert(name).inserted } }
    func release(_ name: String) { _ = names.withLock { $0.remove(name) } }
}

/// Whether a directory is a mount point: its device differs from its parent's (or it is its
/// parent, `/`). Run only where blocking is bounded (a share's worker, after the probe).
enum MountPointCheck {
    static func isMountPoint(_ path: String) -> Bool {
        guard let own = try? FileStatus.of(path), let parent = try? FileStatus.of(path + "/..") else { return false }
        return own.device != parent.device || own.inode == parent.inode
    }
}
