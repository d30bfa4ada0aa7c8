#if canImport(Glibc)
import Glibc
#endif
@testable import Daemon
import Logging
import System
import Testing

/// sd_notify's datagrams, read back from a socket of the test's own, and the journal's line format.
struct SystemdNotifierTests {
    @Test("READY, RELOADING, STOPPING and WATCHDOG reach $NOTIFY_SOCKET as systemd reads them")
    func notifies() throws {
        let path = "/tmp/lvsh-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd); unlink(path) }
        let address = try #require(UnixSocketAddress(path))
        try #require(address.withSockaddr { bind(fd, $0, $1) } == 0)
        let n = SystemdNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000"])
        #expect(n.watchdogInterval == .seconds(2))
        n.ready(status: "managing /etc/lvsh/running.lvsh")
        n.reloading()
        n.watchdog()
        n.stopping()
        func receive() -> String {
            var buffer = [UInt8](repeating: 0, count: 512)
            let got = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            return got > 0 ? String(decoding: buffer[..<got], as: UTF8.self) : ""
        }
        #expect(receive() == "READY=1\nSTATUS=managing /etc/lvsh/running.lvsh")
        #expect(receive().hasPrefix("RELOADING=1\nMONOTONIC_USEC="))
        #expect(receive() == "WATCHDOG=1")
        #expect(receive() == "STOPPING=1")
    }

    @Test("without NOTIFY_SOCKET nothing is sent; a watchdog for another pid is not ours")
    func inactive() {
        #expect(!SystemdNotifier(environment: [:]).isActive)
        #expect(!SystemdNotifier(environment: [:]).send("READY=1"))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"]).watchdogInterval == nil)
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative/path"]).isActive)
    }

    @Test("log lines carry journald's priority prefix and key=value metadata, one line each")
    func journalLines() {
        final class Lines: @unchecked Sendable { var all: [String] = [] }
        let lines = Lines()
        var handler = JournalLogHandler(label: "lvsh", underJournal: true, write: { lines.all.append($0) })
        handler.logLevel = .debug
        let logger = Logger(label: "lvsh", factory: { _ in handler })
        logger.warning("drift: restoring\nsecond line", metadata: ["writes": "1", "file": "/etc/lvsh/a b.lvsh"])
        logger.error("x")
        #expect(lines.all == ["<4>drift: restoring | second line file=\"/etc/lvsh/a b.lvsh\" writes=1\n", "<3>x\n"])
    }
}
