import Glibc

/// A TLS client session over one of our sockets.
///
/// OpenSSL never touches the socket: it encrypts into and decrypts from
/// memory buffers, and the bytes move through `SocketConnection`, so every
/// wait keeps the caller's deadline and a peer that went away is an error,
/// never a SIGPIPE.
final class TLSConnection: StreamConnection {
    /// One full TLS record (16 KiB of data plus its overhead) per socket read.
    private static let socketReadSize = 17 * 1024
    private static let flushPieceSize = 64 * 1024
    /// close_notify is a courtesy; a peer that does not take it at once is not waited for.
    private static let closeNotifyWait = 0.1

    let endpoint: SocketEndpoint
    private let socket: SocketConnection
    private let context: TLSClientContext
    private var library: OpenSSLLibrary { context.library }
    private var session: OpaquePointer?
    /// Owned by `session`: ciphertext from the peer waiting to be decrypted.
    private let incoming: OpaquePointer
    /// Owned by `session`: ciphertext OpenSSL produced, waiting to be sent.
    private let outgoing: OpaquePointer
    private var sendingFailed = false

    /// Negotiates TLS on a connected socket, verifying that the server's
    /// certificate chains to a trusted CA and names `serverName`. Takes
    /// ownership of the socket: it is closed if the handshake fails.
    static func handshake(over socket: SocketConnection, serverName: String, context: TLSClientContext, deadline: Deadline) throws -> TLSConnection {
        let connection: TLSConnection
        do {
            connection = try TLSConnection(socket: socket, serverName: serverName, context: context)
        } catch {
            socket.close()
            throw error
        }
        do {
            try connection.negotiate(serverName: serverName, deadline: deadline)
        } catch {
            connection.discard()
            throw error
        }
        return connection
    }

    private init(socket: SocketConnection, serverName: String, context: TLSClientContext) throws(TLSError) {
        let library = context.library
        let endpoint = socket.endpoint
        library.clearErrors()
        guard let session = library.newSession(context.handle) else {
            throw .handshake(endpoint: endpoint, reason: library.drainErrors(fallback: "SSL_new failed"))
        }
        guard let incoming = library.newBIO(library.memoryMethod()), let outgoing = library.newBIO(library.memoryMethod()) else {
            library.freeSession(session)
            throw .handshake(endpoint: endpoint, reason: library.drainErrors(fallback: "BIO_new failed"))
        }
        library.setBIOs(session, incoming, outgoing)
        self.socket = socket
        self.context = context
        self.endpoint = endpoint
        self.session = session
        self.incoming = incoming
        self.outgoing = outgoing
        try expect(serverName: serverName)
    }

    deinit {
        close()
    }

    /// Name checks and SNI: an address literal is matched against the
    /// certificate's IP entries and, as RFC 6066 asks, not sent as SNI.
    private func expect(serverName: String) throws(TLSError) {
        let accepted: Bool
        if Self.isAddressLiteral(serverName) {
            accepted = library.setExpectedIP(library.verifyParameters(session), serverName) == 1
        } else {
            accepted = library.setExpectedHost(session, serverName) == 1
                && serverName.withCString { name in
                    library.sessionControl(session, OpenSSLConstant.controlSetServerName, OpenSSLConstant.serverNameTypeHost,
                                           UnsafeMutableRawPointer(mutating: name)) == 1
                }
        }
        guard accepted else {
            throw .handshake(endpoint: endpoint, reason: library.drainErrors(fallback: "cannot expect server name \(serverName)"))
        }
    }

