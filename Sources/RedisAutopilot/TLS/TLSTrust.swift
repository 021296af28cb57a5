/// Which certificate authorities a TLS client trusts.
enum TLSTrust: Sendable, Equatable {
    /// OpenSSL's default store: the system's CA bundle, or the file and
    /// directory named by `SSL_CERT_FILE` and `SSL_CERT_DIR` when set.
    case system
    /// Only the PEM certificates in this file (a private CA, a test CA).
    case caFile(String)
}
