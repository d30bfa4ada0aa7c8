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
}
