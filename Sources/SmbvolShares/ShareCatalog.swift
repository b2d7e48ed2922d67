import SmbvolConfig

/// Every configured share, resolved once when the configuration is loaded: exports parsed,
/// mount points derived, distinct directories checked. The hook and every command look shares
/// up here; nothing rebuilds a `Share` from a `[share.NAME]` table again.
public struct ShareCatalog: Sendable, Equatable {
    /// By name, sorted: the order every listing and lookup uses.
    public let shares: [Share]
    private let byName: [String: Int]

    public init(configuration: SmbvolConfiguration) throws {
        try self.init(
            shares: configuration.shares.values.sorted { $0.name < $1.name }.map {
                try Share(configuration: $0, mountBase: configuration.mountBase)
            })
    }

    /// Shares already resolved (tests, or connection info added for one run).
    public init(shares: [Share]) throws {
        try Share.requireDistinctDirectories(shares)
        var byName: [String: Int] = [:]
        for (index, share) in shares.enumerated() where byName[share.name] == nil { byName[share.name] = index }
        self.shares = shares
        self.byName = byName
    }

    public var names: [String] { shares.map(\.name) }

    public subscript(name: String) -> Share? { byName[name].map { shares[$0] } }

    /// The configured share `name`, or an error naming the configured ones.
    public func share(named name: String) throws -> Share {
        guard let share = self[name] else { throw MountConfigurationError.unknownShare(name: name, known: names) }
        return share
    }

    /// The share whose directory (mount point or `local_path`) is `directory`, compared as
    /// written and canonically (a connection-info share counted with a configured one).
    public func share(atDirectory directory: String, canonical: (String) -> String) -> Share? {
        let wanted = canonical(directory)
        return shares.first { canonical($0.usablePath) == wanted }
    }
}
