using Kiln.Engine.Diagnostics;
using Kiln.Engine.IO;
using Kiln.Engine.Requests;
using Xunit;

namespace Kiln.Engine.Tests.Requests;

/// <summary>publish.txt: written by the engine, read by Kiln.Build.targets (and back by the model), every field escaped.</summary>
public sealed class PublishListTests
{
    private static readonly PublishRequirement Plain = new("Shop.Api-0123456789ab", "/src/Shop.Api/Shop.Api.csproj", "Release", "/src/obj/Release/kiln/publish/Shop.Api-0123456789ab/", null, false);

    [Fact]
    public void ToText_PlainPaths_IsTheLineFormatKilnBuildTargetsReads()
    {
        var text = new PublishList([Plain with { RuntimeIdentifier = "linux-x64", SelfContained = true }]).ToText();

        Assert.Equal(
            "Shop.Api-0123456789ab|/src/Shop.Api/Shop.Api.csproj|/src/obj/Release/kiln/publish/Shop.Api-0123456789ab/|"
            + "Configuration=Release;PublishDir=/src/obj/Release/kiln/publish/Shop.Api-0123456789ab/;IsTransformWebConfigDisabled=true;"
            + PublishRequirement.ReproducibleProperties + ";RuntimeIdentifier=linux-x64;SelfContained=true\n",
            text);
    }

    [Fact]
    public void ToText_PathWithSeparatorsAndMSBuildSpecials_EscapesThemAndParsesBack()
    {
        var odd = new PublishRequirement("Shop;Api-0123456789ab", "/src/a;b|c $(x) @(y) 100%/Shop;Api.csproj", "Rel;ease", "/obj/publish/Shop;Api-0123456789ab/", "linux-x64", true);

        var text = new PublishList([odd, Plain]).ToText();

        var first = text.Split('\n')[0];
        Assert.Equal(4, first.Split('|').Length);
        Assert.Equal("Shop%3BApi-0123456789ab", first.Split('|')[0]);
        Assert.Equal("/src/a%3Bb%7Cc %24%28x%29 %40%28y%29 100%25/Shop%3BApi.csproj", first.Split('|')[1]);
        Assert.Contains("Configuration=Rel%3Bease;PublishDir=/obj/publish/Shop%3BApi-0123456789ab/;", first.Split('|')[3], StringComparison.Ordinal);
        var parsed = PublishList.Parse(text, "publish.txt").Projects;
        Assert.Equal(odd, parsed[0]);
        Assert.Equal(Plain, parsed[1]);
        Assert.Equal(2, parsed.Length);
    }

    [Theory]
    [InlineData("k-0123456789ab|/p.csproj|/d/\n", "has 3 fields")]
    [InlineData("|/p.csproj|/d/|Configuration=Debug;PublishDir=/d/\n", "empty KEY")]
    [InlineData("k|p.csproj|/d/|Configuration=Debug;PublishDir=/d/\n", "PROJECT 'p.csproj'")]
    [InlineData("k|/p.csproj|d/|Configuration=Debug;PublishDir=d/\n", "PUBLISHDIR 'd/'")]
    [InlineData("k|/p.csproj|/d/|Configuration=Debug;PublishDir=/d/;junk\n", "'junk'")]
    [InlineData("k|/p.csproj|/d/|PublishDir=/d/\n", "no Configuration")]
    [InlineData("k|/p.csproj|/d/|Configuration=Debug;PublishDir=/e/\n", "PublishDir")]
    [InlineData("k|/p.csproj|/d/|Configuration=Debug;PublishDir=/d/;SelfContained=maybe\n", "SelfContained 'maybe'")]
    public void Parse_BadLine_ReportsKiln5021NamingTheLineAndField(string text, string field)
    {
        var e = Assert.Throws<KilnException>(() => PublishList.Parse("\n" + text, "obj/publish.txt"));

        var diagnostic = Assert.Single(e.Diagnostics);
        Assert.Equal(DiagnosticCodes.PublishListInvalid, diagnostic.Code);
        Assert.Contains("'obj/publish.txt' line 2", diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains(field, diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Shop.Api-0123456789ab=/obj/publish/Shop.Api-0123456789ab/", "Shop.Api-0123456789ab", "/obj/publish/Shop.Api-0123456789ab/")]
    [InlineData("a=b;c-0123456789ab=/obj/x=y;z/", "a=b;c-0123456789ab", "/obj/x=y;z/")]
    public void PublishedProjectParse_KeyOrDirectoryHoldingEquals_SplitsAfterTheKey(string pair, string key, string directory) =>
        Assert.Equal(new PublishedProject(key, directory), PublishedProject.Parse(pair));

    [Fact]
    public void PublishedProjectParse_NoKey_ReportsKiln4002() =>
        Assert.Equal(DiagnosticCodes.InvalidRequest, Assert.Throws<KilnException>(() => PublishedProject.Parse("/obj/publish/x/")).Diagnostics.Single().Code);

    [Theory]
    [InlineData("a;b", "a%3Bb")]
    [InlineData("100%", "100%25")]
    [InlineData("$(x)@(y)", "%24%28x%29%40%28y%29")]
    [InlineData("*.cs?'", "%2A.cs%3F%27")]
    [InlineData("plain/path", "plain/path")]
    public void Escape_MSBuildSpecials_AreHexEscapedAndUnescapeBack(string value, string escaped)
    {
        Assert.Equal(escaped, MSBuildText.Escape(value));
        Assert.Equal(value, MSBuildText.Unescape(escaped));
    }

    [Fact]
    public void Unescape_LonePercent_StaysAsItIs() => Assert.Equal("5% of %zz", MSBuildText.Unescape("5% of %zz"));
}
