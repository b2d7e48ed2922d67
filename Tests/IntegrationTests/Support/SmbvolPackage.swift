import Foundation
import Testing

/// The Debian package scripts/package built: `$SMBVOL_DEB` (scripts/test sets it), else the
/// newest smbvol_*_amd64.deb in .build/package. Missing is a failure, not a skip.
enum SmbvolPackage {
    static var path: String? {
        if let fromEnvironment = ProcessInfo.processInfo.environment["SMBVOL_DEB"], !fromEnvironment.isEmpty {
            guard FileManager.default.fileExists(atPath: fromEnvironment) else {
                Issue.record("SMBVOL_DEB=\(fromEnvironment) does not exist; build it with scripts/package")
                return nil
            }
            return fromEnvironment
        }
        let directory = TestBinaries.packageRoot + "/.build/package"
        let newest = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("smbvol_") && $0.hasSuffix("_amd64.deb") }
            .map { directory + "/" + $0 }
            .max { modificationDate($0) < modificationDate($1) }
        guard let newest else {
            Issue.record(
                """
                no smbvol package: run scripts/test (it builds one), or scripts/package --output .build/package, \
                or set SMBVOL_DEB to a smbvol_<version>_amd64.deb
                """)
            return nil
        }
        return newest
    }

    private static func modificationDate(_ path: String) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
    }
}
