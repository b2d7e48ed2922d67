import SmbvolSystem
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("NoFollowTree never follows a symlink below its root")
struct NoFollowTreeTests {
    @Test("files are written, read, listed and removed below the root")
    func roundTrip() throws {
        let root = try makeTemporaryDirectory()
        let tree = NoFollowTree(root: root)
        try tree.replaceFile(directory: ["a", "b"], name: "record", bytes: Array("one".utf8))
        try tree.replaceFile(directory: ["a", "b"], name: "record", bytes: Array("two".utf8))
        #expect(try tree.readFile(["a", "b", "record"], limit: 16) == Array("two".utf8))
        #expect(try tree.listDirectory(["a", "b"], limit: 8) == ["record"])
        let listed = try tree.listEntries(["a", "b"], limit: 8)
        #expect(listed.entries.map(\.name) == ["record"] && !listed.more)
        #expect(listed.entries.first?.modified != nil)
        #expect(try FileStatus.of(root + "/a/b/record").permissions == 0o644)
        try tree.removeFile(directory: ["a", "b"], name: "record")
        try tree.removeFile(directory: ["a", "b"], name: "record")
        try tree.removeFile(directory: ["missing"], name: "record")
        #expect(throws: NoFollowPathError.notFound(path: "a/b/record")) { try tree.readFile(["a", "b", "record"], limit: 16) }
    }

    @Test("a symlinked directory or file below the root is refused, not followed")
    func symlinks() throws {
        let root = try makeTemporaryDirectory()
        let outside = try makeTemporaryDirectory()
        try AtomicFileWriter().write(Array("secret".utf8), to: outside + "/file")
        #expect(symlink(outside, root + "/dir") == 0)
        #expect(symlink(outside + "/file", root + "/file") == 0)
        let tree = NoFollowTree(root: root)
        #expect(throws: NoFollowPathError.symbolicLink(path: "dir")) { try tree.readFile(["dir", "file"], limit: 16) }
        #expect(throws: NoFollowPathError.symbolicLink(path: "file")) { try tree.readFile(["file"], limit: 16) }
        #expect(throws: NoFollowPathError.symbolicLink(path: "dir")) { try tree.replaceFile(directory: ["dir"], name: "x", bytes: []) }
        #expect(RealPath.resolve(outside + "/x") == nil)
    }

    @Test("limits, names and kinds are checked")
    func limits() throws {
        let root = try makeTemporaryDirectory()
        let tree = NoFollowTree(root: root)
        try tree.replaceFile(directory: [], name: "big", bytes: [UInt8](repeating: 1, count: 32))
        #expect(throws: NoFollowPathError.tooLarge(path: "big", limit: 16)) { try tree.readFile(["big"], limit: 16) }
        #expect(throws: NoFollowPathError.invalidName("..")) { try tree.readFile(["..", "big"], limit: 16) }
        #expect(throws: NoFollowPathError.invalidName("a/b")) { try tree.replaceFile(directory: [], name: "a/b", bytes: []) }
        try tree.replaceFile(directory: ["d"], name: "one", bytes: [])
        try tree.replaceFile(directory: ["d"], name: "two", bytes: [])
        #expect(throws: NoFollowPathError.tooManyEntries(path: "d", limit: 1)) { try tree.listDirectory(["d"], limit: 1) }
        #expect(try tree.listEntries(["d"], limit: 1).more)
        #expect(throws: NoFollowPathError.notRegularFile(path: "d")) { try tree.readFile(["d"], limit: 16) }
        #expect(throws: NoFollowPathError.notDirectory(path: "big")) { try tree.listDirectory(["big"], limit: 4) }
    }
}
