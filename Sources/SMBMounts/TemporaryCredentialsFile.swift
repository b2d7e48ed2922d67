import SmbvolShares
import SmbvolSystem

/// A mount.cifs credentials file (`username=…`, `password=…`, `domain=…`) for secrets that came
/// with connection info: created O_EXCL|O_NOFOLLOW with mode 0600 in a 0700 directory, removed
/// as soon as the mount program has finished.
public final class TemporaryCredentialsFile {
    public let path: String
    private var removed = false

    public init(directory: String, username: String?, password: String?, domain: String?) throws {
        try SecureFiles.ensurePrivateDirectory(directory)
        Self.removeAbandoned(in: directory)
        let path = directory + "/mount-\(RandomIdentifier.hex(count: 16)).cred"
        var lines: [String] = []
        for (key, value) in [("username", username), ("password", password), ("domain", domain)] {
            guard let value else { continue }
            if value.contains(where: \.isNewline) {
                throw MountConfigurationError.invalidConnectionInfo("the \(key) contains a newline")
            }
            lines.append("\(key)=\(value)")
        }
        try SecureFiles.createExclusiveFile(path, bytes: Array((lines.joined(separator: "\n") + "\n").utf8), mode: 0o600)
        self.path = path
    }

    /// Files a killed smbvol left behind: no mount takes longer than this, so they are unused.
    static func removeAbandoned(in directory: String, olderThanSeconds: Int = 900) {
        let cutoff = Int(SystemClock().wallClockSeconds().rounded(.down)) - olderThanSeconds
        for name in (try? listDirectory(directory)) ?? [] where name.hasPrefix("mount-") && name.hasSuffix(".cred") {
            let path = directory + "/" + name
            if let status = try? FileStatus.ofLink(path), status.modifiedSeconds < cutoff { FileRemoval.removeFile(path) }
        }
    }

    public func remove() {
        guard !removed else { return }
        removed = true
        FileRemoval.removeFile(path)
    }

    deinit { remove() }
}
