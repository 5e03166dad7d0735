using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kiln.Integration.Tests.Infrastructure;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// The kiln CLI's contract with scripts (docs/cli.md), checked on the real CLI process for every verb: the result on
/// standard output and nothing else, diagnostics on standard error, exit codes from the one table, --json that parses,
/// plain unwrapped text on a pipe, and never a stack trace. The examples in docs/cli.md are run and compared here, so
/// that they cannot go stale.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed partial class CliContractTests(KilnPackage package)
{
    // The table of docs/cli.md (src/Kiln.Cli/ExitCodes.cs).
    private const int Failed = 16;
    private const int Usage = 64;

    /// <summary>Where the Shop example's project is shown to live in docs/cli.md.</summary>
    private const string DocsProject = "/home/me/shop";

    private static readonly string[] StackTraceMarks = ["   at ", "This is a bug in Kiln", "Unhandled exception"];

    /// <summary>Bad input for every verb: (arguments, exit code, KILN code on standard error).</summary>
    public static TheoryData<string[], int, string> BadInputs => new()
    {
        // The command line itself.
        { ["nosuchverb"], Usage, "KILN5030" },
        { ["plan", "only-one.json"], Usage, "KILN5030" },
        { ["diff", "a.json"], Usage, "KILN5030" },
        { ["verify", "--root", "rootfs"], Usage, "KILN5030" },
        { ["inspect"], Usage, "KILN5030" },
        { ["fsck", "layout", "another-layout"], Usage, "KILN5030" },
        { ["fsck", "layout", "--no-such-option=1"], Usage, "KILN5030" },
        { ["export", "layout", "a:1"], Usage, "KILN5030" },
        { ["export", "layout", "a:1", "-o", "a.tar", "--format", "zip"], Usage, "KILN5030" },
        { ["push"], Usage, "KILN5030" },
        { ["pull"], Usage, "KILN5030" },
        { ["query"], Usage, "KILN5030" },
        { ["history"], Usage, "KILN5030" },
        { ["verify-image", "layout"], Usage, "KILN5030" },
        { ["bump"], Usage, "KILN5030" },
        { ["run"], Usage, "KILN5030" },
        { ["build", "a", "b"], Usage, "KILN5030" },
        { ["lock", "a", "b"], Usage, "KILN5030" },
        { ["outdated", "a", "b"], Usage, "KILN5030" },
        { ["inspect", "layout", "a:1", "b:1"], Usage, "KILN5030" },
        // The engine command (built alone when it is the first argument): the same usage errors.
        { ["engine"], Usage, "KILN5030" },
        { ["engine", "build", "--assembly", "a.dll"], Usage, "KILN5030" },
        { ["engine", "nosuchverb"], Usage, "KILN5030" },

        // release.json: empty, not JSON, a field missing, a field of the wrong type.
        { ["plan", "release/empty/release.json", "release/wrong-type/release.json", "--json"], Failed, "KILN5020" },
        { ["plan", "release/invalid/release.json", "release/missing-field/release.json", "--json"], Failed, "KILN5020" },
        { ["plan", "release/missing-field/release.json", "release/missing-field/release.json"], Failed, "KILN5020" },
        { ["diff", "release/missing-field/release.json", "release/missing-field/release.json", "--json"], Failed, "KILN5020" },
        { ["query", "user", "release/wrong-type/release.json", "--json"], Failed, "KILN5020" },
        { ["query", "user", "release/missing-field/release.json"], Failed, "KILN5020" },
        { ["push", "release/missing-field", "--registry", "localhost:1", "--json"], Failed, "KILN5020" },
        { ["push", "release/wrong-type", "--registry", "localhost:1"], Failed, "KILN5020" },

        // Kiln manifests.
        { ["diff", "empty.json", "invalid.json", "--json"], Failed, "KILN2070" },
        { ["diff", "manifest-missing-field.json", "manifest-missing-field.json"], Failed, "KILN5022" },
        { ["verify", "-m", "manifest-missing-field.json", "-r", "rootfs", "--json"], Failed, "KILN5022" },
        { ["verify", "-m", "manifest-wrong-type.json", "-r", "rootfs"], Failed, "KILN5022" },
        { ["verify", "-m", "invalid.json", "-r", "rootfs"], Failed, "KILN2070" },

        // kiln.lock.json.
        { ["history", "shop-api", "--project", "lock/empty", "--json"], Failed, "KILN5001" },
        { ["history", "shop-api", "--project", "lock/invalid"], Failed, "KILN5001" },
        { ["history", "shop-api", "--project", "lock/missing-field", "--json"], Failed, "KILN5001" },
        { ["history", "shop-api", "--project", "lock/wrong-type"], Failed, "KILN5001" },
        { ["outdated", "lock/wrong-type", "--json"], Failed, "KILN5001" },
        { ["lock", "--update", "--security-only", "lock/invalid", "--json"], Failed, "KILN5001" },

        // OCI layouts and archives.
        { ["inspect", "layout/invalid", "--json"], Failed, "KILN2022" },
        { ["inspect", "layout/missing-field"], Failed, "KILN2022" },
        { ["inspect", "no-such-layout"], Failed, "KILN2012" },
        { ["inspect", "empty.json", "--json"], Failed, "KILN2022" },
        { ["fsck", "layout/invalid", "--json"], Failed, "KILN3043" },
        { ["fsck", "layout/missing-field"], Failed, "KILN3043" },
        { ["export", "layout/missing-field", "a:1", "-o", "a.tar", "--json"], Failed, "KILN1014" },
        { ["run", "a:1.0.0", "--layout", "layout/none", "--umoci", "/bin/true", "--runc", "/bin/true"], Failed, "KILN3021" },
        { ["run", "a:1.0.0", "--layout", "layout/none", "--platform", "arm64", "--umoci", "/bin/true", "--runc", "/bin/true"], Failed, "KILN5043" },
        { ["inspect", "layout/invalid", "--platform", "linux/", "--json"], Failed, "KILN5043" },
        { ["verify-image", "layout/invalid", "--key", "not-a-key.pem", "--json"], Failed, "KILN4031" },

        // Paths and registries.
        { ["build", "no/such/dir", "--json"], Failed, "KILN5031" },
        { ["lock", "--update", "no/such/dir"], Failed, "KILN5031" },
        { ["lock", "--update", "--security-only", "no/such/dir"], Failed, "KILN5031" },
        { ["outdated", "no/such/dir", "--json"], Failed, "KILN5031" },
        { ["push", "--registry", "localhost:1", "--json"], Failed, "KILN1051" },
        { ["pull", "localhost:1/shop/base@sha256:0000000000000000000000000000000000000000000000000000000000000000", "--offline", "--cache-dir", "cache", "--json"], Failed, "KILN1050" },
        { ["bump", "no-such-server", "--project", ".", "--json"], Failed, "KILN2055" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Verb_BadInput_CodedErrorOnStandardErrorNothingOnStandardOutput(string[] arguments, int exitCode, string code)
    {
        var directory = BadInputDirectory();

        var result = KilnCli.RunSeparated(package, directory, null, arguments);

        Assert.True(result.ExitCode == exitCode, $"kiln {string.Join(' ', arguments)}: expected exit code {exitCode}\n{result}");
        Assert.True(result.StandardOutput.Length == 0, $"kiln {string.Join(' ', arguments)} wrote its error to standard output\n{result}");
        Assert.True(result.StandardError.Contains($"error {code}:", StringComparison.Ordinal), $"kiln {string.Join(' ', arguments)}: expected {code}\n{result}");
        AssertNoStackTrace(result);
    }

    [Fact]
    public void Help_Root_ListsEveryVerbAndHidesTheEngine()
    {
        string[] verbs = ["build", "inspect", "diff", "verify", "fsck", "verify-image", "query", "history", "lock", "push", "export", "pull", "plan", "run", "outdated", "bump", "init"];

        var help = KilnCli.RunSeparated(package, BadInputDirectory(), null, ["--help"]);
        var engineHelp = KilnCli.RunSeparated(package, BadInputDirectory(), null, ["engine", "build", "--help"]);

        Assert.True(help.ExitCode == 0, help.ToString());
        var listed = help.StandardOutput.Split('\n').Select(l => l.Trim().Split(' ')[0]).ToHashSet(StringComparer.Ordinal);
        Assert.All(verbs, verb => Assert.Contains(verb, listed));
        Assert.DoesNotContain("engine", listed);
        Assert.True(engineHelp.ExitCode == 0, engineHelp.ToString());
        Assert.Contains("kiln engine build [options]", engineHelp.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("--project-dir", engineHelp.StandardOutput, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Verbs_ShopBuild_ResultOnStandardOutputJsonParsesAndExitCodesFollowTheTable()
    {
        var shop = ShopBuild();
        var manifests = Path.Combine(shop.Fixture.OutputDirectory, "manifests");

        // name, arguments, exit code: every reporting verb with --json on the same build.
        var cases = new (string[] Arguments, int ExitCode)[]
        {
            (["inspect", shop.Fixture.LayoutDirectory, "--json"], 0),
            (["inspect", shop.Fixture.LayoutDirectory, "shop-api:1.10.0", "--json"], 0),
            (["plan", Path.Combine(shop.Released, "release.json"), shop.Fixture.ReleasePath, "--json"], 0),
            (["diff", Path.Combine(shop.Released, "manifests", "shop-worker-1.0.0.json"), Path.Combine(manifests, "shop-worker-1.1.0.json"), "--json"], 1),
            (["diff", Path.Combine(manifests, "shop-api-1.10.0.json"), Path.Combine(manifests, "shop-api-1.10.0.json"), "--json"], 0),
            (["history", "shop-worker", "--project", shop.Fixture.Directory, "--manifests", shop.Released, "--json"], 0),
            (["query", "limits.openFiles", shop.Fixture.ReleasePath, "--json"], 0),
            (["fsck", shop.Fixture.LayoutDirectory, "--json"], 0),
            (["export", shop.Fixture.LayoutDirectory, "shop-api:1.10.0", "-o", Path.Combine(shop.Fixture.Directory, "shop-api.tar"), "--json"], 0),
            (["bump", "shop-admin", "--project", shop.Fixture.Directory, "--json"], 0),
        };
        foreach (var (arguments, exitCode) in cases)
        {
            var result = KilnCli.RunSeparated(package, shop.Fixture.Directory, null, arguments);

            Assert.True(result.ExitCode == exitCode, $"kiln {string.Join(' ', arguments)}: expected exit code {exitCode}\n{result}");
            Assert.True(!result.StandardError.Contains("error KILN", StringComparison.Ordinal), $"kiln {string.Join(' ', arguments)}\n{result}");
            AssertJson(result, arguments);
            AssertNoStackTrace(result);
        }

        // The build verb itself, through the CLI: MSBuild's output is progress (standard error), the images the result.
        Assert.True(shop.Build.ExitCode == 0, shop.Build.ToString());
        using (var build = AssertJson(shop.Build, ["build"]))
        {
            Assert.Contains("shop-worker:1.1.0", build.RootElement.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("reference").GetString()));
        }

        var umoci = Tools.Find("umoci");
        if (umoci is not null)
        {
            var bundle = Path.Combine(shop.Fixture.Directory, "bundle-json");
            var unpack = ProcessRunner.Run(umoci, ["unpack", "--image", $"{shop.Fixture.LayoutDirectory}:shop-api:1.10.0", bundle]);
            Assert.True(unpack.ExitCode == 0, unpack.Output);
            var verify = KilnCli.RunSeparated(package, shop.Fixture.Directory, null, "verify", "-m", Path.Combine(manifests, "shop-api-1.10.0.json"), "-r", Path.Combine(bundle, "rootfs"), "--json");
            Assert.True(verify.ExitCode == 0, verify.ToString());
            using var json = AssertJson(verify, ["verify"]);
            Assert.Equal(0, json.RootElement.GetProperty("exitCode").GetInt32());
        }

        using var registry = Tools.Find("docker-registry") is null ? null : Kiln.Tests.Registry.RegistryServer.Start();
        if (registry is not null)
        {
            // No Release build here: the default refuses (KILN1051); the Debug build is pushed when named.
            var push = KilnCli.RunSeparated(package, shop.Fixture.Directory, Isolated(shop.Fixture), "push", shop.Fixture.OutputDirectory, "--registry", registry.Host, "--repository-prefix", "cli", "--json");
            Assert.True(push.ExitCode == 0, push.ToString());
            using var json = AssertJson(push, ["push"]);
            Assert.Equal(3, json.RootElement.GetProperty("images").GetArrayLength());
            var reference = json.RootElement.GetProperty("images")[0];
            var pull = KilnCli.RunSeparated(package, shop.Fixture.Directory, Isolated(shop.Fixture), "pull", $"{registry.Host}/cli/{reference.GetProperty("name").GetString()}@{reference.GetProperty("digest").GetString()}", "--cache-dir", Path.Combine(shop.Fixture.Directory, "cache"), "--json");
            Assert.True(pull.ExitCode == 0, pull.ToString());
            AssertJson(pull, ["pull"]).Dispose();

            // A repository the registry does not have is not a success, even when the digest is in the cache.
            var missing = KilnCli.RunSeparated(package, shop.Fixture.Directory, Isolated(shop.Fixture), "pull", $"{registry.Host}/no-such/repository@{reference.GetProperty("digest").GetString()}", "--cache-dir", Path.Combine(shop.Fixture.Directory, "cache"));
            Assert.True(missing.ExitCode == Failed && missing.StandardError.Contains("error KILN1017:", StringComparison.Ordinal) && missing.StandardOutput.Length == 0, missing.ToString());
            var offline = KilnCli.RunSeparated(package, shop.Fixture.Directory, Isolated(shop.Fixture), "pull", $"{registry.Host}/no-such/repository@{reference.GetProperty("digest").GetString()}", "--cache-dir", Path.Combine(shop.Fixture.Directory, "cache"), "--offline");
            Assert.True(offline.ExitCode == 0, offline.ToString());
        }
    }

    [Fact]
    public void Verbs_StandardOutputPiped_PlainTextWithoutBoxesOrShortenedDigests()
    {
        var shop = ShopBuild();
        foreach (var example in DocExamples())
        {
            var result = KilnCli.RunSeparated(package, shop.Fixture.Directory, null, example.Arguments);

            Assert.DoesNotContain('╭', result.StandardOutput);
            Assert.DoesNotContain('│', result.StandardOutput);
            Assert.DoesNotContain('…', result.StandardOutput);
            AssertNoStackTrace(result);
        }
    }

    /// <summary>
    /// Every <c>cli-example</c> block of docs/cli.md is run on the Shop build and must print what the block shows, after
    /// digests, sizes and the project directory are normalised (they change with Kiln's layer writer, not with the CLI).
    /// KILN_UPDATE_DOCS=1 rewrites the blocks with the real output instead.
    /// </summary>
    [Fact]
    public void Docs_CliExamples_MatchWhatTheVerbsPrint()
    {
        var shop = ShopBuild();
        var docsPath = Path.Combine(Repo.Root, "docs", "cli.md");
        var docs = File.ReadAllText(docsPath);
        var examples = DocExamples();
        Assert.True(examples.Count >= 5, "docs/cli.md shows examples of at least inspect, plan, diff, verify and history");
        Assert.Superset(new HashSet<string> { "inspect", "plan", "diff", "verify", "history" }, examples.Select(e => e.Arguments[0]).ToHashSet());

        var stale = new StringBuilder();
        var updated = docs;
        foreach (var example in examples)
        {
            if (example.Arguments[0] == "verify")
            {
                Unpack(shop, "shop-api:1.10.0", Path.Combine(shop.Fixture.Directory, "instance"));
            }

            var result = KilnCli.RunSeparated(package, shop.Fixture.Directory, null, example.Arguments);
            Assert.True(result.ExitCode == example.ExitCode, $"kiln {string.Join(' ', example.Arguments)}: docs/cli.md says exit code {example.ExitCode}\n{result}");
            var actual = result.StandardOutput.Replace(shop.Fixture.Directory, DocsProject, StringComparison.Ordinal).TrimEnd('\n');
            if (Normalise(actual) != Normalise(example.Output))
            {
                stale.AppendLine($"--- kiln {string.Join(' ', example.Arguments)}: docs/cli.md shows\n{example.Output}\n--- but the verb prints\n{actual}\n");
                var exit = example.ExitCode == 0 ? "" : $" exit={example.ExitCode}";
                updated = updated.Replace(example.Block, $"<!-- cli-example{exit} -->\n```console\n$ kiln {string.Join(' ', example.Arguments)}\n{actual}\n```", StringComparison.Ordinal);
            }
        }

        if (stale.Length > 0 && Environment.GetEnvironmentVariable("KILN_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(docsPath, updated);
            return;
        }

        Assert.True(stale.Length == 0, "docs/cli.md's examples are stale (run the tests with KILN_UPDATE_DOCS=1 to rewrite them):\n" + stale);
    }

    private sealed record DocExample(string Block, string[] Arguments, int ExitCode, string Output);

    private sealed record Shop(FixtureProject Fixture, string Released, CliResult Build);

    private static readonly Lock ShopLock = new();
    private static readonly Dictionary<KilnPackage, Shop> Shops = [];

    /// <summary>
    /// The Shop fixture (shop-worker, shop-api, shop-admin and the shop deployment) built twice, once per test run:
    /// 1.0.0 of the worker kept in released-1/ as a release would be archived, then 1.1.0 built through <c>kiln build</c>.
    /// </summary>
    private Shop ShopBuild()
    {
        lock (ShopLock)
        {
            if (Shops.TryGetValue(package, out var built))
            {
                return built;
            }

            // Debug builds are locked here (Release is the default), so that history has versions to show.
            var fixture = DeploymentTests.Shop(package)
                .Write("Directory.Build.props", "<Project><PropertyGroup><KilnLockConfiguration>Debug</KilnLockConfiguration></PropertyGroup></Project>");
            fixture.BuildOk();
            var released = Path.Combine(fixture.Directory, "released-1");
            foreach (var file in Directory.EnumerateFiles(fixture.OutputDirectory, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(released, Path.GetRelativePath(fixture.OutputDirectory, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            DeploymentTests.Shop(package, workerVersion: "1.1.0", workerScript: "#!/bin/sh\necho working harder\n", existing: fixture);
            var build = KilnCli.RunSeparated(package, fixture.Directory, null, "build", fixture.Directory, "--json");
            Assert.True(build.ExitCode == 0, build.ToString());
            // docs/cli.md's multi-platform examples: a two-platform image written through Kiln.Oci, as a multi-platform spec builds it.
            MultiPlatformImage.Write(Path.Combine(fixture.Directory, "multi", "oci"), "hello:1.0.0", MultiPlatformImage.TwoPlatforms);
            return Shops[package] = new Shop(fixture, released, build);
        }
    }

    private static void Unpack(Shop shop, string reference, string bundle)
    {
        if (Directory.Exists(Path.Combine(bundle, "rootfs")))
        {
            return;
        }

        var umoci = Tools.Require("umoci", "umoci");
        var unpack = ProcessRunner.Run(umoci, ["unpack", "--image", $"{shop.Fixture.LayoutDirectory}:{reference}", bundle]);
        Assert.True(unpack.ExitCode == 0, unpack.Output);
    }

    /// <summary>The <c>cli-example</c> blocks: a <c>$ kiln …</c> line, the output, and the exit code when it is not 0.</summary>
    private static List<DocExample> DocExamples()
    {
        var docs = File.ReadAllText(Path.Combine(Repo.Root, "docs", "cli.md"));
        return [.. ExampleBlock().Matches(docs).Select(m => new DocExample(
            m.Value,
            m.Groups["command"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            m.Groups["exit"].Success ? int.Parse(m.Groups["exit"].Value, System.Globalization.CultureInfo.InvariantCulture) : 0,
            m.Groups["output"].Value.TrimEnd('\n')))];
    }

    [GeneratedRegex(@"<!-- cli-example(?: exit=(?<exit>\d+))? -->\n```console\n\$ kiln (?<command>[^\n]*)\n(?<output>(?:(?!```)[^\n]*\n)*)```", RegexOptions.CultureInvariant)]
    private static partial Regex ExampleBlock();

    [GeneratedRegex(@"sha256:[0-9a-f]{64}")]
    private static partial Regex FullDigest();

    [GeneratedRegex(@"\b\d+ bytes\b|(?<=\t)\d+(?=\t)|(?<=\t)\d{3,}$", RegexOptions.Multiline)]
    private static partial Regex Sizes();

    [GeneratedRegex(@"(?<=org\.opencontainers\.image\.(?:version|revision|created)=)[^\t\n]*|(?<=io\.kiln\.[a-z.]*version=)[^\t\n]*")]
    private static partial Regex VersionLabels();

    private static string Normalise(string text) =>
        Sizes().Replace(VersionLabels().Replace(FullDigest().Replace(text.ReplaceLineEndings("\n"), "sha256:<digest>"), "<version>"), "<n>");

    private static JsonDocument AssertJson(CliResult result, string[] arguments)
    {
        try
        {
            return JsonDocument.Parse(result.StandardOutput);
        }
        catch (JsonException e)
        {
            Assert.Fail($"kiln {string.Join(' ', arguments)} --json printed what is not JSON ({e.Message})\n{result}");
            throw;
        }
    }

    private static void AssertNoStackTrace(CliResult result)
    {
        foreach (var mark in StackTraceMarks)
        {
            Assert.True(!result.StandardOutput.Contains(mark, StringComparison.Ordinal) && !result.StandardError.Contains(mark, StringComparison.Ordinal), $"'{mark}' in the output:\n{result}");
        }
    }

    private static Dictionary<string, string?> Isolated(FixtureProject fixture) => new()
    {
        ["DOCKER_CONFIG"] = Path.Combine(fixture.Directory, "docker-config"),
        ["KILN_REGISTRY_USERNAME"] = null,
        ["KILN_REGISTRY_PASSWORD"] = null,
    };

    /// <summary>The files the bad-input table names, written once per test run.</summary>
    private string BadInputDirectory()
    {
        var directory = Path.Combine(package.Root, "cli-bad-input");
        lock (ShopLock)
        {
            if (Directory.Exists(directory))
            {
                return directory;
            }

            // Puts the packed engine (kiln.dll) in the test's package cache.
            Assert.Equal(0, new FixtureProject(package).Build("-t:Restore").ExitCode);
            var temp = directory + ".tmp";
            void Write(string path, string text)
            {
                var full = Path.Combine(temp, path);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                File.WriteAllText(full, text);
            }

            Write("empty.json", "");
            Write("invalid.json", "{");
            Write("not-a-key.pem", "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n");
            Write("rootfs/app/app.conf", "x\n");
            Write("Specs.cs", "namespace Shop;\n");
            Write("release/empty/release.json", "");
            Write("release/invalid/release.json", "{ \"kind\": \"KilnRelease\"");
            Write("release/missing-field/release.json", """{ "kind": "KilnRelease", "schemaVersion": 1, "layout": "oci", "images": [ { "name": "shop-api", "version": "1.0.0" } ] }""");
            Write("release/wrong-type/release.json", """{ "kind": "KilnRelease", "schemaVersion": 1, "layout": "oci", "images": "shop-api" }""");
            Write("manifest-missing-field.json", """{ "kind": "KilnManifest", "schemaVersion": 1, "content": { "name": "shop-api", "version": "1.0.0" } }""");
            Write("manifest-wrong-type.json", """{ "kind": "KilnManifest", "schemaVersion": 1, "content": { "name": 7, "version": "1.0.0" } }""");
            Write("lock/empty/kiln.lock.json", "");
            Write("lock/invalid/kiln.lock.json", "{");
            Write("lock/missing-field/kiln.lock.json", "{}");
            Write("lock/wrong-type/kiln.lock.json", """{ "kind": "KilnLock", "schemaVersion": "one" }""");
            Write("layout/none/.keep", "");
            Write("layout/invalid/oci-layout", """{"imageLayoutVersion":"1.0.0"}""");
            Write("layout/invalid/index.json", "{");
            Write("layout/missing-field/oci-layout", """{"imageLayoutVersion":"1.0.0"}""");
            Write("layout/missing-field/index.json", """{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":3}]}""");
            Directory.Move(temp, directory);
            return directory;
        }
    }
}
