import CCurl

/// libcurl's multi interface: up to `maximumInFlight` exchanges at once on one thread, over
/// connections the multi handle keeps alive and reuses (one TLS handshake per connection, at
/// most `maximumInFlight` connections to the cluster: CURLMOPT_MAX_HOST_CONNECTIONS).
///
/// Not thread-safe: one listing, one thread. Easy handles are pooled and reused.
public final class CurlMultiTransport: ConcurrentHTTPTransport {
    public let endpoint: ClusterEndpoint
    public let maximumInFlight: Int
    public let maximumResponseBytes: Int
    public private(set) var requestCount = 0

    private let curl: CurlLibrary
    private let multi: UnsafeMutableRawPointer
    private var idle: [CurlEasyHandle] = []
    /// Easy handle address → (handle, tag) of every exchange in flight.
    private var running: [UnsafeMutableRawPointer: (easy: CurlEasyHandle, tag: Int)] = [:]
    /// Finished exchanges not yet handed back.
    private var finished: [(tag: Int, result: Result<HTTPResponse, TransportFailure>)] = []

    public init(endpoint: ClusterEndpoint, maximumInFlight: Int = 4, maximumResponseBytes: Int = 256 * 1024 * 1024) throws(TransportFailure) {
        curl = try CurlLibrary.shared.get()
        guard let multi = curl.multi.initialize() else { throw .other("curl_multi_init failed") }
        self.multi = multi
        self.endpoint = endpoint
        self.maximumInFlight = max(1, maximumInFlight)
        self.maximumResponseBytes = maximumResponseBytes
        for (option, value) in [(CURLMOPT_MAX_HOST_CONNECTIONS, self.maximumInFlight), (CURLMOPT_MAXCONNECTS, self.maximumInFlight)] {
            let code = smbvol_curl_multi_setopt_long(curl.multi.setopt, multi, option, value)
            guard code == CURLM_OK else {
                _ = curl.multi.cleanup(multi)
                throw .other("libcurl refused multi option \(option): \(curl.multi.message(code))")
            }
        }
    }

    deinit {
        for (pointer, _) in running { _ = curl.multi.removeHandle(multi, pointer) }
        running.removeAll()
        idle.removeAll()
        _ = curl.multi.cleanup(multi)
    }

    public var inFlight: Int { running.count + finished.count }

    public func start(_ request: HTTPRequest, timeout: Duration, tag: Int) throws(TransportFailure) {
        guard inFlight < maximumInFlight else {
            throw .other("more than \(maximumInFlight) requests in flight (caller bug)")
        }
        let easy: CurlEasyHandle
        if let reused = idle.popLast() {
            easy = reused
        } else {
            easy = try CurlEasyHandle(endpoint: endpoint, maximumResponseBytes: maximumResponseBytes)
        }
        do throws(TransportFailure) {
            try easy.prepare(request, timeout: timeout)
        } catch {
            idle.append(easy)
            throw error
        }
        let code = curl.multi.addHandle(multi, easy.handle)
        guard code == CURLM_OK else {
            _ = easy.finish(CURLE_OK)
            idle.append(easy)
            throw .other("curl_multi_add_handle: \(curl.multi.message(code))")
        }
        requestCount += 1
        running[easy.handle] = (easy, tag)
    }

    public func nextCompleted() -> (tag: Int, result: Result<HTTPResponse, TransportFailure>)? {
        while finished.isEmpty {
            guard !running.isEmpty else { return nil }
            var active: Int32 = 0
            let performed = curl.multi.perform(multi, &active)
            if performed != CURLM_OK {
                failAll("curl_multi_perform: \(curl.multi.message(performed))")
                break
            }
            collectFinished()
            guard finished.isEmpty, active > 0 else { continue }
            // Every transfer has its own CURLOPT_TIMEOUT_MS, so this wait always ends.
            var ready: Int32 = 0
            let polled = curl.multi.poll(multi, nil, 0, 1000, &ready)
            if polled != CURLM_OK {
                failAll("curl_multi_poll: \(curl.multi.message(polled))")
            }
        }
        return finished.isEmpty ? nil : finished.removeFirst()
    }

    public func sendStarted() {
        guard !running.isEmpty else { return }
        var active: Int32 = 0
        let performed = curl.multi.perform(multi, &active)
        if performed != CURLM_OK {
            failAll("curl_multi_perform: \(curl.multi.message(performed))")
            return
        }
        collectFinished()
    }

    private func collectFinished() {
        var queued: Int32 = 0
        while let message = curl.multi.infoRead(multi, &queued) {
            var handle: UnsafeMutableRawPointer? = nil
            var result = CURLE_OK
            guard smbvol_curl_message_done(message, &handle, &result) != 0, let handle,
                let (easy, tag) = running.removeValue(forKey: handle)
            else { continue }
            _ = curl.multi.removeHandle(multi, handle)
            finished.append((tag, easy.finish(result)))
            idle.append(easy)
        }
    }

    /// A multi-level failure ends every transfer in flight with that reason.
    private func failAll(_ reason: String) {
        for (pointer, entry) in running {
            _ = curl.multi.removeHandle(multi, pointer)
            _ = entry.easy.finish(CURLE_OK)
            finished.append((entry.tag, .failure(.other(reason))))
            idle.append(entry.easy)
        }
        running.removeAll()
    }
}
