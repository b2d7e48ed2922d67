#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file as the kernel knows it: the device and inode of the file itself, so every spelling of
/// a path, a symlink to it and a hard link of it are the same `FileIdentity`.
public struct FileIdentity: Hashable, Sendable, CustomStringConvertible {
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    public var inode: UInt64

    public init(deviceMajor: UInt32, deviceMinor: UInt32, inode: UInt64) {
        self.deviceMajor = deviceMajor
        self.deviceMinor = deviceMinor
        self.inode = inode
    }

    public var description: String { "dev \(deviceMajor):\(deviceMinor) inode \(inode)" }
}

/// A local process that has a file open: what an operator needs to find it.
public struct LocalFileOpener: Sendable, Equatable, CustomStringConvertible {
    public var pid: Int32
    /// The program (`/proc/PID/comm`, e.g. `qemu-system-x86`).
    public var command: String
    /// For a qemu, the guest's name (`-name guest=NAME,…` on its command line).
    public var guestName: String?

    public init(pid: Int32, command: String, guestName: String? = nil) {
        self.pid = pid
        self.command = command
        self.guestName = guestName
    }

    public var description: String {
        "pid \(pid) (\(command)\(guestName.map { ", guest \($0)" } ?? ""))"
    }
}

/// The kernel's answer to "which local processes hold these files open?".
public struct LocalOpenersReport: Sendable, Equatable {
    public var openers: [FileIdentity: [LocalFileOpener]]
    /// Processes whose open files could not be read (not root, hidepid): a holder may hide
    /// among them. Empty when every process was seen.
    public var unreadableProcesses: Int

    public init(openers: [FileIdentity: [LocalFileOpener]] = [:], unreadableProcesses: Int = 0) {
        self.openers = openers
        self.unreadableProcesses = unreadableProcesses
    }
}

/// The edge between smbvol and the kernel's table of open files.
public protocol LocalOpenFileFinding: Sendable {
    /// The identity of the file at `path` (symlinks followed); nil when nothing is there.
    func identity(ofFileAt path: String) throws -> FileIdentity?
    /// Every local process that has one of `files` open, by descriptor.
    func openers(of files: Set<FileIdentity>) throws -> LocalOpenersReport
}

/// Reads `/proc/PID/fd` of every process. Each descriptor is identified with `statx` and
/// `AT_STATX_DONT_SYNC`: device and inode come from the kernel's inode, never from the SMB server,
/// so a descriptor on a hung mount costs nothing and cannot block the scan.
public struct ProcOpenFileScanner: LocalOpenFileFinding {
    public var procRoot: String

    public init(procRoot: String = "/proc") { self.procRoot = procRoot }

    public func identity(ofFileAt path: String) throws -> FileIdentity? {
        do {
            return try Self.statIdentity(directory: AT_FDCWD, path: path, dontSync: false)
        } catch let error as SystemCallError where error.code == ENOENT {
            return nil
        }
    }

