import Glibc

/// The few libssl functions a TLS client needs, resolved from the system's
/// OpenSSL 3 when https is first used.
///
/// Loaded at run time rather than linked: `health` runs every few seconds
/// and talks http to the local agent, so its start must not pay for mapping
/// TLS libraries. Without libssl.so.3 only https fails, with a clear error.
final class OpenSSLLibrary: @unchecked Sendable {
    typealias Handle = OpaquePointer
    typealias MakeMethod = @convention(c) () -> Handle?
    typealias MakeWithMethod = @convention(c) (Handle?) -> Handle?
    typealias Release = @convention(c) (Handle?) -> Void
    typealias Control = @convention(c) (Handle?, Int32, Int, UnsafeMutableRawPointer?) -> Int
    typealias HandleStatus = @convention(c) (Handle?) -> Int32
    typealias LoadLocations = @convention(c) (Handle?, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Int32
    typealias SetVerify = @convention(c) (Handle?, Int32, OpaquePointer?) -> Void
    typealias SetText = @convention(c) (Handle?, UnsafePointer<CChar>?) -> Int32
    typealias SetBIOs = @convention(c) (Handle?, Handle?, Handle?) -> Void
    typealias Transfer = @convention(c) (Handle?, UnsafeMutableRawPointer?, Int32) -> Int32
    typealias TransferOut = @convention(c) (Handle?, UnsafeRawPointer?, Int32) -> Int32
    typealias ErrorOf = @convention(c) (Handle?, Int32) -> Int32
    typealias VerifyResult = @convention(c) (Handle?) -> Int
    typealias VerifyText = @convention(c) (Int) -> UnsafePointer<CChar>?
    typealias NextError = @convention(c) () -> UInt
    typealias ErrorText = @convention(c) (UInt, UnsafeMutablePointer<CChar>?, Int) -> Void
    typealias Pending = @convention(c) (Handle?) -> Int

    static let soname = "libssl.so.3"

    /// Loaded once per process; every connection shares it.
    static let shared: Result<OpenSSLLibrary, TLSError> = {
        do throws(TLSError) {
            return .success(try OpenSSLLibrary(soname: soname))
        } catch {
            return .failure(error)
        }
    }()

    let clientMethod: MakeMethod
    let newContext: MakeWithMethod
    let freeContext: Release
    let contextControl: Control
    let setDefaultVerifyPaths: HandleStatus
    let loadVerifyLocations: LoadLocations
    let setVerify: SetVerify
    let newSession: MakeWithMethod
    let freeSession: Release
    let sessionControl: Control
    let setExpectedHost: SetText
    let verifyParameters: MakeWithMethod
    let setExpectedIP: SetText
    let setBIOs: SetBIOs
    let connect: HandleStatus
    let read: Transfer
    let write: TransferOut
    let errorOf: ErrorOf
    let shutdown: HandleStatus
    let verifyResult: VerifyResult
    let verifyText: VerifyText
    let memoryMethod: MakeMethod
    let newBIO: MakeWithMethod
    let readBIO: Transfer
    let writeBIO: TransferOut
    let pendingBIO: Pending
    let nextError: NextError
    let errorText: ErrorText
    let clearErrors: @convention(c) () -> Void

    /// `soname` is a parameter so that the tests can ask for a library that
    /// is missing or is not OpenSSL.
    init(soname: String) throws(TLSError) {
        guard let library = dlopen(soname, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "dlopen failed"
            throw .libraryUnavailable("\(soname) (OpenSSL 3) could not be loaded: \(reason)")
        }
        // dlsym on libssl's handle also finds libcrypto's functions: the
        // search covers the library's own dependencies.
        func symbol<F>(_ name: String, as _: F.Type) throws(TLSError) -> F {
            guard let address = dlsym(library, name) else {
                throw .libraryUnavailable("\(soname) has no \(name); OpenSSL 3 is required")
            }
            return unsafeBitCast(address, to: F.self)
        }
        clientMethod = try symbol("TLS_client_method", as: MakeMethod.self)
        newContext = try symbol("SSL_CTX_new", as: MakeWithMethod.self)
        freeContext = try symbol("SSL_CTX_free", as: Release.self)
        contextControl = try symbol("SSL_CTX_ctrl", as: Control.self)
        setDefaultVerifyPaths = try symbol("SSL_CTX_set_default_verify_paths", as: HandleStatus.self)
        loadVerifyLocations = try symbol("SSL_CTX_load_verify_locations", as: LoadLocations.self)
        setVerify = try symbol("SSL_CTX_set_verify", as: SetVerify.self)
        newSession = try symbol("SSL_new", as: MakeWithMethod.self)
        freeSession = try symbol("SSL_free", as: Release.self)
        sessionControl = try symbol("SSL_ctrl", as: Control.self)
        setExpectedHost = try symbol("SSL_set1_host", as: SetText.self)
        verifyParameters = try symbol("SSL_get0_param", as: MakeWithMethod.self)
        setExpectedIP = try symbol("X509_VERIFY_PARAM_set1_ip_asc", as: SetText.self)
        setBIOs = try symbol("SSL_set_bio", as: SetBIOs.self)
        connect = try symbol("SSL_connect", as: HandleStatus.self)
        read = try symbol("SSL_read", as: Transfer.self)
        write = try symbol("SSL_write", as: TransferOut.self)
        errorOf = try symbol("SSL_get_error", as: ErrorOf.self)
        shutdown = try symbol("SSL_shutdown", as: HandleStatus.self)
        verifyResult = try symbol("SSL_get_verify_result", as: VerifyResult.self)
        verifyText = try symbol("X509_verify_cert_error_string", as: VerifyText.self)
        memoryMethod = try symbol("BIO_s_mem", as: MakeMethod.self)
        newBIO = try symbol("BIO_new", as: MakeWithMethod.self)
        readBIO = try symbol("BIO_read", as: Transfer.self)
        writeBIO = try symbol("BIO_write", as: TransferOut.self)
        pendingBIO = try symbol("BIO_ctrl_pending", as: Pending.self)
        nextError = try symbol("ERR_get_error", as: NextError.self)
        errorText = try symbol("ERR_error_string_n", as: ErrorText.self)
        clearErrors = try symbol("ERR_clear_error", as: (@convention(c) () -> Void).self)
    }

    /// Drains this thread's OpenSSL error queue into one readable line.
    func drainErrors(fallback: String) -> String {
        var messages: [String] = []
        while true {
            let code = nextError()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            errorText(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? fallback : messages.joined(separator: "; ")
    }
}

/// OpenSSL's numeric constants that are macros in its headers.
enum OpenSSLConstant {
    static let errorWantRead: Int32 = 2
    static let errorWantWrite: Int32 = 3
    static let errorZeroReturn: Int32 = 6
    static let verifyPeer: Int32 = 1
    static let verifyOK = 0
    static let controlSetServerName: Int32 = 55
    static let serverNameTypeHost = 0
    static let controlSetMinimumVersion: Int32 = 123
    static let tls12Version = 0x0303
}
