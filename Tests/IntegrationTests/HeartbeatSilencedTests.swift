import Foundation
import Testing

/// Through the binary: an odd entry, a crowded address directory or a
/// cloned host_id must never silence the proof that host B's holder is alive. Host B beats
/// (`heartbeat --once`), host A's `check` of web01 against qumulo-sim (session idle 900 s, so
/// only the heartbeat keeps the handle alive) must refuse.
@Suite("heartbeat proof never silenced", .serialized)
struct HeartbeatSilencedTests {
    static let scenarios = TestBinaries.packageRoot + "/Tests/Scenarios/check/"
    static let hostBUUID = "99999999-2222-3333-4444-555555555555"

    /// Host B's locks: web01's image spelled with `//` and `./`, a domain name of 90 CJK
    /// characters (270 bytes), and one lock whose path leaves the share.
    static func writeOddLocks(_ workspace: TwoHostWorkspace, domainName: String) throws {
        func lock(_ id: String, image: String, name: String) -> String {
            """
            {"id": "\(id)", "share": "vms", "mount_point": "\(workspace.share)", "domain_uuid": "\(hostBUUID)", "domain_name": "\(name)",
            "disk": "vd\(id)", "image": "\(image)", "reason": "domain disk", "context": "hook", "created_at": "2026-01-01T00:00:00Z"}
            """
        }
        let locks = [
            lock("a", image: workspace.share + "//./web01.qcow2", name: domainName),
            lock("b", image: workspace.share + "/img/../../etc/passwd", name: "escape"),
        ]
        try "{\"version\": 1, \"locks\": [\(locks.joined(separator: ", "))]}".write(
            toFile: workspace.root + "/b/state/locks.json", atomically: true, encoding: .utf8)
    }

    @Test("writer: a `//` image path, a 270-byte domain name and a path out of the share: every reader accepts the record; bad entries dropped with a warning and an audit event")
    func writerNeverPublishesWhatReadersRefuse() throws {
        let longName = String(repeating: "仮想機", count: 30)
        let workspace = try TwoHostWorkspace()
        let simulator = try SimulatorProcess(scenarioFile: Self.scenarios + "idle-session.json")
        try Self.writeOddLocks(workspace, domainName: longName)
        let beat = workspace.run("b", ["heartbeat", "--once"])
        #expect(beat.status == 0, "\(beat.stderr)")
        #expect(beat.stderr.contains("smbvol: warning: heartbeat on share vms: domain name"), "\(beat.stderr)")
        #expect(beat.stderr.contains("image \"img/../../etc/passwd\" dropped"), "\(beat.stderr)")
        let deadline = ContinuousClock.now + .seconds(5)
        while !workspace.syslog.lines.contains(where: { $0.contains("event=heartbeat-entry-dropped") }) && ContinuousClock.now < deadline { usleep(20_000) }
        #expect(workspace.syslog.lines.contains { $0.contains("event=heartbeat-entry-dropped") && $0.contains("share=vms") })

        let start = try workspace.check(simulator)
        #expect(start.status == 3, "\(start.stdout) \(start.stderr)")
        let handle = try #require(checkHandles(start.json).first)
        #expect(handle["decision"] as? String == "refuse")
        let heartbeat = (handle["heartbeats"] as? [[String: Any]])?.first
        #expect(heartbeat?["status"] as? String == "alive", "\(String(describing: heartbeat))")
        // The image, spelled `//./web01.qcow2` in the lock, is the image decided; its domain is
        // named by UUID (the name was dropped).
        #expect(heartbeat?["domains"] as? [String] == [Self.hostBUUID], "\(String(describing: heartbeat))")
    }

