import DomainXML
import LibvirtDomains
import SMBMounts
import SmbvolSystem

/// Files an operator names on the command line, read with a size cap: without it `check --xml
/// /dev/zero` read (and grew) until memory ran out.
public enum BoundedInput {
    /// Largest domain XML read (as the hook reads from stdin).
    public static let domainXMLLimit = 64 * 1024 * 1024
    /// Largest connection-info JSON read.
    public static let connectionInfoLimit = 1024 * 1024

    public struct TooLarge: Error, CustomStringConvertible {
        public var path: String
        public var what: String
        public var limit: Int
        public var description: String {
            "\(path): the \(what) is larger than \(limit / 1024) KiB (or endless, like /dev/zero); refusing to read it"
        }
    }

    /// The whole file, but never more than `limit` bytes: a bigger (or endless) input is an
    /// error naming it, not a process that reads until memory runs out.
    public static func read(_ path: String, what: String, limit: Int) throws -> [UInt8] {
        do {
            return try FileDescriptorIO.readFile(path: path, limit: limit)
        } catch is InputLimitExceeded {
            throw TooLarge(path: path, what: what, limit: limit)
        }
    }
}

/// The domain `check` inspects: from a file (no libvirt needed), or through a read-only libvirt
/// connection.
public struct LoadDomainForCheck: Sendable {
    public enum Source: Sendable {
        case xmlFile(String)
        case libvirt(domain: String, uri: String)
    }

    public init() {}

    public func callAsFunction(_ source: Source) throws -> DomainDefinition {
        switch source {
        case .xmlFile(let path):
            // Bytes, not a String: invalid UTF-8 is refused by the reader, never replaced.
            return try DomainXMLParser().parse(bytes: try BoundedInput.read(path, what: "domain XML", limit: BoundedInput.domainXMLLimit))
        case .libvirt(let domain, let uri):
            return try DomainXMLParser().parse(try LibvirtConnection(readOnly: uri).domainXML(domain))
        }
    }
}

/// nova-style connection info (`driver_volume_type` smbfs) from a file, for `attach`.
public struct ReadConnectionInfo: Sendable {
    public init() {}

    public func callAsFunction(_ path: String) throws -> SMBConnectionInfo {
        try SMBConnectionInfo(json: try BoundedInput.read(path, what: "connection info", limit: BoundedInput.connectionInfoLimit))
    }
}

/// A domain named by an operator (`--domain NAME|UUID`): a UUID is used as is; a name is looked
/// up through a read-only libvirt connection (operator commands only — never the hook).
public struct ResolveDomain: Sendable {
    public struct NotFound: Error, CustomStringConvertible {
        public var description: String
    }

    public var uri: String

    public init(uri: String) { self.uri = uri }

    /// (name, uuid) of the domain.
    public func callAsFunction(_ nameOrUUID: String) throws -> (name: String, uuid: DomainUUID) {
        if let uuid = DomainUUID(nameOrUUID) { return (nameOrUUID, uuid) }
        let connection = try LibvirtConnection(readOnly: uri)
        guard let found = try connection.listDomains().first(where: { $0.name == nameOrUUID }) else {
            throw NotFound(description: "no domain named \(nameOrUUID) on \(uri); give its UUID instead")
        }
        guard let uuid = DomainUUID(found.uuid) else { throw NotFound(description: "libvirt gave an invalid UUID for \(nameOrUUID)") }
        return (found.name, uuid)
    }
}
