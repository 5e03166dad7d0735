using System.Text.Json.Nodes;

namespace Kiln.Tests.Shared;

/// <summary>
/// A view of an OCI image layout in which one platform's image of a tag is the only thing tagged: the same blobs (through
/// a symbolic link) and an index.json naming that one image manifest. umoci refuses a tag that names an image index with
/// several images (it cannot tell which to unpack); given the view, it unpacks exactly the platform a test asks for.
/// </summary>
internal static class LayoutView
{
    private const string IndexMediaType = "application/vnd.oci.image.index.v1+json";
    private const string DockerListMediaType = "application/vnd.docker.distribution.manifest.list.v2+json";

    /// <summary>
    /// Writes the view of <paramref name="reference"/>'s linux/<paramref name="architecture"/> image into
    /// <paramref name="viewDirectory"/> (a tag naming a plain image manifest is taken as it is).
    /// </summary>
    /// <returns>The image reference to give umoci: <c>VIEW:ARCHITECTURE</c>.</returns>
    public static string Of(string layoutDirectory, string reference, string architecture, string viewDirectory)
    {
        var manifest = Manifest(layoutDirectory, reference, architecture);
        Directory.CreateDirectory(viewDirectory);
        File.Copy(Path.Combine(layoutDirectory, "oci-layout"), Path.Combine(viewDirectory, "oci-layout"), overwrite: true);
        if (!Directory.Exists(Path.Combine(viewDirectory, "blobs")))
        {
            Directory.CreateSymbolicLink(Path.Combine(viewDirectory, "blobs"), Path.Combine(Path.GetFullPath(layoutDirectory), "blobs"));
        }

        var entry = new JsonObject
        {
            ["mediaType"] = manifest["mediaType"]!.GetValue<string>(),
            ["digest"] = manifest["digest"]!.GetValue<string>(),
            ["size"] = manifest["size"]!.GetValue<long>(),
            ["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = architecture },
        };
        File.WriteAllText(Path.Combine(viewDirectory, "index.json"), new JsonObject { ["schemaVersion"] = 2, ["manifests"] = new JsonArray(entry) }.ToJsonString());
        return $"{viewDirectory}:{architecture}";
    }

    private static JsonNode Manifest(string layoutDirectory, string reference, string architecture)
    {
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(layoutDirectory, "index.json")))!;
        var tagged = index["manifests"]!.AsArray().FirstOrDefault(m => m!["annotations"]?["org.opencontainers.image.ref.name"]?.GetValue<string>() == reference)
            ?? throw new Xunit.Sdk.XunitException($"{reference} is not tagged in {layoutDirectory}/index.json.");
        if (tagged["mediaType"]!.GetValue<string>() is not (IndexMediaType or DockerListMediaType))
        {
            return tagged;
        }

        var digest = tagged["digest"]!.GetValue<string>().Split(':');
        var inner = JsonNode.Parse(File.ReadAllText(Path.Combine(layoutDirectory, "blobs", digest[0], digest[1])))!;
        return inner["manifests"]!.AsArray().FirstOrDefault(m => m!["platform"]?["os"]?.GetValue<string>() == "linux" && m["platform"]!["architecture"]?.GetValue<string>() == architecture)
            ?? throw new Xunit.Sdk.XunitException($"The index {reference} in {layoutDirectory} has no linux/{architecture} image.");
    }
}
