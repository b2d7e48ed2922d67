/// How the cluster's certificate is checked.
public enum TLSVerification: Sendable, Equatable {
    /// Against the system CA store, hostname included (the default).
    case systemCAs
    /// Against the PEM bundle at this path, hostname included.
    case caFile(String)
    /// Not at all. Only when the operator asked for it explicitly; warned about on every run.
    case insecure
}

/// Where a cluster node is and how to talk to it.
public struct ClusterEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var scheme: String
    public var verification: TLSVerification

    public init(host: String, port: Int = 8000, scheme: String = "https", verification: TLSVerification = .systemCAs) {
        self.host = host
        self.port = port
        self.scheme = scheme
        self.verification = verification
    }

    /// `https://host:port`, with IPv6 literals bracketed.
    public var baseURL: String {
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(hostPart):\(port)"
    }
}
