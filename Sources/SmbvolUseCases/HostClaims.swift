import AttachmentLocks
import DiskImages
import HandleEvidence
import HostHeartbeat
import LockHygiene
import Logging
import SmbvolConfig
import SmbvolLogging
import SmbvolShares
import SmbvolSystem

/// This host's holder claims (docs/stale-handle-policy.md, "Holder claims"): written by a start
/// for every image it took, refreshed by every heartbeat while an attachment lock holds the
/// image, removed on release and detach. Never fails its caller: a claim that cannot be written
/// or removed is a warning (`claim-write-failed`, `claim-remove-failed`) — a missing claim
/// only takes a refusal away from other hosts' starts (the handle rules still apply), and a
/// leftover one goes stale by itself.
public struct HostClaims: Sendable {
    public let configuration: SmbvolConfiguration
    /// Nil when this host's host_id cannot be told: no claim is written (a warning says so).
    public let hostID: String?
    public let logger: Logger
    public var store = HolderClaimStore()
    public var clock: any MonotonicClock = SystemClock()
    /// Removal is given this long per share (release never hangs on a share).
    public var removalBoundSeconds: Double = 5
    /// A start's writes are given this long, all shares together (a start is never held up to
    /// its deadline by a claim).
    public var writeBoundSeconds: Double = 5

    public init(configuration: SmbvolConfiguration, hostID: String?, logger: Logger) {
        self.configuration = configuration
        self.hostID = hostID
        self.logger = logger
    }

    /// One image this host holds, as a claim names it.
    public struct HeldImage: Sendable, Equatable {
        public var shareName: String
        /// The share's root on this host (mount point or `local_path`).
        public var shareDirectory: String
        /// The image below it, in-share symlinks followed.
        public var relativePath: String
        public var domainName: String
        public var domainUUID: String

        public init(shareName: String, shareDirectory: String, relativePath: String, domainName: String, domainUUID: String) {
            self.shareName = shareName
            self.shareDirectory = shareDirectory
            self.relativePath = relativePath
            self.domainName = domainName
            self.domainUUID = domainUUID
        }
    }

    /// The claim this host publishes for `image` now.
    public func claim(_ image: HeldImage, now: Double) -> HolderClaim? {
        guard let hostID else { return nil }
        return HolderClaim(
            hostID: hostID, hostname: HostIdentity.hostname(), addresses: HeartbeatBeat.addresses(configuration: configuration),
            domainName: image.domainName, domainUUID: image.domainUUID, imagePath: image.relativePath, writtenAt: now,
            intervalSeconds: configuration.heartbeatIntervalSeconds)
    }

    /// The images a start took: the top image of every disk (a backing file is read-only and
    /// shared, and never claimed), after in-share symlinks.
    public static func heldImages(_ located: [LocatedImage], domainName: String, domainUUID: String) -> [HeldImage] {
        var seen: Set<String> = []
        return located.filter { !$0.isBackingFile }.compactMap { image in
            guard seen.insert(image.shareDirectory + "\u{0}" + image.relativePath).inserted else { return nil }
            return HeldImage(
                shareName: image.share.name, shareDirectory: image.shareDirectory, relativePath: image.relativePath, domainName: domainName,
                domainUUID: domainUUID)
        }
    }

