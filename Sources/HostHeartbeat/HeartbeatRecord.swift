import AttachmentLocks

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One host's liveness record on one share (lock-hygiene.md, "Heartbeat evidence"): who it is,
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

    // MARK: - JSON

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(Wire(self))) + [UInt8(ascii: "\n")]
    }

    /// Parses and validates a record strictly: the known keys only, each of the right type and
    /// within bounds. Anything else is `HeartbeatRecordError.malformed`, naming what was wrong.
    public static func decode(_ bytes: [UInt8]) throws -> HeartbeatRecord {
        guard bytes.count <= maximumBytes else { throw HeartbeatRecordError.malformed("larger than \(maximumBytes) bytes") }
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: Data(bytes))
        } catch let error as HeartbeatRecordError {
            throw error
        } catch {
            throw HeartbeatRecordError.malformed("not JSON of the heartbeat record's shape")
        }
        return try wire.validated()
    }
}

public enum HeartbeatRecordError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let reason): return "malformed heartbeat record: \(reason)"
        }
    }
}

/// The record as it is on the share. Decoding rejects unknown keys (a strict reader: a record
/// we do not fully understand proves nothing).
struct Wire: Codable {
    var format: String
    var version: Int
    var hostID: String
    var hostname: String
    var addresses: [String]
    var writtenAt: String
    var intervalSeconds: Double
    var images: [Image]

    struct Image: Codable {
        var path: String
        var domainName: String
        var domainUUID: String

        enum CodingKeys: String, CodingKey, CaseIterable {
            case path
            case domainName = "domain_name"
            case domainUUID = "domain_uuid"
        }

        init(path: String, domainName: String, domainUUID: String) {
            self.path = path
            self.domainName = domainName
            self.domainUUID = domainUUID
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try Wire.rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), what: "an image")
            path = try container.decode(String.self, forKey: .path)
            domainName = try container.decode(String.self, forKey: .domainName)
            domainUUID = try container.decode(String.self, forKey: .domainUUID)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case format, version, hostname, addresses, images
        case hostID = "host_id"
        case writtenAt = "written_at"
        case intervalSeconds = "interval_seconds"
    }

    init(_ record: HeartbeatRecord) {
        format = HeartbeatRecord.format
        version = HeartbeatRecord.formatVersion
        hostID = record.hostID
        hostname = record.hostname
        addresses = record.addresses
        writtenAt = record.writtenAtText
        intervalSeconds = record.intervalSeconds
        images = record.images.map { Image(path: $0.path, domainName: $0.domainName, domainUUID: $0.domainUUID) }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try Self.rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue), what: "the record")
        format = try container.decode(String.self, forKey: .format)
        version = try container.decode(Int.self, forKey: .version)
        hostID = try container.decode(String.self, forKey: .hostID)
        hostname = try container.decode(String.self, forKey: .hostname)
        addresses = try container.decode([String].self, forKey: .addresses)
        writtenAt = try container.decode(String.self, forKey: .writtenAt)
        intervalSeconds = try container.decode(Double.self, forKey: .intervalSeconds)
        images = try container.decode([Image].self, forKey: .images)
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func rejectUnknownKeys(_ decoder: any Decoder, known: [String], what: String) throws {
        let keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        if let unknown = keys.first(where: { !known.contains($0) }) {
            throw HeartbeatRecordError.malformed("unknown key \"\(unknown)\" in \(what)")
        }
    }

    func validated() throws -> HeartbeatRecord {
        func fail(_ reason: String) -> HeartbeatRecordError { .malformed(reason) }
        guard format == HeartbeatRecord.format else { throw fail("format is \"\(format.prefix(40))\", not \"\(HeartbeatRecord.format)\"") }
        guard version == HeartbeatRecord.formatVersion else { throw fail("format version \(version) is not understood (expected \(HeartbeatRecord.formatVersion))") }
        guard HostIdentity.isValidHostID(hostID) else { throw fail("host_id is not 1 to 64 letters, digits, '.', '_' or '-'") }
        guard Self.isPrintable(hostname, maximum: 255) else { throw fail("hostname is empty, too long or has control characters") }
        guard !addresses.isEmpty, addresses.count <= HeartbeatRecord.maximumAddresses else {
            throw fail("addresses must list 1 to \(HeartbeatRecord.maximumAddresses) addresses")
        }
        for address in addresses where !Self.isAddress(address) {
            throw fail("address \"\(address.prefix(64))\" is not an address")
        }
        guard let seconds = UTCTimestamp.secondsSinceEpoch(iso8601: writtenAt), UTCTimestamp.iso8601(secondsSinceEpoch: seconds) == writtenAt else {
            throw fail("written_at \"\(writtenAt.prefix(40))\" is not an ISO-8601 UTC time (YYYY-MM-DDTHH:MM:SSZ)")
        }
        guard intervalSeconds.isFinite, intervalSeconds > 0, intervalSeconds <= 86400 else {
            throw fail("interval_seconds must be between 0 and 86400")
        }
        guard images.count <= HeartbeatRecord.maximumImages else { throw fail("more than \(HeartbeatRecord.maximumImages) images") }
        for image in images {
            guard Self.isPrintable(image.path, maximum: 4096), !image.path.hasPrefix("/"),
                !image.path.split(separator: "/").contains("..")
            else { throw fail("image path \"\(image.path.prefix(64))\" is not a relative path below the share") }
            guard image.domainName.utf8.count <= 255, Self.isPrintable(image.domainName, maximum: 255) || image.domainName.isEmpty,
                Self.isPrintable(image.domainUUID, maximum: 64)
            else { throw fail("an image's domain_name or domain_uuid is invalid") }
        }
        return HeartbeatRecord(
            hostID: hostID, hostname: hostname, addresses: addresses, writtenAt: seconds, intervalSeconds: intervalSeconds,
            images: images.map { HeartbeatRecord.HeldImage(path: $0.path, domainName: $0.domainName, domainUUID: $0.domainUUID) })
    }

    static func isPrintable(_ text: String, maximum: Int) -> Bool {
        !text.isEmpty && text.utf8.count <= maximum && !text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    /// IPv4, IPv6 or a name: letters, digits, `.`, `:`, `-`, `_`; at most 100 characters.
    static func isAddress(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 100
            && text.utf8.allSatisfy { HostIdentity.isAlphanumeric($0) || ".:-_".utf8.contains($0) }
    }
}
