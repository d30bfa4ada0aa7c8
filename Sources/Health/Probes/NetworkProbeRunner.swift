import LVSModel
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Runs every kind of probe for real: sockets on the caller's event loop, scripts and file reads
/// on a thread pool of its own (so a slow script never blocks an event loop).
public final class NetworkProbeRunner: ProbeRunner {
    private let pool: NIOThreadPool
    /// TLS contexts load the system's roots once, not once per check: one per `verify` setting.
    private let tlsContexts = Mutex<[Bool: NIOSSLContext]>([:])
    /// Each loop's half-open prober.
    private let halfOpen = LoopLocal { HalfOpenProber(loop: $0) }
    /// Each loop's io_uring connector for tcp probes without a source address.
    private let connectors = LoopLocal { RingConnector(loop: $0) }
    private let spills = Atomic<Int>(0)

    /// Probes that found every io_uring slot of their loop busy and took a socket channel instead
    /// (about two dozen system calls rather than three): a loop that has fallen behind.
    public var ringSpills: Int { spills.load(ordering: .relaxed) }

    /// A runner with a thread pool of its own: `threads` scripts and file reads may block at once.
    /// Call `shutdown()` before letting it go (NIO asserts when a running pool is released).
    public init(threads: Int = 4) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    /// A runner on a started pool the caller owns (and shuts down).
    public init(pool: NIOThreadPool) {
        self.pool = pool
    }

    /// Stops the thread pool (one passed in too); scripts still running are waited for.
    public func shutdown() async throws { try await pool.shutdownGracefully() }

    public func run(_ key: ProbeKey, on loop: any EventLoop) -> EventLoopFuture<ProbeVerdict> {
        // The probes keep their state confined to the loop: start them there.
        if loop.inEventLoop { return start(key, on: loop) }
        return loop.flatSubmit { self.start(key, on: loop) }
    }

    /// A probe the ring would have taken went to a channel: counted when the ring works on this kernel.
    private func countSpill(_ key: ProbeKey, on loop: any EventLoop) {
        if key.source == nil, connectors(loop).works { spills.add(1, ordering: .relaxed) }
    }

    private func start(_ key: ProbeKey, on loop: any EventLoop) -> EventLoopFuture<ProbeVerdict> {
        let timeout = max(key.timeoutMilliseconds, 1)
        guard let address = key.address else {
            guard case .file(let path, let weight) = key.probe else { return loop.makeSucceededFuture(.failed("no address to probe")) }
            return FileProbe.run(path: path, weight: weight, timeoutMilliseconds: timeout, pool: pool, on: loop)
        }
        switch key.probe {
        case .tcp:
            if key.source == nil, let probe = connectors(loop).run(address: address, port: key.port, timeoutMilliseconds: timeout, attempt: {
                ProbeAttempt(loop: loop, timeoutMilliseconds: timeout, onTimeout: .failed("no connection within \(timeout) ms"))
            }) {
                return probe
            }
            countSpill(key, on: loop)
            return TCPProbe.run(address: address, port: key.port, source: key.source, timeoutMilliseconds: timeout, on: loop)
        case .tcpHalfOpen:
            return halfOpen(loop).run(address: address, port: key.port, source: key.source, timeoutMilliseconds: timeout)
        case .http(let http):
            if http.tls == nil, key.source == nil,
               let probe = HTTPProbeRunner.run(http, address: address, port: key.port, timeoutMilliseconds: timeout, on: connectors(loop)) {
                return probe
            }
            if http.tls == nil { countSpill(key, on: loop) }
            let context: NIOSSLContext?
            do {
                context = try http.tls.map { try tlsContext(verify: $0.verify) }
            } catch {
                return loop.makeSucceededFuture(.failed("TLS: \(error)"))
            }
            return HTTPProbeRunner.run(http, address: address, port: key.port, source: key.source,
                                       timeoutMilliseconds: timeout, tls: context, on: loop)
        case .udp(let payload, let expect):
            return DatagramProbe.udp(payload: payload, expect: expect, address: address, port: key.port, source: key.source,
                                     timeoutMilliseconds: timeout, on: loop)
        case .dns(let name, let type):
            return DatagramProbe.dns(name: name, type: type, address: address, port: key.port, source: key.source,
                                     timeoutMilliseconds: timeout, on: loop)
        case .smtp(let helo):
            return SMTPProbe.run(helo: helo, address: address, port: key.port, source: key.source,
                                 timeoutMilliseconds: timeout, on: loop)
        case .script(let argv):
            return ScriptProbe.run(argv: argv, address: address, timeoutMilliseconds: timeout, pool: pool, on: loop)
        case .ping:
            return PingProbe.run(address: address, source: key.source, timeoutMilliseconds: timeout, on: loop)
        case .file(let path, let weight):
            return FileProbe.run(path: path, weight: weight, timeoutMilliseconds: timeout, pool: pool, on: loop)
        }
    }

    private func tlsContext(verify: Bool) throws -> NIOSSLContext {
        try tlsContexts.withLock { contexts in
            if let c = contexts[verify] { return c }
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = verify ? .fullVerification : .none
            let context = try NIOSSLContext(configuration: configuration)
            contexts[verify] = context
            return context
        }
    }
}
