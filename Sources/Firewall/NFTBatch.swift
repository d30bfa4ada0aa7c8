#if canImport(Glibc)
import Glibc
#endif
import CNetlink
import LVSModel

/// What one transaction sent, for tests and benchmarks: messages including BATCH_BEGIN/END, and bytes.
public struct NFTBatchStats: Hashable, Sendable {
    public var messages: Int
    public var bytes: Int

    public init(messages: Int, bytes: Int) {
        self.messages = messages
        self.bytes = bytes
    }
}

/// One nfnetlink transaction: BATCH_BEGIN carrying the generation id it was planned against, the
/// messages, BATCH_END. The kernel applies all of it or none; if the ruleset's generation moved since
/// the plan was made, it refuses the whole batch with ERESTART (`NFTError.rulesetChanged`).
/// Messages are written straight into libnftnl's page list, which becomes the iovecs of one sendmsg.
final class NFTBatch {
    /// Page size and the room each page keeps for a message that overflows it: a set-element message
    /// is at most 64 KB (nest lengths are 16 bits), as in nft (BATCH_PAGE_SIZE, NFT_NLMSG_MAXSIZE).
    static let pageSize: UInt32 = 128 * 1024
    static let maxMessageSize: UInt32 = 65535 + 4096

    private let batch: OpaquePointer
    /// The sequence numbers of the batch, BATCH_BEGIN first.
    private(set) var sequences: ClosedRange<UInt32>
    private(set) var messageCount = 0
    private var lastCommand: UnsafeMutablePointer<nlmsghdr>?
    private var notes: [UInt32: Note] = [:]
    private var ended = false

    /// What a message does, to explain the kernel's refusal of it.
    struct Note {
        /// "create table inet lvsh", "add 1071 element(s) of v4 in table inet lvsh", ...
        var what: String
        /// Names the element at a byte offset in the message (NLMSGERR_ATTR_OFFS), if it is one.
        var element: ((UInt32) -> String?)?
    }

    /// Starts a batch with the first of the socket's sequence numbers it is given.
    init(generation: UInt32?, firstSequence: UInt32) {
        batch = nftnl_batch_alloc(NFTBatch.pageSize, NFTBatch.maxMessageSize)
        sequences = firstSequence...firstSequence
        let nlh = nftnl_batch_begin(buffer, firstSequence)!
        NFTBatch.setResourceID(nlh)
        // NFNL_BATCH_GENID pins the generation the batch was planned against (nft and google/nftables
        // do the same); the kernel answers ERESTART when it moved.
        if let generation { mnl_attr_put_u32(nlh, nftAttr(NFNL_BATCH_GENID), generation.bigEndian) }
        commit()
    }

    deinit { nftnl_batch_free(batch) }

    /// Where the next message goes: room for `maxMessageSize` bytes.
    private var buffer: UnsafeMutablePointer<CChar> {
        nftnl_batch_buffer(batch).assumingMemoryBound(to: CChar.self)
    }

    private func commit() {
        let len = Int(buffer.withMemoryRebound(to: nlmsghdr.self, capacity: 1) { $0.pointee.nlmsg_len })
        _ = nftnl_batch_update(batch)
        messageCount += 1
        // If the message did not fit its page, libnftnl moved it to a new one: find it just behind the cursor.
        let raw = UnsafeMutableRawPointer(nftnl_batch_buffer(batch)!) - ((len + 3) & ~3)
        lastCommand = raw.assumingMemoryBound(to: nlmsghdr.self)
    }

    /// libnftnl 1.2.4 writes res_id (the subsystem) in host order, which the kernel accepts only as a
    /// legacy case; nft itself sends it in network order.
    private static func setResourceID(_ nlh: UnsafeMutablePointer<nlmsghdr>) {
        let nfg = mnl_nlmsg_get_payload(nlh)!.assumingMemoryBound(to: nfgenmsg.self)
        nfg.pointee.res_id = UInt16(NFNL_SUBSYS_NFTABLES).bigEndian
    }

