import Foundation
import Testing

/// Runs each user-mode-linux lab scenario (`tools/lab/scenarios/uml/*.sh`) as
/// one test case. Booting the guest costs seconds, so all cases share a
/// single run of `tools/lab/uml/run`, started by whichever case asks first.
@Suite(
    "user-mode-linux lab",
    .enabled(if: UMLLab.isAvailable, "the lab needs root and linux.uml (run tools/setup as root)")
)
struct UMLLabTests {
    @Test("scenario", arguments: UMLLab.scenarioNames)
    func scenario(_ name: String) async {
        await UMLLab.run.value.expectPassed(name)
    }
}

/// Where the lab lives and the one shared run of it.
enum UMLLab {
    static let scenarioDirectory = Lab.repo.appendingPathComponent("tools/lab/scenarios/uml")

    /// Scenario names (file names without `.sh`), found when tests are listed.
    static let scenarioNames = Lab.scenarioNames(in: scenarioDirectory)

    /// IPVS and namespaces need root; the guest kernel comes from user-mode-linux.
    static let isAvailable: Bool = Lab.isRoot && Lab.findInPath("linux.uml") != nil

    /// Started on first access and awaited by every case: one boot per process.
    static let run = Task<LabRun, Never> {
        await Lab.start(runner: "tools/lab/uml/run", scenarios: scenarioDirectory, folder: "swift-test")
    }
}
