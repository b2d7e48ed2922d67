import Foundation
import SmbvolTestSupport
import Testing

/// `smbvol heartbeat` as a service: kill -9 in the middle of writes leaves the old or the new
/// record, SIGTERM ends `--every` cleanly, and over the stand-in mount it writes only on a share
/// that is mounted.
@Suite("smbvol heartbeat", .serialized)
struct HeartbeatServiceTests {
    func startEvery(_ workspace: TwoHostWorkspace, seconds: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: workspace.smbvol)
        process.arguments = ["heartbeat", "--every", seconds, "--config", workspace.config("b")]
        process.environment = workspace.environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func waitForExit(_ process: Process, within limit: Duration) -> Bool {
        let deadline = ContinuousClock.now + limit
        while process.isRunning && ContinuousClock.now < deadline { usleep(5_000) }
        return !process.isRunning
    }

    /// Which write of the record is at `path` (inode and modification time; the writer renames a
    /// new file in), nil when there is none.
    static func version(of path: String) -> [Int]? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return [Int(status.st_ino), Int(status.st_mtim.tv_sec), Int(status.st_mtim.tv_nsec)]
    }

    /// The record at `path` parses and is host B's.
    func isWholeRecord(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return false }
        return object["format"] as? String == "smbvol-heartbeat" && object["host_id"] as? String == "host-b"
            && (object["images"] as? [Any])?.count == 1
    }

    @Test("kill -9 during writes, 40 times: each record is always the old or the new one, never partial; leftovers are swept")
    func killDuringWrites() throws {
        let workspace = try TwoHostWorkspace()
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<40 {
            let process = try startEvery(workspace, seconds: "0.001")
            usleep(UInt32.random(in: 30_000...250_000, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            #expect(waitForExit(process, within: .seconds(5)))
            #expect(isWholeRecord(workspace.recordPath))
            #expect(isWholeRecord(workspace.addressRecordPath))
        }
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        for directory in [workspace.share + "/.smbvol/hosts", workspace.share + "/.smbvol/by-address/10.0.0.2"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            #expect(names == ["host-b.json"], "\(directory): \(names)")
        }
    }

    @Test("SIGTERM ends --every between beats, exit 0, record whole")
    func sigtermEndsCleanly() throws {
        let workspace = try TwoHostWorkspace()
        let process = try startEvery(workspace, seconds: "0.05")
        #expect(waitUntil(timeout: .seconds(10)) { Self.version(of: workspace.recordPath) != nil })
        // In the loop, between beats: a later beat has replaced the first record.
        let first = Self.version(of: workspace.recordPath)
        #expect(waitUntil(timeout: .seconds(10)) { Self.version(of: workspace.recordPath).map { $0 != first } ?? false })
        kill(process.processIdentifier, SIGTERM)
        #expect(waitForExit(process, within: .seconds(3)))
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        #expect(isWholeRecord(workspace.recordPath))
        let lines = workspace.syslog.lines
        #expect(lines.contains { $0.contains("event=heartbeat-stop") }, "\(lines)")
    }

    @Test("over the stand-in mount: nothing written while the share is unmounted; after a start, the record lands on the share")
    func onlyOnMountedShares() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        try HeartbeatHookTests.addHostIdentity(to: fixture, hostID: "host-a", address: "10.0.0.1")
        let shareDirectory = fixture.mounts.root + "/srv/vmstore"
        let before = fixture.mounts.smbvol(["heartbeat", "--once"])
        #expect(before.status == 0, "\(before.stderr)")
        #expect(!FileManager.default.fileExists(atPath: shareDirectory + "/.smbvol"))

        #expect(fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML()).status == 0)
        let after = fixture.mounts.smbvol(["heartbeat", "--once"])
        #expect(after.status == 0, "\(after.stderr)")
        let record = try #require(FileManager.default.contents(atPath: shareDirectory + "/.smbvol/hosts/host-a.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: record) as? [String: Any])
        #expect((object["addresses"] as? [String] ?? []).contains("10.0.0.1"))
        let images = object["images"] as? [[String: Any]] ?? []
        #expect(images.first?["path"] as? String == "web01/disk0.qcow2")
        #expect(images.first?["domain_name"] as? String == "web01")
        #expect(FileManager.default.fileExists(atPath: shareDirectory + "/.smbvol/by-address/10.0.0.1/host-a.json"))

        #expect(fixture.hook("web01", "release", "end", xml: fixture.domainXML()).status == 0)
        #expect(!fixture.isMounted)
    }

    @Test("with metrics_file set, every beat publishes smbvol_heartbeat_last_success_timestamp_seconds per share")
    func heartbeatMetric() throws {
        let workspace = try TwoHostWorkspace()
        let metricsFile = workspace.root + "/b.prom"
        let config = try String(contentsOfFile: workspace.config("b"), encoding: .utf8)
        try ("metrics_file = \"\(metricsFile)\"\n" + config).write(toFile: workspace.config("b"), atomically: true, encoding: .utf8)
        let before = Double(time(nil))
        let beat = workspace.run("b", ["heartbeat", "--once"])
        #expect(beat.status == 0, "\(beat.stderr)")
        let text = (try? String(contentsOfFile: metricsFile, encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("smbvol_heartbeat_last_success_timestamp_seconds{share=") }
        let value = line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
        #expect(value.map { $0 >= before - 1 } == true, "\(text)")
    }
}
