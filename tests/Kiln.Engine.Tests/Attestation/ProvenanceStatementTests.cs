using System.Text.Json;
using Kiln.Engine.Attestation;
using Kiln.Engine.Lock;
using Kiln.Engine.Tests.Manifests;

namespace Kiln.Engine.Tests.Attestation;

/// <summary>
/// The statement checked member by member against in-toto Statement v1
/// (https://github.com/in-toto/attestation/blob/v1.0/spec/v1/statement.md, resource_descriptor.md) and SLSA Provenance
/// v1 (https://slsa.dev/spec/v1.0/provenance), and its determinism.
/// </summary>
public sealed class ProvenanceStatementTests
{
    private static Building.BuiltImage Image() => ManifestDeterminismTests.Image(withBase: true) with
    {
        Plan = ManifestDeterminismTests.Image(withBase: true).Plan with
        {
            Base = ManifestDeterminismTests.Image(withBase: true).Plan.Base with
            {
                Packages = [new LockedPackage("libc6", "2.36-9+deb12u10", "amd64", new string('a', 64), "pool/g/libc6.deb", 1)],
            },
        },
    };

    private static Kiln.Engine.Requests.BuildRequest Request(string directory = "/home/dev/orders") => ManifestDeterminismTests.WithProvenance(ManifestDeterminismTests.Request(directory), new()
    {
        KilnVersion = "0.1.0",
        SdkVersion = "10.0.401",
        SourceRevision = new string('c', 40),
        SourceTreeDirty = false,
        ContinuousIntegrationRun = "https://ci.example.com/runs/42",
    });

    private static string[] Members(JsonElement e) => [.. e.EnumerateObject().Select(p => p.Name)];

    [Fact]
    public void Statement_EveryMember_FollowsInTotoStatementV1()
    {
        var image = Image();
        using var json = JsonDocument.Parse(ManifestDeterminismTests.Statement(image, Request(), "linux/amd64"));
        var root = json.RootElement;

        // Statement v1: exactly these four members; _type the v1 URI; subject a non-empty list of ResourceDescriptors
        // each with a digest; predicateType a URI; predicate an object.
        Assert.Equal(["_type", "subject", "predicateType", "predicate"], Members(root));
        Assert.Equal("https://in-toto.io/Statement/v1", root.GetProperty("_type").GetString());
        var subject = Assert.Single(root.GetProperty("subject").EnumerateArray());
        Assert.Equal("orders-api", subject.GetProperty("name").GetString());
        var digest = subject.GetProperty("digest");
        Assert.Equal(["sha256"], Members(digest));
        Assert.Equal(image.Manifest.Digest.Encoded, digest.GetProperty("sha256").GetString());
        Assert.Matches("^[0-9a-f]{64}$", digest.GetProperty("sha256").GetString()!);
        Assert.Equal("https://slsa.dev/provenance/v1", root.GetProperty("predicateType").GetString());
        Assert.Equal(JsonValueKind.Object, root.GetProperty("predicate").ValueKind);
    }

