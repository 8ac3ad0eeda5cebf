import CompressNIO
import NIOCore

/// Decompresses a gzip or deflate request body into at most `limit` bytes: a body that would
/// grow past it (a zip bomb) is refused as too large before the bytes are held.
enum BoundedInflater {
    static func inflate(_ body: ByteBuffer, coding: ContentCoding, limit: Int) throws -> ByteBuffer {
        let decompressor: ZlibDecompressor
        do {
            decompressor = try ZlibDecompressor(algorithm: coding.algorithm, windowSize: 15)
        } catch {
            throw GatewayError.badGateway("The gateway could not start decompressing the request body.")
        }
        var input = body
        var output = ByteBufferAllocator().buffer(capacity: min(limit + 1, max(4096, body.readableBytes * 4)))
        while true {
            do {
                try decompressor.inflate(from: &input, to: &output)
                guard output.readableBytes <= limit else { throw GatewayError.payloadTooLarge(limit: limit) }
                return output
            } catch let error as CompressNIOError where error == .bufferOverflow {
                guard output.readableBytes < limit else { throw GatewayError.payloadTooLarge(limit: limit) }
                output.reserveCapacity(
                    minimumWritableBytes: min(limit + 1 - output.readableBytes, max(4096, output.readableBytes)))
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                throw GatewayError.badRequest("The request body's \(coding.rawValue) stream is cut short.")
            } catch let error as GatewayError {
                throw error
            } catch {
                throw GatewayError.badRequest("The request body is not valid \(coding.rawValue) data.")
            }
        }
    }
}
