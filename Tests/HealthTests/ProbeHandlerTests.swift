import Glibc
@testable import Health
import LVSModel
import NIOCore
import NIOPosix
import NIOEmbedded
import NIOHTTP1
import Testing

/// The probes' channel handlers on EmbeddedChannel: no socket is opened.
@Suite("HTTP, SMTP and datagram dialogues on EmbeddedChannel")
struct ProbeHandlerTests {
    func verdict(_ attempt: ProbeAttempt) async throws -> ProbeVerdict { try await attempt.futureResult.get() }

    func httpChannel(_ probe: HTTPProbe, timeout: UInt32 = 1000) throws -> (EmbeddedChannel, ProbeAttempt) {
        let channel = EmbeddedChannel()
        let attempt = ProbeAttempt(loop: channel.embeddedEventLoop, timeoutMilliseconds: timeout)
        try channel.pipeline.syncOperations.addHTTPClientHandlers()
        try channel.pipeline.syncOperations.addHandler(HTTPCheckHandler(probe: probe, host: "www.example.org", attempt: attempt))
        attempt.attach(channel)
        try channel.connect(to: SocketAddress(ipAddress: "10.0.1.1", port: 80)).wait()
        return (channel, attempt)
    }

    func outbound(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    @Test func httpSendsOneGetAndJudgesTheStatus() async throws {
        let (channel, attempt) = try httpChannel(HTTPProbe())
        let request = try outbound(channel)
        #expect(request.hasPrefix("GET / HTTP/1.1\r\n"))
        #expect(request.contains("Host: www.example.org\r\n"))
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"))
        #expect(try await verdict(attempt) == .failed("status 503, expected 200-299"))
        #expect(!channel.isActive)
    }

    @Test func httpReadsTheBodyForExpectAndDigest() async throws {
        var probe = HTTPProbe()
        probe.expect = "ok"
        probe.digest = HTTPExpectation.md5Hex(Array("all ok\n".utf8))
        let (channel, attempt) = try httpChannel(probe)
        _ = try outbound(channel)
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nall\r\n4\r\n ok\n\r\n0\r\n\r\n"))
        #expect(try await verdict(attempt) == .passed("status 200"))
    }

    @Test func httpThatNeverAnswersTimesOut() async throws {
        let (channel, attempt) = try httpChannel(HTTPProbe(), timeout: 700)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(699))
        #expect(!attempt.isDone)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(try await verdict(attempt) == .failed("no verdict within 700 ms"))
    }

