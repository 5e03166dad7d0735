using System.Text;
using System.Text.Json;
using Kiln.Engine.Building;
using Kiln.Engine.IO;
using Kiln.Engine.Planning;
using Kiln.Engine.Requests;
using Kiln.Oci;

namespace Kiln.Engine.Manifests;

/// <summary>One component of an SBOM: a package with its Package URL.</summary>
/// <param name="Purl">The Package URL (github.com/package-url/purl-spec), also the component's bom-ref.</param>
/// <param name="HashAlgorithm">CycloneDX hash algorithm name (SHA-256, SHA-512), or null.</param>
/// <param name="HashHex">The hash as lowercase hex, or null.</param>
internal sealed record SbomComponent(string Name, string Version, string Purl, string? HashAlgorithm, string? HashHex);

/// <summary>
/// The CycloneDX 1.6 SBOM of one image (sbom/&lt;name&gt;-&lt;version&gt;.cdx.json): the operating-system packages of
/// its base (pkg:deb) and the NuGet packages of its .NET applications, read from the publish output's *.deps.json
/// (pkg:nuget). Deterministic: no timestamp, and the serial number is derived from the Kiln manifest's content digest.
/// </summary>
internal static class Sbom
{
    public const string SpecVersion = "1.6";

    public static byte[] Write(BuiltImage image, Digest contentDigest, ProjectOptions project, BuildProvenance provenance)
    {
        var server = image.Plan.Server;
        var imagePurl = $"pkg:oci/{Uri.EscapeDataString(server.Name)}@{Uri.EscapeDataString(image.Manifest.Digest.ToString())}?tag={Uri.EscapeDataString(server.Version)}";
        var components = Components(image, project);
        return JsonText.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("bomFormat", "CycloneDX");
            w.WriteString("specVersion", SpecVersion);
            w.WriteString("serialNumber", SerialNumber(contentDigest));
            w.WriteNumber("version", 1);
            w.WriteStartObject("metadata");
            w.WriteStartObject("tools");
            w.WriteStartArray("components");
            w.WriteStartObject();
            w.WriteString("type", "application");
            w.WriteString("name", "kiln");
            if (!string.IsNullOrEmpty(provenance.KilnVersion))
            {
                w.WriteString("version", provenance.KilnVersion);
            }

            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartObject("component");
            w.WriteString("type", "container");
            w.WriteString("bom-ref", imagePurl);
            w.WriteString("name", server.Name);
            w.WriteString("version", server.Version);
            w.WriteString("purl", imagePurl);
            w.WriteStartArray("hashes");
            w.WriteStartObject();
            w.WriteString("alg", "SHA-256");
            w.WriteString("content", image.Manifest.Digest.Encoded);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();

            w.WriteStartArray("components");
            foreach (var c in components)
            {
                w.WriteStartObject();
                w.WriteString("type", "library");
                w.WriteString("bom-ref", c.Purl);
                w.WriteString("name", c.Name);
                w.WriteString("version", c.Version);
                w.WriteString("purl", c.Purl);
                if (c.HashAlgorithm is not null && c.HashHex is not null)
                {
                    w.WriteStartArray("hashes");
                    w.WriteStartObject();
                    w.WriteString("alg", c.HashAlgorithm);
                    w.WriteString("content", c.HashHex);
                    w.WriteEndObject();
                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("dependencies");
            w.WriteStartObject();
            w.WriteString("ref", imagePurl);
            w.WriteStartArray("dependsOn");
            foreach (var c in components)
            {
                w.WriteStringValue(c.Purl);
            }

            w.WriteEndArray();
            w.WriteEndObject();
            foreach (var c in components)
            {
                w.WriteStartObject();
                w.WriteString("ref", c.Purl);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>Every component, sorted by purl and distinct: the same input always lists the same components in the same order.</summary>
    public static IReadOnlyList<SbomComponent> Components(BuiltImage image, ProjectOptions project)
    {
        var components = new List<SbomComponent>();
        foreach (var package in image.Plan.Base.Packages)
        {
            var purl = $"pkg:deb/debian/{PurlEncode(package.Name)}@{PurlEncode(package.Version)}?arch={PurlEncode(package.Architecture)}";
            components.Add(new SbomComponent(package.Name, package.Version, purl, "SHA-256", package.Sha256.ToLowerInvariant()));
        }

        var keys = Planner.PublishRequirements([image.Plan.Server], project, [image.Plan.Platform]).Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var published in project.PublishedProjects.Where(p => keys.Contains(p.Key) && Directory.Exists(p.Directory)))
        {
            foreach (var depsFile in Directory.EnumerateFiles(published.Directory, "*.deps.json").Order(StringComparer.Ordinal))
            {
                components.AddRange(NuGetPackages(File.ReadAllBytes(depsFile)));
            }
        }

        return [.. components.DistinctBy(c => c.Purl).OrderBy(c => c.Purl, StringComparer.Ordinal)];
    }

    /// <summary>The NuGet packages a .deps.json names (type package, and the runtime pack of a self-contained app).</summary>
    public static IEnumerable<SbomComponent> NuGetPackages(byte[] depsJson)
    {
        using var document = JsonDocument.Parse(depsJson);
        if (!document.RootElement.TryGetProperty("libraries", out var libraries) || libraries.ValueKind != JsonValueKind.Object)
        {
            return [];
        }

        var result = new List<SbomComponent>();
        foreach (var library in libraries.EnumerateObject())
        {
            var type = library.Value.TryGetProperty("type", out var t) ? t.GetString() : null;
            if (type is not ("package" or "runtimepack"))
            {
                continue;
            }

            var slash = library.Name.IndexOf('/');
            if (slash <= 0)
            {
                continue;
            }

            var name = library.Name[..slash];
            if (type == "runtimepack" && name.StartsWith("runtimepack.", StringComparison.Ordinal))
            {
                name = name["runtimepack.".Length..];
            }

            var version = library.Name[(slash + 1)..];
            string? hash = null;
            if (library.Value.TryGetProperty("sha512", out var sha) && sha.GetString() is { } text && text.StartsWith("sha512-", StringComparison.Ordinal))
            {
                try
                {
                    hash = Convert.ToHexStringLower(Convert.FromBase64String(text["sha512-".Length..]));
                }
                catch (FormatException)
                {
                    // a malformed hash is left out rather than guessed at
                }
            }

            result.Add(new SbomComponent(name, version, $"pkg:nuget/{PurlEncode(name)}@{PurlEncode(version)}", hash is null ? null : "SHA-512", hash));
        }

        return result;
    }

    /// <summary>
    /// A UUID (RFC 4122 form, version 5 and variant bits set) taken from the content digest, so that the same image
    /// always has the same serial number and a different one never shares it.
    /// </summary>
    public static string SerialNumber(Digest contentDigest)
    {
        var bytes = Convert.FromHexString(contentDigest.Encoded[..32]);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        var hex = Convert.ToHexStringLower(bytes);
        return $"urn:uuid:{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }

    /// <summary>purl percent-encoding: everything but ASCII letters, digits and '.', '-', '_', '~' ('+' and ':' included).</summary>
    internal static string PurlEncode(string value)
    {
        var text = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '~')
            {
                text.Append(c);
            }
            else
            {
                text.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }
}
