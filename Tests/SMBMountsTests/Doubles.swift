import SMBMounts
import SmbvolShares
import SmbvolSystem
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A mount table held in memory; the recording runner edits it like mount/umount would.
final class FakeMountTable: MountTableReading, Sendable {
    let lines = Mutex<[String]>([
        "22 1 0:21 / /proc rw,relatime - proc proc rw",
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw",
    ])

    func readMountInfo() throws -> String { lines.withLock { $0.joined(separator: "\n") + "\n" } }

    func add(source: String, at mountPoint: String, type: String = "cifs") {
        lines.withLock { $0.append("90 27 0:50 / \(mountPoint) rw,relatime - \(type) \(source) rw,vers=3.1.1") }
    }

    func remove(at mountPoint: String) {
        lines.withLock { lines in
            if let index = lines.lastIndex(where: { $0.split(separator: " ")[4] == mountPoint }) { lines.remove(at: index) }
        }
    }
}

/// Records every request; `respond` scripts the outcome (and side effects) per request.
final class RecordingRunner: ProcessRunning, Sendable {
    let requests = Mutex<[ProcessRequest]>([])
    let respond: @Sendable (ProcessRequest) -> ProcessOutcome

    init(respond: @escaping @Sendable (ProcessRequest) -> ProcessOutcome) { self.respond = respond }

    func run(_ request: ProcessRequest, deadline: Deadline) throws -> ProcessOutcome {
        requests.withLock { $0.append(request) }
        return respond(request)
    }

    var recorded: [ProcessRequest] { requests.withLock { $0 } }
}

final class FixedProbe: MountHealthProbing {
    let answers: Mutex<[MountHealth]>
    init(_ answers: [MountHealth]) { self.answers = Mutex(answers) }
    func health(of mountPoint: String) -> MountHealth {
        answers.withLock { $0.isEmpty ? .healthy : $0.removeFirst() }
    }
}

struct NoAccounts: AccountDatabase {
    func userID(named name: String) -> UInt32? { name == "libvirt-qemu" ? 64055 : nil }
    func groupID(named name: String) -> UInt32? { name == "kvm" ? 993 : nil }
}

func makeTemporaryDirectory() throws -> String {
    var template = Array("/tmp/smbvol-mounts-test-XXXXXX".utf8CString)
    let created = template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
        return String(cString: result)
    }
    guard let created else { throw SystemCallError.current("mkdtemp") }
    return created
}
