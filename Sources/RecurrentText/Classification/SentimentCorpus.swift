import RecurrentCore

/// A generated sentiment corpus in which word order decides the label: short movie-review
/// sentences labelled `positive` or `negative`. Generated, not real reviews: no download is needed,
/// and the rules below are the whole truth about the labels.
///
/// A clause is `<aspect> <verb> [intensifier] <adjective>` ("the acting was very clever") or, negated,
/// `<aspect> <negated verb> [intensifier] <adjective>` ("the plot did not feel fresh"); its polarity
/// is the adjective's, flipped by a negation. A sentence is one of
/// - a plain clause (35 %, no negation);
/// - a negated clause (20 %): "the plot was not good" is negative, "the plot was never boring" positive;
/// - two clauses of the same polarity joined by "and" (15 %);
/// - a contrast (30 %): "A but B" or "although A, B" with A and B of opposite polarity, labelled as B.
/// Every clause of a joined sentence is negated with probability 0.25, and a quarter of the
/// sentences open with a filler ("honestly,", "overall,", "i think", "to be fair,", "in the end,").
///
/// Why a bag of words fails: the label of a negated clause is the XOR of "the adjective is positive"
/// and "a negation is present", which no linear function of word presence represents; and "A but B"
/// and "B but A" contain the same words with opposite labels. A recurrent model that reads the words
/// in order can learn both rules.
public enum SentimentCorpus {
    public static let labels = ["negative", "positive"]

    static let aspects = ["the plot", "the acting", "the music", "the ending", "the dialogue", "the cast", "the story",
                          "the pacing", "the film", "the script", "the camera work", "the soundtrack"]
    static let verbs = ["was", "is", "felt", "seemed"]
    static let positive = ["good", "great", "brilliant", "moving", "funny", "gripping", "charming", "clever", "superb", "fresh"]
    static let negative = ["bad", "boring", "dull", "awful", "weak", "clumsy", "tedious", "predictable", "bland", "messy"]
    static let negatedVerbs = ["was not", "is not", "was never", "never seemed", "did not feel", "hardly seemed", "was hardly"]
    static let intensifiers = ["very", "really", "truly", "quite", "rather"]
    static let openers = ["honestly ,", "overall ,", "i think", "to be fair ,", "in the end ,"]

    /// `count` labelled sentences from `seed` (the same seed always gives the same corpus; a larger
    /// count extends a smaller one).
    public static func examples(count: Int, seed: UInt64) -> [LabelledExample] {
        var rng = RandomGenerator(seed: seed)
        return (0..<count).map { _ in
            let (text, positive) = sentence(using: &rng)
            return LabelledExample(text: text, label: positive ? "positive" : "negative", path: "sentiment", line: nil)
        }
    }

    /// The corpus as a CSV table with the header `text,label` (texts with a comma are quoted).
    public static func csv(count: Int, seed: UInt64) -> String {
        var lines = ["text,label"]
        for example in examples(count: count, seed: seed) {
            let text = example.text.contains(",") || example.text.contains("\"")
                ? "\"" + example.text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : example.text
            lines.append(text + "," + example.label)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One sentence and whether it is positive.
    static func sentence(using rng: inout RandomGenerator) -> (String, Bool) {
        func pick(_ words: [String]) -> String { words[rng.nextInt(below: words.count)] }
        func chance(_ p: Float) -> Bool { rng.nextUniform() < p }
        /// A clause of the given polarity; `negate` forces (true) or forbids (false) a negation.
        func clause(_ polarity: Bool, negate: Bool) -> String {
            let adjective = pick(polarity != negate ? positive : negative)
            var words = [pick(aspects), pick(negate ? negatedVerbs : verbs)]
            if chance(0.35) { words.append(pick(intensifiers)) }
            words.append(adjective)
            return words.joined(separator: " ")
        }
        let label = chance(0.5)
        let kind = rng.nextUniform()
        var text: String
        if kind < 0.35 {
            text = clause(label, negate: false)
        } else if kind < 0.55 {
            text = clause(label, negate: true)
        } else if kind < 0.7 {
            text = clause(label, negate: chance(0.25)) + " and " + clause(label, negate: chance(0.25))
        } else {
            let first = clause(!label, negate: chance(0.25)), second = clause(label, negate: chance(0.25))
            text = chance(0.5) ? first + " but " + second : "although " + first + " , " + second
        }
        if chance(0.25) { text = pick(openers) + " " + text }
        // Written as prose: no space before a comma.
        return (text.replacingOccurrences(of: " ,", with: ","), label)
    }
}
