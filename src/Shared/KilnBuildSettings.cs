// The build settings stamp (obj/<Configuration>/kiln/settings.txt): every MSBuild setting that changes the images
// without changing a file. The stamp is an input of the evaluation and image build targets, so a changed setting
// re-runs the engine; a setting missing here is a build that silently keeps stale images. One typed definition,
// linked as source into the MSBuild tasks (netstandard2.0, which write it) and the engine's tests (which prove that
// every engine option changing an image's bytes has a field here).
// Only netstandard2.0 BCL APIs and no language feature that needs a runtime polyfill (no init-only setters).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Kiln.Shared;

/// <summary>
/// The settings of one Kiln build that change its images (or what is checked about them) without changing a file.
/// Values are kept exactly as MSBuild gives them: the engine judges them, this type only records them.
/// </summary>
internal sealed class KilnBuildSettings : IEquatable<KilnBuildSettings>
{
    // The stamp's fields, in the stamp's order (ordinal by name, so that the order is obvious and never drifts).
    private static readonly Field[] Fields =
    [
        new("apt-sources", s => s.AptSources),
        new("archive-format", s => s.ArchiveFormat),
        new("base-verification-key", s => s.BaseVerificationKey),
        new("configuration", s => s.Configuration),
        new("debian-keyring", s => s.DebianKeyring),
        new("debian-mirror", s => s.DebianMirror),
        new("debian-security-mirror", s => s.DebianSecurityMirror),
        new("deploy-registry", s => s.DeployRegistry),
        new("deploy-repository-prefix", s => s.DeployRepositoryPrefix),
        new("engine", s => s.Engine),
        new("epoch", s => s.Epoch),
        new("input-roots", s => s.InputRoots),
        new("layer-compression", s => s.LayerCompression),
        new("lock-mode", s => s.LockMode),
        new("output", s => s.Output),
        new("platforms", s => s.Platforms),
        new("signing-key", s => s.SigningKey),
        new("update-lock", s => s.UpdateLock),
        new("verification-key", s => s.VerificationKey),
        new("version", s => s.Version),
    ];

    /// <summary>Creates the settings; a null value is recorded as empty (MSBuild's unset property).</summary>
    /// <exception cref="KilnSettingsException"><paramref name="updateLock"/> is neither empty nor a GUID.</exception>
    public KilnBuildSettings(
        string? epoch = null,
        string? layerCompression = null,
        string? archiveFormat = null,
        string? signingKey = null,
        string? verificationKey = null,
        string? baseVerificationKey = null,
        string? output = null,
        string? configuration = null,
        string? engine = null,
        string? version = null,
        string? deployRegistry = null,
        string? deployRepositoryPrefix = null,
        string? debianMirror = null,
        string? debianSecurityMirror = null,
        string? debianKeyring = null,
        string? aptSources = null,
        string? updateLock = null,
        string? lockMode = null,
        string? inputRoots = null,
        string? platforms = null)
    {
        Epoch = epoch ?? "";
        LayerCompression = layerCompression ?? "";
        ArchiveFormat = archiveFormat ?? "";
        SigningKey = signingKey ?? "";
        VerificationKey = verificationKey ?? "";
        BaseVerificationKey = baseVerificationKey ?? "";
        Output = output ?? "";
        Configuration = configuration ?? "";
        Engine = engine ?? "";
        Version = version ?? "";
        DeployRegistry = deployRegistry ?? "";
        DeployRepositoryPrefix = deployRepositoryPrefix ?? "";
        DebianMirror = debianMirror ?? "";
        DebianSecurityMirror = debianSecurityMirror ?? "";
        DebianKeyring = debianKeyring ?? "";
        AptSources = aptSources ?? "";
        UpdateLock = updateLock ?? "";
        LockMode = lockMode ?? "";
        InputRoots = inputRoots ?? "";
        Platforms = platforms ?? "";

        // The nonce is what makes a lock update re-run the build; anything else there would be a stamp written by hand.
        if (UpdateLock.Length > 0 && !Guid.TryParseExact(UpdateLock, "D", out _))
        {
            throw new KilnSettingsException("update-lock", null, "'" + UpdateLock + "' is not a lock update nonce (a GUID)");
        }
    }

