import Foundation

/// An OpenSSL client context: TLS 1.2 or later, peer verification on, the
/// trusted CAs loaded once and shared by every connection made from it.
final class TLSClientContext: @unchecked Sendable {
    let library: OpenSSLLibrary
    let handle: OpaquePointer

    init(trust: TLSTrust) throws(TLSError) {
        let library = try OpenSSLLibrary.shared.get()
        library.clearErrors()
        guard let handle = library.newContext(library.clientMethod()) else {
            throw .trustSetup(library.drainErrors(fallback: "SSL_CTX_new failed"))
        }
        self.library = library
        self.handle = handle
        guard library.contextControl(handle, OpenSSLConstant.controlSetMinimumVersion, OpenSSLConstant.tls12Version, nil) == 1 else {
            throw .trustSetup(library.drainErrors(fallback: "cannot require TLS 1.2"))
        }
        library.setVerify(handle, OpenSSLConstant.verifyPeer, nil)
        switch trust {
        case .system:
            guard library.setDefaultVerifyPaths(handle) == 1 else {
                throw .trustSetup(library.drainErrors(fallback: "cannot load the system's CA certificates"))
            }
        case let .caFile(path):
            guard library.loadVerifyLocations(handle, path, nil) == 1 else {
                throw .trustSetup("cannot load CA certificates from \(path): \(library.drainErrors(fallback: "no certificate found"))")
            }
        }
    }

    deinit {
        library.freeContext(handle)
    }
}

/// A client context made on first use and then shared, so that an http://
/// client never loads libssl and an https:// one parses its CAs once.
final class LazyTLSContext: @unchecked Sendable {
    private let trust: TLSTrust
    private let lock = NSLock()
    private var made: TLSClientContext?

    init(trust: TLSTrust) {
        self.trust = trust
    }

    func get() throws(TLSError) -> TLSClientContext {
        lock.lock()
        defer { lock.unlock() }
        if let made { return made }
        let context = try TLSClientContext(trust: trust)
        made = context
        return context
    }
}
