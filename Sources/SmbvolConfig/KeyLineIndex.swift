/// Finds the line on which a TOML key or table header is written, so errors found after parsing
/// (unknown keys, wrong types) can name it. TOMLKit keeps no source positions for values.
///
/// This is a line scanner, not a second parser: it follows `[table]` headers and `key =` lines,
/// skips the bodies of multi-line strings and arrays, and answers `nil` when unsure.
struct KeyLineIndex {
    private var lines: [String: Int] = [:]

    init(text: String) {
        var table: [String] = []
        var openMultiline: String?  // the delimiter of a multi-line string being skipped
        var bracketDepth = 0  // open `[` of a multi-line array value
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = String(rawLine)
            if let delimiter = openMultiline {
                if line.contains(delimiter) { openMultiline = nil }
                continue
            }
            let trimmed = line.trimmingSpaces()
            if bracketDepth > 0 {
                bracketDepth += Self.bracketBalance(trimmed)
                continue
            }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if trimmed.hasPrefix("[") {
                let isArray = trimmed.hasPrefix("[[")
                let inner = trimmed.dropFirst(isArray ? 2 : 1)
                guard let end = inner.firstIndex(of: "]") else { continue }
                table = Self.splitKey(String(inner[..<end]))
                lines[table.joined(separator: "."), default: lineNumber] = lineNumber
                continue
            }
            guard let equals = Self.assignmentIndex(in: trimmed) else { continue }
            let keyPart = String(trimmed[..<equals])
            let valuePart = String(trimmed[trimmed.index(after: equals)...]).trimmingSpaces()
            let path = table + Self.splitKey(keyPart)
            lines[path.joined(separator: "."), default: lineNumber] = lineNumber
            for delimiter in ["\"\"\"", "'''"] where valuePart.hasPrefix(delimiter) {
                if !valuePart.dropFirst(3).contains(delimiter) { openMultiline = delimiter }
            }
            if valuePart.hasPrefix("[") { bracketDepth = max(0, Self.bracketBalance(valuePart)) }
        }
    }

    /// The line of `path` (e.g. `share.vms.export`), or of the nearest enclosing table.
    func line(of path: [String]) -> Int? {
        var candidate = path
        while !candidate.isEmpty {
            if let line = lines[candidate.joined(separator: ".")] { return line }
            candidate.removeLast()
        }
        return nil
    }

    private static func assignmentIndex(in line: String) -> String.Index? {
        var quote: Character?
        for index in line.indices {
            let character = line[index]
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "=" {
                return index
            }
        }
        return nil
    }

    private static func splitKey(_ key: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var quote: Character?
        for character in key {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "." {
                parts.append(current.trimmingSpaces())
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current.trimmingSpaces())
        return parts
    }

    private static func bracketBalance(_ text: String) -> Int {
        var balance = 0
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "\"", "'": quote = character
            case "#": return balance
            case "[": balance += 1
            case "]": balance -= 1
            default: break
            }
        }
        return balance
    }
}

extension String {
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" || first == "\r" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" || last == "\r" { slice.removeLast() }
        return String(slice)
    }
}
