using System.Collections.Immutable;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.IO;

namespace Kiln.Engine.Requests;

/// <summary>
/// The publish list (obj/&lt;Configuration&gt;/kiln/publish.txt): the projects the specs want published, written by the
/// engine's evaluation and read by Kiln.Build.targets, which publishes each one before the image build. One line per
/// project, <c>KEY|PROJECT|PUBLISHDIR|PROPERTIES</c>; PROPERTIES are the MSBuild global properties of the publish
/// (<c>A=B;C=D</c>). Every field, and every property value, is MSBuild-escaped (<c>%3B</c> for <c>;</c>, <c>%7C</c> for
/// <c>|</c>…), so that a path or value holding a separator or an MSBuild special character survives to MSBuild as written.
/// </summary>
public sealed record PublishList(ImmutableArray<PublishRequirement> Projects)
{
    /// <summary>The characters the line format itself gives a meaning to, escaped besides MSBuild's own.</summary>
    private const string FormatCharacters = "|\r\n";

    /// <summary>The file's text: one line per project, each ending in <c>\n</c>.</summary>
    public string ToText() => string.Concat(Projects.Select(p =>
        $"{Escape(p.Key)}|{Escape(p.Project)}|{Escape(p.PublishDirectory)}|{Properties(p)}\n"));

    /// <summary>The MSBuild global properties to publish <paramref name="p"/> with (<c>A=B;C=D</c>), every value escaped.</summary>
    public static string Properties(PublishRequirement p) => string.Join(';', new[]
    {
        ("Configuration", p.Configuration),
        ("PublishDir", p.PublishDirectory),
        // web.config is for IIS, not a Linux image; generating it also rewrites the file on every publish.
        ("IsTransformWebConfigDisabled", "true"),
    }
        // An image must not change with the commit or the checkout directory: the SDK would write the commit into every
        // assembly's informational version (1.0.0+<sha>) and into the PDB's Source Link map, and absolute source paths
        // into the PDB and the DLL's debug directory. The commit stays in the Kiln manifest's build section instead.
        .Concat(PublishRequirement.ReproducibleProperties.Split(';').Select(pair => (pair[..pair.IndexOf('=')], pair[(pair.IndexOf('=') + 1)..])))
        .Concat(p.RuntimeIdentifier is { } rid ? [("RuntimeIdentifier", rid)] : [])
        .Append(("SelfContained", p.SelfContained ? "true" : "false"))
        .Select(property => $"{property.Item1}={Escape(property.Item2)}"));

    /// <summary>Reads a publish list's text; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="KilnException">KILN5021 naming the line and the field that is wrong.</exception>
    public static PublishList Parse(string text, string source)
    {
        var projects = ImmutableArray.CreateBuilder<PublishRequirement>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0)
            {
                continue;
            }

            var fields = line.Split('|');
            if (fields.Length != 4)
            {
                throw Invalid(source, i, $"has {fields.Length} fields, not the 4 of KEY|PROJECT|PUBLISHDIR|PROPERTIES");
            }

            var key = MSBuildText.Unescape(fields[0]);
            var project = MSBuildText.Unescape(fields[1]);
            var directory = MSBuildText.Unescape(fields[2]);
            if (key.Length == 0)
            {
                throw Invalid(source, i, "has an empty KEY");
            }

            if (!Path.IsPathRooted(project))
            {
                throw Invalid(source, i, $"has PROJECT '{project}', which is not an absolute path");
            }

            if (!Path.IsPathRooted(directory))
            {
                throw Invalid(source, i, $"has PUBLISHDIR '{directory}', which is not an absolute path");
            }

            var properties = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var pair in fields[3].Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    throw Invalid(source, i, $"has the property '{pair}' in PROPERTIES, which is not NAME=VALUE");
                }

                properties[pair[..equals]] = MSBuildText.Unescape(pair[(equals + 1)..]);
            }

            if (properties.GetValueOrDefault("Configuration") is not { Length: > 0 } configuration)
            {
                throw Invalid(source, i, "has no Configuration in PROPERTIES");
            }

            if (properties.GetValueOrDefault("PublishDir") != directory)
            {
                throw Invalid(source, i, "has a PublishDir in PROPERTIES that is not its PUBLISHDIR");
            }

            if (properties.TryGetValue("SelfContained", out var selfContained) && selfContained is not ("true" or "false"))
            {
                throw Invalid(source, i, $"has SelfContained '{selfContained}' in PROPERTIES, which is not true or false");
            }

            projects.Add(new PublishRequirement(key, project, configuration, directory, properties.GetValueOrDefault("RuntimeIdentifier"), selfContained == "true"));
        }

        return new PublishList(projects.ToImmutable());
    }

    private static string Escape(string value) => MSBuildText.Escape(value, FormatCharacters);

    private static KilnException Invalid(string source, int line, string problem) =>
        new(DiagnosticCodes.PublishListInvalid, $"The publish list '{source}' line {line + 1} {problem}. The engine writes this file when it evaluates the specs; delete it (or the obj/ directory) and build again.");
}
