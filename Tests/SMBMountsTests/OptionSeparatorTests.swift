import SMBMounts
import SmbvolShares
import SmbvolConfig
import Testing

/// Nothing joined into `-o` may carry a separator.
@Suite("Option separators")
struct OptionSeparatorTests {
    let builder = MountOptionsBuilder(account: QemuAccount(uid: 64055, gid: 993))

    func share(credentials: String = "/etc/smbvol/vmstore.cred", options: [String] = []) throws -> Share {
        try Share(
            configuration: ShareConfiguration(name: "vmstore", export: "//srv/vmstore", credentials: credentials, options: options),
            mountBase: "/var/lib/smbvol/mnt")
    }

    @Test("a credentials path with ',' or a line break is refused", arguments: ["/etc/a,sec=none,nobrl", "/etc/a\r\nnobrl", "/etc/a\u{2028}b", "/etc/a\u{0}b"])
    func credentialsPath(_ path: String) throws {
        #expect(throws: MountConfigurationError.self) { try builder.arguments(for: share(credentials: path), credentialsFile: path) }
    }

    @Test("an option value with CR LF (one Character) or a C1 control is refused", arguments: ["vers=3.1.1\r\nnobrl", "cache=none\u{85}", "x=\u{9B}2J"])
    func optionValues(_ option: String) throws {
        #expect(throws: MountConfigurationError.self) {
            try builder.validate(options: [option], share: "vmstore", allowNobrl: false)
        }
    }

    @Test("an export with CR LF is not an export")
    func export() {
        #expect(throws: MountConfigurationError.self) { try SMBExport(parsing: "//srv/vmstore\r\nx") }
    }

    @Test("two different exports at one directory are refused; one export under two names is one share")
    func sharedDirectory() throws {
        let first = try share()
        var sameExport = first
        sameExport.name = "copy"
        #expect(throws: Never.self) { try Share.requireDistinctDirectories([first, sameExport]) }
        var other = first
        other.name = "other"
        other.export = try SMBExport(parsing: "//srv/other")
        #expect(throws: MountConfigurationError.self) { try Share.requireDistinctDirectories([first, other]) }
    }
}
