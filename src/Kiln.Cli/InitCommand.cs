using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Kiln.Engine.Diagnostics;
using Microsoft.CodeAnalysis.CSharp;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln init --from-publish-container PROJECT</c>: reads an SDK-style project's <c>Container*</c> settings (the .NET
/// SDK's PublishContainer) through MSBuild's own evaluation and writes a spec project that builds the same image with
/// Kiln: the app as <c>Layer.PublishOutput</c>, and its ports, environment, labels, user, working directory and
/// entrypoint as spec members. Settings with no Kiln equivalent are listed, not dropped silently.
/// </summary>
/// <remarks>Exit codes (docs/cli.md): 0 when the spec project was written, 16 when nothing was written (a coded error says why).</remarks>
internal static class InitCommand
{
    private const int Written = ExitCodes.Ok;

    /// <summary>The runtime libraries a self-contained .NET app needs on a distroless Debian base.</summary>
    private const string DebianBase = """BaseImage.Debian("bookworm", ["libc6", "libgcc-s1", "libstdc++6", "ca-certificates", "zlib1g", "libicu72", "tzdata"])""";

    private static readonly string[] Properties =
    [
        "AssemblyName", "Version", "RuntimeIdentifier", "ContainerBaseImage", "ContainerFamily", "ContainerRuntimeIdentifier",
        "ContainerRuntimeIdentifiers", "ContainerRegistry", "ContainerRepository", "ContainerImageName", "ContainerImageTag",
        "ContainerImageTags", "ContainerWorkingDirectory", "ContainerUser", "ContainerAppCommandInstruction",
        "ContainerArchiveOutputPath", "ContainerImageFormat", "ContainerGenerateLabels", "LocalRegistry", "ContainerPublishInParallel",
    ];

    private static readonly string[] Items =
    [
        "ContainerPort", "ContainerEnvironmentVariable", "ContainerLabel", "ContainerAppCommand", "ContainerAppCommandArgs",
        "ContainerDefaultArgs", "ContainerEntrypoint", "ContainerEntrypointArgs",
    ];

    public static Command Create()
    {
        var from = new Option<string>("--from-publish-container") { Description = "The SDK-style project (.csproj) whose Container* settings describe the image.", Required = true };
        var output = new Option<string?>("--output", "-o") { Description = "The directory of the new spec project (default: PROJECTNAME.Kiln next to the project's directory)." };
        var kilnVersion = new Option<string>("--kiln-version") { Description = "The Kiln.Build package version the spec project references.", DefaultValueFactory = _ => "0.1.0" };
        var baseImage = new Option<string?>("--base") { Description = "The base image: 'scratch', or a registry reference pinned by digest (repo:tag@sha256:…). Default: ContainerBaseImage when it is pinned by digest, else a distroless Debian bookworm base with a self-contained app." };
        var command = new Command("init", "Write a Kiln spec project for an app that was containerized with the .NET SDK's PublishContainer (Container* properties and items).")
        {
            from, output, kilnVersion, baseImage,
        };
        command.SetAction(result => Edge.Run(
            () =>
            {
                var written = Init(result.GetValue(from)!, result.GetValue(output), result.GetValue(kilnVersion)!, result.GetValue(baseImage));
                foreach (var file in written.Files)
                {
                    Console.Out.WriteLine($"wrote {file}");
                }

                foreach (var note in written.Notes)
                {
                    Console.Out.WriteLine($"note: {note}");
                }

                return Written;
            }));
        return command;
    }

    /// <summary>What <see cref="Init"/> wrote, and the settings it could not carry over (with why).</summary>
    internal sealed record InitResult(IReadOnlyList<string> Files, IReadOnlyList<string> Notes);

