import Foundation
import SmbvolSystem
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A pipe whose ends close when the test is done with them (each end at most once).
private final class TestPipe {
    var readEnd: Int32
    var writeEnd: Int32

    init() throws {
        var ends: [Int32] = [-1, -1]
        try retryingSystemCall("pipe") { pipe(&ends) }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    func closeWriteEnd() {
        if writeEnd >= 0 { close(writeEnd) }
        writeEnd = -1
    }

    deinit {
        if readEnd >= 0 { close(readEnd) }
        closeWriteEnd()
    }
}

/// Runs `body` on its own thread (a blocking read or write must not sit on the test's
/// cooperative pool) and returns what it returned once it finished.
private func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> () -> T {
    let finished = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: T?
    let thread = Thread {
        result = body()
        finished.signal()
    }
    thread.start()
    return {
        finished.wait()
        guard let result else { fatalError("the thread ended without a result") }
        return result
    }
}

@Suite("FileDescriptorIO, DirectoryListing and DynamicLibrary")
struct FileDescriptorIOTests {
    @Test("readAll collects a pipe written in several chunks until the writer closes it")
    func readAllChunks() throws {
        let pipe = try TestPipe()
        let writeEnd = pipe.writeEnd
        let chunks = ["first,", "second,", String(repeating: "x", count: 100_000), ",last"]
        // The writer closes its end when done, so the reader sees end of file.
        pipe.writeEnd = -1
        let writer = onThread { () -> Bool in
            defer { close(writeEnd) }
            for chunk in chunks {
                guard (try? FileDescriptorIO.writeAll(writeEnd, Array(chunk.utf8))) != nil else { return false }
                usleep(20_000)  // the reader sees the chunks arrive one by one
            }
            return true
        }
        let bytes = try FileDescriptorIO.readAll(pipe.readEnd, limit: 1 << 20)
        #expect(writer())
        #expect(String(decoding: bytes, as: UTF8.self) == chunks.joined())
    }

    @Test("readAll accepts exactly the limit and refuses one byte more with InputLimitExceeded")
    func readAllLimit() throws {
        let exact = try TestPipe()
        try FileDescriptorIO.writeAll(exact.writeEnd, [UInt8](repeating: 0x41, count: 100))
        exact.closeWriteEnd()
        #expect(try FileDescriptorIO.readAll(exact.readEnd, limit: 100).count == 100)

        let over = try TestPipe()
        try FileDescriptorIO.writeAll(over.writeEnd, [UInt8](repeating: 0x41, count: 101))
        over.closeWriteEnd()
        #expect(throws: InputLimitExceeded(path: "the pipe", limit: 100, unit: .bytes)) {
            try FileDescriptorIO.readAll(over.readEnd, limit: 100, path: "the pipe")
        }
    }

    @Test("readFile stops an endless input at its limit and names the file")
    func readFileEndless() throws {
        do {
            _ = try FileDescriptorIO.readFile(path: "/dev/zero", limit: 300_000)
            Issue.record("reading /dev/zero ended")
        } catch let error as InputLimitExceeded {
            #expect(error == InputLimitExceeded(path: "/dev/zero", limit: 300_000, unit: .bytes))
            #expect(error.description == "/dev/zero holds more than 300000 bytes")
        }
    }

    @Test("readFile of a missing file is an open error naming the path and errno")
    func readFileMissing() throws {
        let path = try makeTemporaryDirectory() + "/no such file"
        do {
            _ = try FileDescriptorIO.readFile(path: path, limit: 10)
            Issue.record("a missing file was read")
        } catch let error as SystemCallError {
            #expect(error == SystemCallError(call: "open", path: path, code: ENOENT))
            #expect(error.description == "open \(path) failed: no such file or directory (errno 2)")
        }
    }

    @Test("readFile returns a file's whole content; readWholeFile reads /proc files sized 0")
    func readFileContent() throws {
        let path = try makeTemporaryDirectory() + "/data"
        let content = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try AtomicFileWriter().write(content, to: path)
        #expect(try FileDescriptorIO.readFile(path: path, limit: content.count) == content)
        let status = String(decoding: try readWholeFile("/proc/self/status"), as: UTF8.self)
        #expect(status.hasPrefix("Name:"))
    }

