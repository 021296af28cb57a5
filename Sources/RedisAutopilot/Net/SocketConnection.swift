import Glibc

/// Where a socket goes: a host and port over TCP (IPv4 or IPv6, names
/// resolved), or a Unix domain socket path.
enum SocketEndpoint: Sendable, Equatable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    var description: String {
        switch self {
        case let .tcp(host, port):
            return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case let .unix(path):
            return "unix:\(path)"
        }
    }
}

enum NetError: Error, Equatable, CustomStringConvertible {
    case resolve(endpoint: SocketEndpoint, message: String)
    case connect(endpoint: SocketEndpoint, message: String)
    case timeout(endpoint: SocketEndpoint, operation: String)
    case io(endpoint: SocketEndpoint, operation: String, message: String)
    case closedByPeer(endpoint: SocketEndpoint)

    var description: String {
        switch self {
        case let .resolve(endpoint, message):
            return "cannot resolve \(endpoint): \(message)"
        case let .connect(endpoint, message):
            return "cannot connect to \(endpoint): \(message)"
        case let .timeout(endpoint, operation):
            return "timed out during \(operation) with \(endpoint)"
        case let .io(endpoint, operation, message):
            return "\(operation) failed with \(endpoint): \(message)"
        case let .closedByPeer(endpoint):
            return "\(endpoint) closed the connection"
        }
    }
}

/// A connected stream socket whose every operation is bounded by a deadline.
/// Non-blocking descriptor plus poll(2): no thread ever waits on the kernel
/// longer than the caller allowed.
final class SocketConnection {
    let endpoint: SocketEndpoint
    private var fd: Int32

    private init(endpoint: SocketEndpoint, fd: Int32) {
        self.endpoint = endpoint
        self.fd = fd
    }

    deinit {
        close()
    }

    static func connect(to endpoint: SocketEndpoint, deadline: Deadline) throws -> SocketConnection {
        switch endpoint {
        case let .tcp(host, port):
            return try connectTCP(endpoint: endpoint, host: host, port: port, deadline: deadline)
        case let .unix(path):
            return try connectUnix(endpoint: endpoint, path: path, deadline: deadline)
        }
    }

    static func connect(host: String, port: Int, timeout: Double) throws -> SocketConnection {
        try connect(to: .tcp(host: host, port: port), deadline: .after(seconds: timeout))
    }

    private static func connectTCP(endpoint: SocketEndpoint, host: String, port: Int, deadline: Deadline) throws -> SocketConnection {
        guard (1...65535).contains(port) else {
            throw NetError.resolve(endpoint: endpoint, message: "port out of range")
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        // getaddrinfo has no timeout of its own; with /etc/hosts and loopback
        // addresses (the common case for a local agent) it answers at once.
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw NetError.resolve(endpoint: endpoint, message: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }

        var lastError = "no address"
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            cursor = info.pointee.ai_next
            if deadline.hasPassed { throw NetError.timeout(endpoint: endpoint, operation: "connect") }
            let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 { lastError = errnoMessage(); continue }
            do {
                try attach(fd: fd, address: info.pointee.ai_addr, length: info.pointee.ai_addrlen, endpoint: endpoint, deadline: deadline)
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return SocketConnection(endpoint: endpoint, fd: fd)
            } catch NetError.connect(_, let message) {
                Glibc.close(fd)
                lastError = message
            } catch {
                Glibc.close(fd)
                throw error
            }
        }
        throw NetError.connect(endpoint: endpoint, message: lastError)
    }

    private static func connectUnix(endpoint: SocketEndpoint, path: String, deadline: Deadline) throws -> SocketConnection {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count < capacity else {
            throw NetError.connect(endpoint: endpoint, message: "socket path must be 1 to \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NetError.connect(endpoint: endpoint, message: errnoMessage()) }
        do {
            try withUnsafePointer(to: &address) { pointer in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                    try attach(fd: fd, address: generic, length: socklen_t(MemoryLayout<sockaddr_un>.size), endpoint: endpoint, deadline: deadline)
                }
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return SocketConnection(endpoint: endpoint, fd: fd)
    }

    /// Non-blocking connect, then poll for writability until the deadline.
    private static func attach(fd: Int32, address: UnsafePointer<sockaddr>?, length: socklen_t, endpoint: SocketEndpoint, deadline: Deadline) throws {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        if Glibc.connect(fd, address, length) == 0 { return }
        guard errno == EINPROGRESS || errno == EAGAIN else {
            throw NetError.connect(endpoint: endpoint, message: errnoMessage())
        }
        guard try waitFor(fd: fd, events: Int16(POLLOUT), deadline: deadline, endpoint: endpoint, operation: "connect") else {
            throw NetError.timeout(endpoint: endpoint, operation: "connect")
        }
        var socketError: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &size)
        if socketError != 0 {
            throw NetError.connect(endpoint: endpoint, message: String(cString: strerror(socketError)))
        }
    }

    /// True when the descriptor is ready, false when the deadline passed first.
    private static func waitFor(fd: Int32, events: Int16, deadline: Deadline, endpoint: SocketEndpoint, operation: String) throws -> Bool {
        while true {
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let timeout = deadline.pollTimeout
            let ready = poll(&pfd, 1, timeout)
            if ready > 0 { return true }
            if ready == 0 {
                if timeout == 0 || deadline.hasPassed { return false }
                continue
            }
            if errno == EINTR { continue }
            throw NetError.io(endpoint: endpoint, operation: operation, message: errnoMessage())
        }
    }

    /// Writes every byte or throws; a slow peer cannot hold the caller past the deadline.
    func write(_ bytes: UnsafeRawBufferPointer, deadline: Deadline) throws {
        guard fd >= 0 else { throw NetError.io(endpoint: endpoint, operation: "write", message: "connection closed") }
        var offset = 0
        while offset < bytes.count {
            let sent = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent > 0 { offset += sent; continue }
            if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                guard try Self.waitFor(fd: fd, events: Int16(POLLOUT), deadline: deadline, endpoint: endpoint, operation: "write") else {
                    throw NetError.timeout(endpoint: endpoint, operation: "write")
                }
                continue
            }
            if sent < 0 && errno == EINTR { continue }
            if sent < 0 && (errno == EPIPE || errno == ECONNRESET) { throw NetError.closedByPeer(endpoint: endpoint) }
            throw NetError.io(endpoint: endpoint, operation: "write", message: errnoMessage())
        }
    }

    func write(_ bytes: [UInt8], deadline: Deadline) throws {
        try bytes.withUnsafeBytes { try write($0, deadline: deadline) }
    }

    /// Reads what is available, up to `maxBytes`, waiting until the deadline
    /// for at least one byte. Returns an empty array at end of stream.
    func read(maxBytes: Int = 65536, deadline: Deadline) throws -> [UInt8] {
        guard fd >= 0 else { throw NetError.io(endpoint: endpoint, operation: "read", message: "connection closed") }
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        while true {
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, maxBytes, 0) }
            if received > 0 {
                buffer.removeLast(maxBytes - received)
                return buffer
            }
            if received == 0 { return [] }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                guard try Self.waitFor(fd: fd, events: Int16(POLLIN), deadline: deadline, endpoint: endpoint, operation: "read") else {
                    throw NetError.timeout(endpoint: endpoint, operation: "read")
                }
                continue
            }
            if errno == EINTR { continue }
            if errno == ECONNRESET { throw NetError.closedByPeer(endpoint: endpoint) }
            throw NetError.io(endpoint: endpoint, operation: "read", message: errnoMessage())
        }
    }

    func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }
}

func errnoMessage() -> String {
    String(cString: strerror(errno))
}
