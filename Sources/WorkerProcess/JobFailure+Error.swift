import VerkShared

extension JobFailure {
    /// The `error_class` recorded for an error a job (or its middleware) threw: Verk's own class for Verk's
    /// errors, otherwise the error's Swift type (`MyApp.MailError`), as Sidekiq records the Ruby class.
    package static func errorClass(of error: any Error) -> String {
        switch error {
        case let e as JobExecutionError: return e.errorClass
        case is MiddlewareRejection: return VerkErrorClass.middlewareRejected.rawValue
        default: return String(reflecting: type(of: error))
        }
    }

    /// The failure reported for an error thrown while running a job of `className`. An app's own errors get
    /// a one-line backtrace naming the worker: Swift has no portable stack trace for a thrown error.
    package init(error: any Error, className: String) {
        let errorClass = Self.errorClass(of: error)
        let isVerks = error is JobExecutionError || error is MiddlewareRejection
        self.init(errorClass: errorClass, message: "\(error)", backtrace: isVerks ? [] : ["\(className).perform"])
    }
}
