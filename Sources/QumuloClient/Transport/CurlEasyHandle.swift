import CCurl
import SmbvolSystem

/// One libcurl easy handle, configured for a cluster once and reused for every exchange it
/// carries: by `CurlTransport` one after another (`perform`), by `CurlMultiTransport` while other
/// exchanges are in flight (`prepare`, then `finish` when the multi handle says it is done).
///
/// The bearer token only ever lives in the header list handed to libcurl, freed when the
/// exchange ends; verbose output stays off so it is never printed.
final class CurlEasyHandle {
    let endpoint: ClusterEndpoint
    let maximumResponseBytes: Int
    let curl: CurlLibrary
    let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var headers: UnsafeMutablePointer<curl_slist>?
    private var collector: Unmanaged<ResponseCollector>?

    init(endpoint: ClusterEndpoint, maximumResponseBytes: Int) throws(TransportFailure) {
        curl = try CurlLibrary.shared.get()
        guard let handle = curl.easyInit() else { throw .other("curl_easy_init failed") }
        self.handle = handle
        self.endpoint = endpoint
        self.maximumResponseBytes = maximumResponseBytes
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        try configureConnection()
    }

    deinit {
        releaseExchange()
        curl.easyCleanup(handle)
        errorBuffer.deallocate()
    }

    private func configureConnection() throws(TransportFailure) {
        try set(CURLOPT_NOSIGNAL, 1)  // timeouts without SIGALRM: safe with threads and our own signal handling
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        try set(CURLOPT_PROTOCOLS_STR, "https,http")
        try set(CURLOPT_FOLLOWLOCATION, 0)
        try set(CURLOPT_TCP_KEEPALIVE, 1)
        try set(CURLOPT_WRITEFUNCTION, callback: curlWriteCallback)
        try set(CURLOPT_HEADERFUNCTION, callback: curlHeaderCallback)
        switch endpoint.verification {
        case .systemCAs:
            try set(CURLOPT_SSL_VERIFYPEER, 1)
            try set(CURLOPT_SSL_VERIFYHOST, 2)
        case .caFile(let path):
            try set(CURLOPT_SSL_VERIFYPEER, 1)
            try set(CURLOPT_SSL_VERIFYHOST, 2)
            try set(CURLOPT_CAINFO, path)
        case .insecure:
            try set(CURLOPT_SSL_VERIFYPEER, 0)
            try set(CURLOPT_SSL_VERIFYHOST, 0)
        }
    }

    /// Sends one request and waits for its answer (the easy interface).
    func perform(_ request: HTTPRequest, timeout: Duration) throws(TransportFailure) -> HTTPResponse {
        try prepare(request, timeout: timeout)
        return try finish(curl.easyPerform(handle)).get()
    }

