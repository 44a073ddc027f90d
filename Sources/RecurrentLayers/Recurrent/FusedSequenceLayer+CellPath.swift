import RecurrentCore
import RecurrentAutodiff

// The cell path of the fused layers: the options that the fused kernels do not run (layer
// normalisation, zoneout, recurrent dropout while training) run the layer as
// `runSequence` over the standard cells, one per layer and direction, built over the layer's own
// parameters (the same `Parameter` objects, so the state dict, the optimiser and the gradients are
// the layer's). Shapes and semantics are those of the fused path: time-major or batch-first input,
// states `(L·D, B, Hout)`, padded batches with `lengths`, dropout between layers, the reverse
// direction reading each row from its own last element.

/// One direction of one layer on the cell path: time-major `input` `(T, B, I)`, initial `h0`, `c0`
/// `(B, ·)` or nil for zeros → output `(T, B, Hout)` (zero past each row's length) and final h, c.
typealias CellPathDirection = (_ input: Variable, _ h0: Variable?, _ c0: Variable?, _ lengths: [Int],
                               _ reversed: Bool, _ training: Bool) -> (output: Variable, h: Variable, c: Variable?)

/// `cell` wrapped in variational dropout (probability `recurrentDropout` on h) and zoneout (`zoneout`
/// on every state component), drawing their masks from `source`; either wrapper is the identity at
/// probability 0.
func cellPathDirection<Cell: RecurrentInputMaskable>(
    _ cell: Cell, recurrentDropout: Float, zoneout: Float, source: RandomSource,
    state: @escaping (_ h0: Variable?, _ c0: Variable?, _ batchSize: Int) -> Cell.State,
    components: @escaping (Cell.State) -> (h: Variable, c: Variable?)
) throws -> CellPathDirection where Cell.State: MaskableState & ComponentwiseState {
    let variational = try VariationalDropoutCell(cell, recurrentProbability: recurrentDropout)
    let zoned = try ZoneoutCell(variational, probability: zoneout)
    variational.source = source
    zoned.source = source
    return { input, h0, c0, lengths, reversed, training in
        zoned.isTraining = training
        let batchSize = input.shape[1]
        // Draws this sequence's recurrent mask (only while training with recurrentDropout > 0).
        let initial = variational.initialState(state(h0, c0, batchSize), batchSize: batchSize)
        let result = runSequence(zoned, over: input, lengths: lengths, initialState: initial, reversed: reversed)
        let final = components(result.state.inner)
        return (result.output, final.h, final.c)
    }
}

extension FusedSequenceLayer {
    /// The cell-path runners `[layer][direction]` over `parameters` (in `parameterShapes` order).
    static func cellPathDirections(_ c: RecurrentLayerConfiguration, names: [String], parameters: [Parameter],
                                   source: RandomSource) throws -> [[CellPathDirection]] {
        let byName = Dictionary(uniqueKeysWithValues: zip(names, parameters))
        return try (0..<c.numLayers).map { layer in
            try (0..<c.numDirections).map { direction -> CellPathDirection in
                let parameters = CellPathParameters(configuration: c, suffix: c.suffix(layer: layer, direction: direction),
                                                    byName: byName, source: source)
                return try c.cell.kernel.cellPathDirection(c, inputSize: c.layerInputSize(layer), parameters: parameters)
            }
        }
    }

    /// The whole stack on the cell path. `input` `(T, B, I)` or `(B, T, I)` when `batchFirst`;
    /// `h0` `(L·D, B, Hout)`, `c0` `(L·D, B, H)`; `lengths` one per row. Returns the concatenated
    /// output of the last layer in the input's layout and the final states `(L·D, B, ·)`.
    func runCellPath(_ input: Variable, batchFirst: Bool, h0: Variable?, c0: Variable?, lengths: [Int]?,
                     training: Bool) -> (output: Variable, h: Variable, c: Variable?) {
        let c = configuration, D = c.numDirections
        var layerInput = batchFirst ? input.permuted([1, 0, 2]) : input
        let T = layerInput.shape[0], B = layerInput.shape[1]
        let lengths = lengths ?? Array(repeating: T, count: B)
        var hs: [Variable] = [], cs: [Variable] = []
        func state(_ x: Variable?, _ index: Int) -> Variable? {
            x.map { $0.slice(index..<(index + 1), axis: 0).reshaped(Array($0.shape.dropFirst())) }
        }
        for layer in 0..<c.numLayers {
            var outputs: [Variable] = []
            for direction in 0..<D {
                let index = layer * D + direction
                let result = cellPath[layer][direction](layerInput, state(h0, index), state(c0, index), lengths,
                                                        direction == 1, training)
                outputs.append(result.output)
                hs.append(result.h)
                if let cN = result.c { cs.append(cN) }
            }
            layerInput = D == 1 ? outputs[0] : Variable.concatenated(outputs, axis: 2)
            if layer < c.numLayers - 1 {
                layerInput = randomSource.with { dropout(layerInput, probability: c.dropout, training: training, using: &$0) }
            }
        }
        let output = batchFirst ? layerInput.permuted([1, 0, 2]) : layerInput
        return (output, Variable.stacked(hs), cs.isEmpty ? nil : Variable.stacked(cs))
    }
}
