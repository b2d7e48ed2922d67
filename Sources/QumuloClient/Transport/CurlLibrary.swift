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

    let globalInit: GlobalInit
    let easyInit: EasyInit
    let easyCleanup: EasyCleanup
    let easyPerform: EasyPerform
    let easyStrerror: EasyStrerror
    let slistAppend: SlistAppend
    let slistFreeAll: SlistFreeAll
    /// `curl_easy_setopt` / `curl_easy_getinfo`, called through CCurl's typed shims.
    let setopt: UnsafeMutableRawPointer
    let getinfo: UnsafeMutableRawPointer

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
        let library = CurlLibrary(
            globalInit: unsafeBitCast(globalInit, to: GlobalInit.self),
            easyInit: unsafeBitCast(easyInit, to: EasyInit.self),
            easyCleanup: unsafeBitCast(easyCleanup, to: EasyCleanup.self),
            easyPerform: unsafeBitCast(easyPerform, to: EasyPerform.self),
            easyStrerror: unsafeBitCast(easyStrerror, to: EasyStrerror.self),
            slistAppend: unsafeBitCast(slistAppend, to: SlistAppend.self),
            slistFreeAll: unsafeBitCast(slistFreeAll, to: SlistFreeAll.self),
            setopt: setopt, getinfo: getinfo)
        let code = library.globalInit(Int(CURL_GLOBAL_DEFAULT))
        guard code == CURLE_OK else { return .failure(.other("curl_global_init failed: \(library.message(code))")) }
        return .success(library)
    }
}
