import Testing
@testable import VerkShared

@Suite struct JSONTests {
    @Test func roundTripKeepsKeyOrderNumbersAndUnicodeByteForByte() throws {
        let text = #"{"retry":true,"queue":"default","class":"A::B","args":[1,"a",{"x":[]},1.50,12345678901234567890,null,false],"jid":"0f3a9c2e71d84b56a1e0c4d9","created_at":1763884800.1234567,"bid":"b-1","tags":["é","日本"],"path":"a/b"}"#
        let value = try JSONParser.parse(text)
        #expect(JSONWriter.string(value) == text)
    }

    @Test func escapesAreDecodedAndReencodedMinimally() throws {
        let value = try JSONParser.parse(#"["a\"b\\c\/d\n\u00e9\ud83d\ude00\u0001"]"#)
        #expect(value == .array([.string("a\"b\\c/d\né😀\u{01}")]))
        #expect(JSONWriter.string(value) == #"["a\"b\\c/d\né😀\u0001"]"#)
    }

    @Test func numbersKeepTheirLiteralAndKind() throws {
        let value = try JSONParser.parse("[1763884800123, 1763884800.5, -0.0, 1e3]")
        let numbers = value.arrayValue!.map { $0.numberValue! }
        #expect(numbers.map(\.isInteger) == [true, false, false, false])
        #expect(numbers[0].intValue == 1_763_884_800_123)
        #expect(JSONNumber(1_700_000_000.0).literal == "1700000000.0", "whole doubles keep a '.' (Sidekiq 8 reads ints as ms)")
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"abc", "01", "1.", "[1] x", "\"\u{01}\"", "\"\\ud800\"", "{1:2}"])
    func invalidInputIsRejectedWithAnOffset(_ text: String) {
        #expect(throws: JSONError.self) { try JSONParser.parse(text) }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: JSONError.self) { try JSONParser.parse(deep) }
    }

    @Test func invalidUTF8IsRejected() {
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]) }
    }

    @Test func objectEqualityIgnoresKeyOrder() throws {
        #expect(try JSONParser.parse(#"{"a":1,"b":[2]}"#) == JSONParser.parse(#"{"b":[2],"a":1}"#))
        #expect(try JSONParser.parse(#"{"a":1}"#) != JSONParser.parse(#"{"a":1.0}"#), "int and float differ in meaning")
    }

    @Test func codableBridgeDecodesTypedValues() throws {
        struct Email: Codable, Equatable { let to: String; let count: Int }
        let value = try JSONCoding.value(of: Email(to: "a@b", count: 2))
        #expect(try JSONCoding.decode(Email.self, from: value) == Email(to: "a@b", count: 2))
    }
}
