import Foundation
import HostHeartbeat
import Testing

@Suite("Heartbeat record: format and strict validation")
struct HeartbeatRecordTests {
    @Test("a record survives encode and decode unchanged")
    func roundTrip() throws {
        let record = sampleRecord(addresses: ["10.0.0.2", "2001:db8::7"])
        let bytes = try record.encoded()
        #expect(try HeartbeatRecord.decode(bytes) == record)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"format\":\"smbvol-heartbeat\"") && text.contains("\"version\":1"))
        #expect(text.contains("\"written_at\":\"2026-11-30T00:53:20Z\""))
    }

    static func mutated(_ change: (inout [String: Any]) -> Void) throws -> [UInt8] {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(try sampleRecord().encoded())) as? [String: Any])
        change(&object)
        return Array(try JSONSerialization.data(withJSONObject: object))
    }

    /// One way to spoil a valid record, and what the error must say.
    enum Spoil: String, CaseIterable, Sendable {
        case unknownKey, newerVersion, otherFormat, badHostID, noAddresses, oddAddress, badTime, zeroInterval
        case missingKey, wrongType

        func apply(_ object: inout [String: Any]) {
            switch self {
            case .unknownKey: object["extra"] = 1
            case .newerVersion: object["version"] = 2
            case .otherFormat: object["format"] = "x"
            case .badHostID: object["host_id"] = "../etc"
            case .noAddresses: object["addresses"] = [String]()
            case .oddAddress: object["addresses"] = ["10.0.0.2/24 x"]
            case .badTime: object["written_at"] = "yesterday"
            case .zeroInterval: object["interval_seconds"] = 0
            case .missingKey: object["hostname"] = nil
            case .wrongType: object["version"] = "1"
            }
        }

        var fragment: String {
            switch self {
            case .unknownKey: return "unknown key"
            case .newerVersion: return "version 2"
            case .otherFormat: return "format"
            case .badHostID: return "host_id"
            case .noAddresses: return "addresses"
            case .oddAddress: return "not an address"
            case .badTime: return "written_at"
            case .zeroInterval: return "interval_seconds"
            case .missingKey, .wrongType: return "shape"
            }
        }
    }

    /// Only what the whole record stands on: a bad entry (an image, one of several addresses)
    /// is dropped alone (HeartbeatCodecTests).
    @Test("malformed records are refused, naming what is wrong", arguments: Spoil.allCases)
    func malformed(_ spoil: Spoil) throws {
        let bytes = try Self.mutated(spoil.apply)
        #expect {
            _ = try HeartbeatRecord.decode(bytes)
        } throws: { error in
            "\(error)".contains(spoil.fragment)
        }
    }

    @Test("garbage, empty and oversized input are refused")
    func garbage() {
        for bytes in [[UInt8](), Array("{".utf8), Array("[1,2]".utf8), [UInt8](repeating: 0x20, count: HeartbeatRecord.maximumBytes + 1)] {
            #expect(throws: HeartbeatRecordError.self) { _ = try HeartbeatRecord.decode(bytes) }
        }
    }

    @Test("addresses map to SMB-safe, distinct directory names")
    func addressNames() {
        #expect(HeartbeatLayout.addressComponent("10.0.0.2") == "10.0.0.2")
        #expect(HeartbeatLayout.addressComponent("fe80::1") == "fe80--1")
        #expect(HeartbeatLayout.addressComponent("2001:db8::7") == "2001-db8--7")
        #expect(HeartbeatLayout.addressComponent("fe80--1") == "fe80_2d_2d1")
        #expect(HeartbeatLayout.addressComponent("..") != "..")
        let all = ["fe80::1", "fe80--1", "a_b", "a:b", "a-b", "A", "a", ".", ".."].map(HeartbeatLayout.addressComponent)
        #expect(Set(all).count == all.count)
        #expect(all.allSatisfy { !$0.contains(":") && !$0.contains("/") && $0 != "." && $0 != ".." })
    }

    @Test("host ids: configured, else a machine id")
    func hostIdentity() throws {
        #expect(try HostIdentity.hostID(configured: "kvm-a") == "kvm-a")
        let share = try ScratchShare()
        try share.put(["machine-id"], Array("0123456789ABCDEF0123456789abcdef\n".utf8))
        #expect(try HostIdentity.hostID(configured: nil, machineIDPath: share.path(["machine-id"])) == "0123456789abcdef0123456789abcdef")
        try share.put(["bad"], Array("uninitialized\n".utf8))
        #expect(throws: HostIdentity.Unavailable.self) { _ = try HostIdentity.hostID(configured: nil, machineIDPath: share.path(["bad"])) }
        #expect(!HostIdentity.isValidHostID(".hidden") && !HostIdentity.isValidHostID("a/b") && !HostIdentity.isValidHostID(""))
    }
}
