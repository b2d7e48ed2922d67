/// What an operator named on the command line about the cluster to use; every field nil means
/// "from the configuration". The hook has none of these: it passes `ClusterSelection()`, or
/// only the share's `cluster`.
public struct ClusterSelection: Sendable, Equatable {
    public var cluster: String?
    public var host: String?
    public var port: Int?
    public var apiPrefix: String?
    public var caFile: String?
    public var insecure = false
    public var user: String?
    public var passwordFile: String?
    public var password: String?
    public var credentialsStore: String?
    public var requestTimeoutSeconds: Double?

    public init(cluster: String? = nil) { self.cluster = cluster }

    /// The cluster of a share, unless the operator chose one (by name or host).
    public func defaulting(toCluster name: String?) -> ClusterSelection {
        var selection = self
        if selection.cluster == nil && selection.host == nil { selection.cluster = name }
        return selection
    }
}