    private static func isAddressLiteral(_ host: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET, host, &address) == 1 || inet_pton(AF_INET6, host, &address) == 1
    }

    private func negotiate(serverName: String, deadline: Deadline) throws {
        while true {
            library.clearErrors()
            let result = library.connect(session)
            if result == 1 {
                try flush(deadline: deadline)
                return
            }
            let error = library.errorOf(session, result)
            guard error == OpenSSLConstant.errorWantRead || error == OpenSSLConstant.errorWantWrite else {
                let reason = library.drainErrors(fallback: "SSL_connect error \(error)")
                // Sends the alert that tells the server why, when it listens.
                try? flush(deadline: .after(seconds: Self.closeNotifyWait))
                let verification = library.verifyResult(session)
                if verification != OpenSSLConstant.verifyOK {
                    let text = library.verifyText(verification).map { String(cString: $0) } ?? "verification error \(verification)"
                    throw TLSError.certificateRejected(endpoint: endpoint, serverName: serverName, reason: text)
                }
                throw TLSError.handshake(endpoint: endpoint, reason: reason)
            }
            try flush(deadline: deadline)
            if error == OpenSSLConstant.errorWantRead {
                guard try receive(deadline: deadline) else {
                    throw TLSError.handshake(endpoint: endpoint, reason: "the server closed the connection during the handshake (is it speaking TLS?)")
                }
            }
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer, deadline: Deadline) throws {
        guard let session else { throw NetError.io(endpoint: endpoint, operation: "write", message: "connection closed") }
        var offset = 0
        while offset < bytes.count {
            let piece = min(bytes.count - offset, Self.flushPieceSize)
            library.clearErrors()
            let written = library.write(session, bytes.baseAddress! + offset, Int32(piece))
            if written > 0 {
                offset += Int(written)
                try flush(deadline: deadline)
                continue
            }
            let error = library.errorOf(session, written)
            try flush(deadline: deadline)
            // A TLS 1.2 renegotiation needs the peer's answer before data can go on.
            guard error == OpenSSLConstant.errorWantRead else {
                throw TLSError.stream(endpoint: endpoint, operation: "write", reason: library.drainErrors(fallback: "SSL_write error \(error)"))
            }
            guard try receive(deadline: deadline) else { throw NetError.closedByPeer(endpoint: endpoint) }
        }
    }

    func read(maxBytes: Int, deadline: Deadline) throws -> [UInt8] {
        guard let session else { throw NetError.io(endpoint: endpoint, operation: "read", message: "connection closed") }
        let capacity = max(1, min(maxBytes, Int(Int32.max)))
        var buffer = [UInt8](repeating: 0, count: capacity)
        while true {
            library.clearErrors()
            let count = buffer.withUnsafeMutableBytes { library.read(session, $0.baseAddress, Int32(capacity)) }
            if count > 0 {
                buffer.removeLast(capacity - Int(count))
                return buffer
            }
            let error = library.errorOf(session, count)
            // TLS 1.3 may answer a key update while reading.
            try flush(deadline: deadline)
            switch error {
            case OpenSSLConstant.errorZeroReturn:
                return []
            case OpenSSLConstant.errorWantRead:
                // The socket ended without close_notify: anyone on the path
                // can cut a stream that way, so it is not a clean end. A body
                // delimited by the close would otherwise pass as complete.
                guard try receive(deadline: deadline) else { throw TLSError.truncated(endpoint: endpoint) }
            case OpenSSLConstant.errorWantWrite:
                continue
            default:
                throw TLSError.stream(endpoint: endpoint, operation: "read", reason: library.drainErrors(fallback: "SSL_read error \(error)"))
            }
        }
    }

    func close() {
        guard let session else { return }
        library.clearErrors()
        _ = library.shutdown(session)
        try? flush(deadline: .after(seconds: Self.closeNotifyWait))
        discard()
    }

    /// Frees the session and closes the socket without telling the peer.
    private func discard() {
        if let session {
            library.freeSession(session)
            self.session = nil
        }
        socket.close()
    }

    /// Sends whatever ciphertext OpenSSL has produced. Once sending has
    /// failed, what is left is dropped, so that the answer of a server that
    /// refused an upload half-way can still be read, as over plain TCP.
    private func flush(deadline: Deadline) throws {
        while case let pending = library.pendingBIO(outgoing), pending > 0 {
            var piece = [UInt8](repeating: 0, count: min(pending, Self.flushPieceSize))
            let count = piece.withUnsafeMutableBytes { library.readBIO(outgoing, $0.baseAddress, Int32($0.count)) }
            guard count > 0 else { return }
            if sendingFailed { continue }
            do {
                try piece.withUnsafeBytes { try socket.write(UnsafeRawBufferPointer(rebasing: $0[0..<Int(count)]), deadline: deadline) }
            } catch {
                sendingFailed = true
                throw error
            }
        }
    }

    /// Moves one socket read of ciphertext into OpenSSL; false at end of stream.
    private func receive(deadline: Deadline) throws -> Bool {
        let bytes = try socket.read(maxBytes: Self.socketReadSize, deadline: deadline)
        if bytes.isEmpty { return false }
        let accepted = bytes.withUnsafeBytes { library.writeBIO(incoming, $0.baseAddress, Int32($0.count)) }
        guard Int(accepted) == bytes.count else {
            throw TLSError.stream(endpoint: endpoint, operation: "read", reason: library.drainErrors(fallback: "cannot buffer received bytes"))
        }
        return true
    }
}
