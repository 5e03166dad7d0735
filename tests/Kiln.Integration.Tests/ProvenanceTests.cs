using System.Text.Json;
using Kiln.Integration.Tests.Infrastructure;
using Kiln.Oci;
using Kiln.Tests.Registry;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// Signed provenance end to end: a real `dotnet build` with KILN_SIGNING_KEY attaches a signed attestation to every
/// image without changing index.json, `KilnPush` puts it behind the registry's referrers tag (skopeo reads it), and
/// `kiln verify-image` accepts it from the layout and from the registry, and refuses it with another key.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class ProvenanceTests(KilnPackage package) : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("kiln-provenance-it-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private string Key(string name, out string publicKey) => Kiln.Tests.Shared.SigningKeyFiles.Write(_temp, name, out publicKey);

    [SkippableFact]
    public void Build_WithSigningKey_AttachesVerifiableProvenance_PushedBehindReferrersTag()
    {
        var skopeo = Tools.Require("skopeo", "skopeo");
        Tools.Require("docker-registry", "docker-registry");
        var key = Key("signing", out var publicKey);
        Key("other", out var otherKey);
        var fixture = BuildTests.TwoServerFixture(package);
        var environment = IsolatedEnvironment.For(_temp, key);

        var build = fixture.Build(environment);

        Assert.True(build.ExitCode == 0, build.Output);
        Assert.DoesNotContain(File.ReadAllText(key).Split('\n')[1], build.Output, StringComparison.Ordinal);
        var release = fixture.ReadRelease();
        var index = OciLayout.Open(fixture.LayoutDirectory).ReadIndex();
        Assert.Equal(release.Digests.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value), index.Manifests.Select(m => m.Digest.ToString()));
        Assert.True(File.Exists(Path.Combine(fixture.OutputDirectory, "attestations", "fixture-api-1.2.3.provenance.json")));

        var verified = KilnCli.Run(package, fixture.Directory, "verify-image", fixture.LayoutDirectory, "--image", "fixture-api:1.2.3", "--key", publicKey, "--lock", Path.Combine(fixture.Directory, "kiln.lock.json"), "--json");
        Assert.True(verified.ExitCode == 0, verified.ToString());
        var wrongKey = KilnCli.Run(package, fixture.Directory, "verify-image", fixture.LayoutDirectory, "--image", "fixture-api:1.2.3", "--key", otherKey);
        Assert.True(wrongKey.ExitCode == 21, wrongKey.ToString());
        Assert.Contains("KILN2171", wrongKey.Output, StringComparison.Ordinal);

        using var registry = RegistryServer.Start();
        var push = fixture.Build(environment, "-t:KilnPush", $"-p:KilnRegistry={registry.Host}", "-p:KilnRepositoryPrefix=kiln-it");
        Assert.True(push.ExitCode == 0, push.Output);
        var digest = Digest.Parse(release.Digests["fixture-api:1.2.3"]);
        var referrers = ProcessRunner.Run(skopeo, ["inspect", "--raw", "--tls-verify=false", $"docker://{registry.Host}/kiln-it/fixture-api:sha256-{digest.Encoded}"]);
        Assert.True(referrers.ExitCode == 0, referrers.Output);
        using var referrersIndex = JsonDocument.Parse(referrers.Output);
        Assert.Equal(
            ["application/vnd.cyclonedx+json", "application/vnd.dsse.envelope.v1+json"],
            referrersIndex.RootElement.GetProperty("manifests").EnumerateArray().Select(m => m.GetProperty("artifactType").GetString()!).Order(StringComparer.Ordinal).ToArray());

        var remote = KilnCli.Run(package, fixture.Directory, "verify-image", $"{registry.Host}/kiln-it/fixture-api@{digest}", "--key", publicKey, "--json");
        Assert.True(remote.ExitCode == 0, remote.ToString());
    }
}
