import SmbvolSystem

/// One entry of a record left out, and why: the writer leaves out what the reader would refuse
/// (so that every reader accepts what it publishes), the reader leaves out what it cannot use —
/// and in both cases the rest of the record stands.
public struct DroppedHeartbeatEntry: Sendable, Equatable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable, Hashable {
        case image
        /// An image's domain name only: the image stays, named by its domain UUID.
        case domainName = "domain name"
        case address
        case hostname
    }

    public var kind: Kind
    /// The entry as found, shortened and made printable for one line.
    public var entry: String
    public var reason: String

    public init(kind: Kind, entry: String, reason: String) {
        self.kind = kind
        self.entry = entry
        self.reason = reason
    }

    public var description: String { "\(kind.rawValue) \"\(entry)\" dropped: \(reason)" }

    /// At most 80 characters, control characters as `?`: a hostile entry stays one short line.
    static func shown(_ text: String) -> String {
        let printable = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
        return printable.count > 80 ? String(printable.prefix(77)) + "..." : printable
    }
}

/// The one codec of heartbeat records: the entry rules below are what the reader accepts, and
/// the writer publishes only bytes that the reader reads back whole (checked on every write).
extension HeartbeatRecord {
    /// A decoded record and the entries left out of it.
    public struct Decoded: Sendable, Equatable {
        public var record: HeartbeatRecord
        public var dropped: [DroppedHeartbeatEntry]
    }

    /// What a writer may publish: the record as every reader will see it, its bytes, and the
    /// entries it had to leave out (each worth a warning).
    public struct Publishable: Sendable, Equatable {
        public var record: HeartbeatRecord
        public var bytes: [UInt8]
        public var dropped: [DroppedHeartbeatEntry]
    }

    // MARK: - Entry rules (reader and writer)

    /// An image path as records carry it: below the share root, `/`-separated, no empty or `.`
    /// components (so `a//b`, `./a/b` and `/a/b` are all `a/b`: the spelling a domain's XML
    /// used must not decide whether two paths are the same image). Nil with the reason when it
    /// is no path below the share.
    public static func normalizedImagePath(_ path: String) -> Result<String, EntryProblem> {
        let components = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        guard !components.contains("..") else { return .failure(EntryProblem("it leaves the share (\"..\")")) }
        let normalized = components.joined(separator: "/")
        guard !normalized.isEmpty else { return .failure(EntryProblem("it names no file below the share")) }
        guard isPrintable(normalized, maximum: maximumImagePathBytes) else {
            return .failure(EntryProblem("it is longer than \(maximumImagePathBytes) bytes or has control characters"))
        }
        return .success(normalized)
    }

    public static let maximumImagePathBytes = 4096
    public static let maximumDomainNameBytes = 255
    public static let maximumDomainUUIDBytes = 64
    public static let maximumHostnameBytes = 255

    public struct EntryProblem: Error, Sendable, Equatable {
        public var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    static func domainNameProblem(_ name: String) -> String? {
        if name.isEmpty { return nil }
        return isPrintable(name, maximum: maximumDomainNameBytes)
            ? nil : "longer than \(maximumDomainNameBytes) bytes (\(name.utf8.count)) or has control characters; the image is named by its domain UUID"
    }

    static func domainUUIDProblem(_ uuid: String) -> String? {
        isPrintable(uuid, maximum: maximumDomainUUIDBytes) ? nil : "its domain UUID is empty, longer than \(maximumDomainUUIDBytes) bytes or has control characters"
    }

    static func addressProblem(_ address: String) -> String? {
        isAddress(address) ? nil : "not an address (letters, digits, '.', ':', '-', '_'; at most 100)"
    }

