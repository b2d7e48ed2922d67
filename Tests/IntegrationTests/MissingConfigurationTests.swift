import Foundation
import Testing

/// Commands run with no configuration file: those that work on the configured shares name the
/// missing file and exit 1; `handles` with --host needs nothing from it; `heartbeat` warns and
/// finds nothing to do (its unit runs before the operator has written a configuration).
@Suite("no configuration file", .serialized)
struct MissingConfigurationTests {
    static let defaultPath = "/etc/smbvol/smbvol.toml"

    /// smbvol with SMBVOL_CONFIG unset (empty counts as unset): the default file is read.
    func run(_ arguments: [String], home: String, environment extra: [String: String] = [:]) -> (status: Int32, stdout: String, stderr: String) {
        let environment = ["HOME": home, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "SMBVOL_CONFIG": ""].merging(extra) { _, new in new }
        return runProcess(TestBinaries.path("smbvol"), arguments, environment: environment, timeout: .seconds(60))
    }

    func temporaryHome() throws -> String {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("smbvol-noconf-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        return home
    }

    @Test(
        "mounts, holders, lock list, check, fence --list without /etc/smbvol/smbvol.toml: exit 1 naming the file, nothing on stdout",
        .enabled(if: !FileManager.default.fileExists(atPath: defaultPath), "this machine has \(defaultPath)"))
    func defaultFileMissing() throws {
        let home = try temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let xml = home + "/domain.xml"
        try "<domain type='kvm'><name>d</name><uuid>11111111-2222-3333-4444-555555555555</uuid></domain>".write(toFile: xml, atomically: true, encoding: .utf8)
        for arguments in [["mounts"], ["mounts", "--json"], ["holders", "--json"], ["lock", "list"], ["check", "--xml", xml], ["fence", "--list"]] {
            let result = run(arguments, home: home)
            #expect(result.status == 1, "\(arguments): \(result.stdout) \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(arguments): \(result.stdout)")
            #expect(result.stderr == "smbvol: error: \(Self.defaultPath): does not exist: smbvol reads its configuration (the shares) from it; write it, or name another with --config or SMBVOL_CONFIG\n",
                    "\(arguments): \(result.stderr)")
        }
    }

    @Test("a file named by SMBVOL_CONFIG or --config that is missing: exit 1 naming it")
    func namedFileMissing() throws {
        let home = try temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let missing = home + "/nowhere.toml"
        for (arguments, environment) in [(["mounts"], ["SMBVOL_CONFIG": missing]), (["mounts", "--config", missing], [:]), (["heartbeat", "--once", "--config", missing], [:])] {
            let result = run(arguments, home: home, environment: environment)
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("smbvol: error: \(missing): does not exist"), "\(arguments): \(result.stderr)")
        }
    }

    @Test(
        "heartbeat --once without the default file: one warning naming it, exit 0; handles list --host works",
        .enabled(if: !FileManager.default.fileExists(atPath: defaultPath), "this machine has \(defaultPath)"))
    func commandsThatNeedNoFile() throws {
        let home = try temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let beat = run(["heartbeat", "--once"], home: home)
        #expect(beat.status == 0, "\(beat.stderr)")
        #expect(beat.stderr.hasPrefix("smbvol: warning: \(Self.defaultPath) does not exist: no share is configured"), "\(beat.stderr)")

        let simulator = try SimulatorProcess(scenarioFile: TestBinaries.packageRoot + "/Tests/Scenarios/basic.json")
        let passwordFile = home + "/password"
        FileManager.default.createFile(atPath: passwordFile, contents: Data("secret".utf8), attributes: [.posixPermissions: 0o600])
        let listed = run(
            ["handles", "list", "--json", "--host", simulator.host, "--port", String(simulator.port), "--user", "admin", "--password-file", passwordFile]
                + (simulator.caFile.map { ["--ca-file", $0] } ?? []), home: home)
        #expect(listed.status == 0, "\(listed.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any]
        #expect((object?["handles"] as? [[String: Any]])?.count == 4)
    }
}
