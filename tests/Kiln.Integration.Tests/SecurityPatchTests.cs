using System.Text.Json;
using Kiln.Integration.Tests.Infrastructure;
using Kiln.Tests.Shared;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// The patch path of docs/patching.md end to end, against the real Debian archive: a spec whose lock pins a package
/// at its version from bookworm (or bookworm-updates) while bookworm-security has a newer one. No version is written
/// down here: the package and every expected version come from the indexes the test downloads, so the test holds
/// whatever the security suite publishes next.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class SecurityPatchTests(KilnPackage package) : IDisposable
{
    private const string Mirror = "http://deb.debian.org/debian/";
    private const string SecurityMirror = "http://deb.debian.org/debian-security/";
    private const string Keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";

    /// <summary>Fixtures build Debug; versions are locked for Release by default, so lock Debug here.</summary>
    private const string LockedDebug = "-p:KilnLockConfiguration=Debug";

    private readonly string _temp = Directory.CreateTempSubdirectory("kiln-security-patch-it-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private sealed record Stanza(string Package, string Version, string Architecture, int Dependencies, long Size);

    private static string Spec(string name) => $$"""
        public sealed class PatchedApi : ServerSpec
        {
            public override string Name => "patched-api";
            // The released version.
            public override string Version => "1.0.0";
            public override BaseImage Base => BaseImage.Debian("bookworm", ["{{name}}"]);
            public override ImmutableArray<Layer> Layers => [Layer.File("app.conf", to: "/app/app.conf")];
            public override Entrypoint Entrypoint => new("/app/run");
        }
        """;

    [SkippableFact]
    public void SecurityFix_OutdatedLockEnforceBumpBuildHistoryDiff_TakesTheFixThroughEveryStep()
    {
        if (!File.Exists(Keyring))
        {
            ToolPolicy.Unavailable($"The Debian archive keyring {Keyring} is missing (install debian-archive-keyring).");
        }

        var dpkg = Tools.Require("dpkg", "dpkg");
        var main = Index($"{Mirror}dists/bookworm/main/binary-amd64/Packages.xz");
        var updates = Index($"{Mirror}dists/bookworm-updates/main/binary-amd64/Packages.xz");
        var security = Index($"{SecurityMirror}dists/bookworm-security/main/binary-amd64/Packages.xz");
        var (name, before, fix) = PickSecurityFix(dpkg, main, updates, security);

        var cache = $"-p:KilnCacheDirectory={ShopSample.CacheDirectory(package)}";
        var fixture = new FixtureProject(package, "Patched").Specs(Spec(name)).Write("app.conf", "mode=a\n");

        // 1.0.0 is built while the security archive is out of reach (the main mirror has no bookworm-security suite), so
        // the lock pins the version a machine without the security suite would have: the package is then outdated.
        fixture.BuildOk(LockedDebug, cache, $"-p:KilnDebianMirror={Mirror}", $"-p:KilnDebianSecurityMirror={Mirror}");
        Assert.Equal(before, LockedPackage(fixture, name).GetProperty("version").GetString());
        var archived = Archive(fixture, "1.0.0");
        var releasedDigest = fixture.ReadRelease().Digests["patched-api:1.0.0"];
        string[] mirrors = ["--debian-mirror", Mirror, "--debian-security-mirror", SecurityMirror, "--cache-dir", ShopSample.CacheDirectory(package)];

        // kiln outdated: the package, its fix from the security suite, and the image that carries the old version.
        var outdated = KilnCli.Run(package, fixture.Directory, ["outdated", fixture.Directory, "--json", .. mirrors]);
        Assert.True(outdated.ExitCode == 8, outdated.ToString());
        using (var rows = JsonDocument.Parse(outdated.Output))
        {
            var row = Assert.Single(rows.RootElement.EnumerateArray(), r => r.GetProperty("name").GetString() == name);
            Assert.Equal((before, fix, "bookworm-security", true), (row.GetProperty("locked").GetString(), row.GetProperty("newest").GetString(), row.GetProperty("suite").GetString(), row.GetProperty("security").GetBoolean()));
            Assert.Contains("patched-api:1.0.0", row.GetProperty("images").EnumerateArray().Select(i => i.GetString()));
        }

        // kiln lock --update --security-only takes it, with the message, and pins where it came from.
        var locked = KilnCli.Run(package, fixture.Directory, ["lock", fixture.Directory, "--update", "--security-only", "-m", $"advisory for {name}", .. mirrors]);
        Assert.True(locked.ExitCode == 0, locked.ToString());
        Assert.Contains($"{name} {before} -> {fix} [bookworm-security] security", locked.Output, StringComparison.Ordinal);
        var taken = LockedPackage(fixture, name);
        Assert.Equal((fix, "bookworm-security"), (taken.GetProperty("version").GetString(), taken.GetProperty("origin").GetString()));

        // The build refuses new content under the released version, naming the server and the bump to run.
        string[] build = [LockedDebug, cache, $"-p:KilnDebianMirror={Mirror}", $"-p:KilnDebianSecurityMirror={SecurityMirror}", "-p:KilnLockMode=Enforce"];
        var refused = fixture.Build(build);
        Assert.NotEqual(0, refused.ExitCode);
        var error = refused.Output.Split('\n').First(l => l.Contains("error KILN5002", StringComparison.Ordinal));
        Assert.Contains("patched-api 1.0.0", error, StringComparison.Ordinal);
        Assert.Contains(releasedDigest, error, StringComparison.Ordinal);
        Assert.Contains("kiln bump patched-api", error, StringComparison.Ordinal);

        // kiln bump rewrites the version (and only it), the build passes and locks 1.0.1 with the fix as its reason.
        var specBefore = File.ReadAllText(Path.Combine(fixture.Directory, "Specs.cs"));
        var bump = KilnCli.Run(package, fixture.Directory, "bump", "patched-api", "--project", fixture.Directory);
        Assert.True(bump.ExitCode == 0, bump.ToString());
        Assert.Equal(specBefore.Replace("\"1.0.0\"", "\"1.0.1\"", StringComparison.Ordinal), File.ReadAllText(Path.Combine(fixture.Directory, "Specs.cs")));
        fixture.BuildOk(build);
        var patchedDigest = fixture.ReadRelease().Digests["patched-api:1.0.1"];
        Assert.NotEqual(releasedDigest, patchedDigest);

        var history = KilnCli.Run(package, fixture.Directory, "history", "patched-api", "--project", fixture.Directory, "--manifests", Path.Combine(archived, "manifests"), "--json");
        Assert.True(history.ExitCode == 0, history.ToString());
        using (var entries = JsonDocument.Parse(history.Output))
        {
            var versions = entries.RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("version").GetString()!, e => e);
            Assert.Equal(releasedDigest, versions["1.0.0"].GetProperty("digest").GetString());
            var patched = versions["1.0.1"];
            Assert.Equal((patchedDigest, "1.0.0"), (patched.GetProperty("digest").GetString(), patched.GetProperty("parent").GetString()));
            var reason = patched.GetProperty("reason").GetRawText();
            Assert.Contains($"advisory for {name}", reason, StringComparison.Ordinal);
            Assert.Contains($"\"{name}\"", reason, StringComparison.Ordinal);
            Assert.Contains($"\"{before}\"", reason, StringComparison.Ordinal);
            Assert.Contains($"\"{fix}\"", reason, StringComparison.Ordinal);
        }

        // kiln diff between the released and the patched manifest names the package change.
        var diff = KilnCli.Run(package, fixture.Directory, "diff", Path.Combine(archived, "manifests", "patched-api-1.0.0.json"), Path.Combine(fixture.OutputDirectory, "manifests", "patched-api-1.0.1.json"), "--json");
        Assert.True(diff.ExitCode == 1, diff.ToString());
        using var differences = JsonDocument.Parse(diff.Output);
        var change = Assert.Single(differences.RootElement.GetProperty("packages").EnumerateArray(), p => p.GetProperty("package").GetString() == name);
        Assert.Equal(("upgraded", before, fix), (change.GetProperty("change").GetString(), change.GetProperty("before").GetString(), change.GetProperty("after").GetString()));
    }

    /// <summary>
    /// A package of bookworm whose security version is newer than bookworm's and bookworm-updates', with the fewest
    /// dependencies (then the smallest): the one whose closure costs least to download and build.
    /// </summary>
    private static (string Name, string Before, string Fix) PickSecurityFix(string dpkg, ILookup<string, Stanza> main, ILookup<string, Stanza> updates, ILookup<string, Stanza> security)
    {
        var candidates = security
            .Where(g => main.Contains(g.Key))
            .Select(g => g.OrderBy(s => s.Dependencies).First())
            .Where(s => s.Architecture is "amd64" or "all")
            .OrderBy(s => s.Dependencies).ThenBy(s => s.Size).ThenBy(s => s.Package, StringComparer.Ordinal);
        foreach (var candidate in candidates.Take(50))
        {
            var fix = Newest(dpkg, security[candidate.Package].Select(s => s.Version));
            var before = Newest(dpkg, main[candidate.Package].Concat(updates[candidate.Package]).Select(s => s.Version));
            if (Compare(dpkg, fix, "gt", before))
            {
                return (candidate.Package, before, fix);
            }
        }

        ToolPolicy.Unavailable("bookworm-security has no newer version of any bookworm package today; nothing to patch.");
        throw new InvalidOperationException("unreachable");
    }

    private static string Newest(string dpkg, IEnumerable<string> versions) =>
        versions.Distinct(StringComparer.Ordinal).Aggregate((a, b) => Compare(dpkg, a, "ge", b) ? a : b);

    /// <summary>dpkg's own ordering, the judge of Debian versions.</summary>
    private static bool Compare(string dpkg, string a, string op, string b) =>
        ProcessRunner.Run(dpkg, ["--compare-versions", a, op, b]).ExitCode == 0;

    private ILookup<string, Stanza> Index(string uri)
    {
        var xz = Tools.Require("xz", "xz-utils");
        var path = Path.Combine(_temp, Guid.NewGuid().ToString("N") + ".xz");
        using (var http = new HttpClient { Timeout = TimeSpan.FromMinutes(3) })
        {
            try
            {
                File.WriteAllBytes(path, http.GetByteArrayAsync(uri).GetAwaiter().GetResult());
            }
            catch (HttpRequestException e)
            {
                ToolPolicy.Unavailable($"The Debian mirror is not reachable ({e.Message}).");
            }
        }

        var unpacked = ProcessRunner.Run(xz, ["-d", path]);
        Assert.True(unpacked.ExitCode == 0, unpacked.Output);
        var stanzas = new List<Stanza>();
        foreach (var paragraph in File.ReadAllText(path[..^3]).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = paragraph.Split('\n').Where(l => l.Length > 0 && !char.IsWhiteSpace(l[0]) && l.Contains(':'))
                .Select(l => (Key: l[..l.IndexOf(':')], Value: l[(l.IndexOf(':') + 1)..].Trim()))
                .GroupBy(f => f.Key).ToDictionary(g => g.Key, g => g.First().Value);
            if (fields.TryGetValue("Package", out var name) && fields.TryGetValue("Version", out var version))
            {
                var dependencies = new[] { "Depends", "Pre-Depends" }.Sum(k => fields.TryGetValue(k, out var d) ? d.Split(',').Length : 0);
                stanzas.Add(new Stanza(name, version, fields.GetValueOrDefault("Architecture", ""), dependencies, long.TryParse(fields.GetValueOrDefault("Size"), out var size) ? size : long.MaxValue));
            }
        }

        return stanzas.ToLookup(s => s.Package, StringComparer.Ordinal);
    }

    private static JsonElement LockedPackage(FixtureProject fixture, string name)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.Directory, "kiln.lock.json")));
        var set = Assert.Single(document.RootElement.GetProperty("packageBases").EnumerateObject()).Value;
        return Assert.Single(set.GetProperty("packages").EnumerateArray(), p => p.GetProperty("name").GetString() == name).Clone();
    }

    /// <summary>Keeps a version's manifest and inventory as a release archive would (manifests/ beside inventory/).</summary>
    private string Archive(FixtureProject fixture, string version)
    {
        var archive = Path.Combine(_temp, "releases", version);
        foreach (var file in new[] { $"manifests/patched-api-{version}.json", $"inventory/patched-api-{version}.txt" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(archive, file))!);
            File.Copy(Path.Combine(fixture.OutputDirectory, file), Path.Combine(archive, file));
        }

        return archive;
    }
}
