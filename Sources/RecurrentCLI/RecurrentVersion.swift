/// The version printed by `recurrent --version`.
enum RecurrentVersion {
    static let current = "0.1.0"
}
