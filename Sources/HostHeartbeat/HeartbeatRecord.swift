import SmbvolSystem

/// One host's liveness record on one share (docs/stale-handle-policy.md, "Heartbeat evidence"): who it is,
/// the addresses the cluster may see it by, when it wrote, how often it writes, and the images
/// on this share its attachment locks hold.
public struct HeartbeatRecord: Sendable, Equatable {
    public static let format = "smbvol-heartbeat"
    public static let formatVersion = 1
    /// Records are read by every prepare that meets their address: bounded, whoever wrote them.
    public static let maximumBytes = 256 * 1024
    public static let maximumAddresses = 64
    public static let maximumImages = 2000

    /// An image on this share held by one of the host's attachment locks.
    public struct HeldImage: Sendable, Equatable, Hashable {
        /// The image's path below the share root, without a leading `/`.
        public var path: String
        public var domainName: String
        public var domainUUID: String

        public init(path: String, domainName: String, domainUUID: String) {
            self.path = path
            self.domainName = domainName
            self.domainUUID = domainUUID
        }
    }

    public var hostID: String
    public var hostname: String
    /// Canonical spellings (ClientAddress), sorted.
    public var addresses: [String]
    /// Seconds since the epoch, whole seconds (as written: ISO-8601 UTC).
    public var writtenAt: Double
    public var intervalSeconds: Double
    public var images: [HeldImage]

    public init(hostID: String, hostname: String, addresses: [String], writtenAt: Double, intervalSeconds: Double, images: [HeldImage]) {
        self.hostID = hostID
        self.hostname = hostname
        self.addresses = addresses
        self.writtenAt = writtenAt.rounded(.down)
        self.intervalSeconds = intervalSeconds
        self.images = images
    }

    public var writtenAtText: String { UTCTimestamp.iso8601(secondsSinceEpoch: writtenAt) }

    /// Domains the record lists on the image at `path` (below the share root).
    public func domains(onImage path: String) -> [String] {
        Array(Set(images.filter { $0.path == path }.map { $0.domainName.isEmpty ? $0.domainUUID : $0.domainName })).sorted()
    }

    // MARK: - JSON (the one codec: HeartbeatRecord+Codec.swift)

    /// The bytes of this record as it stands. Writers publish `HeartbeatRecord.publishable`'s
    /// bytes instead, which hold only what every reader accepts.
    public func encoded() throws -> [UInt8] { try ShareFileJSON.encoded(Wire(self)) }

    /// Parses a record: the record-level fields strictly (the known keys only, each of the right
    /// type and within bounds: anything else is `HeartbeatRecordError.malformed`, naming what was
    /// wrong), the entries (images, addresses, hostname) one by one — a bad entry is dropped,
    /// the rest of the record stands. See `decodeReporting` for what was dropped.
    public static func decode(_ bytes: [UInt8]) throws -> HeartbeatRecord { try decodeReporting(bytes).record }
}

public enum HeartbeatRecordError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let reason): return "malformed heartbeat record: \(reason)"
        }
    }
}

