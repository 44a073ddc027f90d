import Foundation
import XCTest
import RecurrentCore
import RecurrentAutodiff
import RecurrentOptim

/// The divergence rule (`DivergenceMonitor`) and the held checkpoint (`DivergenceGuard`), on
/// hand-computed loss sequences.
final class DivergenceMonitorTests: XCTestCase {
    /// Checks `losses` (steps 1, 2, ...) and returns the error, if any.
    private func firstDivergence(_ losses: [Float], reference: Double? = nil) -> TrainingDivergence? {
        var monitor = DivergenceMonitor(referenceLoss: reference)
        for (index, loss) in losses.enumerated() {
            do { try monitor.check(step: index + 1, loss: loss, gradientNorm: 1) } catch {
                return error as? TrainingDivergence
            }
        }
        return nil
    }

    func testNonFiniteLossOrGradientStopsAtThatStep() throws {
        let nan = try XCTUnwrap(firstDivergence([2, 1.9, .nan]))
        XCTAssertEqual(nan.step, 3)
        XCTAssertEqual(nan.localizedDescription, "training diverged at step 3: the loss is nan; nothing after the last checkpoint "
                       + "was saved; try a lower learning rate or gradient clipping")
        XCTAssertEqual(firstDivergence([2, .infinity])?.step, 2)
        var monitor = DivergenceMonitor()
        try monitor.check(step: 1, loss: 2, gradientNorm: 10)
        XCTAssertThrowsError(try monitor.check(step: 2, loss: 2, gradientNorm: .infinity)) { error in
            XCTAssertEqual(error as? TrainingDivergence, TrainingDivergence(step: 2, reason: .gradientNotFinite(.infinity)))
            XCTAssertEqual(error.localizedDescription, "training diverged at step 2: the gradient norm is inf; nothing after the "
                           + "last checkpoint was saved; try a lower learning rate or gradient clipping")
        }
    }

    /// S_0 = L_ref = 2 (the first loss). Losses of 100 from step 2: S_2 = 1.8 + 10 = 11.8,
    /// S_3 = 10.62 + 10 = 20.62 > 10 × 2: step 3.
    func testTheSmoothedLossMustExceedTenTimesTheStart() throws {
        let divergence = try XCTUnwrap(firstDivergence([2, 100, 100, 100]))
        XCTAssertEqual(divergence.step, 3)
        guard case let .lossGrew(smoothed, reference, factor) = divergence.reason else { return XCTFail("\(divergence)") }
        XCTAssertEqual(smoothed, 20.62, accuracy: 1e-12)
        XCTAssertEqual(reference, 2)
        XCTAssertEqual(factor, 10)
        XCTAssertEqual(divergence.localizedDescription, "training diverged at step 3: the smoothed loss 20.62 is more than 10 × "
                       + "the initial loss 2; nothing after the last checkpoint was saved; try a lower learning rate or gradient clipping")
        // One spike alone trips the rule only above (20 − 0.9 · 2) / 0.1 = 182.
        XCTAssertNil(firstDivergence([2, 181, 2, 2]))
        XCTAssertEqual(firstDivergence([2, 183])?.step, 2)
        // Normal noisy training: a loss that falls with spikes of 20 × never comes close.
        let noisy = (0..<2000).map { t -> Float in t % 97 == 13 ? 40 : 2 * Float(0.5 + 0.5 * exp(-Double(t) / 300)) }
        var monitor = DivergenceMonitor()
        for (index, loss) in noisy.enumerated() { try monitor.check(step: index + 1, loss: loss, gradientNorm: 3) }
        XCTAssertEqual(try XCTUnwrap(monitor.largestRatio), 2.9, accuracy: 0.01)
    }

    func testAGivenReferenceReplacesTheFirstLoss() throws {
        // The first batch is easy (0.001) but the start over all data is 1: a later typical loss is not divergence.
        XCTAssertNil(firstDivergence([0.001, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], reference: 1))
        XCTAssertEqual(firstDivergence([0.001, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1])?.step, 2, "without it the easy batch sets the start")
        // A perfect start (reference 0): only non-finite values count.
        XCTAssertNil(firstDivergence([0, 1e30, 1e30], reference: 0))
        XCTAssertEqual(firstDivergence([0, .nan], reference: 0)?.step, 2)
    }

    func testTheStateRoundTripsSoAResumedRunDecidesTheSame() throws {
        // S: 2, 2.1, 6.89, 46.2 > 20 at step 4.
        let losses: [Float] = [2, 3, 50, 400, 900]
        var whole = DivergenceMonitor()
        var wholeError: Int? = nil
        for (index, loss) in losses.enumerated() where wholeError == nil {
            do { try whole.check(step: index + 1, loss: loss, gradientNorm: nil) } catch { wholeError = index + 1 }
        }
        XCTAssertEqual(wholeError, 4)
        var first = DivergenceMonitor()
        for (index, loss) in losses.prefix(3).enumerated() { try first.check(step: index + 1, loss: loss, gradientNorm: nil) }
        var resumed = try JSONDecoder().decode(DivergenceMonitor.self, from: JSONEncoder().encode(first))
        XCTAssertEqual(resumed, first)
        XCTAssertThrowsError(try resumed.check(step: 4, loss: 400, gradientNorm: nil))
    }

    func testTheGuardWritesAHeldCheckpointOnlyAfterTheNextStepPasses() throws {
        var guarded = DivergenceGuard<String>()
        XCTAssertNil(try guarded.check(step: 1, loss: 2, gradientNorm: 1))
        guarded.hold("checkpoint of step 1")
        XCTAssertTrue(guarded.isHolding)
        XCTAssertEqual(try guarded.check(step: 2, loss: 2.1, gradientNorm: 1), "checkpoint of step 1")
        XCTAssertFalse(guarded.isHolding)
        guarded.hold("checkpoint of step 2")
        XCTAssertThrowsError(try guarded.check(step: 3, loss: .nan, gradientNorm: 1))
        XCTAssertFalse(guarded.isHolding, "the checkpoint of the step whose update diverged is dropped")
        XCTAssertNil(guarded.release())
    }

    func testGradientNormIsTheNormClippingMeasures() {
        let parameters = [Tensor(shape: [2, 2], scalars: [3, 0, 0, 4]), Tensor(shape: [1], scalars: [12])].map { value -> Parameter in
            let p = Variable.parameter(Tensor(zeros: value.shape))
            p.grad = value
            return p
        }
        let frozen = Variable.parameter(Tensor(zeros: [1]))
        frozen.grad = Tensor(shape: [1], scalars: [100])
        frozen.requiresGrad = false
        XCTAssertEqual(gradientNorm(parameters + [frozen]), 13)
        XCTAssertEqual(clipGradientNorm(parameters, maxNorm: 100), 13)
        parameters[0].grad = Tensor(shape: [2, 2], scalars: [1, .nan, 0, 0])
        XCTAssertTrue(gradientNorm(parameters).isNaN)
    }
}
