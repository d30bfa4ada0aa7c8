import LVSModel

/// `lvsh import keepalived FILE`: keepalived's LVS configuration as an lvsh configuration.
public enum KeepalivedImport {
    public struct Options: Sendable {
        /// keepalived's config id for `@ID` lines (`--config-id`; keepalived's default is the host name).
        public var configID: String?
        /// `--groups`: virtual server groups, and virtual servers that differ only by port, become port groups.
        public var groups = false
        public var limits = ImportLimits()

        public init(configID: String? = nil, groups: Bool = false) {
            self.configID = configID
            self.groups = groups
        }
    }

    /// Reads `path` (and what it includes) through `files` and maps it. Errors (exit 2) name keepalived's
    /// file and line.
    public static func run(_ path: String, files: any ImportFiles, options: Options) throws(LVSError) -> ImportResult {
        let (lines, sourceWarnings) = try KeepalivedSource.read(path, files: files, configID: options.configID, limits: options.limits)
        let statements = try KeepalivedSyntax.statements(lines)
        var reader = KeepalivedReader()
        try reader.read(statements)
        var writer = LVSHWriter(config: reader.config, merge: options.groups)
        let text = try writer.write(source: path)
        return ImportResult(text: text, warnings: sourceWarnings + reader.warnings + writer.warnings, notes: writer.notes)
    }
}
