import Foundation

/// Test controls under `/_sim/`: no authentication, never logged, never faulted.
extension SimulatorState {
    mutating func handleAdmin(_ request: SimulatorRequest) -> SimulatorResponse {
        let path = request.rawPath.hasSuffix("/") ? String(request.rawPath.dropLast()) : request.rawPath
        do {
            switch (request.method, path) {
            case ("GET", "/_sim/state"):
                return .json(stateJSON())
            case ("POST", "/_sim/faults"):
                let fault: Fault = try Self.decodeAdmin(request.body)
                try fault.validate()
                faults.append(ActiveFault(fault))
                return .json(.object([("faults", .int(faults.count))]))
            case ("DELETE", "/_sim/faults"):
                faults.removeAll()
                return .json(.object([("faults", .int(0))]))
            case ("POST", "/_sim/requests/reset"):
                requestLog.removeAll()
                return .json(.object([("requests", .int(0))]))
            case ("POST", "/_sim/handles"):
                let list: [Scenario.Handle] = try Self.decodeAdmin(request.body)
                try addHandles(list)
                return .json(.object([("handles", .int(handles.count))]))
            case ("POST", "/_sim/sessions"):
                let list: [Scenario.Session] = try Self.decodeAdmin(request.body)
                try addSessions(list)
                return .json(.object([("sessions", .int(sessions.count))]))
            case ("DELETE", "/_sim/sessions"):
                sessions.removeAll()
                return .json(.object([("sessions", .int(0))]))
            default:
                return QumuloError.notFound(request.rawPath).response
            }
        } catch {
            return QumuloError.invalidRequest(error.description).response
        }
    }

    private func stateJSON() -> JSONValue {
        .object([
            ("closed_locations", .array(closedLocations.map(JSONValue.string))),
            ("closed_sessions", .array(closedSessions.map(JSONValue.string))),
            ("partial_session_closes", .array(partialSessionCloses.map(JSONValue.string))),
            ("handles", .int(handles.count)),
            (
                "share_network_permissions",
                .object(shares.map { ($0.id, .array(($0.networkPermissions ?? [.allowEveryone]).map(\.json))) })
            ),
            ("sessions", .int(sessions.count)),
            ("logins", .int(logins)),
            ("faults", .int(faults.count)),
            (
                "requests",
                .array(
                    requestLog.map { entry in
                        .object([
                            ("method", .string(entry.method)),
                            ("path", .string(entry.path)),
                            ("status", .int(entry.status)),
                            ("authenticated", .bool(entry.authenticated)),
                        ])
                    })
            ),
        ])
    }

    private static func decodeAdmin<T: Decodable>(_ body: [UInt8]) throws(ScenarioError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch {
            throw .invalidJSON("\(error)")
        }
    }
}
