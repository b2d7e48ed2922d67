import DomainXML
import LockHygiene
import SmbvolShares
import SmbvolSystem

/// An image file of a disk that lives on a configured share.
public struct LocatedImage: Sendable, Equatable {
    /// The disk's target dev (`vda`).
    public var target: String
    /// The path qemu opens (the disk's `<source file>` or a backing file).
    public var image: String
    /// The top image, or a backing file (opened read-only by qemu, shared by many VMs).
    public var isBackingFile: Bool
    /// The share the image lies on, as located: carried on to the mount, the lock and the
    /// evidence, never looked up again by name.
    public var share: Share
    /// The path below `shareDirectory`, without a leading `/`, of the file the image resolves to
    /// (an in-share symlink followed) once it exists; as spelled before that.
    public var relativePath: String
    public var access: DiskAccess

    public init(target: String, image: String, isBackingFile: Bool, share: Share, relativePath: String, access: DiskAccess) {
        self.target = target
        self.image = image
        self.isBackingFile = isBackingFile
        self.share = share
        self.relativePath = relativePath
        self.access = access
    }

    /// Where the share is (or would be) mounted, or its `local_path`.
    public var shareDirectory: String { share.usablePath }
}

/// A disk smbvol does not manage: its files are on no configured share (or it has no file).
public struct UnmanagedDisk: Sendable, Equatable {
    public var target: String
    public var source: String?

    public init(target: String, source: String?) {
        self.target = target
        self.source = source
    }
}

/// A domain's disks as located on the configured shares.
public struct DomainImages: Sendable, Equatable {
    /// Every image file on a configured share, disk by disk, top image first.
    public var images: [LocatedImage] = []
    /// Disks with no file on any configured share (smbvol leaves them alone).
    public var unmanagedDisks: [UnmanagedDisk] = []

    public init(images: [LocatedImage] = [], unmanagedDisks: [UnmanagedDisk] = []) {
        self.images = images
        self.unmanagedDisks = unmanagedDisks
    }
}

/// Why a disk's image cannot be placed on a share. One line each.
public enum ImageLocationError: Error, Sendable, Equatable, CustomStringConvertible {
    case notAbsolute(target: String, path: String)
    case parentReference(target: String, path: String)
    case escapesShare(target: String, path: String, resolved: String, share: String)
    case unknownHintedShare(target: String, share: String)
    case notUnderHintedShare(target: String, path: String, share: String, directory: String)
    case hintContradicts(target: String, path: String, hinted: String, found: String)

    public var description: String {
        switch self {
        case .notAbsolute(let target, let path):
            return "disk \(target): source \(path) is not an absolute path"
        case .parentReference(let target, let path):
            return "disk \(target): source \(path) contains '..'; refusing to guess which share it is on"
        case .escapesShare(let target, let path, let resolved, let share):
            return "disk \(target): source \(path) resolves to \(resolved), outside share \(share) (a symlink escapes the share)"
        case .unknownHintedShare(let target, let share):
            return "disk \(target): the domain's smbvol metadata names share \(share), which is not configured"
        case .notUnderHintedShare(let target, let path, let share, let directory):
            return "disk \(target): the domain's smbvol metadata names share \(share) but \(path) is not under \(directory)"
        case .hintContradicts(let target, let path, let hinted, let found):
            return "disk \(target): the domain's smbvol metadata names share \(hinted) but \(path) lies in share \(found) "
                + "(its directory is the longest match); fix or remove the metadata"
        }
    }
}

/// From a disk to the configured share that holds each of its image files.
///
/// A file belongs to a share when its path, with no `..`, lies under the share's mount point or
/// `local_path`, and — for the parts that exist — its real path does too (no symlink escapes).
public struct DiskImageLocator: Sendable {
    public var shares: [Share]

    public init(shares: [Share]) { self.shares = shares }

    public init(catalog: ShareCatalog) { shares = catalog.shares }

    /// Every disk of `domain`, located once: the images on configured shares (top image first,
    /// disk by disk) and the disks on none. The hook, hot-attach and `check` all start here.
    public func locate(_ domain: DomainDefinition) throws(ImageLocationError) -> DomainImages {
        var located = DomainImages()
        for disk in domain.disks {
            let images = try locate(disk, hintedShare: domain.hintedShare(for: disk))
            if images.isEmpty { located.unmanagedDisks.append(UnmanagedDisk(target: disk.target, source: disk.sourceFile)) }
            located.images += images
        }
        return located
    }

