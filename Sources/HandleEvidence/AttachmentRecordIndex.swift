import AttachmentLocks
import DiskImages
import QumuloClient
import SmbvolShares

/// Which local domains the attachment records show on one image file F, matched by F's
/// identity — never by how a domain's XML happens to spell the path. A second domain whose XML
/// names the same image as `…/share/./img/vm1.qcow2`, or through a hard link, is recognised, so
/// this host's live handle for it is never taken for a leftover.
public struct AttachmentRecordIndex {
    public var records: [AttachmentLock]

    public init(records: [AttachmentLock]) { self.records = records }

    /// Names of local domains other than `excludingDomain` whose recorded image is `file` on the
    /// cluster of `cluster`. A record without a file number is compared by canonical cluster
    /// path, and — when F's number is known — by asking the cluster for its number (a hard
    /// link has another path); an answer other than "no such file" is an error, never a guess.
    public func domains(
        on file: ImageIdentity, cluster: String?, excludingDomain: String, shares: ShareCatalog,
        shareRoots: ShareRootResolver, client: QumuloClient
    ) throws -> [String] {
        var names: Set<String> = []
        var numbers: [String: String?] = [:]
        for record in records where !record.image.isEmpty && !record.domainUUID.isEmpty {
            guard record.domainUUID.lowercased() != excludingDomain.lowercased() else { continue }
            guard let share = Self.share(of: record, shares: shares) else { continue }
            if let recordCluster = share.cluster, let cluster, recordCluster != cluster { continue }
            let name = record.domainName.isEmpty ? record.domainUUID : record.domainName
            if let recorded = record.fileNumber, let wanted = file.fileNumber {
                if ImageIdentity.sameNumber(recorded, wanted) { names.insert(name) }
                continue
            }
            guard let path = try clusterPath(of: record, share: share, shareRoots: shareRoots, client: client) else { continue }
            if path == file.clusterPath {
                names.insert(name)
                continue
            }
            guard let wanted = file.fileNumber else { continue }
            let number: String?
            if let known = numbers[path] {
                number = known
            } else {
                do {
                    number = try client.fileAttributes(path: path).fileNumber
                } catch let error as QumuloError where error.status == 404 {
                    number = nil
                }
                numbers[path] = .some(number)
            }
            if let number, ImageIdentity.sameNumber(number, wanted) { names.insert(name) }
        }
        return names.sorted()
    }

    /// The record's canonical cluster path: as recorded, else from its image below its mount
    /// point and the share's root.
    func clusterPath(of record: AttachmentLock, share: Share, shareRoots: ShareRootResolver, client: QumuloClient) throws -> String? {
        if let recorded = record.clusterPath { return ImageIdentity.canonicalPath(recorded) }
        let image = ImageIdentity.canonicalPath(record.image)
        let base = ImageIdentity.canonicalPath(record.mountPoint)
        guard let relative = DiskImageLocator.relative(image, under: base) else { return nil }
        let root = try shareRoots.root(of: share, client: client)
        return ImageIdentity.canonicalPath(ShareRootResolver.clusterPath(root: root, relativePath: relative))
    }

    /// The configured share of a record: by name, else by mount point (a connection-info share
    /// counted with a configured one).
    static func share(of record: AttachmentLock, shares: ShareCatalog) -> Share? {
        if let share = shares[record.share] { return share }
        return shares.share(atDirectory: record.mountPoint, canonical: ImageIdentity.canonicalPath)
    }
}
