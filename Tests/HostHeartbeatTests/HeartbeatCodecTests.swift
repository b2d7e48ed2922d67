import Foundation
import HostHeartbeat
import Testing

/// One codec for writer and reader: whatever the writer is handed, it
/// publishes only bytes every reader accepts whole; an entry the reader cannot use is dropped
/// alone, on both sides, and said.
@Suite("Heartbeat codec: the writer never publishes what the reader refuses")
struct HeartbeatCodecTests {
    static let uuid = "11111111-2222-3333-4444-555555555555"
    /// 90 CJK characters: 270 bytes of UTF-8, past the 255-byte domain-name bound.
    static let longCJKName = String(repeating: "仮想機", count: 30)

    /// Entries a lock store or an interface list can hand the writer, each one a member of the
    /// class "the reader would have refused the whole record".
    static let hostileImages: [HeartbeatRecord.HeldImage] = [
        .init(path: "/img//vm1.qcow2", domainName: "vm1", domainUUID: uuid),
        .init(path: "img/./vm2.qcow2", domainName: "vm2", domainUUID: uuid),
        .init(path: "vm3.qcow2", domainName: longCJKName, domainUUID: uuid),
        .init(path: "vm4.qcow2", domainName: "tab\there", domainUUID: uuid),
        .init(path: "a/../../etc/passwd", domainName: "x", domainUUID: uuid),
        .init(path: "line\nbreak.qcow2", domainName: "x", domainUUID: uuid),
        .init(path: String(repeating: "d/", count: 2100) + "deep.qcow2", domainName: "x", domainUUID: uuid),
        .init(path: "vm5.qcow2", domainName: "vm5", domainUUID: ""),
        .init(path: "vm6.qcow2", domainName: "vm6", domainUUID: String(repeating: "u", count: 65)),
        .init(path: "//", domainName: "x", domainUUID: uuid),
        .init(path: "", domainName: "x", domainUUID: uuid),
    ]

    @Test("every hostile entry: the bytes published read back whole, and every good entry survives")
    func hostileEntries() throws {
        let record = HeartbeatRecord(
            hostID: "host-b", hostname: "kvm\u{7}-b", addresses: ["10.0.0.2", "fe80::1%eth0", "10.0.0.2/24", "10.0.0.3"],
            writtenAt: 1_796_000_000, intervalSeconds: 10, images: Self.hostileImages)
        let published = try record.publishable()
        let readBack = try HeartbeatRecord.decodeReporting(published.bytes)
        #expect(readBack.dropped.isEmpty, "\(readBack.dropped)")
        #expect(readBack.record == published.record)
        #expect(published.record.addresses == ["10.0.0.2", "10.0.0.3"])
        #expect(published.record.hostname == "kvm?-b")
        #expect(
            published.record.images.map(\.path) == ["img/vm1.qcow2", "img/vm2.qcow2", "vm3.qcow2", "vm4.qcow2"],
            "\(published.record.images)")
        // The long name and the tab are dropped from their images, which stay (named by UUID).
        #expect(published.record.images[2].domainName.isEmpty && published.record.images[3].domainName.isEmpty)
        #expect(published.record.domains(onImage: "vm3.qcow2") == [Self.uuid])
        let kinds = published.dropped.map(\.kind)
        #expect(kinds.filter { $0 == .image }.count == 7, "\(published.dropped)")
        #expect(kinds.filter { $0 == .domainName }.count == 2)
        #expect(kinds.filter { $0 == .address }.count == 2)
        #expect(published.dropped.allSatisfy { !$0.description.contains("\n") && !$0.description.contains("\t") })
    }

    @Test("one hostile image at a time: the writer never throws and what it writes reads back whole", arguments: hostileImages)
    func oneHostileImage(_ image: HeartbeatRecord.HeldImage) throws {
        let published = try sampleRecord(images: [image, .init(path: "ok.qcow2", domainName: "ok", domainUUID: Self.uuid)]).publishable()
        let readBack = try HeartbeatRecord.decodeReporting(published.bytes)
        #expect(readBack.dropped.isEmpty)
        #expect(readBack.record.domains(onImage: "ok.qcow2") == ["ok"])
    }

    @Test("too many and too long images: the record is cut to fit 256 KiB, never refused")
    func oversized() throws {
        let images = (0..<2500).map { HeartbeatRecord.HeldImage(path: "dir/\($0)-" + String(repeating: "p", count: 3000), domainName: "d\($0)", domainUUID: Self.uuid) }
        let published = try sampleRecord(images: images).publishable()
        #expect(published.bytes.count <= HeartbeatRecord.maximumBytes)
        #expect(!published.record.images.isEmpty && published.record.images.count < 100)
        #expect(published.dropped.count == 2500 - published.record.images.count)
        #expect(try HeartbeatRecord.decodeReporting(published.bytes).dropped.isEmpty)
    }

    @Test("with no address left there is nothing to publish: a clear error, never a record readers refuse")
    func noAddress() {
        #expect {
            _ = try sampleRecord(addresses: ["not an address!"]).publishable()
        } throws: { "\($0)".contains("no address") }
    }

    static func bytes(_ change: (inout [String: Any]) -> Void) throws -> [UInt8] {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(try sampleRecord().encoded())) as? [String: Any])
        change(&object)
        return Array(try JSONSerialization.data(withJSONObject: object))
    }

    @Test("the reader drops a bad entry, and the rest of the record stands")
    func readerDropsEntries() throws {
        let bytes = try Self.bytes { object in
            object["addresses"] = ["10.0.0.2", "10.0.0.2/24 x", 7]
            object["hostname"] = String(repeating: "h", count: 300)
            object["images"] = [
                ["path": "web01.qcow2", "domain_name": "web01", "domain_uuid": Self.uuid],
                ["path": "/img//old-writer.qcow2", "domain_name": Self.longCJKName, "domain_uuid": Self.uuid],
                ["path": "../escape", "domain_name": "x", "domain_uuid": Self.uuid],
                ["path": "extra.qcow2", "domain_name": "x", "domain_uuid": Self.uuid, "future": true],
                5,
            ]
        }
        let decoded = try HeartbeatRecord.decodeReporting(bytes)
        #expect(decoded.record.hostID == "host-b")
        #expect(decoded.record.addresses == ["10.0.0.2"])
        #expect(decoded.record.hostname == "?")
        #expect(decoded.record.images.map(\.path) == ["web01.qcow2", "img/old-writer.qcow2"])
        #expect(decoded.record.domains(onImage: "web01.qcow2") == ["web01"])
        let kinds = decoded.dropped.map(\.kind)
        #expect(kinds.filter { $0 == .address }.count == 2, "\(decoded.dropped)")
        #expect(kinds.filter { $0 == .image }.count == 3, "\(decoded.dropped)")
        #expect(kinds.contains(.hostname) && kinds.contains(.domainName))
    }

    @Test("image paths are one spelling on both sides: a//b, ./a/b and /a/b are a/b; .. is no path below the share")
    func pathSpelling() throws {
        for spelling in ["a//b", "./a/b", "/a/b", "a/./b/", "//a///b"] {
            #expect(try HeartbeatRecord.normalizedImagePath(spelling).get() == "a/b")
        }
        for bad in ["a/../b", "..", "", "/", "./."] {
            #expect(throws: HeartbeatRecord.EntryProblem.self) { _ = try HeartbeatRecord.normalizedImagePath(bad).get() }
        }
    }
}