    /// <summary>Evaluates <paramref name="projectPath"/> and writes the spec project; writes nothing when any target file exists.</summary>
    internal static InitResult Init(string projectPath, string? outputDirectory, string kilnVersion, string? baseImage)
    {
        var project = Path.GetFullPath(projectPath);
        if (!File.Exists(project) || !project.EndsWith("proj", StringComparison.OrdinalIgnoreCase))
        {
            throw new KilnException(DiagnosticCodes.InitProjectNotFound, $"'{projectPath}' is not a project file. Pass the .csproj (or .fsproj, .vbproj) of the app that PublishContainer containerized.");
        }

        var settings = Evaluate(project);
        var assemblyName = settings.Property("AssemblyName") is { Length: > 0 } a ? a : Path.GetFileNameWithoutExtension(project);
        var directory = Path.GetFullPath(outputDirectory ?? Path.Combine(Path.GetDirectoryName(project)!, "..", assemblyName + ".Kiln"));
        if (Path.GetRelativePath(directory, project) is var inside && !inside.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(inside))
        {
            throw new KilnException(DiagnosticCodes.InitOutputHoldsProject, $"The spec project's directory '{directory}' holds '{project}': the spec project would compile the app's sources. Pass --output with a directory beside the app's, not above it.");
        }

        var identifier = Identifier(assemblyName);
        var csproj = Path.Combine(directory, assemblyName + ".Kiln.csproj");
        var spec = Path.Combine(directory, identifier + "Server.cs");
        var existing = new[] { csproj, spec }.Where(File.Exists).ToList();
        if (existing.Count > 0)
        {
            throw new KilnException(DiagnosticCodes.InitWouldOverwrite, $"{string.Join(", ", existing)} already exist{(existing.Count == 1 ? "s" : "")}; kiln init never overwrites a file. Move or delete {(existing.Count == 1 ? "it" : "them")}, or pass --output with another directory.");
        }

        var notes = new List<string>();
        var (specText, properties) = Generate(settings, project, directory, assemblyName, identifier, baseImage, notes);
        Directory.CreateDirectory(directory);
        WriteNew(csproj, ProjectFile(kilnVersion, properties));
        WriteNew(spec, specText);
        return new InitResult([csproj, spec], notes);
    }

