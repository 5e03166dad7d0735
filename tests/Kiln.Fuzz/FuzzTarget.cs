namespace Kiln.Fuzz;

/// <summary>
/// One reader under test: its valid seed inputs (built in code with Kiln's own writers) and how to feed it one
/// input. <see cref="Run"/> must drive the reader the way Kiln's callers do (enumerate lazily read sequences to
/// the end, touch the properties the verbs read).
/// </summary>
internal sealed class FuzzTarget
{
    public required string Name { get; init; }

    /// <summary>What the reader is, for the report.</summary>
    public required string Description { get; init; }

    public required Func<FuzzScratch, IReadOnlyList<byte[]>> Seeds { get; init; }

    public required Action<byte[], FuzzScratch> Run { get; init; }

    public InputShape Shape { get; init; }

    /// <summary>Byte strings worth inserting (member names, magic numbers, keywords).</summary>
    public IReadOnlyList<byte[]> Tokens { get; init; } = [];

    /// <summary>Applied after mutation (e.g. gzip the mutated tar, so that both the compressed and the
    /// uncompressed structure get mutated inputs).</summary>
    public Func<byte[], Random, byte[]>? Finish { get; init; }
}

/// <summary>A private temp directory for the readers that take a path; removed at the end of the run.</summary>
internal sealed class FuzzScratch : IDisposable
{
    private int _counter;

    public FuzzScratch()
    {
        // A memory file system when there is one: the archive readers write a layout per input, and a disk's
        // fsyncs would make them a hundred times slower than the parsing under test.
        string? memory = Directory.Exists("/dev/shm") ? "/dev/shm" : null;
        Root = memory is null
            ? Directory.CreateTempSubdirectory("kiln-fuzz-").FullName
            : Directory.CreateDirectory(Path.Combine(memory, $"kiln-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}")).FullName;
    }

    public string Root { get; }

    /// <summary>Writes the input to a fixed file of this scratch directory and returns its path.</summary>
    public string WriteInput(byte[] input, string name = "input")
    {
        string path = Path.Combine(Root, name);
        File.WriteAllBytes(path, input);
        return path;
    }

    /// <summary>A fresh empty directory (the caller deletes it).</summary>
    public string NewDirectory()
    {
        string path = Path.Combine(Root, "d" + _counter++);
        Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory.
        }
    }
}
