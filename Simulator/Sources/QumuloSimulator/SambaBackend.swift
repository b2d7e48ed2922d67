import Foundation
import Synchronization

/// The simulator's second backend: files, handles, sessions and grants are the live state of a
/// running smbd, read through `tools/samba-qumulo-helper.py` (smbstatus --json -B and srvsvc),
/// and closing a handle is srvsvc `NetFileClose` on the real open. Users, tokens, identities and
/// shares still come from the scenario, so the API served is the same one.
///
/// - A handle's `location` is the srvsvc file id `(pid << 16) | share_file_id`; its
///   `file_number` (and the file's `id`) is the file's inode on the server; its `owner` is the
///   auth_id of the scenario identity named like the session's SMB user.
/// - Sessions: one per smbd session, `originator` = the client address smbd reports, idle time
///   from srvsvc NetSessEnum (the least idle session of that client and user: errs on live).
/// - Every helper run is bounded by `timeout --kill-after`.
public struct SambaBackendConfiguration: Sendable {
    /// smbd's smb.conf (the helper reads its state directories from it).
    public var smbConfig: String
    /// The helper script.
    public var helper: String
    /// Python with Debian's samba bindings.
    public var python = "/usr/bin/python3"
    /// Address srvsvc dials (port 445).
    public var serverAddress: String
    /// "user\npassword\n" of an SMB account that may enumerate and close opens.
    public var adminFile: String
    /// The server directory that is the cluster's "/".
    public var root: String
    /// A file holding the pid of a process in smbd's network, mount and PID namespaces; the
    /// helper runs there (nsenter). Read on every call: it changes when smbd is restarted.
    public var enterPIDFile: String?
    public var timeoutSeconds: Double = 10
    /// How long a snapshot may be reused by the next request (a close always takes a fresh one).
    /// 0 (the default): every listing is fresh. A reused snapshot once hid an open made 0.1 s
    /// earlier and let a start proceed (found by the failover bed).
    public var maxSnapshotAgeSeconds: Double = 0

    public init(smbConfig: String, helper: String, serverAddress: String, adminFile: String, root: String) {
        self.smbConfig = smbConfig
        self.helper = helper
        self.serverAddress = serverAddress
        self.adminFile = adminFile
        self.root = root
    }
}

struct SambaSnapshot: Decodable, Sendable {
    struct Open: Decodable, Sendable {
        var fid: Int
        var pid: Int
        var path: String?
        var inode: Int?
        var client: String?
        var user: String?
        var sharemode: String
        var access: String
        var num_locks: Int
    }

    struct Session: Decodable, Sendable {
        var id: String
        var pid: Int
        var client: String
        var user: String
        var idle_seconds: Int?
        var open_seconds: Int?
        /// The server's own address of the connection (smbstatus channel local_address).
        var server: String?
    }

    struct File: Decodable, Sendable {
        var path: String
        var inode: Int
        var size: Int
        var dir: Bool
    }

    var opens: [Open]
    var sessions: [Session]
    var files: [File]
    var errors: [String]
}

final class SambaBackend: Sendable {
    let configuration: SambaBackendConfiguration
    private let cache = Mutex<(snapshot: SambaSnapshot, at: ContinuousClock.Instant)?>(nil)
    /// Helper runs one at a time (a listing and a close never interleave).
    private let serial = Mutex(())

    init(_ configuration: SambaBackendConfiguration) {
        self.configuration = configuration
    }

    /// The helper's command line, entering smbd's namespaces when a pid file names them.
    private func command(_ arguments: [String]) -> [String] {
        let c = configuration
        var argv = ["/usr/bin/timeout", "--kill-after=2", String(c.timeoutSeconds)]
        if let file = c.enterPIDFile,
            let text = try? String(contentsOfFile: file, encoding: .utf8),
            let pid = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            argv += ["/usr/bin/nsenter", "-t", String(pid), "-m", "-n", "-p", "--"]
        }
        argv += [c.python, c.helper] + arguments
        argv += ["--config", c.smbConfig, "--server", c.serverAddress, "--admin-file", c.adminFile]
        return argv
    }

    private func run(_ arguments: [String]) -> (status: Int32, stdout: Data, stderr: String) {
        let argv = command(arguments)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return (127, Data(), "cannot run the Samba helper: \(error)") }
        let errorBox = Mutex(Data())
        let reader = Thread { errorBox.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() } }
        reader.start()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while reader.isExecuting { usleep(1000) }
        let stderr = String(decoding: errorBox.withLock { $0 }, as: UTF8.self)
        return (process.terminationStatus, data, stderr)
    }

    /// A snapshot of smbd's state, or the reason there is none.
    func snapshot(fresh: Bool = false) -> Result<SambaSnapshot, QumuloError> {
        if !fresh, let cached = cache.withLock({ $0 }),
            ContinuousClock.now - cached.at < .seconds(configuration.maxSnapshotAgeSeconds)
        {
            return .success(cached.snapshot)
        }
        let result = serial.withLock { _ in run(["snapshot", "--root", configuration.root]) }
        guard result.status == 0 else {
            return .failure(.sambaUnavailable("snapshot exit \(result.status): \(result.stderr.suffix(300))"))
        }
        do {
            let snapshot = try JSONDecoder().decode(SambaSnapshot.self, from: result.stdout)
            cache.withLock { $0 = (snapshot, ContinuousClock.now) }
            return .success(snapshot)
        } catch {
            return .failure(.sambaUnavailable("snapshot unreadable: \(error)"))
        }
    }

    /// srvsvc NetFileClose of one open; "" when the call succeeded.
    func close(fid: Int) -> String {
        answer(["close", "--fid", String(fid)])
    }

    /// A share's host restrictions as smbd's `hosts allow` / `hosts deny` (nil: not set) in the
    /// file the share's section includes, then `smbcontrol smbd reload-config`; "" when done.
    func restrict(share: String, allow: String?, deny: String?) -> String {
        var arguments = ["restrict", "--share", share]
        if let allow { arguments += ["--allow", allow] }
        if let deny { arguments += ["--deny", deny] }
        return answer(arguments)
    }

    /// Drops one client connection: the smbd child `pid` serving session `id` is ended, and
    /// smbd's listing confirms the session is gone; "" when it is.
    func closeSession(id: String, pid: Int) -> String {
        answer(["close-session", "--session", id, "--pid", String(pid)])
    }

    /// Runs one helper command whose answer is {"error": "..."}.
    private func answer(_ arguments: [String]) -> String {
        cache.withLock { $0 = nil }
        let result = serial.withLock { _ in run(arguments) }
        guard result.status == 0 else { return "samba helper exit \(result.status): \(result.stderr.suffix(200))" }
        struct Answer: Decodable { var error: String }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: result.stdout) else {
            return "samba helper answer unreadable"
        }
        return answer.error
    }
}

extension QumuloError {
    static func sambaUnavailable(_ reason: String) -> QumuloError {
        QumuloError(status: 503, module: "smb", errorClass: "service_unavailable_error", description: "Samba backend: \(reason)")
    }
}

extension SambaBackend {
    /// Requests whose answer depends on smbd's state (refreshed before routing).
    static func reads(path: String) -> Bool {
        path.hasPrefix("/v1/smb/files") || path.hasPrefix("/v1/smb/sessions") || path.hasPrefix("/v1/files/")
    }
}
