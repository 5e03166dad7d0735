using Kiln.Shared;

namespace Kiln.Engine.Tests.Settings;

/// <summary>The build settings stamp (src/Shared/KilnBuildSettings.cs): its bytes, its escaping, and what it refuses.</summary>
public sealed class KilnBuildSettingsTests
{
    private static KilnBuildSettings Sample(string signingKey = "/keys/kiln.pem", string? updateLock = null) => new(
        epoch: "1700000000",
        layerCompression: "zstd",
        archiveFormat: "oci-archive",
        signingKey: signingKey,
        output: "/src/app/bin/Release/kiln/",
        configuration: "Release",
        engine: "/pkg/tools/engine/kiln.dll",
        version: "1.2.3",
        deployRegistry: "registry.example:5000",
        deployRepositoryPrefix: "acme/shop",
        debianKeyring: "builtin",
        aptSources: "none",
        updateLock: updateLock,
        lockMode: "Enforce",
        inputRoots: "..;../shared",
        platforms: "linux/amd64;linux/arm64");

    [Fact]
    public void ToText_EverySetting_OneLineEachInOrdinalOrder()
    {
        var lines = Sample().ToText().Split('\n');

        Assert.Equal("", lines[^1]);
        var names = lines[..^1].Select(l => l[..l.IndexOf('=')]).ToArray();
        Assert.Equal(KilnBuildSettings.Names, names);
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        Assert.Contains("platforms=linux/amd64;linux/arm64", lines);
        Assert.Contains("debian-mirror=", lines);
    }

    [Fact]
    public void ToText_SameSettingsTwice_SameText() =>
        Assert.Equal(Sample().ToText(), Sample().ToText());

    [Fact]
    public void Parse_TextOfToText_RoundTripsEveryField()
    {
        var settings = Sample(updateLock: Guid.NewGuid().ToString("D"));

        var parsed = KilnBuildSettings.Parse(settings.ToText());

        Assert.Equal(settings, parsed);
        foreach (var name in KilnBuildSettings.Names)
        {
            Assert.Equal(settings[name], parsed[name]);
        }

        Assert.Equal("Enforce", parsed.LockMode);
        Assert.Equal("linux/amd64;linux/arm64", parsed.Platforms);
    }

    [Theory]
    [InlineData("/keys/a\nepoch=99")]
    [InlineData("/keys/a\r\nepoch=99")]
    [InlineData("C:\\keys\\a=b%20c.pem")]
    [InlineData("/keys/\u2028line\u0085next\u2029end\t\u007f")]
    [InlineData("%u2028%0A%")]
    public void ToText_ValueWithLineBreakOrEquals_StaysOneLineAndRoundTrips(string signingKey)
    {
        var text = Sample(signingKey).ToText();

        Assert.Equal(KilnBuildSettings.Names.Count, text.Count(c => c == '\n'));
        Assert.DoesNotContain('\r', text);
        Assert.DoesNotContain('\u2028', text);
        Assert.Single(text.Split('\n'), l => l.StartsWith("epoch=", StringComparison.Ordinal));
        var parsed = KilnBuildSettings.Parse(text);
        Assert.Equal(signingKey, parsed.SigningKey);
        Assert.Equal("1700000000", parsed.Epoch);
    }

    [Fact]
    public void ToText_DifferentValue_DifferentText()
    {
        // The stamp exists to change when a setting does: each field on its own changes the bytes.
        var baseline = new KilnBuildSettings().ToText();
        foreach (var name in KilnBuildSettings.Names)
        {
            var changed = KilnBuildSettings.Parse(baseline.Replace(name + "=\n", name + "=" + (name == "update-lock" ? Guid.Empty.ToString("D") : "x") + "\n", StringComparison.Ordinal));
            Assert.NotEqual(baseline, changed.ToText());
            Assert.NotEqual("", changed[name]);
        }
    }

    [Fact]
    public void Parse_UnknownSetting_ThrowsNamingLineAndField()
    {
        var text = new KilnBuildSettings().ToText() + "layer-compresion=zstd\n";

        var e = Assert.Throws<KilnSettingsException>(() => KilnBuildSettings.Parse(text));

        Assert.Equal("layer-compresion", e.Field);
        Assert.Equal(KilnBuildSettings.Names.Count + 1, e.Line);
        Assert.Contains("unknown setting", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SettingTwice_ThrowsNamingTheSecondLine()
    {
        var text = "epoch=1\n" + new KilnBuildSettings().ToText();

        var e = Assert.Throws<KilnSettingsException>(() => KilnBuildSettings.Parse(text));

        Assert.Equal("epoch", e.Field);
        Assert.Equal(LineOf("epoch") + 1, e.Line);
    }

    [Fact]
    public void Parse_SettingMissing_ThrowsNamingIt()
    {
        var text = string.Concat(new KilnBuildSettings().ToText().Split('\n').Where(l => l.Length > 0 && !l.StartsWith("platforms=", StringComparison.Ordinal)).Select(l => l + "\n"));

        var e = Assert.Throws<KilnSettingsException>(() => KilnBuildSettings.Parse(text));

        Assert.Equal("platforms", e.Field);
        Assert.Null(e.Line);
    }

    [Theory]
    [InlineData("no equals sign")]
    [InlineData("=value")]
    [InlineData("")]
    public void Parse_LineNotNameEqualsValue_ThrowsNamingTheLine(string line)
    {
        var e = Assert.Throws<KilnSettingsException>(() => KilnBuildSettings.Parse("epoch=0\n" + line + "\n"));

        Assert.Equal(2, e.Line);
        Assert.Null(e.Field);
    }

    [Theory]
    [InlineData("%")]
    [InlineData("%4")]
    [InlineData("%ZZ")]
    [InlineData("%u12")]
    [InlineData("%+1")]
    [InlineData("a\rb")]
    public void Parse_MalformedEscape_ThrowsNamingField(string value)
    {
        var text = new KilnBuildSettings().ToText().Replace("output=\n", "output=" + value + "\n", StringComparison.Ordinal);

        var e = Assert.Throws<KilnSettingsException>(() => KilnBuildSettings.Parse(text));

        Assert.Equal("output", e.Field);
        Assert.Equal(LineOf("output"), e.Line);
    }

    [Fact]
    public void Constructor_UpdateLockNotAGuid_ThrowsNamingField()
    {
        var e = Assert.Throws<KilnSettingsException>(() => new KilnBuildSettings(updateLock: "yes"));

        Assert.Equal("update-lock", e.Field);
    }

    private static int LineOf(string name) => KilnBuildSettings.Names.ToList().IndexOf(name) + 1;

    [Fact]
    public void Indexer_UnknownName_Throws() =>
        Assert.Throws<ArgumentException>(() => new KilnBuildSettings()["no-such-setting"]);
}
