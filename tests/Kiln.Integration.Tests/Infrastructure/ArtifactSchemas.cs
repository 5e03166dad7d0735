using System.Text.Json;
using Json.Schema;
using Xunit;

namespace Kiln.Integration.Tests.Infrastructure;

/// <summary>
/// The schemas Kiln's artifacts must satisfy: our own for Kiln manifests (docs/schemas/kiln-manifest.schema.json) and
/// the official CycloneDX 1.6 schema for SBOMs, taken from the npm package that publishes it
/// (@cyclonedx/cyclonedx-library, res/schema/). CI fetches that package in .ci/run (KILN_CYCLONEDX_SCHEMAS); a local
/// run fetches it with `npm pack` once into the temp directory.
/// </summary>
internal static class ArtifactSchemas
{
    private static readonly Lazy<JsonSchema> Manifest = new(() =>
        JsonSchema.FromText(File.ReadAllText(Path.Combine(Repo.Root, "docs", "schemas", "kiln-manifest.schema.json")), new BuildOptions { SchemaRegistry = new SchemaRegistry() }));

    private static readonly Lazy<JsonSchema> ReleaseSchema = new(() => Own("kiln-release.schema.json"));

    private static readonly Lazy<JsonSchema> LockSchema = new(() => Own("kiln-lock.schema.json"));

    private static JsonSchema Own(string name) =>
        JsonSchema.FromText(File.ReadAllText(Path.Combine(Repo.Root, "docs", "schemas", name)), new BuildOptions { SchemaRegistry = new SchemaRegistry() });

    private static readonly Lazy<(JsonSchema? Schema, string? Problem)> CycloneDx = new(LoadCycloneDx);

    /// <summary>Validates every Kiln manifest under <paramref name="outputDirectory"/>/manifests; fails with the schema's errors.</summary>
    public static void ValidateManifests(string outputDirectory)
    {
        var directory = Path.Combine(outputDirectory, "manifests");
        if (!Directory.Exists(directory))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(directory, "*.json"))
        {
            ValidateManifest(file);
        }
    }

    public static void ValidateManifest(string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(file));
        var result = Manifest.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"{file} does not satisfy docs/schemas/kiln-manifest.schema.json:\n{Errors(result)}");
    }

    /// <summary>Validates release.json under <paramref name="outputDirectory"/>, when the build wrote one, against docs/schemas/kiln-release.schema.json.</summary>
    public static void ValidateRelease(string outputDirectory) => ValidateOwn(Path.Combine(outputDirectory, "release.json"), ReleaseSchema.Value, "kiln-release.schema.json");

    /// <summary>Validates kiln.lock.json in <paramref name="projectDirectory"/>, when there is one, against docs/schemas/kiln-lock.schema.json.</summary>
    public static void ValidateLock(string projectDirectory) => ValidateOwn(Path.Combine(projectDirectory, "kiln.lock.json"), LockSchema.Value, "kiln-lock.schema.json");

    private static void ValidateOwn(string file, JsonSchema schema, string name)
    {
        if (!File.Exists(file))
        {
            return;
        }

        using var document = JsonDocument.Parse(File.ReadAllText(file));
        var result = schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"{file} does not satisfy docs/schemas/{name}:\n{Errors(result)}");
    }

    /// <summary>Validates an SBOM against the official CycloneDX 1.6 schema; skips loudly (fails under KILN_REQUIRE_TOOLS=1) without it.</summary>
    public static void ValidateSbom(string file)
    {
        var (schema, problem) = CycloneDx.Value;
        if (schema is null)
        {
            Kiln.Tests.Shared.ToolPolicy.Unavailable($"The CycloneDX JSON schema is not available: {problem}. It ships in the npm package @cyclonedx/cyclonedx-library (apt-get install -y npm).");
        }

        using var document = JsonDocument.Parse(File.ReadAllText(file));
        var result = schema!.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"{file} does not satisfy the CycloneDX 1.6 JSON schema:\n{Errors(result)}");
    }

    private static string Errors(EvaluationResults result) =>
        string.Join('\n', (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"  {d.InstanceLocation}: {e.Key}: {e.Value}")));

    private static (JsonSchema?, string?) LoadCycloneDx()
    {
        var directory = SchemaDirectory(out var problem);
        if (directory is null)
        {
            return (null, problem);
        }

        // The package's files are named *.SNAPSHOT.schema.json and refer to each other by those names, while their
        // $id values drop SNAPSHOT: register each under both so that every reference resolves offline.
        var registry = new SchemaRegistry();
        var options = new BuildOptions { SchemaRegistry = registry };
        foreach (var (file, id) in new[] { ("spdx.SNAPSHOT.schema.json", "spdx"), ("jsf-0.82.SNAPSHOT.schema.json", "jsf-0.82") })
        {
            var schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(directory, file)), options);
            registry.Register(new Uri($"http://cyclonedx.org/schema/{id}.SNAPSHOT.schema.json"), schema);
        }

        return (JsonSchema.FromText(File.ReadAllText(Path.Combine(directory, "bom-1.6.SNAPSHOT.schema.json")), options), null);
    }

    private static string? SchemaDirectory(out string? problem)
    {
        problem = null;
        foreach (var candidate in new[] { Environment.GetEnvironmentVariable("KILN_CYCLONEDX_SCHEMAS"), Path.Combine(Path.GetTempPath(), "kiln-cyclonedx") })
        {
            if (candidate is { Length: > 0 } && Find(candidate) is { } found)
            {
                return found;
            }
        }

        var npm = Tools.Find("npm");
        if (npm is null)
        {
            problem = "npm is not installed";
            return null;
        }

        var target = Path.Combine(Path.GetTempPath(), "kiln-cyclonedx");
        Directory.CreateDirectory(target);
        var pack = ProcessRunner.Run(npm, ["pack", "--silent", "@cyclonedx/cyclonedx-library@10"], target, timeout: TimeSpan.FromMinutes(3));
        var tarball = pack.ExitCode == 0 ? Directory.EnumerateFiles(target, "*.tgz").FirstOrDefault() : null;
        if (tarball is null)
        {
            problem = "npm pack @cyclonedx/cyclonedx-library failed: " + pack.Output;
            return null;
        }

        var untar = ProcessRunner.Run("tar", ["-xzf", tarball, "-C", target]);
        if (untar.ExitCode != 0)
        {
            problem = "unpacking the npm package failed: " + untar.Output;
            return null;
        }

        return Find(target) ?? throw new InvalidOperationException($"@cyclonedx/cyclonedx-library unpacked into {target} has no res/schema/bom-1.6.SNAPSHOT.schema.json");
    }

    private static string? Find(string root) =>
        Directory.Exists(root)
            ? Directory.EnumerateFiles(root, "bom-1.6.SNAPSHOT.schema.json", SearchOption.AllDirectories).Select(Path.GetDirectoryName).FirstOrDefault()
            : null;
}
