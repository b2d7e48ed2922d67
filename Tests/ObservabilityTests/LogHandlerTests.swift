import Logging
import Synchronization
import Testing

@testable import SmbvolLogging

#if canImport(Glibc)
import Glibc
#endif

/// What a handler's destination was given, in order.
private final class RecordedLines: Sendable {
    private let lines = Mutex<[(level: Logger.Level, line: String)]>([])

    func append(_ level: Logger.Level, _ line: String) { lines.withLock { $0.append((level, line)) } }
    var all: [(level: Logger.Level, line: String)] { lines.withLock { $0 } }
    var texts: [String] { all.map(\.line) }
}

/// A Logger whose only handler is `handler` (no global bootstrap: tests run in parallel).
private func logger(_ handler: some LogHandler) -> Logger {
    Logger(label: "smbvol.test") { _ in handler }
}

/// A value no other test registers with the process-wide redactor.
private func uniqueSecret(_ kind: String) -> String {
    "\(kind)-\(UInt64.random(in: 1_000_000_000...UInt64.max))"
}

@Suite("LineLogHandler, LogLineFormatter, SecretRedactor, LineEscaping")
struct LogHandlerTests {
    fileprivate func recordingHandler(logLevel: Logger.Level) -> (LineLogHandler, RecordedLines) {
        let recorded = RecordedLines()
        return (LineLogHandler(logLevel: logLevel) { level, line in recorded.append(level, line) }, recorded)
    }

    @Test("records below the handler's level are dropped; the level reaches the destination")
    func levelFiltering() {
        let (handler, recorded) = recordingHandler(logLevel: .notice)
        let log = logger(handler)
        log.trace("trace")
        log.debug("debug")
        log.info("info")
        log.notice("notice")
        log.warning("warning")
        log.error("error")
        log.critical("critical")
        #expect(recorded.texts == ["notice", "warning", "error", "critical"])
        #expect(recorded.all.map(\.level) == [.notice, .warning, .error, .critical])
    }

    @Test("metadata: sorted by key after the message, the record's own values over the handler's")
    func metadataOrder() {
        let (recordingHandler, recorded) = recordingHandler(logLevel: .info)
        var handler = recordingHandler
        handler[metadataKey: "share"] = "vmstore"
        handler[metadataKey: "domain"] = "web01"
        var log = logger(handler)
        log[metadataKey: "hook"] = "prepare begin"
        log.info("mounted", metadata: ["zeta": "1", "alpha": "2", "domain": "web02"])
        #expect(recorded.texts == [#"mounted alpha=2 domain=web02 hook="prepare begin" share=vmstore zeta=1"#])
    }

