import GatewayCore
import GatewayHTTP
import Testing

@Suite("RouteTable")
struct RouteTableTests {
    typealias Route = (pattern: String, methods: MethodSet?, value: String)

    // MARK: Specificity

    static let specificityRoutes: [Route] = [
        ("/", nil, "root"),
        ("/**", nil, "root**"),
        ("/a/b/c", nil, "abc"),
        ("/a/{x}/b", nil, "axb"),
        ("/a/b/{y}", nil, "aby"),
        ("/a/*/c", nil, "a*c"),
        ("/a/**", nil, "a**"),
        ("/{p}/b", nil, "pb"),
        ("/users/{id}", nil, "user"),
        ("/users/me", nil, "me"),
        ("/users/{id}/posts/{post}", nil, "post"),
        ("/files/**", nil, "files"),
        ("/files/{name}", nil, "file"),
        ("/x/*", nil, "x*"),
        ("/deep/{a}/{b}/{c}/end", nil, "deep"),
        ("/deep/**", nil, "deep**"),
        ("/b", nil, "b"),
        ("/b/**", nil, "b**"),
    ]

    /// Path → the answer (`value name=capture…`, `404`, or `405 <Allow>`).
    static let specificityCases: [(String, String)] = [
        ("/", "root"),
        ("/a/b/c", "abc"),
        ("/a/b/b", "aby y=b"),  // leftmost difference: literal `b` beats `{x}` at position 2
        ("/a/c/b", "axb x=c"),
        ("/a/c/c", "a*c"),
        ("/a/b/d", "aby y=d"),
        ("/a/c/d", "a**"),  // `{x}` and `*` dead-end, backtrack to `**`
        ("/a/b", "a**"),  // literal `a` beats `{p}` at position 1, even though `**` follows
        ("/a", "a**"),  // `**` matches zero segments
        ("/a/", "a**"),  // an empty trailing segment is matched only by `**`
        ("/a/b/c/d", "a**"),
        ("/z/b", "pb p=z"),
        ("/z/c", "root**"),
        ("/users/me", "me"),
        ("/users/42", "user id=42"),
        ("/users/", "root**"),
        ("/users/42/", "root**"),
        ("/users/42/posts/7", "post id=42 post=7"),
        ("/users/me/posts/7", "post id=me post=7"),  // literal `me` dead-ends, backtrack to `{id}`
        ("/files", "files"),
        ("/files/", "files"),
        ("/files/x", "file name=x"),
        ("/files/x/y", "files"),
        ("/x/y", "x*"),
        ("/x/", "root**"),
        ("/x", "root**"),
        ("/A/b/c", "root**"),  // case-sensitive
        ("/USERS/me", "root**"),
        ("/deep/1/2/3/end", "deep a=1 b=2 c=3"),
        ("/deep/1/2/3/other", "deep**"),
        ("/deep/1/2/end", "deep**"),
        ("/b", "b"),  // ending exactly here beats `**` matching zero segments
        ("/b/", "b**"),
        ("/b/c", "b**"),
    ]

    @Test("most specific pattern wins, leftmost segment first", arguments: specificityCases)
    func specificity(_ path: String, _ expected: String) throws {
        let table = try Self.table(Self.specificityRoutes)
        #expect(Self.answer(table, path) == expected)
    }

    @Test("no route matches: not found")
    func notFound() throws {
        let table = try Self.table([("/a", nil, "a"), ("/b/{x}", nil, "b")])
        #expect(Self.answer(table, "/") == "404")
        #expect(Self.answer(table, "/c") == "404")
        #expect(Self.answer(table, "/a/b") == "404")
        #expect(Self.answer(table, "/b") == "404")
        #expect(Self.answer(table, "/b/") == "404")
        #expect(Self.answer(table, "") == "404")
        #expect(Self.answer(table, "a") == "404")
        #expect(Self.answer(try Self.table([]), "/") == "404")
    }