    @Test("reader: a record with one bad image, one bad address and a bad hostname still proves its host alive; check says what was dropped")
    func readerDropsEntriesNotRecords() throws {
        let workspace = try TwoHostWorkspace()
        let simulator = try SimulatorProcess(scenarioFile: Self.scenarios + "idle-session.json")
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        for path in [workspace.recordPath, workspace.addressRecordPath] {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            object["addresses"] = (object["addresses"] as? [Any] ?? []) + ["10.0.0.2/24 bad"]
            object["hostname"] = "bell\u{7}"
            object["images"] = (object["images"] as? [Any] ?? []) + [["path": "../escape", "domain_name": "x", "domain_uuid": "u"], 42]
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        }
        let start = try workspace.check(simulator)
        #expect(start.status == 3, "\(start.stdout) \(start.stderr)")
        let handle = try #require(checkHandles(start.json).first)
        let heartbeat = try #require((handle["heartbeats"] as? [[String: Any]])?.first)
        #expect(heartbeat["status"] as? String == "alive")
        #expect(heartbeat["domains"] as? [String] == ["web01"])
        #expect((heartbeat["dropped_entries"] as? [String] ?? []).count == 4, "\(heartbeat)")
        #expect((heartbeat["note"] as? String ?? "").contains("record entries dropped"), "\(heartbeat)")
        #expect(start.stderr.contains("smbvol: warning: heartbeat 10.0.0.2:") && start.stderr.contains("record entries dropped"), "\(start.stderr)")
        let deadline = ContinuousClock.now + .seconds(5)
        while !workspace.syslog.lines.contains(where: { $0.contains("event=heartbeat-entry-dropped") }) && ContinuousClock.now < deadline { usleep(20_000) }
        #expect(workspace.syslog.lines.contains { $0.contains("event=heartbeat-entry-dropped") && $0.contains("client_address=10.0.0.2") }, "\(workspace.syslog.lines)")

        let holders = workspace.run("a", ["holders"])
        #expect(holders.status == 0, "\(holders.stderr)")
        #expect(holders.stdout.contains("entry dropped (the rest of the record is used)") && holders.stdout.contains("../escape"), "\(holders.stdout)")
        #expect(holders.stdout.contains("(host-b)") && holders.stdout.contains("web01.qcow2  domain web01"), "\(holders.stdout)")
    }

    /// Sets a file's modification time.
    static func touch(_ path: String, secondsAgo: Double) {
        let when = Int(Date().timeIntervalSince1970 - secondsAgo)
        var times = [timespec(tv_sec: when, tv_nsec: 0), timespec(tv_sec: when, tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, path, &times, 0)
    }

    /// Another host's record under host B's address, written `secondsAgo` ago (file and content).
    static func putOtherRecord(_ workspace: TwoHostWorkspace, host: String, secondsAgo: Double) throws {
        let path = workspace.share + "/.smbvol/by-address/\(workspace.holderAddress)/\(host).json"
        let text = """
            {"addresses":["\(workspace.holderAddress)"],"format":"smbvol-heartbeat","host_id":"\(host)","hostname":"old-\(host)",\
            "images":[],"interval_seconds":10,"version":1,"written_at":"\(TwoHostWorkspace.iso8601(Date().addingTimeInterval(-secondsAgo)))"}
            """
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        touch(path, secondsAgo: secondsAgo)
    }

    @Test("40 stale records of reinstalled hosts under the holder's address: the live holder's record is still read and refuses; B's beat sweeps only the day-old ones", arguments: [17, 40])
    func crowdedAddressDirectory(_ count: Int) throws {
        let workspace = try TwoHostWorkspace()
        let simulator = try SimulatorProcess(scenarioFile: Self.scenarios + "idle-session.json")
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        // Named to sort before host-b, and a few minutes old: not sweepable yet.
        for index in 0..<count { try Self.putOtherRecord(workspace, host: "host-a\(index)", secondsAgo: 600 + Double(index)) }
        let start = try workspace.check(simulator)
        #expect(start.status == 3, "\(start.stdout) \(start.stderr)")
        let handle = try #require(checkHandles(start.json).first)
        #expect(handle["decision"] as? String == "refuse")
        let alive = (handle["heartbeats"] as? [[String: Any]] ?? []).filter { $0["status"] as? String == "alive" }
        #expect(alive.map { $0["host_id"] as? String } == ["host-b"], "\(handle)")

        // Two days old: swept by B's next beat (a new process sweeps first); the rest stay.
        try Self.putOtherRecord(workspace, host: "host-gone", secondsAgo: 2 * 86_400)
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: workspace.share + "/.smbvol/by-address/\(workspace.holderAddress)")
        #expect(!names.contains("host-gone.json"))
        #expect(names.count == count + 1, "\(names.sorted())")
    }

