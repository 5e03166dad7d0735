using System.Text.RegularExpressions;
using Kiln.Engine.Diagnostics;
using Kiln.Shared;
using Kiln.Spec;

namespace Kiln.Engine.Evaluation;

/// <summary>
/// Checks resolved values: what the analyzers cannot see in source (values computed by helper methods) is caught here,
/// at the spec's line. Every problem is reported, not only the first.
/// </summary>
internal static partial class SpecValidator
{
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvironmentNamePattern();

    [GeneratedRegex("^[a-z_][a-z0-9_-]*\\$?$")]
    private static partial Regex AccountNamePattern();

    public static void Validate(IReadOnlyList<ResolvedServer> servers, DiagnosticBag diagnostics)
    {
        foreach (var server in servers)
        {
            Validate(server, diagnostics);
        }

        foreach (var group in servers.GroupBy(s => s.Reference, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            var types = string.Join(", ", group.Select(s => s.SpecType));
            foreach (var server in group.Skip(1))
            {
                diagnostics.Error(DiagnosticCodes.DuplicateImage, $"Specs {types} all declare image '{group.Key}'. A name and version identify exactly one image; rename one or give it another version.", server.LocationOf(nameof(ServerSpec.Name)));
            }
        }
    }

    private static void Validate(ResolvedServer s, DiagnosticBag d)
    {
        void Error(string code, string property, string message) => d.Error(code, $"Spec '{s.SpecType}': {message}", s.LocationOf(property));

        // Names and versions follow the grammar the analyzers check too (src/Shared/Grammar.cs), so both agree.
        if (!Grammar.IsServerName(s.Name))
        {
            Error(DiagnosticCodes.InvalidName, nameof(ServerSpec.Name), $"name '{s.Name}' is not a valid image name. Use 1–128 lower-case letters and digits, separated by single '.', '_' or '-' (for example 'shop-api').");
        }

        var versionProblem = Grammar.CheckVersion(s.Version);
        if (versionProblem == VersionProblem.BuildMetadata)
        {
            Error(DiagnosticCodes.InvalidVersion, nameof(ServerSpec.Version), $"version '{s.Version}' carries SemVer build metadata ('+…'), which an image tag cannot hold. Drop the '+…' part or move it into a pre-release ('-…').");
        }
        else if (versionProblem == VersionProblem.NotSemVer)
        {
            Error(DiagnosticCodes.InvalidVersion, nameof(ServerSpec.Version), $"version '{s.Version}' is not a SemVer 2.0 version. Use MAJOR.MINOR.PATCH with an optional pre-release, for example '1.4.0' or '2.0.0-rc.1'.");
        }

        ValidatePlatforms(s, Error);
        ValidateBase(s, Error);
        for (var i = 0; i < s.Layers.Length; i++)
        {
            CheckImagePath(s.Layers[i].To, $"Layers[{i}] destination", nameof(ServerSpec.Layers), Error);
            if (s.Layers[i] is FileLayer { Mode: { } mode } && (mode.Bits < 0 || mode.Bits > 0xFFF))
            {
                Error(DiagnosticCodes.InvalidFileMode, nameof(ServerSpec.Layers), $"Layers[{i}] has file mode {mode}, which is not a permission mode (0000–7777 octal). Use FilePermissions.Executable, FilePermissions.Regular or FilePermissions.Octal(\"0750\").");
            }
            if (s.Layers[i].Owner.Uid < 0 || s.Layers[i].Owner.Gid < 0)
            {
                Error(DiagnosticCodes.InvalidAccount, nameof(ServerSpec.Layers), $"Layers[{i}] has a negative owner id ({s.Layers[i].Owner.Uid}:{s.Layers[i].Owner.Gid}).");
            }
        }

        CheckImagePath(s.WorkingDirectory, "WorkingDirectory", nameof(ServerSpec.WorkingDirectory), Error);

        if (s.Account.Uid < 0 || s.Account.Gid < 0 || !AccountNamePattern().IsMatch(s.Account.Name ?? ""))
        {
            Error(DiagnosticCodes.InvalidAccount, nameof(ServerSpec.Account), $"account '{s.Account.Name}' ({s.Account.Uid}:{s.Account.Gid}) is invalid. Use a lower-case name and non-negative ids, for example Account.NonRoot(\"app\", 10001).");
        }

        if (s.Entrypoint is { } entrypoint && string.IsNullOrWhiteSpace(entrypoint.Program))
        {
            Error(DiagnosticCodes.MissingEntrypoint, nameof(ServerSpec.Entrypoint), "the entrypoint's program is empty. Name the program to start, for example new(\"/app/Shop.Api\").");
        }

        var seenPorts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var port in s.Ports)
        {
            if (port.Number is < 1 or > 65535)
            {
                Error(DiagnosticCodes.InvalidPort, nameof(ServerSpec.Ports), $"port {port.Number} is outside 1–65535.");
            }
            else if (!seenPorts.Add(port.ToString()))
            {
                Error(DiagnosticCodes.InvalidPort, nameof(ServerSpec.Ports), $"port {port} is declared twice. Declare each port once.");
            }
        }

        ValidateHealth(s, Error);

        if (s.Limits.OpenFiles is <= 0 || s.Limits.Processes is <= 0)
        {
            Error(DiagnosticCodes.InvalidLimits, nameof(ServerSpec.Limits), $"limits must be positive (OpenFiles = {s.Limits.OpenFiles}, Processes = {s.Limits.Processes}).");
        }

        var seenNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var variable in s.Environment)
        {
            if (!EnvironmentNamePattern().IsMatch(variable.Name ?? "") || (variable.Value ?? "\0").Contains('\0', StringComparison.Ordinal))
            {
                Error(DiagnosticCodes.InvalidEnvironment, nameof(ServerSpec.Environment), $"environment variable '{variable.Name}' is invalid. Names are letters, digits and '_', not starting with a digit; values are non-null text.");
            }
            else if (!seenNames.Add(variable.Name!))
            {
                Error(DiagnosticCodes.InvalidEnvironment, nameof(ServerSpec.Environment), $"environment variable '{variable.Name}' is set twice. Set it once.");
            }
        }

