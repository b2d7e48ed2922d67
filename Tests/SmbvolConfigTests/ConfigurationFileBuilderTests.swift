import Foundation
import SmbvolConfig
import SmbvolTestSupport
import Testing

/// The tests' configuration builder writes what the real loader reads, whatever the strings hold.
@Suite("SmbvolConfigurationFile (test support) against the real loader")
struct ConfigurationFileBuilderTests {
    @Test("top-level keys, [policy], [cluster.NAME], [share.NAME] and shares.d files load as built")
    func loads() throws {
        let directory = NSTemporaryDirectory() + "smbvol-builder-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var file = SmbvolConfigurationFile([
            "state_dir": .string(directory + "/state"), "mount_base": .string(directory + "/mnt"), "local_addresses": ["10.0.0.1", "10.0.0.2"],
            "host_id": nil,
        ])
        file.policy["stale_after_seconds"] = 90
        file.cluster("sim", ["host": "127.0.0.1", "port": 8000])
        file.share("vms", ["export": "//sim/vms", "cluster": "sim", "fs_path": "/vms", "options": ["vers=3.1.1"]])
        file.shareFile("10-isos.toml", [(name: "isos", keys: TOMLTable(["export": "//sim/isos", "fs_path": "/isos"]))])
        let path = try file.write(in: directory)
        #expect(path == directory + "/smbvol.toml")
        #expect(!file.rendered.contains("host_id"))

        let configuration = try ConfigurationLoader().load(path: path)
        #expect(configuration.stateDirectory == directory + "/state")
        #expect(configuration.policy.staleAfterSeconds == 90)
        #expect(Set(configuration.shares.keys) == ["vms", "isos"])
        #expect(configuration.shares["vms"]?.cluster == "sim")
        #expect(configuration.clusters.keys.sorted() == ["sim"])
        #expect(configuration.localAddresses == ["10.0.0.1", "10.0.0.2"])
    }

    @Test("strings are escaped: quotes and backslashes come back as written; control characters as TOML escapes")
    func escapes() throws {
        let path = "/srv/a \"quoted\" \\ dir ü"
        let file = SmbvolConfigurationFile(["state_dir": .string(path)])
        let configuration = try ConfigurationLoader().parse(file.rendered, file: "smbvol.toml")
        #expect(configuration.stateDirectory == path)
        #expect(TOMLValue.string("a\nb\tc\u{1}").rendered == #""a\nb\tc\u0001""#)
    }

    @Test("setting a key again replaces it in place; nil removes it")
    func replaces() {
        var table = TOMLTable(["a": 1, "b": 2])
        table["a"] = 3
        table["b"] = nil
        table["c"] = true
        #expect(table.rendered == "a = 3\nc = true\n")
    }
}
