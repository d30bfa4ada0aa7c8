import LVSModel
import NIOCore

/// What one run of a probe concluded, before the scheduler adds its times.
public struct ProbeVerdict: Hashable, Sendable {
    public var ok: Bool
    public var reason: String
    public var adjustment: WeightAdjustment?

    public init(ok: Bool, reason: String, adjustment: WeightAdjustment? = nil) {
        self.ok = ok
        self.reason = reason
        self.adjustment = adjustment
    }

    public static func failed(_ reason: String) -> ProbeVerdict { ProbeVerdict(ok: false, reason: reason) }
    public static func passed(_ reason: String) -> ProbeVerdict { ProbeVerdict(ok: true, reason: reason) }
}

/// Runs one probe. The future never fails: a failure of the peer is a verdict.
public protocol ProbeRunner: Sendable {
    func run(_ key: ProbeKey, on loop: any EventLoop) -> EventLoopFuture<ProbeVerdict>
}

extension IPAddress {
    /// The address as a socket address for NIO.
    func socketAddress(port: UInt16) throws -> SocketAddress {
        try SocketAddress(packedIPAddress: ByteBuffer(bytes: bytes), port: Int(port))
    }

    /// The address of an IPv4 or IPv6 socket address (nil for a Unix one), without going through text.
    init?(_ address: SocketAddress) {
        switch address {
        case .v4(let a): self.init(v4: UInt32(bigEndian: a.address.sin_addr.s_addr))
        case .v6(let a):
            var sin6 = a.address
            self.init(bytes: withUnsafeBytes(of: &sin6.sin6_addr) { Array($0) })
        case .unixDomainSocket: return nil
        }
    }
}
