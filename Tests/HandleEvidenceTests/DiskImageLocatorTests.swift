import DiskImages
import DomainXML
import Foundation
import HandleEvidence
import LockHygiene
import SMBMounts
import SmbvolShares
import SmbvolConfig
import Testing

@Suite("From disk to share and cluster path")
struct DiskImageLocatorTests {
    final class Directories {
        let root: String
        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("smbvol-locator-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: root + "/share/vms", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root + "/elsewhere", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: root + "/share/vms/escape", withDestinationPath: root + "/elsewhere")
            try FileManager.default.createSymbolicLink(atPath: root + "/share/vms/inside", withDestinationPath: root + "/share/vms")
        }
        var configuration: SmbvolConfiguration {
            get throws {
                try ConfigurationLoader().parse(
                    """
                    state_dir = "\(root)/state"
                    mount_base = "\(root)/mnt"
                    [share.vms]
                    export = "//sim/vms"
                    fs_path = "/vms/"
                    local_path = "\(root)/share"
                    [share.isos]
                    export = "//sim/isos"
                    fs_path = "/isos"
                    """, file: "test.toml")
            }
        }
    }

    func disk(_ source: String, shareable: Bool = false, backing: [String] = []) -> DomainDisk {
        DomainDisk(target: "vda", sourceFile: source, shareable: shareable, backingChain: backing.map { BackingImage(type: "file", sourceFile: $0) })
    }

    @Test("an image under the share's local path, its backing file read-only")
    func located() throws {
        let directories = try Directories()
        let locator = DiskImageLocator(catalog: try ShareCatalog(configuration: try directories.configuration))
        let images = try locator.locate(disk(directories.root + "/share/vms/a.qcow2", backing: [directories.root + "/share/base.qcow2", "/other/base.raw"]))
        #expect(images.map(\.relativePath) == ["vms/a.qcow2", "base.qcow2"])
        #expect(images.map(\.share.name) == ["vms", "vms"])
        #expect(images[0].access.readonly == false)
        #expect(images[1].isBackingFile && images[1].access.readonly)
        #expect(ShareRootResolver.clusterPath(root: "/vms", relativePath: images[0].relativePath) == "/vms/vms/a.qcow2")
    }

    @Test("'..' and symlinks escaping the share are errors; a symlink inside is fine; other paths are ignored")
    func escapes() throws {
        let directories = try Directories()
        let locator = DiskImageLocator(catalog: try ShareCatalog(configuration: try directories.configuration))
        #expect(throws: ImageLocationError.self) { try locator.locate(disk(directories.root + "/share/../elsewhere/a.qcow2")) }
        #expect {
            try locator.locate(disk(directories.root + "/share/vms/escape/a.qcow2"))
        } throws: { error in "\(error)".contains("outside share vms") }
        #expect(try locator.locate(disk(directories.root + "/share/vms/inside/a.qcow2")).count == 1)
        #expect(try locator.locate(disk("/srv/iso/install.iso")).isEmpty)
    }

    @Test("metadata hints: unknown share and a path outside the named share are errors")
    func hints() throws {
        let directories = try Directories()
        let locator = DiskImageLocator(catalog: try ShareCatalog(configuration: try directories.configuration))
        #expect(throws: ImageLocationError.unknownHintedShare(target: "vda", share: "nosuch")) {
            try locator.locate(disk(directories.root + "/share/a.qcow2"), hintedShare: "nosuch")
        }
        #expect(throws: ImageLocationError.self) { try locator.locate(disk(directories.root + "/share/a.qcow2"), hintedShare: "isos") }
        #expect(try locator.locate(disk(directories.root + "/share/a.qcow2"), hintedShare: "vms").first?.share.name == "vms")
    }

    @Test("a configured fs_path is used without asking the cluster, trailing slash trimmed")
    func configuredRoot() throws {
        let directories = try Directories()
        let configuration = try directories.configuration
        let share = try #require(configuration.shares["vms"])
        #expect(share.fsPath == "/vms/")
        #expect(ShareRootResolver.clusterPath(root: "/", relativePath: "a.qcow2") == "/a.qcow2")
    }
}
