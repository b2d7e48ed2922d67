import Logging
import SmbvolConfig

/// One action of the fence agent (`fence_smbvol`, the ClusterLabs convention), on the options
/// the executable parsed from stdin or its arguments.
public struct FenceAgent {
    /// What an action found or did; the executable turns it into the agent's line and status.
    public enum Answer: Sendable, Equatable {
        /// `off`: the node is fenced.
        case poweredOff
        /// `on`: the node is unfenced.
        case poweredOn
        /// `status`: no share denies the node / every share does.
        case statusOn, statusOff
        /// `list`: the hosts known from heartbeat records and the host_map.
        case hosts([KnownHost])
        /// `monitor`, `validate-all`: the check passed.
        case passed
    }

    public struct KnownHost: Sendable, Equatable {
        public var hostID: String
        public var hostname: String
    }

    public let options: FenceAgentOptions
    public let configuration: SmbvolConfiguration
    public let logger: Logger
    /// The fencing account's session on the cluster the options select (SmbvolWiring's
    /// `FenceSession.connecting` in the binary), opened once the node is known to be given.
    public let openSession: () throws -> FenceSession

    public init(options: FenceAgentOptions, configuration: SmbvolConfiguration, logger: Logger, openSession: @escaping () throws -> FenceSession) {
        self.options = options
        self.configuration = configuration
        self.logger = logger
        self.openSession = openSession
    }

    /// A node is needed by every action but `list`, `monitor` and `metadata`.
    public static func requireNode(_ options: FenceAgentOptions) throws {
        if options.action != .list && options.action != .monitor && options.action != .metadata && options.plug == nil && options.addresses.isEmpty {
            throw FenceFailure("no node given: set plug=HOST_ID (or port=), or address=ADDR")
        }
    }

    public func callAsFunction() throws -> Answer {
        try Self.requireNode(options)
        var session = try openSession()
        session.hostMap = options.hostMap.mapValues { Set($0.map(FenceAddress.canonical)) }
        switch options.action {
        case .off:
            try session.fence.fence(try session.target(host: options.plug, addresses: options.addresses, purpose: .fence), dryRun: false)
            return .poweredOff
        case .on:
            _ = try session.fence.unfence(try session.target(host: options.plug, addresses: options.addresses, purpose: .unfence), dryRun: false)
            return .poweredOn
        case .status:
            let target = try session.target(host: options.plug, addresses: options.addresses, purpose: .status)
            guard !target.addresses.isEmpty else { throw FenceFailure("no address known for \(target.host); set address=ADDR") }
            switch try session.fence.status(of: target.addresses) {
            case .notFenced: return .statusOn
            case .fenced: return .statusOff
            case .partial(let fenced, let open):
                throw FenceFailure("\(target.host) is fenced on \(fenced.joined(separator: ", ")) but not on \(open.joined(separator: ", ")); run action=off again")
            }
        case .list:
            return .hosts(session.knownHosts().map { KnownHost(hostID: $0.hostID, hostname: $0.hostname) })
        case .monitor:
            // The cluster answers, the account can read every share's restrictions.
            _ = try session.fence.status(of: [])
            return .passed
        case .validateAll:
            if let plug = options.plug {
                let target = try session.target(host: plug, addresses: options.addresses, purpose: .status)
                if let refusal = session.fence.refusal(for: target) { throw FenceFailure(refusal) }
            }
            return .passed
        case .metadata:
            return .passed
        }
    }
}
