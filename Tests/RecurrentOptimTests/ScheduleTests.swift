import XCTest
import RecurrentCore
import RecurrentAutodiff
import RecurrentOptim

/// Learning-rate schedules against PyTorch's schedulers stepped once per epoch (their chainable,
/// recursive form), from scripts/reference/optimizers.py.
final class ScheduleTests: XCTestCase {
    private func makeOptimizer(learningRate: Float) throws -> SGD {
        try SGD([Variable.parameter(Tensor([0]))], learningRate: learningRate)
    }

    /// Drives `schedule` through `expected.count` epochs with a scheduler and compares the
    /// optimizer's learning rate with PyTorch's, and with the schedule's closed form.
    private func assertMatchesTorch(_ schedule: any LearningRateSchedule, base: Float, _ expected: [Double],
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let optimizer = try makeOptimizer(learningRate: base)
        let scheduler = LearningRateScheduler(schedule, optimizer: optimizer)
        for (epoch, torchValue) in expected.enumerated() {
            if epoch > 0 { scheduler.step() }
            XCTAssertEqual(scheduler.lastEpoch, epoch, file: file, line: line)
            let lr = optimizer.learningRate
            // Ours is the closed form rounded once to Float; torch's recursion runs in Double.
            XCTAssertEqual(Double(lr), torchValue, accuracy: 1e-6 * max(torchValue, 1e-3),
                           "epoch \(epoch)", file: file, line: line)
            XCTAssertEqual(lr, scheduler.lastLearningRate, file: file, line: line)
            XCTAssertEqual(lr, schedule.learningRate(epoch: epoch, baseLearningRate: base), file: file, line: line)
        }
    }

    func testStepLR() throws {
        try assertMatchesTorch(try StepLR(stepSize: 3, gamma: 0.5), base: 0.1, TorchSchedules.stepLR)
        // Hand check: 0.1 for epochs 0-2, 0.05 for 3-5, ... 0.0125 for 9-11.
        XCTAssertEqual(TorchSchedules.stepLR[11], 0.0125, accuracy: 1e-9)
    }

    func testStepLRDefaultGamma() throws {
        let schedule = try StepLR(stepSize: 4)
        XCTAssertEqual(schedule.gamma, 0.1)
        try assertMatchesTorch(schedule, base: 1, TorchSchedules.stepLRDefaultGamma)
    }

    func testExponentialLR() throws {
        try assertMatchesTorch(try ExponentialLR(gamma: 0.9), base: 0.1, TorchSchedules.exponentialLR)
    }

    func testCosineAnnealingLRPastTMax() throws {
        // tMax 5 over 12 epochs: down to etaMin at epoch 5, back up to the base at epoch 10.
        try assertMatchesTorch(try CosineAnnealingLR(tMax: 5, etaMin: 0.001), base: 0.1, TorchSchedules.cosineLR)
        XCTAssertEqual(TorchSchedules.cosineLR[5], Double(Float(0.001)), accuracy: 1e-12)
        XCTAssertEqual(TorchSchedules.cosineLR[10], Double(Float(0.1)), accuracy: 1e-12)
    }

    func testCosineAnnealingLRDefaultEtaMin() throws {
        let schedule = try CosineAnnealingLR(tMax: 10)
        XCTAssertEqual(schedule.etaMin, 0)
        try assertMatchesTorch(schedule, base: 0.05, TorchSchedules.cosineLRLong)
    }

    func testInvalidArgumentsNameTheArgument() {
        let cases: [(String, () throws -> Any)] = [
            ("stepSize", { try StepLR(stepSize: 0) }),
            ("gamma", { try StepLR(stepSize: 2, gamma: -0.5) }),
            ("gamma", { try ExponentialLR(gamma: .nan) }),
            ("gamma", { try ExponentialLR(gamma: .infinity) }),
            ("tMax", { try CosineAnnealingLR(tMax: 0) }),
            ("etaMin", { try CosineAnnealingLR(tMax: 3, etaMin: -1) }),
        ]
        for (argument, make) in cases {
            XCTAssertThrowsError(try make()) { error in
                XCTAssertEqual((error as? ConfigurationError)?.argument, argument, "\(error)")
            }
        }
    }

