import QumuloClient
import SmbvolTestSupport
import Testing

/// A server that hands out ever-new `next` links ends the listing with
/// an error after a bounded number of pages, instead of growing forever.
@Suite("Paging bound")
struct EndlessPagingTests {
    @Test("endless distinct next links: an error after 100 000 pages naming why")
    func endlessDistinctNext() throws {
        let transport = ScriptedTransport { _, count in
            json(#"{"file_handles": [], "paging": {"next": "/v1/smb/files/?after=\#(count)&limit=1000"}}"#)
        }
        #expect {
            try makeClient(transport).forEachHandlePage { _ in }
        } throws: { error in
            "\(error)".contains("did not end after 100000 pages")
        }
        #expect(transport.requestCount == 100_000)
    }
}
