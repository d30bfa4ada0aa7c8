import LVSModel
import Testing

@Suite("SecondsText: SECONDS values and durations as the shortest decimal")
struct SecondsTextTests {
    @Test("milliseconds read back as written", arguments: [(0, "0"), (1500, "1.5"), (1, "0.001"), (60_000, "60"), (10_250, "10.25")])
    func milliseconds(ms: UInt32, text: String) {
        #expect(SecondsText.text(ms) == text)
    }

    @Test("a duration to the millisecond, cut below it")
    func durations() {
        #expect(SecondsText.text(Duration.milliseconds(362)) == "0.362")
        #expect(SecondsText.text(Duration.seconds(2) + .microseconds(999)) == "2")
        #expect(SecondsText.text(Duration.seconds(-1)) == "0")
    }
}
