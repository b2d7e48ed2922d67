import Foundation
import Synchronization

/// The simulator's request handling, independent of any HTTP transport.
public final class SimulatorService: Sendable {
    let state: Mutex<SimulatorState>
    private let stopping = Mutex(false)
    /// Read once: requests are matched against it outside the state lock.
    let variant: ClusterVariant

    /// - Parameter apiPrefix: overrides the scenario's `cluster.api_prefix`.
    public init(
        scenario: Scenario, pageSize: Int? = nil, apiPrefix: String? = nil, samba: SambaBackendConfiguration? = nil
    ) throws(ScenarioError) {
        var scenario = scenario
        if let apiPrefix {
            var variant = scenario.cluster ?? ClusterVariant()
            variant.apiPrefix = apiPrefix
            scenario.cluster = variant
        }
        var initial = try SimulatorState(scenario: scenario, pageSizeOverride: pageSize)
        initial.samba = samba.map(SambaBackend.init)
        if let samba { initial.serverAddress = samba.serverAddress }
        variant = initial.variant
        state = Mutex(initial)
    }

    public convenience init(scenarioJSON: String, pageSize: Int? = nil) throws(ScenarioError) {
        try self.init(scenario: Scenario.decode(Array(scenarioJSON.utf8)), pageSize: pageSize)
    }

    public var handleCount: Int { state.withLock { $0.handles.count } }
    public var pageSize: Int { state.withLock { $0.pageSize } }

    /// Makes hanging requests return so the server can stop.
    public func beginShutdown() { stopping.withLock { $0 = true } }
    public var isStopping: Bool { stopping.withLock { $0 } }

    /// Waits until shutdown or cancellation (for `hang` faults).
    public func waitWhileHanging() async {
        while !isStopping, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    public func handle(_ request: SimulatorRequest) async -> SimulatorResponse {
        if request.rawPath == "/_sim" || request.rawPath.hasPrefix("/_sim/") {
            return state.withLock { $0.handleAdmin(request) }
        }
        guard let request = variant.strippingPrefix(request) else {
            return state.withLock { state in
                let response = QumuloError.notFound(request.rawPath).response
                state.log(.init(method: request.method, path: request.target, status: response.status, authenticated: false))
                return response
            }
        }
        let path = request.rawPath
        if let samba = state.withLock({ $0.samba }), SambaBackend.reads(path: path) {
            // Outside the state lock: the helper takes ~0.1-1 s.
            switch samba.snapshot() {
            case .success(let snapshot): state.withLock { $0.apply(snapshot) }
            case .failure(let error):
                return state.withLock { state in
                    state.log(.init(method: request.method, path: request.target, status: error.status, authenticated: false))
                    return error.response
                }
            }
        }
        let pre = state.withLock { $0.preRequestFaults(path: path) }
        if pre.hangs {
            state.withLock {
                $0.log(.init(method: request.method, path: request.target, status: 0, authenticated: false))
            }
            return SimulatorResponse(status: 0, body: [], hangs: true)
        }
        if pre.latencyMilliseconds > 0 {
            try? await Task.sleep(for: .milliseconds(pre.latencyMilliseconds))
        }
        return state.withLock { state in
            var authenticated = false
            var response: SimulatorResponse
            if let status = pre.status {
                response = QumuloError.injected(status: status).response
            } else {
                do throws(QumuloError) {
                    response = try state.route(request, authenticated: &authenticated)
                } catch {
                    response = error.response
                }
            }
            if response.status == 200, state.fires(.invalidJSON, path: path) {
                response.body = Array(response.body.prefix(max(1, response.body.count / 2)))
            }
            state.log(
                .init(method: request.method, path: request.target, status: response.status,
                      authenticated: authenticated))
            return response
        }
    }
}

extension Scenario {
    public static func decode(_ bytes: [UInt8]) throws(ScenarioError) -> Scenario {
        do {
            return try JSONDecoder().decode(Scenario.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw .invalidJSON(Self.describe(error))
        } catch {
            throw .invalidJSON("\(error)")
        }
    }

    public static func load(path: String) throws(ScenarioError) -> Scenario {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        return try decode(Array(data))
    }

    private static func describe(_ error: DecodingError) -> String {
        func at(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(at(context)) missing key \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return at(context)
        @unknown default: return "\(error)"
        }
    }
}
