using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>Same spec and inputs ⇒ same digests, in any directory, at any time; one changed input ⇒ exactly its digests change.</summary>
[Collection(KilnCollection.Name)]
public sealed class ReproducibilityTests(KilnPackage package)
{
    private static SortedDictionary<string, string> Blobs(FixtureProject fixture) =>
        new(Directory.EnumerateFiles(Path.Combine(fixture.LayoutDirectory, "blobs", "sha256"))
            .ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))), StringComparer.Ordinal);

    [Fact]
    public void Build_SameProjectInTwoDirectoriesAtDifferentTimes_ProducesIdenticalBlobs()
    {
        var first = BuildTests.TwoServerFixture(package, Path.Combine(package.Root, "repro", "a", "deeper", "Fixture"));
        first.BuildOk();
        Thread.Sleep(TimeSpan.FromSeconds(2)); // different file times and a different wall clock for the second copy
        var second = BuildTests.TwoServerFixture(package, Path.Combine(package.Root, "repro", "b", "Fixture"));
        File.SetLastWriteTimeUtc(Path.Combine(second.Directory, "files", "app.sh"), new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc));
        second.BuildOk();

        Assert.Equal(first.ReadRelease().Text, second.ReadRelease().Text);
        var blobsA = Blobs(first);
        Assert.Equal(blobsA, Blobs(second));
        Assert.All(blobsA, kv => Assert.Equal(kv.Key, kv.Value)); // every blob's name is its content's digest
        foreach (var manifest in new[] { "fixture-api-1.2.3.json", "fixture-worker-0.9.0.json" })
        {
            Assert.Equal(
                ContentSection(Path.Combine(first.OutputDirectory, "manifests", manifest)),
                ContentSection(Path.Combine(second.OutputDirectory, "manifests", manifest)));
        }
    }

    [Fact]
    public void Build_OneFileChanged_ChangesExactlyTheDigestsThatDependOnIt()
    {
        var first = BuildTests.TwoServerFixture(package);
        first.BuildOk();
        var second = BuildTests.TwoServerFixture(package).Write("www/index.html", "<h1>changed</h1>\n");
        second.BuildOk();

        var a = first.ReadRelease().Digests;
        var b = second.ReadRelease().Digests;
        Assert.Equal(a["fixture-worker:0.9.0"], b["fixture-worker:0.9.0"]);
        Assert.NotEqual(a["fixture-api:1.2.3"], b["fixture-api:1.2.3"]);

        var onlyInA = Blobs(first).Keys.Except(Blobs(second).Keys).ToList();
        var onlyInB = Blobs(second).Keys.Except(Blobs(first).Keys).ToList();
        // The www layer, the api config and the api manifest: three blobs replaced; and the api image's attached
        // artifacts, which name its digest: the provenance envelope, the SBOM and their two artifact manifests.
        Assert.Equal(7, onlyInA.Count);
        Assert.Equal(7, onlyInB.Count);
    }

    private static string ContentSection(string manifestPath)
    {
        using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(manifestPath));
        return document.RootElement.GetProperty("content").GetRawText() + document.RootElement.GetProperty("contentDigest").GetString();
    }
}
