import IPVS
import LVSModel
import Shell

/// `lvsh --version`: lvsh's version, the commit it was built from, and the kernel's IPVS version
/// (or why it has none); it never fails.
enum VersionText {
    static func text() -> String {
        "lvsh \(LVSHVersion.string) (commit \(BuildCommit.short))\n" + LVSHVersion.ipvsLine { () throws(LVSError) in try IPVSClient().info() }
    }
}
