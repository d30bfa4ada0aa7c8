import Glibc
@testable import Health
import LVSModel
import NIOCore
import NIOPosix
import Testing

/// Every probe kind against real peers, run by tools/lab/health-peers.sh inside a fresh network
/// namespace (`unshare -n`) where it starts them on loopback; skipped anywhere else, so no unit test
/// opens a socket in the machine's own namespace. One test at a time, with 3 s per probe: the peers
/// (http.server, openssl s_server -www) answer one connection at a time, and CI's machine is busy.
@Suite("Probes against real peers (tools/lab/health-peers.sh)", .enabled(if: getenv("LVSH_HEALTH_PEERS") != nil), .serialized)
struct LivePeerTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    static let sharedRunner = NetworkProbeRunner()
    var runner: NetworkProbeRunner { Self.sharedRunner }
    let lo = IPAddress("127.0.0.1")!

    func run(_ probe: Probe, address: IPAddress? = IPAddress("127.0.0.1"), port: UInt16 = 0, timeout: UInt32 = 3000) async throws -> ProbeVerdict {
        let key = ProbeKey(probe: probe, address: address, port: port, timeoutMilliseconds: timeout)
        let verdict = try await runner.run(key, on: Self.group.next()).get()
        print("probe \(key): \(verdict.ok ? "up" : "down") — \(verdict.reason)")
        return verdict
    }

    func http(_ configure: (inout HTTPProbe) -> Void) -> Probe {
        var h = HTTPProbe()
        configure(&h)
        return .http(h)
    }

    /// A full connect (io_uring's socket and connect; the channel when bound to a source): up,
    /// refused, silent (health-peers.sh drops what reaches 198.51.100.2),
    /// and many at once, three rounds, so that slots are reused and some probes overflow into NIO's
    /// channel (the slots are a quarter of the open-file limit).
    @Test func tcp() async throws {
        #expect(try await run(.tcp, port: 8080) == .passed("connected"))
        #expect(try await run(.tcp, address: IPAddress("::1"), port: 8081) == .passed("connected"))
        #expect(try await run(.tcp, port: 8099) == .failed("connection refused"))
        #expect(try await run(.tcp, address: IPAddress("::1"), port: 8099) == .failed("connection refused"))
        #expect(try await run(.tcp, address: IPAddress("198.51.100.2"), port: 80, timeout: 300) == .failed("no connection within 300 ms"))
        let bound = ProbeKey(probe: .tcp, address: IPAddress("127.0.0.2"), port: 9000, source: lo, timeoutMilliseconds: 1000)
        #expect(try await runner.run(bound, on: Self.group.next()).get() == .passed("connected"))
        for _ in 0..<3 {
            let verdicts = try await withThrowingTaskGroup(of: ProbeVerdict.self) { group in
                for n in 1...600 {
                    let key = ProbeKey(probe: .tcp, address: IPAddress(v4: 0x7f00_0000 | UInt32(n)), port: n % 2 == 0 ? 9000 : 8099,
                                       timeoutMilliseconds: 3000)
                    group.addTask { try await self.runner.run(key, on: Self.group.next()).get() }
                }
                return try await group.reduce(into: [ProbeVerdict]()) { $0.append($1) }
            }
            #expect(verdicts.filter { $0 == .passed("connected") }.count == 300)
            #expect(verdicts.filter { $0 == .failed("connection refused") }.count == 300)
        }
        // The silent ones' connects were cancelled and their slots serve again.
        #expect(try await run(.tcp, port: 8080) == .passed("connected"))
    }

    /// Completions are read even when no eventfd wake-up reports them (in the lab one went unread
    /// for a whole run): the connector looks at its ring every 20 ms while a slot is in use. The
    /// attempts' timeouts are two minutes, so without that look this test runs into its time limit.
    @Test(.timeLimit(.minutes(1))) func ringWithoutWakeups() async throws {
        let loop = Self.group.next()
        let verdicts = try await loop.flatSubmit { () -> EventLoopFuture<[ProbeVerdict]> in
            let connector = RingConnector(loop: loop, capacity: 16, wakeups: false)
            guard connector.works else { return loop.makeSucceededFuture([]) }
            let probes = [(self.lo, UInt16(8080)), (self.lo, UInt16(8099))].compactMap { address, port in
                connector.run(address: address, port: port, timeoutMilliseconds: 120_000) {
                    ProbeAttempt(loop: loop, timeoutMilliseconds: 120_000)
                }
            }
            return EventLoopFuture.whenAllSucceed(probes, on: loop).map { verdicts in withExtendedLifetime(connector) { _ in verdicts } }
        }.get()
        // Empty where io_uring lacks what the connector needs (before Linux 5.19).
        #expect(verdicts.isEmpty || verdicts == [.passed("connected"), .failed("connection refused")])
    }

    /// Plain http goes over io_uring like tcp: refused, silent, closed without an answer, an answer
    /// of many receives (200,000 bytes, judged by its digest), and many at once.
    @Test func httpOverTheRing() async throws {
        #expect(try await run(http { $0.path = "/health.txt" }, port: 8099) == .failed("connection refused"))
        #expect(try await run(http { $0.path = "/" }, address: IPAddress("198.51.100.2"), port: 80, timeout: 300)
                == .failed("no connection within 300 ms"))
        // The accept-and-close server: a FIN before the request, or a RST after it reached the closed socket.
        let closedEarly: Set<ProbeVerdict> = [.failed("connection closed before an answer"), .failed("connection reset")]
        #expect(closedEarly.contains(try await run(http { $0.path = "/" }, port: 9000)))
        let big = HTTPExpectation.md5Hex(Array(repeating: UInt8(ascii: "x"), count: 200_000))
        #expect(try await run(http { $0.path = "/big.txt"; $0.digest = big }, port: 8080) == .passed("status 200"))
        let verdicts = try await withThrowingTaskGroup(of: ProbeVerdict.self) { group in
            for n in 1...300 {
                let key = ProbeKey(probe: http { $0.path = "/" }, address: IPAddress(v4: 0x7f00_0000 | UInt32(n)), port: 9000,
                                   timeoutMilliseconds: 3000)
                group.addTask { try await self.runner.run(key, on: Self.group.next()).get() }
            }
            return try await group.reduce(into: [ProbeVerdict]()) { $0.append($1) }
        }
        #expect(verdicts.count == 300 && verdicts.allSatisfy { closedEarly.contains($0) })
        #expect(try await run(http { $0.path = "/health.txt" }, port: 8080) == .passed("status 200"))
    }

    /// `handshake half`: SYN-ACK up, RST down, over IPv4 and IPv6, and bound to a source; the
    /// listener never sees a connection (the kernel answers the SYN-ACK with a RST).
    @Test func tcpHalfOpen() async throws {
        #expect(try await run(.tcpHalfOpen, port: 8080) == .passed("SYN-ACK"))
        #expect(try await run(.tcpHalfOpen, address: IPAddress("::1"), port: 8081) == .passed("SYN-ACK"))
        #expect(try await run(.tcpHalfOpen, port: 8099) == .failed("connection refused"))
        #expect(try await run(.tcpHalfOpen, address: IPAddress("::1"), port: 8099) == .failed("connection refused"))
        let bound = ProbeKey(probe: .tcpHalfOpen, address: IPAddress("127.0.0.2"), port: 9000, source: lo, timeoutMilliseconds: 1000)
        #expect(try await runner.run(bound, on: Self.group.next()).get() == .passed("SYN-ACK"))
        let foreign = ProbeKey(probe: .tcpHalfOpen, address: lo, port: 8080, source: IPAddress("192.0.2.1"), timeoutMilliseconds: 1000)
        #expect(try await runner.run(foreign, on: Self.group.next()).get() == .failed("half-open check: source address not available"))
        // Many at once to many addresses, all answered (one socket, batched sends).
        let verdicts = try await withThrowingTaskGroup(of: ProbeVerdict.self) { group in
            for n in 1...300 {
                let key = ProbeKey(probe: .tcpHalfOpen, address: IPAddress(v4: 0x7f00_0000 | UInt32(n)), port: 9000, timeoutMilliseconds: 3000)
                group.addTask { try await self.runner.run(key, on: Self.group.next()).get() }
            }
            return try await group.reduce(into: [ProbeVerdict]()) { $0.append($1) }
        }
        #expect(verdicts.count == 300 && verdicts.allSatisfy { $0 == .passed("SYN-ACK") })
    }

    @Test func httpStatusBodyAndDigest() async throws {
        #expect(try await run(http { $0.path = "/health.txt" }, port: 8080) == .passed("status 200"))
        #expect(try await run(http { $0.path = "/missing" }, port: 8080) == .failed("status 404, expected 200-299"))
        #expect(try await run(http { $0.path = "/health.txt"; $0.expect = "all (ok|fine)" }, port: 8080).ok)
        #expect(!(try await run(http { $0.path = "/health.txt"; $0.expect = "^degraded" }, port: 8080).ok))
        let digest = HTTPExpectation.md5Hex(Array("all ok\n".utf8))
        #expect(try await run(http { $0.path = "/health.txt"; $0.digest = digest }, port: 8080).ok)
        #expect(!(try await run(http { $0.path = "/health.txt"; $0.digest = String(repeating: "0", count: 32) }, port: 8080).ok))
    }

    @Test func httpOverIPv6() async throws {
        #expect(try await run(http { $0.path = "/health.txt"; $0.expect = "ok" }, address: IPAddress("::1"), port: 8081).ok)
    }

    @Test func sourceAddress() async throws {
        let bound = ProbeKey(probe: .tcp, address: lo, port: 8080, source: lo, timeoutMilliseconds: 1000)
        #expect(try await runner.run(bound, on: Self.group.next()).get().ok)
        let foreign = ProbeKey(probe: .tcp, address: lo, port: 8080, source: IPAddress("192.0.2.1"), timeoutMilliseconds: 1000)
        #expect(try await runner.run(foreign, on: Self.group.next()).get() == .failed("source address not available"))
    }

    @Test func httpsWithSNIAndVerify() async throws {
        let off = http { $0.host = "web.lab"; $0.tls = TLSProbe() }
        #expect(try await run(off, port: 8443) == .passed("status 200"))
        // s_server -www answers HTTP/1.0 without a length: the body ends when the connection does.
        #expect(try await run(http { $0.tls = TLSProbe(); $0.expect = "Ciphers supported" }, port: 8443).ok)
        // The certificate is self-signed: verification against the system's roots refuses it.
        let on = http { var t = TLSProbe(); t.verify = true; t.sni = "web.lab"; $0.tls = t }
        #expect(try await run(on, port: 8443) == .failed("TLS: certificate verify failed"))
        #expect(try await run(off, port: 8080) == .failed("TLS: wrong version number"))
    }

    @Test func udp() async throws {
        #expect(try await run(.udp(payload: Array("ping".utf8), expect: Array("PONG".utf8)), port: 5000).ok)
        #expect(!(try await run(.udp(payload: Array("ping".utf8), expect: Array("NOPE".utf8)), port: 5000).ok))
        #expect(try await run(.udp(payload: [1], expect: nil), port: 5099) == .failed("port unreachable (ICMP)"))
        #expect(try await run(.udp(payload: [1], expect: [1]), port: 5099) == .failed("port unreachable (ICMP)"))
    }

    @Test func dns() async throws {
        #expect(try await run(.dns(name: "web.lab", type: .a), port: 5353).ok)
        #expect(try await run(.dns(name: "web.lab", type: .aaaa), port: 5353).ok)
        let unknown = try await run(.dns(name: "nowhere.invalid", type: .a), port: 5353)
        #expect(!unknown.ok && unknown.reason.hasPrefix("answer with rcode"))
        #expect(try await run(.dns(name: "web.lab", type: .a), port: 5399) == .failed("port unreachable (ICMP)"))
    }

    @Test func smtp() async throws {
        #expect(try await run(.smtp(helo: "lb.lab"), port: 2525) == .passed("HELO answered 250"))
        #expect(!(try await run(.smtp(helo: "lb.lab"), port: 8080).ok))
    }

    @Test func script() async throws {
        #expect(try await run(.script(["/bin/sh", "-c", "test \"$LVSH_ADDRESS\" = 127.0.0.1"])).ok)
        #expect(try await run(.script(["/bin/sh", "-c", "exit 1"])) == .failed("exit 1"))
        #expect(try await run(.script(["/bin/sh", "-c", "exit 12"])) == ProbeVerdict(ok: true, reason: "exit 12: weight 10", adjustment: .set(10)))
        let slow = try await run(.script(["/bin/sh", "-c", "sleep 30 & sleep 30"]), timeout: 300)
        #expect(slow == .failed("no exit within 300 ms: killed"))
        #expect(!(try await run(.script(["/nonexistent/check"])).ok))
    }

    @Test func ping() async throws {
        #expect(try await run(.ping) == .passed("echo reply"))
        #expect(try await run(.ping, address: IPAddress("::1")) == .passed("echo reply"))
        // No route in the namespace: refused at once, nothing leaves it.
        #expect(!(try await run(.ping, address: IPAddress("10.255.255.1"), timeout: 300).ok))
    }

    @Test func file() async throws {
        let path = "/tmp/lvsh-health-peers-weight"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = write(fd, "5\n", 2)
        close(fd)
        defer { unlink(path) }
        #expect(try await run(.file(path: path, weight: 2), address: nil) == ProbeVerdict(ok: true, reason: "value 5 × 2", adjustment: .add(10)))
        #expect(try await run(.file(path: path, weight: 0), address: nil) == .failed("value 5"))
        #expect(try await run(.file(path: path + ".missing", weight: 0), address: nil) == .passed("no file (0)"))
    }

    /// The scheduler with the real runner: 1,000 TCP probes a second for three seconds, on one loop.
    /// Prints the lateness (a figure, not an assertion: tests never assert on wall-clock time).
    @Test func schedulerAtScale() async throws {
        let reports = AsyncStream<ProbeReport>.makeStream()
        let scheduler = ProbeScheduler(group: Self.group, runner: runner) { reports.continuation.yield($0) }
        var probes: [ProbeKey: UInt32] = [:]
        for n in 0..<1000 {
            // 127.0.0.0/8 all answer on lo: 1,000 distinct targets on the accept-and-close server.
            let address = IPAddress(v4: 0x7f00_0000 | UInt32(n + 1))
            probes[ProbeKey(probe: .tcp, address: address, port: 9000, timeoutMilliseconds: 900)] = 1000
        }
        scheduler.update(probes)
        var seen: [ProbeReport] = []
        for await r in reports.stream {
            seen.append(r)
            if seen.count == 3000 { break }
        }
        scheduler.stop()
        let lateness = seen.map(\.latenessNanoseconds).sorted()
        let failed = seen.filter { !$0.result.ok }
        print("scheduler: \(seen.count) reports, \(failed.count) failed (\(failed.first?.result.reason ?? "-")), "
              + "lateness p50 \(lateness[lateness.count / 2] / 1000) µs, p99 \(lateness[lateness.count * 99 / 100] / 1000) µs")
        #expect(Set(seen.map(\.key)).count == 1000)
    }
}
