import RecurrentCore

/// A value in the computation graph: a tensor, the operation that made it, and (for leaves that
/// require gradients, such as parameters) the gradient accumulated by `backward()`.
///
/// The graph is built as operations run (define-by-run, like PyTorch) and is freed when the last
/// variable that refers to it goes away. Each operation records one `Node` holding its inputs and
/// a backward closure that maps output gradients to input gradients.
public final class Variable {
    /// The current value. Optimizers update parameters by assigning to it.
    public var value: Tensor
    /// The accumulated gradient of a leaf; `nil` until a backward pass reaches it.
    public var grad: Tensor?
    /// Whether gradients flow to (leaf) or through (non-leaf) this variable.
    ///
    /// A leaf's flag may be changed: setting it to false freezes a parameter (the tape records no
    /// gradient for it, so optimizers and gradient clipping skip it) and clears its gradient; setting it
    /// back to true unfreezes it. Only leaves can be frozen: a non-leaf's flag says whether it carries
    /// history, which `detached()` removes.
    public var requiresGrad: Bool {
        didSet {
            precondition(node == nil || requiresGrad, "Variable.requiresGrad: only a leaf can be frozen; use detached()")
            if !requiresGrad { grad = nil }
        }
    }
    /// The operation that produced this variable; `nil` for leaves.
    let node: Node?
    /// Which output of `node` this is.
    let outputIndex: Int

    /// A leaf variable. Set `requiresGrad` for parameters and for inputs whose gradient you want.
    public init(_ value: Tensor, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.node = nil
        self.outputIndex = 0
    }

    init(value: Tensor, node: Node, outputIndex: Int) {
        self.value = value
        self.requiresGrad = true
        self.node = node
        self.outputIndex = outputIndex
    }

    /// The shape of the value.
    public var shape: [Int] { value.shape }
    /// Whether this variable was created by the user rather than by an operation.
    public var isLeaf: Bool { node == nil }
    /// A new leaf with the same value and no history (like `tensor.detach()`).
    public func detached() -> Variable { Variable(value) }

    /// Resets the accumulated gradient to `nil`.
    public func zeroGrad() { grad = nil }

    /// Back-propagates from this variable, accumulating `∂self/∂leaf` (times `seed`) into every
    /// leaf's `grad`. Without a seed the variable must hold one element and the seed is 1.
    public func backward(seed: Tensor? = nil) {
        let seed = seed ?? {
            precondition(value.count == 1, "Variable.backward: a seed is needed for a non-scalar of shape \(value.shape)")
            return Tensor(repeating: 1, shape: value.shape)
        }()
        precondition(seed.shape == value.shape, "Variable.backward: seed shape \(seed.shape) differs from \(value.shape)")
        guard requiresGrad else { return }
        guard let root = node else {
            accumulate(seed)
            return
        }
        root.accumulate(seed, into: outputIndex)
        for node in Node.reverseTopologicalOrder(from: root) {
            let outputGrads = node.takeOutputGradients()
            let inputGrads = node.backward(outputGrads)
            precondition(inputGrads.count == node.inputs.count,
                         "\(node.name): backward returned \(inputGrads.count) gradients for \(node.inputs.count) inputs")
            for (input, grad) in zip(node.inputs, inputGrads) {
                guard input.requiresGrad, let grad else { continue }
                precondition(grad.shape == input.value.shape,
                             "\(node.name): gradient shape \(grad.shape) differs from input shape \(input.value.shape)")
                if let creator = input.node {
                    creator.accumulate(grad, into: input.outputIndex)
                } else {
                    input.accumulate(grad)
                }
            }
        }
    }

    func accumulate(_ g: Tensor) {
        if grad == nil { grad = g } else { grad!.add(g) }
    }
}

/// A parameter is a leaf variable that requires gradients.
public typealias Parameter = Variable

extension Variable {
    /// A new parameter (a leaf that requires gradients) holding `value`.
    public static func parameter(_ value: Tensor) -> Variable { Variable(value, requiresGrad: true) }
}

