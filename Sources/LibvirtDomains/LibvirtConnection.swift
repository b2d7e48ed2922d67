import CLibvirt
import SmbvolSystem

/// A domain as `reconcile` needs it.
public struct LibvirtDomainSummary: Sendable, Equatable {
    public var name: String
    public var uuid: String
    /// For display only: never decide from it (a crashed domain kept by `on_crash=preserve`
    /// still has a live qemu holding its images).
    public var state: LibvirtDomainState
    /// `virDomainIsActive`: the domain has an id, so a qemu (or a start in progress, from the
    /// `prepare` hook on) may hold its images. The one fact `reconcile` decides by.
    public var isActive: Bool

    public init(name: String, uuid: String, state: LibvirtDomainState, isActive: Bool) {
        self.name = name
        self.uuid = uuid
        self.state = state
        self.isActive = isActive
    }
}

/// Whatever lists libvirt's domains: the read-only connection, or a test double.
public protocol LibvirtDomainListing {
    /// Every defined or running domain, each with whether it is active.
    func listDomains() throws -> [LibvirtDomainSummary]
}

/// Whatever pauses and destroys domains: a read-write connection, or a test double.
public protocol LibvirtDomainControlling {
    /// The domain's summary; throws `LibvirtError` with `isNoSuchDomain` when it is not defined.
    func domain(_ nameOrUUID: String) throws(LibvirtError) -> LibvirtDomainSummary
    func suspend(_ nameOrUUID: String) throws(LibvirtError)
    func destroy(_ nameOrUUID: String) throws(LibvirtError)
}

/// `virDomainState`, named.
public enum LibvirtDomainState: String, Sendable, Equatable {
    case noState = "nostate", running, blocked, paused, shutdown, shutoff, crashed, pmsuspended, unknown

    init(rawState: Int32) {
        let states: [LibvirtDomainState] = [.noState, .running, .blocked, .paused, .shutdown, .shutoff, .crashed, .pmsuspended]
        self = rawState >= 0 && Int(rawState) < states.count ? states[Int(rawState)] : .unknown
    }
}

/// A read-only libvirt connection (`virConnectOpenReadOnly`). Owns the connection and closes it
/// in deinit. Never used from the hook (the hook would deadlock on its own domain's job lock).
///
/// Not Sendable: libvirt errors are per thread, so a connection is used from one thread.
public final class LibvirtConnection: LibvirtDomainListing, LibvirtDomainControlling {
    private let connection: OpaquePointer
    private let libvirt: LibvirtLibrary
    public let uri: String

    /// Loads libvirt (`dlopen`) on first use: a missing libvirt is an error here, not at start-up.
    public init(readOnly uri: String) throws(LibvirtError) {
        let libvirt = try LibvirtLibrary.get()
        Self.silenceDefaultErrorPrinting(libvirt)
        guard let connection = libvirt.connectOpenReadOnly(uri) else {
            throw LibvirtError.last("virConnectOpenReadOnly(\(uri))")
        }
        self.connection = connection
        self.libvirt = libvirt
        self.uri = uri
    }

    /// A read-write connection (`virConnectOpen`): for `smbvol heartbeat`, which may have to
    /// pause or destroy a domain whose image another host took over. Never the hook.
    public init(readWrite uri: String) throws(LibvirtError) {
        let libvirt = try LibvirtLibrary.get()
        Self.silenceDefaultErrorPrinting(libvirt)
        guard let connection = libvirt.connectOpen(uri) else {
            throw LibvirtError.last("virConnectOpen(\(uri))")
        }
        self.connection = connection
        self.libvirt = libvirt
        self.uri = uri
    }

    deinit { _ = libvirt.connectClose(connection) }

    /// libvirt prints every error to stderr unless an error function is set; smbvol reports
    /// errors itself, on one line.
    static func silenceDefaultErrorPrinting(_ libvirt: LibvirtLibrary) {
        libvirt.setErrorFunc(nil) { _, _ in }
    }

