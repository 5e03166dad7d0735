using System.Collections.Immutable;
using System.Text.Json;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Manifests;

namespace Kiln.Engine.Query;

/// <summary>One server's value of the queried setting (null: not set).</summary>
public sealed record QueryRow(string Name, string Version, string ImageDigest, string? Value, string Source);

/// <summary>The inputs of <c>kiln query</c>: a setting path (limits.openFiles) and release.json files or manifests.</summary>
public sealed record QueryRequest(string Setting, ImmutableArray<string> Sources, string? ArtifactDirectory = null);

/// <summary>
/// <c>kiln query SETTING</c>: one resolved setting across every server of a build or a whole set of releases, read
/// from manifests alone. The path is looked up in the settings first (limits.openFiles), then in the whole content
/// section (base.digest, image.digest).
/// </summary>
internal static class SettingQuery
{
    public static ImmutableArray<QueryRow> Query(QueryRequest request)
    {
        var segments = request.Setting.Split('.');
        if (request.Setting.Length == 0 || segments.Any(s => s.Length == 0))
        {
            throw new KilnException(DiagnosticCodes.InvalidSetting, $"'{request.Setting}' is not a setting path. Name one such as limits.openFiles, user, ports or base.digest.");
        }

        if (request.Sources.IsEmpty)
        {
            throw new KilnException(DiagnosticCodes.ArtifactNotFound, "No release.json or manifest to query. Pass one or more, for example bin/Release/kiln/release.json.");
        }

        var manifests = request.Sources.SelectMany(s => ManifestDocument.Resolve(s, request.ArtifactDirectory))
            // The same image in several releases is one row: the question is about what runs, not where it is listed.
            .DistinctBy(m => (m.Name, m.Version, m.ImageDigest)).ToList();
        var rows = manifests
            .Select(m => new QueryRow(m.DisplayName, m.Version, m.ImageDigest, Lookup(m.SettingsTree, segments) ?? Lookup(m.ContentTree, segments), m.Path))
            .OrderBy(r => r.Name, StringComparer.Ordinal).ThenBy(r => r.Version, StringComparer.Ordinal)
            .ToImmutableArray();
        if (rows.All(r => r.Value is null))
        {
            var known = manifests.Count == 0 ? [] : ManifestDiffKeys(manifests[0]);
            throw new KilnException(DiagnosticCodes.InvalidSetting, $"No manifest has a setting '{request.Setting}'. Settings are: {string.Join(", ", known)}.");
        }

        return rows;
    }

    private static IEnumerable<string> ManifestDiffKeys(ManifestDocument m) => Diff.ManifestDiff.Flatten(m).Keys;

    private static string? Lookup(JsonElement element, string[] segments)
    {
        foreach (var segment in segments)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(segment, out element))
            {
                return null;
            }
        }

        return element.ValueKind switch
        {
            JsonValueKind.String => element.GetString(),
            JsonValueKind.Undefined or JsonValueKind.Null => null,
            _ => element.GetRawText(),
        };
    }
}