    /// A timeout that runs late because the loop was busy gives the loop as long again to read what
    /// came meanwhile: on a real loop, a task blocks it past the deadline, and the answer, read just
    /// after, still counts. A timeout on time ends the attempt.
    @Test func aTimeoutRunLateWaitsForWhatCameMeanwhile() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let late = try await loop.flatSubmit { () -> EventLoopFuture<ProbeVerdict> in
            let attempt = ProbeAttempt(loop: loop, timeoutMilliseconds: 100)
            let bound = NIOLoopBound(attempt, eventLoop: loop)
            loop.scheduleTask(in: .milliseconds(50)) { usleep(400_000) }
            loop.scheduleTask(in: .milliseconds(460)) { bound.value.finish(.passed("answered")) }
            return attempt.futureResult
        }.get()
        #expect(late == .passed("answered"))
        let onTime = try await loop.flatSubmit { ProbeAttempt(loop: loop, timeoutMilliseconds: 100).futureResult }.get()
        #expect(onTime == .failed("no verdict within 100 ms"))
        try await group.shutdownGracefully()
    }

    /// The timeout counts from the slot of the grid the run started in, as lateness does: a run that
    /// starts 7 ms into a slot times out on the grid, 1000 ms after the slot, not in the slot after.
    @Test func aTimeoutCountsFromTheSlotOfItsStart() throws {
        let loop = EmbeddedEventLoop()
        loop.advanceTime(to: .uptimeNanoseconds(UInt64(ProbeScheduler.slotNanoseconds) * 100 + 7_000_000))
        let attempt = ProbeAttempt(loop: loop, timeoutMilliseconds: 1000)
        var verdict: ProbeVerdict?
        attempt.futureResult.whenSuccess { verdict = $0 }
        loop.advanceTime(by: .milliseconds(992))
        #expect(verdict == nil)
        loop.advanceTime(by: .milliseconds(1))
        #expect(verdict == .failed("no verdict within 1000 ms"))
    }

    @Test func httpClosedBeforeAnAnswerFails() async throws {
        let (channel, attempt) = try httpChannel(HTTPProbe())
        _ = try channel.finish()
        #expect(try await verdict(attempt) == .failed("connection closed before an answer"))
    }

    func smtpChannel() throws -> (EmbeddedChannel, ProbeAttempt) {
        let channel = EmbeddedChannel()
        let attempt = ProbeAttempt(loop: channel.embeddedEventLoop, timeoutMilliseconds: 1000)
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineDecoder()))
        try channel.pipeline.syncOperations.addHandler(SMTPCheckHandler(dialogue: SMTPDialogue(helo: "lb.example.org"), attempt: attempt))
        attempt.attach(channel)
        return (channel, attempt)
    }

    @Test func smtpDialogue() async throws {
        let (channel, attempt) = try smtpChannel()
        try channel.writeInbound(ByteBuffer(string: "220-mail.example.org ESMTP\r\n220 ready\r\n"))
        #expect(try outbound(channel) == "HELO lb.example.org\r\n")
        #expect(!attempt.isDone)
        try channel.writeInbound(ByteBuffer(string: "250 mail.example.org\r\n"))
        #expect(try outbound(channel) == "QUIT\r\n")
        #expect(try await verdict(attempt) == .passed("HELO answered 250"))
    }

    @Test func smtpRefusingGreetingFails() async throws {
        let (channel, attempt) = try smtpChannel()
        try channel.writeInbound(ByteBuffer(string: "554 no service\n"))
        #expect(try outbound(channel) == "QUIT\r\n")
        #expect(try await verdict(attempt) == .failed("greeting 554 no service"))
    }

    @Test func smtpDialogueAsAStateMachine() {
        var d = SMTPDialogue(helo: "x")
        #expect(d.receive(line: "220 hi") == .send("HELO x\r\n"))
        #expect(d.receive(line: "550 go away") == .finish(ok: false, reason: "HELO answered 550 go away", then: "QUIT\r\n"))
        var e = SMTPDialogue(helo: "x")
        #expect(e.receive(line: "HTTP/1.1 400") == .finish(ok: false, reason: "not an SMTP reply: HTTP/1.1 400", then: nil))
    }

    func datagramChannel(judge: @escaping @Sendable ([UInt8]) -> ProbeVerdict?, onTimeout: ProbeVerdict? = nil) throws -> (EmbeddedChannel, ProbeAttempt) {
        let channel = EmbeddedChannel()
        let attempt = ProbeAttempt(loop: channel.embeddedEventLoop, timeoutMilliseconds: 1000, onTimeout: onTimeout)
        try channel.pipeline.syncOperations.addHandler(DatagramCheckHandler(judge: judge, attempt: attempt))
        attempt.attach(channel)
        return (channel, attempt)
    }

    func envelope(_ bytes: [UInt8]) throws -> AddressedEnvelope<ByteBuffer> {
        AddressedEnvelope(remoteAddress: try SocketAddress(ipAddress: "10.0.1.1", port: 53), data: ByteBuffer(bytes: bytes))
    }

    @Test func dnsIgnoresOtherIdsAndTakesTheAnswer() async throws {
        let (channel, attempt) = try datagramChannel { DNSMessage.verdict(answer: $0, id: 0x4242).map { ProbeVerdict(ok: $0.ok, reason: $0.reason) } }
        try channel.writeInbound(envelope([0x42, 0x43, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]))
        #expect(!attempt.isDone)
        try channel.writeInbound(envelope([0x42, 0x42, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0]))
        #expect(try await verdict(attempt) == .passed("answer with 2 records"))
    }

    @Test func udpPortUnreachableFails() async throws {
        let (channel, attempt) = try datagramChannel(judge: { _ in nil }, onTimeout: .passed("silence"))
        channel.pipeline.fireErrorCaught(IOError(errnoCode: ECONNREFUSED, reason: "recvmsg"))
        #expect(try await verdict(attempt) == .failed("port unreachable (ICMP)"))
    }

    @Test func udpSilenceWithoutExpectPasses() async throws {
        let (channel, attempt) = try datagramChannel(judge: { _ in nil }, onTimeout: .passed("silence"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try await verdict(attempt) == .passed("silence"))
    }

    @Test func lineDecoderSplitsCRLFAndLF() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineDecoder()))
        try channel.writeInbound(ByteBuffer(string: "a\r\nb\nc"))
        #expect(try channel.readInbound(as: String.self) == "a")
        #expect(try channel.readInbound(as: String.self) == "b")
        #expect(try channel.readInbound(as: String.self) == nil)
        try channel.writeInbound(ByteBuffer(string: "\r\n"))
        #expect(try channel.readInbound(as: String.self) == "c")
    }
}
