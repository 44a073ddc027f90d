#if !canImport(Accelerate)
import COpenBLAS
#endif

/// Process-wide memory-allocator settings for long training runs.
public enum AllocatorTuning {
    /// Keeps freed memory in the process for reuse instead of returning it to the system (glibc:
    /// no `mmap` for large blocks, no trimming of the heap). A training step allocates and frees the
    /// same large tensors every iteration; without this, each large block is a fresh mapping whose
    /// pages fault and are zeroed again on every step (measured: about 5% of W2's time). The peak
    /// resident memory is unchanged; memory freed after the peak stays with the process. The
    /// `recurrent` command calls it at start; a library user may call it once. No effect on macOS.
    public static func reuseFreedMemory() {
        #if !canImport(Accelerate)
        recurrent_keep_freed_memory()
        #endif
    }
}
