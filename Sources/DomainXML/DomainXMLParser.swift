import Foundation
import FoundationXML

/// Reads libvirt domain XML (inactive or live, as `virsh dumpxml` or a hook's stdin gives it).
///
/// Only the structure smbvol needs is modelled; everything else (seclabels, secrets, other
/// devices, other applications' metadata) is skipped. External entities are never resolved.
public struct DomainXMLParser: Sendable {
    public init() {}

    public func parse(_ text: String) throws(DomainXMLError) -> DomainDefinition {
        try parse(Data(text.utf8))
    }

    public func parse(_ data: Data) throws(DomainXMLError) -> DomainDefinition {
        let parser = XMLParser(data: data)
        let reader = DomainXMLReader()
        parser.delegate = reader
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        let succeeded = parser.parse()
        if let failure = reader.failure { throw failure }
        guard succeeded else {
            let code = (parser.parserError as? NSError)?.code ?? 0
            throw .malformed(line: parser.lineNumber, column: parser.columnNumber, detail: Self.describe(code: code))
        }
        guard let root = reader.rootElement else { throw .malformed(line: 1, column: 1, detail: "the document is empty") }
        guard root == "domain" else { throw .notADomain(root: root) }
        guard let name = reader.name, !name.isEmpty else { throw .missingElement("<name>") }
        guard let uuid = reader.uuid, !uuid.isEmpty else { throw .missingElement("<uuid>") }
        return DomainDefinition(name: name, uuid: uuid.lowercased(), disks: reader.disks, volumeHints: reader.hints)
    }

    /// libxml2's error numbers, as XMLParser reports them, for the mistakes people make.
    static func describe(code: Int) -> String {
        switch code {
        case 4: return "the document is empty"
        case 5: return "the document ends early (an element is not closed)"
        case 9: return "an invalid character"
        case 38, 39, 40, 41: return "a malformed attribute"
        case 64: return "XML declaration not at the start"
        case 73: return "an element's '>' is missing"
        case 76: return "a closing tag does not match the open element"
        case 85: return "extra content after the root element"
        default: return "XML syntax error (libxml2 code \(code))"
        }
    }
}

/// The XMLParser delegate: follows the element path and collects the disks.
/// Not Sendable: created, used and dropped inside one `parse` call.
final class DomainXMLReader: NSObject, XMLParserDelegate {
    var rootElement: String?
    var name: String?
    var uuid: String?
    var disks: [DomainDisk] = []
    var hints: [VolumeHint] = []
    var failure: DomainXMLError?

    private var path: [String] = []
    private var text = ""
    private var disk: DomainDisk?
    private var skippingDisk = false
    /// Depth of `<backingStore>` nesting inside the current disk (0 = the disk itself).
    private var backingDepth = 0

    func parser(
        _ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
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

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    /// libxml2 may recover from some errors and still report success: the first error counts.
    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        guard failure == nil else { return }
        let code = (parseError as NSError).code
        failure = .malformed(line: parser.lineNumber, column: parser.columnNumber, detail: DomainXMLParser.describe(code: code))
    }

    func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
        if element != path.last, failure == nil {
            failure = .malformed(
                line: parser.lineNumber, column: parser.columnNumber,
                detail: "closing tag </\(element)> does not match the open element <\(path.last ?? "")>")
            parser.abortParsing()
        }
        guard !path.isEmpty else { return }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if path == ["domain", "name"] { name = trimmed }
        if path == ["domain", "uuid"] { uuid = trimmed }
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
}
