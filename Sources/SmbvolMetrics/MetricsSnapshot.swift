/// Every series' current value, as kept across runs in the state file and exported in the
/// Prometheus text format. Series are keyed by their exposition text (`name{labels}`, labels
/// sorted and escaped), so reading the state back parses no labels: the hook does it on every
/// run. Histograms are kept as their `_bucket`, `_sum` and `_count` series.
public struct MetricsSnapshot: Sendable, Equatable {
    public private(set) var values: [String: Double] = [:]
    /// Each family's series in export order, as read from the state file (which is written in
    /// that order): a run that adds no new series exports without sorting anything.
    private var exportOrder: [String: [String]]?

    public init() {}

    public static func == (lhs: MetricsSnapshot, rhs: MetricsSnapshot) -> Bool { lhs.values == rhs.values }

    public subscript(series: MetricSeries) -> Double? { values[series.text] }

    public mutating func add(_ series: MetricSeries, _ amount: Double) {
        let key = series.text
        if values[key] == nil { exportOrder = nil }
        values[key, default: 0] += amount
    }

    public mutating func set(_ series: MetricSeries, _ value: Double) {
        let key = series.text
        if values[key] == nil { exportOrder = nil }
        values[key] = value
    }

    public mutating func observe(_ family: MetricFamily, labels: [String: String], value: Double) {
        let bucket = MetricSeries(family.name + "_bucket", labels: labels)
        // Every bucket is exported, the ones below the value with 0 (buckets are cumulative).
        for bound in family.buckets {
            add(bucket.adding("le", Self.number(bound)), value <= bound ? 1 : 0)
        }
        add(bucket.adding("le", "+Inf"), 1)
        add(MetricSeries(family.name + "_sum", labels: labels), value)
        add(MetricSeries(family.name + "_count", labels: labels), 1)
    }

    /// Drops every series of `family` (before setting a gauge family afresh).
    public mutating func removeAll(of family: MetricFamily) {
        values = values.filter { Self.family(of: $0.key) != family.name }
        exportOrder = nil
    }

    // MARK: the state file

    static let stateHeader = "# smbvol metrics state v1"

    /// The state file: a header, then the exposition (its TYPE lines mark the families).
    public var stateText: String { String(decoding: stateBytes, as: UTF8.self) }
    var stateBytes: [UInt8] { expositionBytes(header: Self.stateHeader) }

    /// Parses a state file; nil when it is not one (then counting starts over: Prometheus takes
    /// a counter that went back to zero as a reset).
    public static func parse(state text: String) -> MetricsSnapshot? { parse(state: Array(text.utf8)) }

