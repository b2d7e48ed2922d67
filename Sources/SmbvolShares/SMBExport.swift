/// An SMB export `//server/share[/subdirectory]`, as written in the configuration or in
/// connection info, with the comparison form the mount table is matched against.
public struct SMBExport: Sendable, Hashable, CustomStringConvertible {
    public let server: String
    public let share: String
    /// Path below the share, without leading or trailing `/` (empty for the share root).
    public let subdirectory: String

    /// Accepts `//server/share[/sub/dir]` (or with backslashes); trailing slashes are ignored.
    public init(parsing text: String) throws {
        guard let parts = Self.components(of: text), parts.count >= 2 else {
            throw MountConfigurationError.invalidExport(text)
        }
        // Per scalar: the single Character "\r\n" is neither "\r" nor "\n". mount.cifs writes the
        // export into the kernel's option string (unc=…, prefixpath=…): no separators there.
        guard MountOptionText.separatorProblem(in: text) == nil else { throw MountConfigurationError.invalidExport(text) }
        server = parts[0]
        share = parts[1]
        subdirectory = parts.dropFirst(2).joined(separator: "/")
    }

    /// What the mount program gets: `//server/share[/sub]`, case as written.
    public var commandForm: String {
        "//\(server)/\(share)" + (subdirectory.isEmpty ? "" : "/\(subdirectory)")
    }

    public var description: String { commandForm }

    /// Server and share lowercased (SMB names are case-insensitive), the subdirectory as written.
    public var normalised: String {
        "//\(server.lowercased())/\(share.lowercased())" + (subdirectory.isEmpty ? "" : "/\(subdirectory)")
    }

    /// Whether a mount-table source names this export (`\\`, trailing `/` and the case of the
    /// server and share do not matter).
    public func matches(mountSource source: String) -> Bool {
        guard let other = try? SMBExport(parsing: source) else { return false }
        return other.normalised == normalised
    }

    static func components(of text: String) -> [String]? {
        let slashed = text.replacingBackslashes()
        guard slashed.hasPrefix("//") else { return nil }
        let parts = slashed.dropFirst(2).split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        return parts.isEmpty ? nil : parts
    }
}

extension String {
    func replacingBackslashes() -> String { String(map { $0 == "\\" ? "/" : $0 }) }
}
