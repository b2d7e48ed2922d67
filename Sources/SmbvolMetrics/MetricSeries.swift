/// One time series: a metric name (a family's name, or for histograms its `_bucket`, `_sum`,
/// `_count` lines) and its labels, sorted by name so equal series compare equal.
public struct MetricSeries: Sendable, Hashable {
    public let name: String
    public let labels: [Label]

    public struct Label: Sendable, Hashable {
        public let name: String
        public let value: String
    }

    public init(_ name: String, labels: [String: String] = [:]) {
        self.init(name: name, sortedLabels: labels.map { Label(name: $0.key, value: $0.value) }.sorted { $0.name < $1.name })
    }

    init(name: String, sortedLabels: [Label]) {
        self.name = name
        self.labels = sortedLabels
    }

    func adding(_ name: String, _ value: String) -> MetricSeries {
        MetricSeries(name: self.name, sortedLabels: (labels + [Label(name: name, value: value)]).sorted { $0.name < $1.name })
    }

    func renamed(_ name: String) -> MetricSeries { MetricSeries(name: name, sortedLabels: labels) }

    /// `name{a="x",b="y"}` in the text exposition format (values escaped: \\, \", \n).
    public var text: String { Self.render(name, labels) }

    static func render(_ name: String, _ labels: [Label]) -> String {
        guard !labels.isEmpty else { return name }
        var text = name + "{"
        for (index, label) in labels.enumerated() {
            if index > 0 { text += "," }
            text += label.name + "=\"" + escape(label.value) + "\""
        }
        return text + "}"
    }

    static func escape(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else {
            return value
        }
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
}
