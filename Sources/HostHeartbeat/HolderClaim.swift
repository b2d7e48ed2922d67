import SmbvolSystem

/// One host's claim on one image (docs/stale-handle-policy.md, "Holder claims"): "this host runs
/// domain D on this image, and proves it by rewriting this file every beat". Written when a
/// start takes the image, refreshed by every heartbeat while an attachment lock holds it,
/// removed on release. Unlike a handle, a claim survives an smbd restart and a dropped session:
/// a start elsewhere finds the live holder even when the cluster shows no handle on the image.
///
/// One file per host and image (`HeartbeatLayout.claimDirectory`): hosts never write the same
/// file. Anyone who can write to the share can write one: a claim only ever adds a refusal or a
/// takeover record, never a close.
public struct HolderClaim: Sendable, Equatable {
    public static let format = "smbvol-claim"
    public static let formatVersion = 1
    /// Claims are read by every start on their image: bounded, whoever wrote them.
    public static let maximumBytes = 16 * 1024

    public var hostID: String
    public var hostname: String
    /// Canonical spellings (ClientAddress), as the host's heartbeat record lists them.
    public var addresses: [String]
    public var domainName: String
    public var domainUUID: String
    /// The image's path below the share root (after in-share symlinks), normalized as records
    /// spell it. Readers check it is the image they asked about.
    public var imagePath: String
    /// Seconds since the epoch, whole seconds (written as ISO-8601 UTC).
    public var writtenAt: Double
    public var intervalSeconds: Double

    public init(
        hostID: String, hostname: String, addresses: [String], domainName: String, domainUUID: String, imagePath: String, writtenAt: Double,
        intervalSeconds: Double
    ) {
        self.hostID = hostID
        self.hostname = hostname
        self.addresses = addresses
        self.domainName = domainName
        self.domainUUID = domainUUID
        self.imagePath = imagePath
        self.writtenAt = writtenAt.rounded(.down)
        self.intervalSeconds = intervalSeconds
    }

    public var writtenAtText: String { UTCTimestamp.iso8601(secondsSinceEpoch: writtenAt) }

    /// The domain as operators know it: its name, else its UUID.
    public var domainShown: String { domainName.isEmpty ? domainUUID : domainName }
}

/// A claim file that is no claim: ignored, with this reason.
public enum HolderClaimError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let reason): return "malformed holder claim: \(reason)"
        }
    }
}

// MARK: - The one codec (writer and reader)

extension HolderClaim {
    public struct Decoded: Sendable, Equatable {
        public var claim: HolderClaim
        /// Entries left out (bad addresses, a bad hostname or domain name); the rest stands.
        public var dropped: [DroppedHeartbeatEntry]
    }

    public struct Publishable: Sendable, Equatable {
        public var claim: HolderClaim
        public var bytes: [UInt8]
        public var dropped: [DroppedHeartbeatEntry]
    }

    public func encoded() throws -> [UInt8] { try ShareFileJSON.encoded(ClaimWire(self)) }

    public static func decode(_ bytes: [UInt8]) throws -> HolderClaim { try decodeReporting(bytes).claim }

    /// Record-level fields strictly (format, version, host, image, domain UUID, time, interval:
    /// a claim we do not understand proves nothing); the addresses, hostname and domain name one
    /// by one, as heartbeat records (the same entry rules).
    public static func decodeReporting(_ bytes: [UInt8]) throws -> Decoded {
        try ShareFileJSON.decoded(
            ClaimReadWire.self, from: bytes, maximumBytes: maximumBytes, shape: "the holder claim's shape", malformed: HolderClaimError.malformed
        ).validated()
    }

    /// The claim as a writer may publish it: the entries a reader would refuse left out (and
    /// reported), and the bytes read back whole before they are returned. Throws when nothing
    /// worth publishing is left (no address, no usable image path or domain UUID).
    public func publishable() throws -> Publishable {
        var dropped: [DroppedHeartbeatEntry] = []
        var claim = self
        claim.hostname = HeartbeatRecord.publishableHostname(hostname)
        claim.addresses = HeartbeatRecord.checkedAddresses(addresses.map { Optional($0) }, dropped: &dropped)
        guard !claim.addresses.isEmpty else {
            throw HolderClaimError.malformed("no address this host could publish (\(dropped.map(\.description).joined(separator: "; ")))")
        }
        guard HostIdentity.isValidHostID(hostID) else { throw HolderClaimError.malformed("host_id is not a host_id") }
        switch HeartbeatRecord.normalizedImagePath(imagePath) {
        case .success(let path): claim.imagePath = path
        case .failure(let problem): throw HolderClaimError.malformed("the image path is not below the share: \(problem.reason)")
        }
        if let problem = HeartbeatRecord.domainUUIDProblem(domainUUID) { throw HolderClaimError.malformed(problem) }
        if let problem = HeartbeatRecord.domainNameProblem(domainName) {
            dropped.append(DroppedHeartbeatEntry(kind: .domainName, entry: DroppedHeartbeatEntry.shown(domainName), reason: problem))
            claim.domainName = ""
        }
        let bytes = try claim.encoded()
        let readBack = try Self.decodeReporting(bytes)
        guard readBack.dropped.isEmpty, readBack.claim == claim else {
            throw HolderClaimError.malformed("the writer's claim does not read back whole; not published")
        }
        return Publishable(claim: claim, bytes: bytes, dropped: dropped)
    }
}

