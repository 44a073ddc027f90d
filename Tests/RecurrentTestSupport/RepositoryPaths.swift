import Foundation

/// Files inside the repository that the tests read, found from this file's path (no SwiftPM
/// resources): the committed PyTorch fixtures, the example series and the README.
public enum RepositoryPaths {
    /// The repository root (this file is `Tests/RecurrentTestSupport/RepositoryPaths.swift`).
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/Fixtures/pytorch`: the PyTorch parity fixtures made by
    /// `scripts/reference/pytorch_fixtures.py` (format in that folder's README.md).
    public static var pytorchFixtures: URL { root.appendingPathComponent("Tests/Fixtures/pytorch") }

    /// `data`: the example series (airline passengers, monthly sunspots) with their provenance.
    public static var data: URL { root.appendingPathComponent("data") }
}
