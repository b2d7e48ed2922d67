// What a hook run does with smbvol's own writer: parse the state, add this run, render the
// exposition and the state.
import OwnMetrics
#if canImport(Glibc)
import Glibc
#endif
let path = CommandLine.arguments[1]
let fd = open(path, O_RDONLY)
var bytes = [UInt8](repeating: 0, count: 1 << 16)
let n = read(fd, &bytes, bytes.count); close(fd)
var snapshot = MetricsSnapshot.parse(state: String(decoding: bytes[0..<max(0, n)], as: UTF8.self)) ?? MetricsSnapshot()
snapshot.add(MetricSeries(MetricFamily.hookRuns.name, labels: ["operation": "prepare", "result": "ok"]), 1)
snapshot.observe(.hookDuration, labels: ["operation": "prepare"], value: 0.018)
let text = snapshot.exposition + snapshot.stateText
if CommandLine.arguments.count > 2 {
    let out = open(CommandLine.arguments[2], O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    _ = snapshot.stateText.utf8CString.withUnsafeBufferPointer { write(out, $0.baseAddress, $0.count - 1) }
    close(out)
} else {
    let out = open("/dev/null", O_WRONLY)
    _ = text.utf8CString.withUnsafeBufferPointer { write(out, $0.baseAddress, $0.count - 1) }
}
