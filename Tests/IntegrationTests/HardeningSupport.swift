import Foundation
import Testing

/// The set-up the hardening tests share: a private mount namespace with the real mount.cifs and
/// a real smbd (MountLockFixture, production mount_command), an
/// optional qumulo-sim over HTTPS with a scenario given as JSON, a syslog listener, and a
/// configuration whose parts each test can change.
final class HardeningFixture: @unchecked Sendable {  // used from one test at a time
    let mounts: MountLockFixture
    let simulator: SimulatorProcess?
    let syslog: SyslogListener
    let passwordFile: String

    static let uuidA = "6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2b"
    static let uuidB = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

    /// The users, identity and share every scenario here has; `files`, `sessions`, `handles`,
    /// `shares` and `faults` are JSON lists.
    static func scenario(
        files: String = #"[{"path": "/vmstore/web01/disk0.qcow2", "id": "3001"}]"#, sessions: String = "[]",
        handles: String = "[]", shares: String = #"[{"id": "1", "name": "vmstore", "fs_path": "/vmstore"}]"#,
        identities: String = #"[{"auth_id": "1001", "name": "svc-kvm", "domain": "ACTIVE_DIRECTORY"}]"#, faults: String = "[]"
    ) -> String {
        """
        {"users": [{"name": "svc-smbvol", "password": "hook-password", "auth_id": "500"}],
         "identities": \(identities), "shares": \(shares), "files": \(files),
         "sessions": \(sessions), "handles": \(handles), "faults": \(faults)}
        """
    }

    /// - Parameters:
    ///   - scenario: nil for no cluster at all (no `[cluster]` table).
    ///   - topLevel: extra top-level lines (before any table).
    ///   - shareLines: extra lines in `[share.vmstore]`.
    ///   - tables: extra tables at the end.
    init(
        scenario: String? = HardeningFixture.scenario(), onClusterError: String = "fail", deadlineSeconds: Double = 30,
        topLevel: String = "", shareLines: String? = nil, tables: String = "",
        stateDirectory: String? = nil, mountBase: String? = nil, credentials: String? = nil
    ) throws {
        mounts = try MountLockFixture(extraShares: ["other"])
        simulator = try scenario.map { try SimulatorProcess(scenarioJSON: $0) }
        syslog = try SyslogListener()
        passwordFile = mounts.directory + "/qumulo.password"
        try "hook-password\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: passwordFile)
        for name in ["web01", "web02"] {
            try FileManager.default.createDirectory(atPath: mounts.root + "/srv/vmstore/\(name)", withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: mounts.root + "/srv/vmstore/\(name)/disk0.qcow2", contents: Data())
        }
        var text = """
            state_dir = "\(stateDirectory ?? mounts.stateDirectory)"
            mount_base = "\(mountBase ?? mounts.mountBase)"
            qemu_user = "root"
            qemu_group = "root"
            mount_timeout_seconds = 20
            deadline_seconds = \(deadlineSeconds)
            syslog_socket = "\(syslog.path)"
            \(topLevel)

            [policy]
            on_cluster_error = "\(onClusterError)"

            """
        if let simulator {
            text += """
                [cluster.sim]
                host = "127.0.0.1"
                port = \(simulator.port)
                ca_file = "\(simulator.caFile ?? "")"
                username = "svc-smbvol"
                password_file = "\(passwordFile)"
                credentials_store = "\(mounts.directory)/tokens/sim"
                request_timeout_seconds = 5

                """
        }
        text += """
            [share.vmstore]
            export = "//srv/vmstore"
            \(simulator == nil ? "" : "cluster = \"sim\"")
            credentials = "\(credentials ?? mounts.credentials)"
            options = ["vers=3.1.1", "cache=none"]
            \(shareLines ?? (simulator == nil ? "" : #"fs_path = "/vmstore""#))

            \(tables)
            """
        try text.write(toFile: mounts.configPath, atomically: true, encoding: .utf8)
    }

    /// The share's mount point as smbvol derives it.
    var mountPoint: String {
        let result = mounts.smbvol(["mounts", "--json"])
        let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let entries = object?["mounts"] as? [[String: Any]] ?? []
        return entries.first { $0["share"] as? String == "vmstore" }?["mount_point"] as? String ?? ""
    }

    func domainXML(name: String = "web01", uuid: String = HardeningFixture.uuidA, image: String, metadata: String = "") -> String {
        """
        <domain type='kvm'>
          <name>\(name)</name>
          <uuid>\(uuid)</uuid>
          \(metadata)
          <devices>
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2' cache='none'/>
              <source file='\(image)'/>
              <target dev='vda' bus='virtio'/>
            </disk>
          </devices>
        </domain>
        """
    }

    func hook(_ name: String, _ operation: String, _ subOperation: String = "begin", xml: String, timeout: Duration = .seconds(60))
        -> (status: Int32, stdout: String, stderr: String)
    {
        runProcess(
            "/usr/bin/nsenter",
            ["-t", "\(mounts.holder.processIdentifier)", "-m", "--wd=/", "--", mounts.smbvol, "hook", name, operation, subOperation, "-"],
            stdin: xml, environment: ["LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SMBVOL_CONFIG": mounts.configPath],
            timeout: timeout)
    }

    /// `smbvol ARGS` in the namespace, with the configuration.
    func smbvol(_ arguments: [String], timeout: Duration = .seconds(60)) -> (status: Int32, stdout: String, stderr: String) {
        mounts.smbvol(arguments, timeout: timeout)
    }

    /// Cluster flags for operator commands (the configuration's cluster).
    var clusterFlags: [String] { ["--cluster", "sim"] }

    func closed() throws -> [String] { try simulator?.state().closedLocations ?? [] }

    /// Lines of the namespace's mount table at `path` (its real path).
    func mounts(at path: String) -> [String] {
        let real = Self.realPath(path)
        return mounts.mountsUnderScratch().filter { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 && fields[4] == real
        }
    }

    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// True when `text` holds nothing a terminal or a line-based reader would act on.
    static func isInert(_ text: String) -> Bool {
        !text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x0D || $0.value == 0x9B || $0.value == 0x07 || $0 == "\u{2028}" }
    }
}
