using System.Collections.Immutable;

namespace Kiln.Spec;

/// <summary>One layer of an image: a set of files from declared inputs, placed at an absolute path.</summary>
public abstract record Layer
{
    private protected Layer(string to) => To = to;

    /// <summary>The absolute path in the image the input is placed at.</summary>
    public string To { get; init; }

    /// <summary>Owner of the files this layer adds. Defaults to root (0:0): the running account can read, not change them.</summary>
    public Owner Owner { get; init; } = Owner.Root;

    /// <summary>Copies one file. <paramref name="to"/> is the file's full path in the image.</summary>
    /// <param name="source">The file, relative to the spec project.</param>
    /// <param name="to">The absolute destination path.</param>
    /// <param name="mode">The file mode; by default 0755 for executables (ELF, <c>#!</c>) and 0644 otherwise.</param>
    public static FileLayer File(string source, string to, FilePermissions? mode = null) => new(source, to) { Mode = mode };

    /// <summary>Copies a directory tree, optionally filtered by globs (<c>**/*.json</c>).</summary>
    public static DirectoryLayer Directory(string source, string to, ImmutableArray<string> include = default, ImmutableArray<string> exclude = default) =>
        new(source, to)
        {
            Include = include.IsDefaultOrEmpty ? ["**/*"] : include,
            Exclude = exclude.IsDefault ? [] : exclude,
        };

    /// <summary>The publish output of another .NET project, published by the build before the image is made.</summary>
    /// <param name="project">The project file, relative to the spec project.</param>
    /// <param name="to">The absolute directory in the image.</param>
    /// <param name="runtimeIdentifier">Publish for this runtime (for example <c>linux-x64</c>); none means framework-dependent and portable.</param>
    /// <param name="selfContained">Bundle the .NET runtime (needs <paramref name="runtimeIdentifier"/>).</param>
    public static PublishOutputLayer PublishOutput(string project, string to, string? runtimeIdentifier = null, bool selfContained = false) =>
        new(project, to) { RuntimeIdentifier = runtimeIdentifier, SelfContained = selfContained };
}

/// <summary>A layer holding one file.</summary>
public sealed record FileLayer : Layer
{
    internal FileLayer(string source, string to) : base(to) => Source = source;

    /// <summary>The file, relative to the spec project.</summary>
    public string Source { get; init; }

    /// <summary>Explicit mode; <see langword="null"/> lets Kiln decide from the content.</summary>
    public FilePermissions? Mode { get; init; }
}

/// <summary>A layer holding a directory tree.</summary>
public sealed record DirectoryLayer : Layer
{
    internal DirectoryLayer(string source, string to) : base(to) => Source = source;

    /// <summary>The directory, relative to the spec project.</summary>
    public string Source { get; init; }

    /// <summary>Globs of files to take, relative to <see cref="Source"/>.</summary>
    public ImmutableArray<string> Include { get; init; } = ["**/*"];

    /// <summary>Globs of files to leave out.</summary>
    public ImmutableArray<string> Exclude { get; init; } = [];
}

/// <summary>A layer holding the publish output of a .NET project.</summary>
public sealed record PublishOutputLayer : Layer
{
    internal PublishOutputLayer(string project, string to) : base(to) => Project = project;

    /// <summary>The project file, relative to the spec project.</summary>
    public string Project { get; init; }

    /// <summary>The runtime identifier to publish for, if any.</summary>
    public string? RuntimeIdentifier { get; init; }

    /// <summary>Whether the .NET runtime is bundled.</summary>
    public bool SelfContained { get; init; }

    /// <summary>The build configuration to publish; <see langword="null"/> uses the spec project's.</summary>
    public string? Configuration { get; init; }

    /// <summary>
    /// Whether the output is split into layers by rate of change (the default): the .NET runtime (self-contained),
    /// NuGet packages, project references and the app's own files, each its own layer, so that a one-line change
    /// moves one small layer and apps on the same runtime share its blob. <see langword="false"/> makes one layer.
    /// </summary>
    public bool SplitLayers { get; init; } = true;
}

/// <summary>Unix permission bits of a file: the named ones, <c>FilePermissions.Octal("0750")</c> or <c>new FilePermissions(bits)</c>. (Not System.IO.FileMode, which opens files.)</summary>
public readonly record struct FilePermissions(int Bits)
{
    /// <summary>rwxr-xr-x</summary>
    public static FilePermissions Executable { get; } = new(0x1ED);

    /// <summary>rw-r--r--</summary>
    public static FilePermissions Regular { get; } = new(0x1A4);

    /// <summary>r--r--r--</summary>
    public static FilePermissions ReadOnly { get; } = new(0x124);

    /// <summary>Parses an octal mode such as <c>"0750"</c>.</summary>
    public static FilePermissions Octal(string octal) => new(Convert.ToInt32(octal, 8));

    /// <inheritdoc />
    public override string ToString() => Convert.ToString(Bits, 8).PadLeft(4, '0');
}

/// <summary>The numeric owner of files in a layer.</summary>
public readonly record struct Owner(int Uid, int Gid)
{
    /// <summary>0:0</summary>
    public static Owner Root { get; } = new(0, 0);
}
