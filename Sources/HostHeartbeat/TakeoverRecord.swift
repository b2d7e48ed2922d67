import SmbvolSystem

/// What a start leaves on the share when it force-closed another host's handles on an image
/// (docs/stale-handle-policy.md, "After a takeover: no zombie writers"): the image, who took it over and
/// when, who held it before and which handles were closed. The old holder's heartbeat service
/// reads it and stops its domain once the cluster confirms that its own handle is gone.
///
/// Anyone who can write to the share can write one of these: a record alone never stops a
/// domain (see `TakeoverJudgement`).
public struct TakeoverRecord: Sendable, Equatable {
    public static let format = "smbvol-takeover"
    public static let formatVersion = 1
    public static let maximumBytes = 64 * 1024
    public static let maximumClosedHandles = 1000
    public static let maximumFileNumberBytes = 64
    public static let maximumLocationBytes = 200
    /// Records older than this are swept (by age, from their time and the file's).
    public static let retentionSeconds: Double = 7 * 86_400

    /// A host as the record names it.
    public struct Holder: Sendable, Equatable {
        /// A domain as the record names it.
        public struct Domain: Sendable, Equatable {
            public var name: String
            public var uuid: String
            public init(name: String, uuid: String) {
                self.name = name
                self.uuid = uuid
            }
        }

        /// Nil for an old holder whose heartbeat record was not found.
        public var hostID: String?
        public var hostname: String?
        /// Canonical spellings, sorted.
        public var addresses: [String]
        /// The old holder's domain on the image, when its claim named it (nil otherwise).
        public var domain: Domain?

        public init(hostID: String?, hostname: String? = nil, addresses: [String], domain: Domain? = nil) {
            self.hostID = hostID
            self.hostname = hostname
            self.addresses = addresses
            self.domain = domain
        }
    }

    /// The image's path below the share root, normalized as heartbeat records spell it.
    public var imagePath: String
    /// The image's file number on the cluster (the name the old holder looks it up by).
    public var fileNumber: String
    public var newHolder: Holder
    /// The domain the new holder started on the image.
    public var domainName: String
    public var domainUUID: String
    /// Seconds since the epoch, to the microsecond.
    public var takenAt: Double
    public var oldHolder: Holder
    /// The handle locations the new holder closed; empty when it took over the old holder's
    /// stale claim with no handle of it on the image (smbd had dropped it).
    public var closedHandles: [String]

    public init(
        imagePath: String, fileNumber: String, newHolder: Holder, domainName: String, domainUUID: String, takenAt: Double, oldHolder: Holder,
        closedHandles: [String]
    ) {
        self.imagePath = imagePath
        self.fileNumber = fileNumber
        self.newHolder = newHolder
        self.domainName = domainName
        self.domainUUID = domainUUID
        // Kept as written (whole microseconds): a decoded record equals the one encoded.
        self.takenAt = Self.seconds(microseconds: Self.microseconds(takenAt))
        self.oldHolder = oldHolder
        self.closedHandles = closedHandles
    }

    /// `2026-12-07T02:28:21.123456Z`, from the whole microseconds (never a floor of a product,
    /// which may land one microsecond short and not read back equal).
    public var takenAtText: String {
        let micros = Self.microseconds(takenAt)
        let (whole, fraction) = micros.quotientAndRemainder(dividingBy: 1_000_000)
        let digits = String(fraction)
        return String(UTCTimestamp.iso8601(secondsSinceEpoch: Double(whole)).dropLast()) + "." + String(repeating: "0", count: 6 - digits.count) + digits
            + "Z"
    }

    static func microseconds(_ seconds: Double) -> Int64 { Int64((seconds * 1_000_000).rounded()) }

    static func seconds(microseconds: Int64) -> Double {
        let (whole, fraction) = microseconds.quotientAndRemainder(dividingBy: 1_000_000)
        return Double(whole) + Double(fraction) / 1_000_000
    }

    /// One line for logs: `vm/a.qcow2 (file 3001) taken over by host-a at … from host-b (203.0.113.2)`.
    public var summary: String {
        let old = (oldHolder.hostID.map { $0 + " " } ?? "") + "(" + oldHolder.addresses.joined(separator: ",") + ")"
        let basis = closedHandles.isEmpty ? " (its stale claim; no handle closed)" : ""
        return "\(imagePath) (file \(fileNumber)) taken over by \(newHolder.hostID ?? "?") for domain \(domainName) at \(takenAtText) from \(old)\(basis)"
    }
}

/// A takeover record that is no record: it is ignored, with this reason.
public struct TakeoverRecordError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "malformed takeover record: \(reason)" }
}

// MARK: - Codec (strict: a record that is not exactly of this shape proves nothing)

