import Testing
import LVSModel

struct ProcIPVSTableTests {
    @Test func parsesServicesFirewallMarksAndIPv6() throws {
        let text = """
        IP Virtual Server version 1.2.1 (size=4096)
        Prot LocalAddress:Port Scheduler Flags
          -> RemoteAddress:Port Forward Weight ActiveConn InActConn
        TCP  C0A83D81:0050 rr 
          -> C0A89382:0050      Masq    1      0          0         
          -> C0A89381:1F90      Masq    3      12         4         
        FWM  000003E8 sh persistent 6000 FFFFFF00
          -> C0A89382:0000      Tunnel  1      0          0         
        TCP  [2001:0db8:0000:0000:0000:0000:0000:0001]:01BB wlc 
          -> [2001:0db8:0000:0000:0000:0000:0000:0010]:01BB      Route   0      0          0         
        UDP  0A000001:0035 sh ops 
        """
        let e = try ProcIPVSTable.parse(text)
        #expect(e.count == 4)
        #expect(e[0].address == IPAddress("192.168.61.129") && e[0].port == 80 && e[0].scheduler == "rr")
        #expect(e[0].realServers.map(\.server.port) == [80, 8080])
        #expect(e[0].realServers[1].server.weight == 3 && e[0].realServers[1].activeConnections == 12)
        #expect(e[0].realServers[1].inactiveConnections == 4 && e[0].realServers[1].server.forwarding == .masquerade)
        #expect(e[1].mark == 1000 && e[1].realServers[0].server.forwarding == .tunnel)
        #expect(e[2].address == IPAddress("2001:db8::1") && e[2].realServers[0].server.address == IPAddress("2001:db8::10"))
        #expect(e[3].protocolName == "UDP" && e[3].realServers.isEmpty)
    }
}

/// The parser reads /proc/net/ip_vs as it arrives: any cut into chunks gives what the whole file gives.
struct ProcIPVSTableChunkTests {
    static let text = """
        IP Virtual Server version 1.2.1 (size=4096)
        Prot LocalAddress:Port Scheduler Flags
          -> RemoteAddress:Port Forward Weight ActiveConn InActConn
        TCP  C0A83D81:0050 rr 
          -> C0A89382:0050      Masq    1      0          0         
          -> C0A89381:1F90      Masq    3      12         4         

        FWM  000003E8 sh persistent 6000 FFFFFF00
          -> C0A89382:0000      Tunnel  1      0          0         
        TCP  [2001:0db8:0000:0000:0000:0000:0000:0001]:01BB wlc 
          -> [2001:0db8:0000:0000:0000:0000:0000:0010]:01BB      Route   0      0          0         
        UDP  0A000001:0035 sh ops 
        """

    static func chunked(_ bytes: [UInt8], sizes: [Int]) -> Result<[ProcIPVSTable.Entry], LVSError> {
        var parser = ProcIPVSTable.Parser()
        var start = 0, k = 0
        do throws(LVSError) {
            while start < bytes.count {
                let end = min(bytes.count, start + sizes[k % sizes.count])
                try bytes[start..<end].withUnsafeBufferPointer { (b) throws(LVSError) in try parser.feed(b) }
                start = end
                k += 1
            }
            return .success(try parser.finish())
        } catch {
            return .failure(error)
        }
    }

    @Test(arguments: ["", "\n", "\n\n", "  -> 0A000001:0050 Masq 1 0 0\n", "FWM zz wlc\n", "TCP 0A000001:0050 rr\n  -> 0A000002:0050 Masq 1 2 3"])
    func anyChunkingParsesAlike(_ tail: String) {
        for text in [Self.text, Self.text + "\n" + tail, Self.text + "\n" + tail + "\n"] {
            let bytes = Array(text.utf8)
            let whole: Result<[ProcIPVSTable.Entry], LVSError>
            do throws(LVSError) { whole = .success(try ProcIPVSTable.parse(bytes)) } catch { whole = .failure(error) }
            for sizes in [[1], [2], [3, 7], [5, 1, 64], [13], [4096]] {
                let parts = Self.chunked(bytes, sizes: sizes)
                switch (whole, parts) {
                case (.success(let a), .success(let b)): #expect(a == b, "\(sizes)")
                case (.failure(let a), .failure(let b)): #expect(a.message == b.message, "\(sizes)")
                default: #expect(Bool(false), "\(sizes): \(whole) vs \(parts)")
                }
            }
        }
    }
}
