import HostHeartbeat
import LockHygiene
import SmbvolSystem

/// Reads the heartbeat records of an image's holder addresses from the image's share and turns
/// them into facts for the classifier. Only `by-address/<a>/` of each address in A is read, so
/// the cost of a decision does not grow with the number of hosts on the share.
public struct HeartbeatEvidenceCollector: Sendable {
    public var reader: HeartbeatReader
    public var clock: any MonotonicClock

    public init(reader: HeartbeatReader = HeartbeatReader(), clock: any MonotonicClock = SystemClock()) {
        self.reader = reader
        self.clock = clock
    }

    /// - Parameters:
    ///   - addresses: the holder addresses (canonical).
    ///   - shareDirectory: the share's mount point or `local_path` (its root).
    ///   - imagePath: the image below the share root (records list images that way).
    public func observations(addresses: Set<String>, shareDirectory: String, imagePath: String) -> [HeartbeatObservation] {
        gather(addresses: addresses, shareDirectory: shareDirectory, imagePath: imagePath).observations
    }

    /// The observations, and the holder addresses whose directory held more record files than
    /// were read (with how many were not): their unread records may prove a holder alive.
    public func gather(addresses: Set<String>, shareDirectory: String, imagePath: String)
        -> (observations: [HeartbeatObservation], notRead: [(address: String, count: Int)])
    {
        let now = clock.wallClockSeconds()
        var result: [HeartbeatObservation] = []
        var notRead: [(address: String, count: Int)] = []
        for address in addresses.sorted() {
            let (entries, unread) = reader.recordsReporting(forAddress: address, shareRoot: shareDirectory)
            if unread > 0 { notRead.append((address, unread)) }
            for entry in entries {
                switch entry {
                case .unusable(let file, let reason):
                    result.append(.unusable(address: address, reason: "\(file): \(reason)"))
                case .record(let record, let file, let dropped):
                    guard ClientAddress.canonical(record.addresses).contains(address) else {
                        result.append(.unusable(address: address, reason: "\(file): the record of host \(record.hostID) does not list \(address)"))
                        continue
                    }
                    result.append(
                        .record(
                            HeartbeatRecordFact(
                                address: address, hostID: record.hostID, hostname: record.hostname, writtenAt: record.writtenAtText,
                                ageSeconds: now - record.writtenAt, domainsOnImage: record.domains(onImage: Self.normalized(imagePath)),
                                recordAddresses: ClientAddress.canonical(record.addresses).sorted(), droppedEntries: dropped.map(\.description))))
                }
            }
        }
        return (result, notRead)
    }

    /// When the cluster cannot be asked, the share still can: other hosts' records (every host's
    /// `hosts/` file — this grows with the hosts, and is read only on that failure path) whose
    /// fresh beat lists `imagePath`. A record with this host's host_id that lists addresses this
    /// host does not have is another host (a cloned machine-id) and counts. One per host.
    public func beatingHolders(
        ofImage imagePath: String, shareDirectory: String, localHostID: String?, localAddresses: Set<String>, freshSeconds: Double
    ) -> [BeatingHost] {
        let now = clock.wallClockSeconds()
        let image = Self.normalized(imagePath)
        var holders: [BeatingHost] = []
        for case .record(let record, _, _) in reader.allRecords(shareRoot: shareDirectory) {
            let addresses = ClientAddress.canonical(record.addresses)
            if record.hostID == localHostID && addresses.isSubset(of: localAddresses) { continue }
            let age = now - record.writtenAt
            let domains = record.domains(onImage: image)
            guard age < freshSeconds, !domains.isEmpty else { continue }
            holders.append(
                BeatingHost(
                    hostname: record.hostname, hostID: record.hostID, addresses: addresses.sorted(), ageSeconds: max(0, Int(age)), domains: domains,
                    image: image))
        }
        return holders
    }

    /// The image path spelled as records spell it (the one codec's rule).
    static func normalized(_ path: String) -> String {
        if case .success(let normalized) = HeartbeatRecord.normalizedImagePath(path) { return normalized }
        return path
    }
}

/// Another host whose fresh heartbeat record lists an image: alive, and perhaps writing it.
public struct BeatingHost: Sendable, Equatable, CustomStringConvertible {
    public var hostname: String
    public var hostID: String
    /// Canonical, sorted.
    public var addresses: [String]
    /// Whole seconds since the record was written.
    public var ageSeconds: Int
    /// The domains the record lists on the image.
    public var domains: [String]
    /// The image below the share, as records spell it.
    public var image: String

    public init(hostname: String, hostID: String, addresses: [String], ageSeconds: Int, domains: [String], image: String) {
        self.hostname = hostname
        self.hostID = hostID
        self.addresses = addresses
        self.ageSeconds = ageSeconds
        self.domains = domains
        self.image = image
    }

    public var description: String {
        "host \(hostname) (\(hostID), \(addresses.joined(separator: ", "))) beat \(ageSeconds) s ago listing domain \(domains.joined(separator: ", ")) on \(image)"
    }
}
