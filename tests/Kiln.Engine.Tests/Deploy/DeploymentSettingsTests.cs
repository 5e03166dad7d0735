using Kiln.Engine.Deploy;
using Kiln.Engine.Diagnostics;
using Kiln.Oci;

namespace Kiln.Engine.Tests.Deploy;

/// <summary>
/// KilnRegistry and KilnRepositoryPrefix are judged by the reference grammar: a setting is accepted exactly when the
/// reference rendered from it parses as an image reference (Kiln.Oci's parser, the one push and pull use).
/// </summary>
public sealed class DeploymentSettingsTests
{
    private static readonly Digest AnyDigest = Digest.Sha256("kiln"u8);

    [Theory]
    [InlineData("registry.example.com", "acme")]
    [InlineData("registry.example.com:5000", "acme/shop")]
    [InlineData("127.0.0.1:5000/team", null)]
    [InlineData("localhost:5000", "a.b/c__d/e-f")]
    [InlineData(null, "acme")]
    [InlineData("registry.example.com/", "/acme/")]
    public void ValidateSettings_ReferenceGrammarAccepts_RenderedReferenceParses(string? registry, string? prefix)
    {
        DeploymentArtifacts.ValidateSettings(registry, prefix);

        var reference = KubernetesRenderer.ImageReference("api", AnyDigest, registry, prefix);
        Assert.True(Kiln.Oci.Registry.ImageReference.TryParse(reference, out _, out var error), $"{reference}: {error}");
    }

    [Theory]
    [InlineData("https://registry.example.com", null)]
    [InlineData("Registry.Example.com", null)]
    [InlineData("registry..example.com", null)]
    [InlineData("-registry.example.com", null)]
    [InlineData("registry.example.com:port", null)]
    [InlineData("registry.example.com/Team", null)]
    [InlineData(null, "acme..shop")]
    [InlineData(null, "acme//shop")]
    [InlineData(null, "acme/-shop")]
    [InlineData(null, "Acme")]
    public void ValidateSettings_NotInTheReferenceGrammar_ThrowsKiln(string? registry, string? prefix)
    {
        var error = Assert.Throws<KilnException>(() => DeploymentArtifacts.ValidateSettings(registry, prefix));

        Assert.Equal(DiagnosticCodes.InvalidRegistry, Assert.Single(error.Diagnostics).Code);
        Assert.Contains(registry ?? prefix!, error.Message, StringComparison.Ordinal);
    }
}
