import QumuloClient
import SmbvolConfig

/// The cluster path of a configured share's root: its `fs_path`, else discovered from
/// `/v3/smb/shares/` by the share name in its export, plus the export's subdirectory.
enum ShareClusterPath {
    struct NotFound: Error, CustomStringConvertible {
        var share: String
        var shareName: String
        var description: String {
            "share \"\(share)\": the cluster has no SMB share named \"\(shareName)\"; set fs_path in its [share] table"
        }
    }

    static func root(of share: ShareConfiguration, client: QumuloClient) throws -> String {
        if let fsPath = share.fsPath { return fsPath }
        let parts = share.export.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard parts.count >= 2 else { throw NotFound(share: share.name, shareName: share.export) }
        let shareName = parts[1]
        guard let found = try client.smbShares().first(where: { $0.shareName.lowercased() == shareName.lowercased() }) else {
            throw NotFound(share: share.name, shareName: shareName)
        }
        let subdirectory = parts.dropFirst(2).joined(separator: "/")
        let base = found.fsPath.hasSuffix("/") ? String(found.fsPath.dropLast()) : found.fsPath
        return subdirectory.isEmpty ? (base.isEmpty ? "/" : base) : base + "/" + subdirectory
    }
}
