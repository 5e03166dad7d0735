using System.Diagnostics;
using Kiln.Engine.Diagnostics;
using Kiln.Oci;

namespace Kiln.Fuzz;

/// <summary>What one reader did with its inputs.</summary>
internal sealed record FuzzReport(string Target, long Inputs, long Accepted, long Coded, IReadOnlyList<FuzzFailure> Failures, TimeSpan Elapsed)
{
    public override string ToString() =>
        $"{Target,-16} inputs={Inputs} accepted={Accepted} coded={Coded} failures={Failures.Count} time={Elapsed.TotalSeconds:F1}s";
}

/// <summary>One input that ended in something other than a result or a coded error.</summary>
internal sealed record FuzzFailure(string Target, int Seed, long Iteration, string Kind, string Detail, string? InputFile)
{
    public string ReplayCommand => $"bash build/fuzz.sh --reader {Target} --seed {Seed} --iteration {Iteration}";
}

/// <summary>
/// Runs one target in-process: input i of a run is a pure function of (seed, target, i), so any failure replays
/// from the three numbers alone (<c>--iteration</c>), and its input is written to a file as well. An input must end
/// in a result or a typed Kiln error (<see cref="OciFormatException"/>, <see cref="KilnException"/>: the edges turn
/// both into KILN codes); anything else is a failure, and so is an input that runs longer than the time limit (a
/// watchdog reports it and ends the process, since a hung call cannot be taken back) or that allocates more than
/// the allocation limit (a length taken from the input and believed).
/// </summary>
internal sealed class FuzzRunner(FuzzOptions options, TextWriter log)
{
    public FuzzReport Run(FuzzTarget target, long iterations, long firstIteration = 0)
    {
        using var scratch = new FuzzScratch();
        var seeds = target.Seeds(scratch);
        foreach (var seed in seeds)
        {
            // A seed must itself be accepted: otherwise the fuzzer only ever tests the first check.
            var outcome = Execute(target, seed, scratch);
            if (outcome.Kind != "accepted")
            {
                throw new InvalidOperationException($"A seed of {target.Name} is not accepted by its reader: {outcome.Kind} {outcome.Detail}");
            }
        }

        var failures = new List<FuzzFailure>();
        var signatures = new HashSet<string>(StringComparer.Ordinal);
        long accepted = 0, coded = 0;
        var clock = Stopwatch.StartNew();
        using var watchdog = new Watchdog(options.TimeLimit, log);
        for (long i = firstIteration; i < firstIteration + iterations; i++)
        {
            byte[] input = Input(target, seeds, i);
            watchdog.Arm(target.Name, options.Seed, i, () => Save(target, i, input));
            var outcome = Execute(target, input, scratch);
            watchdog.Disarm();
            switch (outcome.Kind)
            {
                case "accepted":
                    accepted++;
                    break;
                case "coded":
                    coded++;
                    break;
                default:
                    string file = Save(target, i, input);
                    var failure = new FuzzFailure(target.Name, options.Seed, i, outcome.Kind, outcome.Detail, file);
                    failures.Add(failure);
                    bool first = signatures.Add(outcome.Signature);
                    log.WriteLine($"FAIL reader={target.Name} seed={options.Seed} iteration={i} {outcome.Kind}: {FirstLine(outcome.Detail)}");
                    log.WriteLine($"     input: {file}   replay: {failure.ReplayCommand}");
                    if (first && options.Verbose)
                    {
                        log.WriteLine(outcome.Detail);
                    }

                    break;
            }
        }

        return new FuzzReport(target.Name, iterations, accepted, coded, failures, clock.Elapsed);
    }

    /// <summary>The input of iteration <paramref name="iteration"/>: the same on every run with the same seed.</summary>
    public byte[] Input(FuzzTarget target, IReadOnlyList<byte[]> seeds, long iteration)
    {
        var random = new Random(IterationSeed(options.Seed, target.Name, iteration));
        var input = new Mutator(random, seeds, target.Tokens, target.Shape).Next();
        return target.Finish is null ? input : target.Finish(input, random);
    }

