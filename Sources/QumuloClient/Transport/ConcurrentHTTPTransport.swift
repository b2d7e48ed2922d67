/// Several exchanges in flight at once, their answers handed back as they complete — what a
/// listing that follows independent chains of pages uses. Single-threaded: `nextCompleted`
/// drives the transfers on the caller's thread.
public protocol ConcurrentHTTPTransport: AnyObject {
    /// At most this many exchanges are in flight (the caller does not start more).
    var maximumInFlight: Int { get }
    /// Exchanges started so far.
    var requestCount: Int { get }
    /// Exchanges started and not yet handed back.
    var inFlight: Int { get }
    /// Starts `request`; its answer comes back from `nextCompleted` with `tag`.
    func start(_ request: HTTPRequest, timeout: Duration, tag: Int) throws(TransportFailure)
    /// Waits for the next exchange to finish; nil when none is in flight.
    func nextCompleted() -> (tag: Int, result: Result<HTTPResponse, TransportFailure>)?
    /// Moves every exchange as far as it goes without waiting — above all, sends the requests
    /// just started — so the server works on them while the caller does something else.
    func sendStarted()
}

extension ConcurrentHTTPTransport {
    public func sendStarted() {}
}

/// The concurrent interface over a one-at-a-time transport: each exchange runs when its answer
/// is asked for, in the order started. For unit tests (over a recording double) and for
/// clients built without a multi transport.
public final class SerialExchangeQueue: ConcurrentHTTPTransport {
    public let transport: any HTTPTransport
    public let maximumInFlight: Int
    public private(set) var requestCount = 0
    private var queue: [(request: HTTPRequest, timeout: Duration, tag: Int)] = []
    private var head = 0

    public init(transport: any HTTPTransport, maximumInFlight: Int = 4) {
        self.transport = transport
        self.maximumInFlight = max(1, maximumInFlight)
    }

    public var inFlight: Int { queue.count - head }

    public func start(_ request: HTTPRequest, timeout: Duration, tag: Int) throws(TransportFailure) {
        requestCount += 1
        queue.append((request, timeout, tag))
    }

    public func nextCompleted() -> (tag: Int, result: Result<HTTPResponse, TransportFailure>)? {
        guard head < queue.count else { return nil }
        let (request, timeout, tag) = queue[head]
        head += 1
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        }
        do {
            return (tag, .success(try transport.send(request, timeout: timeout)))
        } catch {
            return (tag, .failure(error))
        }
    }
}