    @Test("40 junk files dated in the future under the holder's address crowd out its fresh record: nothing is closed, the crowd is named")
    func crowdDatedInTheFuture() throws {
        let workspace = try TwoHostWorkspace()
        let simulator = try SimulatorProcess(scenarioFile: Self.scenarios + "idle-session.json")
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        // Any host that can write the share (or a restore preserving odd times, or one clock a
        // year ahead) leaves files the reader takes for the newest: the live holder's own record,
        // rewritten seconds ago, is never among the 32 read.
        let directory = workspace.share + "/.smbvol/by-address/\(workspace.holderAddress)"
        for index in 0..<40 {
            let path = directory + "/junk-\(index).json"
            try Data("{}".utf8).write(to: URL(fileURLWithPath: path))
            Self.touch(path, secondsAgo: -3600)
        }
        let start = try workspace.check(simulator)
        let handle = try #require(checkHandles(start.json).first)
        // The session (idle 900 s) alone calls it stale; the holder is alive and beating.
        #expect(handle["decision"] as? String != "close", "a crowd of junk files made check close a live holder's handle: \(handle)")
        #expect((handle["reason"] as? String ?? "").contains("heartbeat records"), "\(handle)")
    }

    @Test("two hosts with one host_id (cloned machine-id): each beat keeps the other's entries, check counts the other as alive with a HOST_ID COLLISION warning, holders shows both")
    func clonedHostID() throws {
        let workspace = try TwoHostWorkspace()
        let simulator = try SimulatorProcess(scenarioFile: Self.scenarios + "idle-session.json")
        // Host B is a clone of host A: same host_id.
        let config = try String(contentsOfFile: workspace.config("b"), encoding: .utf8)
        try config.replacingOccurrences(of: "host_id = \"host-b\"", with: "host_id = \"host-a\"")
            .write(toFile: workspace.config("b"), atomically: true, encoding: .utf8)
        let addressEntry = workspace.share + "/.smbvol/by-address/10.0.0.2/host-a.json"
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        let beatA = workspace.run("a", ["heartbeat", "--once"])
        #expect(beatA.status == 0, "\(beatA.stderr)")
        #expect(beatA.stderr.contains("HOST_ID COLLISION") && beatA.stderr.contains("10.0.0.2"), "\(beatA.stderr)")
        #expect(FileManager.default.fileExists(atPath: addressEntry), "host A's beat removed its clone's entry")
        let beatB = workspace.run("b", ["heartbeat", "--once"])
        #expect(beatB.stderr.contains("HOST_ID COLLISION") && beatB.stderr.contains("10.0.0.1"), "\(beatB.stderr)")
        #expect(workspace.run("a", ["heartbeat", "--once"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: addressEntry))

        let start = try workspace.check(simulator)
        #expect(start.status == 3, "\(start.stdout) \(start.stderr)")
        let handle = try #require(checkHandles(start.json).first)
        #expect(handle["decision"] as? String == "refuse")
        let heartbeat = try #require((handle["heartbeats"] as? [[String: Any]])?.first)
        #expect(heartbeat["status"] as? String == "alive")
        #expect(heartbeat["collision"] as? Bool == true)
        #expect((heartbeat["note"] as? String ?? "").contains("HOST_ID COLLISION"), "\(heartbeat)")
        #expect(start.stderr.contains("smbvol: warning: heartbeat 10.0.0.2: HOST_ID COLLISION"), "\(start.stderr)")
        let text = try workspace.check(simulator, json: false)
        #expect(text.stdout.contains("HOST_ID COLLISION"), "\(text.stdout)")

        let holders = workspace.run("a", ["holders", "--json"])
        #expect(holders.status == 0, "\(holders.stderr)")
        #expect(holders.stderr.contains("HOST_ID COLLISION") && holders.stderr.contains("10.0.0.2"), "\(holders.stderr)")
        let deadline = ContinuousClock.now + .seconds(5)
        while workspace.syslog.lines.filter({ $0.contains("event=host-id-collision") }).count < 4 && ContinuousClock.now < deadline { usleep(20_000) }
        // From each beat that met the clone, from check and from holders.
        #expect(workspace.syslog.lines.filter { $0.contains("event=host-id-collision") }.count >= 4, "\(workspace.syslog.lines)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(holders.stdout.utf8)) as? [String: Any])
        let hosts = (object["shares"] as? [[String: Any]])?.first?["hosts"] as? [[String: Any]] ?? []
        #expect(hosts.count == 2, "\(hosts)")
        #expect(hosts.filter { $0["collision"] as? Bool == true }.compactMap { ($0["addresses"] as? [String])?.first } == ["10.0.0.2"], "\(hosts)")
        #expect(hosts.filter { $0["this_host"] as? Bool == true }.count == 1, "\(hosts)")
        let holdersText = workspace.run("a", ["holders"])
        #expect(holdersText.stdout.contains("HOST_ID COLLISION"), "\(holdersText.stdout)")
    }
}