    @Test("`/**` matches the root and `/` matches only the root")
    func rootPatterns() throws {
        #expect(Self.answer(try Self.table([("/**", nil, "all")]), "/") == "all")
        #expect(Self.answer(try Self.table([("/**", nil, "all")]), "/a/b/") == "all")
        let root = try Self.table([("/", nil, "root")])
        #expect(Self.answer(root, "/") == "root")
        #expect(Self.answer(root, "/a") == "404")
    }

    // MARK: Methods

    static let methodRoutes: [Route] = [
        ("/items", [.get, .head], "list"),
        ("/items", [.post], "create"),
        ("/items", nil, "items-any"),
        ("/items/{id}", [.get, .head, .delete], "item"),
        ("/items/{id}", [.put], "replace"),
        ("/only/{x}", [.get], "only"),
        ("/only/**", nil, "only**"),
        ("/u/{id}", [.get], "by-id"),
        ("/u/{name}", [.post], "by-name"),
        ("/u/*", [.put], "anonymous"),
    ]

    static let methodCases: [(String, HTTPMethod, String)] = [
        ("/items", .get, "list"),
        ("/items", .head, "list"),
        ("/items", .post, "create"),
        ("/items", .put, "items-any"),  // the entry without methods takes the rest
        ("/items", .other, "items-any"),
        ("/items/1", .get, "item id=1"),
        ("/items/1", .delete, "item id=1"),
        ("/items/1", .put, "replace id=1"),
        ("/items/1", .post, "405 GET, HEAD, PUT, DELETE"),  // union of the entries' methods
        ("/items/1", .other, "405 GET, HEAD, PUT, DELETE"),
        // The most specific pattern decides even when a less specific one accepts the method.
        ("/only/a", .get, "only x=a"),
        ("/only/a", .post, "405 GET"),
        ("/only/a/b", .post, "only**"),
        ("/only", .post, "only**"),
        // Same shape, different names: the winning entry names the captures.
        ("/u/7", .get, "by-id id=7"),
        ("/u/7", .post, "by-name name=7"),
        ("/u/7", .put, "anonymous"),
        ("/u/7", .delete, "405 GET, POST, PUT"),
    ]

    @Test("methods select among entries of the most specific pattern", arguments: methodCases)
    func methods(_ path: String, _ method: HTTPMethod, _ expected: String) throws {
        let table = try Self.table(Self.methodRoutes)
        #expect(Self.answer(table, path, method) == expected)
    }

    @Test("HEAD is not implied by the table (the config layer adds it)")
    func headNotImplied() throws {
        let table = try Self.table([("/a", [.get], "a")])
        #expect(Self.answer(table, "/a", .head) == "405 GET")
    }

    @Test("parameters are cleared on every lookup, including 404 and 405")
    func parametersCleared() throws {
        let table = try Self.table([("/a/{x}", [.get], "a")])
        var parameters = [RouteParameter(name: "stale", start: 0, count: 1)]
        let path = Array("/a/b".utf8)
        _ = path.withUnsafeBytes { table.lookup(path: $0, method: .get, parameters: &parameters) }
        #expect(parameters == [RouteParameter(name: "x", start: 3, count: 1)])
        let post = path.withUnsafeBytes { table.lookup(path: $0, method: .post, parameters: &parameters) }
        #expect(post == .methodNotAllowed(allow: [.get]))
        #expect(parameters.isEmpty)
        parameters = [RouteParameter(name: "stale", start: 0, count: 1)]
        let missing = Array("/b/c".utf8).withUnsafeBytes { table.lookup(path: $0, method: .get, parameters: &parameters) }
        #expect(missing == .notFound)
        #expect(parameters.isEmpty)
    }

