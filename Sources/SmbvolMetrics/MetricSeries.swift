/// One time series: a metric name (a family's name, or for histograms its `_bucket`, `_sum`,
/// `_count` lines) and its labels, sorted by name so equal series compare equal.
public struct MetricSeries: Sendable, Hashable, Comparable {
    public let name: String
    public let labels: [Label]

    public struct Label: Sendable, Hashable {
        public let name: String
        public let value: String
    }

    public init(_ name: String, labels: [String: String] = [:]) {
        self.name = name
        self.labels = labels.map { Label(name: $0.key, value: $0.value) }.sorted { $0.name < $1.name }
    }

    init(name: String, sortedLabels: [Label]) {
        self.name = name
        self.labels = sortedLabels
    }

    func adding(_ name: String, _ value: String) -> MetricSeries {
        MetricSeries(name: self.name, sortedLabels: (labels + [Label(name: name, value: value)]).sorted { $0.name < $1.name })
    }

    func renamed(_ name: String) -> MetricSeries { MetricSeries(name: name, sortedLabels: labels) }

    /// The `le` of a bucket series, as a number (+Inf last).
    var bucketBound: Double? {
        labels.first { $0.name == "le" }.flatMap { $0.value == "+Inf" ? .infinity : Double($0.value) }
    }

    /// The labels other than `le`, rendered: groups a histogram's lines.
    var labelsWithoutBound: String {
        MetricSeries(name: name, sortedLabels: labels.filter { $0.name != "le" }).text
    }

    /// `name{a="x",b="y"}` in the text exposition format (values escaped: \\, \", \n).
    public var text: String {
        guard !labels.isEmpty else { return name }
        let rendered = labels.map { "\($0.name)=\"\(Self.escape($0.value))\"" }.joined(separator: ",")
        return "\(name){\(rendered)}"
    }

    public static func < (lhs: MetricSeries, rhs: MetricSeries) -> Bool {
        if lhs.name != rhs.name { return lhs.name < rhs.name }
        let (left, right) = (lhs.labelsWithoutBound, rhs.labelsWithoutBound)
        if left != right { return left < right }
        return (lhs.bucketBound ?? 0) < (rhs.bucketBound ?? 0)
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// Parses what `text` writes; nil for anything else.
    static func parse(_ text: Substring) -> MetricSeries? {
        guard let brace = text.firstIndex(of: "{") else {
            return text.isEmpty || text.contains(" ") ? nil : MetricSeries(name: String(text), sortedLabels: [])
        }
        guard text.last == "}" else { return nil }
        let name = String(text[..<brace])
        var labels: [Label] = []
        var rest = text[text.index(after: brace)..<text.index(before: text.endIndex)]
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "="), rest[rest.index(after: equals)...].first == "\"" else { return nil }
            let labelName = String(rest[..<equals])
            var index = rest.index(equals, offsetBy: 2)
            var value = ""
            var closed = false
            while index < rest.endIndex {
                let character = rest[index]
                if character == "\\" {
                    index = rest.index(after: index)
                    guard index < rest.endIndex else { return nil }
                    value.append(rest[index] == "n" ? "\n" : rest[index])
                } else if character == "\"" {
                    closed = true
                    break
                } else {
                    value.append(character)
                }
                index = rest.index(after: index)
            }
            guard closed else { return nil }
            labels.append(Label(name: labelName, value: value))
            rest = rest[rest.index(after: index)...]
            if rest.first == "," { rest = rest.dropFirst() }
        }
        return MetricSeries(name: name, sortedLabels: labels.sorted { $0.name < $1.name })
    }
}
