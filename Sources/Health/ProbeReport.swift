import Glibc
import NIOCore
import Synchronization

/// One finished run of a probe, as the scheduler hands it to the daemon.
public struct ProbeReport: Hashable, Sendable {
    public var key: ProbeKey
    /// The verdict with its duration and wall-clock time: what `HealthMonitor.record` takes.
    public var result: ProbeResult
    /// How long the run took, in nanoseconds of the event loop's clock.
    public var durationNanoseconds: Int64
    /// How late the run started after its due time, in nanoseconds (the benchmark's p99 lateness).
    public var latenessNanoseconds: Int64

    public init(key: ProbeKey, result: ProbeResult, durationNanoseconds: Int64, latenessNanoseconds: Int64) {
        self.key = key
        self.result = result
        self.durationNanoseconds = durationNanoseconds
        self.latenessNanoseconds = latenessNanoseconds
    }
}

extension HealthTime {
    /// The system's wall clock: for the scheduler and the daemon, never for the state machine.
    public static func now() -> HealthTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return HealthTime(milliseconds: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }
}

extension HealthTime {
    /// The wall-clock time of an event loop reading: the monotonic reading plus the offset between
    /// the two clocks, read again every 10 s (a stepped wall clock shows within that), so that a probe's
    /// result costs no clock read of its own (each one is a system call in a guest without a vDSO).
    public static func wall(at deadline: NIODeadline) -> HealthTime {
        let ns = Int64(clamping: deadline.uptimeNanoseconds)
        let offset = wallOffset.withLock { o -> Int64 in
            if o.readAt == Int64.min || ns - o.readAt > 10_000_000_000 || ns < o.readAt {
                var wall = timespec(), mono = timespec()
                clock_gettime(CLOCK_REALTIME, &wall)
                clock_gettime(CLOCK_MONOTONIC, &mono)
                o.offset = (Int64(wall.tv_sec) - Int64(mono.tv_sec)) * 1_000_000_000 + Int64(wall.tv_nsec) - Int64(mono.tv_nsec)
                o.readAt = ns
            }
            return o.offset
        }
        return HealthTime(milliseconds: (ns + offset) / 1_000_000)
    }

    private static let wallOffset = Mutex<(offset: Int64, readAt: Int64)>((0, Int64.min))
}
