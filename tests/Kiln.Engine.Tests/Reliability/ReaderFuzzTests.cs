using Kiln.Fuzz;

namespace Kiln.Engine.Tests.Reliability;

/// <summary>
/// The short, seeded pass of the reader fuzzer (tests/Kiln.Fuzz; the full run is build/fuzz.sh, 100,000 inputs per
/// reader): 2,000 mutated inputs per reader, each of which must end in a result or a coded Kiln error. A failure
/// message carries the seed, reader and iteration, and the replay command.
/// </summary>
public sealed class ReaderFuzzTests
{
    private const int Seed = 20261130;
    private const int Inputs = 2_000;

    public static TheoryData<string> Readers => [.. Kiln.Fuzz.Program.Targets.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(Readers))]
    public void Read_MutatedInputs_EndInAResultOrACodedError(string reader)
    {
        var target = Kiln.Fuzz.Program.Targets.Single(t => t.Name == reader);
        var log = new StringWriter();

        var report = new FuzzRunner(new FuzzOptions { Seed = Seed }, log).Run(target, Inputs);

        Assert.True(report.Failures.Count == 0, $"{report}\n{log}");
        Assert.Equal(Inputs, report.Accepted + report.Coded);
        // Some mutated inputs must still be read to the end, or the pass only tests the readers' first check.
        Assert.True(report.Accepted > 0, report.ToString());
    }

    [Fact]
    public void Input_SameSeedReaderAndIteration_IsTheSameBytes()
    {
        var target = Kiln.Fuzz.Program.Targets.Single(t => t.Name == "layer-tar");
        var runner = new FuzzRunner(new FuzzOptions { Seed = Seed }, TextWriter.Null);
        using var scratch = new FuzzScratch();
        var seeds = target.Seeds(scratch);

        var first = runner.Input(target, seeds, 1234);
        var again = runner.Input(target, seeds, 1234);
        var next = runner.Input(target, seeds, 1235);

        Assert.Equal(first, again);
        Assert.NotEqual(first, next);
    }
}
