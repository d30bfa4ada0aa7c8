import Testing
@testable import IPVS
import LVSModel

struct PipeliningTests {
    func services(_ n: Int) -> [IPVSOperation] {
        (0..<n).map { .addService(VirtualService(key: .fwmark(UInt32(1000 + $0), .v4), scheduler: "rr")) }
    }

    @Test func manyRequestsGoOutInFewSends() throws {
        let t = RecordingTransport()
        let client = IPVSClient(transport: t)
        let results = try client.execute(services(1000))
        #expect(results.allSatisfy { $0 == nil })
        #expect(t.sent.count == 4)  // 256 per sendmsg
        let messages = t.sent.flatMap { NetlinkMessage.split($0[...]) }
        #expect(messages.count == 1000)
        // Only each chunk's last request asks for an ack.
        #expect(messages.filter { $0.flags & NetlinkConstant.ack != 0 }.count == 4)
    }

    @Test func failuresAreMatchedToTheirOperationBySequence() throws {
        let t = RecordingTransport()
        let client = IPVSClient(transport: t, firstSequence: 100)
        t.failures = [101 + 7: 17, 101 + 300: 2]   // the 8th and the 301st request
        let ops = services(400)
        let results = try client.execute(ops)
        #expect(results[7] == IPVSFailure(operation: ops[7], errno: 17))
        #expect(results[300] == IPVSFailure(operation: ops[300], errno: 2))
        #expect(results.compactMap { $0 }.count == 2)
    }

    @Test func aFailingLastRequestStillEndsTheChunk() throws {
        let t = RecordingTransport()
        let client = IPVSClient(transport: t, firstSequence: 0)
        t.failures = [3: 3]
        let results = try client.execute(services(3))
        #expect(results[2]?.errno == 3)
    }
}