    @Test("values with a space, a quote, '=' or nothing are quoted; backslashes cannot escape the closing quote")
    func quoting() {
        let line = LogLineFormatter.format(
            message: "m",
            metadata: ["a": "plain", "b": "two words", "c": #"say "hi""#, "d": "k=v", "e": "", "f": #"trailing\ "#, "g": #"back\slash"#])
        #expect(line == #"m a=plain b="two words" c="say \"hi\"" d="k=v" e="" f="trailing\\ " g=back\slash"#)
    }

    @Test("line breaks become one space, tabs a space, controls and bidi overrides visible escapes")
    func escaping() {
        #expect(LineEscaping.oneLine("plain text") == "plain text")
        #expect(LineEscaping.oneLine("a\nb\r\nc\rd") == "a b c d")
        #expect(LineEscaping.oneLine("a\n\n\r\nb") == "a b")
        #expect(LineEscaping.oneLine("a\u{0B}b\u{0C}c\u{85}d\u{2028}e\u{2029}f") == "a b c d e f")
        #expect(LineEscaping.oneLine("tab\there") == "tab here")
        #expect(LineEscaping.oneLine("\u{1B}[31mred") == #"\u{1B}[31mred"#)
        #expect(LineEscaping.oneLine("nul\u{0}del\u{7F}csi\u{9B}") == #"nul\u{00}del\u{7F}csi\u{9B}"#)
        #expect(LineEscaping.oneLine("file\u{202E}gpj.exe") == #"file\u{202E}gpj.exe"#)
        #expect(LineEscaping.oneLine("ünïcode ✓") == "ünïcode ✓")
        #expect(!LineEscaping.needsEscaping("ünïcode ✓"))
    }

    @Test("a hostile message or value cannot start a line of its own in the formatted record")
    func oneRecordOneLine() {
        let (handler, recorded) = recordingHandler(logLevel: .info)
        logger(handler).error("close failed\nsmbvol: forged", metadata: ["path": "/vms/a\r\nevent=forged"])
        #expect(recorded.texts == [#"close failed smbvol: forged path="/vms/a event=forged""#])
        #expect(recorded.texts.allSatisfy { !$0.contains(where: { $0.isNewline }) })
    }

    @Test("stderr framing: a leading CR (progress) and the trailing LF are kept, the rest escaped")
    func framing() {
        #expect(LineEscaping.keepingFrame("\rsmbvol: listed 5 handles…") == "\rsmbvol: listed 5 handles…")
        #expect(LineEscaping.keepingFrame("smbvol: a\nb\n") == "smbvol: a b\n")
        #expect(LineEscaping.keepingFrame("\r\nx\n") == " x\n")
        #expect(LineEscaping.keepingFrame("smbvol: \u{1B}]0;title\u{7}\n") == #"smbvol: \u{1B}]0;title\u{07}"# + "\n")
    }

    @Test("registered secrets are redacted in messages and values: password=, tokens, bearer headers")
    func redaction() {
        let password = uniqueSecret("pw")
        let token = uniqueSecret("token")
        SecretRedactor.shared.register(password)
        SecretRedactor.shared.register(token)
        let (handler, recorded) = recordingHandler(logLevel: .info)
        let log = logger(handler)
        log.error("mount.cifs -o username=svc,password=\(password) failed")
        log.info("request", metadata: ["authorization": "Bearer \(token)", "token": "\(token)"])
        log.info("both \(password)\(token)")
        #expect(recorded.texts == [
            "mount.cifs -o username=svc,password=<redacted> failed",
            #"request authorization="Bearer <redacted>" token=<redacted>"#,
            "both <redacted><redacted>",
        ])
        for line in recorded.texts { #expect(!line.contains(password) && !line.contains(token)) }
    }

    @Test("a secret with a control character is redacted before escaping changes it; values under 4 characters are not registered")
    func redactionBeforeEscaping() {
        let secret = uniqueSecret("p\tw\u{1B}")
        SecretRedactor.shared.register(secret)
        let line = LogLineFormatter.format(message: "login with \(secret)", metadata: ["password": "\(secret)"])
        #expect(line == "login with <redacted> password=<redacted>")

        let redactor = SecretRedactor()
        redactor.register("abc")
        #expect(redactor.redact("abcabc") == "abcabc")
        redactor.register("abcd")
        #expect(redactor.redact("xabcdx abcd") == "x<redacted>x <redacted>")
    }

    @Test("stderr form: 'smbvol: <level>: <line>' and audit records (metadata event) kept off it")
    func standardErrorForm() {
        let written = RecordedLines()
        let handler = LineLogHandler.standardError(logLevel: .warning) { text in written.append(.info, text) }
        var log = logger(handler)
        log[metadataKey: "domain"] = "web01"
        log.info("below the level")
        log.warning("share slow", metadata: ["share": "vmstore"])
        log.error("closed a handle", metadata: ["event": "close", "handle": "42"])
        log.error("hook failed", metadata: ["error": "no cluster"])
        #expect(written.texts == [
            "smbvol: warning: share slow domain=web01 share=vmstore\n",
            #"smbvol: error: hook failed domain=web01 error="no cluster""# + "\n",
        ])
    }

    @Test("syslog form: RFC 3164 datagrams, facility daemon, ident smbvol[pid], audit records included")
    func syslogForm() throws {
        let socket = try DatagramSocket()
        let destination = SyslogDestination()
        destination.use(socketPath: socket.path)
        let log = logger(LineLogHandler.syslog(logLevel: .info, destination: destination))
        log.debug("below the level")
        log.info("mounted", metadata: ["share": "vmstore"])
        log.warning("closed a handle", metadata: ["event": "close", "handle": "42"])
        log.error("err")
        log.critical("crit")
        log.notice("note")
        let datagrams = socket.receiveAll()
        let rfc3164 = /^<(\d+)>(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 123]\d \d\d:\d\d:\d\d smbvol\[(\d+)\]: (.*)$/
        var priorities: [Int] = []
        var messages: [String] = []
        for datagram in datagrams {
            let match = try #require(datagram.wholeMatch(of: rfc3164), "\(datagram)")
            priorities.append(Int(match.1) ?? -1)
            #expect(Int32(match.3) == getpid())
            messages.append(String(match.4))
        }
        // LOG_DAEMON (3 << 3) plus the severity: info 6, warning 4, err 3, crit 2, notice 5.
        #expect(priorities == [30, 28, 27, 26, 29])
        #expect(messages == ["mounted share=vmstore", "closed a handle event=close handle=42", "err", "crit", "note"])
    }

    @Test("the system log handler sends the same line to syslog when no journal is configured")
    func systemLogHandler() throws {
        let socket = try DatagramSocket()
        let syslog = SyslogDestination()
        syslog.use(socketPath: socket.path)
        var handler = SystemLogHandler(logLevel: .info, journal: JournalDestination(), syslog: syslog)
        handler.metadata["operator"] = "alice"
        logger(handler).notice("lock added", metadata: ["event": "lock-add", "reason": "maintenance window"])
        let datagrams = socket.receiveAll()
        #expect(datagrams.count == 1)
        #expect(datagrams.first?.hasPrefix("<29>") == true)
        #expect(datagrams.first?.hasSuffix(#"]: lock added event=lock-add operator=alice reason="maintenance window""#) == true)
    }

    @Test("syslog: no socket is no log and no error; a restarted daemon's new socket is reconnected to")
    func syslogReconnect() throws {
        let destination = SyslogDestination()
        let first = try DatagramSocket()
        destination.use(socketPath: first.path + ".missing")
        destination.send(priority: LOG_INFO, line: "nobody listens")

        destination.use(socketPath: first.path)
        destination.send(priority: LOG_INFO, line: "one")
        #expect(first.receiveAll().map { $0.hasSuffix(": one") } == [true])
        // The daemon restarts: same path, new socket. The next send fails once, reconnects, retries.
        let path = first.path
        first.close()
        let second = try DatagramSocket(path: path)
        destination.send(priority: LOG_INFO, line: "two")
        #expect(second.receiveAll().map { $0.hasSuffix(": two") } == [true])
    }
}

/// A Unix datagram socket bound in a fresh temporary directory: stands in for /dev/log.
private final class DatagramSocket {
    let path: String
    private var descriptor: Int32

    convenience init() throws {
        var template = Array("/tmp/smbvol-log-XXXXXX".utf8CString)
        let directory = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
            return String(cString: result)
        }
        try self.init(path: try #require(directory) + "/log.sock")
    }

    init(path: String) throws {
        self.path = path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(descriptor >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0, "bind \(path): errno \(errno)")
    }

    /// Every datagram queued so far: a send on a Unix datagram socket has queued it by the
    /// time it returns, so nothing is waited for.
    func receiveAll() -> [String] {
        var result: [String] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return result }
            result.append(String(decoding: buffer[0..<count], as: UTF8.self))
        }
    }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
        unlink(path)
    }

    deinit { close() }
}
