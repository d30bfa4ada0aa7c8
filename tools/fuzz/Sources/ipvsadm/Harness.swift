import IPVSAdm

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    IPVSAdmFuzzEntry.ipvsadm(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