    /// Writes the claims of a start that proceeds (before it reports success), each share's in
    /// a worker of its own, all waited for at most `writeBoundSeconds`: a share that does not
    /// answer is left (its worker finishes by itself if it comes back; the heartbeat rewrites
    /// the claim). Failures are warnings; returns the files written.
    @discardableResult
    public func write(_ images: [HeldImage]) -> [String] {
        guard !images.isEmpty else { return [] }
        let now = clock.wallClockSeconds()
        var claims: [(image: HeldImage, claim: HolderClaim)] = []
        for image in images {
            guard let claim = claim(image, now: now) else {
                warn("claim-write-failed", "holder claim not written: this host's host_id is unknown (set host_id)", image: image, error: nil)
                return []
            }
            claims.append((image, claim))
        }
        let store = self.store
        let byShare = Dictionary(grouping: claims, by: \.image.shareDirectory).sorted { $0.key < $1.key }
        // One outcome per claim: the file written, or the error.
        let started = byShare.map { shareDirectory, shareClaims in
            let pending = shareClaims.map(\.claim)
            let work = BoundedWork.start({ () -> [(file: String?, error: String?)] in
                pending.map { claim in
                    do {
                        return (try store.write(claim, shareRoot: shareDirectory).file, nil)
                    } catch {
                        return (nil, "\(error)")
                    }
                }
            })
            return (shareClaims, work)
        }
        let waitStart = clock.now()
        var written: [String] = []
        for (shareClaims, work) in started {
            let remaining = writeBoundSeconds - (clock.now() - waitStart).secondsDouble
            guard let outcomes = work?.wait(seconds: remaining) else {
                for (image, _) in shareClaims {
                    warn(
                        "claim-write-failed",
                        "holder claim not written: the share did not answer within \(StaleHandleClassifier.seconds(writeBoundSeconds)); the heartbeat writes it once the share answers",
                        image: image, error: nil)
                }
                continue
            }
            for ((image, _), outcome) in zip(shareClaims, outcomes) {
                if let file = outcome.file {
                    written.append(file)
                } else {
                    warn(
                        "claim-write-failed", "holder claim not written; other hosts' starts rely on the SMB handles alone for this image", image: image,
                        error: outcome.error.map(ClaimWriteError.init))
                }
            }
        }
        return written
    }

    /// Removes this host's claims on the images of `locks` (release, detach): only this host's
    /// own files, and not for an image another of this host's locks (`allLocks`) still holds —
    /// compared as claims name images (in-share symlinks followed, case ignored), so another
    /// domain spelling the same file differently keeps its claim; each share's removals bounded
    /// by `removalBoundSeconds` (a hung share is left, and its claim goes stale). Never throws.
    public func remove(for locks: [AttachmentLock], allLocks: [AttachmentLock]) {
        guard let hostID else { return }
        let released = Set(locks.map(\.id))
        let others = allLocks.filter { $0.context == .hook && !released.contains($0.id) && !$0.image.isEmpty }
        let stillHeld = Set(others.map(\.image))
        let byShare = Dictionary(
            grouping: locks.filter { $0.context == .hook && !$0.image.isEmpty && !stillHeld.contains($0.image) }, by: \.mountPoint)
        for (mountPoint, shareLocks) in byShare.sorted(by: { $0.key < $1.key }) {
            let store = self.store
            let images = shareLocks.map(\.image)
            let othersOnShare = others.filter { $0.mountPoint == mountPoint }.map(\.image)
            guard let work = BoundedWork.start({ () -> [String] in
                var failures: [String] = []
                let heldElsewhere = Set(
                    othersOnShare.compactMap { DiskImageLocator.relativePathInsideShare(of: $0, shareDirectory: mountPoint)?.lowercased() })
                for image in images {
                    guard let relative = DiskImageLocator.relativePathInsideShare(of: image, shareDirectory: mountPoint),
                        !heldElsewhere.contains(relative.lowercased())
                    else { continue }
                    do {
                        try store.remove(hostID: hostID, imagePath: relative, shareRoot: mountPoint)
                    } catch {
                        failures.append("\(image): \(error)")
                    }
                }
                return failures
            }), let failures = work.wait(seconds: removalBoundSeconds)
            else {
                logger.warning(
                    "holder claims not removed: the share did not answer; they go stale by themselves",
                    metadata: ["event": "claim-remove-failed", "mount_point": "\(mountPoint)"])
                continue
            }
            for failure in failures {
                logger.warning(
                    "holder claim not removed; it goes stale by itself",
                    metadata: ["event": "claim-remove-failed", "mount_point": "\(mountPoint)", "error": "\(LineEscaping.oneLine(failure))"])
            }
        }
    }

    private func warn(_ event: String, _ message: Logger.Message, image: HeldImage, error: (any Error)?) {
        var metadata: Logger.Metadata = [
            "event": "\(event)", "share": "\(image.shareName)", "image": "\(image.relativePath)", "domain": "\(image.domainName)",
        ]
        if let error { metadata["error"] = "\(LineEscaping.oneLine("\(error)"))" }
        logger.warning(message, metadata: metadata)
    }
}

/// A claim write's error, as its worker reported it.
struct ClaimWriteError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
