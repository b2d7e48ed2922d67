import Logging
import Testing

@testable import SmbvolLogging

@Suite("journal native protocol")
struct JournalEntryTests {
    @Test("text values are NAME=value lines; a newline or a control byte switches to the length-prefixed form")
    func serialization() {
        var entry = JournalEntry()
        entry.append("MESSAGE", "closed stale SMB handle")
        entry.append("SMBVOL_REASON", "backup\nwindow")
        entry.append("SMBVOL_ERROR", "bell\u{07}")
        var expected = Array("MESSAGE=closed stale SMB handle\n".utf8)
        expected += Array("SMBVOL_REASON\n".utf8) + [13, 0, 0, 0, 0, 0, 0, 0] + Array("backup\nwindow\n".utf8)
        expected += Array("SMBVOL_ERROR\n".utf8) + [5, 0, 0, 0, 0, 0, 0, 0] + Array("bell\u{07}\n".utf8)
        #expect(entry.serialized == expected)
    }

    @Test("invalid UTF-8 is sent length-prefixed")
    func binaryValue() {
        #expect(JournalEntry.needsBinaryForm([0x66, 0xFF, 0x66]))
        #expect(!JournalEntry.needsBinaryForm(Array("web01 é".utf8)))
    }

    @Test("a record: identifier, priority, MESSAGE, MESSAGE_ID of its event, SMBVOL_* fields by their documented names, secrets redacted")
    func record() {
        let redactor = SecretRedactor()
        redactor.register("hunter2-secret")
        var event = AuditEvent(.close, message: "closed stale SMB handle")
        event[.domain] = "web01"
        event[.client] = "10.0.0.13"
        event[.clusterPath] = "/vms/web01.qcow2"
        event[.idleSeconds] = "400"
        event[.reason] = "stale: hunter2-secret"
        event.extra["lock_id"] = "abc"
        let line = "closed stale SMB handle client_address=10.0.0.13"
        let entry = JournalEntry.record(level: .notice, line: line, metadata: event.metadata, redactor: redactor)
        let fields = Dictionary(entry.fields.map { ($0.name, String(decoding: $0.value, as: UTF8.self)) }) { first, _ in first }
        #expect(fields["SYSLOG_IDENTIFIER"] == "smbvol")
        #expect(fields["PRIORITY"] == "5")
        #expect(fields["MESSAGE"] == line)
        #expect(fields["MESSAGE_ID"] == AuditEventKind.close.messageID)
        #expect(fields["SMBVOL_EVENT"] == "close")
        #expect(fields["SMBVOL_DOMAIN"] == "web01")
        #expect(fields["SMBVOL_CLIENT"] == "10.0.0.13")
        #expect(fields["SMBVOL_CLUSTER_PATH"] == "/vms/web01.qcow2")
        #expect(fields["SMBVOL_IDLE_SECONDS"] == "400")
        #expect(fields["SMBVOL_REASON"] == "stale: <redacted>")
        #expect(fields["SMBVOL_LOCK_ID"] == "abc")
        #expect(entry.fields.filter { $0.name == "SMBVOL_DOMAIN" }.count == 1)
    }

    @Test("every event kind has its own 128-bit MESSAGE_ID")
    func messageIDs() {
        let ids = AuditEventKind.allCases.map(\.messageID)
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.count == 32 && id.allSatisfy { $0.isHexDigit && !$0.isUppercase }, "\(id)")
        }
    }

    @Test("field names for other metadata keys: SMBVOL_ and the key in capitals, other characters as _")
    func fieldNames() {
        #expect(JournalEntry.fieldName(forMetadataKey: "mount_point") == "SMBVOL_MOUNT_POINT")
        #expect(JournalEntry.fieldName(forMetadataKey: "hook") == "SMBVOL_HOOK")
        #expect(JournalEntry.fieldName(forMetadataKey: "a-b.c") == "SMBVOL_A_B_C")
        #expect(JournalEntry.fieldName(forMetadataKey: "domain_uuid") == "SMBVOL_DOMAIN_UUID")
        #expect(JournalEntry.fieldName(forMetadataKey: "operator") == "SMBVOL_OPERATOR")
    }

    @Test("the audit metadata: event first-class, empty fields left out, line keys as before")
    func auditMetadata() {
        var event = AuditEvent(.lockAdd, message: "attachment lock added")
        event[.share] = "vmstore"
        event[.domain] = ""
        event[.client] = "10.0.0.1"
        let metadata = event.metadata
        #expect(metadata["event"].map { "\($0)" } == "lock-add")
        #expect(metadata["share"].map { "\($0)" } == "vmstore")
        #expect(metadata["domain"] == nil)
        #expect(metadata["client_address"].map { "\($0)" } == "10.0.0.1")
        #expect(event.level == .notice)
        #expect(AuditEvent.invokingOperator(environment: ["SUDO_USER": "alice", "USER": "root"]) == "alice")
        #expect(AuditEvent.invokingOperator(environment: ["USER": "bob"]) == "bob")
    }
}
