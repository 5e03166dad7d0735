using System.Security.Cryptography;
using Kiln.Engine.Attestation;
using Kiln.Engine.Deploy;
using Kiln.Engine.Diagnostics;
using YamlDotNet.RepresentationModel;
using YamlNode = YamlDotNet.RepresentationModel.YamlNode;

namespace Kiln.Engine.Tests.Deploy;

/// <summary>The Kyverno ClusterPolicy written beside a deployment when a verification key is configured: its structure, parsed back by YamlDotNet.</summary>
public sealed class AdmissionPolicyTests
{
    private static string PublicKey()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return key.ExportSubjectPublicKeyInfoPem();
    }

    private static YamlMappingNode Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return (YamlMappingNode)Assert.Single(stream.Documents).RootNode;
    }

    private static YamlNode At(YamlNode node, params object[] path)
    {
        foreach (var step in path)
        {
            node = step is int i ? ((YamlSequenceNode)node).Children[i] : ((YamlMappingNode)node).Children[new YamlScalarNode((string)step)];
        }

        return node;
    }

    private static string Scalar(YamlNode node, params object[] path) => ((YamlScalarNode)At(node, path)).Value!;

    [Fact]
    public void Render_TwoComponents_KyvernoVerifyImagesRulePinsEveryImageToKeyAndBuilder()
    {
        var pem = PublicKey();
        var deployment = DeploymentFixtures.Deployment(DeploymentFixtures.Component(DeploymentFixtures.Api()), DeploymentFixtures.Component(DeploymentFixtures.Worker()));

        var document = AdmissionPolicy.Render(deployment, DeploymentFixtures.Images(), "registry.example.com", "acme/shop", pem);

        var root = Parse(document.Yaml);
        Assert.Equal("ClusterPolicy", document.Kind);
        Assert.EndsWith(".kyverno-clusterpolicy.yaml", document.FileName, StringComparison.Ordinal);
        Assert.Equal("kyverno.io/v1", Scalar(root, "apiVersion"));
        Assert.Equal("ClusterPolicy", Scalar(root, "kind"));
        Assert.Equal(document.Name, Scalar(root, "metadata", "name"));
        Assert.Equal("Enforce", Scalar(root, "spec", "validationFailureAction"));
        var rule = At(root, "spec", "rules", 0);
        Assert.Equal("Pod", Scalar(rule, "match", "any", 0, "resources", "kinds", 0));
        var verify = At(rule, "verifyImages", 0);
        Assert.Equal(
            new[]
            {
                KubernetesRenderer.ImageReference(DeploymentFixtures.Api().Name, DeploymentFixtures.ApiDigest, "registry.example.com", "acme/shop"),
                KubernetesRenderer.ImageReference(DeploymentFixtures.Worker().Name, DeploymentFixtures.WorkerDigest, "registry.example.com", "acme/shop"),
            }.Order(StringComparer.Ordinal),
            ((YamlSequenceNode)At(verify, "imageReferences")).Children.Select(c => ((YamlScalarNode)c).Value!));
        Assert.Equal("true", Scalar(verify, "verifyDigest"));
        Assert.Equal("true", Scalar(verify, "required"));
        var attestation = At(verify, "attestations", 0);
        Assert.Equal(Provenance.PredicateType, Scalar(attestation, "type"));
        Assert.Equal(pem.TrimEnd('\n'), Scalar(attestation, "attestors", 0, "entries", 0, "keys", "publicKeys").TrimEnd('\n'));
        Assert.Equal("true", Scalar(attestation, "attestors", 0, "entries", 0, "keys", "rekor", "ignoreTlog"));
        var condition = At(attestation, "conditions", 0, "all", 0);
        Assert.Equal("{{ runDetails.builder.id }}", Scalar(condition, "key"));
        Assert.Equal("Equals", Scalar(condition, "operator"));
        Assert.Equal(Provenance.BuilderId, Scalar(condition, "value"));
    }

    [Fact]
    public void LoadPublicKey_PrivateKeyFile_WritesOnlyPublicHalf()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, key.ExportPkcs8PrivateKeyPem());

            var pem = AdmissionPolicy.LoadPublicKey(path);

            Assert.Equal(key.ExportSubjectPublicKeyInfoPem(), pem);
            Assert.DoesNotContain("PRIVATE", pem, StringComparison.Ordinal);
            File.WriteAllText(path, "nope");
            Assert.Equal(DiagnosticCodes.VerificationKeyUnusable, Assert.Throws<KilnException>(() => AdmissionPolicy.LoadPublicKey(path)).Diagnostics[0].Code);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
