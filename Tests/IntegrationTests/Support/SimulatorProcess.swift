import Foundation
import Synchronization

/// A running `qumulo-sim serve` on a free port, HTTPS by default, stopped on `stop()` or deinit.
final class SimulatorProcess: Sendable {
    enum Transport: Sendable {
        /// HTTPS with a certificate for 127.0.0.1/localhost signed by `caFile`.
        case tls
        /// HTTPS with a certificate (same CA) whose only SAN is wrong.example.
        case tlsWrongHostname
        case plainHTTP
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Decoded `GET /_sim/state`.
    struct State: Decodable, Sendable {
        struct RequestEntry: Decodable, Sendable {
            var method: String
            var path: String
            var status: Int
            var authenticated: Bool
        }

        var closedLocations: [String]
        var closedSessions: [String]
        /// Sessions closed by a request item lacking members of the session as listed.
        var partialSessionCloses: [String]
        var handles: Int
        var sessions: Int
        var logins: Int
        var requests: [RequestEntry]

        enum CodingKeys: String, CodingKey {
            case handles, sessions, logins, requests
            case closedLocations = "closed_locations"
            case closedSessions = "closed_sessions"
            case partialSessionCloses = "partial_session_closes"
        }
    }

    let port: Int
    let host = "127.0.0.1"
    /// The CA that signed the server certificate; nil over plain HTTP.
    let caFile: String?
    let transport: Transport
    let scenarioFile: String
    let directory: String
    private let process: Mutex<Process?>

    var baseURL: String { "\(transport == .plainHTTP ? "http" : "https")://\(host):\(port)" }
    /// The simulator's stderr so far (for failure messages).
    var stderr: String { (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? "" }

    /// Starts the simulator on a scenario file.
    init(scenarioFile: String, transport: Transport = .tls, pageSize: Int? = nil, extraArguments: [String] = [])
        throws
    {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("qumulo-sim-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.transport = transport
        self.scenarioFile = scenarioFile

        var arguments = [
            "serve", "--scenario", scenarioFile, "--host", "127.0.0.1", "--port", "0",
            "--port-file", directory + "/port",
        ]
        switch transport {
        case .tls, .tlsWrongHostname:
            let certificates = try TestCertificates.shared()
            let wrong = transport == .tlsWrongHostname
            arguments += [
                "--tls-cert", wrong ? certificates.wrongHostCertificate : certificates.serverCertificate,
                "--tls-key", wrong ? certificates.wrongHostKey : certificates.serverKey,
            ]
            caFile = certificates.caFile
        case .plainHTTP:
            caFile = nil
        }
        if let pageSize { arguments += ["--page-size", String(pageSize)] }
        arguments += extraArguments

        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestBinaries.qumuloSim)
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: directory + "/stdout", contents: nil)
        _ = FileManager.default.createFile(atPath: directory + "/stderr", contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: directory + "/stdout")
        process.standardError = FileHandle(forWritingAtPath: directory + "/stderr")
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = Mutex(process)

        let portFile = directory + "/port"
        let deadline = ContinuousClock.now + .seconds(20)
        var found: Int?
        while found == nil {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8),
                let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                found = value
                break
            }
            if !process.isRunning {
                let log = (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? ""
                throw Failure(description: "qumulo-sim exited with \(process.terminationStatus) before listening: \(log)")
            }
            if ContinuousClock.now >= deadline {
                process.terminate()
                let log = (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? ""
                throw Failure(description: "qumulo-sim did not write its port file within 20 s: \(log)")
            }
            usleep(20_000)
        }
        port = found ?? 0
    }

    /// Starts the simulator on a scenario given as JSON text.
    convenience init(scenarioJSON: String, transport: Transport = .tls, pageSize: Int? = nil) throws {
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("scenario-\(UUID().uuidString).json").path
        try Data(scenarioJSON.utf8).write(to: URL(fileURLWithPath: file))
        try self.init(scenarioFile: file, transport: transport, pageSize: pageSize)
    }

    deinit { stop() }

    /// SIGTERM, then SIGKILL after 2 s. Idempotent.
    func stop() {
        process.withLock { slot in
            guard let process = slot else { return }
            slot = nil
            if process.isRunning {
                process.terminate()
                let deadline = ContinuousClock.now + .seconds(2)
                while process.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
            // Bounded: Foundation's waitUntilExit can spin forever if it misses the exit.
            let reaped = ContinuousClock.now + .seconds(3)
            while process.isRunning, ContinuousClock.now < reaped { usleep(10_000) }
        }
    }

    // MARK: Admin endpoints (/_sim/)

    func state() throws -> State {
        let body = try admin("GET", "/_sim/state")
        do {
            return try JSONDecoder().decode(State.self, from: Data(body.utf8))
        } catch {
            throw Failure(description: "cannot decode /_sim/state: \(error): \(body)")
        }
    }

    func addFault(_ json: String) throws { try admin("POST", "/_sim/faults", body: json) }
    func clearFaults() throws { try admin("DELETE", "/_sim/faults") }
    func resetRequests() throws { try admin("POST", "/_sim/requests/reset") }
    /// A JSON list of handle objects, as in the scenario's "handles".
    func addHandles(_ json: String) throws { try admin("POST", "/_sim/handles", body: json) }
    /// A JSON list of session objects, as in the scenario's "sessions".
    func addSessions(_ json: String) throws { try admin("POST", "/_sim/sessions", body: json) }
    /// Drops every SMB session ("the host died"); handles stay.
    func dropSessions() throws { try admin("DELETE", "/_sim/sessions") }

    /// One admin request with /usr/bin/curl; throws unless the answer is 2xx.
    @discardableResult
    func admin(_ method: String, _ path: String, body: String? = nil) throws -> String {
        var arguments = ["-sS", "--max-time", "15", "-X", method, "-w", "\n%{http_code}"]
        if let caFile, transport == .tls {
            arguments += ["--cacert", caFile]
        } else if transport == .tlsWrongHostname {
            arguments += ["-k"]  // the admin channel is not what a hostname-mismatch test checks
        }
        if body != nil {
            arguments += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
        }
        arguments.append(baseURL + path)
        let result = runProcess("/usr/bin/curl", arguments, stdin: body, timeout: .seconds(20))
        guard result.status == 0 else {
            throw Failure(description: "curl \(method) \(path) failed (\(result.status)): \(result.stderr)")
        }
        var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let code = Int(lines.popLast() ?? "") ?? 0
        let text = lines.joined(separator: "\n")
        guard (200..<300).contains(code) else {
            throw Failure(description: "\(method) \(path) answered \(code): \(text)")
        }
        return text
    }
}
