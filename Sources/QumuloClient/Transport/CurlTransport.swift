import CCurl
import SmbvolSystem

/// HTTP over one libcurl easy handle, reused for every request of a run so the connection and
/// its TLS session are kept alive (one handshake per run).
///
/// Not thread-safe: one client, one thread. Several requests at once go through
/// `CurlMultiTransport` instead (libcurl's multi interface, still one thread).
public final class CurlTransport: HTTPTransport {
    public let endpoint: ClusterEndpoint
    public private(set) var requestCount = 0
    /// Largest answer accepted; an "enormous page" is an error, not an out-of-memory kill.
    public let maximumResponseBytes: Int

    private let easy: CurlEasyHandle

    public init(endpoint: ClusterEndpoint, maximumResponseBytes: Int = 256 * 1024 * 1024) throws(TransportFailure) {
        self.endpoint = endpoint
        self.maximumResponseBytes = maximumResponseBytes
        easy = try CurlEasyHandle(endpoint: endpoint, maximumResponseBytes: maximumResponseBytes)
    }

    public func send(_ request: HTTPRequest, timeout: Duration) throws(TransportFailure) -> HTTPResponse {
        requestCount += 1
        return try easy.perform(request, timeout: timeout)
    }
}
