import Testing
import LVSModel

struct ConnectionTableTests {
    @Test func parsesIPv4IPv6AndPersistenceEngineLines() throws {
        let text = """
        Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
        TCP C0A83D01 D431 C0A83D81 0050 C0A89381 0050 ESTABLISHED     899
        IP  C0A83D02 0000 00000000 0000 C0A89382 0000 NONE             55
        UDP 2001:0db8:0000:0000:0000:0000:0000:0002 1234 2001:0db8:0000:0000:0000:0000:0000:0001 0035 2001:0db8:0000:0000:0000:0000:0000:0010 0035 UDP             290
        UDP C0A83D01 13C4 C0A83D81 13C4 C0A89381 13C4 UDP             170 sip abc@example
        """
        let conns = try ConnectionTable.parse(text)
        #expect(conns.count == 4)
        #expect(conns[0].client == IPAddress("192.168.61.1") && conns[0].clientPort == 0xD431)
        #expect(conns[0].virtual == IPAddress("192.168.61.129") && conns[0].virtualPort == 80)
        #expect(conns[0].state == "ESTABLISHED" && conns[0].expires == 899)
        #expect(conns[1].protocolName == "IP" && conns[1].expires == 55)
        #expect(conns[2].client == IPAddress("2001:db8::2") && conns[2].destination == IPAddress("2001:db8::10"))
        #expect(conns[3].persistenceEngine == "sip" && conns[3].persistenceData == "abc@example")
    }

    @Test func rejectsGarbage() {
        #expect(throws: LVSError.self) { try ConnectionTable.parse("Pro x\nTCP zz\n") }
    }
}
