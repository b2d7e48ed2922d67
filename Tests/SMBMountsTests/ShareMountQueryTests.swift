import Foundation
import SMBMounts
import SmbvolShares
import SmbvolSystem
import Testing

/// The one mount-state query: a share mounted under a symlinked `mount_base` is mounted (the
/// mount table lists the real path), a foreign mount is not the share's.
@Suite("ShareMountQuery")
struct ShareMountQueryTests {
    let directory: String
    /// `<dir>/base` is a symlink to `<dir>/real`: the configured mount_base.
    var linkedBase: String { directory + "/base" }
    var realBase: String { directory + "/real" }

    init() throws {
        directory = try makeTemporaryDirectory()
        try FileManager.default.createDirectory(atPath: realBase + "/vmstore", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: linkedBase, withDestinationPath: realBase)
    }

    func share(at mountPoint: String, export: String = "//nas/vmstore") throws -> Share {
        Share(name: "vmstore", export: try SMBExport(parsing: export), mountPoint: mountPoint, credentials: nil, options: [])
    }

    @Test("a share mounted under a symlinked mount_base is found at its canonical path")
    func symlinkedMountBase() throws {
        let table = FakeMountTable()
        table.add(source: "//nas/vmstore", at: realBase + "/vmstore")
        let query = ShareMountQuery(mountTable: table)
        let share = try share(at: linkedBase + "/vmstore")
        let state = try query.state(of: share)
        #expect(state.isUsable)
        guard case .mounted(let entry) = state else { Issue.record("not mounted: \(state)"); return }
        #expect(entry.mountPoint == realBase + "/vmstore")
        #expect(query.states(of: [share])["vmstore"] == state)
        #expect(try query.entry(at: linkedBase + "/vmstore")?.mountPoint == realBase + "/vmstore")
    }

    @Test("nothing mounted, a foreign mount, a local_path share")
    func otherStates() throws {
        let table = FakeMountTable()
        let query = ShareMountQuery(mountTable: table)
        #expect(try query.state(of: try share(at: linkedBase + "/vmstore")) == .notMounted)
        table.add(source: "//other/export", at: realBase + "/vmstore")
        guard case .foreign = try query.state(of: try share(at: linkedBase + "/vmstore")) else {
            Issue.record("a foreign mount counted as the share's")
            return
        }
        var local = try share(at: directory)
        local.localPath = directory
        #expect(try query.state(of: local) == .local)
        #expect(query.health(of: local, probe: FixedProbe([.hung(seconds: 3)])) == nil)
    }

    @Test("the canonical path of a path not yet created keeps its missing tail")
    func canonicalPathOfMissingTail() {
        #expect(ShareMountQuery.canonicalPath(linkedBase + "/not/yet") == realBase + "/not/yet")
    }

    @Test("a mount point's real path resolves its directory only, never the mount point itself")
    func canonicalMountPointKeepsItsName() throws {
        // A symlink as the mount point's own name stays unresolved: resolving it would enter
        // whatever is mounted there (and block on a hung mount).
        try FileManager.default.createSymbolicLink(atPath: realBase + "/linked-share", withDestinationPath: realBase + "/vmstore")
        #expect(ShareMountQuery.canonicalMountPoint(linkedBase + "/linked-share") == realBase + "/linked-share")
        #expect(ShareMountQuery.canonicalMountPoint(linkedBase + "/vmstore") == realBase + "/vmstore")
        #expect(ShareMountQuery.canonicalMountPoint("/") == "/")
    }

    @Test("the start's hung-mount guard probes a share mounted under a symlinked mount_base")
    func hungMountGuardUnderSymlinkedBase() throws {
        let table = FakeMountTable()
        table.add(source: "//nas/vmstore", at: realBase + "/vmstore")
        let share = try share(at: linkedBase + "/vmstore")
        let guarding = HungMountGuard(probe: FixedProbe([.hung(seconds: 3)]), mountTable: table)
        #expect(throws: MountCommandError.self) {
            try guarding.check(paths: [linkedBase + "/vmstore/web01.qcow2"], shares: [share], deadline: .none)
        }
    }
}
