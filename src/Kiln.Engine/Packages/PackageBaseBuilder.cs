using System.Collections.Immutable;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kiln.Engine.Building;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Engine.IO;
using Kiln.Engine.Lock;
using Kiln.Engine.Planning;
using Kiln.Engine.Requests;
using Kiln.Oci;
using Kiln.Spec;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Kiln.Engine.Packages;

/// <summary>
/// Builds a distroless base image from Debian packages: pins the package set (from the lock, or by resolving against
/// the signed index), fetches every .deb through the verified cache, and writes the base into a staging layout under
/// the intermediate directory — a package layer (the packages' data archives, merged-/usr, one dpkg status entry per
/// package, the CA bundle) and an account layer (/etc/passwd, /etc/group, the home directory). No maintainer script
/// runs and no shell is added. Nothing is written anywhere before every input verified.
/// </summary>
/// <param name="options">Mirrors, keyring, apt sources, the download cache and the clock Release files are checked against.</param>
internal sealed class PackageBaseBuilder(PackageOptions options, HttpClient http, Kiln.Oci.Http.RetryOptions? retry = null)
{
    /// <summary>The project a base is built for: the intermediate directory it is staged in, and the image timestamp. Reading indexes needs none.</summary>
    public ProjectOptions? Project { get; init; }

    /// <summary>Whether a package set the lock pins is resolved again (the explicit lock update).</summary>
    public bool UpdatePins { get; init; }

    private readonly PackageCache _cache = new(options.CacheDirectory ?? throw new KilnException(DiagnosticCodes.PackageCacheFailed, "No package cache directory was given. Set KilnCacheDirectory (or KILN_CACHE)."));
    private readonly Dictionary<string, PackageIndex> _indexes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _pending = new(StringComparer.Ordinal);
    private PgpPublicKeyRingBundle? _keyring;

    /// <summary>The Debian architectures Kiln builds package bases for, by the OCI platform architecture they serve.</summary>
    public static IReadOnlyDictionary<string, string> Architectures { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["amd64"] = "amd64",
        ["arm64"] = "arm64",
    };

    /// <summary>The lock key of a package base: suite, architecture and the requested packages, sorted.</summary>
    public static string LockKey(DebianBase spec) =>
        $"{spec.Suite}/{spec.Architecture}: {string.Join(" ", spec.Packages.Select(p => p.Trim()).Order(StringComparer.Ordinal))}";

    /// <summary>
    /// Identifies a package base whatever its architecture (suite and requested packages): the lock's sets of one
    /// base for several architectures share this, and with it their <c>Architecture: all</c> pins.
    /// </summary>
    public static string SharedKey(DebianBase spec) =>
        $"{spec.Suite}: {string.Join(" ", spec.Packages.Select(p => p.Trim()).Order(StringComparer.Ordinal))}";

    /// <summary>
    /// The Debian architecture of an OCI platform (linux/amd64 → amd64, linux/arm64 → arm64).
    /// </summary>
    /// <exception cref="KilnException">KILN2150 for a platform Kiln builds no Debian base for.</exception>
    public static string DebianArchitecture(Platform platform, string? specType = null) =>
        platform.Os == "linux" && Architectures.TryGetValue(platform.Architecture, out var architecture) && platform.Variant is null or "v8"
            ? architecture
            : throw new KilnException(DiagnosticCodes.PackageArchitectureUnsupported, $"{(specType is null ? "" : $"Spec '{specType}': ")}a Debian base cannot be built for platform '{platform}': Kiln builds Debian package bases for {string.Join(" and ", Architectures.Keys.Select(a => $"linux/{a}"))}. Build this server for one of those platforms, or use another base (BaseImage.Registry pinned by digest) for '{platform}'.");

