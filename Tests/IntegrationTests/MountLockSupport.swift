import Foundation
import Testing

/// A private mount namespace (`unshare -m --propagation private sleep 600`) that commands run in
/// through `nsenter`, so nothing the tests mount ever reaches the host's mount table; it all
/// disappears with the namespace. Plus a scratch tree: the share directories the stand-in mount
/// program serves, its `fake-cifs-root` file, a credentials file and a configuration.
final class MountLockFixture: @unchecked Sendable {  // used from one test at a time
    let directory: String
    let holder: Process
    let smbvol = TestBinaries.path("smbvol")

    var root: String { directory + "/cifs-root" }
    var configPath: String { directory + "/smbvol.toml" }
    var stateDirectory: String { directory + "/state" }
    var mountBase: String { directory + "/mnt" }
    var credentials: String { directory + "/vmstore.cred" }

    init(mountTimeoutSeconds: Int = 20) throws {
        directory = NSTemporaryDirectory() + "smbvol-mounts-\(UUID().uuidString.prefix(8))"
        holder = Process()
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: root + "/srv/vmstore", withIntermediateDirectories: true)
        try fileManager.createDirectory(atPath: directory + "/bin", withIntermediateDirectories: true)
        let stand_in = directory + "/bin/mount.cifs"
        try fileManager.copyItem(atPath: TestBinaries.packageRoot + "/tools/fake-mount.cifs", toPath: stand_in)
        try (root + "\n").write(toFile: directory + "/bin/fake-cifs-root", atomically: true, encoding: .utf8)
        // Counts unmounts, then does the real thing.
        try "#!/bin/sh\necho \"$*\" >> \(root)/umount.log\nexec /bin/umount \"$@\"\n"
            .write(toFile: directory + "/bin/umount", atomically: true, encoding: .utf8)
        try fileManager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory + "/bin/umount")
        try "username=svc\npassword=FileSecret\n".write(toFile: credentials, atomically: true, encoding: .utf8)
        try fileManager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: credentials)
        try """
            state_dir = "\(stateDirectory)"
            mount_base = "\(mountBase)"
            mount_command = "\(stand_in)"
            umount_command = "\(directory)/bin/umount"
            qemu_user = "root"
            qemu_group = "root"
            mount_timeout_seconds = \(mountTimeoutSeconds)

            [share.vmstore]
            export = "//srv/vmstore"
            credentials = "\(credentials)"
            options = ["vers=3.1.1", "cache=none"]
            """.write(toFile: configPath, atomically: true, encoding: .utf8)

        holder.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        holder.arguments = ["-m", "--propagation", "private", "sleep", "600"]
        holder.standardInput = FileHandle.nullDevice
        holder.standardOutput = FileHandle.nullDevice
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        // unshare(2) happens before the exec of sleep: wait until the namespaces differ.
        let start = ContinuousClock.now
        while namespace(of: "\(holder.processIdentifier)") == namespace(of: "self") {
            if ContinuousClock.now - start > .seconds(5) { throw FixtureError("unshare -m did not start") }
            usleep(10_000)
        }
    }

    deinit {
        // SIGKILL, then a bounded wait: never let a fixture hang a test run.
        kill(holder.processIdentifier, SIGKILL)
        let start = ContinuousClock.now
        while holder.isRunning && ContinuousClock.now - start < .seconds(5) { usleep(10_000) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    private func namespace(of pid: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/mnt")
    }

    var environment: [String: String] {
        ["SMBVOL_CONFIG": configPath, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"]
    }

    /// `smbvol ARGS` inside the namespace.
    func smbvol(_ arguments: [String], extraEnvironment: [String: String] = [:], timeout: Duration = .seconds(60))
        -> (status: Int32, stdout: String, stderr: String)
    {
        runProcess(
            "/usr/bin/nsenter", ["-t", "\(holder.processIdentifier)", "-m", "--", smbvol] + arguments,
            environment: environment.merging(extraEnvironment) { $1 }, timeout: timeout)
    }

    /// Starts every command (`smbvol ARGS` in the namespace) at once and waits for all of them;
    /// returns their exit statuses. (Started from here rather than from a shell's `&`/`wait`.)
    func smbvolConcurrently(_ commands: [[String]], timeout: Duration = .seconds(120)) throws -> [Int32] {
        let processes = try commands.map { arguments -> Process in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
            process.arguments = ["-t", "\(holder.processIdentifier)", "-m", "--", smbvol] + arguments
            process.environment = environment
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        let start = ContinuousClock.now
        while processes.contains(where: \.isRunning) {
            if ContinuousClock.now - start > timeout {
                for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
                throw FixtureError("concurrent smbvol runs did not finish within \(timeout)")
            }
            usleep(10_000)
        }
        return processes.map(\.terminationStatus)
    }

    /// A shell script inside the namespace, with `$SMBVOL` set to the binary.
    func shell(_ script: String, timeout: Duration = .seconds(120)) -> (status: Int32, stdout: String, stderr: String) {
        runProcess(
            "/usr/bin/nsenter", ["-t", "\(holder.processIdentifier)", "-m", "--", "/bin/sh", "-c", script],
            environment: environment.merging(["SMBVOL": smbvol]) { $1 }, timeout: timeout)
    }

    /// The namespace's mount table lines under our scratch directory.
    func mountsUnderScratch() -> [String] {
        let text = (try? String(contentsOfFile: "/proc/\(holder.processIdentifier)/mountinfo", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init).filter { $0.contains(directory) }
    }

    func logLines(_ name: String) -> [String] {
        let text = (try? String(contentsOfFile: root + "/" + name, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    func mark(_ marker: String, content: String = "") throws {
        try content.write(toFile: root + "/" + marker, atomically: true, encoding: .utf8)
    }

    /// `smbvol lock list --json` decoded: the lock objects.
    func locks() throws -> [[String: Any]] {
        let result = smbvol(["lock", "list", "--json"])
        guard result.status == 0 else { throw FixtureError("lock list failed: \(result.stderr)") }
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return object?["locks"] as? [[String: Any]] ?? []
    }
}
