using System.Text.Json;

namespace Kiln.Integration.Tests.Infrastructure;

/// <summary>A spec project in a temporary directory that references the packed Kiln.Build, built with a real dotnet build.</summary>
internal sealed class FixtureProject
{
    private readonly KilnPackage _package;

    public FixtureProject(KilnPackage package, string name = "Fixture", string? directory = null)
    {
        _package = package;
        Name = name;
        Directory = directory ?? Path.Combine(package.Root, "projects", $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)]);
        System.IO.Directory.CreateDirectory(Directory);
        Write($"{name}.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <Deterministic>true</Deterministic>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Kiln.Build" Version="{KilnPackage.Version}" />
              </ItemGroup>
            </Project>
            """);
        Write("nuget.config", $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="kiln" value="{package.Feed}" />
              </packageSources>
            </configuration>
            """);
    }

    public string Name { get; }

    public string Directory { get; }

    public string OutputDirectory => Path.Combine(Directory, "bin", "Debug", "kiln");

    public string LayoutDirectory => Path.Combine(OutputDirectory, "oci");

    public string ReleasePath => Path.Combine(OutputDirectory, "release.json");

    public FixtureProject Write(string relativePath, string content)
    {
        var path = Path.Combine(Directory, relativePath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content.ReplaceLineEndings("\n"));
        return this;
    }

    public FixtureProject WriteBytes(string relativePath, byte[] content)
    {
        var path = Path.Combine(Directory, relativePath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return this;
    }

    /// <summary>Writes Specs.cs with the given class bodies inside the Fixture namespace.</summary>
    public FixtureProject Specs(string code) => Write("Specs.cs", "using System.Collections.Immutable;\nusing Kiln.Spec;\n\nnamespace Fixture;\n\n" + code);

    public ProcessResult Build(params string[] extra) => Build(null, extra);

    public ProcessResult Build(IDictionary<string, string?>? environment, params string[] extra)
    {
        var env = BuildEnvironment(environment);
        string[] nodeReuse = extra.Any(e => e.StartsWith("-nodeReuse", StringComparison.Ordinal)) ? [] : ["-nodeReuse:false"];
        return ProcessRunner.Run("dotnet", ["build", Directory, "-nologo", "-v:n", .. nodeReuse, .. extra], Directory, env, TimeSpan.FromMinutes(6));
    }

    /// <summary>Starts <c>dotnet msbuild</c> on the project (for calling a target directly), without waiting for it.</summary>
    public System.Diagnostics.Process StartMSBuild(out System.Text.StringBuilder output, params string[] extra) =>
        ProcessRunner.Start("dotnet", ["msbuild", Directory, "-nologo", "-v:n", "-nodeReuse:false", .. extra], Directory, BuildEnvironment(null), out output);

    /// <summary>Runs <c>dotnet msbuild</c> on the project (for calling a target directly).</summary>
    public ProcessResult MSBuild(params string[] extra) =>
        ProcessRunner.Run("dotnet", ["msbuild", Directory, "-nologo", "-v:n", "-nodeReuse:false", .. extra], Directory, BuildEnvironment(null), TimeSpan.FromMinutes(6));

    /// <summary>
    /// Every build of this fixture runs its engine in a process of its own (KilnEngineServer=false): for the tests that
    /// look at or kill that process.
    /// </summary>
    public FixtureProject WithoutEngineServer()
    {
        _environment["KilnEngineServer"] = "false";
        return this;
    }

    /// <summary>An environment variable every build of this fixture gets.</summary>
    public FixtureProject WithEnvironment(string name, string? value)
    {
        _environment[name] = value;
        return this;
    }

    private readonly Dictionary<string, string?> _environment = new(StringComparer.Ordinal);

    /// <summary>The environment of this fixture's builds, with <paramref name="environment"/> over it.</summary>
    public Dictionary<string, string?> BuildEnvironment(IDictionary<string, string?>? environment)
    {
        var env = new Dictionary<string, string?>
        {
            ["NUGET_PACKAGES"] = _package.Packages,
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
            ["SOURCE_DATE_EPOCH"] = null,
            ["DOTNET_NOLOGO"] = "1",
            // Engine servers the tests' builds start stop soon after the tests (the default waits ten minutes).
            ["KilnEngineServerIdleTimeout"] = "120",
        };
        foreach (var (key, value) in _environment)
        {
            env[key] = value;
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            env[key] = value;
        }

        return env;
    }

    /// <summary>Builds and fails the test with the whole output when the build fails.</summary>
    public ProcessResult BuildOk(params string[] extra)
    {
        var result = Build(extra);
        Xunit.Assert.True(result.ExitCode == 0, "dotnet build failed:\n" + result.Output);
        // Every manifest any test produces must satisfy the published schema.
        ArtifactSchemas.ValidateManifests(OutputDirectory);
        ArtifactSchemas.ValidateRelease(OutputDirectory);
        ArtifactSchemas.ValidateLock(Directory);
        AssertInventoriesMatchUmoci();
        return result;
    }

    public Release ReadRelease() => Release.Read(ReleasePath);

    /// <summary>
    /// Fails unless the output directory holds no artifact: it may be absent, or hold only the build lock's own files
    /// (.kiln-build.lock and .kiln-build.owner, created when the image step took the lock before it refused the input).
    /// </summary>
    public void AssertNoArtifacts(string because)
    {
        var lockFiles = new[] { ".kiln-build.lock", ".kiln-build.owner" };
        var artifacts = System.IO.Directory.Exists(OutputDirectory)
            ? System.IO.Directory.EnumerateFileSystemEntries(OutputDirectory).Select(Path.GetFileName).Where(n => !lockFiles.Contains(n)).ToList()
            : [];
        Xunit.Assert.True(artifacts.Count == 0, $"{because}; found: {string.Join(", ", artifacts)}");
    }

    /// <summary>
    /// Every image any test builds is unpacked with umoci and its inventory compared entry by entry with the tree umoci
    /// produced, so that no test's image can carry an inventory that describes another tree. Without umoci (and without
    /// KILN_REQUIRE_TOOLS=1) the comparison is left to the tests that require it, instead of skipping every build test.
    /// </summary>
    private void AssertInventoriesMatchUmoci()
    {
        if (!File.Exists(ReleasePath) || (Tools.Find("umoci") is null && !Tools.Required))
        {
            return;
        }

        using var document = JsonDocument.Parse(File.ReadAllText(ReleasePath));
        foreach (var image in document.RootElement.GetProperty("images").EnumerateArray())
        {
            if (image.TryGetProperty("platforms", out var platforms))
            {
                // A multi-platform server: every platform's image against its own inventory.
                foreach (var platform in platforms.EnumerateArray())
                {
                    UnpackedInventory.AssertMatchesUmoci(
                        LayoutDirectory,
                        image.GetProperty("reference").GetString()!,
                        Path.Combine(OutputDirectory, platform.GetProperty("inventory").GetString()!),
                        platform.GetProperty("platform").GetString()!);
                }

                continue;
            }

            UnpackedInventory.AssertMatchesUmoci(
                LayoutDirectory,
                image.GetProperty("reference").GetString()!,
                Path.Combine(OutputDirectory, image.GetProperty("inventory").GetString()!));
        }
    }
}

/// <summary>The parts of release.json the tests look at.</summary>
internal sealed record Release(IReadOnlyDictionary<string, string> Digests, string Text)
{
    public static Release Read(string path)
    {
        var text = File.ReadAllText(path);
        using var document = JsonDocument.Parse(text);
        var digests = document.RootElement.GetProperty("images").EnumerateArray()
            .ToDictionary(i => i.GetProperty("reference").GetString()!, i => i.GetProperty("digest").GetString()!);
        return new Release(digests, text);
    }
}