    /// The same on the file's bytes: the hook does this on every run, so it never looks at
    /// Characters (grapheme breaking) and reads integer values without a Double parser.
    public static func parse(state bytes: [UInt8]) -> MetricsSnapshot? {
        let newline = UInt8(ascii: "\n"), space = UInt8(ascii: " "), hash = UInt8(ascii: "#")
        let header = Array(stateHeader.utf8)
        guard bytes.count >= header.count, bytes.starts(with: header) else { return nil }
        var values: [String: Double] = [:]
        var order: [String: [String]] = [:]
        var family = ""
        let typePrefix = Array("# TYPE ".utf8)
        var start = header.count
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: newline) ?? bytes.count
            defer { start = end + 1 }
            guard end > start else { continue }
            let line = bytes[start..<end]
            if line.first == hash {
                if line.starts(with: typePrefix) {
                    let name = line.dropFirst(typePrefix.count).prefix { $0 != space }
                    family = String(decoding: name, as: UTF8.self)
                }
                continue
            }
            guard let split = line.lastIndex(of: space), split > line.startIndex, line.first != UInt8(ascii: "{"),
                let value = number(line[(split + 1)...])
            else { return nil }
            let key = String(decoding: line[..<split], as: UTF8.self)
            values[key] = value
            order[family, default: []].append(key)
        }
        var snapshot = MetricsSnapshot()
        snapshot.values = values
        // Trusted only when every series sits under a known family it belongs to.
        snapshot.exportOrder = order.allSatisfy { entry in
            knownFamilies.contains(entry.key) && entry.value.allSatisfy { $0.utf8.starts(with: entry.key.utf8) }
        } ? order : nil
        return snapshot
    }

    /// A value: digits read directly, anything else (fractions, exponents) by Double's parser.
    private static func number(_ bytes: ArraySlice<UInt8>) -> Double? {
        guard !bytes.isEmpty else { return nil }
        if bytes.count < 16, bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            return Double(bytes.reduce(UInt64(0)) { $0 * 10 + UInt64($1 - UInt8(ascii: "0")) })
        }
        return Double(String(decoding: bytes, as: UTF8.self))
    }

    // MARK: the exposition

    /// The Prometheus text format (version 0.0.4): HELP and TYPE for every family, then its
    /// series; counters without labels show 0 before their first event, so an alert on
    /// `increase(...)` has a series to look at.
    public var exposition: String { String(decoding: expositionBytes(), as: UTF8.self) }

    /// The exposition as bytes, built in one buffer (the hook renders it on every run).
    func expositionBytes(header: String? = nil) -> [UInt8] {
        let ordered = exportOrder ?? sortedByFamily()
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 72 + 4096)
        if let header { out += header.utf8; out.append(UInt8(ascii: "\n")) }
        for family in MetricFamily.all {
            out += family.headerLines.utf8
            let series = ordered[family.name] ?? []
            if series.isEmpty && family.kind == .counter && family.labelNames.isEmpty {
                out += family.name.utf8
                out += " 0\n".utf8
            }
            for one in series {
                out += one.utf8
                out.append(UInt8(ascii: " "))
                Self.appendNumber(values[one] ?? 0, to: &out)
                out.append(UInt8(ascii: "\n"))
            }
        }
        return out
    }

    static func appendNumber(_ value: Double, to out: inout [UInt8]) {
        guard value == value.rounded(), abs(value) < 1e15, value >= 0 else {
            out += number(value).utf8
            return
        }
        var integer = UInt64(value)
        if integer == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        var digits: [UInt8] = []
        while integer > 0 {
            digits.append(UInt8(ascii: "0") + UInt8(integer % 10))
            integer /= 10
        }
        out += digits.reversed()
    }

    /// Each family's series in export order (histograms: grouped, buckets by `le`).
    private func sortedByFamily() -> [String: [String]] {
        var byFamily: [String: [String]] = [:]
        for series in values.keys { byFamily[Self.family(of: series), default: []].append(series) }
        for (family, series) in byFamily {
            byFamily[family] = Self.histogramNames.contains(family) ? Self.sortedHistogram(series) : series.sorted()
        }
        return byFamily
    }

    /// The metric name of a series' text (before `{`), with a histogram's suffix removed.
    static func family(of series: String) -> String {
        let name = series.utf8.firstIndex(of: UInt8(ascii: "{")).map { String(series[..<$0]) } ?? series
        guard name.utf8.last == UInt8(ascii: "t") || name.utf8.last == UInt8(ascii: "m") else { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if histogramNames.contains(base) { return base }
        }
        return name
    }

    private static let knownFamilies = Set(MetricFamily.all.map(\.name))
    private static let histogramNames = Set(MetricFamily.all.filter { $0.kind == .histogram }.map(\.name))

    /// Lines grouped by their labels other than `le`, each group's buckets in numeric order
    /// of `le` (+Inf last), then its _sum and _count: what a histogram must look like.
    static func sortedHistogram(_ series: [String]) -> [String] {
        series.map { one -> (String, Int, Double, String) in
            let brace = one.firstIndex(of: "{")
            let name = brace.map { String(one[..<$0]) } ?? one
            var labels = brace.map { String(one[$0...]) } ?? ""
            var bound = 0.0
            // `le` is written by smbvol (a number or +Inf, never escaped): cut it out to group.
            if let range = labels.firstRange(of: "le=\""), let close = labels[range.upperBound...].firstIndex(of: "\"") {
                let text = labels[range.upperBound..<close]
                bound = text == "+Inf" ? .infinity : Double(text) ?? 0
                var end = labels.index(after: close)
                if end < labels.endIndex, labels[end] == "," { end = labels.index(after: end) }
                labels.removeSubrange(range.lowerBound..<end)
                labels = labels.replacing(",}", with: "}")
                if labels == "{}" { labels = "" }
            }
            let order = name.hasSuffix("_bucket") ? 0 : name.hasSuffix("_sum") ? 1 : 2
            return (labels, order, bound, one)
        }
        .sorted { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }
        .map(\.3)
    }

    /// Integers without a fraction (counts), everything else as Swift prints a Double.
    static func number(_ value: Double) -> String {
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return value.description
    }
}
