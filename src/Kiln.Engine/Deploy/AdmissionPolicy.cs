using System.Security.Cryptography;
using Kiln.Engine.Attestation;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;

namespace Kiln.Engine.Deploy;

/// <summary>
/// The admission policy written next to a deployment's Kubernetes objects when a verification key is configured
/// (KilnVerificationKey): a Kyverno <c>ClusterPolicy</c> whose <c>verifyImages</c> rule admits a pod only when each
/// of the deployment's images, pinned by digest, carries an SLSA provenance v1 attestation signed by that key and
/// naming Kiln's builder. Kyverno rather than sigstore's policy-controller: it is the more widely installed admission
/// controller, one ClusterPolicy covers pods of every namespace without opting namespaces in, and its attestation
/// conditions can check the predicate's builder id (docs/provenance.md).
/// </summary>
internal static class AdmissionPolicy
{
    public const string FileNameSuffix = ".kyverno-clusterpolicy.yaml";

    /// <summary>Reads the public key PEM a build names, normalised to its SubjectPublicKeyInfo PEM.</summary>
    /// <exception cref="KilnException">KILN4031 when it cannot be read or is not a P-256 public key.</exception>
    public static string LoadPublicKey(string path)
    {
        using var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
            if (key.KeySize != 256)
            {
                throw new CryptographicException("not P-256");
            }
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            throw new KilnException(DiagnosticCodes.VerificationKeyUnusable, $"KilnVerificationKey '{path}' cannot be read or is not an ECDSA P-256 public key in PEM form ({e.GetType().Name}). Export it with: openssl ec -in kiln-signing.pem -pubout -out kiln-signing.pub");
        }

        // Only the public half is ever written, even if the file held a private key.
        return key.ExportSubjectPublicKeyInfoPem();
    }

    public static RenderedDocument Render(ResolvedDeployment deployment, IReadOnlyDictionary<string, DeployedImage> images, string? registry, string? repositoryPrefix, string publicKeyPem)
    {
        var name = $"kiln-{deployment.Name}-provenance".Replace('_', '-').ToLowerInvariant();
        var references = deployment.Components
            .Select(c => KubernetesRenderer.ImageReference(c.Server.Name, images[c.Server.Reference].Digest, registry, repositoryPrefix))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .Select(r => (YamlNode)new YamlString(r))
            .ToList();
        var document = new YamlMap
        {
            { "apiVersion", "kyverno.io/v1" },
            { "kind", "ClusterPolicy" },
            {
                "metadata", new YamlMap
                {
                    { "name", name },
                    {
                        "annotations", new YamlMap
                        {
                            { "policies.kyverno.io/title", $"Kiln provenance of deployment {deployment.Name}" },
                            { "policies.kyverno.io/description", "Admits the deployment's images only with an SLSA provenance v1 attestation signed by the Kiln build key and naming Kiln's builder." },
                        }
                    },
                }
            },
            {
                "spec", new YamlMap
                {
                    { "validationFailureAction", "Enforce" },
                    { "background", false },
                    { "webhookTimeoutSeconds", 30 },
                    {
                        "rules", new YamlSeq(
                        [
                            new YamlMap
                            {
                                { "name", "kiln-provenance" },
                                { "match", new YamlMap { { "any", new YamlSeq([new YamlMap { { "resources", new YamlMap { { "kinds", new YamlSeq([new YamlString("Pod")]) } } } }]) } } },
                                {
                                    "verifyImages", new YamlSeq(
                                    [
                                        new YamlMap
                                        {
                                            { "imageReferences", new YamlSeq(references) },
                                            { "required", true },
                                            { "verifyDigest", true },
                                            { "mutateDigest", false },
                                            {
                                                "attestations", new YamlSeq(
                                                [
                                                    new YamlMap
                                                    {
                                                        { "type", Provenance.PredicateType },
                                                        {
                                                            "attestors", new YamlSeq(
                                                            [
                                                                new YamlMap
                                                                {
                                                                    {
                                                                        "entries", new YamlSeq(
                                                                        [
                                                                            new YamlMap
                                                                            {
                                                                                {
                                                                                    "keys", new YamlMap
                                                                                    {
                                                                                        { "publicKeys", publicKeyPem.TrimEnd('\n') },
                                                                                        { "signatureAlgorithm", "sha256" },
                                                                                        { "rekor", new YamlMap { { "ignoreTlog", true } } },
                                                                                        { "ctlog", new YamlMap { { "ignoreSCT", true } } },
                                                                                    }
                                                                                },
                                                                            },
                                                                        ])
                                                                    },
                                                                },
                                                            ])
                                                        },
                                                        {
                                                            "conditions", new YamlSeq(
                                                            [
                                                                new YamlMap
                                                                {
                                                                    {
                                                                        "all", new YamlSeq(
                                                                        [
                                                                            new YamlMap
                                                                            {
                                                                                { "key", "{{ runDetails.builder.id }}" },
                                                                                { "operator", "Equals" },
                                                                                { "value", Provenance.BuilderId },
                                                                            },
                                                                        ])
                                                                    },
                                                                },
                                                            ])
                                                        },
                                                    },
                                                ])
                                            },
                                        },
                                    ])
                                },
                            },
                        ])
                    },
                }
            },
        };
        return new RenderedDocument(deployment.Name.Replace('_', '-') + FileNameSuffix, "ClusterPolicy", name, YamlWriter.Write(document));
    }
}
