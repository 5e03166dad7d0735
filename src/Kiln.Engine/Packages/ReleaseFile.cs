using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Kiln.Engine.Diagnostics;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Kiln.Engine.Packages;

/// <summary>A file a Release lists, with the hash and size it must have.</summary>
internal sealed record ReleaseEntry(string Path, string Sha256, long Size);

/// <summary>
/// A suite's Release file, read only from an InRelease whose OpenPGP clear signature verified against the keyring:
/// what it lists (SHA256 section) is the root of trust for the Packages index and, through it, every .deb.
/// https://wiki.debian.org/DebianRepository/Format#A.22Release.22_files
/// </summary>
internal sealed class ReleaseFile
{
    private ReleaseFile(ImmutableDictionary<string, ReleaseEntry> entries, string? validUntil)
    {
        Entries = entries;
        ValidUntilText = validUntil;
    }

    public ImmutableDictionary<string, ReleaseEntry> Entries { get; }

    /// <summary>The Valid-Until field as written, or null when the Release has none (a stable suite's main Release).</summary>
    public string? ValidUntilText { get; }

    /// <summary>
    /// Refuses a Release past its Valid-Until: a signed but stale index (a mirror frozen by an attacker, or one that
    /// stopped syncing) would otherwise hide every security fix published since, silently.
    /// </summary>
    /// <exception cref="KilnException">KILN2051 when expired; KILN2052 when the date cannot be read.</exception>
    public void EnsureCurrent(DateTimeOffset now, string source)
    {
        if (ValidUntilText is null)
        {
            return;
        }

        var text = ValidUntilText.Trim().Replace(" UTC", " +0000", StringComparison.Ordinal).Replace(" GMT", " +0000", StringComparison.Ordinal);
        if (!DateTimeOffset.TryParseExact(text, ["ddd, dd MMM yyyy HH:mm:ss zzz", "ddd, d MMM yyyy HH:mm:ss zzz", "ddd, dd MMM yyyy HH:mm:ss zz00"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var validUntil)
            && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out validUntil))
        {
            throw new KilnException(DiagnosticCodes.ReleaseDateUnreadable, $"The Release file '{source}' has a Valid-Until of '{ValidUntilText}', which is not a date Kiln can read (RFC 2822, as 'Sat, 07 Dec 2026 08:18:31 UTC'). Check the mirror (KilnDebianMirror, KilnDebianSecurityMirror).");
        }

        if (now > validUntil)
        {
            throw new KilnException(DiagnosticCodes.ReleaseExpired, $"The Release file '{source}' expired at {validUntil.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC (Valid-Until), and it is now {now.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC: the mirror serves a stale index, which would hide security fixes. Use an up-to-date mirror (KilnDebianMirror, KilnDebianSecurityMirror) and check the machine's clock. A build whose packages are locked and cached needs no index.");
        }
    }

    /// <summary>Verifies an InRelease file against the keyring and parses the signed text.</summary>
    /// <exception cref="KilnException">KILN2043 when no signature verifies with a key of the keyring.</exception>
    public static ReleaseFile Verify(byte[] inRelease, PgpPublicKeyRingBundle keyring, string source)
    {
        var text = Encoding.UTF8.GetString(inRelease).Replace("\r\n", "\n");
        var (signed, signature) = SplitClearSigned(text)
            ?? throw Invalid(source, "it is not an OpenPGP clear-signed message");
        var canonical = Encoding.UTF8.GetBytes(string.Join("\r\n", signed.Select(l => l.TrimEnd(' ', '\t'))));

        PgpSignatureList signatures;
        try
        {
            using var armored = new ArmoredInputStream(new MemoryStream(Encoding.ASCII.GetBytes(signature)));
            signatures = new PgpObjectFactory(armored).NextPgpObject() as PgpSignatureList
                ?? throw Invalid(source, "its signature block holds no signature");
        }
        catch (Exception e) when (e is IOException or PgpException or UnsupportedPacketVersionException)
        {
            throw Invalid(source, $"its signature block could not be read ({e.Message})");
        }

        var verified = false;
        for (var i = 0; i < signatures.Count && !verified; i++)
        {
            var candidate = signatures[i];
            if (keyring.GetPublicKey(candidate.KeyId) is not { } key)
            {
                continue;
            }

            candidate.InitVerify(key);
            candidate.Update(canonical);
            verified = candidate.Verify();
        }

        if (!verified)
        {
            var ids = string.Join(", ", Enumerable.Range(0, signatures.Count).Select(i => signatures[i].KeyId.ToString("X16")));
            throw Invalid(source, $"none of its signatures (keys {ids}) verifies with a key of the keyring");
        }

        return Parse(string.Join("\n", signed));
    }

