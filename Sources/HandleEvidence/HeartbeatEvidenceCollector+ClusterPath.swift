import DiskImages
import HostHeartbeat
import LockHygiene
import QumuloClient
import SmbvolShares

extension HeartbeatEvidenceCollector {
    /// For commands that start from a cluster path (`handles close --path P --stale-only`): the
    /// configured share holding it, as this host sees it (mount point or `local_path`), and the
    /// file's path below the share root. Nil when no configured share's root contains it.
    public static func shareLocation(
        ofClusterPath clusterPath: String, shares: ShareCatalog, stateDirectory: String, client: QumuloClient
    ) -> (directory: String, relativePath: String)? {
        let roots = ShareRootResolver(stateDirectory: stateDirectory)
        var best: (directory: String, relativePath: String, rootLength: Int)?
        for share in shares.shares {
            guard let root = try? roots.root(of: share, client: client),
                let relative = DiskImageLocator.relative(clusterPath, under: root == "/" ? "" : root)
            else { continue }
            // The longest root wins (a share exported inside another's directory).
            if best == nil || root.count > (best?.rootLength ?? 0) { best = (share.usablePath, relative, root.count) }
        }
        return best.map { ($0.directory, $0.relativePath) }
    }
}
