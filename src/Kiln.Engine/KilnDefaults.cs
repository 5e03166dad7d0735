namespace Kiln.Engine;

/// <summary>
/// The defaults every edge (CLI verbs, the engine command the MSBuild tasks run) falls back to, kept in one place so
/// that they cannot drift apart. Kiln.Build.targets sets the same values for MSBuild properties; it cannot reference
/// this assembly, so KilnDefaultsTests holds it to them.
/// </summary>
public static class KilnDefaults
{
    /// <summary>The configuration the CLI verbs look in when not told (dotnet build's own default).</summary>
    public const string Configuration = "Debug";

    /// <summary>The keyring a Debian mirror's InRelease must verify against (the debian-archive-keyring package's).</summary>
    public const string DebianKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg";

    /// <summary>
    /// The KilnDebianKeyring value that names the Debian archive keys shipped inside the engine (refreshed by
    /// build/refresh-debian-keys.sh), used where the machine has no debian-archive-keyring (macOS, Windows, Ubuntu).
    /// </summary>
    public const string BuiltInDebianKeyring = "builtin";

    /// <summary>The Debian mirror used when neither KilnDebianMirror nor the machine's apt sources name one for the suite.</summary>
    public const string DebianMirror = "http://deb.debian.org/debian/";

    /// <summary>Seconds spec evaluation may take (KilnEvaluationTimeout): far above any real spec, far below "forever".</summary>
    public const int EvaluationTimeoutSeconds = 60;

    /// <summary>Seconds a build or push waits for another build of the same output directory (KilnBuildLockTimeout).</summary>
    public const int BuildLockTimeoutSeconds = 600;

    /// <summary>The KilnAptSources value that ignores the machine's apt sources (the default mirror is then <see cref="DebianMirror"/>).</summary>
    public const string NoAptSources = "none";

    /// <summary>
    /// The keyring to verify against: <paramref name="configured"/> when given, else the machine's debian-archive-keyring
    /// when <paramref name="fileExists"/> finds it, else the keys shipped in Kiln. The caller supplies the file check:
    /// the core does not look at the machine by itself.
    /// </summary>
    public static string ResolveDebianKeyring(string? configured, Func<string, bool> fileExists) =>
        configured is { Length: > 0 } ? configured
        : fileExists(DebianKeyring) ? DebianKeyring
        : BuiltInDebianKeyring;

    /// <summary>A build's artifact directory relative to its project: bin/&lt;Configuration&gt;/kiln.</summary>
    public static string OutputDirectory(string configuration = Configuration) => Path.Combine("bin", configuration, "kiln");

    /// <summary>The build's release.json relative to its project.</summary>
    public static string ReleasePath(string configuration = Configuration) => Path.Combine(OutputDirectory(configuration), Manifests.Release.FileName);

    /// <summary>The OCI image layout relative to its project.</summary>
    public static string LayoutPath(string configuration = Configuration) => Path.Combine(OutputDirectory(configuration), KilnEngine.LayoutDirectory);

    /// <summary>
    /// The shared download cache: <paramref name="kilnCache"/> (KILN_CACHE) when set, else ~/.cache/kiln under
    /// <paramref name="userProfile"/>. Both come from the caller: the core reads no environment.
    /// </summary>
    public static string CacheDirectory(string? kilnCache, string userProfile) =>
        kilnCache is { Length: > 0 } ? kilnCache : Path.Combine(userProfile, ".cache", "kiln");
}
