import Foundation
import HostHeartbeat
import Logging
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolUseCases
import Testing

/// `holders` goes by the one mount-state query and judges freshness as the start does.
@Suite("ListHolders")
struct ListHoldersTests {
    /// The mount table as the kernel lists it: real paths only.
    struct Table: MountTableReading {
        var lines: [String]
        func readMountInfo() throws -> String { lines.joined(separator: "\n") + "\n" }
    }

    struct Healthy: MountHealthProbing {
        func health(of mountPoint: String) -> MountHealth { .healthy }
    }

    let root: String
    var realBase: String { root + "/real" }
    /// mount_base as configured: a symlink to `realBase`.
    var linkedBase: String { root + "/mnt" }

    init() throws {
        root = try UseCaseFixture.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: realBase + "/vmstore", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/state", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: linkedBase, withDestinationPath: realBase)
    }

    func configuration(freshSeconds: Double = 30) throws -> SmbvolConfiguration {
        let text = """
            state_dir = "\(root)/state"
            mount_base = "\(linkedBase)"
            host_id = "this-host"
            heartbeat_fresh_seconds = \(freshSeconds)

            [share.vmstore]
            export = "//nas/vmstore"
            mount_point = "\(linkedBase)/vmstore"
            """
        let path = root + "/smbvol.toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try ConfigurationLoader().load(path: path, requireFile: true)
    }

    func listing(_ configuration: SmbvolConfiguration, now: Double) throws -> ListHolders {
        var list = ListHolders(configuration: configuration, catalog: try ShareCatalog(configuration: configuration), logger: Logger(label: "test"))
        list.mountQuery = ShareMountQuery(mountTable: Table(lines: [
            "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw",
            "90 27 0:50 / \(realBase)/vmstore rw,relatime - cifs //nas/vmstore rw,vers=3.1.1",
        ]))
        list.probe = Healthy()
        list.now = { now }
        list.ownAddresses = ["203.0.113.1"]
        return list
    }

    func writeRecord(hostID: String, writtenAt: Double) throws {
        let record = HeartbeatRecord(
            hostID: hostID, hostname: hostID, addresses: ["203.0.113.9"], writtenAt: writtenAt, intervalSeconds: 10, images: [])
        try HeartbeatWriter().write(record, shareRoot: realBase + "/vmstore")
    }

    @Test("with a symlinked mount_base a mounted share shows as mounted, and its records are read")
    func symlinkedMountBase() throws {
        try writeRecord(hostID: "other", writtenAt: 1_000)
        let shares = try listing(try configuration(), now: 1_010)()
        #expect(shares.count == 1)
        #expect(shares.first?.mounted == true)
        #expect(shares.first?.error == nil)
        #expect(shares.first?.hosts.map(\.hostID) == ["other"])
    }

    @Test("fresh by HeartbeatJudgement: within heartbeat_fresh_seconds, or dated in the future")
    func freshness() throws {
        try writeRecord(hostID: "old", writtenAt: 1_000)
        try writeRecord(hostID: "edge", writtenAt: 1_070)
        try writeRecord(hostID: "ahead", writtenAt: 1_200)
        let hosts = try listing(try configuration(freshSeconds: 30), now: 1_100)().first?.hosts ?? []
        let fresh = Dictionary(uniqueKeysWithValues: hosts.map { ($0.hostID, $0.fresh) })
        #expect(fresh == ["old": false, "edge": true, "ahead": true])
    }

    @Test("an unknown share is a typed failure naming the configured ones")
    func unknownShare() throws {
        #expect(throws: UnknownShare.self) { try listing(try configuration(), now: 0)(only: "nope") }
    }
}
