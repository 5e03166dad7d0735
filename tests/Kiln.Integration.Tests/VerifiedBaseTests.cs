using Kiln.Integration.Tests.Infrastructure;
using Kiln.Oci;
using Kiln.Tests.Registry;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// KilnBaseVerificationKey and `kiln pull --key` against a real docker-registry on 127.0.0.1: a base that Kiln built,
/// signed and pushed is accepted with its key, and refused (KILN2177) with another key or when it carries no
/// provenance at all; a local layout base is refused while the key is set (KILN2178).
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class VerifiedBaseTests(KilnPackage package) : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("kiln-verified-base-it-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private Dictionary<string, string?> Environment(string? signingKey = null) => IsolatedEnvironment.For(_temp, signingKey);

    private string Key(string name, out string publicKey) => Kiln.Tests.Shared.SigningKeyFiles.Write(_temp, name, out publicKey);

    [SkippableFact]
    public void Build_RegistryBaseWithVerificationKey_SignedBaseAccepted_WrongKeyAndUnsignedBaseRefusedWithKiln2177()
    {
        var skopeo = Tools.Require("skopeo", "skopeo");
        var busybox = Tools.Require("busybox", "busybox-static");
        var signingKey = Key("signing", out var publicKey);
        Key("other", out var otherKey);
        using var registry = RegistryServer.Start();

        // A base that Kiln built with the signing key and pushed with its attestations.
        var baseProject = BuildTests.TwoServerFixture(package);
        var pushed = baseProject.Build(Environment(signingKey), "-t:KilnPush", $"-p:KilnRegistry={registry.Host}", "-p:KilnRepositoryPrefix=bases");
        Assert.True(pushed.ExitCode == 0, pushed.Output);
        var signed = $"{registry.Host}/bases/fixture-api:1.2.3@{baseProject.ReadRelease().Digests["fixture-api:1.2.3"]}";

        // The same kind of image without provenance: the busybox layout copied in by skopeo.
        var layoutPath = Path.Combine(_temp, "busybox-layout");
        BusyboxLayout.Create(layoutPath, busybox);
        var copy = ProcessRunner.Run(skopeo, ["copy", "--dest-tls-verify=false", $"oci:{layoutPath}:{BusyboxLayout.Reference}", $"docker://{registry.Host}/bases/busybox:static"]);
        Assert.True(copy.ExitCode == 0, copy.Output);
        var unsigned = $"{registry.Host}/bases/busybox:static@{OciLayout.Open(layoutPath).FindManifest(BusyboxLayout.Reference)!.Digest}";

        var onSigned = Dependent(signed, "/app/app.sh");
        var accepted = onSigned.Build(Environment(), $"-p:KilnBaseVerificationKey={publicKey}");
        Assert.True(accepted.ExitCode == 0, accepted.Output);
        Assert.True(File.Exists(Path.Combine(onSigned.OutputDirectory, "manifests", "dependent-1.0.0.json")));

        var wrongKey = onSigned.Build(Environment(), $"-p:KilnBaseVerificationKey={otherKey}");
        Assert.NotEqual(0, wrongKey.ExitCode);
        Assert.Contains("KILN2177", wrongKey.Output, StringComparison.Ordinal);
        Assert.Contains("KILN2171", wrongKey.Output, StringComparison.Ordinal); // the underlying check: the signature
        Assert.Contains("Fixture.Dependent", wrongKey.Output, StringComparison.Ordinal);

        var onUnsigned = Dependent(unsigned, "/bin/cat");
        var refused = onUnsigned.Build(Environment(), $"-p:KilnBaseVerificationKey={publicKey}");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("KILN2177", refused.Output, StringComparison.Ordinal);
        Assert.Contains("KILN2170", refused.Output, StringComparison.Ordinal); // no provenance attached at all
        onUnsigned.AssertNoArtifacts("a base that is not verified builds nothing");

        // Without the key the same unsigned base is taken on its digest alone, as before.
        var withoutKey = onUnsigned.Build(Environment());
        Assert.True(withoutKey.ExitCode == 0, withoutKey.Output);

        // kiln pull --key makes the same decision.
        var pullSigned = KilnCli.Run(package, _temp, "pull", signed, "--key", publicKey, "--cache-dir", Path.Combine(_temp, "pull-cache"));
        Assert.True(pullSigned.ExitCode == 0, pullSigned.ToString());
        Assert.Contains("provenance verified", pullSigned.Output, StringComparison.Ordinal);
        var pullWrongKey = KilnCli.Run(package, _temp, "pull", signed, "--key", otherKey, "--cache-dir", Path.Combine(_temp, "pull-cache"));
        Assert.NotEqual(0, pullWrongKey.ExitCode);
        Assert.Contains("KILN2177", pullWrongKey.Output, StringComparison.Ordinal);
        var pullUnsigned = KilnCli.Run(package, _temp, "pull", unsigned, "--key", publicKey, "--cache-dir", Path.Combine(_temp, "pull-cache"));
        Assert.NotEqual(0, pullUnsigned.ExitCode);
        Assert.Contains("KILN2177", pullUnsigned.Output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Build_LocalLayoutBaseWithVerificationKey_RefusedWithKiln2178()
    {
        var busybox = Tools.Require("busybox", "busybox-static");
        Key("signing", out var publicKey);
        var fixture = new FixtureProject(package);
        BusyboxLayout.Create(Path.Combine(fixture.Directory, "base"), busybox);
        fixture
            .Write("greeting", "hello\n")
            .Specs($$"""
                public sealed class Dependent : ServerSpec
                {
                    public override string Name => "dependent";
                    public override string Version => "1.0.0";
                    public override BaseImage Base => BaseImage.OciLayout("base", "{{BusyboxLayout.Reference}}");
                    public override ImmutableArray<Layer> Layers => [Layer.File("greeting", to: "/etc/greeting")];
                    public override Entrypoint Entrypoint => new("/bin/cat", "/etc/greeting");
                }
                """);

        var refused = fixture.Build(Environment(), $"-p:KilnBaseVerificationKey={publicKey}");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("KILN2178", refused.Output, StringComparison.Ordinal);
        fixture.AssertNoArtifacts("a base that cannot be verified builds nothing");
    }

    private FixtureProject Dependent(string reference, string entrypoint) =>
        new FixtureProject(package)
            .Write("greeting", "hello\n")
            .Specs($$"""
                public sealed class Dependent : ServerSpec
                {
                    public override string Name => "dependent";
                    public override string Version => "1.0.0";
                    public override BaseImage Base => BaseImage.Registry("{{reference}}");
                    public override ImmutableArray<Layer> Layers => [Layer.File("greeting", to: "/etc/greeting")];
                    public override Account Account => Account.NonRoot("dependent", 10001);
                    public override Entrypoint Entrypoint => new("{{entrypoint}}", "/etc/greeting");
                }
                """);
}
