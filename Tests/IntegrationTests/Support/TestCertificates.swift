import Foundation
import Synchronization

/// TLS material from scripts/make-test-certs.sh, made once per test process in a temp dir.
struct TestCertificates: Sendable {
    var directory: String
    var caFile: String { directory + "/ca.pem" }
    var serverCertificate: String { directory + "/server.pem" }
    var serverKey: String { directory + "/server.key" }
    /// Valid chain, but its only SAN is DNS:wrong.example.
    var wrongHostCertificate: String { directory + "/wrong.pem" }
    var wrongHostKey: String { directory + "/wrong.key" }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private static let cache = Mutex<TestCertificates?>(nil)

    static func shared() throws -> TestCertificates {
        try cache.withLock { cached in
            if let cached { return cached }
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("smbvol-test-certs-\(getpid())-\(UUID().uuidString.prefix(8))").path
            let script = TestBinaries.packageRoot + "/scripts/make-test-certs.sh"
            let result = runProcess("/bin/sh", [script, directory], timeout: .seconds(60))
            guard result.status == 0 else {
                throw Failure(description: "make-test-certs.sh failed (\(result.status)): \(result.stderr)")
            }
            let made = TestCertificates(directory: directory)
            cached = made
            return made
        }
    }
}
