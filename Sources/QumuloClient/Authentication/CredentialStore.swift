import FoundationEssentials
import SmbvolSystem

/// The official `qq` CLI's credential store, read and written in its place and format so either
/// tool reuses the other's login: `$XDG_CONFIG_HOME/qumulo/credentials/<host>_<port>` (only if
/// XDG_CONFIG_HOME is absolute, else `~/.config`), falling back to `~/.qfsd_cred` when no store
/// was named explicitly. Content: `{"bearer_token": "…", "version": 1}`; an empty file means no
/// credentials; any other version is an error. Written 0600 in a 0700 directory, atomically.
public struct CredentialStore: Sendable, Equatable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case malformed(path: String, reason: String)
        case unsupportedVersion(path: String, version: Int?)
        case noHomeDirectory

        public var description: String {
            switch self {
            case .unreadable(let path, let reason):
                return "cannot read credential store \(path): \(reason)"
            case .malformed(let path, let reason):
                return "credential store \(path) is not valid (\(reason)); remove it and run `smbvol login`"
            case .unsupportedVersion(let path, let version):
                return "credential store \(path) has version \(version.map(String.init) ?? "none"), expected 1; remove it and run `smbvol login`"
            case .noHomeDirectory:
                return "cannot find a home directory for the credential store; set credentials_store or --credentials-store"
            }
        }
    }

    /// The file read and written.
    public let path: String
    /// Where to look when `path` holds nothing (qq's legacy `~/.qfsd_cred`); `nil` when the
    /// store was named explicitly.
    public let legacyPath: String?

    public init(path: String, legacyPath: String? = nil) {
        self.path = path
        self.legacyPath = legacyPath
    }

    /// qq's default store for `host:port`, resolved from the given environment (HOME, then the
    /// password database; XDG_CONFIG_HOME only when absolute).
    public static func defaultStore(host: String, port: Int, environment: [String: String]) throws(Failure) -> CredentialStore {
        guard let home = homeDirectory(environment: environment) else { throw .noHomeDirectory }
        var configHome = home + "/.config"
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") { configHome = xdg }
        return CredentialStore(
            path: "\(configHome)/qumulo/credentials/\(host.lowercased())_\(port)",
            legacyPath: home + "/.qfsd_cred")
    }

    /// The stored bearer token, or `nil` when there is none.
    public func loadToken() throws(Failure) -> Secret? {
        if let token = try Self.readToken(at: path) { return token }
        if let legacyPath { return try Self.readToken(at: legacyPath) }
        return nil
    }

    /// Stores `token`, atomically, 0600, creating the directory 0700.
    public func save(token: Secret) throws {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) }.flatMap { $0.isEmpty ? "/" : $0 } ?? "."
        try SecureFiles.ensurePrivateDirectory(directory)
        let json = "{\"bearer_token\": \(JSONWriter.quoted(token.reveal())), \"version\": 1}\n"
        try AtomicFileWriter().write(Array(json.utf8), to: path, mode: 0o600)
    }

    private static func readToken(at path: String) throws(Failure) -> Secret? {
        let bytes: [UInt8]
        do {
            bytes = try readWholeFile(path)
        } catch let error as SystemCallError where error.code == Errno.noSuchFileOrDirectory {
            return nil
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return nil }
        struct OnDisk: Decodable {
            var version: Int?
            var bearer_token: String?
        }
        let onDisk: OnDisk
        do {
            onDisk = try JSONDecoder().decode(OnDisk.self, from: Data(bytes))
        } catch {
            throw .malformed(path: path, reason: "not a JSON object with bearer_token and version")
        }
        guard onDisk.version == 1 else { throw .unsupportedVersion(path: path, version: onDisk.version) }
        guard let token = onDisk.bearer_token, !token.isEmpty else {
            throw .malformed(path: path, reason: "no bearer_token")
        }
        return Secret(token)
    }

    private static func homeDirectory(environment: [String: String]) -> String? {
        if let home = environment["HOME"], !home.isEmpty, home != "~" { return home }
        return UserAccounts.effectiveUserHomeDirectory()
    }
}
