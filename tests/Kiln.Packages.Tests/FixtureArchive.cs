using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Kiln.Packages.Tests;

/// <summary>A .deb the fixture builds: its control fields and files.</summary>
internal sealed record FixturePackage(string Name, string Version, string? Depends = null, string? PreDepends = null, string? Provides = null, string Architecture = "amd64")
{
    public Dictionary<string, string> Files { get; init; } = [];

    public Dictionary<string, string> Symlinks { get; init; } = [];

    /// <summary>dpkg-deb's -Z: xz (bookworm's default), zstd (Ubuntu's) or gzip.</summary>
    public string Compression { get; init; } = "xz";
}

/// <summary>
/// A tiny Debian archive on disk (pool/, dists/&lt;suite&gt;/) with .debs built by dpkg-deb and an InRelease clear-signed
/// by a key generated for the test, served over HTTP on 127.0.0.1. Tests corrupt it on purpose through the hooks.
/// </summary>
internal sealed class FixtureArchive : IDisposable
{
    public const string Suite = "testing";

    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private readonly Dictionary<string, int> _requests = new(StringComparer.Ordinal);

    /// <param name="packages">The packages; an <c>Architecture: all</c> one is listed in every architecture's index.</param>
    /// <param name="architectures">The architectures the suite publishes an index for (amd64 only by default).</param>
    public FixtureArchive(IEnumerable<FixturePackage> packages, IReadOnlyList<string>? architectures = null)
    {
        Architectures = architectures ?? ["amd64"];
        Root = Directory.CreateTempSubdirectory("kiln-archive-").FullName;
        GnuPgHome = Path.Combine(Root, "gnupg");
        Directory.CreateDirectory(GnuPgHome);
        PrivateDirectory(GnuPgHome);
        Gpg("--batch", "--passphrase", "", "--quick-gen-key", "Kiln Test Archive <archive@kiln.test>", "rsa2048", "sign", "never");
        Keyring = Path.Combine(Root, "keyring.gpg");
        Gpg("--batch", "--yes", "--output", Keyring, "--export");

        var texts = Architectures.ToDictionary(a => a, _ => new StringBuilder(), StringComparer.Ordinal);
        foreach (var package in packages)
        {
            var deb = BuildDeb(Root, package);
            var bytes = File.ReadAllBytes(deb);
            var packagesText = new StringBuilder();
            packagesText.Append($"Package: {package.Name}\nVersion: {package.Version}\nArchitecture: {package.Architecture}\n");
            if (package.PreDepends is not null)
            {
                packagesText.Append($"Pre-Depends: {package.PreDepends}\n");
            }

            if (package.Depends is not null)
            {
                packagesText.Append($"Depends: {package.Depends}\n");
            }

            if (package.Provides is not null)
            {
                packagesText.Append($"Provides: {package.Provides}\n");
            }

            packagesText.Append($"Filename: {Path.GetRelativePath(Root, deb)}\nSize: {bytes.Length}\nSHA256: {Convert.ToHexStringLower(SHA256.HashData(bytes))}\n\n");
            foreach (var text in texts.Where(t => package.Architecture == "all" || package.Architecture == t.Key).Select(t => t.Value))
            {
                text.Append(packagesText);
            }
        }

        foreach (var (architecture, text) in texts)
        {
            var indexDirectory = Path.Combine(Root, "dists", Suite, "main", $"binary-{architecture}");
            Directory.CreateDirectory(indexDirectory);
            File.WriteAllText(Path.Combine(indexDirectory, "Packages"), text.ToString());
            Run("xz", "-k", "-9", Path.Combine(indexDirectory, "Packages"));
        }

        SignRelease();

        var port = LoopbackListener.FreePort();
        Mirror = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(Mirror);
        _listener.Start();
        _serving = Task.Run(Serve);
    }

    public string Root { get; }

    /// <summary>The architectures whose index the suite publishes.</summary>
    public IReadOnlyList<string> Architectures { get; }

    public string GnuPgHome { get; }

    public string Keyring { get; }

    public string Mirror { get; }

    /// <summary>When set, responses for paths ending with this suffix are cut to half their length.</summary>
    public string? TruncateSuffix { get; set; }

    public int RequestsFor(string suffix)
    {
        lock (_requests)
        {
            return _requests.Where(r => r.Key.EndsWith(suffix, StringComparison.Ordinal)).Sum(r => r.Value);
        }
    }

    public string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>Writes Release (with the SHA256 of the current indexes) and its clear-signed InRelease.</summary>
    /// <param name="validUntil">A Valid-Until field to sign in (RFC 2822 date), or none.</param>
    public void SignRelease(string? validUntil = null)
    {
        var dists = Path.Combine(Root, "dists", Suite);
        var release = new StringBuilder($"Origin: Kiln\nSuite: {Suite}\nCodename: {Suite}\n{(validUntil is null ? "" : $"Valid-Until: {validUntil}\n")}Architectures: {string.Join(' ', Architectures)}\nComponents: main\nSHA256:\n");
        foreach (var architecture in Architectures)
        {
            foreach (var name in new[] { "Packages", "Packages.xz" })
            {
                var bytes = File.ReadAllBytes(Path.Combine(dists, "main", $"binary-{architecture}", name));
                release.Append($" {Convert.ToHexStringLower(SHA256.HashData(bytes))} {bytes.Length,8} main/binary-{architecture}/{name}\n");
            }
        }

        File.WriteAllText(Path.Combine(dists, "Release"), release.ToString());
        Gpg("--batch", "--yes", "--output", Path.Combine(dists, "InRelease"), "--clearsign", Path.Combine(dists, "Release"));
    }

