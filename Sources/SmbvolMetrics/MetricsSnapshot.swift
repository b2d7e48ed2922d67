/// Every series' current value, as kept across runs in the state file and exported in the
/// Prometheus text format. Histograms are kept as their `_bucket`, `_sum` and `_count` series.
public struct MetricsSnapshot: Sendable, Equatable {
    public var values: [MetricSeries: Double] = [:]

    public init() {}

    public subscript(series: MetricSeries) -> Double? { values[series] }

    public mutating func add(_ series: MetricSeries, _ amount: Double) {
        values[series, default: 0] += amount
    }

    public mutating func observe(_ family: MetricFamily, labels: [String: String], value: Double) {
        let base = MetricSeries(family.name, labels: labels)
        for bound in family.buckets where value <= bound {
            add(base.renamed(family.name + "_bucket").adding("le", Self.number(bound)), 1)
        }
        add(base.renamed(family.name + "_bucket").adding("le", "+Inf"), 1)
        add(base.renamed(family.name + "_sum"), value)
        add(base.renamed(family.name + "_count"), 1)
    }

    /// Drops every series of `family` (before setting a gauge family afresh).
    public mutating func removeAll(of family: MetricFamily) {
        values = values.filter { !Self.belongs($0.key, to: family) }
    }

    // MARK: the state file

    static let stateHeader = "# smbvol metrics state v1"

    /// The state file: a header, then one `series value` line per series.
    public var stateText: String {
        var text = Self.stateHeader + "\n"
        for series in values.keys.sorted() {
            text += "\(series.text) \(Self.number(values[series] ?? 0))\n"
        }
        return text
    }

    /// Parses a state file; nil when it is not one (then counting starts over: Prometheus takes
    /// a counter that went back to zero as a reset).
    public static func parse(state text: String) -> MetricsSnapshot? {
        var lines = text.split(separator: "\n")
        guard lines.first.map(String.init) == stateHeader else { return nil }
        lines.removeFirst()
        var snapshot = MetricsSnapshot()
        for line in lines {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]),
                let series = MetricSeries.parse(line[..<space])
            else { return nil }
            snapshot.values[series] = value
        }
        return snapshot
    }

    // MARK: the exposition

    /// The Prometheus text format (version 0.0.4): HELP and TYPE for every family, then its
    /// series; counters without labels show 0 before their first event, so an alert on
    /// `increase(...)` has a series to look at.
    public var exposition: String {
        var text = ""
        for family in MetricFamily.all {
            text += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.kind.rawValue)\n"
            let series = values.keys.filter { Self.belongs($0, to: family) }.sorted()
            if series.isEmpty && family.kind == .counter && family.labelNames.isEmpty {
                text += "\(family.name) 0\n"
            }
            for one in series { text += "\(one.text) \(Self.number(values[one] ?? 0))\n" }
        }
        return text
    }

    static func belongs(_ series: MetricSeries, to family: MetricFamily) -> Bool {
        if series.name == family.name { return true }
        guard family.kind == .histogram else { return false }
        return ["_bucket", "_sum", "_count"].contains { series.name == family.name + $0 }
    }

    /// Integers without a fraction (counts), everything else as Swift prints a Double.
    static func number(_ value: Double) -> String {
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
