#if canImport(Glibc)
import Glibc
#endif
import CNetlink

/// One nf_tables expression of a rule; each type builds its libnftnl object.
protocol NFTExpression {
    /// A new libnftnl expression, owned by the rule it is added to.
    func make() -> OpaquePointer
}

extension NFTExpression {
    /// Adds the expression to a libnftnl rule, which then frees it.
    func append(to rule: OpaquePointer) { nftnl_rule_add_expr(rule, make()) }
}

/// `[ meta load KEY => reg DREG ]`
struct NFTMetaLoad: NFTExpression {
    var key: Int32
    var register: Int32

    func make() -> OpaquePointer {
        let e = nftnl_expr_alloc("meta")!
        nftnl_expr_set_u32(e, nftAttr(NFTNL_EXPR_META_KEY), UInt32(key))
        nftnl_expr_set_u32(e, nftAttr(NFTNL_EXPR_META_DREG), UInt32(register))
        return e
    }
}

/// `[ meta set KEY with reg SREG ]`
struct NFTMetaSet: NFTExpression {
    var key: Int32
    var register: Int32

    func make() -> OpaquePointer {
        let e = nftnl_expr_alloc("meta")!
        nftnl_expr_set_u32(e, nftAttr(NFTNL_EXPR_META_KEY), UInt32(key))
        nftnl_expr_set_u32(e, nftAttr(NFTNL_EXPR_META_SREG), UInt32(register))
        return e
    }
}

/// `[ cmp eq reg SREG DATA ]`
struct NFTCompareEqual: NFTExpression {
    var register: Int32
    var data: [UInt8]

    func make() -> OpaquePointer {
        let e = nftnl_expr_alloc("cmp")!
        nftnl_expr_set_u32(e, nftAttr(NFTNL_EXPR_CMP_SREG), UInt32(register))
        nftnl_expr_set_u32(e, nftAttr(NFTNL_EXPR_CMP_OP), UInt32(NFT_CMP_EQ.rawValue))
        data.withUnsafeBytes { _ = nftnl_expr_set(e, nftAttr(NFTNL_EXPR_CMP_DATA), $0.baseAddress, UInt32($0.count)) }
        return e
    }
}

/// `[ payload load LEN @ BASE header + OFFSET => reg DREG ]`
struct NFTPayloadLoad: NFTExpression {
    var base: UInt32
    var offset: UInt32
    var length: UInt32
    var register: Int32

    func make() -> OpaquePointer {
        let e = nftnl_expr_alloc("payload")!
        nftnl_expr_set_u32(e, nftAttr(NFTNL_EXPR_PAYLOAD_DREG), UInt32(register))
        nftnl_expr_set_u32(e, nftAttr(NFTNL_EXPR_PAYLOAD_BASE), base)
        nftnl_expr_set_u32(e, nftAttr(NFTNL_EXPR_PAYLOAD_OFFSET), offset)
        nftnl_expr_set_u32(e, nftAttr(NFTNL_EXPR_PAYLOAD_LEN), length)
        return e
    }
}

/// `[ lookup reg SREG set NAME dreg DREG ]`: on a miss the rule stops (NFT_BREAK), so nothing after
/// it runs and the packet keeps the mark it had.
struct NFTMapLookup: NFTExpression {
    var set: String
    /// Set when the set is created in the same batch, as nft does.
    var setID: UInt32?
    var source: Int32
    var destination: Int32

    func make() -> OpaquePointer {
        let e = nftnl_expr_alloc("lookup")!
        nftnl_expr_set_u32(e, nftAttr(NFTNL_EXPR_LOOKUP_SREG), UInt32(source))
        nftnl_expr_set_u32(e, nftAttr(NFTNL_EXPR_LOOKUP_DREG), UInt32(destination))
        _ = nftnl_expr_set_str(e, nftAttr(NFTNL_EXPR_LOOKUP_SET), set)
        if let setID { nftnl_expr_set_u32(e, nftAttr(NFTNL_EXPR_LOOKUP_SET_ID), setID) }
        return e
    }
}

/// A libnftnl or kernel attribute id as the UInt16 the C API takes; Swift imports anonymous C enums
/// as Int and named ones as structs, and this accepts both.
@inline(__always) func nftAttr<T: BinaryInteger>(_ value: T) -> UInt16 { UInt16(value) }
@inline(__always) func nftAttr<T: RawRepresentable>(_ value: T) -> UInt16 where T.RawValue: BinaryInteger { UInt16(value.rawValue) }
