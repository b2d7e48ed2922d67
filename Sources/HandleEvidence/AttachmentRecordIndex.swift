import AttachmentLocks
import QumuloClient
import SmbvolConfig

/// Maps attachment records (local image paths) to cluster paths, for operator commands that
/// start from a cluster path (`handles close --path P --stale-only`).
public struct AttachmentRecordIndex {
    public var records: [AttachmentLock]

    public init(records: [AttachmentLock]) { self.records = records }

    /// Names of local domains whose recorded image is the file at `clusterPath`.
    public func domains(onClusterPath clusterPath: String, configuration: SmbvolConfiguration, client: QumuloClient) -> [String] {
        let roots = ShareRootResolver(stateDirectory: configuration.stateDirectory)
        var names: Set<String> = []
        for record in records where !record.image.isEmpty && !record.domainUUID.isEmpty {
            guard let share = configuration.shares[record.share],
                let relative = DiskImageLocator.relative(record.image, under: record.mountPoint),
                let root = try? roots.root(of: share, client: client)
            else { continue }
            if ShareRootResolver.clusterPath(root: root, relativePath: relative) == clusterPath {
                names.insert(record.domainName.isEmpty ? record.domainUUID : record.domainName)
            }
        }
        return names.sorted()
    }
}
