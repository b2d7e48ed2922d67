import CLibvirt
import SmbvolSystem

/// libvirt, loaded on first use with `dlopen("libvirt.so.0")`: smbvol's hook never connects to
/// libvirt, and linking it would make every run (the hook on every VM start included) map
/// libvirt and what it drags in (glib, gnutls, libssh, libxml2…) at start-up. CLibvirt supplies
/// only the types and constants; the functions are looked up here.
struct LibvirtLibrary: @unchecked Sendable {  // immutable C function pointers and the library they live in
    typealias ConnectOpenReadOnly = @convention(c) (UnsafePointer<CChar>?) -> OpaquePointer?
    typealias ConnectClose = @convention(c) (OpaquePointer?) -> Int32
    typealias SetErrorFunc = @convention(c) (UnsafeMutableRawPointer?, virErrorFunc?) -> Void
    typealias DomainGetXMLDesc = @convention(c) (OpaquePointer?, UInt32) -> UnsafeMutablePointer<CChar>?
    typealias DomainFree = @convention(c) (OpaquePointer?) -> Int32
    typealias ConnectListAllDomains = @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<OpaquePointer?>?>?, UInt32
    ) -> Int32
    typealias DomainGetName = @convention(c) (OpaquePointer?) -> UnsafePointer<CChar>?
    typealias DomainGetUUIDString = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?) -> Int32
    typealias DomainGetState = @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?, UInt32
    ) -> Int32
    typealias DomainLookup = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> OpaquePointer?
    typealias DomainIsActive = @convention(c) (OpaquePointer?) -> Int32
    typealias ResetLastError = @convention(c) () -> Void
    typealias GetLastError = @convention(c) () -> UnsafeMutablePointer<virError>?
    typealias ConnectOpen = @convention(c) (UnsafePointer<CChar>?) -> OpaquePointer?
    typealias DomainAction = @convention(c) (OpaquePointer?) -> Int32

    /// Kept so the library stays loaded as long as its function pointers are in use.
    let handle: DynamicLibrary
    let connectOpenReadOnly: ConnectOpenReadOnly
    let connectClose: ConnectClose
    let setErrorFunc: SetErrorFunc
    let domainGetXMLDesc: DomainGetXMLDesc
    let domainFree: DomainFree
    let connectListAllDomains: ConnectListAllDomains
    let domainGetName: DomainGetName
    let domainGetUUIDString: DomainGetUUIDString
    let domainGetState: DomainGetState
    let domainLookupByUUIDString: DomainLookup
    let domainLookupByName: DomainLookup
    let resetLastError: ResetLastError
    let getLastError: GetLastError
    let domainIsActive: DomainIsActive
    /// The write calls: only `smbvol heartbeat` uses them (stopping a domain whose image was
    /// taken over), never the hook.
    let connectOpen: ConnectOpen
    let domainSuspend: DomainAction
    let domainDestroy: DomainAction

    /// The library, loaded once (never unloaded: `shared` holds it), or why it could not be.
    static let shared: Result<LibvirtLibrary, LibvirtError> = load()

    static func get() throws(LibvirtError) -> LibvirtLibrary { try shared.get() }

    private static func load() -> Result<LibvirtLibrary, LibvirtError> {
        let name = "libvirt.so.0"
        let handle: DynamicLibrary
        do {
            handle = try DynamicLibrary(name: name)
        } catch {
            guard case .cannotLoad(_, let reason) = error else { return .failure(LibvirtError(call: "dlopen(\(name))", message: error.description)) }
            return .failure(LibvirtError(call: "dlopen(\(name))", message: "libvirt is not installed or cannot be loaded: \(reason)"))
        }
        // Every missing function is named at once: an old libvirt usually lacks several.
        var missing: [String] = []
        func symbol<T>(_ symbolName: String, as type: T.Type) -> T? {
            do {
                return try handle.symbol(named: symbolName, as: type)
            } catch {
                missing.append(symbolName)
                return nil
            }
        }
        let library = (
            symbol("virConnectOpenReadOnly", as: ConnectOpenReadOnly.self),
            symbol("virConnectClose", as: ConnectClose.self),
            symbol("virSetErrorFunc", as: SetErrorFunc.self),
            symbol("virDomainGetXMLDesc", as: DomainGetXMLDesc.self),
            symbol("virDomainFree", as: DomainFree.self),
            symbol("virConnectListAllDomains", as: ConnectListAllDomains.self),
            symbol("virDomainGetName", as: DomainGetName.self),
            symbol("virDomainGetUUIDString", as: DomainGetUUIDString.self),
            symbol("virDomainGetState", as: DomainGetState.self),
            symbol("virDomainLookupByUUIDString", as: DomainLookup.self),
            symbol("virDomainLookupByName", as: DomainLookup.self),
            symbol("virResetLastError", as: ResetLastError.self),
            symbol("virGetLastError", as: GetLastError.self),
            symbol("virDomainIsActive", as: DomainIsActive.self),
            symbol("virConnectOpen", as: ConnectOpen.self),
            symbol("virDomainSuspend", as: DomainAction.self),
            symbol("virDomainDestroy", as: DomainAction.self)
        )
        guard missing.isEmpty, let a = library.0, let b = library.1, let c = library.2, let d = library.3, let e = library.4,
            let f = library.5, let g = library.6, let h = library.7, let i = library.8, let j = library.9, let k = library.10,
            let l = library.11, let m = library.12, let n = library.13, let o = library.14, let p = library.15, let q = library.16
        else {
            return .failure(LibvirtError(call: "dlsym", message: "\(name) lacks \(missing.joined(separator: ", "))"))
        }
        return .success(
            LibvirtLibrary(
                handle: handle,
                connectOpenReadOnly: a, connectClose: b, setErrorFunc: c, domainGetXMLDesc: d, domainFree: e,
                connectListAllDomains: f, domainGetName: g, domainGetUUIDString: h, domainGetState: i,
                domainLookupByUUIDString: j, domainLookupByName: k, resetLastError: l, getLastError: m,
                domainIsActive: n, connectOpen: o, domainSuspend: p, domainDestroy: q))
    }
}
