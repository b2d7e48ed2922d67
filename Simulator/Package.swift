// swift-tools-version:6.1
import PackageDescription

// The Qumulo simulator (qumulo-sim): the REST API subset smbvol uses, for tests, the demo and the
// benchmarks. A package of its own so that building smbvol never resolves or compiles
// Hummingbird, SwiftNIO and BoringSSL. It shares no code with smbvol: the contract between them
// is the HTTP API, checked end to end by smbvol's integration tests and the qq conformance test.

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "qumulo-sim",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "qumulo-sim", targets: ["qumulo-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    ],
    targets: [
        // Routes, state, faults, scenarios, the Samba backend: the simulator itself.
        .target(
            name: "QumuloSimulator",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        // `qumulo-sim serve` and `qumulo-sim generate`.
        .executableTarget(
            name: "qumulo-sim",
            dependencies: [
                "QumuloSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings),
        .testTarget(name: "QumuloSimulatorTests", dependencies: ["QumuloSimulator"], swiftSettings: strictSettings),
    ]
)