    /// <summary>Parses Release text that has already been verified.</summary>
    internal static ReleaseFile Parse(string text)
    {
        var paragraph = ControlParagraph.Parse(text).FirstOrDefault();
        var entries = ImmutableDictionary.CreateBuilder<string, ReleaseEntry>(StringComparer.Ordinal);
        foreach (var line in (paragraph?["SHA256"] ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 3 && long.TryParse(parts[1], out var size))
            {
                entries[parts[2]] = new ReleaseEntry(parts[2], parts[0].ToLowerInvariant(), size);
            }
        }

        return new ReleaseFile(entries.ToImmutable(), paragraph?["Valid-Until"]);
    }

    /// <summary>
    /// Reads the keyring (binary or ASCII-armored public keys); <see cref="KilnDefaults.BuiltInDebianKeyring"/> reads
    /// the Debian archive keys shipped inside the engine.
    /// </summary>
    public static PgpPublicKeyRingBundle LoadKeyring(string path)
    {
        try
        {
            using var stream = PgpUtilities.GetDecoderStream(path == KilnDefaults.BuiltInDebianKeyring ? BuiltInKeys() : File.OpenRead(path));
            return new PgpPublicKeyRingBundle(stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PgpException)
        {
            throw new KilnException(DiagnosticCodes.DebianKeyringUnreadable, $"The Debian archive keyring '{path}' could not be read: {e.Message}. Point KilnDebianKeyring at a binary (.gpg) or armored (.asc) keyring holding the archive's signing keys, or leave it empty to use the machine's debian-archive-keyring, else the Debian archive keys shipped in Kiln.");
        }
    }

    /// <summary>The Debian archive keys embedded in this assembly (src/Kiln.Engine/Packages/debian-archive-keys.asc).</summary>
    internal static Stream BuiltInKeys() =>
        typeof(ReleaseFile).Assembly.GetManifestResourceStream(BuiltInKeysResource)
        ?? throw new InvalidOperationException($"The engine assembly lacks its embedded resource {BuiltInKeysResource}: it was built wrongly.");

    private const string BuiltInKeysResource = "Kiln.Engine.Packages.debian-archive-keys.asc";

    /// <summary>Splits a clear-signed message (RFC 9580 §7) into its dash-unescaped lines and the armored signature.</summary>
    private static (List<string> Lines, string Signature)? SplitClearSigned(string text)
    {
        var lines = text.Split('\n');
        var i = 0;
        if (lines.Length == 0 || lines[0] != "-----BEGIN PGP SIGNED MESSAGE-----")
        {
            return null;
        }

        // Armor headers ("Hash: SHA512") up to the first empty line.
        for (i = 1; i < lines.Length && lines[i].Length > 0; i++)
        {
        }

        var body = new List<string>();
        for (i++; i < lines.Length && lines[i] != "-----BEGIN PGP SIGNATURE-----"; i++)
        {
            body.Add(lines[i].StartsWith("- ", StringComparison.Ordinal) ? lines[i][2..] : lines[i]);
        }

        return i >= lines.Length ? null : (body, string.Join("\n", lines[i..]));
    }

    private static KilnException Invalid(string source, string reason) =>
        new(DiagnosticCodes.ReleaseSignatureInvalid, $"The Release file '{source}' is not trusted: {reason}. Check that the mirror is a real Debian mirror and that KilnDebianKeyring names the Debian archive keyring (empty: /usr/share/keyrings/debian-archive-keyring.gpg when installed, else the keys shipped in Kiln, which cover bullseye, bookworm and trixie).");
}
