/// The most bytes gzip can make of `n`, for stores that reserve room for an
/// upload of unknown length before it starts (Manta's Max-Content-Length).
///
/// Incompressible input costs deflate a 5-byte header per stored block of at
/// most 64 KiB (under 0.01%), and a compressor that works in blocks adds a
/// flush marker or a gzip member header per block. A sixty-fourth of the
/// input plus 64 KiB covers all of it with room to spare while keeping the
/// reservation close to the real size.
enum GzipSizeBound {
    static func maximum(forInput n: Int) -> Int {
        n + n / 64 + 64 * 1024
    }
}
