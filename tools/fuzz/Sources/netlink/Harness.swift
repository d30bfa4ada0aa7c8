import Firewall
import IPVS

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    IPVSFuzzEntry.decodeReply(bytes)
    FirewallFuzzEntry.decodeElement(bytes)
    return 0
}
