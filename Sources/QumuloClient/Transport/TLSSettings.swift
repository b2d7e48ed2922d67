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
    /// Path prefix the cluster serves its API under ("" or e.g. "/api" on port 443), put in
    /// front of every request path, followed `paging.next` links included (they come back
    /// without it).
    public var apiPrefix: String

    public init(
        host: String, port: Int = 8000, scheme: String = "https", verification: TLSVerification = .systemCAs,
        apiPrefix: String = ""
    ) {
        self.host = host
        self.port = port
        self.scheme = scheme
        self.verification = verification
        self.apiPrefix = apiPrefix
    }

    /// The full URL of an API path (path + query from the API root). A path that already
    /// carries the prefix (a server that does return it in `next`) is not prefixed twice: no
    /// API path itself starts with the prefix's segment (they start with /v1, /v2, /v3).
    public func url(forPath path: String) -> String {
        guard !apiPrefix.isEmpty, !(path == apiPrefix || path.hasPrefix(apiPrefix + "/") || path.hasPrefix(apiPrefix + "?")) else {
            return baseURL + path
        }
        return baseURL + apiPrefix + path
    }

    /// Checks and normalises an `api_prefix` setting: "" or "/segment[/segment…]", no trailing
    /// slash, only unreserved characters; a failure says why not.
    public static func normalizedAPIPrefix(_ text: String) -> Result<String, APIPrefixError> {
        var prefix = text
        while prefix.hasSuffix("/") { prefix.removeLast() }
        if prefix.isEmpty { return .success("") }
        guard prefix.hasPrefix("/") else { return .failure(APIPrefixError(prefix: text, reason: "must start with /")) }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/")
        guard prefix.allSatisfy({ allowed.contains($0) }), !prefix.contains("//") else {
            return .failure(APIPrefixError(prefix: text, reason: "may only hold letters, digits, - . _ ~ and single slashes"))
        }
        return .success(prefix)
    }

    /// `https://host:port`, with IPv6 literals bracketed.
    public var baseURL: String {
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(hostPart):\(port)"
    }
}

/// Why an `api_prefix` setting was refused.
public struct APIPrefixError: Error, Sendable, Equatable, CustomStringConvertible {
    public var prefix: String
    public var reason: String

    public var description: String { "api prefix \"\(prefix)\" \(reason) (e.g. \"/api\")" }
}
