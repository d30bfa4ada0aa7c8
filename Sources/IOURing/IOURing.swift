#if canImport(Glibc)
import Glibc
#endif
import CNetlink

/// A small io_uring: submission and completion rings mapped once, entries pushed, submitted in
/// batches, and completions read from the shared ring. Used from one thread at a time.
public final class IOURing {
    /// Opcodes (enum io_uring_op) lvsh uses; all exist in Linux 5.19 and later.
    public enum Op {
        public static let asyncCancel: UInt8 = 14
        public static let connect: UInt8 = 16
        public static let close: UInt8 = 19
        public static let send: UInt8 = 26
        public static let recv: UInt8 = 27
        public static let socket: UInt8 = 45
    }

    /// Entry flags (IOSQE_*).
    public enum Flag {
        /// `fd` is an index into the registered files.
        public static let fixedFile: UInt8 = 1
        /// The next entry runs after this one, if this one succeeded.
        public static let link: UInt8 = 4
        /// The next entry runs after this one, whatever its result.
        public static let hardLink: UInt8 = 8
        /// No completion when the entry succeeds.
        public static let skipSuccess: UInt8 = 64
    }

    /// One submission queue entry's fields (struct io_uring_sqe), the ones lvsh sets.
    public struct Entry {
        public var opcode: UInt8
        public var flags: UInt8 = 0
        public var fd: Int32 = 0
        /// `off`, or `addr2` (a connect's address length, a socket's type).
        public var offset: UInt64 = 0
        public var address: UInt64 = 0
        public var length: UInt32 = 0
        /// msg_flags, rw_flags and the like.
        public var opFlags: UInt32 = 0
        public var userData: UInt64 = 0
        /// A registered file's slot plus one (0: none).
        public var fileIndex: UInt32 = 0

        public init(opcode: UInt8) { self.opcode = opcode }
    }

    private let fd: Int32
    private let sqRing: UnsafeMutableRawPointer, sqRingSize: Int
    private let cqRing: UnsafeMutableRawPointer, cqRingSize: Int
    private let sqes: UnsafeMutableRawPointer, sqesSize: Int
    private let sqHead: Int, sqTail: Int, sqFlags: Int, sqMask: UInt32, sqArray: Int
    /// How many entries the submission ring holds.
    public let capacity: UInt32
    private let cqHead: Int, cqTail: Int, cqMask: UInt32, cqes: Int
    private let singleMap: Bool
    private var tail: UInt32
    /// Entries pushed and not yet submitted.
    public private(set) var unsubmitted: UInt32 = 0

