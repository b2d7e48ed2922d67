/// The parts of a libvirt domain definition smbvol acts on.
public struct DomainDefinition: Sendable, Equatable {
    public var name: String
    /// The key for all of smbvol's state: names can change, UUIDs do not.
    public var uuid: String
    /// Every `<disk type='file'>` under `<devices>`, in document order.
    public var disks: [DomainDisk]
    /// What smbvol's `<metadata>` element says about the disks (empty when absent).
    public var volumeHints: [VolumeHint]

    /// First hint per target and per source, indexed once: one lookup per disk, not a scan of
    /// every hint (a document with many disks and many hints stays linear).
    private var hintByTarget: [String: String] = [:]
    private var hintBySource: [String: String] = [:]

    public init(name: String, uuid: String, disks: [DomainDisk], volumeHints: [VolumeHint] = []) {
        self.name = name
        self.uuid = uuid
        self.disks = disks
        self.volumeHints = volumeHints
        for hint in volumeHints {
            if let target = hint.target, hintByTarget[target] == nil { hintByTarget[target] = hint.share }
            if let source = hint.source, hintBySource[source] == nil { hintBySource[source] = hint.share }
        }
    }

    /// The share named for a disk by smbvol's metadata (by target dev, else by source file).
    public func hintedShare(for disk: DomainDisk) -> String? {
        if let byTarget = hintByTarget[disk.target] { return byTarget }
        return disk.sourceFile.flatMap { hintBySource[$0] }
    }
}

/// One `<disk type='file'>`.
public struct DomainDisk: Sendable, Equatable {
    /// `disk`, `cdrom`, `floppy`, `lun`.
    public var device: String
    /// `<target dev=…>`: `vda`, `sdb`.
    public var target: String
    public var bus: String?
    /// `<source file=…>`; a cdrom without media has none.
    public var sourceFile: String?
    /// `<driver type=…>`: `qcow2`, `raw`.
    public var driverType: String?
    /// `<driver cache=…>`: `none`, `directsync`, `writeback`…
    public var driverCache: String?
    public var readonly: Bool
    public var shareable: Bool
    /// `<backingStore>` chain, nearest first (the top image's backing file, then its backing…).
    public var backingChain: [BackingImage]

    public init(
        device: String = "disk", target: String, bus: String? = nil, sourceFile: String?, driverType: String? = nil,
        driverCache: String? = nil, readonly: Bool = false, shareable: Bool = false, backingChain: [BackingImage] = []
    ) {
        self.device = device
        self.target = target
        self.bus = bus
        self.sourceFile = sourceFile
        self.driverType = driverType
        self.driverCache = driverCache
        self.readonly = readonly
        self.shareable = shareable
        self.backingChain = backingChain
    }

    /// Every image file the disk opens: the top image, then each file-backed backing image.
    public var imageFiles: [String] {
        ([sourceFile] + backingChain.map { $0.type == "file" ? $0.sourceFile : nil }).compactMap { $0 }
    }
}

/// One `<backingStore>` level.
public struct BackingImage: Sendable, Equatable {
    /// `file`, `block`, `network`…
    public var type: String
    /// `<format type=…>`.
    public var format: String?
    /// `<source file=…>` (file-backed levels only).
    public var sourceFile: String?

    public init(type: String, format: String? = nil, sourceFile: String? = nil) {
        self.type = type
        self.format = format
        self.sourceFile = sourceFile
    }
}

/// `<smbvol:volume target='vdb' share='vmstore'/>` (or `source='/path'` instead of target)
/// inside `<metadata><smbvol:volumes xmlns:smbvol='https://smbvol.example/xmlns/volumes/1'>`.
public struct VolumeHint: Sendable, Equatable {
    public static let namespace = "https://smbvol.example/xmlns/volumes/1"

    public var target: String?
    public var source: String?
    public var share: String

    public init(target: String? = nil, source: String? = nil, share: String) {
        self.target = target
        self.source = source
        self.share = share
    }
}

/// Why a domain XML could not be read. Always one line.
public enum DomainXMLError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(line: Int, column: Int, detail: String)
    case notADomain(root: String)
    case missingElement(String)
    case repeatedElement(String)

    public var description: String {
        switch self {
        case .malformed(let line, let column, let detail):
            return "malformed domain XML at line \(line), column \(column): \(detail)"
        case .notADomain(let root):
            return "not a libvirt domain XML: the root element is <\(root)>, expected <domain>"
        case .missingElement(let element):
            return "domain XML has no \(element)"
        case .repeatedElement(let element):
            return "domain XML has more than one \(element); refusing to guess which one is meant"
        }
    }
}
