import SmbvolUseCases
import SmbvolConfig
import SmbvolSystem

/// smbvol's state (`state_dir`) decides things: a migration mark turns a refusal into a start,
/// a share-root cache entry names the cluster file whose handles are closed, the attachment
/// records say which domains use which image. None of it may be writable by anyone but root.
public enum StateDirectoryTrust {
    /// Refuses the state directory when it, a subdirectory or a file smbvol reads there is owned
    /// by another user or writable by group or others. Throws `SecureFileError.untrusted`, whose
    /// text gives the one-line fix.
    public static func verify(_ configuration: SmbvolConfiguration) throws {
        let state = configuration.stateDirectory
        let migrations = state + "/migrations"
        var paths = [
            state, state + "/locks.json", state + "/locks.lock", state + "/share-roots.json", state + "/mounts", state + "/credentials",
            migrations,
        ]
        if let marks = try? DirectoryListing.names(in: migrations, limit: 100_000) {
            paths += marks.map { migrations + "/" + $0 }
        }
        for path in paths { try SecureFiles.verifyTrusted(path) }
    }
}
