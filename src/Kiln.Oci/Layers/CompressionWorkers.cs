using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Kiln.Oci;

/// <summary>
/// The threads that compress one layer's blocks. Dedicated threads rather than thread-pool tasks: a task waited on
/// before a pool thread picked it up runs inline on the waiting thread, which on a busy machine turned the parallel
/// writer back into a serial one. Threads start as blocks arrive (a small layer starts none) and stop at dispose.
/// </summary>
internal sealed class CompressionWorkers : IDisposable
{
    /// <summary>
    /// Blocks in flight across every layer of the process (each holds up to about two block sizes of memory): layers
    /// compressed side by side share this bound instead of multiplying it. Past it, a layer compresses on its own thread.
    /// </summary>
    private static readonly int MaxBlocksInProcess = Math.Max(8, 4 * Environment.ProcessorCount);

    private static int _blocksInProcess;

    private readonly BlockingCollection<CompressionJob> _queue = new();
    private readonly List<Thread> _threads = [];
    private readonly int _maxThreads;

    public CompressionWorkers(int maxThreads)
    {
        _maxThreads = maxThreads;
    }

    /// <summary>Takes one of the process-wide block slots, or returns false when all are taken.</summary>
    public static bool TryReserveSlot()
    {
        if (Interlocked.Increment(ref _blocksInProcess) <= MaxBlocksInProcess)
        {
            return true;
        }

        Interlocked.Decrement(ref _blocksInProcess);
        return false;
    }

    /// <summary>Gives back a slot taken by <see cref="TryReserveSlot"/>.</summary>
    public static void ReleaseSlot() => Interlocked.Decrement(ref _blocksInProcess);

    /// <summary>Queues <paramref name="job"/>; starts another thread while fewer than the maximum run.</summary>
    public void Start(CompressionJob job)
    {
        if (_threads.Count < _maxThreads)
        {
            var thread = new Thread(Work) { IsBackground = true, Name = "Kiln layer compression" };
            thread.Start();
            _threads.Add(thread);
        }

        _queue.Add(job);
    }

    private void Work()
    {
        foreach (var job in _queue.GetConsumingEnumerable())
        {
            job.Run();
        }
    }

    /// <summary>Lets the threads finish the queued jobs and waits for them.</summary>
    public void Dispose()
    {
        _queue.CompleteAdding();
        foreach (var thread in _threads)
        {
            thread.Join();
        }

        _queue.Dispose();
    }
}

/// <summary>One block to compress on a worker; the writer waits for it in order.</summary>
internal sealed class CompressionJob(BlockCodec codec, byte[] block, int length, bool final)
{
    private readonly ManualResetEventSlim _done = new();
    private ExceptionDispatchInfo? _error;

    /// <summary>The compressed block (rented; the writer returns it) and its length, once done.</summary>
    public byte[]? Output { get; private set; }

    public int OutputLength { get; private set; }

    /// <summary>Compresses the block and returns the input buffer to the pool, on whichever thread runs it.</summary>
    public void Run()
    {
        try
        {
            Output = System.Buffers.ArrayPool<byte>.Shared.Rent(codec.MaxCompressedSize(length));
            OutputLength = codec.Compress(block.AsSpan(0, length), final, Output);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ZstdSharp.ZstdException or NotSupportedException
            or ArgumentException or InvalidOperationException)
        {
            // Handed to the writer, which rethrows it on the caller's thread: a worker thread must not die with it.
            _error = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(block);
            _done.Set();
        }
    }

    /// <summary>Waits until the block is compressed; rethrows a failure of the worker.</summary>
    public void Wait()
    {
        _done.Wait();
        _done.Dispose();
        _error?.Throw();
    }
}