    /// <summary>A file created, never replaced: <see cref="FileMode.CreateNew"/> loses no file even in a race.</summary>
    private static void WriteNew(string path, string content)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            stream.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(content));
        }
        catch (IOException) when (File.Exists(path))
        {
            throw new KilnException(DiagnosticCodes.InitWouldOverwrite, $"{path} appeared while kiln init was writing; kiln init never overwrites a file. Move or delete it, and run kiln init again.");
        }
    }

    /// <summary>The project's settings as MSBuild evaluates them (imports, Directory.Build.props and conditions included).</summary>
    private static EvaluatedSettings Evaluate(string project)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(project)!,
        };
        foreach (var argument in (string[])["msbuild", project, "-nologo", .. Properties.Select(p => "-getProperty:" + p), .. Items.Select(i => "-getItem:" + i)])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new KilnException(DiagnosticCodes.InitProjectEvaluationFailed, "Could not start 'dotnet msbuild'. Check that the .NET SDK is installed and on PATH.");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new KilnException(DiagnosticCodes.InitProjectEvaluationFailed, $"'dotnet msbuild {project}' could not evaluate the project (exit code {process.ExitCode}): {(stdout + stderr.Result).Trim()} Fix the project so that it evaluates (dotnet msbuild -getProperty:AssemblyName), then run kiln init again.");
        }

        try
        {
            using var document = JsonDocument.Parse(stdout);
            var properties = document.RootElement.GetProperty("Properties").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
            var items = new Dictionary<string, IReadOnlyList<IReadOnlyDictionary<string, string>>>(StringComparer.Ordinal);
            if (document.RootElement.TryGetProperty("Items", out var itemGroups))
            {
                foreach (var group in itemGroups.EnumerateObject())
                {
                    items[group.Name] = [.. group.Value.EnumerateArray().Select(i => (IReadOnlyDictionary<string, string>)i.EnumerateObject().ToDictionary(m => m.Name, m => m.Value.GetString() ?? "", StringComparer.OrdinalIgnoreCase))];
                }
            }

            return new EvaluatedSettings(properties, items);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new KilnException(DiagnosticCodes.InitProjectEvaluationFailed, $"'dotnet msbuild {project} -getProperty:… -getItem:…' did not print the JSON that SDK 8.0.100 and later print ({e.Message}). Use a .NET 8 or later SDK.");
        }
    }

    private sealed record EvaluatedSettings(IReadOnlyDictionary<string, string> Properties, IReadOnlyDictionary<string, IReadOnlyList<IReadOnlyDictionary<string, string>>> Items)
    {
        public string Property(string name) => Properties.TryGetValue(name, out var value) ? value.Trim() : "";

        public IReadOnlyList<IReadOnlyDictionary<string, string>> Item(string name) => Items.TryGetValue(name, out var value) ? value : [];

        public IReadOnlyList<string> Identities(string name) => [.. Item(name).Select(i => i.TryGetValue("Identity", out var id) ? id : "").Where(id => id.Length > 0)];
    }

    private static (string Spec, List<(string Name, string Value)> Properties) Generate(
        EvaluatedSettings settings, string project, string directory, string assemblyName, string identifier, string? baseOption, List<string> notes)
    {
        var msbuild = new List<(string, string)>();
        var members = new List<string>();

        var (name, prefix) = ImageName(settings.Property("ContainerRepository") is { Length: > 0 } repository ? repository : settings.Property("ContainerImageName") is { Length: > 0 } old ? old : assemblyName);
        if (prefix.Length > 0)
        {
            msbuild.Add(("KilnRepositoryPrefix", prefix));
        }

        members.Add($"public override string Name => {Literal(name)};");
        members.Add($"public override string Version => {Literal(Version(settings, notes))};");

        var rid = settings.Property("ContainerRuntimeIdentifier") is { Length: > 0 } containerRid ? containerRid
            : settings.Property("RuntimeIdentifier") is { Length: > 0 } projectRid ? projectRid : "linux-x64";
        if (settings.Property("ContainerRuntimeIdentifiers") is { Length: > 0 } rids)
        {
            notes.Add($"ContainerRuntimeIdentifiers={rids}: the spec publishes for {rid} only; write one spec per platform (Layer.PublishOutput(…, runtimeIdentifier: …)) for the others.");
        }

        var (baseExpression, selfContained) = Base(settings.Property("ContainerBaseImage"), baseOption, notes);
        if (baseExpression is not null)
        {
            members.Add($"public override BaseImage Base => {baseExpression};");
        }

        // The image's platform follows the runtime the app is published for (an arm64 runtime in an amd64 image is KILN2143).
        if (rid.EndsWith("-arm64", StringComparison.Ordinal))
        {
            members.Add("public override ImmutableArray<Platform> Platforms => [Platform.LinuxArm64];");
        }

        var workingDirectory = settings.Property("ContainerWorkingDirectory") is { Length: > 0 } wd ? wd : "/app/";
        workingDirectory = workingDirectory.Length > 1 ? workingDirectory.TrimEnd('/') : workingDirectory;
        var relativeProject = Path.GetRelativePath(directory, project).Replace('\\', '/');
        members.Add("public override ImmutableArray<Layer> Layers =>");
        members.Add("[");
        members.Add($"    Layer.PublishOutput({Literal(relativeProject)}, to: {Literal(workingDirectory)}, runtimeIdentifier: {Literal(rid)}{(selfContained ? ", selfContained: true" : "")}),");
        members.Add("];");

        if (Account(settings.Property("ContainerUser"), notes) is { } account)
        {
            members.Add($"public override Account Account => {account};");
        }

        members.Add($"public override string WorkingDirectory => {Literal(workingDirectory)};");
        var (entrypoint, arguments) = Command(settings, workingDirectory, assemblyName, notes);
        if (entrypoint.Count > 0)
        {
            members.Add($"public override Entrypoint Entrypoint => new({string.Join(", ", entrypoint.Select(Literal))});");
        }

        if (arguments.Count > 0)
        {
            members.Add($"public override ImmutableArray<string> Arguments => [{string.Join(", ", arguments.Select(Literal))}];");
        }

        var environment = settings.Item("ContainerEnvironmentVariable")
            .Select(i => (Name: i.GetValueOrDefault("Identity", ""), Value: i.GetValueOrDefault("Value", "")))
            .Where(e => e.Name.Length > 0)
            .ToList();
        AddList(members, "EnvironmentVariable", "Environment", environment.Select(e => $"new({Literal(e.Name)}, {Literal(e.Value)})"));

        var ports = settings.Item("ContainerPort")
            .Select(i => (Number: i.GetValueOrDefault("Identity", ""), Type: i.GetValueOrDefault("Type", "tcp")))
            .Select(p => int.TryParse(p.Number, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? $"Port.{(string.Equals(p.Type, "udp", StringComparison.OrdinalIgnoreCase) ? "Udp" : "Tcp")}({n.ToString(CultureInfo.InvariantCulture)})"
                : null)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (ports.Count > 0)
        {
            members.Add($"public override ImmutableArray<Port> Ports => [{string.Join(", ", ports)}];");
        }

        var labels = settings.Item("ContainerLabel")
            .Select(i => (Key: i.GetValueOrDefault("Identity", ""), Value: i.GetValueOrDefault("Value", "")))
            .Where(l => l.Key.Length > 0);
        AddList(members, "Label", "Labels", labels.Select(l => $"new({Literal(l.Key)}, {Literal(l.Value)})"));

        if (settings.Property("ContainerRegistry") is { Length: > 0 } registry)
        {
            msbuild.Add(("KilnRegistry", registry));
        }

        if (settings.Property("ContainerArchiveOutputPath") is { Length: > 0 } archive)
        {
            msbuild.Add(("KilnArchiveFormat", string.Equals(settings.Property("ContainerImageFormat"), "OCI", StringComparison.OrdinalIgnoreCase) ? "oci-archive" : "docker-archive"));
            notes.Add($"ContainerArchiveOutputPath={archive}: Kiln writes archives to archives/ in its output directory (KilnArchiveFormat is set).");
        }

        foreach (var (property, why) in new[]
        {
            ("ContainerFamily", "Kiln has no implicit Microsoft base; the base is named explicitly (see Base)."),
            ("ContainerImageFormat", "Kiln always writes OCI images."),
            ("ContainerGenerateLabels", "Kiln writes the org.opencontainers.image.* annotations itself, without a clock."),
            ("LocalRegistry", "Kiln never loads images into a daemon; docker load or podman load an archive (KilnArchiveFormat)."),
            ("ContainerPublishInParallel", "Kiln always publishes the projects of a spec project in parallel."),
        })
        {
            if (settings.Property(property) is { Length: > 0 } value)
            {
                notes.Add($"{property}={value}: no Kiln equivalent: {why}");
            }
        }

        var text = new StringBuilder();
        text.Append("using System.Collections.Immutable;\nusing Kiln.Spec;\n\n");
        text.Append($"namespace {identifier}.Specs;\n\n");
        text.Append($"/// <summary>The image of {System.Security.SecurityElement.Escape(assemblyName)}, first written by kiln init from its PublishContainer settings.</summary>\n");
        text.Append($"public sealed class {identifier}Server : ServerSpec\n{{\n");
        foreach (var member in members)
        {
            text.Append("    ").Append(member).Append('\n');
        }

        text.Append("}\n");
        return (text.ToString(), msbuild);
    }

    private static void AddList(List<string> members, string type, string property, IEnumerable<string> elements)
    {
        var list = elements.Distinct(StringComparer.Ordinal).ToList();
        if (list.Count == 0)
        {
            return;
        }

        members.Add($"public override ImmutableArray<{type}> {property} =>");
        members.Add("[");
        members.AddRange(list.Select(e => $"    {e},"));
        members.Add("];");
    }

    /// <summary>The image name (last path segment, lower-cased, as OCI allows) and the repository path before it.</summary>
    private static (string Name, string Prefix) ImageName(string repository)
    {
        var normalized = repository.Trim().ToLowerInvariant().Replace(' ', '-');
        var slash = normalized.LastIndexOf('/');
        var last = slash < 0 ? normalized : normalized[(slash + 1)..];
        var name = new StringBuilder();
        foreach (var c in last)
        {
            var ok = char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);
            name.Append(ok ? c : (name.Length > 0 && name[^1] != '-' ? '-' : '\0'));
        }

        var cleaned = name.ToString().Replace("\0", "", StringComparison.Ordinal).Trim('-');
        return (cleaned.Length > 0 ? cleaned : "app", slash < 0 ? "" : normalized[..slash]);
    }

    private static string Version(EvaluatedSettings settings, List<string> notes)
    {
        var tags = new[] { settings.Property("ContainerImageTag") }.Concat(settings.Property("ContainerImageTags").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        if (tags.FirstOrDefault(IsSemVer) is { } tag)
        {
            return tag;
        }

        var version = settings.Property("Version") is { Length: > 0 } v && IsSemVer(v) ? v : "1.0.0";
        if (tags.FirstOrDefault(t => t.Length > 0) is { } other)
        {
            notes.Add($"Image tag '{other}' is not a SemVer version; the spec's Version (the image's only tag, never moved) is {version}.");
        }

        return version;
    }

    private static bool IsSemVer(string value) =>
        System.Text.RegularExpressions.Regex.IsMatch(value, @"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$");

    /// <summary>The base expression (null for scratch, the DSL's default) and whether the app must carry its runtime.</summary>
    private static (string? Expression, bool SelfContained) Base(string containerBaseImage, string? option, List<string> notes)
    {
        var chosen = option ?? (containerBaseImage.Contains("@sha256:", StringComparison.Ordinal) ? containerBaseImage : null);
        if (string.Equals(chosen, "scratch", StringComparison.OrdinalIgnoreCase))
        {
            return (null, true);
        }

        if (chosen is not null)
        {
            if (!chosen.Contains("@sha256:", StringComparison.Ordinal))
            {
                throw new KilnException(DiagnosticCodes.InitBaseNotPinned, $"--base '{chosen}' is not pinned by digest. Pass 'scratch' or a reference with '@sha256:…' (skopeo inspect docker://{chosen} prints the digest).");
            }

            // A .NET base image carries the runtime: the app is published framework-dependent, as PublishContainer does.
            return ($"BaseImage.Registry({Literal(chosen)})", false);
        }

        if (containerBaseImage.Length > 0)
        {
            notes.Add($"ContainerBaseImage={containerBaseImage} is a tag that moves; the spec uses a distroless Debian base and a self-contained app instead. To keep that image, pin it: BaseImage.Registry(\"{containerBaseImage}@sha256:…\") (skopeo inspect docker://{containerBaseImage} prints the digest) and drop selfContained.");
        }

        return (DebianBase, true);
    }

    /// <summary>ContainerUser as an Account; null keeps Kiln's default (non-root app, uid 10001).</summary>
    private static string? Account(string user, List<string> notes)
    {
        if (user.Length == 0)
        {
            return null;
        }

        var name = user.Split(':')[0];
        if (name is "root" or "0")
        {
            notes.Add($"ContainerUser={user} runs the server as root; the spec runs it as the non-root 'app' (uid 10001) instead (KILN0009).");
            return "Account.NonRoot(\"app\", uid: 10001)";
        }

        if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var uid))
        {
            return $"Account.NonRoot(\"app\", uid: {uid.ToString(CultureInfo.InvariantCulture)})";
        }

        // Microsoft's .NET images define 'app' as uid 1654; any other name gets Kiln's default uid.
        return $"Account.NonRoot({Literal(name)}, uid: {(name == "app" ? "1654" : "10001")})";
    }

    /// <summary>The exec-form entrypoint and the default arguments, following ContainerAppCommandInstruction.</summary>
    private static (List<string> Entrypoint, List<string> Arguments) Command(EvaluatedSettings settings, string workingDirectory, string assemblyName, List<string> notes)
    {
        var command = settings.Identities("ContainerAppCommand").ToList();
        var commandArgs = settings.Identities("ContainerAppCommandArgs").ToList();
        if (command.Count == 0 && settings.Identities("ContainerEntrypoint") is { Count: > 0 } legacy)
        {
            command = [.. legacy];
            commandArgs = [.. commandArgs, .. settings.Identities("ContainerEntrypointArgs")];
        }

        if (command.Count == 0)
        {
            command = [workingDirectory.TrimEnd('/') + "/" + assemblyName];
        }
        else if (!command[0].StartsWith('/'))
        {
            command[0] = command[0] == "dotnet" ? "/usr/bin/dotnet" : workingDirectory.TrimEnd('/') + "/" + command[0];
            notes.Add($"The app command is '{command[0]}': Kiln entrypoints are absolute paths.");
        }

        var defaultArgs = settings.Identities("ContainerDefaultArgs").ToList();
        return settings.Property("ContainerAppCommandInstruction").ToLowerInvariant() switch
        {
            "defaultargs" => ([], [.. command, .. commandArgs, .. defaultArgs]),
            "none" => ([], defaultArgs),
            _ => ([.. command, .. commandArgs], defaultArgs),
        };
    }

    private static string ProjectFile(string kilnVersion, List<(string Name, string Value)> properties)
    {
        var extra = string.Concat(properties.Select(p => $"    <{p.Name}>{System.Security.SecurityElement.Escape(p.Value)}</{p.Name}>\n"));
        return $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <!-- Server specs: `dotnet build` fires them into OCI images under bin/<Configuration>/kiln/. Written by kiln init. -->
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
            {extra}  </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Kiln.Build" Version="{System.Security.SecurityElement.Escape(kilnVersion)}" />
              </ItemGroup>
            </Project>

            """.ReplaceLineEndings("\n");
    }

    private static string Literal(string value) => SymbolDisplay.FormatLiteral(value, quote: true);

    /// <summary>A C# identifier from an assembly name: Contoso.Api → ContosoApi.</summary>
    private static string Identifier(string name)
    {
        var builder = new StringBuilder();
        var upper = true;
        foreach (var c in name)
        {
            if (char.IsLetterOrDigit(c) || c == '_')
            {
                builder.Append(upper ? char.ToUpperInvariant(c) : c);
                upper = false;
            }
            else
            {
                upper = true;
            }
        }

        var result = builder.ToString();
        return result.Length == 0 ? "App" : char.IsDigit(result[0]) ? "App" + result : result;
    }
}
