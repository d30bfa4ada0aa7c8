import LVSModel

/// The identity of one probe on the wire: what it sends, where, from where and how long it waits.
/// Every check of every real server that comes to the same key shares one run per interval
/// (acassen/keepalived #1495), and its result fans out to all of them.
public struct ProbeKey: Hashable, Sendable, CustomStringConvertible {
    public var probe: Probe
    /// The address probed; nil for a file check, which reads the same file for every real server.
    public var address: IPAddress?
    /// The port probed; 0 for kinds that use none (script, ping, file).
    public var port: UInt16
    /// The address the probe binds to (keepalived's bindto).
    public var source: IPAddress?
    public var timeoutMilliseconds: UInt32

    public init(probe: Probe, address: IPAddress?, port: UInt16, source: IPAddress? = nil, timeoutMilliseconds: UInt32) {
        self.probe = probe
        // Normalised so that equal probes are equal keys: a file has no target, a script and a
        // file no source, and only kinds that talk to a port keep one.
        if case .file = probe { self.address = nil } else { self.address = address }
        self.port = probe.usesPort ? port : 0
        switch probe {
        case .file, .script: self.source = nil
        default: self.source = source
        }
        self.timeoutMilliseconds = timeoutMilliseconds
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