    [Fact]
    public void Statement_Predicate_FollowsSlsaProvenanceV1()
    {
        using var json = JsonDocument.Parse(ManifestDeterminismTests.Statement(Image(), Request(), "linux/amd64"));
        var predicate = json.RootElement.GetProperty("predicate");

        Assert.Equal(["buildDefinition", "runDetails"], Members(predicate));
        var definition = predicate.GetProperty("buildDefinition");
        Assert.Equal(["buildType", "externalParameters", "internalParameters", "resolvedDependencies"], Members(definition));
        Assert.True(Uri.TryCreate(definition.GetProperty("buildType").GetString(), UriKind.Absolute, out _));
        Assert.Equal(Provenance.BuildType, definition.GetProperty("buildType").GetString());

        var external = definition.GetProperty("externalParameters");
        Assert.Equal("Orders.Specs.OrdersApi", external.GetProperty("specType").GetString());
        Assert.Equal("Orders.Specs", external.GetProperty("project").GetString());
        Assert.Equal("Release", external.GetProperty("configuration").GetString());
        Assert.Equal("linux/amd64", external.GetProperty("platform").GetString());
        var internalParameters = definition.GetProperty("internalParameters");
        Assert.Equal("0.1.0", internalParameters.GetProperty("kilnVersion").GetString());
        Assert.Equal("10.0.401", internalParameters.GetProperty("sdkVersion").GetString());

        // ResourceDescriptor: at least one of uri, digest, content; digest keys are lower-case algorithm names.
        var dependencies = definition.GetProperty("resolvedDependencies").EnumerateArray().ToArray();
        foreach (var dependency in dependencies)
        {
            Assert.True(dependency.TryGetProperty("uri", out _) || dependency.TryGetProperty("digest", out _), dependency.GetRawText());
            if (dependency.TryGetProperty("digest", out var d))
            {
                Assert.All(Members(d), algorithm => Assert.Matches("^[a-z0-9]+$|^gitCommit$", algorithm));
            }
        }

        var source = Assert.Single(dependencies, d => d.TryGetProperty("name", out var n) && n.GetString() == "source");
        Assert.Equal(new string('c', 40), source.GetProperty("digest").GetProperty("gitCommit").GetString());
        var baseImage = Assert.Single(dependencies, d => d.TryGetProperty("name", out var n) && n.GetString() == "base");
        Assert.Equal(Image().Plan.Base.Manifest!.Digest.Encoded, baseImage.GetProperty("digest").GetProperty("sha256").GetString());
        var libc = Assert.Single(dependencies, d => d.TryGetProperty("uri", out var u) && u.GetString()!.StartsWith("pkg:deb/debian/libc6@", StringComparison.Ordinal));
        Assert.Equal(new string('a', 64), libc.GetProperty("digest").GetProperty("sha256").GetString());

        var run = predicate.GetProperty("runDetails");
        Assert.Equal(["builder", "metadata"], Members(run));
        Assert.Equal(Provenance.BuilderId, run.GetProperty("builder").GetProperty("id").GetString());
        Assert.True(Uri.TryCreate(run.GetProperty("builder").GetProperty("id").GetString(), UriKind.Absolute, out _));
        Assert.Equal("https://ci.example.com/runs/42", run.GetProperty("metadata").GetProperty("invocationId").GetString());
        Assert.False(run.GetProperty("metadata").TryGetProperty("startedOn", out _));
    }

    [Fact]
    public void Statement_SameInputsInTwoDirectories_SameBytes()
    {
        var first = ManifestDeterminismTests.Statement(Image(), Request("/home/a/orders"), "linux/amd64");
        var second = ManifestDeterminismTests.Statement(Image(), Request("/srv/ci/b/orders"), "linux/amd64");

        Assert.Equal(first, second);
        Assert.DoesNotContain("/home/a", System.Text.Encoding.UTF8.GetString(first), StringComparison.Ordinal);
    }

    [Fact]
    public void Statement_OtherSourceRevision_OtherBytes()
    {
        var request = Request();
        var other = ManifestDeterminismTests.WithProvenance(request, request.Attestation.Provenance with { SourceRevision = new string('d', 40) });

        Assert.NotEqual(ManifestDeterminismTests.Statement(Image(), request, "linux/amd64"), ManifestDeterminismTests.Statement(Image(), other, "linux/amd64"));
    }

    [Fact]
    public void Statement_LocalBuild_HasNoMetadataAndNoSourceWhenUnknown()
    {
        using var json = JsonDocument.Parse(ManifestDeterminismTests.Statement(Image(), ManifestDeterminismTests.Request(), "linux/arm64"));
        var predicate = json.RootElement.GetProperty("predicate");

        Assert.Equal(["builder"], Members(predicate.GetProperty("runDetails")));
        Assert.DoesNotContain(
            predicate.GetProperty("buildDefinition").GetProperty("resolvedDependencies").EnumerateArray(),
            d => d.TryGetProperty("name", out var n) && n.GetString() == "source");
    }
}
