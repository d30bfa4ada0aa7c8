import Glibc
import System
import Testing

@Suite("Unix socket addresses")
struct UnixSocketAddressTests {
    @Test func aPathFitsSunPathWithItsEndOrIsRefused() {
        #expect(UnixSocketAddress(String(repeating: "a", count: 107)) != nil)
        #expect(UnixSocketAddress(String(repeating: "a", count: 108)) == nil)
        #expect(UnixSocketAddress(String(repeating: "a", count: 100_000)) == nil)
    }

    @Test func theLengthEndsAPathWithItsZeroAndAnAbstractNameWithItsLastByte() {
        let family = MemoryLayout<sa_family_t>.size
        #expect(UnixSocketAddress("/run/x")?.withSockaddr { $1 } == socklen_t(family + 7))
        #expect(UnixSocketAddress("@x", abstract: true)?.withSockaddr { $1 } == socklen_t(family + 2))
        // Only systemd's spelling is abstract: elsewhere "@x" is a relative path.
        #expect(UnixSocketAddress("@x")?.withSockaddr { $1 } == socklen_t(family + 3))
        #expect(UnixSocketAddress("@x", abstract: true)?.withSockaddr { sa, _ in
            sa.withMemoryRebound(to: sockaddr_un.self, capacity: 1) { $0.pointee.sun_path.0 }
        } == 0)
    }
}
