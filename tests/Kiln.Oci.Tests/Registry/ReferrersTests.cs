using System.Diagnostics;
using System.Text.Json;
using Kiln.Oci.Registry;
using Kiln.Tests.Registry;
using Kiln.Tests.Shared;

namespace Kiln.Oci.Tests.Registry;

/// <summary>
/// Referrers against a real docker-registry, which has no referrers API: the client must keep the
/// <c>sha256-&lt;hex&gt;</c> tag of the distribution spec's fallback, and skopeo (not Kiln) reads it back.
/// </summary>
public sealed class ReferrersTests
{
    private static RegistryClientOptions Fast() => new() { RetryBudget = TimeSpan.FromSeconds(2), InitialBackoff = TimeSpan.FromMilliseconds(20) };

    private static (Descriptor Descriptor, byte[] Manifest, Descriptor Layer, byte[] Payload) Artifact(Digest subject, long subjectSize, string artifactType, string payload)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(payload);
        var layer = new Descriptor(artifactType, Digest.Sha256(bytes), bytes.Length);
        var manifest = new ImageManifest(new Descriptor(MediaTypes.EmptyJson, Digest.Sha256("{}"u8), 2), [layer])
        {
            ArtifactType = artifactType,
            Subject = new Descriptor(MediaTypes.ImageManifest, subject, subjectSize),
        };
        var json = manifest.ToJson();
        return (new Descriptor(MediaTypes.ImageManifest, Digest.Sha256(json), json.Length) { ArtifactType = artifactType }, json, layer, bytes);
    }

    private static async Task PushArtifactAsync(RegistryClient client, string repository, TestImage image, (Descriptor Descriptor, byte[] Manifest, Descriptor Layer, byte[] Payload) artifact)
    {
        await client.PushBlobAsync(repository, new Descriptor(MediaTypes.EmptyJson, Digest.Sha256("{}"u8), 2), () => new MemoryStream("{}"u8.ToArray()));
        await client.PushBlobAsync(repository, artifact.Layer, () => new MemoryStream(artifact.Payload));
        Assert.True(await client.PutReferrerAsync(repository, image.Digest, artifact.Descriptor, artifact.Manifest));
    }

    [SkippableFact]
    public async Task PutReferrer_RegistryWithoutReferrersApi_SkopeoSeesReferrersTagIndex()
    {
        var skopeo = ToolPolicy.Require("skopeo", "skopeo");

        using var registry = RegistryServer.Start();
        using var client = new RegistryClient(registry.Host, Fast());
        var image = TestImage.Create(1000);
        foreach (var blob in image.BlobDescriptors)
        {
            await client.PushBlobAsync("kiln/app", blob, () => new MemoryStream(image.Blobs[blob.Digest]));
        }

        await client.PutManifestAsync("kiln/app", "1.0.0", MediaTypes.ImageManifest, image.ManifestBytes);
        var provenance = Artifact(image.Digest, image.ManifestBytes.Length, "application/vnd.dsse.envelope.v1+json", "{\"payloadType\":\"application/vnd.in-toto+json\",\"payload\":\"e30=\",\"signatures\":[]}");
        var sbom = Artifact(image.Digest, image.ManifestBytes.Length, "application/vnd.cyclonedx+json", "{\"bomFormat\":\"CycloneDX\"}");

        await PushArtifactAsync(client, "kiln/app", image, provenance);
        await PushArtifactAsync(client, "kiln/app", image, sbom);
        await PushArtifactAsync(client, "kiln/app", image, provenance); // again: still listed once

        var start = new ProcessStartInfo(skopeo) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "inspect", "--raw", "--tls-verify=false", $"docker://{registry.Host}/kiln/app:sha256-{image.Digest.Encoded}" })
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, stderr);
        using var index = JsonDocument.Parse(stdout);
        Assert.Equal(MediaTypes.ImageIndex, index.RootElement.GetProperty("mediaType").GetString());
        var entries = index.RootElement.GetProperty("manifests").EnumerateArray().ToArray();
        Assert.Equal(
            [(provenance.Descriptor.Digest.ToString(), "application/vnd.dsse.envelope.v1+json"), (sbom.Descriptor.Digest.ToString(), "application/vnd.cyclonedx+json")],
            entries.Select(e => (e.GetProperty("digest").GetString()!, e.GetProperty("artifactType").GetString()!)).ToArray());

        // Pulled back by digest, byte for byte; and the client's own discovery finds both.
        var (_, pulled) = await client.GetManifestAsync("kiln/app", provenance.Descriptor.Digest.ToString());
        Assert.Equal(provenance.Manifest, pulled);
        Assert.Equal(image.Digest, ImageManifest.Parse(pulled).Subject!.Digest);
        var referrers = await client.GetReferrersAsync("kiln/app", image.Digest);
        Assert.Equal([provenance.Descriptor.Digest, sbom.Descriptor.Digest], referrers.Select(r => r.Digest).ToArray());
    }
}
