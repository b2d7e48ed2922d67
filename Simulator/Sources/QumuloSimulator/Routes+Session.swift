/// `/v1/version`, `/v1/session/login`, `/v1/session/who-am-i`.
extension SimulatorState {
    func versionResponse() -> SimulatorResponse {
        .json(
            .object([
                ("revision_id", .string("Qumulo Core 7.2.0 (simulator)")),
                ("build_id", .string("qumulo-sim")),
                ("flavor", .string("release")),
                ("build_date", .string("2025-01-01T00:00:00Z")),
            ]))
    }

    mutating func login(_ request: SimulatorRequest) throws(QumuloError) -> SimulatorResponse {
        let body = try jsonBody(request)
        guard let name = body["username"]?.stringValue, let password = body["password"]?.stringValue else {
            throw .invalidRequest("login needs \"username\" and \"password\"")
        }
        guard let user = users[name], user.password == password else { throw .invalidCredentials() }
        var generator = SystemRandomNumberGenerator()
        let token = "session-v1:" + (0..<4).map { _ in String(generator.next(), radix: 36) }.joined()
        tokens[token] = TokenRecord(user: user.name)
        logins += 1
        return .json(.object([("bearer_token", .string(token))]))
    }

    func whoAmI(_ user: UserRecord?) -> SimulatorResponse {
        guard let user else { return QumuloError.unauthorized().response }
        let identity = identity(authID: user.authID)
        return .json(
            .object([
                ("id", .string(user.authID)),
                ("name", .string(user.name)),
                ("sid", identity?.sid.map(JSONValue.string) ?? .null),
                ("uid", identity?.uid.map { .string(String($0)) } ?? .null),
                ("primary_group", .string("513")),
                ("privileges", .array(user.privileges.map(JSONValue.string))),
            ]))
    }
}