    /// A ring of `entries` submissions and `completions` completions (the kernel's default, twice
    /// `entries`, when nil); nil where io_uring is missing, or too old to time out a wait.
    public init?(entries: UInt32, completions: UInt32? = nil) {
        var params = [UInt8](repeating: 0, count: 120)
        if let completions {
            params.withUnsafeMutableBytes {
                $0.storeBytes(of: completions, toByteOffset: 4, as: UInt32.self)
                $0.storeBytes(of: UInt32(8) /* IORING_SETUP_CQSIZE */, toByteOffset: 8, as: UInt32.self)
            }
        }
        let fd = params.withUnsafeMutableBytes { lvsh_io_uring_setup(entries, $0.baseAddress) }
        guard fd >= 0 else { return nil }
        func u32(_ offset: Int) -> UInt32 { params.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) } }
        let sqEntries = u32(0), cqEntries = u32(4), features = u32(20)
        // Without IORING_FEAT_EXT_ARG a wait cannot time out: then do without the ring.
        guard features & (1 << 8) != 0 else {
            Glibc.close(fd)
            return nil
        }
        singleMap = features & 1 != 0
        sqRingSize = Int(u32(40 + 24)) + Int(sqEntries) * 4
        cqRingSize = Int(u32(80 + 20)) + Int(cqEntries) * 16
        let mapSize = singleMap ? max(sqRingSize, cqRingSize) : sqRingSize
        func map(_ size: Int, _ offset: Int) -> UnsafeMutableRawPointer? {
            guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, off_t(offset)),
                  p != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
            return p
        }
        guard let sq = map(mapSize, 0) else {
            Glibc.close(fd)
            return nil
        }
        guard let cq = singleMap ? sq : map(cqRingSize, 0x800_0000) else {
            munmap(sq, mapSize)
            Glibc.close(fd)
            return nil
        }
        sqesSize = Int(sqEntries) * 64
        guard let e = map(sqesSize, 0x1000_0000) else {
            munmap(sq, mapSize)
            if !singleMap { munmap(cq, cqRingSize) }
            Glibc.close(fd)
            return nil
        }
        self.fd = fd
        sqRing = sq
        cqRing = cq
        sqes = e
        capacity = sqEntries
        sqHead = Int(u32(40))
        sqTail = Int(u32(40 + 4))
        sqFlags = Int(u32(40 + 16))
        // The params give where the masks are in the rings, not the masks.
        sqMask = sq.load(fromByteOffset: Int(u32(40 + 8)), as: UInt32.self)
        sqArray = Int(u32(40 + 24))
        cqHead = Int(u32(80))
        cqTail = Int(u32(80 + 4))
        cqMask = cq.load(fromByteOffset: Int(u32(80 + 8)), as: UInt32.self)
        cqes = Int(u32(80 + 20))
        tail = sq.load(fromByteOffset: sqTail, as: UInt32.self)
    }

    public func close() {
        munmap(sqes, sqesSize)
        munmap(sqRing, singleMap ? max(sqRingSize, cqRingSize) : sqRingSize)
        if !singleMap { munmap(cqRing, cqRingSize) }
        Glibc.close(fd)
    }

    /// Room for this many more entries before a submit.
    public var room: UInt32 { capacity - (tail &- lvsh_load_acquire(sqRing + sqHead)) }

    /// Queues one entry; false when the submission ring is full.
    @discardableResult
    public func push(_ entry: Entry) -> Bool {
        guard room > 0 else { return false }
        let index = tail & sqMask
        let e = sqes + Int(index) * 64
        e.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
        e.storeBytes(of: entry.opcode, as: UInt8.self)
        e.storeBytes(of: entry.flags, toByteOffset: 1, as: UInt8.self)
        e.storeBytes(of: entry.fd, toByteOffset: 4, as: Int32.self)
        e.storeBytes(of: entry.offset, toByteOffset: 8, as: UInt64.self)
        e.storeBytes(of: entry.address, toByteOffset: 16, as: UInt64.self)
        e.storeBytes(of: entry.length, toByteOffset: 24, as: UInt32.self)
        e.storeBytes(of: entry.opFlags, toByteOffset: 28, as: UInt32.self)
        e.storeBytes(of: entry.userData, toByteOffset: 32, as: UInt64.self)
        e.storeBytes(of: entry.fileIndex, toByteOffset: 44, as: UInt32.self)
        sqRing.storeBytes(of: index, toByteOffset: sqArray + Int(index) * 4, as: UInt32.self)
        tail &+= 1
        unsubmitted += 1
        return true
    }

    /// Queues one send or receive of `length` bytes at `buffer`; MSG_TRUNC makes a receive report
    /// the datagram's whole length.
    public func push(opcode: UInt8, fd socket: Int32, buffer: UnsafeMutableRawPointer, length: Int, flags: UInt8, data: UInt64) {
        var e = Entry(opcode: opcode)
        e.flags = flags
        e.fd = socket
        e.address = UInt64(UInt(bitPattern: buffer))
        e.length = UInt32(length)
        e.opFlags = opcode == Op.recv ? UInt32(MSG_TRUNC) : 0
        e.userData = data
        push(e)
    }

    /// Hands what was pushed to the kernel without waiting; false (errno set) if it refused.
    @discardableResult
    public func submit() -> Bool {
        guard unsubmitted > 0 else { return true }
        lvsh_store_release(sqRing + sqTail, tail)
        while true {
            let rc = lvsh_io_uring_enter(fd, unsubmitted, 0, 0, nil, 0)
            if rc >= 0 {
                unsubmitted -= min(unsubmitted, UInt32(rc))
                if unsubmitted == 0 || rc == 0 { return unsubmitted == 0 }
            } else if errno != EINTR {
                return false
            }
        }
    }

    /// Hands every completion already posted to `body` (user data, result). No system call, unless
    /// the completion ring overflowed: the kernel then keeps completions aside, and posts them (and
    /// accepts submissions) again only when asked to by an io_uring_enter with GETEVENTS.
    @discardableResult
    public func reap(_ body: (UInt64, Int32) -> Void) -> Int {
        var n = 0
        while true {
            var head = cqRing.load(fromByteOffset: cqHead, as: UInt32.self)
            let end = lvsh_load_acquire(cqRing + cqTail)
            while head != end {
                let c = cqRing + cqes + Int(head & cqMask) * 16
                body(c.load(as: UInt64.self), c.load(fromByteOffset: 8, as: Int32.self))
                head &+= 1
                n += 1
            }
            lvsh_store_release(cqRing + cqHead, head)
            guard overflowed else { return n }
            guard lvsh_io_uring_enter(fd, 0, 0, 1 /* GETEVENTS */, nil, 0) >= 0 || errno == EINTR else { return n }
        }
    }

    /// IORING_SQ_CQ_OVERFLOW: completions wait outside the ring.
    private var overflowed: Bool { lvsh_load_acquire(sqRing + sqFlags) & 2 != 0 }

    /// Submits what was pushed and waits (at most a second) until `count` entries completed, handing
    /// each completion to `body`; false if they did not all complete.
    public func submitAndWait(_ count: Int, _ body: (UInt64, Int32) -> Void) -> Bool {
        lvsh_store_release(sqRing + sqTail, tail)
        // struct io_uring_getevents_arg { sigmask, sigmask_sz, pad, ts } and a __kernel_timespec.
        var timeout: (Int64, Int64) = (1, 0)
        var done = 0
        var rounds = 0
        while done < count && rounds < 4 {
            rounds += 1
            let rc = withUnsafeMutablePointer(to: &timeout) { ts -> Int32 in
                var arg: (UInt64, UInt32, UInt32, UInt64) = (0, 0, 0, UInt64(UInt(bitPattern: ts)))
                return withUnsafeMutablePointer(to: &arg) {
                    lvsh_io_uring_enter(fd, unsubmitted, UInt32(count - done), 1 | 8 /* GETEVENTS | EXT_ARG */, $0, 24)
                }
            }
            if rc < 0 && errno != EINTR && errno != ETIME { return false }
            if rc > 0 { unsubmitted -= min(unsubmitted, UInt32(rc)) }
            done += reap(body)
        }
        return done == count && unsubmitted == 0
    }

    /// Registers a table of `count` empty file slots (IORING_REGISTER_FILES2, sparse: Linux 5.19).
    public func registerEmptyFiles(_ count: UInt32) -> Bool {
        // struct io_uring_rsrc_register { nr, flags, resv2, data, tags }
        var arg: (UInt32, UInt32, UInt64, UInt64, UInt64) = (count, 1 /* IORING_RSRC_REGISTER_SPARSE */, 0, 0, 0)
        return withUnsafeMutablePointer(to: &arg) { lvsh_io_uring_register(fd, 13, $0, 32) } >= 0
    }

    /// Makes the kernel signal `eventFD` whenever it posts a completion (IORING_REGISTER_EVENTFD).
    public func registerEventFD(_ eventFD: Int32) -> Bool {
        var value = eventFD
        return lvsh_io_uring_register(fd, 4, &value, 1) >= 0
    }
}
