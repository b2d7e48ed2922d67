import Foundation
import SmbvolTestSupport
import Testing

/// Shared helpers for the reliability suite: scenarios, background processes that can be
/// killed with SIGKILL, /proc scanning, libvirt test-driver node files and lock-file holders.
enum Reliability {
    static var scenarios: String { TestBinaries.packageRoot + "/Tests/Scenarios/reliability" }

    /// A HookFixture on a scenario from Tests/Scenarios/reliability/ (HookFixture resolves its
    /// argument below Tests/Scenarios/hook/).
    static func hookFixture(
        _ scenario: String, deadlineSeconds: Double = 30, onClusterError: String = "fail", clusterPort: Int? = nil
    ) throws -> HookFixture {
        try HookFixture(
            scenario: "../reliability/" + scenario, deadlineSeconds: deadlineSeconds, onClusterError: onClusterError,
            clusterPort: clusterPort)
    }

    static let web01 = "6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2b"
    static let web02 = "7a2d3b0f-4c5e-4f60-9b7c-8d9e0f1a2b3c"

    /// A port nothing listens on (bound, then closed again).
    static func closedPort() -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
    @discardableResult
    static func waitUntil(_ timeout: Duration, _ condition: () -> Bool) -> Bool {
        SmbvolTestSupport.waitUntil(timeout: timeout, condition)
    }

    /// Whether process `pid` has `path` open (one of its /proc/PID/fd links names it): a process
    /// waiting for a flock has the file open, one still starting has not.
    static func hasOpen(pid: Int32, path: String) -> Bool {
        let directory = "/proc/\(pid)/fd"
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return descriptors.contains { (try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + $0)) == path }
    }

    /// A libvirt test-driver node file whose running domains are `domains` (name, uuid);
    /// returns the `test:///…` URI.
    static func testDriverURI(in directory: String, running domains: [(String, String)]) throws -> String {
        // The test driver needs at least one domain: an unrelated one stands in when none run.
        let all = domains.isEmpty ? [("bystander", "00000000-1111-4222-8333-444444444444")] : domains
        let entries = all.map {
            "  <domain type='test'><name>\($0.0)</name><uuid>\($0.1)</uuid><memory>65536</memory><os><type>hvm</type></os></domain>"
        }
        let path = directory + "/node-\(UUID().uuidString.prefix(6)).xml"
        try ("<node>\n" + entries.joined(separator: "\n") + "\n</node>\n").write(toFile: path, atomically: true, encoding: .utf8)
        return "test://" + path
    }

    /// Command lines (NUL → space) of every process, keyed by pid.
    static func commandLines() -> [Int32: String] {
        var result: [Int32: String] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            result[pid] = String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
        }
        return result
    }

    /// Whether some process's command line contains `text`.
    static func processRunning(matching text: String) -> Bool {
        commandLines().values.contains { $0.contains(text) }
    }

    /// The parsed `<state_dir>/locks.json` (lock objects), read without any lock as readers do.
    static func storedLocks(stateDirectory: String) -> [[String: Any]]? {
        guard let data = FileManager.default.contents(atPath: stateDirectory + "/locks.json") else { return [] }
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        return object?["locks"] as? [[String: Any]]
    }

    /// Mount points (field 5) of the namespace's mount table under `prefix`.
    static func mountPoints(pid: Int32, under prefix: String) -> [String] {
        // One read(2) with a large buffer: a mount table read in pieces while mounts change can
        // miss entries (libmount re-reads for the same reason).
        var text = ""
        let descriptor = open("/proc/\(pid)/mountinfo", O_RDONLY)
        if descriptor >= 0 {
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var total = 0
            while total < buffer.count {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + total, $0.count - total) }
                if count <= 0 { break }
                total += count
            }
            close(descriptor)
            text = String(decoding: buffer[0..<total], as: UTF8.self)
        }
        return text.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let point = String(fields[4]).replacingOccurrences(of: "\\040", with: " ")
            return point.hasPrefix(prefix) ? point : nil
        }
    }
}

/// A process started in the background (no shell), killable by its pid; killed on deinit.
final class BackgroundProcess: @unchecked Sendable {
    let process: Process
    let directory: String
    var pid: Int32 { process.processIdentifier }

