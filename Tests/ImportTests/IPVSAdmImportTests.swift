import Engine
import IPVSAdm
import LVSModel
@testable import Shell
import Testing

/// `lvsh import ipvsadm`: an `ipvsadm -S` dump as lvsh commands that rebuild the same table.
struct IPVSAdmImportTests {
    static let dump = """
        -A -t 192.168.61.129:80 -s wlc -p 300
        -a -t 192.168.61.129:80 -r 192.168.147.129:80 -m -w 3
        -a -t 192.168.61.129:80 -r 192.168.147.130:8080 -m -w 1
        -A -f 1000 -s rr
        -a -f 1000 -r 192.168.147.131:0 -g -w 2
        -A -u [2001:db8::1]:53 -s sh -b sh-port
        -a -u [2001:db8::1]:53 -r [2001:db8::10]:53 -i -w 1

        """

    @Test("a -S -n dump becomes lvsh commands; fwmark services stay fwmark services")
    func dump() throws {
        let (text, _) = try IPVSAdmImport.configuration(Self.dump, file: "dump", ipvsadm: IPVSAdmLanguage())
        #expect(text.contains("service fwmark 1000 scheduler rr"), "\(text)")
        #expect(!text.contains("group "))
        let imported = try evaluate(text)
        let direct = try DesiredState.evaluate(Self.dump.split(separator: "\n").map { "ipvsadm " + $0 }.joined(separator: "\n"),
                                               file: "f", readSysctl: { _ in nil }, autoSysctl: false, ipvsadm: IPVSAdmLanguage()).state
        #expect(imported.services.sorted { $0.service.key < $1.service.key } == direct.services.sorted { $0.service.key < $1.service.key })
    }

    @Test("shell-style lines with `ipvsadm` and comments are read too")
    func shellLines() throws {
        let (text, _) = try IPVSAdmImport.configuration("# saved\nipvsadm -A -t 10.0.0.1:80 -s rr\n", file: "dump", ipvsadm: IPVSAdmLanguage())
        #expect(text.contains("service tcp 10.0.0.1:80 scheduler rr"))
    }

    @Test("a bad line is an error naming the dump's line")
    func badLine() {
        do {
            _ = try IPVSAdmImport.configuration("-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r nowhere -m\n", file: "dump", ipvsadm: IPVSAdmLanguage())
            Issue.record("a bad dump imported")
        } catch {
            #expect(error.code == .badInput)
            #expect(error.message.hasPrefix("dump:2:"), "\(error.message)")
        }
    }
}
