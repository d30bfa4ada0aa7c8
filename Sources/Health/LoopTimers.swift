import NIOCore

/// The probes' timers of one event loop, on the scheduler's 20 ms grid and out of NIO's heap.
///
/// NIO keeps scheduled tasks in a heap whose every push and pop copies tasks (a retain and a release
/// each) and whose `cancel` scans it whole. With every probe's next start and every run's timeout in
/// it, 10,000 probes every 10 s cost the loop nearly twice the user CPU of 1,000 every second, the
/// same rate (perf of tools/bench/probes: a third of the cycles in the heap and in cancel's scan),
/// and in a one-CPU guest the loop fell seconds behind and every check failed. Here a slot of the
/// grid keeps its callbacks in an array, NIO holds one task for the earliest slot, and nothing is
/// ever cancelled: a callback whose work is done (the run answered, the probe was removed) returns
/// when its slot comes.
final class LoopTimers: @unchecked Sendable {
    /// Called in the slot's turn with how late the slot runs.
    typealias Callback = (_ late: TimeAmount) -> Void

    /// What a slot runs: a callback, or the next start of a scheduler's probe. The start is kept as
    /// data: as a closure capturing the probe it was an allocation of 144 bytes for each waiting
    /// probe, and every probe waits for its next start.
    private enum Timer {
        case call(Callback)
        case start(ProbeScheduler, ProbeKey, generation: UInt64)
    }

    let loop: any EventLoop
    // Touched only on `loop`.
    private var slots: [Int64: [Timer]] = [:]
    /// Slots that have an NIO task on their way: a new one is added only for an earlier slot.
    private var armed: Set<Int64> = []
    /// The clock's reading shared by the work of the turn under way (`turn`), once it is made.
    private var turnReading: NIODeadline?
    private var inTurn = false

    private init(loop: any EventLoop) { self.loop = loop }

    private static let registry = LoopLocal { LoopTimers(loop: $0) }

    /// The timers of `loop`.
    static func of(_ loop: any EventLoop) -> LoopTimers { registry(loop) }

    /// Runs `body` in the first slot of the grid at or after `deadline` (on `loop`).
    func schedule(at deadline: NIODeadline, _ body: @escaping Callback) {
        guard loop.inEventLoop else {
            let unchecked = UncheckedCallback(body)
            loop.execute { self.schedule(at: deadline, unchecked.body) }
            return
        }
        add(.call(body), at: Self.slot(atOrAfter: deadline))
    }

    /// Starts `key` of `scheduler` in the slot of `due` (a deadline on the grid; on `loop`).
    func scheduleStart(_ scheduler: ProbeScheduler, _ key: ProbeKey, generation: UInt64, due: NIODeadline) {
        loop.preconditionInEventLoop()
        add(.start(scheduler, key, generation: generation), at: Self.slot(atOrAfter: due))
    }

    /// The loop's clock: inside `turn`, the one reading of that turn (made when first asked for).
    ///
    /// A reading is a system call where there is no vDSO (the user-mode-linux lab), and a probe
    /// read the clock three times (its start, its timeout, its end): 3,000 system calls a second at
    /// 1,000 checks a second. Within a turn the readings would differ only by the turn's own work,
    /// which the probes' times cannot tell apart anyway: the probes a turn starts go to the kernel
    /// together after it, and the completions one look at the ring finds came before it.
    var now: NIODeadline {
        guard inTurn else { return loop.now }
        if let turnReading { return turnReading }
        let reading = loop.now
        turnReading = reading
        return reading
    }

    /// Runs `body` with one reading of the clock for all it does (`now`); on `loop`.
    func turn<T>(reading: NIODeadline? = nil, _ body: () -> T) -> T {
        guard !inTurn else { return body() }
        inTurn = true
        turnReading = reading
        defer {
            inTurn = false
            turnReading = nil
        }
        return body()
    }

    private func add(_ timer: Timer, at slot: Int64) {
        slots[slot, default: []].append(timer)
        arm(slot)
    }

    private func arm(_ slot: Int64, notBefore: NIODeadline? = nil) {
        guard !armed.contains(where: { $0 <= slot }) else { return }
        armed.insert(slot)
        let deadline = notBefore.map { max($0, Self.deadline(of: slot)) } ?? Self.deadline(of: slot)
        loop.scheduleTask(deadline: deadline) { self.fire(slot) }
    }

    private func fire(_ armedSlot: Int64) {
        armed.remove(armedSlot)
        let now = loop.now
        let current = Int64(now.uptimeNanoseconds / UInt64(ProbeScheduler.slotNanoseconds))
        turn(reading: now) {
            for slot in slots.keys.filter({ $0 <= current }).sorted() {
                guard let timers = slots.removeValue(forKey: slot) else { continue }
                let due = Self.deadline(of: slot)
                for timer in timers {
                    switch timer {
                    case .call(let callback): callback(now - due)
                    case .start(let scheduler, let key, let generation): scheduler.fire(key, generation: generation, due: due, at: now, on: loop)
                    }
                }
            }
        }
        // Never due before the loop has read its sockets once more. NIO runs every task that is due
        // before it goes back to epoll, so a loop that took more than a slot over this one found
        // the next slot due at once, and the next, and read no socket while the probes it started
        // waited for theirs: connections the kernel had completed stayed unread until their
        // timeouts failed them (4,000 to 8,000 of them in a one-CPU guest at 1,000 checks a second).
        if let next = slots.keys.min() { arm(next, notBefore: loop.now + Self.ioTurn) }
    }

    /// The least time between two runs of the timers: long enough that NIO finds nothing due and
    /// waits for events (returning at once when sockets are ready).
    static let ioTurn = TimeAmount.milliseconds(2)

    static func slot(atOrAfter deadline: NIODeadline) -> Int64 {
        let step = UInt64(ProbeScheduler.slotNanoseconds)
        return Int64((deadline.uptimeNanoseconds + step - 1) / step)
    }

    static func slot(atOrBefore deadline: NIODeadline) -> Int64 {
        Int64(deadline.uptimeNanoseconds / UInt64(ProbeScheduler.slotNanoseconds))
    }

    static func deadline(of slot: Int64) -> NIODeadline {
        .uptimeNanoseconds(UInt64(slot) * UInt64(ProbeScheduler.slotNanoseconds))
    }

    private struct UncheckedCallback: @unchecked Sendable {
        let body: Callback
        init(_ body: @escaping Callback) { self.body = body }
    }
}
