/// `/v1/files/{ref}/info/attributes` and file reference resolution.
extension SimulatorState {
    /// Resolves one raw path segment: a percent-encoded absolute path or a file id.
    func resolve(ref rawRef: String) throws(QumuloError) -> FileRecord {
        guard let ref = PercentEncoding.decode(rawRef) else {
            throw .invalidRequest("invalid percent-encoding in file reference \"\(rawRef)\"")
        }
        if ref.hasPrefix("/") {
            var path = ref
            while path.count > 1, path.hasSuffix("/") { path.removeLast() }
            guard let file = filesByPath[path] else { throw .noSuchEntry(ref) }
            return file
        }
        guard !ref.isEmpty, ref.allSatisfy(\.isASCII), ref.allSatisfy(\.isNumber) else {
            throw .invalidRequest("file reference must be an absolute path or a file id: \"\(ref)\"")
        }
        guard let file = filesByID[ref] else { throw .noSuchEntry(ref) }
        return file
    }

    func fileAttributes(ref: String) throws(QumuloError) -> SimulatorResponse {
        .json(Self.attributes(of: try resolve(ref: ref)))
    }

    static func attributes(of file: FileRecord) -> JSONValue {
        let isDirectory = file.kind == .directory
        let time = JSONValue.string("2025-01-01T00:00:00.000000000Z")
        return .object([
            ("path", .string(isDirectory && file.path != "/" ? file.path + "/" : file.path)),
            ("name", .string(file.name)),
            ("num_links", .int(isDirectory ? 2 : 1)),
            ("type", .string(file.kind.rawValue)),
            ("major_minor_numbers", .object([("major", .int(0)), ("minor", .int(0))])),
            ("symlink_target_type", .string("FS_FILE_TYPE_UNKNOWN")),
            ("file_number", .string(file.id)),
            ("id", .string(file.id)),
            ("mode", .string(isDirectory ? "0755" : "0644")),
            ("owner", .string(file.owner)),
            ("owner_details", .object([("id_type", .string("LOCAL_USER")), ("id_value", .string(file.owner))])),
            ("group", .string("513")),
            ("group_details", .object([("id_type", .string("LOCAL_GROUP")), ("id_value", .string("513"))])),
            ("blocks", .string("0")),
            ("datablocks", .string("0")),
            ("metablocks", .string("1")),
            ("size", .string(file.size)),
            ("access_time", time),
            ("modification_time", time),
            ("change_time", time),
            ("creation_time", time),
            ("child_count", .int(0)),
            ("extended_attributes", .object([])),
            ("directory_entry_hash_policy", isDirectory ? .string("FS_DIRECTORY_HASH_VERSION_FOLDED") : .null),
            ("data_revision", .null),
        ])
    }
}
