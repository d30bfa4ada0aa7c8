import NIOCore

/// Splits a byte stream into lines without their CRLF or LF, for the SMTP dialogue; a line longer
/// than 4 KiB is an error (no SMTP reply line is: RFC 5321 says 512 bytes).
struct LineDecoder: ByteToMessageDecoder {
    typealias InboundOut = String
    static let maximumLength = 4096

    struct LineTooLong: Error, CustomStringConvertible {
        var description: String { "a reply line longer than \(LineDecoder.maximumLength) bytes" }
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > Self.maximumLength { throw LineTooLong() }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        var line = buffer.readString(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        if line.hasSuffix("\r") { line.removeLast() }
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
