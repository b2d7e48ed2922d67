#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads libvirt domain XML (inactive or live, as `virsh dumpxml` or a hook's stdin gives it).
///
/// Only the structure smbvol needs is modelled; everything else (seclabels, secrets, other
/// devices, other applications' metadata) is skipped. External entities are never resolved.
/// The XML itself is read by StrictXMLReader (no FoundationXML: the hook starts faster without
/// Foundation, ICU and libxml2).
public struct DomainXMLParser: Sendable {
    public init() {}

    public func parse(_ text: String) throws(DomainXMLError) -> DomainDefinition {
        try parse(bytes: Array(text.utf8))
    }

    public func parse(_ data: Data) throws(DomainXMLError) -> DomainDefinition {
        try parse(bytes: [UInt8](data))
    }

    /// The document as read: invalid UTF-8 is an error at its position, never replaced.
    public func parse(bytes: [UInt8]) throws(DomainXMLError) -> DomainDefinition {
        var xml = StrictXMLReader(bytes)
        let reader = DomainXMLReader()
        do {
            try xml.read(into: reader)
        } catch {
            let (line, column) = xml.position(of: error.offset)
            throw .malformed(line: line, column: column, detail: error.detail)
        }
        guard let root = reader.rootElement else { throw .malformed(line: 1, column: 1, detail: "the document is empty") }
        guard root == "domain" else { throw .notADomain(root: root) }
        if let element = reader.repeated.first { throw .repeatedElement(element) }
        guard let name = reader.name, !name.isEmpty else { throw .missingElement("<name>") }
        guard let uuid = reader.uuid, !uuid.isEmpty else { throw .missingElement("<uuid>") }
        return DomainDefinition(name: name, uuid: uuid.lowercased(), disks: reader.disks, volumeHints: reader.hints)
    }
}

/// Follows the element path and collects the disks.
/// Not Sendable: created, used and dropped inside one `parse` call.
final class DomainXMLReader: StrictXMLReader.Sink {
    var rootElement: String?
    var name: String?
    var uuid: String?
    var disks: [DomainDisk] = []
    var hints: [VolumeHint] = []
    /// `<name>` or `<uuid>` given more than once: which one libvirt means cannot be guessed.
    var repeated: [String] = []

    private var path: [String] = []
    private var text = ""
    private var disk: DomainDisk?
    private var skippingDisk = false
    /// Depth of `<backingStore>` nesting inside the current disk (0 = the disk itself).
    private var backingDepth = 0

    func startElement(_ element: String, namespaceURI: String?, attributes: [String: String]) {
        if rootElement == nil { rootElement = element }
        let parent = path.last
        path.append(element)
        text = ""
        if namespaceURI == VolumeHint.namespace {
            if element == "volume", let share = attributes["share"], !share.isEmpty {
                hints.append(VolumeHint(target: attributes["target"], source: attributes["source"], share: share))
            }
            return
        }
        if path == ["domain", "devices", "disk"] {
            skippingDisk = attributes["type"] != "file"
            backingDepth = 0
            disk = skippingDisk ? nil : DomainDisk(device: attributes["device"] ?? "disk", target: "", sourceFile: nil)
            return
        }
        guard var current = disk, path.count > 3, path[1] == "devices", path[2] == "disk" else { return }
        switch (element, parent) {
        case ("backingStore", _):
            backingDepth += 1
            if let type = attributes["type"] {
                current.backingChain.append(BackingImage(type: type))
            }
        case ("source", "backingStore"):
            if backingDepth > 0, backingDepth == current.backingChain.count {
                current.backingChain[backingDepth - 1].sourceFile = attributes["file"]
            }
        case ("format", "backingStore"):
            if backingDepth > 0, backingDepth == current.backingChain.count {
                current.backingChain[backingDepth - 1].format = attributes["type"]
            }
        case ("source", "disk"): current.sourceFile = attributes["file"]
        case ("target", "disk"):
            current.target = attributes["dev"] ?? ""
            current.bus = attributes["bus"]
        case ("driver", "disk"):
            current.driverType = attributes["type"]
            current.driverCache = attributes["cache"]
        case ("readonly", "disk"): current.readonly = true
        case ("shareable", "disk"): current.shareable = true
        default: break
        }
        disk = current
    }

    func characters(_ string: String) { text += string }

    func endElement(_ element: String) {
        guard !path.isEmpty else { return }
        let trimmed = Self.trimmed(text)
        if path == ["domain", "name"] {
            if name != nil { repeated.append("<name>") }
            name = trimmed
        }
        if path == ["domain", "uuid"] {
            if uuid != nil { repeated.append("<uuid>") }
            uuid = trimmed
        }
        if path == ["domain", "devices", "disk"] {
            if let disk { disks.append(disk) }
            disk = nil
            skippingDisk = false
        } else if element == "backingStore", disk != nil, path.count > 3, path[2] == "disk" {
            backingDepth -= 1
        }
        path.removeLast()
        text = ""
    }

    /// The text without leading and trailing white space and newlines.
    static func trimmed(_ text: String) -> String {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }), let last = text.lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(text[first...last])
    }
}
