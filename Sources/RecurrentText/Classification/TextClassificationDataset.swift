import RecurrentCore

/// Labelled texts encoded for a `TextClassifier`: token ids and class indices, with the vocabulary
/// and the label names they refer to.
public struct TextClassificationDataset: Sendable {
    /// One encoded text.
    public struct Example: Equatable, Sendable {
        /// Token ids (at least one).
        public var ids: [Int]
        /// The class index into `labels`.
        public var label: Int
    }

    public let vocabulary: ClassificationVocabulary
    /// The class names, sorted, index = class id.
    public let labels: [String]
    public let examples: [Example]
    /// The texts as read (for the bag-of-words baseline and messages).
    public let texts: [String]

    public var count: Int { examples.count }

    /// The training set of `examples`: labels sorted by name, a vocabulary of the `maxVocabularySize`
    /// most frequent tokens of these texts, each text cut to its first `maxLength` tokens
    /// (`TextClassifier.defaultMaxLength` by default).
    /// - Throws: `ClassificationDataError.singleClass` when all examples share one label,
    ///   `.empty` when there are none; `ConfigurationError` for a `maxLength` outside
    ///   1...`TextClassifier.maximumMaxLength`.
    public init(training examples: [LabelledExample], level: ClassificationVocabulary.Level, maxVocabularySize: Int,
                maxLength: Int = TextClassifier.defaultMaxLength, path: String) throws {
        guard let first = examples.first else { throw ClassificationDataError.empty(path: path) }
        let labels = Set(examples.map(\.label)).sorted()
        guard labels.count >= 2 else { throw ClassificationDataError.singleClass(path: path, label: first.label) }
        try ConfigurationError.require(maxVocabularySize >= 3, "maxVocabularySize", "must be at least 3 (<pad>, <unk> and one token), got \(maxVocabularySize)")
        try ConfigurationError.requireSize(maxLength, "maxLength", maximum: TextClassifier.maximumMaxLength)
        let vocabulary = ClassificationVocabulary(level: level, texts: examples.map(\.text), maxSize: maxVocabularySize,
                                                  maxLength: maxLength)
        try self.init(examples, vocabulary: vocabulary, labels: labels, maxLength: maxLength)
    }

    /// `examples` encoded with an existing vocabulary and label set (evaluation, a test file), each cut
    /// to its first `maxLength` tokens.
    /// - Throws: `ClassificationDataError.unknownLabel` naming the file and line of a label not in `labels`.
    public init(_ examples: [LabelledExample], vocabulary: ClassificationVocabulary, labels: [String],
                maxLength: Int = TextClassifier.defaultMaxLength) throws {
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        var encoded: [Example] = []
        encoded.reserveCapacity(examples.count)
        for example in examples {
            guard let label = index[example.label] else {
                throw ClassificationDataError.unknownLabel(path: example.path, line: example.line, label: example.label, known: labels)
            }
            let ids = vocabulary.encode(example.text, maxLength: maxLength)
            guard !ids.isEmpty else { throw ClassificationDataError.emptyText(path: example.path, line: example.line) }
            encoded.append(Example(ids: ids, label: label))
        }
        self.vocabulary = vocabulary
        self.labels = labels
        self.examples = encoded
        self.texts = examples.map(\.text)
    }

    private init(vocabulary: ClassificationVocabulary, labels: [String], examples: [Example], texts: [String]) {
        self.vocabulary = vocabulary
        self.labels = labels
        self.examples = examples
        self.texts = texts
    }

    /// The examples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> TextClassificationDataset {
        TextClassificationDataset(vocabulary: vocabulary, labels: labels, examples: indices.map { examples[$0] },
                                  texts: indices.map { texts[$0] })
    }

    /// A stratified split: from each class, a shuffled `validationFraction` of its examples (rounded,
    /// at least one when the fraction is positive and the class has two or more) goes to validation,
    /// the rest to training; both keep the original order.
    /// - Throws: `ClassificationDataError.splitTooSmall` when either part would be empty.
    public func split(validationFraction: Double, seed: UInt64) throws -> (training: TextClassificationDataset, validation: TextClassificationDataset) {
        try ConfigurationError.require(validationFraction >= 0 && validationFraction < 1, "validationFraction",
                                       "must be in [0, 1), got \(validationFraction)")
        var rng = RandomGenerator(seed: seed)
        var isValidation = [Bool](repeating: false, count: count)
        for c in labels.indices {
            var members = examples.indices.filter { examples[$0].label == c }
            for i in stride(from: members.count - 1, to: 0, by: -1) { members.swapAt(i, rng.nextInt(below: i + 1)) }
            var take = Int((validationFraction * Double(members.count)).rounded())
            if validationFraction > 0, members.count >= 2 { take = max(take, 1) }
            take = min(take, members.count - 1)
            for i in members.prefix(max(take, 0)) { isValidation[i] = true }
        }
        let validation = examples.indices.filter { isValidation[$0] }
        let training = examples.indices.filter { !isValidation[$0] }
        if validationFraction > 0, validation.isEmpty || training.isEmpty {
            throw ClassificationDataError.splitTooSmall(count: count, validation: validation.count,
                                                        reason: "use more examples or another --val-fraction")
        }
        return (subset(training), subset(validation))
    }

    /// The padded batch of the examples at `indices`.
    public func batch(_ indices: [Int]) -> ClassificationBatch {
        ClassificationBatch(sequences: indices.map { examples[$0].ids }, labels: indices.map { examples[$0].label })
    }

    /// How many examples each class has.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: labels.count)
        for example in examples { counts[example.label] += 1 }
        return counts
    }
}
