using System.CommandLine;
using System.Collections.Immutable;
using Kiln.Engine;
using Kiln.Engine.Lock;
using Kiln.Engine.Packages;
using Kiln.Engine.Requests;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln outdated [PROJECT]</c>: for every locked package base of a project, the packages whose suites (the suite,
/// its -updates and its -security) now offer a newer version, flagged when the fix comes from the security suite,
/// and the built images (Kiln manifests under bin/) that still carry the old version. Exit code 0 when nothing is
/// outdated, <see cref="ExitCodes.OutdatedFound"/> (8) when something is, <see cref="ExitCodes.Failed"/> (16) when it
/// could not check.
/// </summary>
internal static class OutdatedCommand
{
    private static readonly Option<string?> DebianMirror = new("--debian-mirror") { Description = "The Debian mirror; default: the one the machine's apt sources name." };
    private static readonly Option<string?> DebianSecurityMirror = new("--debian-security-mirror") { Description = "The Debian security archive; default: the apt source serving <suite>-security, else the mirror's debian-security sibling." };
    private static readonly Option<string?> DebianKeyring = new("--debian-keyring") { Description = "The keyring InRelease must verify against." };
    private static readonly Option<string?> CacheDirectory = new("--cache-dir") { Description = "The download cache (default: KILN_CACHE or ~/.cache/kiln)." };

    public static Command Create()
    {
        var project = new Argument<string>("project") { Description = "The spec project's directory (holding kiln.lock.json).", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => "." };
        var manifests = new Option<string[]>("--manifests") { Description = "More directories with Kiln manifests (archived releases) to name affected images from.", AllowMultipleArgumentsPerToken = true };
        var securityOnly = new Option<bool>("--security-only") { Description = "Report only updates from the security suite." };
        var json = new Option<bool>("--json") { Description = "Print the outdated packages as JSON." };
        var command = new Command("outdated", $"Show locked Debian packages with a newer version in their suites, security fixes flagged, and the images affected (exit code {ExitCodes.OutdatedFound} when any).")
        {
            project, manifests, securityOnly, json, DebianMirror, DebianSecurityMirror, DebianKeyring, CacheDirectory, EngineCommand.AptSourcesOption,
        };
        command.SetAction(result => Edge.Run(() =>
        {
            var directory = BuildCommand.ProjectDirectory(result.GetValue(project)!);
            var lockFile = KilnLock.Load(Path.Combine(directory, KilnLock.FileName));
            using var http = new HttpClient();
            var changes = PackageUpdates.Find(PackageOptions(result), http, lockFile)
                .Where(c => !result.GetValue(securityOnly) || c.Security).ToList();
            string[] searched = [Path.Combine(directory, "bin"), .. result.GetValue(manifests) ?? []];
            var rows = changes.Select(c => new OutdatedPackage(c.BaseKey, c.Name, c.OldVersion!, c.NewVersion!, c.Suite!, c.Security, PackageUpdates.Affected(searched, c)) { Architecture = c.Architecture }).ToList();
            if (result.GetValue(json))
            {
                CliJson.Write(rows);
            }
            else if (rows.Count == 0)
            {
                Console.Out.WriteLine($"Every locked package of {lockFile.PackageBases.Count} package base(s) is the newest its suites offer.");
            }
            else
            {
                CliOutput.Table(
                    ["package", "arch", "locked", "newest", "suite", "security", "images affected"],
                    rows.Select(row => new[] { row.Name, row.Architecture, row.Locked, row.Newest, row.Suite, row.Security ? "yes" : "no", row.Images.IsEmpty ? "-" : string.Join(", ", row.Images) }));
                Console.Error.WriteLine($"{rows.Count} package(s) outdated, {rows.Count(r => r.Security)} with a security fix. Take them: kiln lock --update --security-only (or --update for all), then kiln bump the specs the build names.");
            }

            return rows.Count == 0 ? Edge.Ok : ExitCodes.OutdatedFound;
        }));
        return command;
    }

    /// <summary>The mirror and cache settings of a package-index read (no image is built from it).</summary>
    internal static PackageOptions PackageOptions(ParseResult result) => new()
    {
        Mirror = result.GetValue(DebianMirror) is { Length: > 0 } mirror ? mirror : null,
        SecurityMirror = result.GetValue(DebianSecurityMirror) is { Length: > 0 } securityMirror ? securityMirror : null,
        Keyring = KilnDefaults.ResolveDebianKeyring(result.GetValue(DebianKeyring), File.Exists),
        AptSources = EngineCommand.AptSourceFiles(result.GetValue(EngineCommand.AptSourcesOption)),
        CacheDirectory = Path.GetFullPath(result.GetValue(CacheDirectory) is { Length: > 0 } cache ? cache : EngineCommand.DefaultCacheDirectory()),
        Time = TimeProvider.System,
    };

    /// <summary>The mirror options, shared with <c>kiln lock --update</c>.</summary>
    internal static IEnumerable<Option> MirrorOptions => [DebianMirror, DebianSecurityMirror, DebianKeyring, CacheDirectory, EngineCommand.AptSourcesOption];

    /// <summary>One outdated package (the --json shape).</summary>
    internal sealed record OutdatedPackage(string Base, string Name, string Locked, string Newest, string Suite, bool Security, ImmutableArray<string> Images)
    {
        /// <summary>The Debian architecture of the locked set (amd64, arm64): a package pinned for two architectures is listed once for each.</summary>
        public string Architecture { get; init; } = "";
    }
}
