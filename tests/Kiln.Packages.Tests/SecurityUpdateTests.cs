using System.Collections.Immutable;
using System.Text;
using Kiln.Engine.Lock;
using Kiln.Engine.Packages;
using Kiln.Engine.Requests;
using Kiln.Spec;
using Kiln.Tests.Shared;

namespace Kiln.Packages.Tests;

/// <summary>
/// Against the real Debian archive: no version is written down here; every expectation comes from the indexes the
/// test downloads, so the tests hold whatever the security suite publishes next.
/// </summary>
public sealed class SecurityUpdateTests : IDisposable
{
    private const string Mirror = "http://deb.debian.org/debian/";
    private const string SecurityMirror = "http://deb.debian.org/debian-security/";
    private const string Keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
    private readonly string _work = Directory.CreateTempSubdirectory("kiln-security-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [SkippableFact]
    public async Task Apply_PinnedToMainWithNewerSecurityVersion_ReportedAsSecurityAndTaken()
    {
        if (!File.Exists(Keyring))
        {
            ToolPolicy.Unavailable($"The Debian archive keyring {Keyring} is missing (install debian-archive-keyring).");
        }

        var main = await Index($"{Mirror}dists/bookworm/main/binary-amd64/Packages.xz", "bookworm");
        var security = await Index($"{SecurityMirror}dists/bookworm-security/main/binary-amd64/Packages.xz", "bookworm-security");

        // A package of main that the security suite has a newer version of, with the smallest closure to pin.
        var (name, pinned, fixedVersion) = security.Names.Order(StringComparer.Ordinal)
            .Select(n => (Name: n, Main: main.Versions(n).FirstOrDefault(), Fix: security.Versions(n).First()))
            .Where(c => c.Main is not null && DebianVersion.Compare(c.Fix.Version, c.Main.Version) > 0)
            .Take(40)
            .Select(c => (c.Name, Set: new PackageResolver(main, "bookworm").Resolve([$"{c.Name}={c.Main!.Version}"]), c.Fix.Version))
            .OrderBy(c => c.Set.Length).ThenBy(c => c.Name, StringComparer.Ordinal)
            .First();
        var spec = new DebianBase("bookworm", [name], "amd64");
        var key = PackageBaseBuilder.LockKey(spec);
        var lockFile = KilnLock.Empty with
        {
            PackageBases = KilnLock.Empty.PackageBases.Add(key, new LockedPackageSet("bookworm", "amd64", [.. pinned.Select(p => p.ToLocked())])),
        };
        using var http = new HttpClient();

        var outdated = PackageUpdates.Find(Request(), http, lockFile);

        var change = Assert.Single(outdated, c => c.Name == name);
        Assert.Equal(("bookworm-security", fixedVersion, true), (change.Suite, change.NewVersion, change.Security));

        var (updated, changes) = PackageUpdates.Apply(Request(), http, lockFile, securityOnly: true, message: "advisory");

        var set = updated.PackageBases[key];
        var taken = Assert.Single(set.Packages, p => p.Name == name);
        Assert.Equal((fixedVersion, "bookworm-security"), (taken.Version, taken.Origin));
        Assert.All(changes, c => Assert.True(c.Security));
        Assert.Contains(set.Update!.Changes, c => c.Name == name && c.To == fixedVersion && c.Security);
        Assert.Equal("advisory", set.Update.Message);
    }

    private PackageOptions Request() => new()
    {
        CacheDirectory = Path.Combine(_work, "cache"),
        Mirror = Mirror,
        Keyring = Keyring,
    };

    private static async Task<PackageIndex> Index(string uri, string suite)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(3) };
        byte[] bytes;
        try
        {
            bytes = await http.GetByteArrayAsync(uri);
        }
        catch (HttpRequestException e)
        {
            ToolPolicy.Unavailable($"The Debian mirror is not reachable ({e.Message}).");
            throw;
        }

        using var reader = new StreamReader(new SharpCompress.Compressors.Xz.XZStream(new MemoryStream(bytes)), Encoding.UTF8);
        return PackageIndex.Read(reader, "amd64", suite);
    }
}
