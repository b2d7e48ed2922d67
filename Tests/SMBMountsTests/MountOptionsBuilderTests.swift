import SMBMounts
import SmbvolShares
import SmbvolConfig
import Testing

@Suite("MountOptionsBuilder")
struct MountOptionsBuilderTests {
    let builder = MountOptionsBuilder(account: QemuAccount(uid: 64055, gid: 993))

    func share(_ options: [String], allowNobrl: Bool = false) throws -> Share {
        try Share(
            configuration: ShareConfiguration(
                name: "vmstore", export: "//Qumulo1/VMStore/images/", credentials: "/etc/smbvol/vmstore.cred",
                options: options, allowNobrl: allowNobrl),
            mountBase: "/var/lib/smbvol/mnt")
    }

    @Test("builds the exact argv mount.cifs gets: credentials, qemu uid/gid, modes, then the share's options")
    func exactArgv() throws {
        let arguments = try builder.arguments(for: share(["vers=3.1.1", "cache=none"]), credentialsFile: "/etc/smbvol/vmstore.cred")
        #expect(
            arguments == [
                "//Qumulo1/VMStore/images", "/var/lib/smbvol/mnt/qumulo1_vmstore_images-"
                    + MountPointNaming.directoryName(for: try SMBExport(parsing: "//qumulo1/vmstore/images")).suffix(8),
                "-o",
                "credentials=/etc/smbvol/vmstore.cred,uid=64055,gid=993,file_mode=0660,dir_mode=0770,vers=3.1.1,cache=none",
            ])
    }

    @Test(
        "rejects options that smuggle or override options, or carry a password",
        arguments: ["vers=3.0,credentials=/tmp/x", "vers=3.0\nuid=0", "CREDENTIALS=/tmp/x", "cred=/tmp/x", "uid=0", "Gid=0",
            " credentials=/x", "password=hunter2", "pass=x", ""])
    func rejectsInjection(option: String) throws {
        #expect(throws: MountConfigurationError.self) {
            try builder.arguments(for: share([option]), credentialsFile: "/c")
        }
    }

    @Test("nobrl is refused unless the share allows it")
    func nobrl() throws {
        #expect(
            throws: MountConfigurationError.locksMovedToClient(share: "vmstore", option: "NoBrl", why: "keeps byte-range locks off the server")
        ) {
            try builder.arguments(for: share(["NoBrl"]), credentialsFile: "/c")
        }
        let arguments = try builder.arguments(for: share(["nobrl"], allowNobrl: true), credentialsFile: "/c")
        #expect(arguments.last?.hasSuffix(",nobrl") == true)
    }

    @Test("mount point names are stable, readable and collision-resistant")
    func naming() throws {
        let first = MountPointNaming.directoryName(for: try SMBExport(parsing: "//Srv/Share/a b"))
        #expect(first == MountPointNaming.directoryName(for: try SMBExport(parsing: "\\\\srv\\SHARE\\a b\\")))
        #expect(first.hasPrefix("srv_share_a_b-"))
        #expect(first != MountPointNaming.directoryName(for: try SMBExport(parsing: "//srv/share/a_b")))
    }

    @Test("qemu account: configuration, then qemu.conf, then libvirt-qemu/kvm")
    func qemuAccount() throws {
        let directory = try makeTemporaryDirectory()
        let conf = directory + "/qemu.conf"
        var resolver = QemuAccountResolver(
            configuration: SmbvolConfiguration(), qemuConfPath: conf, database: NoAccounts())
        #expect(try resolver.resolve() == QemuAccount(uid: 64055, gid: 993))
        try AtomicFileWriterShim.write("# user = \"nobody\"\nuser = \"+0\"\ngroup = \"0\" # root\n", to: conf)
        #expect(try resolver.resolve() == QemuAccount(uid: 0, gid: 0))
        resolver.configuredUser = "nosuchuser"
        #expect(throws: MountConfigurationError.unknownQemuAccount(kind: "user", name: "nosuchuser")) {
            try resolver.resolve()
        }
    }
}

import SmbvolSystem

enum AtomicFileWriterShim {
    static func write(_ text: String, to path: String, mode: UInt32 = 0o600) throws {
        try AtomicFileWriter().write(Array(text.utf8), to: path, mode: mode)
    }
}
