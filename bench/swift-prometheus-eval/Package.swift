// swift-tools-version:6.2
import PackageDescription
let package = Package(
    name: "promeval",
    dependencies: [.package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1")],
    targets: [
        .target(name: "OwnMetrics"),
        .executableTarget(name: "OwnWriter", dependencies: ["OwnMetrics"]),
        .executableTarget(name: "SwiftPrometheusWriter", dependencies: ["OwnMetrics", .product(name: "Prometheus", package: "swift-prometheus")]),
        .executableTarget(name: "Empty"),
    ])
