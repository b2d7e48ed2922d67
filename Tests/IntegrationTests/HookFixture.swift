import Foundation
import SmbvolTestSupport
import Testing

/// A mount namespace (MountLockFixture) plus qumulo-sim over HTTPS, and a configuration that
/// points the share `vmstore` at the simulator's cluster: everything a hook run needs.
final class HookFixture: @unchecked Sendable {  // used from one test at a time
    let mounts: MountLockFixture
    let simulator: SimulatorProcess
    let syslog: SyslogListener
    let passwordFile: String

    init(scenario: String, deadlineSeconds: Double = 30, onClusterError: String = "fail", clusterPort: Int? = nil) throws {
        mounts = try MountLockFixture()
        simulator = try SimulatorProcess(scenarioFile: TestBinaries.packageRoot + "/Tests/Scenarios/hook/" + scenario)
        syslog = try SyslogListener()
        passwordFile = mounts.directory + "/qumulo.password"
        try "hook-password\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: passwordFile)
        for name in ["web01", "web02"] {
            try FileManager.default.createDirectory(atPath: mounts.root + "/srv/vmstore/\(name)", withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: mounts.root + "/srv/vmstore/\(name)/disk0.qcow2", contents: Data())
        }
        var file = SmbvolConfigurationFile()
        file["state_dir"] = .string(mounts.stateDirectory)
        file["mount_base"] = .string(mounts.mountBase)
        file["qemu_user"] = "root"
        file["qemu_group"] = "root"
        file["mount_timeout_seconds"] = 20
        file["deadline_seconds"] = .number(deadlineSeconds)
        file["syslog_socket"] = .string(syslog.path)
        file.policy["on_cluster_error"] = .string(onClusterError)
        let port: Int = clusterPort ?? simulator.port
        let caFile: String = simulator.caFile ?? ""
        file.cluster("sim", [
            "host": "127.0.0.1", "port": .integer(port), "ca_file": .string(caFile), "username": "svc-smbvol",
            "password_file": .string(passwordFile), "credentials_store": .string(mounts.stateDirectory + "/tokens/sim"),
            "request_timeout_seconds": 5,
        ])
        file.share("vmstore", [
            "export": "//srv/vmstore", "cluster": "sim", "fs_path": "/vmstore", "credentials": .string(mounts.credentials),
            "options": ["vers=3.1.1", "cache=none"],
        ])
        try file.write(in: mounts.directory)
    }

    /// The share's mount point as smbvol derives it (read back from `smbvol mounts --json`).
    var mountPoint: String {
        let result = mounts.smbvol(["mounts", "--json"])
        let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let entries = object?["mounts"] as? [[String: Any]] ?? []
        return entries.first?["mount_point"] as? String ?? ""
    }

    var isMounted: Bool { mounts.mountsUnderScratch().contains { $0.contains(" \(mountPoint) ") } }

    func domainXML(name: String = "web01", uuid: String = "6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2b", image: String? = nil) -> String {
        TestDomainXML(name: name, uuid: uuid, image: image ?? "\(mountPoint)/\(name)/disk0.qcow2").xml
    }

    /// `smbvol hook NAME OP SUBOP -` in the namespace, XML on stdin, with libvirt's scrubbed
    /// environment (only LC_ALL, PATH and the config) and / as working directory.
    func hook(_ name: String, _ operation: String, _ subOperation: String, xml: String, timeout: Duration = .seconds(60))
        -> (status: Int32, stdout: String, stderr: String)
    {
        runProcess(
            "/usr/bin/nsenter",
            ["-t", "\(mounts.holder.processIdentifier)", "-m", "--wd=/", "--", mounts.smbvol, "hook", name, operation, subOperation, "-"],
            stdin: xml, environment: ["LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SMBVOL_CONFIG": mounts.configPath],
            timeout: timeout)
    }
}
