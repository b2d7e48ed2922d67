import AttachmentLocks
import HandleEvidence
import HostHeartbeat
import Logging
import SMBMounts
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem

/// One beat: this host's record on every configured share that is mounted (or served through
/// `local_path`). Never writes on a share that is not mounted; a failed share is logged
/// (`heartbeat-failed`) and tried again on the next beat. The held images come from this host's
/// attachment-lock store, never from libvirt.
public struct HeartbeatBeat {
    public let configuration: SmbvolConfiguration
    public let hostID: String
    public let logger: Logger
    public var writer = HeartbeatWriter()
    public var clock: any MonotonicClock = SystemClock()
    /// Shares whose leftover temporaries were swept in this process already.
    public private(set) var swept: Set<String> = []

    public init(configuration: SmbvolConfiguration, hostID: String, logger: Logger) {
        self.configuration = configuration
        self.hostID = hostID
        self.logger = logger
    }

    public struct Outcome {
        public var written: [String] = []
        public var notMounted: [String] = []
        public var failed: [(share: String, reason: String)] = []
    }

    /// The addresses the cluster may see this host by: interface addresses except loopback
    /// (never seen by a remote cluster), plus `local_addresses`, canonical and sorted.
    public func addresses() -> [String] {
        // Configured addresses first: they are the ones the cluster sees when interfaces do
        // not tell (NAT, VIP), so the cap never drops them.
        var ordered = configuration.localAddresses.map(ClientAddress.canonical)
        ordered += ClientAddress.canonical(LocalAddresses.current()).filter { !Self.isLoopback($0) }.sorted()
        var seen: Set<String> = []
        return ordered.filter { seen.insert($0).inserted }.prefix(HeartbeatRecord.maximumAddresses).sorted()
    }

    public static func isLoopback(_ address: String) -> Bool { address == "::1" || address.hasPrefix("127.") }

    public mutating func beat() -> Outcome {
        var outcome = Outcome()
        let wiring: ShareAttachmentWiring
        let locks: [AttachmentLock]
        do {
            wiring = try ShareAttachmentWiring(configuration: configuration, logger: logger)
            locks = try wiring.service.locks()
        } catch {
            let reason = LineEscaping.oneLine("\(error)")
            logger.warning("heartbeat not written", metadata: ["event": "heartbeat-failed", "error": "\(reason)"])
            outcome.failed.append(("*", reason))
            return outcome
        }
        let addresses = addresses()
        let hostname = HostIdentity.hostname()
        // A beat must not wait long behind a mount or unmount of the same share: skip it this time.
        let flockTimeout = Duration.milliseconds(Int64(min(5, max(0.2, configuration.heartbeatIntervalSeconds / 2)) * 1000))
        for share in wiring.shares where configuration.shares[share.name] != nil {
            let target = ShareAttachmentWiring.target(for: share)
            let record = HeartbeatRecord(
                hostID: hostID, hostname: hostname, addresses: addresses, writtenAt: clock.wallClockSeconds(),
                intervalSeconds: configuration.heartbeatIntervalSeconds, images: Self.images(on: target, locks: locks))
            do {
                let wrote = try wiring.service.whileShareHeld(target, timeout: flockTimeout) { mounted -> Bool in
                    guard mounted else { return false }
                    if !swept.contains(share.name) {
                        writer.sweepTemporaries(hostID: hostID, addresses: addresses, shareRoot: target.mountPoint)
                    }
                    try writer.write(record, shareRoot: target.mountPoint)
                    return true
                }
                if wrote {
                    swept.insert(share.name)
                    outcome.written.append(share.name)
                    logger.debug("heartbeat written", metadata: ["share": "\(share.name)", "images": "\(record.images.count)"])
                } else {
                    outcome.notMounted.append(share.name)
                    logger.debug("share not mounted: no heartbeat written there", metadata: ["share": "\(share.name)"])
                }
            } catch {
                let reason = LineEscaping.oneLine("\(error)")
                outcome.failed.append((share.name, reason))
                var event = AuditEvent(
                    .heartbeatFailed, message: "heartbeat not written on the share; retried on the next beat", level: .warning,
                    extra: ["mount_point": target.mountPoint, "error": reason])
                event[.share] = share.name
                logger.audit(event)
            }
        }
        return outcome
    }

    /// The images on `share` this host's attachment locks hold, relative to the share's root.
    public static func images(on share: ShareTarget, locks: [AttachmentLock]) -> [HeartbeatRecord.HeldImage] {
        let base = share.mountPoint.hasSuffix("/") ? String(share.mountPoint.dropLast()) : share.mountPoint
        var images: Set<HeartbeatRecord.HeldImage> = []
        for lock in locks where lock.share == share.name && !lock.image.isEmpty && lock.image.hasPrefix(base + "/") {
            images.insert(
                HeartbeatRecord.HeldImage(path: String(lock.image.dropFirst(base.count + 1)), domainName: lock.domainName, domainUUID: lock.domainUUID))
        }
        return images.sorted { ($0.path, $0.domainUUID) < ($1.path, $1.domainUUID) }.prefix(HeartbeatRecord.maximumImages).map { $0 }
    }
}
