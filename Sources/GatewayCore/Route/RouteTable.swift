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
    /// The most specific route matching the path accepts the method.
    case matched(Value)
    /// No route matches the path (404 `route_not_found`).
    case notFound
    /// The most specific matching pattern has no entry for the method (405 with `Allow`).
    case methodNotAllowed(allow: MethodSet)
}

extension RouteLookup: Sendable {}
extension RouteLookup: Equatable where Value: Equatable {}

/// Compiled route table: most specific match wins, cost independent of the number of routes.
///
/// Built once at config load (SPEC §4) and then shared read-only by every loop, hence an
/// immutable `final class` (`Sendable`, any thread).
///
/// Semantics:
/// - The most specific *pattern* matching the path wins, compared segment by segment from the
///   left: a literal beats `{name}`/`*` (equal to each other), which beat `**`; a pattern that
///   ends exactly at the end of the path beats a `**` matching zero segments there.
/// - Among the entries of that one pattern shape, the entry whose `methods` contains the method
///   wins, else the entry without `methods`; when neither exists the answer is 405 with the union
///   of the shape's methods. A less specific pattern is never consulted for the method.
/// - Entries of the same shape (`{a}` and `*` count as equal) conflict when both lack `methods`
///   or when their method sets intersect; an entry with `methods` and one without do not.
///
/// Matching is a depth-first walk of a segment trie in priority order (literal child, then the
/// single-segment variable child, then `**`), backtracking when a branch dead-ends, so the first
/// complete match is the most specific one. Each trie node is entered at most once per lookup
/// (it sits at a fixed depth behind a fixed prefix), literal children are found through a
/// per-node open-addressing hash table, and the cost therefore depends on the path and on how
/// many patterns share its prefixes, not on the size of the table. A lookup does not allocate:
/// captures go into the caller's reused `parameters` array.
package final class RouteTable<Value: Sendable>: Sendable {
    private let trie: RouteTrie
    private let values: [Value]

    /// Compiles the entries into a trie; entry order does not affect any answer.
    ///
    /// - Throws: the first conflict found (equal specificity, overlapping methods), scanning
    ///   entries in order; `first` is the earlier index.
    package init(_ entries: [RouteEntry<Value>]) throws(RouteConflict) {
        trie = try RouteTrie(entries.map { ($0.pattern, $0.methods) })
        values = entries.map(\.value)
    }

    /// Looks up a normalized path. `parameters` is cleared and filled with the captures.
    ///
    /// - Parameter path: the output of `PathNormalizer`; anything not starting with `/` is not found.
    /// - Parameter parameters: reused by the caller; on `.matched` it holds one element per
    ///   `{name}` of the winning pattern, left to right, as ranges of `path`; otherwise empty.
    package func lookup(
        path: UnsafeRawBufferPointer, method: HTTPMethod, parameters: inout [RouteParameter]
    ) -> RouteLookup<Value> {
        switch trie.lookup(path: path, method: method, parameters: &parameters) {
        case .matched(let entry): .matched(values[entry])
        case .notFound: .notFound
        case .methodNotAllowed(let allow): .methodNotAllowed(allow: allow)
        }
    }
}

/// The non-generic core of `RouteTable`, so matching is compiled once, fully specialized.
///
/// Storage is flat arrays indexed by `Int32`; see `RouteTable` for the semantics.
final class RouteTrie: Sendable {
    /// A trie node: one position of the patterns sharing a prefix shape.
    struct Node: Sendable {
        /// First slot of this node's literal hash table in `slots`.
        var slotStart: Int32 = 0
        /// Table capacity - 1 (a power of two minus one), or -1 when there are no literal children.
        var slotMask: Int32 = -1
        /// Child for `{name}` / `*`, or -1.
        var variableChild: Int32 = -1
        /// Terminal of the patterns ending exactly here, or -1.
        var terminal: Int32 = -1
        /// Terminal of the pattern ending in `**` here, or -1.
        var catchAllTerminal: Int32 = -1
    }

    /// An open-addressing slot: a literal child keyed by its bytes in `keyBytes`.
    struct LiteralSlot: Sendable {
        var hash: UInt32 = 0
        var keyStart: Int32 = 0
        var keyCount: Int32 = 0
        /// The child node, or -1 for an empty slot.
        var child: Int32 = -1
    }

    enum Match {
        case matched(Int)
        case notFound
        case methodNotAllowed(MethodSet)
    }

    private let nodes: [Node]
    private let slots: [LiteralSlot]
    private let keyBytes: [UInt8]
    /// `terminal * methodStride + method.rawValue` → entry index, or -1.
    private let terminalEntries: [Int32]
    /// Per terminal: the union of its entries' methods (the `Allow` of a 405).
    private let terminalAllow: [MethodSet]
    /// Per entry: where its names start in `parameterNames`.
    private let parameterNamesStart: [Int32]
    /// Per entry, per single-segment variable position: the `{name}`, or nil for `*`.
    private let parameterNames: [String?]

