import SmbvolShares
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// nova's libvirt SMBFS connection info:
/// `{"driver_volume_type": "smbfs", "data": {"export", "name", "format", "options"}}`,
/// where `options` is a mount-command fragment such as `-o vers=3.1.1,username=svc,password=…`.
public struct SMBConnectionInfo: Sendable, Equatable {
    public var export: SMBExport
    /// The image file name inside the share (`volume-….qcow2`).
    public var name: String?
    public var format: String?
    /// Options without the account ones (moved into `credentials`).
    public var options: [String]
    public var credentials: MountCredentials

    private struct Document: Decodable {
        struct Payload: Decodable {
            var export: String
            var name: String?
            var format: String?
            var options: String?
        }
        var driver_volume_type: String
        var data: Payload
    }

    static let usernameNames: Set<String> = ["username", "user"]
    static let passwordNames: Set<String> = ["password", "pass"]
    static let domainNames: Set<String> = ["domain", "dom", "workgroup"]

    public init(json: [UInt8]) throws {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(json))
        } catch {
            throw MountConfigurationError.invalidConnectionInfo(
                "not JSON of the form {\"driver_volume_type\": \"smbfs\", \"data\": {\"export\": …}}")
        }
        guard document.driver_volume_type == "smbfs" else {
            throw MountConfigurationError.invalidConnectionInfo(
                "driver_volume_type is \"\(document.driver_volume_type.debugEscaped)\", expected \"smbfs\"")
        }
        export = try SMBExport(parsing: document.data.export)
        name = document.data.name
        format = document.data.format
        var username: String?
        var password: String?
        var domain: String?
        var remaining: [String] = []
        for option in try Self.splitOptions(document.data.options ?? "") {
            let parts = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let key = parts[0].lowercased()
            let value = parts.count > 1 ? parts[1] : ""
            if Self.usernameNames.contains(key) {
                username = value
            } else if Self.passwordNames.contains(key) {
                password = value
            } else if Self.domainNames.contains(key) {
                domain = value
            } else {
                remaining.append(option)
            }
        }
        options = remaining
        credentials = .inline(username: username, password: password, domain: domain)
    }

    /// `-o a=1,b=2 -o c` → `[a=1, b=2, c]`. Any other flag is refused: it would reach the
    /// mount command unchecked.
    static func splitOptions(_ text: String) throws -> [String] {
        var result: [String] = []
        var expectList = false
        for (index, token) in text.split(whereSeparator: { $0 == " " || $0 == "\t" }).enumerated() {
            if expectList {
                result += splitOptionList(token)
                expectList = false
            } else if token == "-o" {
                expectList = true
            } else if token.hasPrefix("-o") {
                result += splitOptionList(token.dropFirst(2))
            } else {
                // Never quote the token: it may be the tail of a password that contained a space.
                throw MountConfigurationError.invalidConnectionInfo(
                    "options may only hold \"-o name=value,…\"; word \(index + 1) is something else "
                        + "(a password with spaces or commas belongs in a credentials file, not in options)")
            }
        }
        return result
    }

    /// Splits on `,`, reading `,,` as a literal comma (mount.cifs's escape for a comma in a
    /// password), so such a password stays whole and goes to the credentials file.
    static func splitOptionList(_ list: Substring) -> [String] {
        var options: [String] = []
        var current = ""
        var index = list.startIndex
        while index < list.endIndex {
            let character = list[index]
            let next = list.index(after: index)
            if character == "," && next < list.endIndex && list[next] == "," {
                current.append(",")
                index = list.index(after: next)
                continue
            }
            if character == "," {
                if !current.isEmpty { options.append(current) }
                current = ""
            } else {
                current.append(character)
            }
            index = next
        }
        if !current.isEmpty { options.append(current) }
        return options
    }

    /// The share to mount: named by its mount directory, mounted under `mountBase`.
    public func mountableShare(mountBase: String) -> Share {
        Share(
            name: MountPointNaming.directoryName(for: export), export: export,
            mountPoint: MountPointNaming.mountPoint(for: export, mountBase: mountBase),
            credentials: credentials, options: options)
    }
}
