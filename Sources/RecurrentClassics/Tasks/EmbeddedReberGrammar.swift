import RecurrentCore

/// The Reber grammar and the embedded Reber grammar (Reber 1967; Fahlman 1991; Hochreiter &
/// Schmidhuber 1997, experiment 1): a next-symbol prediction benchmark whose hard part is
/// remembering the second symbol until the end of the string.
///
/// Symbols, by index: B T P S X V E (`symbols`). The Reber grammar is the automaton
///
///     0 ─B→ 1;  1 ─T→ 2, 1 ─P→ 3;  2 ─S→ 2, 2 ─X→ 4;  3 ─T→ 3, 3 ─V→ 5;
///     4 ─X→ 3, 4 ─S→ 6;  5 ─P→ 4, 5 ─V→ 6;  6 ─E→ end
///
/// and an embedded Reber string is `B T <Reber string> T E` or `B P <Reber string> P E`. Where a
/// state has two transitions each is taken with probability 1/2.
///
/// The task: after each prefix of a string, predict the set of symbols that may come next
/// (`legalNextSymbols`). A step is correct when the symbols whose output exceeds a threshold are
/// exactly that set; the only step that needs long memory is the one after the inner string's E,
/// where the legal set is {T} or {P} depending on the second symbol.
public enum EmbeddedReberGrammar {
    /// The alphabet, in index order.
    public static let symbols: [Character] = ["B", "T", "P", "S", "X", "V", "E"]
    public static let symbolCount = 7
    static let B = 0, T = 1, P = 2, S = 3, X = 4, V = 5, E = 6

    /// The Reber automaton: for each node, its (symbol, next node) transitions; node 7 is the end.
    static let reberTransitions: [[(symbol: Int, next: Int)]] = [
        [(B, 1)], [(T, 2), (P, 3)], [(S, 2), (X, 4)], [(T, 3), (V, 5)],
        [(X, 3), (S, 6)], [(P, 4), (V, 6)], [(E, 7)], [],
    ]

    /// Where a reader of an embedded string is.
    enum Position: Equatable {
        case start                      // expects B
        case branch                     // expects T or P
        case inner(node: Int, branch: Int)
        case closing(branch: Int)       // inner string done; expects the branch symbol again
        case last                       // expects E
        case done
    }

    /// The transitions out of a position: (symbol, next position).
    static func transitions(_ position: Position) -> [(symbol: Int, next: Position)] {
        switch position {
        case .start: return [(B, .branch)]
        case .branch: return [(T, .inner(node: 0, branch: T)), (P, .inner(node: 0, branch: P))]
        case .inner(let node, let branch):
            return reberTransitions[node].map { t in (t.symbol, t.next == 7 ? .closing(branch: branch) : .inner(node: t.next, branch: branch)) }
        case .closing(let branch): return [(branch, .last)]
        case .last: return [(E, .done)]
        case .done: return []
        }
    }

    /// A random Reber string (symbol indices), from B to E.
    public static func reberString(using rng: inout RandomGenerator) -> [Int] {
        var node = 0, string: [Int] = []
        while node != 7 {
            let options = reberTransitions[node]
            let pick = options[options.count == 1 ? 0 : rng.nextInt(below: options.count)]
            string.append(pick.symbol)
            node = pick.next
        }
        return string
    }

    /// A random embedded Reber string (symbol indices).
    public static func embeddedString(using rng: inout RandomGenerator) -> [Int] {
        var position = Position.start, string: [Int] = []
        while position != .done {
            let options = transitions(position)
            let pick = options[options.count == 1 ? 0 : rng.nextInt(below: options.count)]
            string.append(pick.symbol)
            position = pick.next
        }
        return string
    }

    /// For every proper prefix `string[0...i]` (i = 0 ..< count−1), the symbols that may follow it
    /// in the embedded grammar, as 7 flags in symbol order.
    /// - Precondition: `string` is an embedded Reber string (see `isEmbeddedReberString`).
    public static func legalNextSymbols(_ string: [Int]) -> [[Bool]] {
        var position = Position.start, sets: [[Bool]] = []
        for (i, symbol) in string.enumerated() {
            guard let next = transitions(position).first(where: { $0.symbol == symbol })?.next else {
                preconditionFailure("EmbeddedReberGrammar.legalNextSymbols: symbol \(symbol) at \(i) is not legal")
            }
            position = next
            if i < string.count - 1 {
                var flags = [Bool](repeating: false, count: symbolCount)
                for t in transitions(position) { flags[t.symbol] = true }
                sets.append(flags)
            }
        }
        return sets
    }

    /// Whether `string` is a complete embedded Reber string.
    public static func isEmbeddedReberString(_ string: [Int]) -> Bool {
        var position = Position.start
        for symbol in string {
            guard let next = transitions(position).first(where: { $0.symbol == symbol })?.next else { return false }
            position = next
        }
        return position == .done
    }

    /// Whether `string` is a complete (plain) Reber string.
    public static func isReberString(_ string: [Int]) -> Bool {
        var node = 0
        for symbol in string {
            guard let next = reberTransitions[node].first(where: { $0.symbol == symbol })?.next else { return false }
            node = next
        }
        return node == 7
    }

    /// Symbols as text, e.g. "BTBTXSETE".
    public static func text(_ string: [Int]) -> String { String(string.map { symbols[$0] }) }

    /// A padded, time-major batch of `batchSize` fresh embedded strings for next-symbol prediction.
    ///
    /// Shapes, with L the longest string minus one: `inputs` `(L, batchSize, 7)` one-hot symbols
    /// 0 ..< count−1 of each string (zeros after its end); `targets` `(L, batchSize, 7)` the legal
    /// next-symbol flags as 0/1; `mask` `(L, batchSize, 7)` 1 where the step belongs to the string.
    public static func batch(size batchSize: Int, using rng: inout RandomGenerator)
        -> (inputs: Tensor, targets: Tensor, mask: Tensor, steps: Int) {
        precondition(batchSize > 0, "EmbeddedReberGrammar.batch: batchSize must be positive, got \(batchSize)")
        let strings = (0..<batchSize).map { _ in embeddedString(using: &rng) }
        let length = strings.map { $0.count - 1 }.max()!
        let k = symbolCount
        var inputs = Tensor(zeros: [length, batchSize, k])
        var targets = Tensor(zeros: [length, batchSize, k])
        var mask = Tensor(zeros: [length, batchSize, k])
        var steps = 0
        for (b, string) in strings.enumerated() {
            let legal = legalNextSymbols(string)
            for t in 0..<(string.count - 1) {
                let base = (t * batchSize + b) * k
                inputs.scalars[base + string[t]] = 1
                for s in 0..<k {
                    targets.scalars[base + s] = legal[t][s] ? 1 : 0
                    mask.scalars[base + s] = 1
                }
                steps += 1
            }
        }
        return (inputs, targets, mask, steps)
    }
}
