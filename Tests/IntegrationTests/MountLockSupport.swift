import Foundation
import SmbvolTestSupport
import Testing

/// A private mount namespace (`unshare -m --propagation private sleep 600`) that commands run in
/// through `nsenter`, so nothing the tests mount ever reaches the host's mount table; it all
/// disappears with the namespace. Inside it the CIFS kernel stand-in sits under the real
/// /sbin/mount.cifs (tools/cifs-standin), `srv` resolves to 127.0.0.1, and /bin/umount logs its
/// calls. Plus a real Samba server (SambaServer) sharing `<root>/srv/NAME` as `NAME` (vmstore,
/// volumes and `extraShares`), users `svc` (the credentials file's) and `nova` (for
/// connection-info tests; `samba.setPassword`), and a configuration that leaves mount_command and
/// umount_command at their production defaults.
final class MountLockFixture: @unchecked Sendable {  // used from one test at a time
    let directory: String
    let holder: Process
    let samba: SambaServer
    let smbvol = TestBinaries.path("smbvol")

    /// The configured share's password: every character mount.cifs and the kernel string treat
    /// specially (`,` is doubled in the kernel's option string), and non-ASCII.
    static let smbPassword = "File,Secret \"q' \\ ü"

    var root: String { directory + "/cifs-root" }
    var configPath: String { directory + "/smbvol.toml" }
    var stateDirectory: String { directory + "/state" }
    var mountBase: String { directory + "/mnt" }
    var credentials: String { directory + "/vmstore.cred" }
    /// The stand-in's state: mount-calls.log (every mount(2), password redacted), umount.log.
    var standIn: String { directory + "/standin" }
    /// The real mount.cifs binary as it runs (bind-mounted there; /sbin/mount.cifs is the wrapper).
    var mountProgram: String { standIn + "/real/mount.cifs" }

    init(mountTimeoutSeconds: Int = 20, extraShares: [String] = [], qemuUser: String = "root", qemuGroup: String = "root") throws {
        directory = NSTemporaryDirectory() + "smbvol-mounts-\(UUID().uuidString.prefix(8))"
        holder = Process()
        let fileManager = FileManager.default
        var shares: [String: String] = [:]
        for name in ["vmstore", "volumes"] + extraShares {
            let path = directory + "/cifs-root/srv/" + name
            try fileManager.createDirectory(atPath: path, withIntermediateDirectories: true)
            shares[name] = path
        }
        // smbd and qemu's account must traverse the scratch tree.
        try fileManager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        samba = try SambaServer(
            directory: directory + "/samba", shares: shares,
            users: [("svc", Self.smbPassword), ("nova", "nova-\(UUID().uuidString.prefix(8))")])
        try "username=svc\npassword=\(Self.smbPassword)\ndomain=WORKGROUP\n".write(toFile: credentials, atomically: true, encoding: .utf8)
        try fileManager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: credentials)
        var file = SmbvolConfigurationFile([
            "state_dir": .string(stateDirectory), "mount_base": .string(mountBase), "qemu_user": .string(qemuUser),
            "qemu_group": .string(qemuGroup), "mount_timeout_seconds": .integer(mountTimeoutSeconds),
        ])
        file.share("vmstore", ["export": "//srv/vmstore", "credentials": .string(credentials), "options": ["vers=3.1.1", "cache=none"]])
        try file.write(in: directory)

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
        let setup = runProcess(
            "/usr/bin/nsenter",
            [
                "-t", "\(holder.processIdentifier)", "-m", "--", TestBinaries.packageRoot + "/tools/cifs-standin/enter-namespace.sh",
                standIn, "--port", "\(samba.port)", "--host", "127.0.0.1 srv", "--count-umounts",
            ], environment: environment, timeout: .seconds(60))
        guard setup.status == 0 else { throw FixtureError("tools/cifs-standin/enter-namespace.sh failed: \(setup.stderr)") }
    }

    deinit {
        // The FUSE clients first (a SIGSTOPped one would keep its mount hung), then the namespace:
        // SIGKILL and a bounded wait, never letting a fixture hang a test run.
        for pid in fuseClients() { kill(pid, SIGKILL) }
        samba.resume()
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

    /// The test domains the attach/detach commands look up by name (libvirt's test driver,
    /// read-only, no daemon): web01 and vm0…vm30, each with a fixed UUID.
    static let domainNames = ["web01"] + (0...30).map { "vm\($0)" }
    private(set) lazy var domainsURI: String = (try? Reliability.testDriverURI(
        in: directory, running: Self.domainNames.map { ($0, Self.uuid(of: $0)) })) ?? "test:///default"

    /// A domain's UUID: its name's bytes as the last group (names of at most six bytes).
    static func uuid(of name: String) -> String {
        let hex = name.utf8.map { String($0, radix: 16) }.joined()
        return "00000000-0000-4000-8000-" + String(repeating: "0", count: max(0, 12 - hex.count)) + hex
    }

    /// `smbvol attach` of one disk of a test domain on a configured share (hot-attach: the
    /// start pipeline for one disk); prints JSON, whose mount_point `attachedMountPoint` reads.
    func attachArguments(share: String = "vmstore", domain: String, disk: String = "vda") -> [String] {
        [
            "attach", "--share", share, "--path", "\(domain)-\(disk).qcow2", "--domain", domain, "--connect", domainsURI,
            "--disk", disk, "--json",
        ]
    }

    /// `smbvol detach` of that disk.
    func detachArguments(domain: String, disk: String = "vda") -> [String] {
        ["detach", "--domain", domain, "--connect", domainsURI, "--disk", disk]
    }

    /// The mount point an `attach --json` printed.
    static func attachedMountPoint(_ stdout: String) -> String {
        let object = try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any]
        return object?["mount_point"] as? String ?? ""
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

    /// The namespace's mount table lines for mount points under mount_base (the stand-in's own
    /// bind mounts elsewhere in the scratch tree do not count).
    func mountsUnderScratch() -> [String] {
        let text = (try? String(contentsOfFile: "/proc/\(holder.processIdentifier)/mountinfo", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init).filter { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 && fields[4].hasPrefix(mountBase + "/")
        }
    }

    /// Lines of a stand-in log: `mount-calls.log` (one per mount(2): source, mount point, type,
    /// flags, the kernel option string with the password redacted) or `umount.log`.
    func logLines(_ name: String) -> [String] {
        let text = (try? String(contentsOfFile: standIn + "/" + name, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// The kernel option strings mount(2) received, in order.
    var kernelOptionStrings: [String] {
        logLines("mount-calls.log").compactMap { line in line.split(separator: " ", maxSplits: 4).dropFirst(4).first.map(String.init) }
    }

    /// Pids of the FUSE SMB clients (smbnetfs) serving mounts under this fixture's scratch tree.
    func fuseClients(under prefix: String? = nil) -> [Int32] {
        let needle = "smbnetfs " + (prefix ?? directory)
        return Reliability.commandLines().filter { $0.value.contains(needle) }.map(\.key).sorted()
    }

    /// Rewrites the configured share's credentials file in place (same mode), e.g. with a wrong password.
    func writeCredentials(password: String) throws {
        try "username=svc\npassword=\(password)\ndomain=WORKGROUP\n".write(toFile: credentials, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: credentials)
    }

    /// `smbvol lock list --json` decoded: the lock objects.
    func locks() throws -> [[String: Any]] {
        let result = smbvol(["lock", "list", "--json"])
        guard result.status == 0 else { throw FixtureError("lock list failed: \(result.stderr)") }
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return object?["locks"] as? [[String: Any]] ?? []
    }
}
