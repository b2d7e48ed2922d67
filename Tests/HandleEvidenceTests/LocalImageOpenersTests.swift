import HandleEvidence
import SmbvolSystem
import Synchronization
import Testing

/// A kernel double: identities by path, openers by identity, and a count of scans.
final class KernelDouble: LocalOpenFileFinding, @unchecked Sendable {  // test-only; mutated from one test at a time
    var identities: [String: FileIdentity] = [:]
    var openers: [FileIdentity: [LocalFileOpener]] = [:]
    var unreadable = 0
    var failing = false
    let scans = Mutex(0)
    var scanned: [Set<FileIdentity>] = []

    func identity(ofFileAt path: String) throws -> FileIdentity? { identities[path] }

    func openers(of files: Set<FileIdentity>) throws -> LocalOpenersReport {
        scans.withLock { $0 += 1 }
        scanned.append(files)
        if failing { throw SystemCallError(call: "opendir", path: "/proc", code: 13) }
        return LocalOpenersReport(openers: openers.filter { files.contains($0.key) }, unreadableProcesses: unreadable)
    }
}

@Suite("LocalImageOpeners: one scan per run, and 'cannot tell' is never 'nobody'")
struct LocalImageOpenersTests {
    let vm1 = FileIdentity(deviceMajor: 0, deviceMinor: 50, inode: 11)
    let vm2 = FileIdentity(deviceMajor: 0, deviceMinor: 50, inode: 12)
    let qemu = LocalFileOpener(pid: 10, command: "qemu-system-x86", guestName: "web01")

    func kernel() -> KernelDouble {
        let kernel = KernelDouble()
        kernel.identities = ["/mnt/vms/vm1.qcow2": vm1, "/mnt/vms/vm2.qcow2": vm2]
        kernel.openers = [vm2: [qemu]]
        return kernel
    }

    @Test("every registered image is identified up front and answered from one scan")
    func oneScan() throws {
        let kernel = kernel()
        let openers = LocalImageOpeners(finder: kernel, imagePaths: ["/mnt/vms/vm1.qcow2", "/mnt/vms/vm2.qcow2"])
        #expect(try openers.openers(ofImageAt: "/mnt/vms/vm1.qcow2").get() == [])
        #expect(try openers.openers(ofImageAt: "/mnt/vms/vm2.qcow2").get() == [qemu])
        #expect(openers.scans == 1)
        #expect(kernel.scanned == [[vm1, vm2]])
    }

    @Test("nothing asked, nothing scanned")
    func lazy() {
        let kernel = kernel()
        _ = LocalImageOpeners(finder: kernel, imagePaths: ["/mnt/vms/vm1.qcow2"])
        #expect(kernel.scans.withLock { $0 } == 0)
    }

    @Test(
        "cannot tell: no local path, a file missing here, an unreadable process, a failed scan",
        arguments: ["no path", "missing", "unreadable", "failing"])
    func unknown(_ kind: String) {
        let kernel = kernel()
        if kind == "unreadable" { kernel.unreadable = 3 }
        if kind == "failing" { kernel.failing = true }
        let openers = LocalImageOpeners(finder: kernel)
        let path: String? =
            switch kind {
            case "no path": nil
            case "missing": "/mnt/vms/gone.qcow2"
            default: "/mnt/vms/vm1.qcow2"
            }
        guard case .failure(let unknown) = openers.openers(ofImageAt: path) else {
            Issue.record("\(kind): expected 'cannot tell'")
            return
        }
        #expect(!unknown.reason.isEmpty)
    }

    @Test("a process seen holding the image is reported even when others could not be read")
    func holderWinsOverUnreadable() throws {
        let kernel = kernel()
        kernel.unreadable = 2
        let openers = LocalImageOpeners(finder: kernel)
        #expect(try openers.openers(ofImageAt: "/mnt/vms/vm2.qcow2").get() == [qemu])
    }
}
