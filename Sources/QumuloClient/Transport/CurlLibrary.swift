import CCurl

#if canImport(Glibc)
import Glibc
#endif

/// libcurl, loaded on first use with `dlopen("libcurl.so.4")`: most hook runs (a domain with no
/// disk on a configured share, `release`, `started`…) talk to no cluster, and linking libcurl
/// would make every one of them load it and the ~25 libraries it depends on at start-up.
/// CCurl supplies the types and constants; the functions are looked up here, once per process.
struct CurlLibrary: @unchecked Sendable {  // immutable C function pointers
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
        guard let handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            return .failure(.other("cannot load libcurl (install libcurl4): \(reason)"))
        }
        func symbol(_ name: String) -> UnsafeMutableRawPointer? { dlsym(handle, name) }
        guard let globalInit = symbol("curl_global_init"), let easyInit = symbol("curl_easy_init"),
            let easyCleanup = symbol("curl_easy_cleanup"), let easyPerform = symbol("curl_easy_perform"),
            let easyStrerror = symbol("curl_easy_strerror"), let slistAppend = symbol("curl_slist_append"),
            let slistFreeAll = symbol("curl_slist_free_all"), let setopt = symbol("curl_easy_setopt"),
            let getinfo = symbol("curl_easy_getinfo")
        else {
            return .failure(.other("libcurl.so.4 lacks an expected function; is libcurl4 installed?"))
        }
        guard let multiInit = symbol("curl_multi_init"), let multiCleanup = symbol("curl_multi_cleanup"),
            let multiAdd = symbol("curl_multi_add_handle"), let multiRemove = symbol("curl_multi_remove_handle"),
            let multiPerform = symbol("curl_multi_perform"), let multiPoll = symbol("curl_multi_poll"),
            let multiInfoRead = symbol("curl_multi_info_read"), let multiStrerror = symbol("curl_multi_strerror"),
            let multiSetopt = symbol("curl_multi_setopt")
        else {
            return .failure(.other("libcurl.so.4 lacks the multi interface (curl_multi_poll needs libcurl 7.66 or later)"))
        }
        let multi = Multi(
            initialize: unsafeBitCast(multiInit, to: MultiInit.self),
            cleanup: unsafeBitCast(multiCleanup, to: MultiCleanup.self),
            addHandle: unsafeBitCast(multiAdd, to: MultiHandleOperation.self),
            removeHandle: unsafeBitCast(multiRemove, to: MultiHandleOperation.self),
            perform: unsafeBitCast(multiPerform, to: MultiPerform.self),
            poll: unsafeBitCast(multiPoll, to: MultiPoll.self),
            infoRead: unsafeBitCast(multiInfoRead, to: MultiInfoRead.self),
            strerror: unsafeBitCast(multiStrerror, to: MultiStrerror.self),
            setopt: multiSetopt)
        let library = CurlLibrary(
            globalInit: unsafeBitCast(globalInit, to: GlobalInit.self),
            easyInit: unsafeBitCast(easyInit, to: EasyInit.self),
            easyCleanup: unsafeBitCast(easyCleanup, to: EasyCleanup.self),
            easyPerform: unsafeBitCast(easyPerform, to: EasyPerform.self),
            easyStrerror: unsafeBitCast(easyStrerror, to: EasyStrerror.self),
            slistAppend: unsafeBitCast(slistAppend, to: SlistAppend.self),
            slistFreeAll: unsafeBitCast(slistFreeAll, to: SlistFreeAll.self),
            multi: multi, setopt: setopt, getinfo: getinfo)
        let code = library.globalInit(Int(CURL_GLOBAL_DEFAULT))
        guard code == CURLE_OK else { return .failure(.other("curl_global_init failed: \(library.message(code))")) }
        return .success(library)
    }
}