    init(_ entries: [(pattern: RoutePattern, methods: MethodSet?)]) throws(RouteConflict) {
        precondition(HTTPMethod.allCases.count <= methodStride, "MethodSet holds at most 16 methods")
        precondition(entries.count < Int(Int32.max), "too many routes")
        let trie = try TrieBuilder(entries)
        let methods = Self.methodTables(trie.terminals, entries)
        let flat = Self.flatten(trie.nodes)
        nodes = flat.nodes
        slots = flat.slots
        keyBytes = flat.keys
        terminalEntries = methods.entries
        terminalAllow = methods.allow
        parameterNamesStart = trie.namesStart
        parameterNames = trie.names
    }

    /// Per terminal: method → entry (specific sets first, then the nil-methods fallback), and
    /// the union of the methods listed (for `Allow`).
    private static func methodTables(
        _ terminals: [[Int]], _ entries: [(pattern: RoutePattern, methods: MethodSet?)]
    ) -> (entries: [Int32], allow: [MethodSet]) {
        var entriesByMethod = [Int32](repeating: -1, count: terminals.count * methodStride)
        var allow = [MethodSet](repeating: [], count: terminals.count)
        for (terminal, members) in terminals.enumerated() {
            var fallback: Int32 = -1
            for member in members {
                guard let methods = entries[member].methods else {
                    fallback = Int32(member)
                    continue
                }
                allow[terminal].formUnion(methods)
                for method in HTTPMethod.allCases where methods.contains(method) {
                    entriesByMethod[terminal * methodStride + Int(method.rawValue)] = Int32(member)
                }
            }
            if fallback >= 0 {
                for method in HTTPMethod.allCases where entriesByMethod[terminal * methodStride + Int(method.rawValue)] < 0 {
                    entriesByMethod[terminal * methodStride + Int(method.rawValue)] = fallback
                }
            }
        }
        return (entriesByMethod, allow)
    }

    /// The trie as flat arrays; literal children go into per-node open-addressing hash tables.
    private static func flatten(_ builderNodes: [BuilderNode]) -> (nodes: [Node], slots: [LiteralSlot], keys: [UInt8]) {
        var flatNodes: [Node] = []
        flatNodes.reserveCapacity(builderNodes.count)
        var flatSlots: [LiteralSlot] = []
        var flatKeys: [UInt8] = []
        for builder in builderNodes {
            var node = Node()
            node.variableChild = Int32(builder.variable)
            node.terminal = Int32(builder.terminal)
            node.catchAllTerminal = Int32(builder.catchAll)
            if !builder.literals.isEmpty {
                var capacity = 2
                while capacity < builder.literals.count * 2 { capacity <<= 1 }
                let start = flatSlots.count
                flatSlots.append(contentsOf: repeatElement(LiteralSlot(), count: capacity))
                for (key, child) in builder.literals {
                    let hash = key.withUnsafeBytes { Self.hash($0, from: 0, to: $0.count) }
                    var probe = Int(hash) & (capacity - 1)
                    while flatSlots[start + probe].child >= 0 { probe = (probe + 1) & (capacity - 1) }
                    flatSlots[start + probe] = LiteralSlot(
                        hash: hash, keyStart: Int32(flatKeys.count), keyCount: Int32(key.count), child: Int32(child))
                    flatKeys.append(contentsOf: key)
                }
                node.slotStart = Int32(start)
                node.slotMask = Int32(capacity - 1)
            }
            flatNodes.append(node)
        }
        precondition(flatSlots.count < Int(Int32.max) && flatKeys.count < Int(Int32.max), "route table too large")
        return (flatNodes, flatSlots, flatKeys)
    }