        var seenLabels = new HashSet<string>(StringComparer.Ordinal);
        foreach (var label in s.Labels)
        {
            if (string.IsNullOrWhiteSpace(label.Key) || label.Value is null)
            {
                Error(DiagnosticCodes.InvalidLabel, nameof(ServerSpec.Labels), $"label '{label.Key}' has an empty key or a null value. Give every label a non-blank key (for example org.opencontainers.image.source) and a value.");
            }
            else if (!seenLabels.Add(label.Key))
            {
                Error(DiagnosticCodes.InvalidLabel, nameof(ServerSpec.Labels), $"label '{label.Key}' is set twice. Set it once.");
            }
        }

        foreach (var volume in s.Volumes)
        {
            CheckImagePath(volume, $"volume '{volume}'", nameof(ServerSpec.Volumes), (_, property, message) => Error(DiagnosticCodes.InvalidVolume, property, message));
        }

        foreach (var secret in s.Secrets)
        {
            if (string.IsNullOrWhiteSpace(secret.Name) || (secret.EnvironmentVariable is null && secret.Path is null))
            {
                Error(DiagnosticCodes.InvalidEnvironment, nameof(ServerSpec.Secrets), $"secret reference '{secret.Name}' needs a name and either an environment variable or a path to expose it at.");
            }
        }
    }

    private static void ValidatePlatforms(ResolvedServer s, Action<string, string, string> error)
    {
        const string property = nameof(ServerSpec.Platforms);
        const string supported = "Kiln builds Platform.LinuxAmd64 (linux/amd64) and Platform.LinuxArm64 (linux/arm64)";
        if (s.Platforms.IsDefaultOrEmpty)
        {
            error(DiagnosticCodes.PlatformsEmpty, property, $"Platforms is empty, so there is no image to build. List at least one platform, for example [Platform.LinuxAmd64], or remove the override (the default is linux/amd64).");
            return;
        }

        var seen = new HashSet<Kiln.Spec.Platform>();
        foreach (var platform in s.Platforms)
        {
            if (platform is null)
            {
                continue; // reported by the reader as a null entry
            }

            if (!seen.Add(platform))
            {
                error(DiagnosticCodes.PlatformDuplicated, property, $"platform {platform} is listed twice in Platforms. List each platform once.");
            }
            else if (!platform.IsSupported)
            {
                error(DiagnosticCodes.PlatformUnsupported, property, $"platform {platform} is not supported. {supported}; list only those.");
            }
        }

        // A runtime identifier fixed in a layer builds one platform's binaries: in a spec with other platforms it
        // would put x64 code into the arm64 image (or the reverse), so it is refused rather than silently mixed.
        for (var i = 0; i < s.Layers.Length; i++)
        {
            if (s.Layers[i] is PublishOutputLayer { RuntimeIdentifier: { } rid } && s.Platforms.Length > 1)
            {
                error(DiagnosticCodes.PublishRuntimeIdentifierConflict, nameof(ServerSpec.Layers), $"Layers[{i}] publishes for runtime '{rid}', but the spec builds {s.Platforms.Length} platforms ({string.Join(", ", s.Platforms)}). Drop runtimeIdentifier: Kiln publishes a self-contained app once per platform's runtime (linux-x64, linux-arm64).");
            }
            else if (s.Layers[i] is PublishOutputLayer { RuntimeIdentifier: { } single } && s.Platforms.Length == 1 && s.Platforms[0] is { IsSupported: true } only && !RuntimeFits(single, only))
            {
                error(DiagnosticCodes.PublishRuntimeIdentifierConflict, nameof(ServerSpec.Layers), $"Layers[{i}] publishes for runtime '{single}', but the spec's platform is {only} (runtime '{only.RuntimeIdentifier}'). Drop runtimeIdentifier (Kiln publishes for the spec's platform), or change Platforms.");
            }
        }
    }

    /// <summary>
    /// Whether a runtime identifier builds code for <paramref name="platform"/>: its own (<c>linux-x64</c> for
    /// linux/amd64), or a flavour of the same OS and architecture (<c>linux-musl-x64</c> for an Alpine base).
    /// </summary>
    internal static bool RuntimeFits(string runtimeIdentifier, Kiln.Spec.Platform platform)
    {
        if (string.Equals(runtimeIdentifier, platform.RuntimeIdentifier, StringComparison.Ordinal))
        {
            return true;
        }

        var parts = runtimeIdentifier.Split('-');
        var architecture = parts[^1] switch
        {
            "x64" => "amd64",
            "arm64" => "arm64",
            var other => other,
        };
        return parts.Length >= 2 && parts[0] == platform.Os && architecture == platform.Architecture;
    }

    private static void ValidateBase(ResolvedServer s, Action<string, string, string> error)
    {
        const string property = nameof(ServerSpec.Base);
        switch (s.Base)
        {
            case OciLayoutBase { Path: var path } when string.IsNullOrWhiteSpace(path):
            case ArchiveBase { Path: var archive } when string.IsNullOrWhiteSpace(archive):
                error(DiagnosticCodes.InvalidBaseImage, property, "the base image path is empty.");
                break;
            case DebianBase debian when debian.Packages.IsDefaultOrEmpty:
                error(DiagnosticCodes.InvalidBaseImage, property, $"the Debian base for suite '{debian.Suite}' lists no packages.");
                break;
            // At evaluation, with the other findings, rather than when planning reaches the base.
            case RegistryBase registry when !Kiln.Oci.Registry.ImageReference.TryParse(registry.Reference ?? "", out _, out var problem):
                error(DiagnosticCodes.InvalidImageReference, property, $"base image '{registry.Reference}' is not a valid image reference: {problem} Write it as registry/repository:tag@sha256:<digest>.");
                break;
        }
    }

    private static void ValidateHealth(ResolvedServer s, Action<string, string, string> error)
    {
        const string property = nameof(ServerSpec.Health);
        switch (s.Health)
        {
            case null:
                return;
            case HttpHealthCheck http when http.Port is < 1 or > 65535 || !(http.Path ?? "").StartsWith('/'):
                error(DiagnosticCodes.InvalidHealthCheck, property, $"the HTTP health check needs a port in 1–65535 and a path starting with '/' (got {http.Port} '{http.Path}').");
                break;
            case CommandHealthCheck command when command.Argv.IsDefaultOrEmpty || string.IsNullOrWhiteSpace(command.Argv[0]):
                error(DiagnosticCodes.InvalidHealthCheck, property, "the command health check has no program.");
                break;
        }

        if (s.Health.Interval <= TimeSpan.Zero || s.Health.Timeout <= TimeSpan.Zero || s.Health.StartPeriod < TimeSpan.Zero || s.Health.Retries < 1)
        {
            error(DiagnosticCodes.InvalidHealthCheck, property, "the health check's interval and timeout must be positive, its start period not negative and its retries at least 1.");
        }
    }

    /// <summary>An absolute path inside the image that cannot leave the root.</summary>
    private static void CheckImagePath(string? path, string what, string property, Action<string, string, string> error)
    {
        if (string.IsNullOrEmpty(path) || !path.StartsWith('/'))
        {
            error(DiagnosticCodes.PathNotAbsolute, property, $"{what} '{path}' is not an absolute path in the image. Start it with '/', for example '/app'.");
        }
        else if (path.Split('/').Any(segment => segment == ".."))
        {
            error(DiagnosticCodes.PathEscapesRoot, property, $"{what} '{path}' contains '..' and could escape the image's root. Write the absolute path it should have.");
        }
        else if (path.Contains('\0', StringComparison.Ordinal) || path.Contains('\\', StringComparison.Ordinal))
        {
            error(DiagnosticCodes.PathNotAbsolute, property, $"{what} '{path}' contains a NUL or a backslash; image paths use '/'.");
        }
    }

    /// <summary>Normalises an absolute image path ('/app//x/' → '/app/x').</summary>
    internal static string NormalizeImagePath(string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".");
        return "/" + string.Join('/', segments);
    }
}