    func testSchedulerStateRoundTrip() throws {
        let schedule = try CosineAnnealingLR(tMax: 8, etaMin: 0.01)
        let optimizer = try makeOptimizer(learningRate: 0.2)
        let scheduler = LearningRateScheduler(schedule, optimizer: optimizer)
        for _ in 0..<5 { scheduler.step() }
        let saved = scheduler.stateDict()
        XCTAssertEqual(saved.map(\.name), ["last_epoch", "base_lr"])
        XCTAssertEqual(saved.map(\.tensor.scalar), [5, 0.2])

        // A new run is built with another base rate; loading restores the epoch, the base rate
        // and the optimizer's learning rate, whatever order optimizer and scheduler are loaded in.
        let resumedOptimizer = try makeOptimizer(learningRate: 0.7)
        let resumed = LearningRateScheduler(schedule, optimizer: resumedOptimizer)
        try resumed.loadStateDict(saved)
        XCTAssertEqual(resumed.lastEpoch, 5)
        XCTAssertEqual(resumed.baseLearningRate, 0.2)
        XCTAssertEqual(resumedOptimizer.learningRate, optimizer.learningRate)
        for _ in 0..<4 {
            scheduler.step()
            resumed.step()
            XCTAssertEqual(resumedOptimizer.learningRate, optimizer.learningRate)
        }
        try resumed.loadStateDict(["last_epoch": Tensor(2), "base_lr": Tensor(0.2)])
        XCTAssertEqual(resumedOptimizer.learningRate, schedule.learningRate(epoch: 2, baseLearningRate: 0.2))
    }

    func testSchedulerRejectsBadState() throws {
        let scheduler = LearningRateScheduler(try ExponentialLR(gamma: 0.5), optimizer: try makeOptimizer(learningRate: 1))
        scheduler.step()
        let cases: [([(name: String, tensor: Tensor)], String, OptimizerStateError.Problem?)] = [
            ([(name: "base_lr", tensor: Tensor(1))], "last_epoch", .missing),
            ([(name: "last_epoch", tensor: Tensor(1))], "base_lr", .missing),
            ([(name: "last_epoch", tensor: Tensor(2.5)), (name: "base_lr", tensor: Tensor(1))], "last_epoch", nil),
            ([(name: "last_epoch", tensor: Tensor(-1)), (name: "base_lr", tensor: Tensor(1))], "last_epoch", nil),
            ([(name: "last_epoch", tensor: Tensor(1)), (name: "base_lr", tensor: Tensor(-1))], "base_lr", nil),
            ([(name: "last_epoch", tensor: Tensor([1, 2])), (name: "base_lr", tensor: Tensor(1))], "last_epoch",
             .shapeMismatch(expected: [], found: [2])),
            ([(name: "last_epoch", tensor: Tensor(1)), (name: "base_lr", tensor: Tensor(1)), (name: "gamma", tensor: Tensor(1))],
             "gamma", .unexpected),
        ]
        for (entries, entry, problem) in cases {
            XCTAssertThrowsError(try scheduler.loadStateDict(entries), entry) { error in
                guard let error = error as? OptimizerStateError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.entry, entry)
                if let problem { XCTAssertEqual(error.problem, problem) }
            }
            XCTAssertEqual(scheduler.lastEpoch, 1)
            XCTAssertEqual(scheduler.optimizer.learningRate, 0.5)
        }
    }
}

// BEGIN GENERATED: output of scripts/reference/optimizers.py (torch.optim.lr_scheduler, chainable step())
// MARK: schedules, learning rate at epochs 0..<12 via torch's chainable step()
enum TorchSchedules {
    static let stepLR: [Double] = [0.10000000149011612, 0.10000000149011612, 0.10000000149011612, 0.05000000074505806, 0.05000000074505806, 0.05000000074505806, 0.02500000037252903, 0.02500000037252903, 0.02500000037252903, 0.012500000186264515, 0.012500000186264515, 0.012500000186264515]
    static let stepLRDefaultGamma: [Double] = [1, 1, 1, 1, 0.10000000000000001, 0.10000000000000001, 0.10000000000000001, 0.10000000000000001, 0.010000000000000002, 0.010000000000000002, 0.010000000000000002, 0.010000000000000002]
    static let exponentialLR: [Double] = [0.10000000149011612, 0.089999998956918681, 0.080999996915459629, 0.072899995292723244, 0.065609994025379592, 0.059048993058577477, 0.05314409234488203, 0.047829681843339932, 0.043046712518657458, 0.038742040240478108, 0.034867835292748076, 0.031381050932159295]
    static let cosineLR: [Double] = [0.10000000149011612, 0.090546342573918193, 0.065796342213263526, 0.035203659324350045, 0.010453658963695382, 0.0010000000474974513, 0.010453658963695376, 0.035203659324350052, 0.065796342213263539, 0.09054634257391822, 0.10000000149011615, 0.090546342573918248]
    static let cosineLRLong: [Double] = [0.05000000074505806, 0.048776413634204034, 0.045225425533285034, 0.039694631898807932, 0.032725425347020519, 0.025000000372529033, 0.017274575398037548, 0.010305368846250136, 0.0047745752117730311, 0.0012235871108540303, 0, 0.0012235871108540303]
}
// END GENERATED