    @Test("writeAll delivers a large buffer through a non-blocking pipe: short writes and EAGAIN waited out")
    func writeAllLarge() throws {
        let pipe = try TestPipe()
        // Non-blocking, a 64 KiB pipe takes a few KiB per write(2) while the reader lags: every
        // call but the last is short or fails with EAGAIN, which writeAll must wait out.
        _ = fcntl(pipe.writeEnd, F_SETFL, fcntl(pipe.writeEnd, F_GETFL) | O_NONBLOCK)
        let readEnd = pipe.readEnd
        let reader = onThread { () -> [UInt8]? in
            var received: [UInt8] = []
            while true {
                guard let chunk = try? FileDescriptorIO.readSome(readEnd, maximumCount: 3000) else { return nil }
                if chunk.isEmpty { return received }
                received += chunk
                if received.count % 300_000 < 3000 { usleep(2000) }
            }
        }
        let payload = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 ^ ($0 >> 9)) }
        try FileDescriptorIO.writeAll(pipe.writeEnd, payload)
        pipe.closeWriteEnd()
        let received = try #require(reader())
        #expect(received.count == payload.count)
        #expect(received == payload)
    }

    @Test("writeAll at an offset uses pwrite and leaves the file position alone")
    func writeAllAtOffset() throws {
        let path = try makeTemporaryDirectory() + "/state"
        let descriptor = try retryingSystemCall("open", path: path) { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        defer { close(descriptor) }
        try FileDescriptorIO.writeAll(descriptor, Array("hello world".utf8), path: path)
        try FileDescriptorIO.writeAll(descriptor, Array("WORLD".utf8), atOffset: 6, path: path)
        try FileDescriptorIO.writeAll(descriptor, Array("!".utf8), path: path)
        #expect(String(decoding: try readWholeFile(path), as: UTF8.self) == "hello WORLD!")
    }

    @Test("a write to a closed pipe is an error naming the call and EPIPE")
    func writeAllBrokenPipe() throws {
        let pipe = try TestPipe()
        close(pipe.readEnd)
        pipe.readEnd = -1
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        #expect(throws: SystemCallError(call: "write", path: "out", code: EPIPE)) {
            try FileDescriptorIO.writeAll(pipe.writeEnd, [1, 2, 3], path: "out")
        }
    }

    @Test("directory listing: every name but . and .., the limit, and errors naming the directory")
    func directoryListing() throws {
        let directory = try makeTemporaryDirectory()
        let names = ["a.toml", ".hidden", "with space", "ünïcode"]
        for name in names { try AtomicFileWriter().write([], to: directory + "/" + name) }
        try SecureFiles.ensureDirectory(directory + "/sub")
        #expect(try DirectoryListing.names(in: directory).sorted() == (names + ["sub"]).sorted())
        #expect(try listDirectory(directory).sorted() == (names + ["sub"]).sorted())
        #expect(try DirectoryListing.names(in: directory + "/sub").isEmpty)
        #expect(throws: InputLimitExceeded(path: directory, limit: 4, unit: .entries)) {
            try DirectoryListing.names(in: directory, limit: 4)
        }
        #expect(try DirectoryListing.names(in: directory, limit: 5).count == 5)

        let descriptor = try retryingSystemCall("open", path: directory) { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        #expect(try DirectoryListing.names(ofOpenDirectory: descriptor, path: "shown").sorted() == (names + ["sub"]).sorted())

        #expect(throws: SystemCallError(call: "opendir", path: directory + "/missing", code: ENOENT)) {
            try DirectoryListing.names(in: directory + "/missing")
        }
        #expect(throws: SystemCallError(call: "opendir", path: directory + "/a.toml", code: ENOTDIR)) {
            try DirectoryListing.names(in: directory + "/a.toml")
        }
    }

    @Test("DynamicLibrary: a missing library and a missing symbol are errors naming them")
    func dynamicLibraryFailures() throws {
        do {
            _ = try DynamicLibrary(name: "libsmbvol-no-such-library.so.7")
            Issue.record("a missing library loaded")
        } catch {
            guard case .cannotLoad(let library, let reason) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(library == "libsmbvol-no-such-library.so.7")
            #expect(reason.contains("libsmbvol-no-such-library.so.7"))
            #expect(error.description.hasPrefix("cannot load libsmbvol-no-such-library.so.7: "))
        }
        let libc = try DynamicLibrary(name: "libc.so.6")
        do {
            _ = try libc.address(of: "smbvol_no_such_function")
            Issue.record("a missing symbol was found")
        } catch {
            #expect(error == .missingSymbol(library: "libc.so.6", symbol: "smbvol_no_such_function"))
            #expect(error.description == "libc.so.6 lacks smbvol_no_such_function")
        }
    }

    @Test("DynamicLibrary loads libc's getpid and the running program's memfd_create as typed functions")
    func dynamicLibraryCalls() throws {
        typealias GetPID = @convention(c) () -> pid_t
        let libc = try DynamicLibrary(name: "libc.so.6")
        #expect(libc.name == "libc.so.6")
        let loadedGetpid = try libc.symbol(named: "getpid", as: GetPID.self)
        #expect(loadedGetpid() == getpid())

        // What JournalDestination does: memfd_create, which Swift's Glibc module lacks.
        typealias MemfdCreate = @convention(c) (UnsafePointer<CChar>, UInt32) -> Int32
        let program = try #require(DynamicLibrary.runningProgram)
        let memfdCreate: MemfdCreate = try program.symbol(named: "memfd_create")
        let memfd = memfdCreate("smbvol-test", 0x1)
        #expect(memfd >= 0)
        if memfd >= 0 { close(memfd) }
    }
}
