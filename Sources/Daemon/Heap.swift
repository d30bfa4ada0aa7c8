#if canImport(Glibc)
import Glibc
#endif
/// glibc's heap, told to give back what a start or a reload took: at 10,000 real servers the file's
/// text, the plan and the kernel's replies are tens of megabytes for a moment, and what glibc keeps of
/// them stays in the daemon's RSS for its whole life.
///
/// Not after each scrape: the next scrape at 10,000 real servers uses the same 20 MB again, and
/// pages given back have to be faulted in again, which costs most in the user-mode-linux lab. There,
/// of five runs at 10,000 real servers on 2026-12-04 that gave memory back around scrapes (a trim
/// after the text was made, a trim once the response was written, or `mallopt(M_MMAP_THRESHOLD)`),
/// three spent 17–29 s of CPU in 47 s and failed their checks; the cause is not established
/// (docs/benchmarks-checks.md).
enum Heap {
    /// Makes every thread allocate from one arena, unless MALLOC_ARENA_MAX says otherwise. glibc gives
    /// threads arenas of their own, and each keeps the most a thread of it ever held: a scrape (the
    /// kernel's table read, its labels) runs on whichever thread the actor or the render loop gets,
    /// so each of them came to keep a scrape's worth. Small allocations go through each thread's
    /// cache first, so one arena's lock is taken rarely.
    static func shareOneArena() {
        guard getenv("MALLOC_ARENA_MAX") == nil else { return }
        _ = mallopt(mArenaMax, 1)
    }

    /// M_ARENA_MAX of malloc.h.
    private static let mArenaMax: Int32 = -8

    /// Returns the free pages of every arena to the system.
    static func trim() {
        _ = mallocTrim(0)
    }
}

/// glibc's malloc_trim (malloc.h, which the Glibc module leaves out).
@_silgen_name("malloc_trim")
private func mallocTrim(_ pad: Int) -> Int32

/// glibc's mallopt (malloc.h).
@_silgen_name("mallopt")
private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
