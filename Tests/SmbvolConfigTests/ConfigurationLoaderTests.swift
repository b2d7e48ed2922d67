import SmbvolConfig
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Configuration: TOML, merging, and errors that name file, key and line")
struct ConfigurationLoaderTests {
    private func temporaryDirectory() -> String {
        var template = Array("/tmp/smbvol-config-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    private func write(_ text: String, to path: String) {
        let file = fopen(path, "w")
        fputs(text, file)
        fclose(file)
    }

    let sample = """
        state_dir = "/var/lib/smbvol"
        deadline_seconds = 45

        [policy]
        stale_after_seconds = 240
        protected_clients = ["10.9.9.9"]
        on_cluster_error = "fail"

        [cluster.qumulo1]
        host = "qumulo1.example"
        ca_file = "/etc/smbvol/qumulo-ca.pem"
        username = "svc-smbvol"
        password_file = "/etc/smbvol/secrets/qumulo1.password"

        [share.vms]
        export = "//qumulo1.example/vms"
        cluster = "qumulo1"
        credentials = "/etc/smbvol/secrets/vms.cred"
        options = ["vers=3.1.1", "seal"]
        """

    @Test("a full configuration parses with defaults filled in")
    func parses() throws {
        let configuration = try ConfigurationLoader().parse(sample, file: "smbvol.toml")
        #expect(configuration.deadlineSeconds == 45)
        #expect(configuration.mountBase == "/var/lib/smbvol/mnt")
        #expect(configuration.mountCommand == "/sbin/mount.cifs")
        #expect(configuration.policy == PolicyConfiguration(staleAfterSeconds: 240, protectedClients: ["10.9.9.9"], onClusterError: .fail))
        let cluster = try #require(configuration.clusters["qumulo1"])
        #expect(cluster.port == 8000)
        #expect(cluster.caFile == "/etc/smbvol/qumulo-ca.pem")
        #expect(!cluster.insecure)
        let share = try #require(configuration.shares["vms"])
        #expect(share.options == ["vers=3.1.1", "seal"])
        #expect(share.cluster == "qumulo1")
        #expect(!share.allowNobrl)
    }

    @Test("an unknown key names file, key and line")
    func unknownKey() {
        let text = sample.replacing("options = [", with: "optoins = [")
        #expect {
            try ConfigurationLoader().parse(text, file: "/etc/smbvol/smbvol.toml")
        } throws: { error in
            let error = error as? ConfigurationError
            return error?.line == 19 && error?.key == "share.vms.optoins" && error?.file == "/etc/smbvol/smbvol.toml"
                && "\(error!)".hasPrefix("/etc/smbvol/smbvol.toml:19: share.vms.optoins: unknown key")
        }
    }

    @Test("a wrong type names file, key and line", arguments: [
        ("port = \"8000\"", "cluster.qumulo1.port", "must be an integer, not a string"),
        ("insecure = \"yes\"", "cluster.qumulo1.insecure", "must be true or false"),
    ])
    func wrongType(line: String, key: String, message: String) {
        let text = sample.replacing("username = \"svc-smbvol\"", with: line)
        #expect {
            try ConfigurationLoader().parse(text, file: "c.toml")
        } throws: { error in
            let error = error as? ConfigurationError
            return error?.key == key && error?.line == 12 && error?.message.contains(message) == true
        }
    }

    @Test("wrong types at the top level and in [policy]")
    func wrongTypesElsewhere() {
        #expect {
            try ConfigurationLoader().parse("state_dir = \"/s\"\n\ndeadline_seconds = \"soon\"\n", file: "c.toml")
        } throws: { error in
            (error as? ConfigurationError)?.description == "c.toml:3: deadline_seconds: must be a number of seconds, not a string"
        }
        #expect {
            try ConfigurationLoader().parse("[policy]\non_cluster_error = \"maybe\"\n", file: "c.toml")
        } throws: { error in
            (error as? ConfigurationError)?.description == "c.toml:2: policy.on_cluster_error: must be \"continue\" or \"fail\", got \"maybe\""
        }
        #expect {
            try ConfigurationLoader().parse("[policy]\nprotected_clients = [\"a\",\n  3]\n", file: "c.toml")
        } throws: { error in
            (error as? ConfigurationError)?.line == 2
        }
    }

    @Test("invalid TOML reports the parser's line")
    func invalidTOML() {
        #expect {
            try ConfigurationLoader().parse("a = 1\n[share.vms\nexport = 1\n", file: "bad.toml")
        } throws: { error in
            let error = error as? ConfigurationError
            return error?.line == 2 && error?.message.hasPrefix("not valid TOML") == true
        }
    }

    @Test("a share naming an undefined cluster is an error")
    func undefinedCluster() {
        #expect {
            try ConfigurationLoader().parse("[share.vms]\nexport = \"//s/vms\"\ncluster = \"nope\"\n", file: "c.toml")
        } throws: { error in
            "\(error)".contains("names cluster \"nope\", which is not defined")
        }
    }

    @Test("shares.d files merge; a duplicate name is an error naming both files")
    func sharesDirectory() throws {
        let directory = temporaryDirectory()
        mkdir(directory + "/shares.d", 0o755)
        write(sample, to: directory + "/smbvol.toml")
        write("[share.images]\nexport = \"//qumulo1.example/images\"\ncluster = \"qumulo1\"\n", to: directory + "/shares.d/images.toml")
        let configuration = try ConfigurationLoader().load(path: directory + "/smbvol.toml")
        #expect(configuration.shares.keys.sorted() == ["images", "vms"])
        #expect(configuration.shares["images"]?.sourceFile == directory + "/shares.d/images.toml")

        write("\n[share.vms]\nexport = \"//other/vms\"\n", to: directory + "/shares.d/zz-dup.toml")
        #expect {
            try ConfigurationLoader().load(path: directory + "/smbvol.toml")
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix(directory + "/shares.d/zz-dup.toml:2: share.vms:") && text.contains(directory + "/smbvol.toml")
        }
    }

    @Test("top-level keys are not allowed in shares.d")
    func topLevelInSharesDirectory() {
        let directory = temporaryDirectory()
        mkdir(directory + "/shares.d", 0o755)
        write("", to: directory + "/smbvol.toml")
        write("state_dir = \"/x\"\n", to: directory + "/shares.d/a.toml")
        #expect {
            try ConfigurationLoader().load(path: directory + "/smbvol.toml")
        } throws: { error in
            "\(error)".hasPrefix(directory + "/shares.d/a.toml:1: state_dir: unknown key")
        }
    }

    @Test("a missing file: defaults unless the file was asked for")
    func missingFile() throws {
        let configuration = try ConfigurationLoader().load(path: "/nonexistent/smbvol.toml", requireFile: false)
        #expect(configuration == SmbvolConfiguration())
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader().load(path: "/nonexistent/smbvol.toml") }
    }
}

@Suite("The documented sample configuration")
struct SampleConfigurationTests {
    @Test("etc/smbvol/smbvol.toml parses and says what README says")
    func sampleParses() throws {
        let root = String(#filePath).split(separator: "/").dropLast(3).joined(separator: "/")
        let configuration = try ConfigurationLoader().load(path: "/" + root + "/etc/smbvol/smbvol.toml")
        #expect(configuration.clusters["qumulo1"]?.caFile == "/etc/smbvol/qumulo1-ca.pem")
        #expect(configuration.shares["vms"]?.cluster == "qumulo1")
        #expect(configuration.policy == PolicyConfiguration())
        #expect(configuration.deadlineSeconds == 60)
    }
}
