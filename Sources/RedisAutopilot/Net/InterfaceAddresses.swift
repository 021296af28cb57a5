import Glibc

/// The machine's own addresses, for announcing this node when
/// REDIS_ANNOUNCE_IP is not set. Mirrors ContainerPilot's `inet` interface
/// rule: the first IPv4 address that is not loopback, interfaces in name order.
enum InterfaceAddresses {
    static func firstNonLoopbackIPv4() -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(first) }

        var found: [(interface: String, address: String)] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            cursor = entry.pointee.ifa_next
            guard let socketAddress = entry.pointee.ifa_addr, socketAddress.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            let converted = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { ipv4 -> Bool in
                var raw = ipv4.pointee.sin_addr
                return inet_ntop(AF_INET, &raw, &text, socklen_t(INET_ADDRSTRLEN)) != nil
            }
            guard converted else { continue }
            let address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if address.hasPrefix("127.") { continue }
            found.append((interface: String(cString: entry.pointee.ifa_name), address: address))
        }
        return found.sorted { ($0.interface, $0.address) < ($1.interface, $1.address) }.first?.address
    }
}
