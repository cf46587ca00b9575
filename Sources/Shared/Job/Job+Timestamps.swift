/// A job's timestamps, read in any unit (`Timestamp`) and written in the form the job already uses, so
/// the system that wrote it reads them back: Verk's whole seconds, Sidekiq 8's milliseconds, float seconds.
extension Job {
    public enum TimestampField: String, Sendable, CaseIterable {
        case createdAt = "created_at", enqueuedAt = "enqueued_at", failedAt = "failed_at", retriedAt = "retried_at"
    }

    /// The form the job's timestamps take: always Verk's for a Verk job and float seconds for an Exq one;
    /// else that of its latest timestamp (Sidekiq 8 writes milliseconds). Nil for a job without any.
    public var timestampFormat: TimestampFormat? { timestampFormat(dialect) }

    /// `timestampFormat`, with the dialect worked out once by the caller (it reads several fields).
    private func timestampFormat(_ dialect: JobDialect) -> TimestampFormat? {
        if let fixed = dialect.timestampFormat { return fixed }
        for field in [TimestampField.retriedAt, .failedAt, .enqueuedAt, .createdAt] {
            if let format = form(of: fields[field.rawValue], dialect) { return format }
        }
        return nil
    }

    /// Epoch seconds, whatever the unit written; nil when absent or null.
    public func timestamp(_ field: TimestampField) -> Double? { Timestamp.seconds(from: fields[field.rawValue]) }

    /// Writes `seconds` in the form the field already has (whoever wrote it reads it back), else in the
    /// job's form (`timestampFormat`), else in `format`. Nil removes the field.
    public mutating func setTimestamp(_ field: TimestampField, _ seconds: Double?, defaultFormat format: TimestampFormat = .seconds) {
        let dialect = self.dialect
        let written = form(of: fields[field.rawValue], dialect) ?? timestampFormat(dialect) ?? format
        self[field.rawValue] = seconds.map { Timestamp.json($0, as: written) }
    }

    /// The form of one timestamp as we may write it again: integer seconds only into Verk's jobs, since
    /// Sidekiq 8 reads an integer as milliseconds.
    private func form(of value: JSONValue?, _ dialect: JobDialect) -> TimestampFormat? {
        guard let format = Timestamp.format(of: value) else { return nil }
        return format == .wholeSeconds && dialect != .verk ? .seconds : format
    }

    public var createdAt: Double? {
        get { timestamp(.createdAt) }
        set { setTimestamp(.createdAt, newValue) }
    }
    public var enqueuedAt: Double? {
        get { timestamp(.enqueuedAt) }
        set { setTimestamp(.enqueuedAt, newValue) }
    }
    public var failedAt: Double? {
        get { timestamp(.failedAt) }
        set { setTimestamp(.failedAt, newValue) }
    }
    public var retriedAt: Double? {
        get { timestamp(.retriedAt) }
        set { setTimestamp(.retriedAt, newValue) }
    }
}
