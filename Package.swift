// swift-tools-version:6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "smbvol",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "smbvol", targets: ["smbvol"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    ],
    targets: [
        // C libraries from Debian.
        // Headers only: libcurl is loaded with dlopen on the first request (QumuloClient.CurlLibrary).
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // No pkgConfig: libvirt is loaded with dlopen on first use (LibvirtDomains), never linked.
        .systemLibrary(name: "CLibvirt", providers: [.apt(["libvirt-dev"])]),

        // Every system call (docs/architecture.md, "System calls"): clock and deadline, processes,
        // flock, atomic files, file status, no-follow share files, read/write loops, directory
        // listings, addresses, accounts, sockets, dlopen. Depends on nothing: everything else may use it.
        .target(name: "SmbvolSystem", swiftSettings: strictSettings),
        // Log handlers: syslog (ident smbvol) and stderr, with secret redaction.
        .target(
            name: "SmbvolLogging",
            dependencies: ["SmbvolSystem", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        // Prometheus textfile metrics kept across runs.
        .target(name: "SmbvolMetrics", dependencies: ["SmbvolSystem"], swiftSettings: strictSettings),
        // /etc/smbvol/smbvol.toml + shares.d/*.toml.
        .target(
            name: "SmbvolConfig",
            dependencies: ["SmbvolSystem", "TOMLKit"],
            swiftSettings: strictSettings),
        // The Qumulo REST client over libcurl.
        .target(
            name: "QumuloClient",
            dependencies: [
                "CCurl", "SmbvolSystem",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        // The one share value (`Share`: export, mount point, credentials, options, cluster and
        // cluster root) and the catalog that resolves the configured ones once. Mounts, locks,
        // evidence, heartbeat and the use cases all carry this value.
        .target(name: "SmbvolShares", dependencies: ["SmbvolConfig"], swiftSettings: strictSettings),
        // SMB mounts: mount table, mount options, running mount.cifs.
        .target(
            name: "SMBMounts",
            dependencies: [
                "SmbvolSystem", "SmbvolConfig", "SmbvolShares", "SmbvolLogging",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        // Attachment locks: the durable, flock-protected store.
        .target(
            name: "AttachmentLocks",
            dependencies: [
                "SmbvolSystem", "SmbvolShares", "SmbvolLogging",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),

        // Heartbeat records on each share: model, atomic no-follow writer, bounded reader.
        .target(
            name: "HostHeartbeat",
            dependencies: ["SmbvolSystem"],
            swiftSettings: strictSettings),

        // libvirt domain XML: name, UUID, file disks and their backing chains.
        .target(name: "DomainXML", swiftSettings: strictSettings),
        // Pure lock-hygiene decisions: evidence in, one decision per handle out. No I/O (it uses
        // SmbvolSystem's value types and address parsing only).
        .target(name: "LockHygiene", dependencies: ["SmbvolSystem"], swiftSettings: strictSettings),
        // Locating a domain's disk images on the shares: disk → share → path below it, symlinks
        // kept inside their share. No cluster, no evidence.
        .target(name: "DiskImages", dependencies: ["DomainXML", "LockHygiene", "SmbvolShares", "SmbvolSystem"], swiftSettings: strictSettings),
        // Gathers the evidence for one image: the cluster's handles and grants, this host's open
        // files (the kernel's), attachment records, heartbeats and holder claims. Decides nothing.
        .target(
            name: "HandleEvidence",
            dependencies: [
                "LockHygiene", "QumuloClient", "SmbvolShares", "SmbvolSystem", "DiskImages", "AttachmentLocks", "HostHeartbeat",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        // Stale-handle cleanup: inspects a domain's images (evidence → LockHygiene's decisions),
        // closes the stale handles by location, audits every close and refusal, and records takeovers.
        .target(
            name: "StaleHandleCleanup",
            dependencies: [
                "HandleEvidence", "LockHygiene", "QumuloClient", "SmbvolConfig", "SmbvolShares", "SmbvolSystem", "DomainXML", "DiskImages",
                "AttachmentLocks", "SmbvolLogging", "HostHeartbeat",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        // The use cases: the start pipeline (hook prepare/migrate, hot-attach), release,
        // reconnect, detach, check, closing by hand, reconcile — over the protocols at the edges.
        .target(
            name: "SmbvolUseCases",
            dependencies: [
                "SmbvolSystem", "SmbvolLogging", "SmbvolConfig", "SmbvolShares", "QumuloClient", "SMBMounts", "AttachmentLocks", "DomainXML",
                "LockHygiene", "DiskImages", "HandleEvidence", "StaleHandleCleanup", "HostHeartbeat", "SmbvolMetrics", "LibvirtDomains",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        // The composition: builds the concrete edges from the configuration — the cluster
        // connection (flags, configuration, environment → libcurl client and its login), the
        // mount.cifs attach side, the journal/syslog and metrics sinks, the deadline watchdog's
        // progress — and runs the hook, the heartbeat service, login and the fence agent on them.
        .target(
            name: "SmbvolWiring",
            dependencies: [
                "SmbvolUseCases", "SmbvolSystem", "SmbvolLogging", "SmbvolConfig", "SmbvolShares", "QumuloClient", "SMBMounts", "AttachmentLocks",
                "DomainXML", "HandleEvidence", "StaleHandleCleanup", "HostHeartbeat", "SmbvolMetrics", "LibvirtDomains",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        // Text and JSON renderers of the use cases' typed results (through SmbvolSystem's one
        // JSONWriter), and the buffered, line-escaped stdout writer: what the executable prints.
        .target(
            name: "SmbvolPresentation",
            dependencies: [
                "SmbvolSystem", "SmbvolLogging", "DomainXML", "LockHygiene", "DiskImages", "HandleEvidence", "StaleHandleCleanup", "AttachmentLocks", "HostHeartbeat",
                "QumuloClient", "SmbvolUseCases",
            ],
            swiftSettings: strictSettings),
        // Read-only libvirt connection for `check --domain` and `reconcile` (never the hook).
        .target(name: "LibvirtDomains", dependencies: ["CLibvirt", "SmbvolSystem"], swiftSettings: strictSettings),

        // The one binary operators and the libvirt hook run.
        .executableTarget(
            name: "smbvol",
            dependencies: [
                "SmbvolSystem", "SmbvolLogging", "SmbvolConfig", "SmbvolShares", "QumuloClient",
                "SMBMounts", "AttachmentLocks", "DomainXML", "LockHygiene", "DiskImages", "HandleEvidence", "StaleHandleCleanup", "LibvirtDomains", "SmbvolMetrics",
                "HostHeartbeat", "SmbvolUseCases", "SmbvolWiring", "SmbvolPresentation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),

        // What the test targets share, and only they depend on: the smbvol.toml builder, the
        // domain-XML builder, the scripted cluster transport, the log capture, waitUntil.
        .target(
            name: "SmbvolTestSupport",
            dependencies: ["QumuloClient", .product(name: "Logging", package: "swift-log")],
            path: "Tests/SmbvolTestSupport",
            swiftSettings: strictSettings),

        .testTarget(name: "SmbvolSystemTests", dependencies: ["SmbvolSystem"], swiftSettings: strictSettings),
        .testTarget(name: "SmbvolConfigTests", dependencies: ["SmbvolConfig", "SmbvolTestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "QumuloClientTests",
            dependencies: ["QumuloClient", "SmbvolSystem", "SmbvolTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SMBMountsTests", dependencies: ["SMBMounts", "SmbvolShares", "SmbvolSystem", "SmbvolConfig"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "AttachmentLocksTests", dependencies: ["AttachmentLocks", "SmbvolShares", "SmbvolSystem"],
            swiftSettings: strictSettings),
        .testTarget(name: "DomainXMLTests", dependencies: ["DomainXML", "SmbvolTestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "LockHygieneTests", dependencies: ["LockHygiene", "SmbvolSystem"], swiftSettings: strictSettings),
        .testTarget(
            name: "HandleEvidenceTests",
            dependencies: [
                "HandleEvidence", "StaleHandleCleanup", "DiskImages", "HostHeartbeat", "QumuloClient", "LockHygiene", "SmbvolConfig", "SmbvolShares", "SMBMounts", "DomainXML",
                "SmbvolSystem",
                "SmbvolTestSupport", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "ObservabilityTests", dependencies: ["SmbvolLogging", "SmbvolMetrics", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        .testTarget(
            name: "HostHeartbeatTests",
            dependencies: ["HostHeartbeat", "HandleEvidence", "StaleHandleCleanup", "LockHygiene", "SmbvolSystem"],
            swiftSettings: strictSettings),
        .testTarget(name: "LibvirtDomainsTests", dependencies: ["LibvirtDomains"], swiftSettings: strictSettings),
        .testTarget(
            name: "SmbvolUseCasesTests",
            dependencies: [
                "SmbvolUseCases", "AttachmentLocks", "SMBMounts", "SmbvolShares", "SmbvolConfig", "DomainXML", "QumuloClient", "SmbvolSystem", "LockHygiene",
                "DiskImages", "HandleEvidence", "StaleHandleCleanup", "HostHeartbeat", "LibvirtDomains", "SmbvolWiring", "SmbvolTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SmbvolPresentationTests",
            dependencies: [
                "SmbvolPresentation", "SmbvolUseCases", "SmbvolShares", "DiskImages", "HandleEvidence", "StaleHandleCleanup", "LockHygiene", "DomainXML", "AttachmentLocks",
                "QumuloClient", "SmbvolSystem",
            ],
            swiftSettings: strictSettings),
        // Runs the built binaries end to end: smbvol, qumulo-sim (built from the package in
        // Simulator/, found through SMBVOL_SIM_BIN_DIR) and the official qq CLI.
        .testTarget(
            name: "IntegrationTests", dependencies: ["smbvol", "SmbvolTestSupport"],
            swiftSettings: strictSettings),
    ]
)