    public func openers(of files: Set<FileIdentity>) throws -> LocalOpenersReport {
        var report = LocalOpenersReport()
        guard !files.isEmpty else { return report }
        let ownPID = getpid()
        // A network file system's device number is per mount (per superblock), not per share:
        // the same share mounted twice (another mount point, other options or credentials,
        // `nosharesock`, a connection-info mount, another mount namespace) gives one file two
        // devices and one inode (the server's file id, `serverino`). A descriptor on an anonymous
        // device with a wanted file's inode is that file when its mount is an SMB mount.
        let networkFilesByInode = Dictionary(grouping: files.filter { $0.deviceMajor == 0 }, by: \.inode)
        // One buffer for every statx of the scan: a busy host has tens of thousands of
        // descriptors, and the scan must stay in the tens of milliseconds.
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 8)
        defer { buffer.deallocate() }
        for name in try DirectoryListing.names(in: procRoot) {
            guard let pid = Int32(name), pid > 0, pid != ownPID else { continue }
            let descriptor = open("\(procRoot)/\(name)/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard descriptor >= 0 else {
                // A process that ended meanwhile is no holder; one we may not look at may be.
                if errno != ENOENT && errno != ESRCH { report.unreadableProcesses += 1 }
                continue
            }
            let scanned = Self.scan(descriptor, for: files, networkFilesByInode: networkFilesByInode, buffer: buffer)
            var holds = scanned.holds
            var unreadable = scanned.unreadable
            if !scanned.otherMounts.isEmpty {
                if let devices = smbDevices(of: name) {
                    for (identity, wanted) in scanned.otherMounts where devices.contains("\(identity.deviceMajor):\(identity.deviceMinor)") {
                        holds.formUnion(wanted)
                    }
                } else {
                    unreadable = true
                }
            }
            if holds.isEmpty {
                if unreadable { report.unreadableProcesses += 1 }
                continue
            }
            let opener = describe(pid: pid, name: name)
            for identity in holds { report.openers[identity, default: []].append(opener) }
        }
        return report
    }

    /// One process's `/proc/PID/fd` (which this closes): the wanted files it holds, its
    /// descriptors on another mount with a wanted inode, and whether any descriptor could not be
    /// identified (a holder may hide there: never "no holder"). A descriptor closed meanwhile is
    /// no holder. Entries are identified without making Strings of their names.
    private static func scan(
        _ descriptor: Int32, for files: Set<FileIdentity>, networkFilesByInode: [UInt64: [FileIdentity]], buffer: UnsafeMutableRawPointer
    ) -> (holds: Set<FileIdentity>, otherMounts: [FileIdentity: [FileIdentity]], unreadable: Bool) {
        guard let stream = fdopendir(descriptor) else {
            let vanished = errno == ENOENT || errno == ESRCH
            close(descriptor)
            return ([], [:], !vanished)
        }
        defer { closedir(stream) }
        var holds = Set<FileIdentity>()
        var otherMounts: [FileIdentity: [FileIdentity]] = [:]
        var unreadable = false
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 && errno != ENOENT && errno != ESRCH { unreadable = true }
                break
            }
            let result: Result<FileIdentity, SystemCallError>? = withUnsafePointer(to: entry.pointee.d_name) { raw in
                raw.withMemoryRebound(to: CChar.self, capacity: 256) { name in
                    guard name[0] != 0x2E else { return nil }  // "." and ".."
                    do {
                        return .success(try statIdentity(directory: descriptor, path: name, dontSync: true, buffer: buffer))
                    } catch let error as SystemCallError {
                        return .failure(error)
                    } catch {
                        return .failure(SystemCallError(call: "statx", code: EIO))
                    }
                }
            }
            switch result {
            case nil: continue
            case .failure(let error):
                if error.code != ENOENT && error.code != ESRCH { unreadable = true }
            case .success(let identity):
                if files.contains(identity) {
                    holds.insert(identity)
                } else if identity.deviceMajor == 0, let sameInode = networkFilesByInode[identity.inode] {
                    otherMounts[identity] = sameInode
                }
            }
        }
        return (holds, otherMounts, unreadable)
    }

    /// The devices (`major:minor`) of the SMB mounts the process sees (its own mount namespace's
    /// `/proc/PID/mountinfo`); nil when that cannot be read.
    private func smbDevices(of name: String) -> Set<String>? {
        guard let bytes = try? FileDescriptorIO.readFile(path: "\(procRoot)/\(name)/mountinfo", limit: 16 << 20) else { return nil }
        var devices = Set<String>()
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
            guard fields.count > 2, let separator = fields.firstIndex(of: "-"), separator + 1 < fields.count else { continue }
            if Self.smbFileSystemTypes.contains(fields[separator + 1]) { devices.insert(fields[2]) }
        }
        return devices
    }

    static let smbFileSystemTypes: Set<String> = ["cifs", "smb3", "smb2", "smbfs"]

    private func describe(pid: Int32, name: String) -> LocalFileOpener {
        let comm = (try? FileDescriptorIO.readFile(path: "\(procRoot)/\(name)/comm", limit: 256)).map {
            String(decoding: $0, as: UTF8.self).trimmingSuffix("\n")
        }
        let arguments = ((try? FileDescriptorIO.readFile(path: "\(procRoot)/\(name)/cmdline", limit: 1 << 16)) ?? [])
            .split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        return LocalFileOpener(pid: pid, command: comm ?? "?", guestName: Self.qemuGuestName(arguments: arguments))
    }

    /// `-name guest=web01,debug-threads=on` (libvirt) or `-name web01`: the guest's name.
    /// A `,,` in the value is qemu's escaped comma.
    public static func qemuGuestName(arguments: [String]) -> String? {
        guard let index = arguments.firstIndex(of: "-name"), index + 1 < arguments.count else { return nil }
        let value = arguments[index + 1]
        var options: [String] = []
        var current = ""
        var iterator = Array(value).makeIterator()
        while let character = iterator.next() {
            if character == "," {
                if let next = iterator.next() {
                    if next == "," { current.append(","); continue }
                    options.append(current)
                    current = String(next)
                    continue
                }
                options.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        options.append(current)
        for option in options where option.hasPrefix("guest=") { return String(option.dropFirst("guest=".count)) }
        guard let first = options.first, !first.contains("=") else { return nil }
        return first
    }

    // statx is not in Swift's Glibc module: looked up in libc (glibc ≥ 2.28), which the program
    // links anyway. The struct is the kernel's stable 256-byte layout.
    private typealias Statx = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UInt32, UnsafeMutableRawPointer) -> Int32
    private static let statxFunction: Statx? = try? DynamicLibrary.runningProgram?.symbol(named: "statx", as: Statx.self)
    private static let statxDontSync: Int32 = 0x4000  // AT_STATX_DONT_SYNC
    private static let statxInode: UInt32 = 0x100  // STATX_INO

    static func statIdentity(directory: Int32, path: String, dontSync: Bool) throws -> FileIdentity {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 8)
        defer { buffer.deallocate() }
        return try path.withCString { try statIdentity(directory: directory, path: $0, dontSync: dontSync, buffer: buffer) }
    }

    /// `buffer`: 256 bytes, the size of the kernel's `struct statx`.
    static func statIdentity(directory: Int32, path: UnsafePointer<CChar>, dontSync: Bool, buffer: UnsafeMutableRawPointer) throws -> FileIdentity {
        if let statx = statxFunction {
            try retryingSystemCall("statx") { statx(directory, path, dontSync ? statxDontSync : 0, statxInode, buffer) }
            return FileIdentity(
                deviceMajor: buffer.load(fromByteOffset: 136, as: UInt32.self),
                deviceMinor: buffer.load(fromByteOffset: 140, as: UInt32.self),
                inode: buffer.load(fromByteOffset: 32, as: UInt64.self))
        }
        var status = stat()
        try retryingSystemCall("stat") { fstatat(directory, path, &status, 0) }
        let device = UInt64(status.st_dev)
        // glibc's gnu_dev_major/minor encoding.
        let major = UInt32(((device >> 32) & 0xFFFF_F000) | ((device >> 8) & 0xFFF))
        let minor = UInt32(((device >> 12) & 0xFFFF_FF00) | (device & 0xFF))
        return FileIdentity(deviceMajor: major, deviceMinor: minor, inode: UInt64(status.st_ino))
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
