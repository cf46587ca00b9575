/// Redis's wire format for commands (RESP arrays of bulk strings), written straight into one buffer: a
/// pipeline is encoded once and handed to hiredis as a single block, instead of hiredis formatting each
/// command from an argv (which cost a third of the supervisor's CPU on short jobs).
package enum RESPEncoder {
    /// Appends `*N\r\n` and `$len\r\narg\r\n` for each argument.
    package static func append(_ arguments: [[UInt8]], to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "*"))
        appendDecimal(arguments.count, to: &buffer)
        for argument in arguments {
            buffer.append(UInt8(ascii: "$"))
            appendDecimal(argument.count, to: &buffer)
            buffer.append(contentsOf: argument)
            buffer.append(13)
            buffer.append(10)
        }
    }

    /// The encoded size of a command, for reserving capacity.
    package static func size(of arguments: [[UInt8]]) -> Int {
        arguments.reduce(16) { $0 + $1.count + 16 }
    }

    /// `n` in decimal, then CRLF.
    private static func appendDecimal(_ n: Int, to buffer: inout [UInt8]) {
        if n < 10 {
            buffer.append(UInt8(48 + n))
        } else {
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                         UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var count = 0
            var value = n
            withUnsafeMutableBytes(of: &digits) { raw in
                while value > 0 {
                    raw[count] = UInt8(48 + value % 10)
                    value /= 10
                    count += 1
                }
                for i in stride(from: count - 1, through: 0, by: -1) { buffer.append(raw[i]) }
            }
        }
        buffer.append(13)
        buffer.append(10)
    }
}