    /// The image if it can be carried, with the domain name left out when only it is bad.
    static func checkedImage(path: String?, domainName: String?, domainUUID: String?, dropped: inout [DroppedHeartbeatEntry]) -> HeldImage? {
        let shownPath = DroppedHeartbeatEntry.shown(path ?? "(missing)")
        guard let path else {
            dropped.append(DroppedHeartbeatEntry(kind: .image, entry: shownPath, reason: "no path"))
            return nil
        }
        let normalized: String
        switch normalizedImagePath(path) {
        case .success(let value): normalized = value
        case .failure(let problem):
            dropped.append(DroppedHeartbeatEntry(kind: .image, entry: shownPath, reason: "the path is not below the share: \(problem.reason)"))
            return nil
        }
        guard let domainUUID, domainUUIDProblem(domainUUID) == nil else {
            dropped.append(DroppedHeartbeatEntry(kind: .image, entry: shownPath, reason: domainUUIDProblem(domainUUID ?? "") ?? "no domain UUID"))
            return nil
        }
        var name = domainName ?? ""
        if let problem = domainNameProblem(name) {
            dropped.append(DroppedHeartbeatEntry(kind: .domainName, entry: DroppedHeartbeatEntry.shown(name), reason: "\(problem) (\(domainUUID))"))
            name = ""
        }
        return HeldImage(path: normalized, domainName: name, domainUUID: domainUUID)
    }

    /// A hostname that passes the rules: control characters become `?`, cut to 255 bytes on a
    /// character boundary, `unknown` when empty.
    public static func publishableHostname(_ name: String) -> String {
        var result = String.UnicodeScalarView()
        var bytes = 0
        for scalar in name.unicodeScalars {
            let replaced: Unicode.Scalar = scalar.value < 0x20 || scalar.value == 0x7F ? "?" : scalar
            let size = String(replaced).utf8.count
            guard bytes + size <= maximumHostnameBytes else { break }
            result.append(replaced)
            bytes += size
        }
        return result.isEmpty ? "unknown" : String(result)
    }

    public static func isPrintable(_ text: String, maximum: Int) -> Bool {
        !text.isEmpty && text.utf8.count <= maximum && !text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    /// IPv4, IPv6 or a name: letters, digits, `.`, `:`, `-`, `_`; at most 100 characters.
    public static func isAddress(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 100
            && text.utf8.allSatisfy { HostIdentity.isAlphanumeric($0) || ".:-_".utf8.contains($0) }
    }

    /// The addresses that pass, first `maximumAddresses` of them, each once.
    static func checkedAddresses(_ candidates: [String?], dropped: inout [DroppedHeartbeatEntry]) -> [String] {
        var kept: [String] = []
        var seen: Set<String> = []
        for candidate in candidates {
            guard let address = candidate else {
                dropped.append(DroppedHeartbeatEntry(kind: .address, entry: "(not a string)", reason: "not an address"))
                continue
            }
            if let problem = addressProblem(address) {
                dropped.append(DroppedHeartbeatEntry(kind: .address, entry: DroppedHeartbeatEntry.shown(address), reason: problem))
                continue
            }
            guard seen.insert(address).inserted else { continue }
            guard kept.count < maximumAddresses else {
                dropped.append(DroppedHeartbeatEntry(kind: .address, entry: address, reason: "beyond the first \(maximumAddresses) addresses"))
                continue
            }
            kept.append(address)
        }
        return kept
    }

    // MARK: - Reading

    /// `decode`, also saying which entries were left out.
    public static func decodeReporting(_ bytes: [UInt8]) throws -> Decoded {
        try ShareFileJSON.decoded(
            ReadWire.self, from: bytes, maximumBytes: maximumBytes, shape: "the heartbeat record's shape", malformed: HeartbeatRecordError.malformed
        ).validated()
    }

    // MARK: - Writing

    /// The record as a writer may publish it: every entry the reader would refuse left out (and
    /// reported), images past the size limit left out from the end, and the bytes read back with
    /// `decodeReporting` before they are returned — what this returns, every reader accepts
    /// whole. Throws only when nothing worth publishing is left (no address) or, as a guard
    /// against a bug here, when the bytes would not read back.
    public func publishable() throws -> Publishable {
        var dropped: [DroppedHeartbeatEntry] = []
        var record = self
        record.hostname = Self.publishableHostname(hostname)
        record.addresses = Self.checkedAddresses(addresses.map { Optional($0) }, dropped: &dropped)
        guard !record.addresses.isEmpty else {
            throw HeartbeatRecordError.malformed("no address this host could publish (\(dropped.map(\.description).joined(separator: "; ")))")
        }
        var images: [HeldImage] = []
        var seen: Set<HeldImage> = []
        for image in self.images {
            guard let checked = Self.checkedImage(path: image.path, domainName: image.domainName, domainUUID: image.domainUUID, dropped: &dropped),
                seen.insert(checked).inserted
            else { continue }
            images.append(checked)
        }
        if images.count > Self.maximumImages {
            for image in images[Self.maximumImages...] {
                dropped.append(DroppedHeartbeatEntry(kind: .image, entry: DroppedHeartbeatEntry.shown(image.path), reason: "beyond the first \(Self.maximumImages) images"))
            }
            images.removeLast(images.count - Self.maximumImages)
        }
        record.images = images
        var bytes = try record.encoded()
        if bytes.count > Self.maximumBytes {
            // The most images that fit, by bisection (the size grows with the count).
            var fits = 0
            var tooMany = images.count
            while tooMany - fits > 1 {
                let middle = (fits + tooMany) / 2
                record.images = Array(images.prefix(middle))
                if try record.encoded().count <= Self.maximumBytes { fits = middle } else { tooMany = middle }
            }
            for image in images[fits...] {
                dropped.append(
                    DroppedHeartbeatEntry(kind: .image, entry: DroppedHeartbeatEntry.shown(image.path), reason: "the record would be larger than \(Self.maximumBytes) bytes"))
            }
            record.images = Array(images.prefix(fits))
            bytes = try record.encoded()
        }
        let readBack = try Self.decodeReporting(bytes)
        guard readBack.dropped.isEmpty, readBack.record == record else {
            throw HeartbeatRecordError.malformed(
                "the writer's record does not read back whole (\(readBack.dropped.map(\.description).joined(separator: "; "))); not published")
        }
        return Publishable(record: record, bytes: bytes, dropped: dropped)
    }
}

/// The record as written.
struct Wire: Encodable {
    var format: String
    var version: Int
    var hostID: String
    var hostname: String
    var addresses: [String]
    var writtenAt: String
    var intervalSeconds: Double
    var images: [Image]

