import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

enum S3XMLError: Error, Equatable, CustomStringConvertible {
    /// Not well-formed XML; `detail` is the parser's position and code.
    case malformed(detail: String)
    /// Well-formed, but not the answer expected: a missing or bad element.
    case unexpected(String)

    var description: String {
        switch self {
        case let .malformed(detail): return "malformed XML: \(detail)"
        case let .unexpected(reason): return "unexpected XML: \(reason)"
        }
    }
}

/// An element of an S3 answer, with namespaces dropped: S3's documents are
/// small, flat records, so a tree with text is all that is needed.
struct S3XMLElement: Equatable {
    var name: String
    var text: String
    var children: [S3XMLElement]

    func child(_ name: String) -> S3XMLElement? {
        children.first { $0.name == name }
    }

    func children(_ name: String) -> [S3XMLElement] {
        children.filter { $0.name == name }
    }

    /// The text of a direct child, nil when there is no such child.
    func text(of name: String) -> String? {
        child(name)?.text
    }

    func requiredText(of name: String) throws -> String {
        guard let text = text(of: name) else {
            throw S3XMLError.unexpected("<\(self.name)> has no <\(name)>")
        }
        return text
    }

    /// Parses a whole document into its root element. Anything but one
    /// well-formed root (empty input, unclosed or mismatched tags, unknown
    /// entities, trailing content) throws.
    static func parse(_ bytes: [UInt8]) throws -> S3XMLElement {
        let builder = S3XMLTreeBuilder()
        // S3 may send whitespace ahead of a slow CompleteMultipartUpload's
        // answer to keep the connection open; libxml2 rejects it before the
        // XML declaration.
        let start = bytes.firstIndex { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } ?? bytes.endIndex
        // S3 answers in UTF-8. Foundation's XMLParser traps on an element or
        // attribute name that is not valid UTF-8 (found by fuzzing), so such
        // a body never reaches it.
        guard String(validating: bytes[start...], as: UTF8.self) != nil else {
            throw S3XMLError.malformed(detail: "not UTF-8")
        }
        try refuseDeclarations(bytes[start...])
        let parser = XMLParser(data: Data(bytes[start...]))
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        let finished = parser.parse()
        if builder.tooDeep {
            throw S3XMLError.malformed(detail: "elements nested deeper than \(S3XMLTreeBuilder.maxDepth)")
        }
        // XMLParser may report success with an error set (a mismatched end
        // tag) or with no root at all (empty input): check every signal.
        if !finished || parser.parserError != nil {
            let code = (parser.parserError as NSError?)?.code ?? -1
            throw S3XMLError.malformed(detail: "line \(parser.lineNumber), column \(parser.columnNumber), code \(code)")
        }
        guard let root = builder.root, builder.stack.isEmpty else {
            throw S3XMLError.malformed(detail: "no complete root element")
        }
        return root
    }

    /// S3 sends elements, text and entity references after an XML
    /// declaration, nothing else. Foundation's XMLParser dereferences NULL on
    /// a processing instruction without data (`<?x?>`, found by fuzzing), and
    /// a document type brings entity and notation declarations it handles no
    /// better: those are refused before it sees them. Comments and CDATA pass.
    private static func refuseDeclarations(_ document: ArraySlice<UInt8>) throws {
        var body = document
        // The declaration is `<?xml`, a blank, attributes and `?>` with no
        // other `<` or `>`: `<?xmlfoo?>` is a processing instruction, and a
        // "declaration" running past a `<` would hide one.
        let opening = Array("<?xml".utf8)
        if body.count > opening.count, body.starts(with: opening),
           [0x20, 0x09, 0x0D, 0x0A].contains(body[body.startIndex + opening.count]),
           let close = body.firstIndex(of: UInt8(ascii: ">")), body[close - 1] == UInt8(ascii: "?"),
           !body[(body.startIndex + 1)..<close].contains(UInt8(ascii: "<")) {
            body = body[(close + 1)...]
        }
        var index = body.startIndex
        while let open = body[index...].firstIndex(of: UInt8(ascii: "<")) {
            let rest = body[(open + 1)...]
            if rest.first == UInt8(ascii: "?") {
                throw S3XMLError.malformed(detail: "a processing instruction")
            }
            index = open + 1
            // What a CDATA section or comment holds is text, whatever it looks like.
            for (start, end) in [("![CDATA[", "]]>"), ("!--", "-->")] where rest.starts(with: Array(start.utf8)) {
                index = endOfSection(rest, closedBy: Array(end.utf8)) ?? body.endIndex
            }
            if index == open + 1, rest.first == UInt8(ascii: "!") {
                throw S3XMLError.malformed(detail: "a document type or markup declaration")
            }
        }
    }

    private static func endOfSection(_ text: ArraySlice<UInt8>, closedBy end: [UInt8]) -> Int? {
        var index = text.startIndex
        while index + end.count <= text.endIndex {
            if text[index..<(index + end.count)].elementsEqual(end) { return index + end.count }
            index += 1
        }
        return nil
    }
}

private final class S3XMLTreeBuilder: NSObject, XMLParserDelegate {
    /// S3's answers nest four levels at most. A deep tree is freed
    /// recursively, one stack frame per level: 100,000 levels (700 KB of
    /// XML) overflowed the stack.
    static let maxDepth = 32

    var stack: [S3XMLElement] = []
    var root: S3XMLElement?
    private(set) var tooDeep = false
    private var rootCount = 0

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        guard stack.count < Self.maxDepth else {
            tooDeep = true
            parser.abortParsing()
            return
        }
        if stack.isEmpty {
            rootCount += 1
            if rootCount > 1 { parser.abortParsing() }
        }
        stack.append(S3XMLElement(name: elementName, text: "", children: []))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        guard let element = stack.popLast(), element.name == elementName else {
            parser.abortParsing()
            return
        }
        if stack.isEmpty {
            root = element
        } else {
            stack[stack.count - 1].children.append(element)
        }
    }
}

/// Escapes text for an element's content (ETags carry quotes). Scalar by
/// scalar: a `<` followed by a combining mark is one Character that is not
/// "<", and went through raw (found by fuzzing).
func s3XMLEscape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}