    /// The images again, now that their shares are mounted: before the mount the symlink-escape
    /// check could only look at an empty directory (a symlink on the server pointing outside the
    /// share would let qemu open another file), and an in-share symlink (`current.qcow2` →
    /// `img/vm1.qcow2`) could not be followed to the file it names. Returns the images with their
    /// path below the share taken from the resolved file, so the cluster path, the recorded
    /// identity and the local openers are those of the file qemu really opens.
    public func resolvingInsideShares(_ images: [LocatedImage]) throws(ImageLocationError) -> [LocatedImage] {
        var resolvedImages: [LocatedImage] = []
        for var image in images {
            let normalised = "/" + image.image.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
            image.relativePath = try Self.resolvedRelativePath(
                of: normalised, below: image.shareDirectory, spelled: image.relativePath, target: image.target, share: image.share.name)
            resolvedImages.append(image)
        }
        return resolvedImages
    }

    /// The file's path below `directory` as its real path gives it; throws when the real path
    /// leaves the share. A file (or share) that does not exist yet keeps the path as spelled.
    static func resolvedRelativePath(
        of path: String, below directory: String, spelled: String, target: String, share: String
    ) throws(ImageLocationError) -> String {
        guard let resolved = realPathOfExistingPrefix(path), let base = realPathOfExistingPrefix(directory) else { return spelled }
        guard let relative = relative(resolved, under: base) else {
            throw .escapesShare(target: target, path: path, resolved: resolved, share: share)
        }
        return relative
    }

    /// Every image file of `disk` on a configured share, top image first. Files on no share are
    /// left out (the caller reports the disk as not managed).
    public func locate(_ disk: DomainDisk, hintedShare: String? = nil) throws(ImageLocationError) -> [LocatedImage] {
        var located: [LocatedImage] = []
        let readonlyTop = disk.readonly || disk.device == "cdrom"
        for (index, file) in disk.imageFiles.enumerated() {
            let isBacking = index > 0 || disk.sourceFile == nil
            let access = isBacking ? DiskAccess(shareable: false, readonly: true) : DiskAccess(shareable: disk.shareable, readonly: readonlyTop)
            if let image = try locate(file, target: disk.target, hintedShare: isBacking ? nil : hintedShare, access: access, isBacking: isBacking) {
                located.append(image)
            }
        }
        return located
    }

    func locate(_ path: String, target: String, hintedShare: String?, access: DiskAccess, isBacking: Bool) throws(ImageLocationError) -> LocatedImage? {
        guard path.hasPrefix("/") else { throw .notAbsolute(target: target, path: path) }
        let components = path.split(separator: "/").map(String.init)
        guard !components.contains("..") else { throw .parentReference(target: target, path: path) }
        let normalised = "/" + components.filter { $0 != "." }.joined(separator: "/")
        // The longest matching directory wins (a share mounted inside another's directory).
        let matches = shares.compactMap { share in Self.relative(normalised, under: share.usablePath).map { (share, $0) } }
        let longest = matches.max(by: { $0.0.usablePath.count < $1.0.usablePath.count })
        if let hintedShare {
            guard let share = shares.first(where: { $0.name == hintedShare }) else {
                throw .unknownHintedShare(target: target, share: hintedShare)
            }
            guard Self.relative(normalised, under: share.usablePath) != nil else {
                throw .notUnderHintedShare(target: target, path: path, share: share.name, directory: share.usablePath)
            }
            // A hint naming an outer share while the file lies in a share mounted inside it
            // would send lock hygiene to the wrong cluster path: refuse the contradiction.
            if let longest, longest.0.name != share.name {
                throw .hintContradicts(target: target, path: path, hinted: share.name, found: longest.0.name)
            }
        }
        guard let (share, spelled) = longest else { return nil }
        let relativePath = try Self.resolvedRelativePath(
            of: normalised, below: share.usablePath, spelled: spelled, target: target, share: share.name)
        return LocatedImage(
            target: target, image: path, isBackingFile: isBacking, share: share, relativePath: relativePath, access: access)
    }

    /// The path below `shareDirectory` of the file `image` resolves to (in-share symlinks
    /// followed), as a start names it once the share is mounted; nil when the image is not
    /// below the share, names `..`, or resolves outside it. Touches the share (realpath): call
    /// it where blocking is bounded.
    public static func relativePathInsideShare(of image: String, shareDirectory: String) -> String? {
        let components = image.split(separator: "/").map(String.init)
        guard image.hasPrefix("/"), !components.contains("..") else { return nil }
        let normalised = "/" + components.filter { $0 != "." }.joined(separator: "/")
        guard let spelled = relative(normalised, under: shareDirectory) else { return nil }
        return try? resolvedRelativePath(of: normalised, below: shareDirectory, spelled: spelled, target: "", share: "")
    }

    /// `path` relative to `directory` when it lies strictly below it.
    package static func relative(_ path: String, under directory: String) -> String? {
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        guard path.hasPrefix(base + "/") else { return nil }
        let rest = String(path.dropFirst(base.count + 1))
        return rest.isEmpty ? nil : rest
    }

    /// The real path of the longest existing prefix of `path`, with the rest appended: an image
    /// not created yet, or a share not mounted yet, is still checked as far as it exists.
    static func realPathOfExistingPrefix(_ path: String) -> String? { RealPath.ofExistingPrefix(path) }
}