    struct Image: Encodable {
        var path: String
        var domainName: String
        var domainUUID: String

        enum CodingKeys: String, CodingKey, CaseIterable {
            case path
            case domainName = "domain_name"
            case domainUUID = "domain_uuid"
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
}

/// The record as read. The record-level keys are strict (a record whose format, version, host,
/// time or interval we do not understand proves nothing); the entries are read one by one, and
/// one that does not fit is dropped by `validated()`, never the whole record.
struct ReadWire: Decodable {
    var format: String
    var version: Int
    var hostID: String
    var hostname: String?
    var addresses: [Slot]
    var writtenAt: String
    var intervalSeconds: Double
    var images: [ImageSlot]

    /// One array element that never fails to decode: nil when it is not a string.
    struct Slot: Decodable {
        var value: String?
        init(from decoder: any Decoder) throws { value = try? decoder.singleValueContainer().decode(String.self) }
    }

    struct ImageSlot: Decodable {
        var path: String?
        var domainName: String?
        var domainUUID: String?
        /// Why the element is not an image object at all.
        var shapeProblem: String?

        init(from decoder: any Decoder) throws {
            guard let container = try? decoder.container(keyedBy: Wire.Image.CodingKeys.self),
                let keys = try? decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
            else {
                shapeProblem = "not an object"
                return
            }
            let known = Wire.Image.CodingKeys.allCases.map(\.rawValue)
            if let unknown = keys.first(where: { !known.contains($0) }) { shapeProblem = "unknown key \"\(DroppedHeartbeatEntry.shown(unknown))\"" }
            path = try? container.decode(String.self, forKey: .path)
            domainName = try? container.decode(String.self, forKey: .domainName)
            domainUUID = try? container.decode(String.self, forKey: .domainUUID)
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Wire.CodingKeys.self)
        try Self.rejectUnknownKeys(decoder, known: Wire.CodingKeys.allCases.map(\.rawValue), what: "the record")
        format = try container.decode(String.self, forKey: .format)
        version = try container.decode(Int.self, forKey: .version)
        hostID = try container.decode(String.self, forKey: .hostID)
        // Present, but possibly not a string: an entry, dropped alone.
        guard container.contains(.hostname) else { throw HeartbeatRecordError.malformed("not JSON of the heartbeat record's shape (no hostname)") }
        hostname = try? container.decode(String.self, forKey: .hostname)
        addresses = try container.decode([Slot].self, forKey: .addresses)
        writtenAt = try container.decode(String.self, forKey: .writtenAt)
        intervalSeconds = try container.decode(Double.self, forKey: .intervalSeconds)
        images = try container.decode([ImageSlot].self, forKey: .images)
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
            throw HeartbeatRecordError.malformed("unknown key \"\(DroppedHeartbeatEntry.shown(unknown))\" in \(what)")
        }
    }