    /// <summary>The field names of the stamp, in its order.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.ConvertAll(Fields, f => f.Name);

    /// <summary>SOURCE_DATE_EPOCH (KilnSourceDateEpoch): every timestamp in every image.</summary>
    public string Epoch { get; }

    /// <summary>KilnLayerCompression (gzip or zstd): every layer digest depends on it.</summary>
    public string LayerCompression { get; }

    /// <summary>KilnArchiveFormat: also writes the images as archives.</summary>
    public string ArchiveFormat { get; }

    /// <summary>KilnSigningKey (its path): the provenance is signed with it.</summary>
    public string SigningKey { get; }

    /// <summary>KilnVerificationKey (its path): the admission policy written beside the deployments.</summary>
    public string VerificationKey { get; }

    /// <summary>KilnBaseVerificationKey (its path): the key registry bases are checked against.</summary>
    public string BaseVerificationKey { get; }

    /// <summary>KilnOutputPath: where the artifacts go.</summary>
    public string Output { get; }

    /// <summary>The MSBuild Configuration.</summary>
    public string Configuration { get; }

    /// <summary>KilnEnginePath: another engine may build other bytes.</summary>
    public string Engine { get; }

    /// <summary>KilnVersion, recorded in every manifest.</summary>
    public string Version { get; }

    /// <summary>KilnRegistry: the registry the rendered deployments pull from.</summary>
    public string DeployRegistry { get; }

    /// <summary>KilnRepositoryPrefix: the repository path the rendered deployments pull from.</summary>
    public string DeployRepositoryPrefix { get; }

    /// <summary>KilnDebianMirror.</summary>
    public string DebianMirror { get; }

    /// <summary>KilnDebianSecurityMirror.</summary>
    public string DebianSecurityMirror { get; }

    /// <summary>KilnDebianKeyring: the keyring InRelease must verify against.</summary>
    public string DebianKeyring { get; }

    /// <summary>KilnAptSources.</summary>
    public string AptSources { get; }

    /// <summary>A fresh nonce (a GUID) when KilnUpdateLock is true, else empty: updating the lock is an act, not a state.</summary>
    public string UpdateLock { get; }

    /// <summary>KilnLockMode (Off, Update, Enforce).</summary>
    public string LockMode { get; }

    /// <summary>KilnInputRoots: directories besides the project's that layer sources may come from.</summary>
    public string InputRoots { get; }

    /// <summary>KilnPlatforms: the platforms a build narrows its specs to (empty: every platform a spec declares).</summary>
    public string Platforms { get; }

