import AttachmentLocks
import DiskImages
import HandleEvidence
import LockHygiene
import SmbvolShares
import SmbvolUseCases
import Testing

@Suite("Attachment plan: located images to requests, each with its image's share")
struct AttachmentPlanTests {
    static func share(_ name: String, _ directory: String, credentials: MountCredentials? = nil) -> Share {
        Share(name: name, export: try! SMBExport(parsing: "//srv/\(name)"), mountPoint: directory, credentials: credentials, options: [])
    }

    static func image(_ target: String, _ share: Share, _ path: String, backing: Bool = false) -> LocatedImage {
        LocatedImage(
            target: target, image: share.usablePath + "/" + path, isBackingFile: backing, share: share, relativePath: path,
            access: backing ? DiskAccess(shareable: false, readonly: true) : .exclusive)
    }

    @Test("one request per disk and share: a backing file on another share is disk+share; the share is the located one")
    func requests() {
        let one = Self.share("one", "/mnt/one")
        let two = Self.share("two", "/mnt/two")
        let plan = AttachmentPlan(
            images: [
                Self.image("vda", one, "web01.qcow2"), Self.image("vda", one, "base.qcow2", backing: true),
                Self.image("vda", two, "golden.qcow2", backing: true), Self.image("vdb", two, "data.raw"),
            ],
            domainName: "web01", domainUUID: "uuid-1")
        #expect(plan.requests.map(\.disk) == ["vda", "vda+two", "vdb"])
        #expect(plan.requests.map(\.share) == [one, two, two])
        #expect(plan.requests.map(\.image) == ["/mnt/one/web01.qcow2", "/mnt/two/golden.qcow2", "/mnt/two/data.raw"])
    }

    @Test("a connection-info share at the located share's directory is the one mounted (it brings the credentials)")
    func connectionInfoMounted() {
        let configured = Self.share("one", "/mnt/one")
        let fromInfo = Self.share("one", "/mnt/one", credentials: .inline(username: "u", password: "p", domain: nil))
        let plan = AttachmentPlan(
            images: [Self.image("vda", configured, "web01.qcow2")], domainName: "web01", domainUUID: "uuid-1",
            connectionInfoShares: [fromInfo, Self.share("other", "/mnt/other")])
        #expect(plan.requests.map(\.share) == [fromInfo])
    }
}
