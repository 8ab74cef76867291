package import GatewayHTTP

/// One route as the table sees it: a pattern, the methods it accepts (nil: all) and a value.
package struct RouteEntry<Value: Sendable>: Sendable {
    package var pattern: RoutePattern
    package var methods: MethodSet?
    package var value: Value
    package init(pattern: RoutePattern, methods: MethodSet?, value: Value) {
        self.pattern = pattern
        self.methods = methods
        self.value = value
    }
}

/// Two entries of equal specificity whose methods overlap (indices into the entries given).
package struct RouteConflict: Error, Sendable, Equatable {
    package var first: Int
    package var second: Int
    package init(first: Int, second: Int) {
        self.first = first
        self.second = second
    }
}

/// A captured `{name}` parameter: a range of the normalized path.
package struct RouteParameter: Sendable, Equatable {
    package var name: String
    package var start: Int
    package var count: Int
    package init(name: String, start: Int, count: Int) {
        self.name = name
        self.start = start
        self.count = count
    }
}

/// The answer of a lookup.
package enum RouteLookup<Value: Sendable> {
    case matched(Value)
    case notFound
    case methodNotAllowed(allow: MethodSet)
}

/// Compiled route table: most specific match wins, cost independent of the number of routes.
package final class RouteTable<Value: Sendable>: Sendable {
    /// - Throws: the first conflict found (equal specificity, overlapping methods).
    package init(_ entries: [RouteEntry<Value>]) throws(RouteConflict) {
        fatalError("unimplemented")
    }

    /// Looks up a normalized path. `parameters` is cleared and filled with the captures.
    package func lookup(path: UnsafeRawBufferPointer, method: HTTPMethod, parameters: inout [RouteParameter]) -> RouteLookup<Value> {
        fatalError("unimplemented")
    }
}
