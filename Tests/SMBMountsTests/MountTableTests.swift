import SMBMounts
import SmbvolShares
import Testing

@Suite("MountTable")
struct MountTableTests {
    static let sample = """
        22 1 0:21 / /proc rw,relatime - proc proc rw
        95 27 0:51 / /var/lib/smbvol/mnt/my\\040share rw,relatime shared:1 - cifs //SRV/Share\\040One/ rw,vers=3.1.1
        96 27 0:52 / /var/lib/smbvol/mnt/back\\134slash rw,relatime - cifs \\134\\134srv\\134b rw
        97 27 0:53 / /mnt/stacked rw - cifs //srv/first rw
        98 97 0:54 / /mnt/stacked rw - cifs //srv/second rw
        garbage line
        """

    @Test("decodes octal escapes in mount points and sources; skips malformed lines")
    func escapes() throws {
        let table = MountTable(parsing: Self.sample)
        #expect(table.entries.count == 5)
        let entry = try #require(table.entry(at: "/var/lib/smbvol/mnt/my share"))
        #expect(entry.source == "//SRV/Share One/")
        #expect(entry.fileSystemType == "cifs")
        #expect(table.entry(at: "/var/lib/smbvol/mnt/back\\slash")?.source == "\\\\srv\\b")
    }

    @Test("trailing slashes and the case of server and share do not matter; the subdirectory's case does")
    func normalisation() throws {
        let table = MountTable(parsing: Self.sample)
        let entry = try #require(table.entry(at: "/var/lib/smbvol/mnt/my share/"))
        #expect(try SMBExport(parsing: "//srv/share one").matches(mountSource: entry.source))
        #expect(try SMBExport(parsing: "//srv/b").matches(mountSource: "\\\\srv\\b"))
        #expect(try !SMBExport(parsing: "//srv/share/Sub").matches(mountSource: "//srv/share/sub"))
        #expect(try !SMBExport(parsing: "//srv/share").matches(mountSource: "/dev/vda"))
    }

    @Test("with stacked mounts the topmost one counts")
    func stacked() throws {
        #expect(MountTable(parsing: Self.sample).entry(at: "/mnt/stacked")?.source == "//srv/second")
    }
}
