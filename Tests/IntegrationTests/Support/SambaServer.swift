import Foundation
import Testing

/// A real Samba server for one fixture: smbd on 127.0.0.1 on a private port with a private
/// smb.conf and private state, lock, private and cache directories, started and stopped by pid
/// through tools/samba-test-server.sh (the same helper the end-to-end test and the demo use).
/// Users exist only for this server (smbd's own mount namespace has a private /etc/passwd);
/// passwords reach smbpasswd on stdin, never on a command line.
final class SambaServer: @unchecked Sendable {  // used from one test at a time
    let directory: String
    let port: Int
    let pid: Int32
    let shares: [String: String]
    private var stopped = false

    static var script: String { TestBinaries.packageRoot + "/tools/samba-test-server.sh" }

    /// `shares`: share name → directory served; `users`: name → password.
    init(directory: String, shares: [String: String], users: [(name: String, password: String)]) throws {
        self.directory = directory
        self.shares = shares
        var lastError = ""
        // A port found free can be taken before smbd binds it: try a few.
        for _ in 0..<3 {
            let port = Reliability.closedPort()
            var arguments = ["start", directory, "--port", "\(port)"]
            for (name, path) in shares.sorted(by: { $0.key < $1.key }) { arguments += ["--share", "\(name)=\(path)"] }
            for user in users { arguments += ["--user", user.name] }
            let result = runProcess(
                Self.script, arguments, stdin: users.map { $0.password + "\n" }.joined(),
                environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"], timeout: .seconds(30))
            if result.status == 0, let pid = Int32(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) {
                self.port = port
                self.pid = pid
                return
            }
            lastError = result.stderr
        }
        throw MountLockFixture.FixtureError("samba-test-server.sh start failed: \(lastError)")
    }

    deinit {
        // The whole session smbd leads (setsid): SIGKILL is enough for a throwaway state dir.
        if !stopped { kill(-pid, SIGKILL) }
        Reliability.waitUntil(.seconds(5)) { kill(pid, 0) != 0 }
    }

    /// Gives an existing user a new password (smbpasswd in smbd's namespace, password on stdin).
    func setPassword(_ user: String, _ password: String) throws {
        let result = runProcess(
            "/usr/bin/nsenter", ["-t", "\(pid)", "-m", "--", "smbpasswd", "-c", directory + "/smb.conf", "-s", user],
            stdin: "\(password)\n\(password)\n", environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"],
            timeout: .seconds(20))
        guard result.status == 0 else { throw MountLockFixture.FixtureError("smbpasswd for \(user) failed: \(result.stderr)") }
    }

    /// smbd is stopped (SIGTERM, then SIGKILL): new connections are refused.
    func stop() {
        _ = runProcess(Self.script, ["stop", directory], timeout: .seconds(15))
        kill(-pid, SIGKILL)
        stopped = true
    }

    /// SIGSTOP / SIGCONT to every smbd process: connections are accepted by the kernel but never
    /// answered, so clients block.
    func pause() { kill(-pid, SIGSTOP) }
    func resume() { kill(-pid, SIGCONT) }

    /// `smbstatus --json` for this server, decoded.
    func status() throws -> [String: Any] {
        let result = runProcess(Self.script, ["status", directory], timeout: .seconds(25))
        guard result.status == 0 else { throw MountLockFixture.FixtureError("smbstatus failed: \(result.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
    }

    /// Paths of the files smbstatus lists as open, relative to their share (`vms/disk0.qcow2`).
    func openFiles() throws -> [String] {
        let files = try status()["open_files"] as? [String: Any] ?? [:]
        return files.values.compactMap { ($0 as? [String: Any])?["filename"] as? String }.sorted()
    }

    /// The authenticated SMB sessions (`username` of each).
    func sessionUsers() throws -> [String] {
        let sessions = try status()["sessions"] as? [String: Any] ?? [:]
        return sessions.values.compactMap { ($0 as? [String: Any])?["username"] as? String }.sorted()
    }
}
