/// Scores of a classifier on labelled examples, from the confusion matrix.
///
/// `confusion[actual][predicted]` counts the examples of class `actual` predicted as `predicted`.
/// For class c: precision = TP / (TP + FP) (the column), recall = TP / (TP + FN) (the row),
/// F1 = 2 P R / (P + R). A ratio whose denominator is 0 (a class never predicted, or absent) is 0,
/// as scikit-learn's `zero_division=0`. Macro-F1 is the unweighted mean of the per-class F1 over
/// all classes.
public struct ClassificationMetrics: Equatable, Sendable, Codable {
    public let labels: [String]
    public let confusion: [[Int]]

    /// The metrics of `predictions` against `targets` (class indices into `labels`).
    public init(labels: [String], predictions: [Int], targets: [Int]) {
        precondition(predictions.count == targets.count, "ClassificationMetrics: \(predictions.count) predictions for \(targets.count) targets")
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: labels.count), count: labels.count)
        for (p, t) in zip(predictions, targets) { confusion[t][p] += 1 }
        self.init(labels: labels, confusion: confusion)
    }

    /// The metrics of a confusion matrix (`confusion[actual][predicted]`, square, one row per label).
    public init(labels: [String], confusion: [[Int]]) {
        precondition(confusion.count == labels.count && confusion.allSatisfy { $0.count == labels.count },
                     "ClassificationMetrics: the confusion matrix must be \(labels.count) × \(labels.count)")
        self.labels = labels
        self.confusion = confusion
    }

    public var count: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }
    public var correct: Int { labels.indices.reduce(0) { $0 + confusion[$1][$1] } }

    /// The fraction of examples classified correctly (0 without examples).
    public var accuracy: Double { count == 0 ? 0 : Double(correct) / Double(count) }

    /// Examples of class c (the row sum).
    public func support(_ c: Int) -> Int { confusion[c].reduce(0, +) }

    public func precision(_ c: Int) -> Double {
        let predicted = confusion.reduce(0) { $0 + $1[c] }
        return predicted == 0 ? 0 : Double(confusion[c][c]) / Double(predicted)
    }

    public func recall(_ c: Int) -> Double {
        let actual = support(c)
        return actual == 0 ? 0 : Double(confusion[c][c]) / Double(actual)
    }

    public func f1(_ c: Int) -> Double {
        let p = precision(c), r = recall(c)
        return p + r == 0 ? 0 : 2 * p * r / (p + r)
    }

    public var macroF1: Double { labels.isEmpty ? 0 : labels.indices.reduce(0) { $0 + f1($1) } / Double(labels.count) }

    /// A plain-text report: accuracy and macro-F1, per-class precision, recall, F1 and support, and
    /// the confusion matrix (rows: actual, columns: predicted).
    public func report(indent: String = "") -> [String] {
        let width = max(9, labels.map(\.count).max() ?? 0) + 2
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        func fixed(_ x: Double) -> String { String(format: "%.4f", x) }
        var lines = ["accuracy \(fixed(accuracy)) (\(correct) of \(count)), macro-F1 \(fixed(macroF1))"]
        lines.append(pad("class", width) + "precision  recall     F1         support")
        for c in labels.indices {
            lines.append(pad(labels[c], width) + pad(fixed(precision(c)), 11) + pad(fixed(recall(c)), 11)
                         + pad(fixed(f1(c)), 11) + "\(support(c))")
        }
        lines.append("confusion matrix (rows: actual, columns: predicted)")
        let cell = max(7, labels.map(\.count).max() ?? 0) + 1
        lines.append(pad("", width) + labels.map { pad($0, cell) }.joined())
        for c in labels.indices {
            lines.append(pad(labels[c], width) + confusion[c].map { pad("\($0)", cell) }.joined())
        }
        return lines.map { indent + $0 }
    }

    /// The metrics as a JSON-ready dictionary.
    public var jsonObject: [String: Any] {
        [
            "accuracy": accuracy, "macroF1": macroF1, "count": count, "labels": labels, "confusion": confusion,
            "perClass": labels.indices.map { c -> [String: Any] in
                ["label": labels[c], "precision": precision(c), "recall": recall(c), "f1": f1(c), "support": support(c)]
            },
        ]
    }
}
