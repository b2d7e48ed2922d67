import Foundation
import HostHeartbeat
import Synchronization

/// A scratch directory standing in for a share's root.
final class ScratchShare {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("smbvol-hb-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func path(_ components: [String]) -> String { ([root] + components).joined(separator: "/") }

    /// Writes a file directly (no fsync): fixtures with many hosts.
    func put(_ components: [String], _ bytes: [UInt8]) throws {
        try FileManager.default.createDirectory(atPath: path(Array(components.dropLast())), withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path(components)))
    }

    /// Lays out a host's record as the writer would (hosts/ and by-address/), without fsync.
    func putRecord(_ record: HeartbeatRecord) throws {
        let bytes = try record.encoded()
        let name = HeartbeatLayout.hostFileName(hostID: record.hostID)
        try put(HeartbeatLayout.hostsDirectory + [name], bytes)
        for address in record.addresses { try put(HeartbeatLayout.addressDirectory(address) + [name], bytes) }
    }
}

func sampleRecord(
    host: String = "host-b", addresses: [String] = ["10.0.0.2"], writtenAt: Double = 1_796_000_000,
    images: [HeartbeatRecord.HeldImage] = [.init(path: "web01.qcow2", domainName: "web01", domainUUID: "11111111-2222-3333-4444-555555555555")]
) -> HeartbeatRecord {
    HeartbeatRecord(hostID: host, hostname: "kvm-" + host, addresses: addresses, writtenAt: writtenAt, intervalSeconds: 10, images: images)
}

/// The real file system, counting every call: how many files a decision opens.
final class CountingFileSystem: ShareFileSystem {
    let inner = NoFollowShareFileSystem()
    let reads = Mutex<[String]>([])
    let listings = Mutex<[String]>([])
    let writes = Mutex<[String]>([])

    func readFile(root: String, path: [String], limit: Int) throws -> [UInt8] {
        reads.withLock { $0.append(path.joined(separator: "/")) }
        return try inner.readFile(root: root, path: path, limit: limit)
    }

    func listDirectory(root: String, path: [String], limit: Int) throws -> [String] {
        listings.withLock { $0.append(path.joined(separator: "/")) }
        return try inner.listDirectory(root: root, path: path, limit: limit)
    }

    func listEntries(root: String, path: [String], limit: Int) throws -> ShareDirectoryListing {
        listings.withLock { $0.append(path.joined(separator: "/")) }
        return try inner.listEntries(root: root, path: path, limit: limit)
    }

    func replaceFile(root: String, directory: [String], name: String, bytes: [UInt8]) throws {
        writes.withLock { $0.append((directory + [name]).joined(separator: "/")) }
        try inner.replaceFile(root: root, directory: directory, name: name, bytes: bytes)
    }

    func removeFile(root: String, directory: [String], name: String) throws {
        try inner.removeFile(root: root, directory: directory, name: name)
    }
}