    /// Sets everything for one exchange; the caller then performs it (easy or multi).
    func prepare(_ request: HTTPRequest, timeout: Duration) throws(TransportFailure) {
        releaseExchange()
        errorBuffer[0] = 0
        let timeoutMilliseconds = max(1, Int(timeout.nanosecondsClamped / 1_000_000))
        try set(CURLOPT_URL, endpoint.url(forPath: request.path))
        try set(CURLOPT_TIMEOUT_MS, timeoutMilliseconds)
        try set(CURLOPT_CONNECTTIMEOUT_MS, timeoutMilliseconds)

        headers = curl.slistAppend(headers, "Content-Type: application/json")
        headers = curl.slistAppend(headers, "Accept: application/json")
        if let token = request.bearerToken {
            headers = curl.slistAppend(headers, "Authorization: Bearer \(token)")
        }
        if let ifMatch = request.ifMatch {
            // An ETag is a quoted token; anything with a line break would forge headers.
            guard !ifMatch.contains(where: { $0 == "\r" || $0 == "\n" }) else { throw .other("If-Match value holds a line break") }
            headers = curl.slistAppend(headers, "If-Match: \(ifMatch)")
        }
        try check(smbvol_curl_setopt_slist(curl.setopt, handle, CURLOPT_HTTPHEADER, headers), option: "CURLOPT_HTTPHEADER")

        switch request.method {
        case .get:
            try set(CURLOPT_HTTPGET, 1)
            try set(CURLOPT_CUSTOMREQUEST, nil as String?)
        case .post, .put, .delete, .patch:
            try set(CURLOPT_POST, 1)
            try set(CURLOPT_CUSTOMREQUEST, request.method == .post ? nil : request.method.rawValue)
            try check(
                smbvol_curl_setopt_offset(curl.setopt, handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)),
                option: "CURLOPT_POSTFIELDSIZE_LARGE")
            let copied = request.body.withUnsafeBytes { raw in
                smbvol_curl_setopt_pointer(curl.setopt, handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(errorBuffer)))
            }
            try check(copied, option: "CURLOPT_COPYPOSTFIELDS")
        }

        let retained = Unmanaged.passRetained(ResponseCollector(limit: maximumResponseBytes))
        collector = retained
        try set(CURLOPT_WRITEDATA, pointer: retained.toOpaque())
        try set(CURLOPT_HEADERDATA, pointer: retained.toOpaque())
    }

    /// The answer of the exchange that ended with `code`; frees its headers and buffer.
    func finish(_ code: CURLcode) -> Result<HTTPResponse, TransportFailure> {
        defer { releaseExchange() }
        guard let collector = collector?.takeUnretainedValue() else { return .failure(.other("no exchange in progress")) }
        if collector.overflowed { return .failure(.responseTooLarge(limit: maximumResponseBytes)) }
        guard code == CURLE_OK else { return .failure(failure(for: code)) }
        var status = 0
        _ = smbvol_curl_getinfo_long(curl.getinfo, handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, body: collector.bytes, etag: collector.etag))
    }

    private func releaseExchange() {
        if headers != nil {
            _ = smbvol_curl_setopt_slist(curl.setopt, handle, CURLOPT_HTTPHEADER, nil)
            curl.slistFreeAll(headers)
            headers = nil
        }
        if let collector {
            _ = smbvol_curl_setopt_pointer(curl.setopt, handle, CURLOPT_WRITEDATA, nil)
            _ = smbvol_curl_setopt_pointer(curl.setopt, handle, CURLOPT_HEADERDATA, nil)
            collector.release()
            self.collector = nil
        }
    }

    private func failure(for code: CURLcode) -> TransportFailure {
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? curl.message(code) : detail
        let target = "\(endpoint.host):\(endpoint.port)"
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_SEND_ERROR,
            CURLE_RECV_ERROR, CURLE_GOT_NOTHING:
            return .connection("\(target): \(message)")
        case CURLE_OPERATION_TIMEDOUT:
            return .timedOut("\(target): \(message)")
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_USE_SSL_FAILED, CURLE_SSL_ENGINE_INITFAILED:
            return .tls("\(target): \(message)")
        default:
            return .other("\(target): \(message)")
        }
    }

    // MARK: - setopt helpers (every return code checked)

    private func set(_ option: CURLoption, _ value: Int) throws(TransportFailure) {
        try check(smbvol_curl_setopt_long(curl.setopt, handle, option, value), option: "\(option)")
    }

    private func set(_ option: CURLoption, _ value: String?) throws(TransportFailure) {
        let code: CURLcode
        if let value {
            code = value.withCString { smbvol_curl_setopt_string(curl.setopt, handle, option, $0) }
        } else {
            code = smbvol_curl_setopt_string(curl.setopt, handle, option, nil)
        }
        try check(code, option: "\(option)")
    }

    private func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws(TransportFailure) {
        try check(smbvol_curl_setopt_pointer(curl.setopt, handle, option, pointer), option: "\(option)")
    }

    private func set(_ option: CURLoption, callback: smbvol_curl_data_callback) throws(TransportFailure) {
        try check(smbvol_curl_setopt_data_callback(curl.setopt, handle, option, callback), option: "\(option)")
    }

    private func check(_ code: CURLcode, option: String) throws(TransportFailure) {
        guard code == CURLE_OK else {
            throw .other("libcurl refused option \(option): \(curl.message(code))")
        }
    }
}

/// Collects one answer's body; stops (and says so) past the size limit.
private final class ResponseCollector {
    var bytes: [UInt8] = []
    let limit: Int
    var overflowed = false
    /// The last answer's `ETag` (a new status line, e.g. after `100 Continue`, starts over).
    var etag: String?

    init(limit: Int) { self.limit = limit }
}

/// Keeps the one response header smbvol reads: `ETag`.
private func curlHeaderCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userData: UnsafeMutableRawPointer?
) -> Int {
    let length = size * count
    guard let userData, let data, length > 0 else { return length }
    let collector = Unmanaged<ResponseCollector>.fromOpaque(userData).takeUnretainedValue()
    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        String(decoding: UnsafeBufferPointer(start: bytes, count: min(length, 8192)), as: UTF8.self)
    }
    if line.hasPrefix("HTTP/") {
        collector.etag = nil
    } else if let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == "etag" {
        let value = line[line.index(after: colon)...].drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()
        collector.etag = value.isEmpty ? nil : String(value)
    }
    return length
}

private func curlWriteCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userData: UnsafeMutableRawPointer?
) -> Int {
    guard let userData else { return 0 }
    let collector = Unmanaged<ResponseCollector>.fromOpaque(userData).takeUnretainedValue()
    let length = size * count
    guard let data, length > 0 else { return length }
    if collector.bytes.count + length > collector.limit {
        collector.overflowed = true
        return 0  // makes libcurl abort the transfer with CURLE_WRITE_ERROR
    }
    data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        collector.bytes.append(contentsOf: UnsafeBufferPointer(start: bytes, count: length))
    }
    return length
}
