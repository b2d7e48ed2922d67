import FoundationEssentials

/// Qumulo sends most numbers as strings ("ids and numbers as strings") but not all of them, and
/// not always the same way across versions. These decode either form.
struct LenientString: Decodable, Sendable {
    let value: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            value = string
        } else if let int = try? container.decode(Int64.self) {
            value = String(int)
        } else {
            throw DecodingError.typeMismatch(
                String.self, .init(codingPath: decoder.codingPath, debugDescription: "expected a string or a number"))
        }
    }
}

struct LenientInt: Decodable, Sendable {
    let value: Int64

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let int = try? container.decode(Int64.self) {
            value = int
        } else if let string = try? container.decode(String.self), let int = Int64(string) {
            value = int
        } else {
            throw DecodingError.typeMismatch(
                Int64.self, .init(codingPath: decoder.codingPath, debugDescription: "expected an integer or a numeric string"))
        }
    }
}

extension KeyedDecodingContainer {
    func lenientString(_ key: Key) throws -> String { try decode(LenientString.self, forKey: key).value }
    func lenientStringIfPresent(_ key: Key) throws -> String? { try decodeIfPresent(LenientString.self, forKey: key)?.value }
    func lenientInt(_ key: Key) throws -> Int64 { try decode(LenientInt.self, forKey: key).value }
    func lenientIntIfPresent(_ key: Key) throws -> Int64? { try decodeIfPresent(LenientInt.self, forKey: key)?.value }
}

/// `{"nanoseconds": "123"}`, as sessions report `time_idle` and `time_open`.
public struct QumuloDuration: Decodable, Sendable, Equatable {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public var seconds: Double { Double(nanoseconds) / 1e9 }

    enum CodingKeys: String, CodingKey { case nanoseconds }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        nanoseconds = try container.lenientInt(.nanoseconds)
    }
}

/// `"paging": {"next": "/v1/…" | null}`.
struct Paging: Decodable, Sendable {
    var next: String?
}
