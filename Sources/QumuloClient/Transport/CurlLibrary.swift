import CCurl
import SmbvolSystem

/// libcurl, loaded on first use with `dlopen("libcurl.so.4")`: most hook runs (a domain with no
/// disk on a configured share, `release`, `started`…) talk to no cluster, and linking libcurl
/// would make every one of them load it and the ~25 libraries it depends on at start-up.
/// CCurl supplies the types and constants; the functions are looked up here, once per process.
struct CurlLibrary: @unchecked Sendable {  // immutable C function pointers and the library they live in
    typealias GlobalInit = @convention(c) (Int) -> CURLcode
    typealias EasyInit = @convention(c) () -> UnsafeMutableRawPointer?
    typealias EasyCleanup = @convention(c) (UnsafeMutableRawPointer?) -> Void
    typealias EasyPerform = @convention(c) (UnsafeMutableRawPointer?) -> CURLcode
    typealias EasyStrerror = @convention(c) (CURLcode) -> UnsafePointer<CChar>?
    typealias SlistAppend = @convention(c) (UnsafeMutablePointer<curl_slist>?, UnsafePointer<CChar>?) -> UnsafeMutablePointer<curl_slist>?
    typealias SlistFreeAll = @convention(c) (UnsafeMutablePointer<curl_slist>?) -> Void
    typealias MultiInit = @convention(c) () -> UnsafeMutableRawPointer?
    typealias MultiCleanup = @convention(c) (UnsafeMutableRawPointer?) -> CURLMcode
    typealias MultiHandleOperation = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> CURLMcode
    typealias MultiPerform = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?) -> CURLMcode
    typealias MultiPoll = @convention(c) (
        UnsafeMutableRawPointer?, UnsafeMutablePointer<curl_waitfd>?, UInt32, Int32, UnsafeMutablePointer<Int32>?
    ) -> CURLMcode
    typealias MultiInfoRead = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?) -> UnsafeMutablePointer<CURLMsg>?
    typealias MultiStrerror = @convention(c) (CURLMcode) -> UnsafePointer<CChar>?

    /// Kept so the library stays loaded as long as its function pointers are in use.
    let handle: DynamicLibrary
    let globalInit: GlobalInit
    let easyInit: EasyInit
    let easyCleanup: EasyCleanup
    let easyPerform: EasyPerform
    let easyStrerror: EasyStrerror
    let slistAppend: SlistAppend
    let slistFreeAll: SlistFreeAll
    /// The multi interface: several transfers in flight on one thread (CurlMultiTransport).
    let multi: Multi
    /// `curl_easy_setopt` / `curl_easy_getinfo`, called through CCurl's typed shims.
    let setopt: UnsafeMutableRawPointer
    let getinfo: UnsafeMutableRawPointer

    struct Multi {
        let initialize: MultiInit
        let cleanup: MultiCleanup
        let addHandle: MultiHandleOperation
        let removeHandle: MultiHandleOperation
        let perform: MultiPerform
        let poll: MultiPoll
        let infoRead: MultiInfoRead
        let strerror: MultiStrerror
        /// `curl_multi_setopt`, called through CCurl's typed shim.
        let setopt: UnsafeMutableRawPointer

        init(library: DynamicLibrary) throws(DynamicLibrary.Failure) {
            initialize = try library.symbol(named: "curl_multi_init")
            cleanup = try library.symbol(named: "curl_multi_cleanup")
            addHandle = try library.symbol(named: "curl_multi_add_handle")
            removeHandle = try library.symbol(named: "curl_multi_remove_handle")
            perform = try library.symbol(named: "curl_multi_perform")
            poll = try library.symbol(named: "curl_multi_poll")
            infoRead = try library.symbol(named: "curl_multi_info_read")
            strerror = try library.symbol(named: "curl_multi_strerror")
            setopt = try library.address(of: "curl_multi_setopt")
        }

        func message(_ code: CURLMcode) -> String {
            strerror(code).map { String(cString: $0) } ?? "libcurl multi error \(code.rawValue)"
        }
    }

    /// The process-wide library (loaded and `curl_global_init`ed once), or why it could not be.
    static let shared: Result<CurlLibrary, TransportFailure> = load()

    func message(_ code: CURLcode) -> String {
        easyStrerror(code).map { String(cString: $0) } ?? "libcurl error \(code.rawValue)"
    }

    private static func load() -> Result<CurlLibrary, TransportFailure> {
        let handle: DynamicLibrary
        do {
            handle = try DynamicLibrary(name: "libcurl.so.4")
        } catch {
            guard case .cannotLoad(_, let reason) = error else { return .failure(.other(error.description)) }
            return .failure(.other("cannot load libcurl (install libcurl4): \(reason)"))
        }
        let library: CurlLibrary
        do {
            let setopt = try handle.address(of: "curl_easy_setopt")
            let getinfo = try handle.address(of: "curl_easy_getinfo")
            let globalInit: GlobalInit = try handle.symbol(named: "curl_global_init")
            let easyInit: EasyInit = try handle.symbol(named: "curl_easy_init")
            let easyCleanup: EasyCleanup = try handle.symbol(named: "curl_easy_cleanup")
            let easyPerform: EasyPerform = try handle.symbol(named: "curl_easy_perform")
            let easyStrerror: EasyStrerror = try handle.symbol(named: "curl_easy_strerror")
            let slistAppend: SlistAppend = try handle.symbol(named: "curl_slist_append")
            let slistFreeAll: SlistFreeAll = try handle.symbol(named: "curl_slist_free_all")
            guard let multi = try? Multi(library: handle) else {
                return .failure(.other("libcurl.so.4 lacks the multi interface (curl_multi_poll needs libcurl 7.66 or later)"))
            }
            library = CurlLibrary(
                handle: handle, globalInit: globalInit, easyInit: easyInit, easyCleanup: easyCleanup,
                easyPerform: easyPerform, easyStrerror: easyStrerror, slistAppend: slistAppend,
                slistFreeAll: slistFreeAll, multi: multi, setopt: setopt, getinfo: getinfo)
        } catch {
            return .failure(.other("\(error); is libcurl4 installed?"))
        }
        let code = library.globalInit(Int(CURL_GLOBAL_DEFAULT))
        guard code == CURLE_OK else { return .failure(.other("curl_global_init failed: \(library.message(code))")) }
        return .success(library)
    }
}
