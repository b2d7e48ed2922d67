import SmbvolSystem
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("File status, real paths, exclusive and rewritable files")
struct FileStatusTests {
    @Test("stat follows a symlink, lstat does not; a missing path throws with its errno")
    func kinds() throws {
        let directory = try makeTemporaryDirectory()
        try AtomicFileWriter().write([1, 2, 3], to: directory + "/file", mode: 0o640)
        #expect(symlink(directory + "/file", directory + "/link") == 0)
        let file = try FileStatus.of(directory + "/link")
        #expect(file.kind == .regularFile)
        #expect(file.permissions == 0o640)
        #expect(file.owner == UserAccounts.effectiveUserID)
        #expect(try FileStatus.ofLink(directory + "/link").kind == .symbolicLink)
        #expect(try FileStatus.of(directory).kind == .directory)
        #expect(file.modified > 1_000_000_000)
        #expect(throws: SystemCallError(call: "lstat", path: directory + "/none", code: Errno.noSuchFileOrDirectory)) {
            try FileStatus.ofLink(directory + "/none")
        }
    }

    @Test("the real path of the longest existing prefix keeps the missing rest")
    func existingPrefix() throws {
        let directory = try makeTemporaryDirectory()
        try SecureFiles.ensureDirectory(directory + "/real")
        #expect(symlink(directory + "/real", directory + "/alias") == 0)
        let real = try #require(RealPath.resolve(directory + "/real"))
        #expect(RealPath.resolve(directory + "/alias") == real)
        #expect(RealPath.resolve(directory + "/alias/missing") == nil)
        #expect(RealPath.ofExistingPrefix(directory + "/alias/missing/image.qcow2") == real + "/missing/image.qcow2")
        #expect(RealPath.ofExistingPrefix("/") == nil)
    }

    @Test("an exclusive file gets exactly its mode, never replaces a file and never follows a symlink")
    func exclusive() throws {
        let directory = try makeTemporaryDirectory() + "/private"
        try SecureFiles.ensurePrivateDirectory(directory)
        let path = directory + "/secret"
        let previous = umask(0)
        defer { umask(previous) }
        try SecureFiles.createExclusiveFile(path, bytes: Array("password=x\n".utf8), mode: 0o600)
        #expect(try FileStatus.of(path).permissions == 0o600)
        #expect(try FileStatus.of(directory).permissions == 0o700)
        #expect(try readWholeFile(path) == Array("password=x\n".utf8))
        #expect(throws: SystemCallError(call: "open", path: path, code: EEXIST)) {
            try SecureFiles.createExclusiveFile(path, bytes: [], mode: 0o600)
        }
        #expect(symlink(directory + "/elsewhere", directory + "/link") == 0)
        #expect(throws: SystemCallError.self) { try SecureFiles.createExclusiveFile(directory + "/link", bytes: [], mode: 0o600) }
        #expect(RealPath.resolve(directory + "/elsewhere") == nil)
    }

    @Test("a rewritable file is overwritten from the start and cut after the new bytes")
    func rewritable() throws {
        let path = try makeTemporaryDirectory() + "/state"
        do {
            let file = try RewritableFile(openingOrCreating: path, mode: 0o600)
            #expect(try file.readAll() == [])
            try file.overwrite(with: Array("a longer first state".utf8))
            try file.overwrite(with: Array("short".utf8))
        }
        #expect(try readWholeFile(path) == Array("short".utf8))
        #expect(try FileStatus.of(path).permissions == 0o600)
        #expect(try RewritableFile(openingOrCreating: path).readAll() == Array("short".utf8))
    }

    @Test("a file removal says whether something went; a directory goes only when empty")
    func removal() throws {
        let directory = try makeTemporaryDirectory()
        try AtomicFileWriter(durable: false).write([1], to: directory + "/file", mode: 0o644)
        #expect(try FileStatus.of(directory + "/file").permissions == 0o644)
        #expect(try DirectoryListing.names(in: directory) == ["file"])
        #expect(!FileRemoval.removeEmptyDirectory(directory))
        #expect(FileRemoval.removeFile(directory + "/file"))
        #expect(!FileRemoval.removeFile(directory + "/file"))
        #expect(FileRemoval.removeEmptyDirectory(directory))
    }

    @Test("errno names and messages")
    func errno() {
        #expect(Errno.noSuchFileOrDirectory == ENOENT)
        #expect(Errno.message(for: Errno.noSuchFileOrDirectory) == "No such file or directory")
        #expect(Errno.message(for: Errno.notConnected) == "Transport endpoint is not connected")
    }
}
