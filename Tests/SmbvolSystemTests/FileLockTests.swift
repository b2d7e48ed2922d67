import Testing
import SmbvolSystem

#if canImport(Glibc)
import Glibc
#endif

func makeTemporaryDirectory() throws -> String {
    var template = Array("/tmp/smbvol-test-XXXXXX".utf8CString)
    let created = template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
        return String(cString: result)
    }
    guard let created else { throw SystemCallError.current("mkdtemp") }
    return created
}

@Suite("FileLock, AtomicFileWriter and SecureFiles")
struct FileLockTests {
    @Test("a second holder waits, then times out with a message naming the file")
    func boundedWait() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory + "/x.lock"
        let first = try FileLock.acquire(path: path, timeout: .seconds(1))
        #expect(throws: FileLockError.self) {
            try FileLock.acquire(path: path, timeout: .milliseconds(100))
        }
        do {
            _ = try FileLock.acquire(path: path, timeout: .milliseconds(50))
        } catch let error as FileLockError {
            #expect(error.description.contains(path))
        }
        first.release()
        let second = try FileLock.acquire(path: path, timeout: .milliseconds(100))
        second.release()
    }

    @Test("atomic write replaces the content with the given mode and leaves no temporary file")
    func atomicWrite() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory + "/state.json"
        try AtomicFileWriter().write(Array("one".utf8), to: path, mode: 0o600)
        try AtomicFileWriter().write(Array("two".utf8), to: path, mode: 0o640)
        #expect(String(decoding: try readWholeFile(path), as: UTF8.self) == "two")
        var info = stat()
        stat(path, &info)
        #expect(info.st_mode & 0o777 == 0o640)
        let outcome = try PosixProcessRunner().run(
            ProcessRequest(executable: "/bin/ls", arguments: ["-A", directory]), deadline: .none)
        #expect(outcome.standardOutput == "state.json\n")
    }

    @Test("private directories are 0700 and secrets files readable by others are refused with the fix")
    func secureFiles() throws {
        let directory = try makeTemporaryDirectory()
        let private_ = directory + "/a/b/private"
        try SecureFiles.ensurePrivateDirectory(private_)
        var info = stat()
        stat(private_, &info)
        #expect(info.st_mode & 0o777 == 0o700)
        let secret = directory + "/cred"
        try AtomicFileWriter().write(Array("password=x\n".utf8), to: secret, mode: 0o644)
        #expect(throws: SecureFileError.readableByOthers(path: secret, mode: S_IFREG | 0o644)) {
            try SecureFiles.verifySecretFile(secret)
        }
        chmod(secret, 0o600)
        try SecureFiles.verifySecretFile(secret)
    }
}
