/// A request as the simulator's handler sees it: transport-free so tests can drive it.
public struct SimulatorRequest: Sendable {
    public var method: String
    /// Path and query exactly as sent ("/v1/smb/files/?file_number=3").
    public var target: String
    /// The Authorization header, if any.
    public var authorization: String?
    /// The If-Match header (a PATCH of a share), if any.
    public var ifMatch: String?
    public var body: [UInt8]

    public init(method: String, target: String, authorization: String? = nil, ifMatch: String? = nil, body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.authorization = authorization
        self.ifMatch = ifMatch
        self.body = body
    }

    public init(method: String, target: String, bearer: String?, json: String) {
        self.init(
            method: method, target: target, authorization: bearer.map { "Bearer \($0)" },
            body: Array(json.utf8))
    }

    /// The raw (still percent-encoded) path, without query.
    var rawPath: String {
        if let index = target.firstIndex(of: "?") { return String(target[..<index]) }
        return target
    }

    /// Query parameters in order, percent-decoded ("+" is a space, as HTML forms send it).
    var query: [(name: String, value: String)] {
        guard let index = target.firstIndex(of: "?") else { return [] }
        return target[target.index(after: index)...].split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentEncoding.decode(String(parts[0]), plusIsSpace: true) ?? String(parts[0])
            let raw = parts.count > 1 ? String(parts[1]) : ""
            return (name, PercentEncoding.decode(raw, plusIsSpace: true) ?? raw)
        }
    }

    func queryValue(_ name: String) -> String? {
        query.last { $0.name == name }?.value
    }
}

public struct SimulatorResponse: Sendable {
    public var status: Int
    /// The bytes sent. A JSON answer is encoded when they are first read — by the HTTP layer,
    /// after the state lock is let go — so answers to concurrent requests are encoded side by
    /// side, as a cluster's nodes serve them; the lock covers only reading the state.
    public var body: [UInt8] {
        get { pendingJSON.map { $0().serialized() } ?? bytes }
        set {
            bytes = newValue
            pendingJSON = nil
        }
    }
    /// Never answer (a `hang` fault): the transport keeps the connection open.
    public var hangs: Bool
    /// The ETag header (a share's version), if any.
    public var etag: String?
    private var bytes: [UInt8]
    private var pendingJSON: (@Sendable () -> JSONValue)?

    public init(status: Int, body: [UInt8], hangs: Bool = false) {
        self.status = status
        self.bytes = body
        self.hangs = hangs
    }

    public static func json(_ value: JSONValue, status: Int = 200) -> SimulatorResponse {
        json(status: status) { value }
    }

    /// A JSON answer built (and encoded) outside the state lock, from values the route copied.
    public static func json(status: Int = 200, _ build: @escaping @Sendable () -> JSONValue) -> SimulatorResponse {
        var response = SimulatorResponse(status: status, body: [])
        response.pendingJSON = build
        return response
    }

    public var json: JSONValue? { JSONValue.parse(body) }
    public var bodyString: String { String(decoding: body, as: UTF8.self) }
}

enum PercentEncoding {
    /// Decodes %XX escapes as UTF-8; nil for a broken escape or invalid UTF-8.
    static func decode(_ text: String, plusIsSpace: Bool = false) -> String? {
        guard text.contains("%") || (plusIsSpace && text.contains("+")) else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue)
                else { return nil }
                bytes.append(high << 4 | low)
            } else if plusIsSpace, byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Encodes every byte outside A-Z a-z 0-9 _ . - ~.
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "-"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
