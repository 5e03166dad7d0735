using System.Text.Json;
using Kiln.Engine.Building;
using Kiln.Engine.Manifests;
using Kiln.Engine.Requests;
using Kiln.Oci;

namespace Kiln.Engine.Attestation;

/// <summary>
/// The in-toto Statement v1 (https://github.com/in-toto/attestation/blob/v1.0/spec/v1/statement.md) with an SLSA
/// Provenance v1 predicate (https://slsa.dev/spec/v1.0/provenance) of one image manifest. Canonical JSON with a fixed
/// member order and no clock: the same inputs give the same bytes, which is what a reproducible build must attest.
/// </summary>
internal static class Provenance
{
    public const string StatementType = "https://in-toto.io/Statement/v1";
    public const string PredicateType = "https://slsa.dev/provenance/v1";

    /// <summary>Kiln's build type: what the external and internal parameters mean (docs/provenance.md).</summary>
    public const string BuildType = "https://kiln.dev/provenance/oci-image/v1";

    /// <summary>The builder id: the Kiln engine run by MSBuild or the CLI (docs/provenance.md says what it vouches for).</summary>
    public const string BuilderId = "https://kiln.dev/builder/v1";

    /// <summary>The resolved-dependency name of the source revision.</summary>
    public const string SourceDependencyName = "source";

    /// <summary>The resolved-dependency name of the base image.</summary>
    public const string BaseDependencyName = "base";

    /// <summary>
    /// The statement for <paramref name="image"/>, built for <paramref name="platform"/> (os/arch) from the spec
    /// assembly <paramref name="assembly"/> of <paramref name="project"/>.
    /// </summary>
    public static byte[] Statement(BuiltImage image, string assembly, ProjectOptions project, BuildProvenance provenance, string platform)
    {
        var server = image.Plan.Server;
        var components = Sbom.Components(image, project);
        return CanonicalJson.Serialize(w =>
        {
            w.WriteStartObject();
            w.WriteString("_type", StatementType);
            w.WriteStartArray("subject");
            w.WriteStartObject();
            w.WriteString("name", server.Name);
            WriteDigest(w, "sha256", image.Manifest.Digest.Encoded);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteString("predicateType", PredicateType);
            w.WriteStartObject("predicate");

            w.WriteStartObject("buildDefinition");
            w.WriteString("buildType", BuildType);
            w.WriteStartObject("externalParameters");
            w.WriteString("specType", server.SpecType);
            // The assembly's name, never a path: two checkouts in two directories must attest the same bytes.
            w.WriteString("project", Path.GetFileNameWithoutExtension(assembly));
            w.WriteString("configuration", project.Configuration);
            w.WriteString("platform", platform);
            w.WriteString("name", server.Name);
            w.WriteString("version", server.Version);
            w.WriteEndObject();
            w.WriteStartObject("internalParameters");
            WriteOptional(w, "kilnVersion", provenance.KilnVersion);
            WriteOptional(w, "sdkVersion", provenance.SdkVersion);
            w.WriteNumber("sourceDateEpoch", project.SourceDateEpoch);
            if (provenance.SourceTreeDirty is { } dirty)
            {
                w.WriteBoolean("sourceTreeDirty", dirty);
            }

            w.WriteEndObject();
            w.WriteStartArray("resolvedDependencies");
            if (!string.IsNullOrEmpty(provenance.SourceRevision))
            {
                w.WriteStartObject();
                w.WriteString("name", SourceDependencyName);
                WriteDigest(w, "gitCommit", provenance.SourceRevision);
                w.WriteEndObject();
            }

            if (image.Plan.Base.Manifest is { } baseManifest)
            {
                w.WriteStartObject();
                w.WriteString("name", BaseDependencyName);
                w.WriteString("uri", image.Plan.Base.Name);
                WriteDigest(w, baseManifest.Digest.Algorithm, baseManifest.Digest.Encoded);
                w.WriteEndObject();
            }

            foreach (var c in components)
            {
                w.WriteStartObject();
                w.WriteString("uri", c.Purl);
                if (c.HashAlgorithm is not null && c.HashHex is not null)
                {
                    WriteDigest(w, c.HashAlgorithm.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant(), c.HashHex);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteStartObject("runDetails");
            w.WriteStartObject("builder");
            w.WriteString("id", BuilderId);
            if (!string.IsNullOrEmpty(provenance.KilnVersion))
            {
                w.WriteStartObject("version");
                w.WriteString("kiln", provenance.KilnVersion);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            if (!string.IsNullOrEmpty(provenance.ContinuousIntegrationRun))
            {
                // No startedOn/finishedOn: a timestamp would make every statement different.
                w.WriteStartObject("metadata");
                w.WriteString("invocationId", provenance.ContinuousIntegrationRun);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    private static void WriteDigest(Utf8JsonWriter w, string algorithm, string value)
    {
        w.WriteStartObject("digest");
        w.WriteString(algorithm, value);
        w.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            w.WriteString(name, value);
        }
    }
}