    @Test("captures are ranges of the given path buffer")
    func parameterRanges() throws {
        let table = try Self.table([("/users/{id}/posts/{post}/*", nil, "p")])
        let path = Array("/users/42/posts/abc/x".utf8)
        var parameters: [RouteParameter] = []
        let result = path.withUnsafeBytes { table.lookup(path: $0, method: .get, parameters: &parameters) }
        #expect(result == .matched("p"))
        #expect(
            parameters == [
                RouteParameter(name: "id", start: 7, count: 2),
                RouteParameter(name: "post", start: 16, count: 3),
            ])
    }

    @Test("normalized paths and canonical literals meet")
    func normalizedLookup() throws {
        let table = try Self.table([("/users/me", nil, "me"), ("/%7eadmin/{x}", nil, "admin")])
        #expect(try Self.normalizedAnswer(table, "/users/%6De") == "me")
        #expect(try Self.normalizedAnswer(table, "//users/./x/../me") == "me")
        #expect(try Self.normalizedAnswer(table, "/~admin/a%3ab") == "admin x=a%3Ab")
    }

    // MARK: Conflicts

    static let conflicts: [([Route], RouteConflict)] = [
        ([("/a", nil, "1"), ("/a", nil, "2")], RouteConflict(first: 0, second: 1)),
        ([("/a/{x}", nil, "1"), ("/a/*", nil, "2")], RouteConflict(first: 0, second: 1)),
        ([("/a/{x}", [.get], "1"), ("/a/{y}", [.get, .post], "2")], RouteConflict(first: 0, second: 1)),
        ([("/a/**", nil, "1"), ("/a/**", nil, "2")], RouteConflict(first: 0, second: 1)),
        ([("/", nil, "1"), ("/", nil, "2")], RouteConflict(first: 0, second: 1)),
        ([("/~a", nil, "1"), ("/%7Ea", nil, "2")], RouteConflict(first: 0, second: 1)),
        (
            [("/b", nil, "1"), ("/a", [.get], "2"), ("/c", nil, "3"), ("/a", [.post], "4"), ("/a", [.get], "5")],
            RouteConflict(first: 1, second: 4)
        ),
        (
            [("/a", nil, "1"), ("/a", [.get], "2"), ("/a", nil, "3")],
            RouteConflict(first: 0, second: 2)
        ),
    ]

    @Test("equal shape with overlapping methods is a load error", arguments: conflicts)
    func conflict(_ routes: [Route], _ expected: RouteConflict) {
        #expect(throws: expected) { _ = try Self.table(routes) }
    }

    static let nonConflicts: [[Route]] = [
        [("/a", [.get], "1"), ("/a", [.post], "2")],
        [("/a", nil, "1"), ("/a", [.get], "2")],  // methods beat the same pattern without
        [("/a", [.get], "1"), ("/a", nil, "2"), ("/a", [.post, .put], "3")],
        [("/a/{x}", nil, "1"), ("/a/b", nil, "2")],
        [("/a", nil, "1"), ("/a/**", nil, "2")],
        [("/a/*", nil, "1"), ("/a/**", nil, "2")],
        [("/a/{x}/b", nil, "1"), ("/a/b/{y}", nil, "2")],
        [("/a", nil, "1"), ("/A", nil, "2")],
        [("/", nil, "1"), ("/**", nil, "2")],
    ]

    @Test("different shapes, or disjoint methods, do not conflict", arguments: nonConflicts)
    func noConflict(_ routes: [Route]) throws {
        _ = try Self.table(routes)
    }

    // MARK: Order independence

    @Test("entry order does not change any answer", arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func orderIndependence(_ seed: UInt64) throws {
        let routes = Self.specificityRoutes + Self.methodRoutes
        let reference = try Self.table(routes)
        var generator = SplitMix64(seed: seed)
        let shuffled = try Self.table(routes.shuffled(using: &generator))
        let paths = Self.specificityCases.map(\.0) + Self.methodCases.map(\.0) + ["/", "/nothing", "/items/"]
        for path in paths {
            for method in HTTPMethod.allCases {
                #expect(Self.answer(shuffled, path, method) == Self.answer(reference, path, method))
            }
        }
    }

    // MARK: Scale

    @Test("a 10,000-route table builds quickly and every route is found")
    func largeTable() throws {
        var routes: [Route] = []
        for index in 0..<2_500 {
            routes.append(("/svc\(index)/items/{id}", [.get, .head], "get\(index)"))
            routes.append(("/svc\(index)/items/{id}", [.delete], "delete\(index)"))
            routes.append(("/svc\(index)/static/file\(index).txt", nil, "file\(index)"))
            routes.append(("/svc\(index)/**", nil, "rest\(index)"))
        }
        let clock = ContinuousClock()
        var table: RouteTable<String>?
        let elapsed = try clock.measure { table = try Self.table(routes) }
        #expect(elapsed < .seconds(10), "building 10,000 routes took \(elapsed)")
        let built = try #require(table)
        for index in stride(from: 0, to: 2_500, by: 7) {
            #expect(Self.answer(built, "/svc\(index)/items/\(index)") == "get\(index) id=\(index)")
            #expect(Self.answer(built, "/svc\(index)/items/x", .delete) == "delete\(index) id=x")
            #expect(Self.answer(built, "/svc\(index)/items/x", .post) == "405 GET, HEAD, DELETE")
            #expect(Self.answer(built, "/svc\(index)/static/file\(index).txt") == "file\(index)")
            #expect(Self.answer(built, "/svc\(index)/static/file\(index + 1).txt") == "rest\(index)")
        }
        #expect(Self.answer(built, "/svc2500/items/1") == "404")

        // One node with 10,000 literal children.
        let wide = try Self.table((0..<10_000).map { ("/k\($0)", nil, "v\($0)") })
        for index in 0..<10_000 {
            #expect(Self.answer(wide, "/k\(index)") == "v\(index)")
        }
        #expect(Self.answer(wide, "/k10000") == "404")
    }

    // MARK: Helpers

    static func table(_ routes: [Route]) throws(RouteConflict) -> RouteTable<String> {
        var entries: [RouteEntry<String>] = []
        for route in routes {
            // Test patterns are valid; a typo fails loudly here.
            guard let pattern = try? RoutePattern(route.pattern) else { preconditionFailure(route.pattern) }
            entries.append(RouteEntry(pattern: pattern, methods: route.methods, value: route.value))
        }
        return try RouteTable(entries)
    }

    static func answer(_ table: RouteTable<String>, _ path: String, _ method: HTTPMethod = .get) -> String {
        var parameters: [RouteParameter] = []
        let bytes = Array(path.utf8)
        let result = bytes.withUnsafeBytes { table.lookup(path: $0, method: method, parameters: &parameters) }
        switch result {
        case .matched(let value):
            let captures = parameters.map { "\($0.name)=\(String(decoding: bytes[$0.start..<($0.start + $0.count)], as: UTF8.self))" }
            return ([value] + captures).joined(separator: " ")
        case .notFound:
            #expect(parameters.isEmpty)
            return "404"
        case .methodNotAllowed(let allow):
            #expect(parameters.isEmpty)
            return "405 \(allow.allowHeaderValue)"
        }
    }

    static func normalizedAnswer(_ table: RouteTable<String>, _ raw: String) throws -> String {
        var output: [UInt8] = []
        try PathNormalizerTests.normalize(Array(raw.utf8), into: &output).get()
        return answer(table, String(decoding: output, as: UTF8.self))
    }
}

/// A seeded generator, so shuffles are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Single-method sets, so tables read `[.get, .head]`.
extension MethodSet {
    static let get = MethodSet(HTTPMethod.get)
    static let head = MethodSet(HTTPMethod.head)
    static let post = MethodSet(HTTPMethod.post)
    static let put = MethodSet(HTTPMethod.put)
    static let delete = MethodSet(HTTPMethod.delete)
}