/// The claim as written.
struct ClaimWire: Encodable {
    var format: String
    var version: Int
    var hostID: String
    var hostname: String
    var addresses: [String]
    var domain: DomainWire
    var imagePath: String
    var writtenAt: String
    var intervalSeconds: Double

    enum CodingKeys: String, CodingKey, CaseIterable {
        case format, version, hostname, addresses, domain
        case hostID = "host_id"
        case imagePath = "image_path"
        case writtenAt = "written_at"
        case intervalSeconds = "interval_seconds"
    }

    init(_ claim: HolderClaim) {
        format = HolderClaim.format
        version = HolderClaim.formatVersion
        hostID = claim.hostID
        hostname = claim.hostname
        addresses = claim.addresses
        domain = DomainWire(name: claim.domainName, uuid: claim.domainUUID)
        imagePath = claim.imagePath
        writtenAt = claim.writtenAtText
        intervalSeconds = claim.intervalSeconds
    }
}

/// The claim as read: strict record-level keys, entries one by one.
struct ClaimReadWire: Decodable {
    var format: String
    var version: Int
    var hostID: String
    var hostname: String?
    var addresses: [ReadWire.Slot]
    var domainName: String?
    var domainUUID: String
    var imagePath: String
    var writtenAt: String
    var intervalSeconds: Double

    enum DomainKeys: String, CodingKey, CaseIterable { case name, uuid }

    /// The entry rules are the heartbeat records' (`ReadWire`): their errors are the claim's.
    init(from decoder: any Decoder) throws {
        do {
            try self.init(reading: decoder)
        } catch HeartbeatRecordError.malformed(let reason) {
            throw HolderClaimError.malformed(reason.replacing("the record", with: "the claim"))
        }
    }

    private init(reading decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: ClaimWire.CodingKeys.self)
        try ReadWire.rejectUnknownKeys(decoder, known: ClaimWire.CodingKeys.allCases.map(\.rawValue), what: "the claim")
        format = try container.decode(String.self, forKey: .format)
        version = try container.decode(Int.self, forKey: .version)
        hostID = try container.decode(String.self, forKey: .hostID)
        guard container.contains(.hostname) else { throw HolderClaimError.malformed("not JSON of the holder claim's shape (no hostname)") }
        hostname = try? container.decode(String.self, forKey: .hostname)
        addresses = try container.decode([ReadWire.Slot].self, forKey: .addresses)
        let domain = try container.nestedContainer(keyedBy: DomainKeys.self, forKey: .domain)
        let domainKeys = try container.nestedContainer(keyedBy: ReadWire.AnyKey.self, forKey: .domain).allKeys.map(\.stringValue)
        if let unknown = domainKeys.first(where: { !DomainKeys.allCases.map(\.rawValue).contains($0) }) {
            throw HolderClaimError.malformed("unknown key \"\(DroppedHeartbeatEntry.shown(unknown))\" in the claim's domain")
        }
        guard domain.contains(.name) else { throw HolderClaimError.malformed("not JSON of the holder claim's shape (no domain name)") }
        domainName = try? domain.decode(String.self, forKey: .name)
        domainUUID = try domain.decode(String.self, forKey: .uuid)
        imagePath = try container.decode(String.self, forKey: .imagePath)
        writtenAt = try container.decode(String.self, forKey: .writtenAt)
        intervalSeconds = try container.decode(Double.self, forKey: .intervalSeconds)
    }

    func validated() throws -> HolderClaim.Decoded {
        func fail(_ reason: String) -> HolderClaimError { .malformed(reason) }
        guard format == HolderClaim.format else { throw fail("format is \"\(DroppedHeartbeatEntry.shown(format))\", not \"\(HolderClaim.format)\"") }
        guard version == HolderClaim.formatVersion else { throw fail("format version \(version) is not understood (expected \(HolderClaim.formatVersion))") }
        guard HostIdentity.isValidHostID(hostID) else { throw fail("host_id is not 1 to 64 letters, digits, '.', '_' or '-'") }
        guard case .success(let path) = HeartbeatRecord.normalizedImagePath(imagePath), path == imagePath else {
            throw fail("image_path is not a normalized path below the share")
        }
        if let problem = HeartbeatRecord.domainUUIDProblem(domainUUID) { throw fail(problem) }
        let host = try HostFields.validated(
            hostID: hostID, writtenAt: writtenAt, intervalSeconds: intervalSeconds, addresses: addresses.map(\.value), hostname: hostname,
            malformed: fail)
        let (seconds, usable, name) = (host.writtenAt, host.addresses, host.hostname)
        var dropped = host.dropped
        var domain = domainName ?? ""
        if domainName == nil {
            dropped.append(DroppedHeartbeatEntry(kind: .domainName, entry: "(not a string)", reason: "the domain is named by its UUID"))
        } else if let problem = HeartbeatRecord.domainNameProblem(domain) {
            dropped.append(DroppedHeartbeatEntry(kind: .domainName, entry: DroppedHeartbeatEntry.shown(domain), reason: problem))
            domain = ""
        }
        let claim = HolderClaim(
            hostID: hostID, hostname: name, addresses: usable, domainName: domain, domainUUID: domainUUID, imagePath: path, writtenAt: seconds,
            intervalSeconds: intervalSeconds)
        return HolderClaim.Decoded(claim: claim, dropped: dropped)
    }
}
