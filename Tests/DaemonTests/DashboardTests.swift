@testable import Daemon
import Foundation
import Testing

/// tools/grafana's dashboard may only use metrics the daemon exports (their names change together).
struct DashboardTests {
    @Test("every lvsh_ metric the Grafana dashboard queries is one the daemon exports, with help text")
    func dashboardNames() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("tools/grafana/lvsh-dashboard.json")
        let text = try String(contentsOf: url, encoding: .utf8)
        let names = Set(text.matches(of: /lvsh_[a-z_]+/).map { String($0.output) })
        #expect(!names.isEmpty)
        for name in names { #expect(KernelMetrics.help[name] != nil, "the dashboard queries \(name), which lvsh does not export") }
        #expect(KernelMetrics.help.values.allSatisfy { !$0.isEmpty && $0.hasSuffix(".") })
    }
}
