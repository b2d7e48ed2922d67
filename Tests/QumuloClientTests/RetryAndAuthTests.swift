import QumuloClient
import SmbvolSystem
import SmbvolTestSupport
import Testing

@Suite("Retries, deadlines and re-login")
struct RetryAndAuthTests {
    let version = #"{"revision_id": "7.1.0", "build_id": "1", "flavor": "release", "build_date": "x"}"#

    @Test("5xx is retried with exponential backoff, at most 3 attempts")
    func retries5xx() throws {
        let clock = FakeClock()
        let transport = ScriptedTransport { _, count in
            count < 3 ? qumuloError(503, "service_unavailable", "busy") : json(self.version)
        }
        let answer = try makeClient(transport, clock: clock).version()
        #expect(answer.revisionId == "7.1.0")
        #expect(transport.requestCount == 3)
        // jitter fixed at 1: full backoff, 200 ms then 400 ms
        #expect(clock.sleeps == [.milliseconds(200), .milliseconds(400)])
    }

    @Test("gives up after 3 attempts and reports the last status")
    func givesUp() {
        let clock = FakeClock()
        let transport = ScriptedTransport { _, _ in qumuloError(502, "bad_gateway", "down") }
        #expect {
            try makeClient(transport, clock: clock).version()
        } throws: { error in
            (error as? QumuloError)?.status == 502
        }
        #expect(transport.requestCount == 3)
    }

    @Test("connection errors are retried; TLS failures are not")
    func connectionVersusTLS() throws {
        let refused = ScriptedTransport { _, count throws(TransportFailure) in
            if count == 1 { throw .connection("refused") }
            return json(self.version)
        }
        _ = try makeClient(refused).version()
        #expect(refused.requestCount == 2)

        let tls = ScriptedTransport { _, _ throws(TransportFailure) in throw .tls("certificate verify failed") }
        #expect {
            try makeClient(tls).version()
        } throws: { error in
            guard let error = error as? QumuloError, case .transport(.tls) = error.kind else { return false }
            return "\(error)".contains("ca_file")
        }
        #expect(tls.requestCount == 1)
    }

    @Test("POST is never retried (a close may already have happened)")
    func postNotRetried() {
        let transport = ScriptedTransport { _, _ in qumuloError(503, "busy", "busy") }
        #expect(throws: QumuloError.self) { try makeClient(transport).closeHandles(locations: ["1.2.3"]) }
        #expect(transport.requestCount == 1)
    }

    @Test("no backoff sleep runs past the deadline")
    func deadlineBoundsBackoff() {
        let clock = FakeClock()
        let transport = ScriptedTransport { _, _ in qumuloError(503, "busy", "busy") }
        let deadline = Deadline.after(.milliseconds(300), clock: clock)
        #expect(throws: QumuloError.self) { try makeClient(transport, clock: clock, deadline: deadline).version() }
        // 200 ms fits in 300 ms; the next 400 ms would not: two attempts only.
        #expect(transport.requestCount == 2)
        #expect(clock.sleeps == [.milliseconds(200)])
        #expect(transport.timeouts.allSatisfy { $0 <= .milliseconds(300) })
    }

    @Test("an expired deadline sends nothing")
    func expiredDeadline() {
        let clock = FakeClock()
        let deadline = Deadline.after(.milliseconds(10), clock: clock)
        clock.advance(by: .seconds(1))
        let transport = ScriptedTransport { _, _ in json(self.version) }
        #expect {
            try makeClient(transport, clock: clock, deadline: deadline).version()
        } throws: { error in
            (error as? QumuloError)?.kind == .deadlineExceeded
        }
        #expect(transport.requestCount == 0)
    }

    @Test("401 with a password: one new login, then the request continues")
    func reloginOnce() throws {
        let transport = ScriptedTransport { request, _ in
            if request.path == "/v1/session/login" { return json(#"{"bearer_token": "session-v1:fresh"}"#) }
            if request.bearerToken == "session-v1:stale" { return qumuloError(401, "http_unauthorized_error", "expired") }
            return json(#"{"id": "500", "name": "admin", "privileges": []}"#)
        }
        let login = ClusterLogin(accessToken: Secret("session-v1:stale"), username: "admin", password: Secret("hunter2!"))
        let me = try makeClient(transport, login: login).whoAmI()
        #expect(me.name == "admin")
        #expect(transport.paths == ["/v1/session/who-am-i", "/v1/session/login", "/v1/session/who-am-i"])
        #expect(transport.requests.last?.bearerToken == "session-v1:fresh")
        #expect(String(decoding: transport.requests[1].body, as: UTF8.self) == #"{"password":"hunter2!","username":"admin"}"#
            || String(decoding: transport.requests[1].body, as: UTF8.self) == #"{"username":"admin","password":"hunter2!"}"#)
    }

    @Test("a second 401 after the new login fails cleanly, naming no secret")
    func secondUnauthorizedFails() {
        let transport = ScriptedTransport { request, _ in
            if request.path == "/v1/session/login" { return json(#"{"bearer_token": "session-v1:fresh"}"#) }
            return qumuloError(401, "http_unauthorized_error", "nope")
        }
        let login = ClusterLogin(accessToken: Secret("session-v1:stale"), username: "admin", password: Secret("hunter2!"))
        #expect {
            try makeClient(transport, login: login).whoAmI()
        } throws: { error in
            let text = "\(error)"
            return text.contains("fresh login") && !text.contains("hunter2!") && !text.contains("session-v1")
        }
        #expect(transport.requestCount == 3)
    }

    @Test("401 without a password tells the operator how to log in")
    func unauthorizedWithoutPassword() {
        let transport = ScriptedTransport { _, _ in qumuloError(401, "http_unauthorized_error", "expired") }
        #expect {
            try makeClient(transport).whoAmI()
        } throws: { error in
            "\(error)".contains("smbvol login")
        }
        #expect(transport.requestCount == 1)
    }

    @Test("no token and no password: no request, a clear hint")
    func notLoggedIn() {
        let transport = ScriptedTransport { _, _ in json("{}") }
        #expect {
            try makeClient(transport, login: ClusterLogin()).whoAmI()
        } throws: { error in
            guard let error = error as? QumuloError, case .notLoggedIn = error.kind else { return false }
            return "\(error)".contains("smbvol login")
        }
        #expect(transport.requestCount == 0)
    }

    @Test("errors carry status, error_class, description, method and path")
    func errorShape() {
        let transport = ScriptedTransport { _, _ in qumuloError(404, "fs_no_such_entry_error", "no such entry") }
        #expect {
            try makeClient(transport).fileAttributes(path: "/vms/missing.qcow2")
        } throws: { error in
            "\(error)" == "GET /v1/files/%2Fvms%2Fmissing.qcow2/info/attributes: HTTP 404 fs_no_such_entry_error: no such entry"
        }
    }

    @Test("who-am-i pre-check names every missing privilege")
    func missingPrivileges() {
        let transport = ScriptedTransport { _, _ in
            json(#"{"id": "501", "name": "reader", "privileges": ["PRIVILEGE_SMB_FILE_HANDLE_READ"]}"#)
        }
        #expect {
            try makeClient(transport).requirePrivileges([QumuloPrivilege.handleRead, QumuloPrivilege.handleWrite, QumuloPrivilege.identityRead])
        } throws: { error in
            let text = "\(error)"
            return text.contains("PRIVILEGE_SMB_FILE_HANDLE_WRITE, PRIVILEGE_IDENTITY_READ") && text.contains("reader")
        }
    }

    @Test("invalid JSON in a 200 answer is a clear error")
    func invalidJSON() {
        let transport = ScriptedTransport { _, _ in json(#"{"file_handles": [{"file_num"#) }
        #expect {
            try makeClient(transport).handles(onFileNumber: "1")
        } throws: { error in
            guard let error = error as? QumuloError, case .invalidResponse = error.kind else { return false }
            return true
        }
    }

    @Test("log lines never carry the password or the token")
    func noSecretsInLogs() throws {
        let handler = CapturingLogHandler()
        let transport = ScriptedTransport { request, _ in
            if request.path == "/v1/session/login" { return json(#"{"bearer_token": "session-v1:fresh-token-xyz"}"#) }
            if request.bearerToken != "session-v1:fresh-token-xyz" { return qumuloError(401, "http_unauthorized_error", "expired") }
            return json(#"{"id": "500", "name": "admin", "privileges": []}"#)
        }
        let login = ClusterLogin(accessToken: Secret("session-v1:old-token-abc"), username: "admin", password: Secret("pa55word!"))
        _ = try makeClient(transport, login: login, logHandler: handler).whoAmI()
        #expect(!handler.all.isEmpty)
        for line in handler.all {
            #expect(!line.contains("pa55word!"))
            #expect(!line.contains("fresh-token-xyz"))
            #expect(!line.contains("old-token-abc"))
        }
    }
}
