import SmbvolSystem

/// Which local processes hold a run's images open — the kernel's half of "is this host's handle
/// a leftover?". `/proc` is scanned at most once per run, and only when a handle from one of
/// this host's addresses asks: a start with no such handle costs nothing.
public final class LocalImageOpeners {
    /// Why the local processes could not be told (so nothing of this host's may be closed).
    public struct Unknown: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    private let finder: any LocalOpenFileFinding
    private var imagePaths: [String]
    private var identities: [String: Result<FileIdentity, Unknown>] = [:]
    private var scanned: Result<LocalOpenersReport, Unknown>?
    /// Scans made so far (tests and the bench count them).
    public private(set) var scans = 0

    /// `imagePaths`: the local paths of every image the run may ask about, identified together
    /// so one scan answers for all of them.
    public init(finder: any LocalOpenFileFinding = ProcOpenFileScanner(), imagePaths: [String] = []) {
        self.finder = finder
        self.imagePaths = imagePaths
    }

    /// Adds images the next scan identifies too.
    public func register(imagePaths paths: [String]) {
        for path in paths where !imagePaths.contains(path) {
            imagePaths.append(path)
            scanned = nil
        }
    }

    /// The local processes that have the image at `path` open (any spelling, symlink or hard
    /// link of it). `nil` path: the image has no local path here, so its openers cannot be told.
    public func openers(ofImageAt path: String?) -> Result<[LocalFileOpener], Unknown> {
        guard let path else {
            return .failure(Unknown(reason: "the image's share is not mounted on this host, so its local openers cannot be seen"))
        }
        register(imagePaths: [path])
        let identity: FileIdentity
        switch self.identity(of: path) {
        case .failure(let unknown): return .failure(unknown)
        case .success(let found): identity = found
        }
        let report: LocalOpenersReport
        switch scan() {
        case .failure(let unknown): return .failure(unknown)
        case .success(let found): report = found
        }
        let openers = report.openers[identity] ?? []
        if openers.isEmpty && report.unreadableProcesses > 0 {
            return .failure(
                Unknown(reason: "the open files of \(report.unreadableProcesses) local process(es) could not be read (run as root)"))
        }
        return .success(openers)
    }

    private func identity(of path: String) -> Result<FileIdentity, Unknown> {
        if let known = identities[path] { return known }
        let result: Result<FileIdentity, Unknown>
        do {
            if let identity = try finder.identity(ofFileAt: path) {
                result = .success(identity)
            } else {
                result = .failure(Unknown(reason: "\(path) does not exist on this host's mount, so its local openers cannot be seen"))
            }
        } catch {
            result = .failure(Unknown(reason: "cannot identify \(path) on this host: \(error)"))
        }
        identities[path] = result
        return result
    }

    private func scan() -> Result<LocalOpenersReport, Unknown> {
        if let scanned { return scanned }
        let files = Set(imagePaths.compactMap { try? identity(of: $0).get() })
        let result: Result<LocalOpenersReport, Unknown>
        do {
            scans += 1
            result = .success(try finder.openers(of: files))
        } catch {
            result = .failure(Unknown(reason: "cannot read this host's open files: \(error)"))
        }
        scanned = result
        return result
    }
}
