import Console
import Testing

/// When console output is paged, and by what.
struct PagerTests {
    @Test func thePagerIsPAGERElseLessFRX() {
        #expect(Pager.argv(environment: { _ in nil }) == ["less", "-FRX"])
        #expect(Pager.argv(environment: { ["PAGER": "  "][$0] }) == ["less", "-FRX"])
        #expect(Pager.argv(environment: { ["PAGER": "most -s"][$0] }) == ["/bin/sh", "-c", "most -s"])
    }

    @Test func outputTallerThanTheTerminalIsPaged() {
        #expect(Pager.rows("a\nb\nc\n", width: 80) == 3)
        // Long lines wrap; an empty line is a row.
        #expect(Pager.rows(String(repeating: "x", count: 161) + "\n\n", width: 80) == 4)
        #expect(Pager.rows("", width: 80) == 0)
        // The prompt needs the last row.
        #expect(!Pager.pages(rows: 49, height: 50))
        #expect(Pager.pages(rows: 50, height: 50))
        // Unknown height: never.
        #expect(!Pager.pages(rows: 1000, height: 0))
    }
}
