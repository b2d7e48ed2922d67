#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A shared library loaded at run time with dlopen(3), owned by this object: dlclose'd when
/// the last reference goes, so whoever keeps function pointers from it keeps the library too.
/// smbvol loads libcurl and libvirt this way so that the many runs that need neither (most
/// hook calls) do not map them and everything they depend on at start-up.
public final class DynamicLibrary: @unchecked Sendable {  // the handle is immutable; dlsym is thread-safe
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        /// dlopen failed: the library is missing or cannot be loaded; `reason` is dlerror's text.
        case cannotLoad(library: String, reason: String)
        /// The library loaded but does not define `symbol` (an older or different build).
        case missingSymbol(library: String, symbol: String)

        public var description: String {
            switch self {
            case .cannotLoad(let library, let reason): return "cannot load \(library): \(reason)"
            case .missingSymbol(let library, let symbol): return "\(library) lacks \(symbol)"
            }
        }
    }

    /// The name given to dlopen, e.g. "libcurl.so.4" (what errors show).
    public let name: String
    private let handle: UnsafeMutableRawPointer

    /// Loads `name` with RTLD_NOW (every symbol resolved now, not at a first call that could
    /// fail later) and RTLD_LOCAL (its symbols stay out of the global namespace).
    public init(name: String) throws(Failure) {
        guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
            throw .cannotLoad(library: name, reason: Self.lastError() ?? "unknown error")
        }
        self.name = name
        self.handle = handle
    }

    private init(name: String, handle: UnsafeMutableRawPointer) {
        self.name = name
        self.handle = handle
    }

    /// The symbols already in the process: the program and the libraries it links (libc
    /// included), for a libc function Swift's Glibc module does not declare.
    public static let runningProgram: DynamicLibrary? = dlopen(nil, RTLD_NOW).map {
        DynamicLibrary(name: "the running program", handle: $0)
    }

    /// The address of `symbol` as a `T`, which must be the matching `@convention(c)` function
    /// type (nothing can check that: a wrong type is undefined behaviour at the first call).
    public func symbol<T>(named symbol: String, as type: T.Type = T.self) throws(Failure) -> T {
        unsafeBitCast(try address(of: symbol), to: type)
    }

    /// The raw address of `symbol`, for the callers that pass it to a C shim.
    public func address(of symbol: String) throws(Failure) -> UnsafeMutableRawPointer {
        _ = dlerror()  // a stale error would be mistaken for this lookup's
        guard let address = dlsym(handle, symbol) else { throw .missingSymbol(library: name, symbol: symbol) }
        return address
    }

    deinit { dlclose(handle) }

    private static func lastError() -> String? { dlerror().map { String(cString: $0) } }
}