    /// <summary>Builds (or reuses) the base image for a server and returns its plan and the pinned package set.</summary>
    /// <param name="server">The server the base is for (its account becomes the base's second layer).</param>
    /// <param name="spec">The base, its architecture already the platform's.</param>
    /// <param name="locked">The set the lock pins for this suite, architecture and package list, or null.</param>
    /// <param name="siblings">
    /// The sets pinned for the same base on other architectures: their <c>Architecture: all</c> packages are taken at
    /// the same version (the same .deb, the same bytes), and a disagreement is KILN2153.
    /// </param>
    public (BasePlan Plan, LockedPackageSet Pinned) Build(ResolvedServer server, DebianBase spec, LockedPackageSet? locked, IReadOnlyCollection<LockedPackageSet>? siblings = null)
    {
        var project = Project ?? throw new InvalidOperationException("A package base is built for a project: set Project.");
        if (spec.Packages.IsDefaultOrEmpty || string.IsNullOrWhiteSpace(spec.Suite) || string.IsNullOrWhiteSpace(spec.Architecture))
        {
            throw new KilnException(DiagnosticCodes.InvalidPackageBase, $"Spec '{server.SpecType}': a Debian base needs a suite, an architecture and at least one package (for example BaseImage.Debian(\"bookworm\", [\"libc6\"])).");
        }

        if (!Architectures.Values.Contains(spec.Architecture, StringComparer.Ordinal))
        {
            throw new KilnException(DiagnosticCodes.PackageArchitectureUnsupported, $"Spec '{server.SpecType}': the Debian base names architecture '{spec.Architecture}', for which Kiln builds no package base (it builds {string.Join(" and ", Architectures.Values)}). Use one of those, or another base (BaseImage.Registry pinned by digest) for that architecture.");
        }

        siblings ??= [];

        // Everything is downloaded and verified first and committed to the cache together: a build that fails on
        // any input leaves the cache as it was.
        LockedPackageSet pinned;
        List<(LockedPackage Package, string Path)> debs;
        try
        {
            pinned = locked is not null && !UpdatePins && locked.Suite == spec.Suite && locked.Architecture == spec.Architecture
                ? locked
                : new LockedPackageSet(spec.Suite, spec.Architecture, ResolveAll(spec, spec.Packages, siblings));
            EnsureSharedPins(spec, pinned, siblings);
            pinned.Packages.ToList().ForEach(p => Fetch(spec, p));
            foreach (var (sha256, temp) in _pending)
            {
                _cache.Commit(temp, sha256);
            }

            debs = [.. pinned.Packages.Select(p => (p, _cache.PathOf(p.Sha256)))];
        }
        finally
        {
            foreach (var temp in _pending.Values)
            {
                PackageCache.TryDelete(temp);
            }

            _pending.Clear();
        }

        var layout = OciLayout.OpenOrCreate(Path.Combine(project.IntermediateDirectory, "package-bases"));
        var packages = PackageLayer(layout, pinned, debs);
        var account = AccountLayer(layout, server.Account);
        var created = ImageConfig.FormatTimestamp(DateTimeOffset.FromUnixTimeSeconds(project.SourceDateEpoch));
        var config = new ImageConfig
        {
            Created = created,
            Architecture = spec.Architecture,
            Os = "linux",
            Config = new ContainerConfig { Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] },
            DiffIds = [packages.DiffId, account.DiffId],
            History =
            [
                new HistoryEntry { Created = created, CreatedBy = $"kiln: debian {spec.Suite}/{spec.Architecture} ({pinned.Packages.Length} packages)", Comment = "kiln" },
                new HistoryEntry { Created = created, CreatedBy = $"kiln: account {server.Account.Name} ({server.Account.Uid}:{server.Account.Gid})", Comment = "kiln" },
            ],
        };
        var configDescriptor = layout.WriteBlob(config.ToJson(), MediaTypes.ImageConfig);
        var manifest = new ImageManifest { Config = configDescriptor, Layers = [packages.Descriptor, account.Descriptor] };
        var manifestDescriptor = layout.WriteBlob(manifest.ToJson(), MediaTypes.ImageManifest);
        var name = $"debian:{spec.Suite}/{spec.Architecture}";
        return (new BasePlan(name, manifestDescriptor, config, manifest.Layers, layout) { Packages = pinned.Packages }, pinned);
    }

    /// <summary>
    /// Resolves <paramref name="requested"/> (names, or exact name=version pins) against the base's suites for its
    /// architecture, taking the <c>Architecture: all</c> pins of <paramref name="siblings"/> where the index still
    /// serves them and they fit.
    /// </summary>
    public ImmutableArray<LockedPackage> ResolveAll(DebianBase spec, IEnumerable<string> requested, IReadOnlyCollection<LockedPackageSet>? siblings = null)
    {
        siblings ??= [];
        var shared = siblings.SelectMany(s => s.Packages).Where(p => p.Architecture == "all")
            .GroupBy(p => p.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var elsewhere = siblings.SelectMany(s => s.Packages.Select(p => (p.Name, s.Architecture)))
            .GroupBy(p => p.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Architecture, StringComparer.Ordinal);
        var resolver = new PackageResolver(Index(spec), string.Join(", ", Suites(spec.Suite).Select(s => s.Suite)))
        {
            Architecture = spec.Architecture,
            Shared = shared,
            Elsewhere = elsewhere,
        };
        return [.. resolver.Resolve(requested).Select(r => r.ToLocked())];
    }

    /// <summary>
    /// An <c>Architecture: all</c> package is one file for every architecture: the sets of one base must pin it
    /// at the same version and hash, or the images of one server would differ in more than their binaries.
    /// </summary>
    /// <exception cref="KilnException">KILN2153 naming every package pinned differently.</exception>
    internal static void EnsureSharedPins(DebianBase spec, LockedPackageSet pinned, IEnumerable<LockedPackageSet> siblings)
    {
        var diagnostics = new DiagnosticBag();
        foreach (var sibling in siblings.Where(s => s.Architecture != pinned.Architecture).OrderBy(s => s.Architecture, StringComparer.Ordinal))
        {
            var theirs = sibling.Packages.Where(p => p.Architecture == "all").ToDictionary(p => p.Name, StringComparer.Ordinal);
            foreach (var ours in pinned.Packages.Where(p => p.Architecture == "all"))
            {
                if (theirs.TryGetValue(ours.Name, out var other) && (other.Version != ours.Version || other.Sha256 != ours.Sha256))
                {
                    diagnostics.Error(DiagnosticCodes.PackageSharedPinMismatch, $"The Debian base {SharedKey(spec)} pins the Architecture: all package '{ours.Name}' at {ours.Version} (sha256 {ours.Sha256[..12]}…) for {pinned.Architecture} but at {other.Version} (sha256 {other.Sha256[..12]}…) for {sibling.Architecture}: one file must serve every architecture. Re-resolve every architecture of the base together: dotnet build -p:KilnUpdateLock=true (or kiln lock --update), review, and commit kiln.lock.json.");
                }
            }
        }

        diagnostics.ThrowIfErrors();
    }

    /// <summary>
    /// For every pinned package, the newest candidate the base's suites now offer when it is newer than the pin
    /// (for <c>kiln outdated</c> and <c>kiln lock --update</c>); resolving reads the signed, current indexes.
    /// </summary>
    public ImmutableArray<(LockedPackage Pinned, PackageRecord Candidate)> Outdated(DebianBase spec, LockedPackageSet pinned)
    {
        var index = Index(spec);
        return [.. pinned.Packages
            .Select(p => (Pinned: p, Candidate: index.Versions(p.Name).FirstOrDefault()))
            .Where(c => c.Candidate is not null && DebianVersion.Compare(c.Candidate.Version, c.Pinned.Version) > 0)
            .Select(c => (c.Pinned, c.Candidate!))];
    }

    /// <summary>A verified file: from the cache, or downloaded, checked and pending commit.</summary>
    private string Obtain(ArchiveClient client, string relative, string sha256, long size, string mismatchCode, string what)
    {
        if (_cache.TryGet(sha256) is { } cached)
        {
            return cached;
        }

        if (_pending.TryGetValue(sha256, out var pending))
        {
            return pending;
        }

        return _pending[sha256] = client.DownloadAsync(relative, sha256, size, mismatchCode, what).GetAwaiter().GetResult();
    }

    /// <summary>The .deb of a pinned package, downloading it (checked against the pin's hash) when not cached.</summary>
    private string Fetch(DebianBase spec, LockedPackage package)
    {
        if (_cache.TryGet(package.Sha256) is { } cached)
        {
            return cached;
        }

        // Only a pin the mirror still serves, with the same hash, is fetched: the lock is the trust anchor here too.
        var served = Index(spec, checkValidity: false).Versions(package.Name).FirstOrDefault(r => r.Version == package.Version);
        if (served is null)
        {
            var now = Index(spec, checkValidity: false).Versions(package.Name).Select(r => r.Version).FirstOrDefault();
            throw new KilnException(DiagnosticCodes.PackageLockedVersionGone, $"kiln.lock.json pins {package.Name} {package.Version} ({spec.Suite}/{spec.Architecture}), which the mirror no longer serves{(now is null ? "" : $" (it has {now})")} and which is not in the cache. Update the lock explicitly: dotnet build -p:KilnUpdateLock=true (or kiln lock --update), review the new versions, and commit kiln.lock.json.");
        }

        if (served.Sha256 != package.Sha256)
        {
            throw new KilnException(DiagnosticCodes.PackageHashMismatch, $"kiln.lock.json pins {package.Name} {package.Version} with SHA-256 {package.Sha256}, but the mirror's signed index lists {served.Sha256} for that version. A released version must not change; check the mirror, or update the lock explicitly (KilnUpdateLock=true) if the change is expected.");
        }

        return Obtain(Client(spec, served.Suite.EndsWith("-security", StringComparison.Ordinal)), package.Filename, package.Sha256, package.Size, DiagnosticCodes.PackageHashMismatch, $"Package {package.Name} {package.Version}");
    }

    /// <summary>
    /// The suites a Debian machine resolves against: the base's suite, its <c>-updates</c> and its <c>-security</c>
    /// suite (from the security archive). A suite that already names a pocket (bookworm-security) or a mirror without
    /// the extra suites (sid, a private archive) resolves against what exists.
    /// </summary>
    internal static IEnumerable<(string Suite, bool Security, bool Required)> Suites(string suite) =>
        suite.Contains('-', StringComparison.Ordinal) || suite is "sid" or "unstable" or "experimental"
            ? [(suite, suite.EndsWith("-security", StringComparison.Ordinal), true)]
            : [(suite, false, true), ($"{suite}-updates", false, false), ($"{suite}-security", true, false)];

    /// <summary>
    /// The merged index of every suite of the base (newest candidate wins across suites); each record knows its suite.
    /// <paramref name="checkValidity"/> is false only to fetch a locked package, whose hash the lock already pins.
    /// </summary>
    private PackageIndex Index(DebianBase spec, bool checkValidity = true)
    {
        // An index read with its validity checked serves an unchecked read too.
        var key = $"{spec.Suite}/{spec.Architecture}/{checkValidity}";
        if (_indexes.TryGetValue(key, out var index) || _indexes.TryGetValue($"{spec.Suite}/{spec.Architecture}/{true}", out index))
        {
            return index;
        }

        var records = new List<PackageRecord>();
        foreach (var (suite, security, required) in Suites(spec.Suite))
        {
            records.AddRange(SuiteRecords(spec, suite, security, required, checkValidity));
        }

        return _indexes[key] = new PackageIndex(records);
    }

    private IEnumerable<PackageRecord> SuiteRecords(DebianBase spec, string suite, bool security, bool required, bool checkValidity)
    {
        var client = Client(spec, security);
        var inRelease = client.GetBytesAsync($"dists/{suite}/InRelease").GetAwaiter().GetResult();
        if (inRelease is null)
        {
            return required
                ? throw new KilnException(DiagnosticCodes.SuiteNotFound, $"The mirror '{client.Mirror}' has no suite '{suite}' (dists/{suite}/InRelease is missing). Check the suite name in the spec (bookworm, trixie…) or the mirror ({(security ? "KilnDebianSecurityMirror" : "KilnDebianMirror")}).")
                : [];
        }

        _keyring ??= ReleaseFile.LoadKeyring(options.Keyring);
        var source = new Uri(client.Mirror, $"dists/{suite}/InRelease").ToString();
        var release = ReleaseFile.Verify(inRelease, _keyring, source);
        if (checkValidity)
        {
            release.EnsureCurrent(options.Time.GetUtcNow(), source);
        }

        var candidates = new[] { ".xz", ".gz", "" }.Select(ext => $"main/binary-{spec.Architecture}/Packages{ext}");
        var entry = candidates.Select(c => release.Entries.GetValueOrDefault(c)).FirstOrDefault(e => e is not null);
        if (entry is null)
        {
            if (!required)
            {
                return [];
            }

            var published = release.Entries.Keys
                .Where(k => k.StartsWith("main/binary-", StringComparison.Ordinal))
                .Select(k => k["main/binary-".Length..].Split('/')[0])
                .Where(a => a != "all").Distinct().Order(StringComparer.Ordinal).ToList();
            throw new KilnException(DiagnosticCodes.PackageArchitectureNotPublished, $"Suite '{suite}' on '{client.Mirror}' publishes no packages for architecture '{spec.Architecture}' (its signed Release lists no main/binary-{spec.Architecture}/Packages; it has {(published.Count == 0 ? "none" : string.Join(", ", published))}), so the Debian base [{string.Join(", ", spec.Packages)}] cannot be built for {spec.Architecture}. Build the server for an architecture the suite publishes, or use a mirror or suite that publishes {spec.Architecture}.");
        }

        var path = Obtain(client, $"dists/{suite}/{entry.Path}", entry.Sha256, entry.Size, DiagnosticCodes.PackageIndexHashMismatch, $"The Packages index of {suite}/{spec.Architecture}");
        using var file = File.OpenRead(path);
        using Stream stream = Path.GetExtension(entry.Path) switch
        {
            ".xz" => new SharpCompress.Compressors.Xz.XZStream(file),
            ".gz" => new GZipStream(file, CompressionMode.Decompress),
            _ => file,
        };
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return [.. PackageIndex.ReadRecords(reader, spec.Architecture, suite)];
    }

    private ArchiveClient Client(DebianBase spec, bool security)
    {
        var mirror = options.Mirror is { Length: > 0 } configured
            ? AptSources.Normalize(configured)
            // No apt source of the machine serves Debian (macOS, Windows, Ubuntu, a container without apt): the
            // official mirror, whose InRelease the keys shipped in Kiln verify.
            : AptSources.Mirror(options.AptSources, spec.Suite) ?? new Uri(KilnDefaults.DebianMirror);
        if (security)
        {
            mirror = options.SecurityMirror is { Length: > 0 } securityMirror
                ? AptSources.Normalize(securityMirror)
                : AptSources.Serving(options.AptSources, $"{spec.Suite.Split('-')[0]}-security") ?? AptSources.SecurityArchive(mirror);
        }

        return new ArchiveClient(mirror, _cache, http, retry);
    }

    private BuiltLayer PackageLayer(OciLayout layout, LockedPackageSet pinned, List<(LockedPackage Package, string Path)> debs)
    {
        var key = Key("kiln-package-layer/1", string.Join("\n", pinned.Packages.Select(p => $"{p.Name} {p.Version} {p.Architecture} {p.Sha256}")));
        return CachedLayer(layout, key, "debian packages", () => RootFileSystem.Assemble(debs.Select(d => (d.Package, DebArchive.Read(d.Path, $"{d.Package.Name}_{d.Package.Version}.deb")))));
    }

    private BuiltLayer AccountLayer(OciLayout layout, Account account)
    {
        var key = Key("kiln-account-layer/1", $"{account.Name} {account.Uid} {account.Gid}");
        return CachedLayer(layout, key, "account", () => RootFileSystem.Account(account));
    }

    private string Key(string kind, string content) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{kind}\n{LayerBuilder.Describe(Project!)}\n{content}")));

    /// <summary>Writes a layer, or reuses it when the same inputs were written before and its blob is still there.</summary>
    private BuiltLayer CachedLayer(OciLayout layout, string key, string source, Func<IEnumerable<LayerEntry>> entries)
    {
        var marker = Path.Combine(layout.Root, "layers", key + ".json");
        if (File.Exists(marker))
        {
            try
            {
                var saved = JsonSerializer.Deserialize(File.ReadAllBytes(marker), EngineJson.Default.SavedLayer)!;
                var descriptor = new Descriptor(Project!.LayerCompression.MediaType(), Digest.Parse(saved.Digest), saved.Size);
                // Reused only when proven (unchanged since written, or hashed again); a corrupt blob is rewritten.
                if (BlobProof.Prove(layout, descriptor, saved.Stamp, out _) is { } stamp)
                {
                    if (stamp.ToString() != saved.Stamp)
                    {
                        AtomicFile.Write(marker, JsonSerializer.SerializeToUtf8Bytes(saved with { Stamp = stamp.ToString() }, EngineJson.Default.SavedLayer));
                    }

                    return new BuiltLayer(descriptor, Digest.Parse(saved.DiffId), [], source, FromCache: true);
                }
            }
            catch (Exception e) when (e is JsonException or OciFormatException or IOException)
            {
                // rebuilt below
            }
        }

        LayerResult result;
        using (var blob = layout.BeginBlob())
        {
            result = LayerWriter.Write(entries(), blob.Stream, LayerBuilder.WriterOptions(Project!));
            blob.Complete();
        }

        AtomicFile.Write(marker, JsonSerializer.SerializeToUtf8Bytes(new SavedLayer(result.Digest.ToString(), result.DiffId.ToString(), result.Size, layout.StampOf(result.Digest)?.ToString()), EngineJson.Default.SavedLayer));
        return new BuiltLayer(result.ToDescriptor(), result.DiffId, [], source, FromCache: false);
    }

    internal sealed record SavedLayer(string Digest, string DiffId, long Size, string? Stamp = null);
}