    /// Two entries of the same shape conflict when neither has methods or their methods intersect.
    fileprivate static func overlap(_ a: MethodSet?, _ b: MethodSet?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case (let a?, let b?): !a.isDisjoint(with: b)
        default: false  // methods beat the same pattern without
        }
    }

    func lookup(path: UnsafeRawBufferPointer, method: HTTPMethod, parameters: inout [RouteParameter]) -> Match {
        parameters.removeAll(keepingCapacity: true)
        guard path.count > 0, path[0] == slash else { return .notFound }
        // "/" has no segments; otherwise segments start after each '/', so "/a/" is ["a", ""].
        let first = path.count == 1 ? 2 : 1
        let terminal = match(node: 0, position: first, path: path, parameters: &parameters)
        guard terminal >= 0 else { return .notFound }
        let entry = Int(terminalEntries[terminal * methodStride + Int(method.rawValue)])
        guard entry >= 0 else {
            parameters.removeAll(keepingCapacity: true)
            return .methodNotAllowed(terminalAllow[terminal])
        }
        // `parameters` holds one capture per variable position; keep the named ones.
        let namesStart = Int(parameterNamesStart[entry])
        var kept = 0
        for index in parameters.indices {
            if let name = parameterNames[namesStart + index] {
                parameters[kept] = RouteParameter(
                    name: name, start: parameters[index].start, count: parameters[index].count)
                kept += 1
            }
        }
        parameters.removeLast(parameters.count - kept)
        return .matched(entry)
    }

    /// Depth-first search in priority order; returns the first (most specific) terminal, or -1.
    ///
    /// `position` is the start of the next segment; `position > path.count` means none is left.
    /// On failure `parameters` is as it was on entry.
    private func match(
        node nodeIndex: Int, position: Int, path: UnsafeRawBufferPointer, parameters: inout [RouteParameter]
    ) -> Int {
        let node = nodes[nodeIndex]
        let count = path.count
        if position > count {
            return node.terminal >= 0 ? Int(node.terminal) : Int(node.catchAllTerminal)
        }
        var end = position
        while end < count, path[end] != slash { end += 1 }
        if end > position {  // an empty segment (trailing '/') is matched only by `**`
            if node.slotMask >= 0, let child = literalChild(of: node, path: path, from: position, to: end) {
                let found = match(node: child, position: end + 1, path: path, parameters: &parameters)
                if found >= 0 { return found }
            }
            if node.variableChild >= 0 {
                // The name is filled in once the winning entry is known; "" does not allocate.
                parameters.append(RouteParameter(name: "", start: position, count: end - position))
                let found = match(node: Int(node.variableChild), position: end + 1, path: path, parameters: &parameters)
                if found >= 0 { return found }
                parameters.removeLast()
            }
        }
        return Int(node.catchAllTerminal)
    }

    @inline(__always)
    private func literalChild(of node: Node, path: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int? {
        let hash = Self.hash(path, from: start, to: end)
        let mask = Int(node.slotMask)
        let base = Int(node.slotStart)
        var probe = Int(hash) & mask
        while true {
            let slot = slots[base + probe]
            if slot.child < 0 { return nil }
            if slot.hash == hash, Int(slot.keyCount) == end - start {
                var offset = 0
                let keyStart = Int(slot.keyStart)
                while offset < end - start, keyBytes[keyStart + offset] == path[start + offset] { offset += 1 }
                if offset == end - start { return Int(slot.child) }
            }
            probe = (probe + 1) & mask
        }
    }

    /// FNV-1a over a byte range, truncated to 32 bits. Keys come from the config, so an
    /// attacker cannot plant collisions; a request can only probe the existing clusters.
    @inline(__always)
    private static func hash(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> UInt32 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for index in start..<end {
            hash = (hash ^ UInt64(bytes[index])) &* 0x0000_0100_0000_01B3
        }
        return UInt32(truncatingIfNeeded: hash ^ (hash >> 32))
    }
}

/// A trie node while the table is being built.
private struct BuilderNode {
    var literals: [[UInt8]: Int] = [:]
    var variable = -1
    var terminal = -1
    var catchAll = -1
}

/// The mutable trie the table is built from: one node per distinct path prefix, entries of
/// the same shape grouped at one terminal, conflicts between them detected as they arrive.
private struct TrieBuilder {
    var nodes = [BuilderNode()]
    /// Per terminal: the entries that end there.
    var terminals: [[Int]] = []
    /// Per single-segment variable position of each entry: the `{name}`, or nil for `*`.
    var names: [String?] = []
    /// Per entry: where its names start in `names`.
    var namesStart: [Int32] = []

    init(_ entries: [(pattern: RoutePattern, methods: MethodSet?)]) throws(RouteConflict) {
        namesStart.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            namesStart.append(Int32(names.count))
            let terminal = insert(entry.pattern)
            for other in terminals[terminal] where RouteTrie.overlap(entries[other].methods, entry.methods) {
                throw RouteConflict(first: other, second: index)
            }
            terminals[terminal].append(index)
        }
    }

    /// Walks (and extends) the trie along the pattern. - Returns: the pattern's terminal.
    private mutating func insert(_ pattern: RoutePattern) -> Int {
        var node = 0
        for segment in pattern.segments {
            switch segment {
            case .literal(let bytes):
                if let child = nodes[node].literals[bytes] {
                    node = child
                } else {
                    nodes[node].literals[bytes] = nodes.count
                    nodes.append(BuilderNode())
                    node = nodes.count - 1
                }
            case .parameter, .wildcard:
                if case .parameter(let name) = segment { names.append(name) } else { names.append(nil) }
                if nodes[node].variable < 0 {
                    nodes[node].variable = nodes.count
                    nodes.append(BuilderNode())
                }
                node = nodes[node].variable
            case .catchAll:
                if nodes[node].catchAll < 0 { nodes[node].catchAll = newTerminal() }
                return nodes[node].catchAll
            }
        }
        if nodes[node].terminal < 0 { nodes[node].terminal = newTerminal() }
        return nodes[node].terminal
    }

    private mutating func newTerminal() -> Int {
        terminals.append([])
        return terminals.count - 1
    }
}

/// Entries per terminal in `terminalEntries`: `MethodSet` is 16 bits wide.
private let methodStride = 16
private let slash: UInt8 = 0x2F