    /// <summary>Runs one input and says how it ended.</summary>
    public (string Kind, string Detail, string Signature) Execute(FuzzTarget target, byte[] input, FuzzScratch scratch)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            target.Run(input, scratch);
        }
        catch (Exception e) when (e is OciFormatException or KilnException)
        {
            return AllocationCheck(before, input) ?? ("coded", e.Message, "");
        }
        catch (Exception e)
        {
            var frame = new StackTrace(e).GetFrames().FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("Kiln", StringComparison.Ordinal) == true);
            string where = frame?.GetMethod() is { } m ? $"{m.DeclaringType?.Name}.{m.Name}" : "?";
            return ($"unhandled {e.GetType().Name} in {where}", e.ToString(), e.GetType().Name + "@" + where);
        }

        return AllocationCheck(before, input) ?? ("accepted", "", "");
    }

    private (string, string, string)? AllocationCheck(long before, byte[] input)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Readers may copy and decompress; what they must not do is allocate what a header claims.
        long limit = options.AllocationLimit + 64L * input.Length;
        return allocated > limit
            ? ("huge allocation", $"{allocated:N0} bytes allocated for a {input.Length:N0}-byte input (limit {limit:N0})", "alloc")
            : null;
    }

    private string Save(FuzzTarget target, long iteration, byte[] input)
    {
        Directory.CreateDirectory(options.FailureDirectory);
        string path = Path.Combine(options.FailureDirectory, $"{target.Name}-seed{options.Seed}-iter{iteration}.bin");
        File.WriteAllBytes(path, input);
        return path;
    }

    /// <summary>A stable mix (not string.GetHashCode, which changes per process) of seed, target and iteration.</summary>
    internal static int IterationSeed(int seed, string target, long iteration)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in target)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        ulong x = h ^ ((ulong)(uint)seed << 32) ^ (ulong)iteration;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return (int)(x & 0x7FFFFFFF);
    }

    private static string FirstLine(string text)
    {
        int newline = text.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? text : text[..newline].TrimEnd();
    }

    /// <summary>Watches the running input; past the time limit it reports a hang with the replay numbers and ends
    /// the process (exit code 3).</summary>
    private sealed class Watchdog : IDisposable
    {
        private readonly TimeSpan _limit;
        private readonly TextWriter _log;
        private readonly Thread _thread;
        private readonly object _gate = new();
        private volatile bool _stopped;
        private long _armedAt;
        private string _target = "";
        private int _seed;
        private long _iteration;
        private Func<string>? _save;

        public Watchdog(TimeSpan limit, TextWriter log)
        {
            _limit = limit;
            _log = log;
            _thread = new Thread(Watch) { IsBackground = true, Name = "fuzz watchdog" };
            _thread.Start();
        }

        public void Arm(string target, int seed, long iteration, Func<string> save)
        {
            lock (_gate)
            {
                _target = target;
                _seed = seed;
                _iteration = iteration;
                _save = save;
                _armedAt = Stopwatch.GetTimestamp();
            }
        }

        public void Disarm()
        {
            lock (_gate)
            {
                _armedAt = 0;
            }
        }

        private void Watch()
        {
            while (!_stopped)
            {
                Thread.Sleep(200);
                lock (_gate)
                {
                    if (_armedAt != 0 && Stopwatch.GetElapsedTime(_armedAt) > _limit)
                    {
                        string file = _save!();
                        _log.WriteLine($"HANG reader={_target} seed={_seed} iteration={_iteration}: no result after {_limit.TotalSeconds:F0}s");
                        _log.WriteLine($"     input: {file}   replay: bash build/fuzz.sh --reader {_target} --seed {_seed} --iteration {_iteration}");
                        _log.Flush();
                        Environment.Exit(3);
                    }
                }
            }
        }

        public void Dispose()
        {
            _stopped = true;
            _thread.Join();
        }
    }
}

/// <summary>The settings of a fuzz run.</summary>
internal sealed record FuzzOptions
{
    public int Seed { get; init; } = 20261130;

    public TimeSpan TimeLimit { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Bytes one input may allocate beyond 64 times its own size.</summary>
    public long AllocationLimit { get; init; } = 64L << 20;

    public string FailureDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "kiln-fuzz-failures");

    public bool Verbose { get; init; } = true;
}