    /// <summary>A second, unrelated key: what it signs must not verify against <see cref="Keyring"/>.</summary>
    public void SignReleaseWithForeignKey()
    {
        var home = Path.Combine(Root, "foreign-gnupg");
        Directory.CreateDirectory(home);
        PrivateDirectory(home);
        var dists = Path.Combine(Root, "dists", Suite);
        GpgIn(home, "--batch", "--passphrase", "", "--quick-gen-key", "Someone Else <else@kiln.test>", "rsa2048", "sign", "never");
        GpgIn(home, "--batch", "--yes", "--output", Path.Combine(dists, "InRelease"), "--clearsign", Path.Combine(dists, "Release"));
    }

    /// <summary>Builds a .deb without an archive around it (for reading tests).</summary>
    public static string BuildStandalone(FixturePackage package, string directory)
    {
        RequireTools();
        return BuildDeb(directory, package);
    }

    private static string BuildDeb(string root, FixturePackage package)
    {
        var tree = Path.Combine(root, "build", $"{package.Name}_{package.Version}_{package.Architecture}");
        Directory.CreateDirectory(Path.Combine(tree, "DEBIAN"));
        var control = new StringBuilder($"Package: {package.Name}\nVersion: {package.Version}\nArchitecture: {package.Architecture}\nMaintainer: Kiln <kiln@kiln.test>\n");
        if (package.Depends is not null)
        {
            control.Append($"Depends: {package.Depends}\n");
        }

        control.Append($"Description: fixture package {package.Name}\n");
        File.WriteAllText(Path.Combine(tree, "DEBIAN", "control"), control.ToString());
        foreach (var (path, content) in package.Files)
        {
            var target = Path.Combine(tree, path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllText(target, content);
        }

        foreach (var (path, target) in package.Symlinks)
        {
            var link = Path.Combine(tree, path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(link)!);
            File.CreateSymbolicLink(link, target);
        }

        var pool = Path.Combine(root, "pool", "main", package.Name[..1], package.Name);
        Directory.CreateDirectory(pool);
        var deb = Path.Combine(pool, $"{package.Name}_{package.Version}_{package.Architecture}.deb");
        Run("dpkg-deb", "--root-owner-group", "-Z" + package.Compression, "--build", tree, deb);
        return deb;
    }

    private async Task Serve()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var path = context.Request.Url!.AbsolutePath.TrimStart('/');
            lock (_requests)
            {
                _requests[path] = _requests.GetValueOrDefault(path) + 1;
            }

            var file = Path.Combine(Root, path);
            using var response = context.Response;
            if (!File.Exists(file))
            {
                response.StatusCode = 404;
                continue;
            }

            var bytes = File.ReadAllBytes(file);
            try
            {
                if (TruncateSuffix is { } suffix && path.EndsWith(suffix, StringComparison.Ordinal))
                {
                    // Announce the full length, send half, then drop the connection: a truncated transfer.
                    response.ContentLength64 = bytes.Length;
                    await response.OutputStream.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
                    response.Abort();
                    continue;
                }

                response.ContentLength64 = bytes.Length;
                await response.OutputStream.WriteAsync(bytes);
            }
            catch (HttpListenerException)
            {
                // the client went away
            }
        }
    }

    /// <summary>Skips the test when a tool the fixture needs is missing (fails instead when KILN_REQUIRE_TOOLS=1).</summary>
    public static void RequireTools()
    {
        foreach (var (tool, package) in new[] { ("gpg", "gpg"), ("dpkg-deb", "dpkg"), ("xz", "xz-utils") })
        {
            Kiln.Tests.Shared.ToolPolicy.Require(tool, package, "this test builds and signs a fixture archive with it");
        }
    }

    private static void PrivateDirectory(string path)
    {
        // gpg refuses a home directory others can read.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private void Gpg(params string[] arguments) => GpgIn(GnuPgHome, arguments);

    private static void GpgIn(string home, params string[] arguments) => Run("gpg", ["--homedir", home, "--pinentry-mode", "loopback", .. arguments]);

    private static void Run(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} failed ({process.ExitCode}): {stderr.Result}");
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        LoopbackListener.Close(_listener);

        try
        {
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // stopped
        }

        // gpg-agent started for the homes; ask it to leave.
        foreach (var home in new[] { GnuPgHome, Path.Combine(Root, "foreign-gnupg") }.Where(Directory.Exists))
        {
            try
            {
                Run("gpgconf", "--homedir", home, "--kill", "gpg-agent");
            }
            catch (InvalidOperationException)
            {
                // no agent
            }
        }

        Directory.Delete(Root, recursive: true);
    }
}
