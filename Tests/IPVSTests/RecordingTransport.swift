@testable import IPVS
import LVSModel

/// Records what the client sends and answers every request the way the kernel acknowledges it.
final class RecordingTransport: NetlinkTransport {
    let familyID: UInt16 = 0x1c
    var sent: [[UInt8]] = []
    /// Sequence numbers whose request the fake kernel refuses, with the errno.
    var failures: [UInt32: Int32] = [:]
    private var pending: [NetlinkMessage] = []

    func send(_ bytes: [UInt8]) throws(LVSError) {
        sent.append(bytes)
        for m in NetlinkMessage.split(bytes[...]) {
            let asked = m.flags & NetlinkConstant.ack != 0
            if let e = failures[m.sequence] {
                pending.append(error(-e, for: m))
            } else if asked {
                pending.append(error(0, for: m))
            }
        }
    }

    func receive() throws(LVSError) -> [NetlinkMessage] {
        defer { pending.removeAll() }
        return pending
    }

    private func error(_ code: Int32, for m: NetlinkMessage) -> NetlinkMessage {
        let c = UInt32(bitPattern: code)
        let payload: [UInt8] = [UInt8(c & 0xff), UInt8(c >> 8 & 0xff), UInt8(c >> 16 & 0xff), UInt8(c >> 24)]
        return NetlinkMessage(type: NetlinkConstant.error, flags: 0, sequence: m.sequence, payload: payload[...])
    }
}
