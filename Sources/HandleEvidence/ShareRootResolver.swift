import FoundationEssentials
import QumuloClient
import SmbvolShares
import SmbvolSystem

/// A share's root as a cluster path: its configured `fs_path`, else discovered by share name
/// from `/v3/smb/shares/` (plus the export's subdirectory) and cached in the state directory so
/// the hook asks the cluster once per share, not once per start.
public struct ShareRootResolver: Sendable {
    public struct NotFound: Error, Sendable, CustomStringConvertible {
        public var share: String
        public var shareName: String
        public var description: String {
            "share \"\(share)\": the cluster has no SMB share named \"\(shareName)\"; set fs_path in its [share] table"
        }
    }

    /// More than one cluster share answers to the name (SMB names are case-insensitive, and
    /// unique per tenant only): which one holds the images cannot be guessed.
    public struct Ambiguous: Error, Sendable, CustomStringConvertible {
        public var share: String
        public var shareName: String
        public var candidates: [SMBShare]
        public var description: String {
            let listed = candidates.map { "\"\($0.shareName)\" (id \($0.id), tenant \($0.tenantId ?? "?"), fs_path \($0.fsPath))" }
            return "share \"\(share)\": \(candidates.count) SMB shares on the cluster match the name \"\(shareName)\": "
                + listed.joined(separator: ", ") + "; set fs_path in its [share] table to the right one"
        }
    }

    /// `<state_dir>/share-roots.json`: `{"<cluster>|<normalised export>": "<fs_path>"}`.
    public var cachePath: String?

    public init(stateDirectory: String?) {
        cachePath = stateDirectory.map { ($0.hasSuffix("/") ? String($0.dropLast()) : $0) + "/share-roots.json" }
    }

    /// The cluster path of the share's root directory (no trailing `/` except for `/` itself).
    public func root(of share: Share, client: QumuloClient) throws -> String {
        try root(name: share.name, export: try share.requiredExport(), cluster: share.cluster, fsPath: share.clusterRoot, client: client)
    }

    private func root(name: String, export: SMBExport, cluster: String?, fsPath: String?, client: QumuloClient) throws -> String {
        if let fsPath { return Self.trimmed(fsPath) }
        let key = "\(cluster ?? "")|\(export.normalised)"
        if let cached = readCache()[key] { return cached }
        let matches = try client.smbShares().filter { $0.shareName.lowercased() == export.share.lowercased() }
        guard let found = matches.first else { throw NotFound(share: name, shareName: export.share) }
        // Never the first of several: the wrong share's root would name another tenant's file
        // with the same relative path. Nothing is cached, so fixing fs_path takes effect.
        guard matches.count == 1 else { throw Ambiguous(share: name, shareName: export.share, candidates: matches) }
        let base = Self.trimmed(found.fsPath)
        let root = export.subdirectory.isEmpty ? base : (base == "/" ? "" : base) + "/" + export.subdirectory
        writeCache(key: key, root: root)
        return root
    }

    /// The cluster path of an image below a share root.
    public static func clusterPath(root: String, relativePath: String) -> String {
        (root == "/" ? "" : root) + "/" + relativePath
    }

    static func trimmed(_ path: String) -> String {
        var result = Substring(path)
        while result.count > 1 && result.hasSuffix("/") { result = result.dropLast() }
        return result.isEmpty ? "/" : String(result)
    }

    func readCache() -> [String: String] {
        guard let cachePath, let bytes = try? readWholeFile(cachePath),
            let cache = try? JSONDecoder().decode([String: String].self, from: Data(bytes))
        else { return [:] }
        return cache
    }

    /// A cache that cannot be written costs one request next time; it never fails the caller.
    func writeCache(key: String, root: String) {
        guard let cachePath else { return }
        var cache = readCache()
        cache[key] = root
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(cache) else { return }
        try? AtomicFileWriter().write(Array(data), to: cachePath, mode: 0o644)
    }
}