    func validated() throws -> HeartbeatRecord.Decoded {
        func fail(_ reason: String) -> HeartbeatRecordError { .malformed(reason) }
        guard format == HeartbeatRecord.format else { throw fail("format is \"\(DroppedHeartbeatEntry.shown(format))\", not \"\(HeartbeatRecord.format)\"") }
        guard version == HeartbeatRecord.formatVersion else { throw fail("format version \(version) is not understood (expected \(HeartbeatRecord.formatVersion))") }
        let host = try HostFields.validated(
            hostID: hostID, writtenAt: writtenAt, intervalSeconds: intervalSeconds, addresses: addresses.map(\.value), hostname: hostname,
            malformed: fail)
        let (seconds, usable, name) = (host.writtenAt, host.addresses, host.hostname)
        var dropped = host.dropped
        var images: [HeartbeatRecord.HeldImage] = []
        for slot in self.images {
            if let problem = slot.shapeProblem {
                dropped.append(DroppedHeartbeatEntry(kind: .image, entry: DroppedHeartbeatEntry.shown(slot.path ?? "(no path)"), reason: problem))
                continue
            }
            guard images.count < HeartbeatRecord.maximumImages else {
                dropped.append(DroppedHeartbeatEntry(kind: .image, entry: DroppedHeartbeatEntry.shown(slot.path ?? ""), reason: "beyond the first \(HeartbeatRecord.maximumImages) images"))
                continue
            }
            if let image = HeartbeatRecord.checkedImage(path: slot.path, domainName: slot.domainName, domainUUID: slot.domainUUID, dropped: &dropped) {
                images.append(image)
            }
        }
        let record = HeartbeatRecord(
            hostID: hostID, hostname: name, addresses: usable, writtenAt: seconds, intervalSeconds: intervalSeconds, images: images)
        return HeartbeatRecord.Decoded(record: record, dropped: dropped)
    }
}

/// The host fields every file a host writes on a share carries (heartbeat records, holder
/// claims), validated by one rule: host_id, written_at, interval, addresses (what the file
/// proves: with none usable it proves nothing) and hostname (shown as "?" when unusable).
struct HostFields {
    var writtenAt: Double
    var addresses: [String]
    var hostname: String
    var dropped: [DroppedHeartbeatEntry]

    static func validated(
        hostID: String, writtenAt: String, intervalSeconds: Double, addresses candidates: [String?], hostname: String?,
        malformed fail: (String) -> any Error
    ) throws -> HostFields {
        guard HostIdentity.isValidHostID(hostID) else { throw fail("host_id is not 1 to 64 letters, digits, '.', '_' or '-'") }
        guard let seconds = UTCTimestamp.secondsSinceEpoch(iso8601: writtenAt), UTCTimestamp.iso8601(secondsSinceEpoch: seconds) == writtenAt else {
            throw fail("written_at \"\(DroppedHeartbeatEntry.shown(writtenAt))\" is not an ISO-8601 UTC time (YYYY-MM-DDTHH:MM:SSZ)")
        }
        guard intervalSeconds.isFinite, intervalSeconds > 0, intervalSeconds <= 86400 else {
            throw fail("interval_seconds must be between 0 and 86400")
        }
        var dropped: [DroppedHeartbeatEntry] = []
        let usable = HeartbeatRecord.checkedAddresses(candidates, dropped: &dropped)
        guard !usable.isEmpty else {
            let why = dropped.first.map { ": \($0.entry) is not an address" } ?? ""
            throw fail("addresses must list 1 to \(HeartbeatRecord.maximumAddresses) addresses\(why)")
        }
        var name = hostname ?? ""
        if !HeartbeatRecord.isPrintable(name, maximum: HeartbeatRecord.maximumHostnameBytes) {
            dropped.append(
                DroppedHeartbeatEntry(
                    kind: .hostname, entry: DroppedHeartbeatEntry.shown(hostname ?? "(not a string)"),
                    reason: "empty, longer than \(HeartbeatRecord.maximumHostnameBytes) bytes or has control characters; shown as \"?\""))
            name = "?"
        }
        return HostFields(writtenAt: seconds, addresses: usable, hostname: name, dropped: dropped)
    }
}