/// One recorded operation: its inputs, its output shapes and its backward closure.
final class Node {
    let name: String
    let inputs: [Variable]
    let outputShapes: [[Int]]
    /// Maps the gradients of every output (zeros where an output was unused) to the gradients of
    /// every input (`nil` where an input needs none).
    let backward: ([Tensor]) -> [Tensor?]
    private var outputGradients: [Tensor?]

    init(name: String, inputs: [Variable], outputShapes: [[Int]], backward: @escaping ([Tensor]) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.outputShapes = outputShapes
        self.backward = backward
        self.outputGradients = Array(repeating: nil, count: outputShapes.count)
    }

    func accumulate(_ g: Tensor, into index: Int) {
        if outputGradients[index] == nil { outputGradients[index] = g } else { outputGradients[index]!.add(g) }
    }

    /// The accumulated output gradients (zeros for outputs that received none); clears them.
    func takeOutputGradients() -> [Tensor] {
        defer { outputGradients = Array(repeating: nil, count: outputShapes.count) }
        return zip(outputGradients, outputShapes).map { $0 ?? Tensor(zeros: $1) }
    }

    /// The nodes reachable from `root`, each after every node that consumes its outputs.
    static func reverseTopologicalOrder(from root: Node) -> [Node] {
        var order: [Node] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative post-order depth-first search (graphs of long sequences are deep).
        var stack: [(node: Node, nextInput: Int)] = [(root, 0)]
        visited.insert(ObjectIdentifier(root))
        while !stack.isEmpty {
            let (node, next) = stack[stack.count - 1]
            if next < node.inputs.count {
                stack[stack.count - 1].nextInput += 1
                if let child = node.inputs[next].node, visited.insert(ObjectIdentifier(child)).inserted {
                    stack.append((child, 0))
                }
            } else {
                order.append(node)
                stack.removeLast()
            }
        }
        return order.reversed()
    }
}

/// Whether operations record themselves for backward. Turn off for inference (like `torch.no_grad()`).
public enum GradientMode {
    @TaskLocal public static var isEnabled = true

    /// Runs `body` without recording operations.
    public static func withoutGradients<T>(_ body: () throws -> T) rethrows -> T {
        try $isEnabled.withValue(false) { try body() }
    }
}

/// The single entry point through which every differentiable operation records itself.
public enum Tape {
    /// Records an operation with several outputs. If gradients are disabled or no input requires
    /// them, the outputs are plain leaves and `backward` is dropped.
    ///
    /// - Parameters:
    ///   - name: shown in error messages.
    ///   - inputs: the variables the outputs depend on.
    ///   - outputs: the computed values.
    ///   - backward: maps the gradient of each output (zeros where unused) to the gradient of each
    ///     input, in order; return `nil` for inputs that need no gradient.
    public static func record(
        _ name: String, inputs: [Variable], outputs: [Tensor],
        backward: @escaping ([Tensor]) -> [Tensor?]
    ) -> [Variable] {
        guard GradientMode.isEnabled, inputs.contains(where: \.requiresGrad) else {
            return outputs.map { Variable($0) }
        }
        let node = Node(name: name, inputs: inputs, outputShapes: outputs.map(\.shape), backward: backward)
        return outputs.enumerated().map { Variable(value: $0.element, node: node, outputIndex: $0.offset) }
    }

    /// Records an operation with one output.
    public static func record(
        _ name: String, inputs: [Variable], output: Tensor,
        backward: @escaping (Tensor) -> [Tensor?]
    ) -> Variable {
        record(name, inputs: inputs, outputs: [output]) { grads in backward(grads[0]) }[0]
    }

    /// Whether an operation on `inputs` would be recorded (use to skip saving what backward needs).
    public static func isRecording(_ inputs: [Variable]) -> Bool {
        GradientMode.isEnabled && inputs.contains(where: \.requiresGrad)
    }
}