extension TakeoverRecord {
    public func encoded() throws -> [UInt8] {
        let bytes = try ShareFileJSON.encoded(TakeoverWire(self))
        // The writer publishes only what every reader accepts whole.
        guard try Self.decode(bytes) == self else { throw TakeoverRecordError("the writer's record does not read back (a bug); not written") }
        return bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> TakeoverRecord {
        try ShareFileJSON.decoded(
            TakeoverWire.self, from: bytes, maximumBytes: maximumBytes, shape: "the takeover record's shape", malformed: TakeoverRecordError.init
        ).validated()
    }

    static func checkedHolder(_ holder: TakeoverWire.Holder, role: String, hostIDRequired: Bool) throws -> Holder {
        if let hostID = holder.hostID {
            guard HostIdentity.isValidHostID(hostID) else { throw TakeoverRecordError("\(role) host_id is not a host_id") }
        } else if hostIDRequired {
            throw TakeoverRecordError("\(role) has no host_id")
        }
        if let name = holder.hostname, !HeartbeatRecord.isPrintable(name, maximum: HeartbeatRecord.maximumHostnameBytes) {
            throw TakeoverRecordError("\(role) hostname is empty, too long or has control characters")
        }
        guard holder.addresses.count <= HeartbeatRecord.maximumAddresses else {
            throw TakeoverRecordError("\(role) lists more than \(HeartbeatRecord.maximumAddresses) addresses")
        }
        guard holder.addresses.allSatisfy(HeartbeatRecord.isAddress), Set(holder.addresses).count == holder.addresses.count else {
            throw TakeoverRecordError("\(role) lists something that is not an address, or one twice")
        }
        var domain: Holder.Domain?
        if let named = holder.domain {
            guard HeartbeatRecord.isPrintable(named.uuid, maximum: HeartbeatRecord.maximumDomainUUIDBytes),
                named.name.isEmpty || HeartbeatRecord.isPrintable(named.name, maximum: HeartbeatRecord.maximumDomainNameBytes)
            else { throw TakeoverRecordError("\(role)'s domain name or UUID is too long or has control characters") }
            domain = Holder.Domain(name: named.name, uuid: named.uuid)
        }
        return Holder(hostID: holder.hostID, hostname: holder.hostname, addresses: holder.addresses, domain: domain)
    }
}

struct TakeoverWire: Codable {
    struct Holder: Codable {
        var hostID: String?
        var hostname: String?
        var addresses: [String]
        /// Only in records of a claim taken over (older readers ignore it).
        var domain: DomainWire?
        enum CodingKeys: String, CodingKey {
            case hostname, addresses, domain
            case hostID = "host_id"
        }
    }

    struct Image: Codable {
        var path: String
        var fileNumber: String
        enum CodingKeys: String, CodingKey {
            case path
            case fileNumber = "file_number"
        }
    }

    var format: String
    var version: Int
    var image: Image
    var newHolder: Holder
    var domain: DomainWire
    var takenAt: String
    var oldHolder: Holder
    var closedHandles: [String]

    enum CodingKeys: String, CodingKey {
        case format, version, image, domain
        case newHolder = "new_holder"
        case takenAt = "taken_at"
        case oldHolder = "old_holder"
        case closedHandles = "closed_handles"
    }

    init(_ record: TakeoverRecord) {
        format = TakeoverRecord.format
        version = TakeoverRecord.formatVersion
        image = Image(path: record.imagePath, fileNumber: record.fileNumber)
        newHolder = Holder(hostID: record.newHolder.hostID, hostname: record.newHolder.hostname, addresses: record.newHolder.addresses, domain: nil)
        domain = DomainWire(name: record.domainName, uuid: record.domainUUID)
        takenAt = record.takenAtText
        oldHolder = Holder(
            hostID: record.oldHolder.hostID, hostname: record.oldHolder.hostname, addresses: record.oldHolder.addresses,
            domain: record.oldHolder.domain.map { DomainWire(name: $0.name, uuid: $0.uuid) })
        closedHandles = record.closedHandles
    }

    func validated() throws -> TakeoverRecord {
        guard format == TakeoverRecord.format else { throw TakeoverRecordError("format is not \"\(TakeoverRecord.format)\"") }
        guard version == TakeoverRecord.formatVersion else { throw TakeoverRecordError("unknown version \(version)") }
        guard case .success(let path) = HeartbeatRecord.normalizedImagePath(image.path), path == image.path else {
            throw TakeoverRecordError("the image path is not a normalized path below the share")
        }
        guard HeartbeatRecord.isPrintable(image.fileNumber, maximum: TakeoverRecord.maximumFileNumberBytes) else {
            throw TakeoverRecordError("the file number is empty, too long or has control characters")
        }
        let newHolder = try TakeoverRecord.checkedHolder(self.newHolder, role: "the new holder", hostIDRequired: true)
        let oldHolder = try TakeoverRecord.checkedHolder(self.oldHolder, role: "the old holder", hostIDRequired: false)
        guard !oldHolder.addresses.isEmpty || oldHolder.hostID != nil else { throw TakeoverRecordError("the old holder is not named") }
        guard HeartbeatRecord.isPrintable(domain.uuid, maximum: HeartbeatRecord.maximumDomainUUIDBytes),
            domain.name.isEmpty || HeartbeatRecord.isPrintable(domain.name, maximum: HeartbeatRecord.maximumDomainNameBytes)
        else { throw TakeoverRecordError("the domain's name or UUID is too long or has control characters") }
        guard let taken = UTCTimestamp.secondsSinceEpoch(preciseISO8601: takenAt) else {
            throw TakeoverRecordError("taken_at is not an ISO-8601 UTC time")
        }
        // Empty for a stale claim taken over (no handle of the old holder was on the image);
        // then the old holder must be named by its host_id, as its claim named it.
        guard closedHandles.count <= TakeoverRecord.maximumClosedHandles,
            closedHandles.allSatisfy({ HeartbeatRecord.isPrintable($0, maximum: TakeoverRecord.maximumLocationBytes) })
        else { throw TakeoverRecordError("closed_handles is too long, or holds something that is no handle location") }
        guard !closedHandles.isEmpty || oldHolder.hostID != nil else {
            throw TakeoverRecordError("closed_handles is empty and the old holder has no host_id (a claim taken over names its host)")
        }
        return TakeoverRecord(
            imagePath: path, fileNumber: image.fileNumber, newHolder: newHolder, domainName: domain.name, domainUUID: domain.uuid, takenAt: taken,
            oldHolder: oldHolder, closedHandles: closedHandles)
    }
}
