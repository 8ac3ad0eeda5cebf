import CompressNIO
import NIOCore

/// One response body's zlib stream: each part in, compressed bytes out, then the end.
///
/// A stream holds about 2^(window+2) + 128 KiB of zlib state; the window shrinks to fit a body
/// of known length, as nginx does, so small bodies cost little.
package final class StreamingCompressor {
    private let compressor: ZlibCompressor

    package init(coding: ContentCoding, level: Int, expectedLength: Int?) throws {
        var windowBits: Int32 = 15
        if let expectedLength {
            while windowBits > 9, (1 << (windowBits - 1)) >= expectedLength { windowBits -= 1 }
        }
        let configuration = ZlibConfiguration(windowSize: windowBits, compressionLevel: Int32(level), memoryLevel: 8)
        self.compressor = try ZlibCompressor(algorithm: coding.algorithm, configuration: configuration)
    }

    /// Compresses `part`; the output may be empty while zlib gathers input.
    package func compress(_ part: ByteBuffer) throws -> ByteBuffer {
        var input = part
        var output = ByteBufferAllocator().buffer(capacity: compressor.maxSize(from: input))
        while input.readableBytes > 0 {
            do {
                try compressor.deflate(from: &input, to: &output, flush: .no)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                output.reserveCapacity(minimumWritableBytes: compressor.maxSize(from: input))
            }
        }
        return output
    }

    /// Everything zlib still holds, and the stream's trailer.
    package func finish() throws -> ByteBuffer {
        var input = ByteBuffer()
        var output = ByteBufferAllocator().buffer(capacity: 1024)
        while true {
            do {
                try compressor.deflate(from: &input, to: &output, flush: .finish)
                return output
            } catch let error as CompressNIOError where error == .bufferOverflow {
                output.reserveCapacity(minimumWritableBytes: max(1024, output.readableBytes))
            }
        }
    }
}
