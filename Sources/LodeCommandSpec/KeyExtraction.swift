/// Where a command's keys are, found from its key specifications exactly as
/// Redis 7.0's `getKeysUsingKeySpecs` finds them. The one place that does this:
/// WATCH, client-side tracking, ACL key patterns, COMMAND GETKEYS and (later)
/// cluster slots all ask here.
public struct KeyPosition: Sendable, Equatable {
    /// Index into the arguments (0 is the command name).
    public let index: Int
    /// How the command uses the key (the flags of the spec that found it).
    public let flags: KeySpecFlags

    public init(index: Int, flags: KeySpecFlags) {
        self.index = index
        self.flags = flags
    }
}

extension CommandDescription {
    /// Whether the command has key arguments at all: a spec that is not `not_key`
    /// (Redis's doesCommandHaveKeys; COMMAND GETKEYS asks first).
    public var hasKeys: Bool { keySpecs.contains { !$0.flags.contains(.notKey) } }

    /// The key positions in a call with `count` arguments (the name included);
    /// `argument(i)` gives the bytes of argument `i`. Nil when a spec cannot be
    /// applied (a keyword's keys run past the end, a key count that is not a
    /// number): the call is malformed and the command will reply with its error.
    /// Specs flagged `not_key` (channels, not keys) are skipped unless asked for.
    public func keyPositions(count: Int, includeNotKeys: Bool = false,
                             argument: (Int) -> [UInt8]) -> [KeyPosition]? {
        var found: [KeyPosition] = []
        for spec in keySpecs {
            if spec.flags.contains(.notKey) && !includeNotKeys { continue }
            let first: Int
            switch spec.beginSearch {
            case .index(let position):
                first = position
            case .keyword(let keyword, let startFrom):
                guard let at = Self.find(keyword, startFrom: startFrom, count: count, argument: argument) else { continue }
                first = at + 1
            case .unknown:
                // An incomplete spec: Redis falls back to the command's getkeys_proc.
                return getKeysProc(count: count, argument: argument)
            }
            guard let (start, last, step) = Self.range(spec.findKeys, first: first, count: count, argument: argument)
            else { return nil }
            // A key count of 0 (EVAL script 0) names no keys: not malformed.
            if case .keynum = spec.findKeys, last == start - 1 { continue }
            guard start < count, last < count, last >= start, step > 0 else { return nil }
            for i in stride(from: start, through: last, by: step) {
                found.append(KeyPosition(index: i, flags: spec.flags))
            }
        }
        return found
    }

    /// The getkeys_proc of a command whose key specs are incomplete (db.c), for the
    /// commands Lode has: SORT's STORE may be anywhere (sortGetKeys, whose scan skips
    /// LIMIT/GET/BY arguments and takes the last STORE); SORT_RO has just its key.
    private func getKeysProc(count: Int, argument: (Int) -> [UInt8]) -> [KeyPosition]? {
        switch name {
        case "sort_ro":
            return [KeyPosition(index: 1, flags: [.ro, .access])]
        case "sort":
            var keys = [KeyPosition(index: 1, flags: [.ro, .access])]
            var store: KeyPosition? = nil
            let skips: [(String, Int)] = [("limit", 2), ("get", 1), ("by", 1)]
            var i = 2
            while i < count {
                let arg = String(decoding: argument(i).map(Self.lower), as: UTF8.self)
                // As the C loop: "store" is tested against each entry of the skip list.
                for (option, skip) in skips {
                    if arg == option {
                        i += skip
                        break
                    } else if arg == "store" && i + 1 < count {
                        store = KeyPosition(index: i + 1, flags: [.ow, .update])
                        break
                    }
                }
                i += 1
            }
            if let store { keys.append(store) }
            return keys
        default:
            return nil
        }
    }

    /// The index of `keyword` (case-insensitive) searched from `startFrom`
    /// (negative: counted from the end, searching backwards), never the name.
    private static func find(_ keyword: String, startFrom: Int, count: Int, argument: (Int) -> [UInt8]) -> Int? {
        let wanted = Array(keyword.utf8).map(lower)
        let forward = startFrom > 0
        var i = forward ? startFrom : count + startFrom
        while i >= 1 && i < count {
            let arg = argument(i)
            if arg.count == wanted.count && zip(arg, wanted).allSatisfy({ lower($0) == $1 }) { return i }
            i += forward ? 1 : -1
        }
        return nil
    }

    private static func range(_ find: KeySpec.FindKeys, first: Int, count: Int,
                              argument: (Int) -> [UInt8]) -> (Int, Int, Int)? {
        switch find {
        case .range(let lastKey, let step, let limit):
            if lastKey >= 0 { return (first, first + lastKey, step) }
            if limit == 0 { return (first, count + lastKey, step) }
            // Only 1/limit of what follows are keys (lastKey is -1 here, as in Redis).
            return (first, first + ((count - first) / limit + lastKey), step)
        case .keynum(let keyNumIndex, let firstKey, let step):
            let at = first + keyNumIndex
            guard at < count, let n = parseCount(argument(at)), n >= 0 else { return nil }
            let start = first + firstKey
            return (start, start + n - 1, step)
        case .unknown:
            return nil
        }
    }

    private static func lower(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b | 0x20 : b }

    /// Redis's string2ll for the key count: optional '-', digits, no leading zeros.
    private static func parseCount(_ bytes: [UInt8]) -> Int? {
        let digits = bytes.first == UInt8(ascii: "-") ? bytes.dropFirst() : bytes[...]
        guard !digits.isEmpty, digits.count <= 19, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              digits.first != 48 || digits.count == 1 else { return nil }
        return Int(String(decoding: bytes, as: UTF8.self))
    }
}