    /// <summary>
    /// The stamp's bytes (as text): one <c>name=value</c> line per field in a fixed order, each ending in <c>\n</c>.
    /// <c>%</c>, <c>=</c> and control characters in a value are written <c>%XX</c>, so that no value can end its
    /// line or start another.
    /// </summary>
    public string ToText()
    {
        var text = new StringBuilder();
        foreach (var field in Fields)
        {
            text.Append(field.Name).Append('=');
            Escape(field.Get(this), text);
            text.Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Reads a stamp written by <see cref="ToText"/>: every field exactly once, nothing else.</summary>
    /// <exception cref="KilnSettingsException">A line is malformed, names an unknown or repeated field, or a field is missing.</exception>
    public static KilnBuildSettings Parse(string text)
    {
        if (text is null)
        {
            throw new ArgumentNullException(nameof(text));
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var known = new HashSet<string>(Names, StringComparer.Ordinal);
        var lines = text.Split('\n');
        // A stamp ends with a newline: the part after the last one is empty.
        var count = lines.Length > 0 && lines[lines.Length - 1].Length == 0 ? lines.Length - 1 : lines.Length;
        for (var i = 0; i < count; i++)
        {
            var line = lines[i];
            var number = i + 1;
            var equals = line.IndexOf('=');
            if (equals <= 0)
            {
                throw new KilnSettingsException(null, number, "expected 'name=value'");
            }

            var name = line.Substring(0, equals);
            if (!known.Contains(name))
            {
                throw new KilnSettingsException(name, number, "unknown setting");
            }

            if (values.ContainsKey(name))
            {
                throw new KilnSettingsException(name, number, "the setting appears twice");
            }

            values.Add(name, Unescape(line.Substring(equals + 1), name, number));
        }

        foreach (var name in Names)
        {
            if (!values.ContainsKey(name))
            {
                throw new KilnSettingsException(name, null, "the setting is missing");
            }
        }

        return new KilnBuildSettings(
            epoch: values["epoch"],
            layerCompression: values["layer-compression"],
            archiveFormat: values["archive-format"],
            signingKey: values["signing-key"],
            verificationKey: values["verification-key"],
            baseVerificationKey: values["base-verification-key"],
            output: values["output"],
            configuration: values["configuration"],
            engine: values["engine"],
            version: values["version"],
            deployRegistry: values["deploy-registry"],
            deployRepositoryPrefix: values["deploy-repository-prefix"],
            debianMirror: values["debian-mirror"],
            debianSecurityMirror: values["debian-security-mirror"],
            debianKeyring: values["debian-keyring"],
            aptSources: values["apt-sources"],
            updateLock: values["update-lock"],
            lockMode: values["lock-mode"],
            inputRoots: values["input-roots"],
            platforms: values["platforms"]);
    }

    /// <summary>The value of a field by its name in the stamp.</summary>
    /// <exception cref="ArgumentException">No field has that name.</exception>
    public string this[string name]
    {
        get
        {
            foreach (var field in Fields)
            {
                if (string.Equals(field.Name, name, StringComparison.Ordinal))
                {
                    return field.Get(this);
                }
            }

            throw new ArgumentException("No build setting is named '" + name + "'.", nameof(name));
        }
    }

    /// <inheritdoc />
    public bool Equals(KilnBuildSettings? other) => other is not null && string.Equals(ToText(), other.ToText(), StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as KilnBuildSettings);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToText());

    /// <inheritdoc />
    public override string ToString() => ToText();

    private static void Escape(string value, StringBuilder text)
    {
        foreach (var c in value)
        {
            if (c == '%' || c == '=' || c < ' ' || c == '\u007f' || c == '\u2028' || c == '\u2029' || c == '\u0085')
            {
                // Every escaped character is below U+0100 except the Unicode line separators, which take four digits.
                text.Append('%').Append(c <= '\u00ff' ? ((int)c).ToString("X2", CultureInfo.InvariantCulture) : "u" + ((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
            else
            {
                text.Append(c);
            }
        }
    }

    private static string Unescape(string value, string name, int line)
    {
        if (value.IndexOf('%') < 0 && value.IndexOf('\r') < 0)
        {
            return value;
        }

        var text = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\r')
            {
                throw new KilnSettingsException(name, line, "a carriage return in a value must be written %0D");
            }

            if (c != '%')
            {
                text.Append(c);
                continue;
            }

            var wide = i + 1 < value.Length && value[i + 1] == 'u';
            var digits = wide ? 4 : 2;
            var start = wide ? i + 2 : i + 1;
            if (start + digits > value.Length
                || !int.TryParse(value.Substring(start, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
            {
                throw new KilnSettingsException(name, line, "'%' must be followed by two hexadecimal digits (or 'u' and four)");
            }

            text.Append((char)code);
            i = start + digits - 1;
        }

        return text.ToString();
    }

    private sealed class Field
    {
        public Field(string name, Func<KilnBuildSettings, string> get)
        {
            Name = name;
            Get = get;
        }

        public string Name { get; }

        public Func<KilnBuildSettings, string> Get { get; }
    }
}

/// <summary>A build settings stamp, or one of its values, that Kiln cannot read or write.</summary>
internal sealed class KilnSettingsException : Exception
{
    public KilnSettingsException(string? field, int? line, string problem)
        : base((line is null ? "" : "line " + line.Value.ToString(CultureInfo.InvariantCulture) + ": ")
               + (field is null ? "" : "setting '" + field + "': ") + problem)
    {
        Field = field;
        Line = line;
        Problem = problem;
    }

    /// <summary>The setting's name, when known.</summary>
    public string? Field { get; }

    /// <summary>The 1-based line of the stamp, when the problem is in a stamp being read.</summary>
    public int? Line { get; }

    /// <summary>What is wrong.</summary>
    public string Problem { get; }
}
