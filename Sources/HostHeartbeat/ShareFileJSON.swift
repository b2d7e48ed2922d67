#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The one JSON form of the files smbvol writes on a share — heartbeat records, holder claims,
/// takeover records: sorted keys, `/` unescaped, one closing newline; and the one bounded read
/// of them. Each format keeps its own checks and its own error.
enum ShareFileJSON {
    static func encoded(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value)) + [UInt8(ascii: "\n")]
    }

    /// `bytes` read as `T`: at most `maximumBytes`, JSON of `T`'s shape (`shape` names it in
    /// the error), else `malformed`'s error. The format's own error, thrown while decoding, is
    /// passed on as it is.
    static func decoded<T: Decodable, Failure: Error>(
        _ type: T.Type, from bytes: [UInt8], maximumBytes: Int, shape: String, malformed: (String) -> Failure
    ) throws -> T {
        guard bytes.count <= maximumBytes else { throw malformed("larger than \(maximumBytes) bytes") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as Failure {
            throw error
        } catch {
            throw malformed("not JSON of \(shape)")
        }
    }
}

/// A domain as the files on a share name it: `{"name": …, "uuid": …}` (a holder claim's domain,
/// a takeover record's).
struct DomainWire: Codable {
    var name: String
    var uuid: String
}
