@testable import HandleEvidence
@testable import StaleHandleCleanup
import DiskImages
import LockHygiene
import SmbvolShares
import Testing

/// A takeover record stops a domain whose lock carries the image's file number when this host
/// holds the file "beside the record's new holder". On a shareable or read-only disk (a cluster
/// disk shared by VMs on two hosts, an ISO every host has open) another host always holds the
/// file beside this one, and smbvol never closes a handle there, so no real takeover record can
/// exist: a record anyone wrote on the share would pause every such domain. Their locks keep
/// the cluster path, never the file number the takeover watch looks records up by.
@Suite("attachment lock identities: no file number for shareable or read-only disks")
struct SharedDiskIdentityTests {
    static func image(_ path: String, target: String, access: DiskAccess, fileNumber: String) -> ImageInspection {
        ImageInspection(
            image: LocatedImage(
                target: target, image: "/srv/vmstore/" + path, isBackingFile: false,
                share: Share(
                    name: "vmstore", export: try! SMBExport(parsing: "//srv/vmstore"), mountPoint: "/srv/vmstore", credentials: nil, options: []),
                relativePath: path, access: access),
            clusterPath: "/vmstore/" + path, fileNumber: fileNumber, decisions: nil)
    }

    @Test("exclusive: file number and path; shareable and read-only: the path only (a number recorded before is cleared)")
    func identities() {
        let inspection = DomainInspection(
            domainName: "web01", domainUUID: "99999999-2222-3333-4444-555555555555",
            policy: HygienePolicy(operation: .start, staleAfterSeconds: 180, force: false),
            images: [
                Self.image("web01/disk0.qcow2", target: "vda", access: .exclusive, fileNumber: "3001"),
                Self.image("cluster/quorum.raw", target: "vdb", access: DiskAccess(shareable: true, readonly: false), fileNumber: "3002"),
                Self.image("iso/install.iso", target: "sda", access: DiskAccess(shareable: false, readonly: true), fileNumber: "3003"),
            ],
            unmanagedDisks: [], failure: nil)
        let identities = inspection.imageIdentities
        #expect(identities["/srv/vmstore/web01/disk0.qcow2"]?.fileNumber == "3001")
        #expect(identities["/srv/vmstore/cluster/quorum.raw"].map { $0.fileNumber == nil && $0.clusterPath == "/vmstore/cluster/quorum.raw" } == true)
        #expect(identities["/srv/vmstore/iso/install.iso"].map { $0.fileNumber == nil && $0.clusterPath == "/vmstore/iso/install.iso" } == true)
    }
}
