/// Sidekiq's job id: 12 random bytes as 24 lowercase hex characters.
public enum JobID {
    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        var out = [UInt8]()
        out.reserveCapacity(24)
        let hex = Array("0123456789abcdef".utf8)
        for _ in 0..<12 {
            let b = UInt8.random(in: 0...255, using: &rng)
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
