using Xunit;

namespace Kiln.Integration.Tests.Infrastructure;

/// <summary>
/// Packs Kiln.Build once per test run into a local feed, with a package cache of its own, so that fixture projects
/// consume exactly what a user would get from NuGet and never a stale copy from the machine's cache.
/// </summary>
public sealed class KilnPackage : IDisposable
{
    public const string Version = "0.1.0";

    public KilnPackage()
    {
        Root = Directory.CreateTempSubdirectory("kiln-it-").FullName;
        Feed = Path.Combine(Root, "feed");
        Packages = Path.Combine(Root, "packages");
        var pack = ProcessRunner.Run("dotnet", ["pack", Path.Combine(Repo.Root, "src", "Kiln.Build.Tasks", "Kiln.Build.Tasks.csproj"), "-c", "Release", "-o", Feed, "-nologo", $"-p:Version={Version}"], Repo.Root, timeout: TimeSpan.FromMinutes(8));
        if (pack.ExitCode != 0 || !File.Exists(Path.Combine(Feed, $"Kiln.Build.{Version}.nupkg")))
        {
            throw new InvalidOperationException("Packing Kiln.Build failed:\n" + pack);
        }
    }

    /// <summary>Everything this run wrote: the feed, the package cache and the fixture projects.</summary>
    public string Root { get; }

    public string Feed { get; }

    public string Packages { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a temp directory left behind is not a test failure
        }
    }
}

[CollectionDefinition(Name)]
public sealed class KilnCollection : ICollectionFixture<KilnPackage>
{
    /// <summary>One collection: fixture builds share the packed package and run one at a time (2 cores).</summary>
    public const string Name = "kiln";
}
