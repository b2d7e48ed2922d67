import SmbvolUseCases
import QumuloClient
import SmbvolMetrics

/// Counts every failed cluster request (smbvol_cluster_request_errors_total{cluster, class}),
/// retries included, then passes the answer or the failure on unchanged.
public final class RequestErrorCountingTransport: HTTPTransport {
    private let inner: any HTTPTransport
    private let cluster: String

    public init(_ inner: any HTTPTransport, cluster: String) {
        self.inner = inner
        self.cluster = cluster
    }

    public var requestCount: Int { inner.requestCount }

    public func send(_ request: HTTPRequest, timeout: Duration) throws(TransportFailure) -> HTTPResponse {
        let response: HTTPResponse
        do {
            response = try inner.send(request, timeout: timeout)
        } catch {
            count(Self.errorClass(error))
            throw error
        }
        if response.status >= 400 { count(Self.errorClass(status: response.status)) }
        return response
    }

    private func count(_ errorClass: String) {
        MetricsRecorder.shared.increment(.clusterRequestErrors, labels: ["cluster": cluster, "class": errorClass])
    }

    public static func errorClass(_ failure: TransportFailure) -> String {
        switch failure {
        case .connection: return "connection"
        case .tls: return "tls"
        case .timedOut: return "timeout"
        case .responseTooLarge, .other: return "other"
        }
    }

    public static func errorClass(status: Int) -> String {
        switch status {
        case 401: return "http_401"
        case 403: return "http_403"
        case 500...599: return "http_5xx"
        default: return "http_4xx"
        }
    }
}