    /// The domain's XML (live when running, else inactive; no secrets), by name or UUID.
    public func domainXML(_ nameOrUUID: String) throws(LibvirtError) -> String {
        let domain = try lookUp(nameOrUUID)
        defer { _ = libvirt.domainFree(domain) }
        guard let xml = libvirt.domainGetXMLDesc(domain, 0) else { throw LibvirtError.last("virDomainGetXMLDesc(\(nameOrUUID))") }
        defer { MallocedMemory.release(xml) }
        return String(cString: xml)
    }

    /// Every defined or running domain with its state.
    public func listDomains() throws(LibvirtError) -> [LibvirtDomainSummary] {
        var domains: UnsafeMutablePointer<OpaquePointer?>?
        let count = libvirt.connectListAllDomains(connection, &domains, 0)
        guard count >= 0 else { throw LibvirtError.last("virConnectListAllDomains") }
        defer { MallocedMemory.release(domains) }
        var summaries: [LibvirtDomainSummary] = []
        var failure: LibvirtError?
        for index in 0..<Int(count) {
            guard let domain = domains?[index] else { continue }
            defer { _ = libvirt.domainFree(domain) }
            if failure != nil { continue }
            do {
                summaries.append(try summary(of: domain))
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return summaries.sorted { $0.name < $1.name }
    }

    /// One domain's summary, by name or UUID.
    public func domain(_ nameOrUUID: String) throws(LibvirtError) -> LibvirtDomainSummary {
        let domain = try lookUp(nameOrUUID)
        defer { _ = libvirt.domainFree(domain) }
        return try summary(of: domain)
    }

    /// `virDomainSuspend`: the domain's vCPUs stop; qemu (and its open images) stay.
    public func suspend(_ nameOrUUID: String) throws(LibvirtError) {
        let domain = try lookUp(nameOrUUID)
        defer { _ = libvirt.domainFree(domain) }
        guard libvirt.domainSuspend(domain) == 0 else { throw LibvirtError.last("virDomainSuspend(\(nameOrUUID))") }
    }

    /// `virDomainDestroy`: qemu is killed at once.
    public func destroy(_ nameOrUUID: String) throws(LibvirtError) {
        let domain = try lookUp(nameOrUUID)
        defer { _ = libvirt.domainFree(domain) }
        guard libvirt.domainDestroy(domain) == 0 else { throw LibvirtError.last("virDomainDestroy(\(nameOrUUID))") }
    }

    private func summary(of domain: OpaquePointer) throws(LibvirtError) -> LibvirtDomainSummary {
        guard let name = libvirt.domainGetName(domain) else { throw LibvirtError.last("virDomainGetName") }
        var uuid = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
        guard libvirt.domainGetUUIDString(domain, &uuid) == 0 else { throw LibvirtError.last("virDomainGetUUIDString") }
        var state: Int32 = 0
        var reason: Int32 = 0
        guard libvirt.domainGetState(domain, &state, &reason, 0) == 0 else { throw LibvirtError.last("virDomainGetState") }
        // Active, not a state: a crashed domain preserved for debugging has a live qemu.
        let active = libvirt.domainIsActive(domain)
        guard active >= 0 else { throw LibvirtError.last("virDomainIsActive") }
        let uuidText = String(decoding: uuid.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return LibvirtDomainSummary(
            name: String(cString: name), uuid: uuidText, state: LibvirtDomainState(rawState: state), isActive: active == 1)
    }

    private func lookUp(_ nameOrUUID: String) throws(LibvirtError) -> OpaquePointer {
        if Self.looksLikeUUID(nameOrUUID), let domain = libvirt.domainLookupByUUIDString(connection, nameOrUUID) {
            return domain
        }
        libvirt.resetLastError()
        guard let domain = libvirt.domainLookupByName(connection, nameOrUUID) else {
            let error = LibvirtError.last("virDomainLookupByName(\(nameOrUUID))")
            if error.isNoSuchDomain {
                throw LibvirtError(call: error.call, message: "no domain named or with UUID \(nameOrUUID) on \(uri)", code: error.code)
            }
            throw error
        }
        return domain
    }

    static func looksLikeUUID(_ text: String) -> Bool {
        let hex = text.filter { $0 != "-" }
        return hex.count == 32 && hex.allSatisfy(\.isHexDigit)
    }
}