    /// Appends one nf_tables message (`msg` is NFT_MSG_*); `build` fills in its attributes.
    func append(_ msg: nf_tables_msg_types, flags: Int32, note: Note,
                build: (UnsafeMutablePointer<nlmsghdr>) -> Void) {
        precondition(!ended)
        let seq = sequences.upperBound &+ 1
        // libmnl 1.0.4 leaves attribute padding as it finds it and libnftnl's pages come from malloc:
        // zero the room first so that the same batch is always the same bytes.
        memset(buffer, 0, Int(NFTBatch.maxMessageSize))
        let nlh = nftnl_nlmsg_build_hdr(buffer, NFTSocket.messageType(msg), UInt16(NFPROTO_INET),
                                        UInt16(flags), seq)!
        build(nlh)
        sequences = sequences.lowerBound...seq
        notes[seq] = note
        commit()
    }

    /// Replaces the note of the message appended last (once its elements are known).
    func annotateLast(_ note: Note) { notes[sequences.upperBound] = note }

    /// Closes the batch. The last command asks for an acknowledgement, the proof that the kernel
    /// processed everything (errors come unasked); acknowledging BATCH_END needs Linux 6.10.
    func end() {
        requestAcknowledgement()
        let seq = sequences.upperBound &+ 1
        NFTBatch.setResourceID(nftnl_batch_end(buffer, seq)!)
        sequences = sequences.lowerBound...seq
        commit()
        ended = true
    }

    /// Ends a probe: the messages are checked by the kernel, and without BATCH_END the transaction is
    /// aborted, so nothing changes (verified on Linux 6.18: each message is acknowledged, then dropped).
    func endWithoutCommit() {
        requestAcknowledgement()
        ended = true
    }

    private func requestAcknowledgement() {
        precondition(!ended)
        if let lastCommand, messageCount > 1 { lastCommand.pointee.nlmsg_flags |= UInt16(NLM_F_ACK) }
        lastCommandSequence = messageCount > 1 ? sequences.upperBound : nil
    }

    /// The sequence number whose acknowledgement says the batch was processed.
    private(set) var lastCommandSequence: UInt32?

    var byteCount: Int {
        withIOVecs { $0.reduce(0) { $0 + $1.iov_len } }
    }

    var stats: NFTBatchStats { NFTBatchStats(messages: messageCount, bytes: byteCount) }

    func withIOVecs<R>(_ body: ([iovec]) -> R) -> R {
        let count = Int(nftnl_batch_iovec_len(batch))
        var iov = [iovec](repeating: iovec(), count: count)
        nftnl_batch_iovec(batch, &iov, UInt32(count))
        return body(iov)
    }

    /// The batch's bytes as one array (tests compare them with nft's).
    var bytes: [UInt8] {
        withIOVecs { iov in
            var out: [UInt8] = []
            for v in iov { out += UnsafeRawBufferPointer(start: v.iov_base, count: v.iov_len) }
            return out
        }
    }

    // MARK: the outcome

    /// Turns the kernel's answers into success, `.rulesetChanged` (ERESTART), or the first refusal
    /// explained by the note of the message it concerns.
    func outcome(of replies: [NFTReply], explain: (Int32, String, String?, String?) -> LVSError) -> Result<Void, NFTError> {
        if replies.contains(where: { $0.errno == ERESTART && $0.sequence == sequences.lowerBound }) {
            return .failure(.rulesetChanged)
        }
        if let bad = replies.first(where: { $0.errno != 0 }) {
            let note = notes[bad.sequence]
            let element = bad.attributeOffset.flatMap { note?.element?($0) }
            let what = note?.what ?? "commit the nf_tables transaction"
            return .failure(.failed(explain(bad.errno, what, element, bad.message)))
        }
        if let last = lastCommandSequence, !replies.contains(where: { $0.sequence == last }) {
            return .failure(.failed(.failed("nf_tables did not answer the transaction (\(messageCount) messages); nothing is known to be applied")))
        }
        return .success(())
    }
}
