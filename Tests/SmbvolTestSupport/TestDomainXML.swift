/// A libvirt domain definition for tests, rendered as the XML libvirtd hands the hook (and
/// `virsh dumpxml` prints): name, UUID, and file disks with their optional backing chain.
///
///     var domain = TestDomainXML(name: "web01", uuid: "11111111-2222-3333-4444-555555555555")
///     domain.disks = [.init(target: "vda", source: image, shareable: true)]
///     try domain.xml.write(toFile: path, atomically: true, encoding: .utf8)
public struct TestDomainXML: Sendable, Equatable {
    public struct Disk: Sendable, Equatable {
        public var target: String
        /// `<source file=…>`; nil writes a disk without a source (an empty CD-ROM drive).
        public var source: String?
        public var device: String
        public var format: String
        public var shareable: Bool
        public var readonly: Bool
        /// Backing files, the top image's first: nested `<backingStore type='file'>` elements.
        public var backingChain: [String]

        public init(
            target: String = "vda", source: String?, device: String = "disk", format: String = "qcow2", shareable: Bool = false,
            readonly: Bool = false, backingChain: [String] = []
        ) {
            self.target = target
            self.source = source
            self.device = device
            self.format = format
            self.shareable = shareable
            self.readonly = readonly
            self.backingChain = backingChain
        }

        /// An install medium: read-only, off any share.
        public static func cdrom(target: String = "sda", source: String = "/srv/iso/install.iso") -> Disk {
            Disk(target: target, source: source, device: "cdrom", format: "raw", readonly: true)
        }
    }

    public var name: String
    public var uuid: String
    /// `id='N'` of a running domain; nil for an inactive definition.
    public var id: Int?
    public var disks: [Disk]
    /// Extra XML inside `<domain>` after `<devices>` (e.g. smbvol's `<metadata>`).
    public var extra: String

    public init(
        name: String = "web01", uuid: String = "11111111-2222-3333-4444-555555555555", id: Int? = 7, disks: [Disk] = [],
        extra: String = ""
    ) {
        self.name = name
        self.uuid = uuid
        self.id = id
        self.disks = disks
        self.extra = extra
    }

    /// One exclusive qcow2 disk `vda` on `image`.
    public init(name: String = "web01", uuid: String = "11111111-2222-3333-4444-555555555555", image: String) {
        self.init(name: name, uuid: uuid, disks: [Disk(source: image)])
    }

    public var xml: String {
        var lines = ["<domain type='kvm'\(id.map { " id='\($0)'" } ?? "")>"]
        lines.append("  <name>\(Self.escaped(name))</name>")
        lines.append("  <uuid>\(Self.escaped(uuid))</uuid>")
        lines.append("  <memory unit='KiB'>65536</memory>")
        lines.append("  <os><type arch='x86_64'>hvm</type></os>")
        lines.append("  <devices>")
        for disk in disks { lines += Self.render(disk).map { "    " + $0 } }
        lines.append("  </devices>")
        if !extra.isEmpty { lines.append(extra) }
        lines.append("</domain>")
        return lines.joined(separator: "\n") + "\n"
    }

    static func render(_ disk: Disk) -> [String] {
        var lines = ["<disk type='file' device='\(disk.device)'>"]
        lines.append("  <driver name='qemu' type='\(disk.format)'\(disk.device == "disk" ? " cache='none'" : "")/>")
        if let source = disk.source { lines.append("  <source file='\(escaped(source))'/>") }
        var indent = "  "
        for backing in disk.backingChain {
            lines.append(indent + "<backingStore type='file'>")
            lines.append(indent + "  <format type='qcow2'/>")
            lines.append(indent + "  <source file='\(escaped(backing))'/>")
            indent += "  "
        }
        if !disk.backingChain.isEmpty {
            lines.append(indent + "<backingStore/>")
            for _ in disk.backingChain {
                indent.removeLast(2)
                lines.append(indent + "</backingStore>")
            }
        }
        lines.append("  <target dev='\(disk.target)' bus='\(disk.device == "cdrom" ? "sata" : "virtio")'/>")
        if disk.readonly { lines.append("  <readonly/>") }
        if disk.shareable { lines.append("  <shareable/>") }
        lines.append("</disk>")
        return lines
    }

    /// Attribute and text escaping: `&`, `<`, `>`, `'`, `"`, and line breaks and tabs as
    /// character references (a parser normalises literal ones away), so any value comes back as given.
    static func escaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "'": result += "&apos;"
            case "\"": result += "&quot;"
            case "\n": result += "&#10;"
            case "\r": result += "&#13;"
            case "\t": result += "&#9;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
