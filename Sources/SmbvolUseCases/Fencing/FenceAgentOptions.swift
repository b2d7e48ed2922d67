/// The options of `fence_smbvol`, read the way ClusterLabs' fence agents read theirs: `key=value`
/// lines on stdin when the HA manager runs the agent with no arguments, or the same options on
/// the command line (`--key value`, `--key=value`, `key=value`, `-o ACTION`, `-n PLUG`).
public struct FenceAgentOptions: Sendable, Equatable {
    public enum Action: String, Sendable, CaseIterable {
        case off, on, status, list, monitor, metadata
        case validateAll = "validate-all"
    }

    public var action: Action = .off
    /// The node (a host_id): `plug`, or the deprecated `port`.
    public var plug: String?
    /// Explicit addresses of the node (comma-separated `address`), instead of its records.
    public var addresses: [String] = []
    public var config: String?
    public var cluster: String?
    /// Configured shares (comma-separated `share`); all of the cluster's by default.
    public var shares: [String] = []
    /// `host_map=h1:203.0.113.11;h2:203.0.113.12,203.0.113.13`: each node's single addresses,
    /// in the shape of Pacemaker's `pcmk_host_map` (entries separated by `;` or spaces, the
    /// host_id before the first `:`, addresses separated by `,`). A node in the map is fenced by
    /// these addresses, without reading heartbeat records.
    public var hostMap: [String: [String]] = [:]
    public var verbose = false
    public var debug = false
    public var help = false
    public var version = false
    /// Options this agent does not know: named on stderr (never their values) and ignored, as
    /// the fence-agents library does.
    public var ignored: [String] = []

    public init() {}

    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Options from stdin's `key=value` lines (blank lines and `#` comments skipped).
    public static func parse(stdinText: String) throws(Problem) -> FenceAgentOptions {
        var options = FenceAgentOptions()
        for raw in stdinText.split(whereSeparator: \.isNewline) {
            let line = raw.drop(while: \.isWhitespace)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw Problem("stdin line \"\(String(line.prefix(40)))\" is not key=value; give one option per line, e.g. action=off")
            }
            try options.set(String(line[..<equals]), String(line[line.index(after: equals)...]))
        }
        return options
    }

    /// Options from the command line.
    public static func parse(arguments: [String]) throws(Problem) -> FenceAgentOptions {
        var options = FenceAgentOptions()
        var index = 0
        func value(for key: String) throws(Problem) -> String {
            index += 1
            guard index < arguments.count else { throw Problem("\(key) needs a value") }
            return arguments[index]
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "-o": try options.set("action", try value(for: "-o"))
            case "-n": try options.set("plug", try value(for: "-n"))
            case "-h": options.help = true
            case "-V": options.version = true
            case "-v": options.verbose = true
            default:
                if argument.hasPrefix("--") {
                    let body = argument.dropFirst(2)
                    if let equals = body.firstIndex(of: "=") {
                        try options.set(String(body[..<equals]), String(body[body.index(after: equals)...]))
                    } else if Self.flags.contains(Self.normalized(String(body))) {
                        try options.set(String(body), "1")
                    } else {
                        try options.set(String(body), try value(for: argument))
                    }
                } else if let equals = argument.firstIndex(of: "="), !argument.hasPrefix("-") {
                    try options.set(String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
                } else {
                    throw Problem("unexpected argument \"\(argument)\"; options are --key value or key=value (e.g. --action status --plug HOST)")
                }
            }
            index += 1
        }
        return options
    }

    static let flags: Set<String> = ["verbose", "debug", "help", "version"]

    static func normalized(_ key: String) -> String {
        key.trimmingWhitespace().lowercased().replacingDashes()
    }

    mutating func set(_ rawKey: String, _ rawValue: String) throws(Problem) {
        let key = Self.normalized(rawKey)
        let value = rawValue.trimmingWhitespace()
        switch key {
        case "action", "option":
            // Pacemaker says "reboot" for a power fence; a storage fence has no "on" half to it.
            guard let action = Action(rawValue: value.lowercased()) else {
                throw Problem("action \"\(value)\" is not supported; use one of \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.action = action
        case "plug", "port": plug = value.isEmpty ? nil : value
        case "address", "addresses": addresses = Self.list(value)
        case "config": config = value.isEmpty ? nil : value
        case "cluster": cluster = value.isEmpty ? nil : value
        case "share", "shares": shares = Self.list(value)
        case "host_map", "hostmap": hostMap = try Self.hostMap(value)
        case "verbose": verbose = Self.truth(value)
        case "debug": debug = Self.truth(value)
        case "help": help = Self.truth(value)
        case "version": version = Self.truth(value)
        case "nodename":
            break  // Pacemaker names the node running the agent; smbvol finds its own host_id itself
        default: ignored.append(key)
        }
    }

    static func list(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
    }

    static func hostMap(_ text: String) throws(Problem) -> [String: [String]] {
        var map: [String: [String]] = [:]
        for entry in text.split(whereSeparator: { $0 == ";" || $0 == " " || $0 == "\t" }) {
            guard let colon = entry.firstIndex(of: ":"), colon != entry.startIndex else {
                throw Problem("host_map entry \"\(String(entry.prefix(60)))\" is not HOST:ADDR[,ADDR]; e.g. host_map=h1:203.0.113.11;h2:203.0.113.12")
            }
            let host = String(entry[..<colon])
            let addresses = entry[entry.index(after: colon)...].split(separator: ",").map(String.init)
            guard !addresses.isEmpty else { throw Problem("host_map entry for \(host) names no address") }
            map[host, default: []] += addresses
        }
        return map
    }

    static func truth(_ text: String) -> Bool {
        ["1", "yes", "true", "on", ""].contains(text.lowercased())
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    fileprivate func replacingDashes() -> String {
        String(map { $0 == "-" ? "_" : $0 })
    }
}
