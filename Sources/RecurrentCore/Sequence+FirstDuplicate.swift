extension Sequence where Element: Hashable {
    /// The first element that appeared before (the second occurrence decides), or nil when all are
    /// distinct: the rule for header lines, where a column named twice is an error.
    public var firstDuplicate: Element? {
        var seen = Set<Element>()
        return first { !seen.insert($0).inserted }
    }
}
