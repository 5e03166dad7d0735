using System.Diagnostics;
using System.Globalization;

namespace Kiln.Fuzz;

/// <summary>
/// <c>Kiln.Fuzz [--reader NAME]... [--iterations N] [--seed S] [--iteration I] [--replay FILE] [--time-limit SECONDS]
/// [--failures DIR] [--list]</c>. Exit code 0: every input ended in a result or a coded error; 1: failures
/// (each printed with seed, reader and iteration, its input written to a file); 3: a hang.
/// </summary>
internal static class Program
{
    /// <summary>Every target, in the order the full run takes them.</summary>
    public static IReadOnlyList<FuzzTarget> Targets { get; } = [.. OciTargets.All(), .. DebianTargets.All(), .. KilnJsonTargets.All()];

    private static int Main(string[] args)
    {
        var readers = new List<string>();
        long iterations = 100_000;
        long? single = null;
        string? replay = null;
        var options = new FuzzOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--reader": readers.AddRange(Value().Split(',', StringSplitOptions.RemoveEmptyEntries)); break;
                case "--iterations": iterations = long.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--seed": options = options with { Seed = int.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                case "--iteration": single = long.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--replay": replay = Value(); break;
                case "--time-limit": options = options with { TimeLimit = TimeSpan.FromSeconds(double.Parse(Value(), CultureInfo.InvariantCulture)) }; break;
                case "--failures": options = options with { FailureDirectory = Path.GetFullPath(Value()) }; break;
                case "--list":
                    foreach (var t in Targets)
                    {
                        Console.WriteLine($"{t.Name,-16} {t.Description}");
                    }

                    return 0;
                default:
                    Console.Error.WriteLine($"unknown argument '{args[i]}' (see tests/Kiln.Fuzz/Program.cs)");
                    return 2;
            }
        }

        var selected = readers.Count == 0 ? Targets : [.. readers.Select(r => Targets.FirstOrDefault(t => t.Name == r) ?? throw new ArgumentException($"no reader '{r}'; --list shows them"))];
        var runner = new FuzzRunner(options, Console.Out);
        if (replay is not null || single is not null)
        {
            return Replay(runner, selected.Single(), replay, single);
        }

        Console.WriteLine($"kiln fuzz: seed={options.Seed} iterations={iterations} per reader, time limit {options.TimeLimit.TotalSeconds:F0}s per input");
        var clock = Stopwatch.StartNew();
        var reports = new List<FuzzReport>();
        foreach (var target in selected)
        {
            var report = runner.Run(target, iterations);
            reports.Add(report);
            Console.WriteLine(report);
        }

        long failures = reports.Sum(r => r.Failures.Count);
        Console.WriteLine($"total: {reports.Sum(r => r.Inputs)} inputs, {reports.Count} readers, {failures} failures, {clock.Elapsed.TotalSeconds:F1}s");
        return failures == 0 ? 0 : 1;
    }

    private static int Replay(FuzzRunner runner, FuzzTarget target, string? file, long? iteration)
    {
        using var scratch = new FuzzScratch();
        byte[] input = file is not null ? File.ReadAllBytes(file) : runner.Input(target, target.Seeds(scratch), iteration!.Value);
        var (kind, detail, _) = runner.Execute(target, input, scratch);
        Console.WriteLine($"{target.Name}: {input.Length} bytes -> {kind}");
        Console.WriteLine(detail);
        return kind is "accepted" or "coded" ? 0 : 1;
    }
}
