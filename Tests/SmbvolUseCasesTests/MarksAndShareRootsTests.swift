import Foundation
import HandleEvidence
import Logging
import QumuloClient
import SMBMounts
import SmbvolShares
import SmbvolSystem
import SmbvolTestSupport
import SmbvolUseCases
import Synchronization
import Testing

/// A wall clock the test sets.
final class SettableClock: MonotonicClock, Sendable {
    let seconds = Mutex<Double>(1_700_000_000)
    func now() -> MonotonicInstant { MonotonicInstant(nanoseconds: UInt64(seconds.withLock { $0 } * 1e9)) }
    func sleep(for duration: Duration) {}
    func wallClockSeconds() -> Double { seconds.withLock { $0 } }
}

@Suite("Incoming-migration marks")
struct IncomingMigrationMarksTests {
    static let uuid = DomainUUID("0f1c1a38-0d9e-4c1e-9a8e-2f0c7c0a1b01")!

    @Test("a mark lives until cleared or older than its lifetime; an expired one is removed when read")
    func lifetime() throws {
        let directory = try UseCaseFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let clock = SettableClock()
        let marks = IncomingMigrationMarks(stateDirectory: directory, lifetime: 600, clock: clock)
        #expect(!marks.isMarked(Self.uuid))
        try marks.mark(Self.uuid)
        #expect(marks.isMarked(Self.uuid))
        // 0600 in a 0700 directory, named by the validated UUID.
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/migrations/" + Self.uuid.value)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        clock.seconds.withLock { $0 += 601 }
        #expect(!marks.isMarked(Self.uuid))
        #expect(!FileManager.default.fileExists(atPath: directory + "/migrations/" + Self.uuid.value))
        try marks.mark(Self.uuid)
        marks.clear(Self.uuid)
        #expect(!marks.isMarked(Self.uuid))
    }

    @Test("a corrupt mark is no mark", arguments: ["", "yesterday", "\u{0}\u{1}"])
    func corrupt(content: String) throws {
        let directory = try UseCaseFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let marks = IncomingMigrationMarks(stateDirectory: directory)
        try FileManager.default.createDirectory(atPath: directory + "/migrations", withIntermediateDirectories: true)
        try content.write(toFile: directory + "/migrations/" + Self.uuid.value, atomically: true, encoding: .utf8)
        #expect(!marks.isMarked(Self.uuid))
    }

    @Test("only 8-4-4-4-12 ASCII hex is a domain UUID (it names a file)")
    func uuidValidation() {
        #expect(DomainUUID("0F1C1A38-0D9E-4C1E-9A8E-2F0C7C0A1B01")?.value == "0f1c1a38-0d9e-4c1e-9a8e-2f0c7c0a1b01")
        for bad in ["", "u1", "../../etc/passwd", "0f1c1a38-0d9e-4c1e-9a8e-2f0c7c0a1b0", "０f1c1a38-0d9e-4c1e-9a8e-2f0c7c0a1b01"] {
            #expect(DomainUUID(bad) == nil, "\(bad)")
        }
    }
}

@Suite("Share roots on the cluster")
struct ShareRootResolverTests {
    func client(_ transport: ScriptedTransport) -> QumuloClient {
        QumuloClient(
            transport: transport, login: ClusterLogin(accessToken: Secret("session-v1:test")), retryPolicy: .never,
            logger: Logger(label: "test"))
    }

    func share(_ export: String, fsPath: String? = nil) throws -> Share {
        Share(
            name: "vmstore", export: try SMBExport(parsing: export), mountPoint: "/mnt/x", credentials: nil, options: [],
            cluster: "sim", clusterRoot: fsPath)
    }

    static let shares = #"{"entries": [{"id": "1", "share_name": "VMStore", "fs_path": "/tenants/a/vmstore/", "tenant_id": "1"}, {"id": "2", "share_name": "other", "fs_path": "/other"}]}"#

    @Test("a configured fs_path is the root, trailing slashes trimmed, without a request")
    func configured() throws {
        let transport = ScriptedTransport { _ throws(TransportFailure) in throw .connection("must not be asked") }
        let resolver = ShareRootResolver(stateDirectory: nil)
        #expect(try resolver.root(of: share("//srv/vmstore", fsPath: "/vms//"), client: client(transport)) == "/vms")
        #expect(try resolver.root(of: share("//srv/vmstore", fsPath: "/"), client: client(transport)) == "/")
        #expect(transport.requestCount == 0)
    }

    @Test("discovered by share name (case-insensitive) plus the export's subdirectory, then cached for every later run")
    func discoveredAndCached() throws {
        let directory = try UseCaseFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let transport = ScriptedTransport { _ throws(TransportFailure) in json(Self.shares) }
        let first = ShareRootResolver(stateDirectory: directory)
        #expect(try first.root(of: share("//srv/vmstore/pool1"), client: client(transport)) == "/tenants/a/vmstore/pool1")
        #expect(transport.requestLines == ["GET /v3/smb/shares/?populate-trustee-names=false"])
        let later = ScriptedTransport { _ throws(TransportFailure) in throw .connection("must not be asked") }
        #expect(try ShareRootResolver(stateDirectory: directory).root(of: share("//SRV/VMSTORE/pool1"), client: client(later)) == "/tenants/a/vmstore/pool1")
        #expect(later.requestCount == 0)
    }

    @Test("no such share, or several answering to the name: an error naming fs_path, and nothing cached")
    func notFoundAndAmbiguous() throws {
        let directory = try UseCaseFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let none = ScriptedTransport { _ throws(TransportFailure) in json(#"{"entries": []}"#) }
        #expect(throws: ShareRootResolver.NotFound.self) { try ShareRootResolver(stateDirectory: directory).root(of: share("//srv/vmstore"), client: client(none)) }
        let twice = ScriptedTransport { _ throws(TransportFailure) in
            json(#"{"entries": [{"id": "1", "share_name": "vmstore", "fs_path": "/a"}, {"id": "2", "share_name": "VMSTORE", "fs_path": "/b", "tenant_id": "2"}]}"#)
        }
        do {
            _ = try ShareRootResolver(stateDirectory: directory).root(of: share("//srv/vmstore"), client: client(twice))
            Issue.record("an ambiguous name resolved")
        } catch let error as ShareRootResolver.Ambiguous {
            #expect(error.description.contains("set fs_path"))
            #expect(error.candidates.map(\.fsPath) == ["/a", "/b"])
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/share-roots.json"))
    }
}