    init(_ path: String, _ arguments: [String], environment: [String: String], stdin: String? = nil) throws {
        directory = NSTemporaryDirectory() + "bg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in ["stdout", "stderr"] { FileManager.default.createFile(atPath: directory + "/" + name, contents: nil) }
        FileManager.default.createFile(atPath: directory + "/stdin", contents: Data((stdin ?? "").utf8))
        process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle(forReadingAtPath: directory + "/stdin")
        process.standardOutput = FileHandle(forWritingAtPath: directory + "/stdout")
        process.standardError = FileHandle(forWritingAtPath: directory + "/stderr")
        try process.run()
    }

    deinit {
        if process.isRunning { kill(pid, SIGKILL) }
        _ = wait(timeout: .seconds(3))
        try? FileManager.default.removeItem(atPath: directory)
    }

    var stderr: String { (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? "" }
    var stdout: String { (try? String(contentsOfFile: directory + "/stdout", encoding: .utf8)) ?? "" }

    /// Waits (bounded) for the exit; returns the status, or nil if it is still running.
    func wait(timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// SIGKILL, then a bounded wait for the reap.
    func kill9() {
        kill(pid, SIGKILL)
        _ = wait(timeout: .seconds(5))
    }
}

extension HookFixture {
    var scrubbedEnvironment: [String: String] {
        ["LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SMBVOL_CONFIG": mounts.configPath]
    }

    /// `smbvol hook NAME OP SUBOP -` in the namespace, in the background (the pid is smbvol's:
    /// nsenter execs it when it enters no PID namespace).
    func backgroundHook(
        _ name: String, _ operation: String, _ subOperation: String, xml: String, extraEnvironment: [String: String] = [:]
    ) throws -> BackgroundProcess {
        try BackgroundProcess(
            "/usr/bin/nsenter",
            ["-t", "\(mounts.holder.processIdentifier)", "-m", "--wd=/", "--", mounts.smbvol, "hook", name, operation, subOperation, "-"],
            environment: scrubbedEnvironment.merging(extraEnvironment) { $1 }, stdin: xml)
    }

    /// A hook run with extra environment variables (LD_DEBUG, SMBVOL_TEST_CRASH_POINT).
    func hook(
        _ name: String, _ operation: String, _ subOperation: String, xml: String, extraEnvironment: [String: String],
        timeout: Duration = .seconds(60)
    ) -> (status: Int32, stdout: String, stderr: String) {
        runProcess(
            "/usr/bin/nsenter",
            ["-t", "\(mounts.holder.processIdentifier)", "-m", "--wd=/", "--", mounts.smbvol, "hook", name, operation, subOperation, "-"],
            stdin: xml, environment: scrubbedEnvironment.merging(extraEnvironment) { $1 }, timeout: timeout)
    }

    var mountPrefix: String { mounts.mountBase + "/" }

    /// How many times the share's mount point appears in the namespace's mount table.
    var mountCount: Int {
        let point = mountPoint
        return Reliability.mountPoints(pid: mounts.holder.processIdentifier, under: mountPrefix).filter { $0 == point }.count
    }

    /// The per-share flock file (`<state_dir>/mounts/*.lock`), made by a first hook run.
    var shareLockFile: String? {
        let directory = mounts.stateDirectory + "/mounts"
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .first { $0.hasSuffix(".lock") }.map { directory + "/" + $0 }
    }
}

/// Holds an exclusive flock on a file in one process (`sh` that execs `sleep`, keeping the
/// locked descriptor), so SIGKILL of that one pid is the holder dying.
final class FlockHolder {
    let process: BackgroundProcess
    let path: String

    init(_ path: String, seconds: Int = 30) throws {
        self.path = path
        process = try BackgroundProcess(
            "/bin/sh", ["-c", "exec 9>>\"$0\" && /usr/bin/flock 9 && exec sleep \(seconds)", path],
            environment: ["PATH": "/usr/bin:/bin"])
        let held = Reliability.waitUntil(.seconds(5)) {
            runProcess("/usr/bin/flock", ["-n", path, "true"], timeout: .seconds(5)).status == 1
        }
        if !held { throw MountLockFixture.FixtureError("flock holder on \(path) did not take the lock: \(process.stderr)") }
    }

    func kill9() { process.kill9() }
}
