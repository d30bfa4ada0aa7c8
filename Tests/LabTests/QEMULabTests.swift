import Foundation
import Testing

/// Runs each qemu lab scenario (`tools/lab/scenarios/qemu/*.sh`) as one test
/// case: Debian's stock kernel under qemu (TCG), which has nftables and IPVS
/// together. All cases share a single run of `tools/lab/qemu/run` (one boot),
/// started by whichever case asks first, after `tools/lab/qemu/prepare` has
/// fetched the kernel and built the initramfs (cached in `.lab/qemu-kernel`,
/// so this costs well under a second after the first time).
@Suite(
    "qemu lab",
    .enabled(if: QEMULab.isAvailable, "the lab needs root and qemu-system-x86_64 (run tools/setup as root)")
)
struct QEMULabTests {
    @Test("scenario", arguments: QEMULab.scenarioNames)
    func scenario(_ name: String) async {
        await QEMULab.run.value.expectPassed(name)
    }
}

/// Where the lab lives and the one shared run of it.
enum QEMULab {
    static let scenarioDirectory = Lab.repo.appendingPathComponent("tools/lab/scenarios/qemu")

    /// Scenario names (file names without `.sh`), found when tests are listed.
    static let scenarioNames = Lab.scenarioNames(in: scenarioDirectory)

    /// Namespaces, IPVS and prepare's downloads need root; TCG needs no KVM.
    static let isAvailable: Bool = Lab.isRoot && Lab.findInPath("qemu-system-x86_64") != nil

    /// Started on first access and awaited by every case: one boot per process.
    static let run = Task<LabRun, Never> {
        await Lab.start(
            runner: "tools/lab/qemu/run", scenarios: scenarioDirectory, folder: "swift-test-qemu",
            before: ["tools/lab/qemu/prepare"])
    }
}
