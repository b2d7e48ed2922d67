import QumuloClient
import SmbvolShares

/// The handles the cluster lists on one file, by its file number — only that file's: a cluster
/// that ignores the `file_number` filter must not make other files' handles appear on it (or
/// be closed with it). The one listing `check`, the start, `handles list|close` and the
/// takeover check use.
public struct HandlesOnFile: Sendable {
    public var fileNumber: String
    public var handles: [FileHandle]
    /// Handles of other files the cluster listed anyway: dropped.
    public var foreignCount: Int
    public var completeness: ListingCompleteness

    public init(fileNumber: String, listed: [FileHandle], completeness: ListingCompleteness) {
        self.fileNumber = fileNumber
        handles = listed.filter { ImageIdentity.sameNumber($0.fileNumber, fileNumber) }
        foreignCount = listed.count - handles.count
        self.completeness = completeness
    }

    /// Lists the handles on `fileNumber` and keeps the file's own.
    public init(fileNumber: String, client: QumuloClient) throws {
        let (listed, completeness) = try client.handles(onFileNumber: fileNumber)
        self.init(fileNumber: fileNumber, listed: listed, completeness: completeness)
    }
}
