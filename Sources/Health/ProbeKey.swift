import LVSModel

/// The identity of one probe on the wire: what it sends, where, from where and how long it waits.
/// Every check of every real server that comes to the same key shares one run per interval
/// (acassen/keepalived #1495), and its result fans out to all of them.
public struct ProbeKey: Hashable, Sendable, CustomStringConvertible {
    /// The fields, in one object that every copy shares: a key is kept by the plan (once per check
    /// and once per probe), by the scheduler and by each waiting start, and inline it was 56 bytes
    /// in each of them (about 200 bytes a real server at 10,000).
    private final class Fields: Sendable {
        let probe: Probe
        let address: IPAddress?
        let port: UInt16
        let source: IPAddress?
        let timeoutMilliseconds: UInt32

        init(probe: Probe, address: IPAddress?, port: UInt16, source: IPAddress?, timeoutMilliseconds: UInt32) {
            self.probe = probe
            self.address = address
            self.port = port
            self.source = source
            self.timeoutMilliseconds = timeoutMilliseconds
        }
    }
    private let fields: Fields

    public var probe: Probe { fields.probe }
    /// The address probed; nil for a file check, which reads the same file for every real server.
    public var address: IPAddress? { fields.address }
    /// The port probed; 0 for kinds that use none (script, ping, file).
    public var port: UInt16 { fields.port }
    /// The address the probe binds to (keepalived's bindto).
    public var source: IPAddress? { fields.source }
    public var timeoutMilliseconds: UInt32 { fields.timeoutMilliseconds }

    public init(probe: Probe, address: IPAddress?, port: UInt16, source: IPAddress? = nil, timeoutMilliseconds: UInt32) {
        // Normalised so that equal probes are equal keys: a file has no target, a script and a
        // file no source, and only kinds that talk to a port keep one.
        let target: IPAddress?
        if case .file = probe { target = nil } else { target = address }
        let from: IPAddress?
        switch probe {
        case .file, .script: from = nil
        default: from = source
        }
        fields = Fields(probe: probe, address: target, port: probe.usesPort ? port : 0, source: from,
                        timeoutMilliseconds: timeoutMilliseconds)
    }

    public static func == (a: ProbeKey, b: ProbeKey) -> Bool {
        a.fields === b.fields
            || (a.port == b.port && a.address == b.address && a.timeoutMilliseconds == b.timeoutMilliseconds
                && a.source == b.source && a.probe == b.probe)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(probe)
        hasher.combine(address)
        hasher.combine(port)
        hasher.combine(source)
        hasher.combine(timeoutMilliseconds)
    }

    /// `http 10.0.0.1:80 path / timeout 1000ms`, for logs and metrics labels.
    public var description: String {
        var text = probe.kindWord
        switch (address, probe.usesPort) {
        case (let a?, true): text += " " + (a.family == .v6 ? "[\(a)]" : "\(a)") + ":\(port)"
        case (let a?, false): text += " \(a)"
        default: break
        }
        switch probe {
        case .http(let h): text += " path \(h.path)" + (h.host.map { " host \($0)" } ?? "")
        case .dns(let name, let type): text += " query \(name) type \(type.rawValue)"
        case .script(let argv): text += " " + argv.joined(separator: " ")
        case .file(let path, let weight): text += " \(path) weight \(weight)"
        default: break
        }
        if let s = source { text += " source \(s)" }
        return text + " timeout \(timeoutMilliseconds)ms"
    }
}
