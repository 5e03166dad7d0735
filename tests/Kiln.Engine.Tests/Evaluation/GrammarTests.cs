using Kiln.Shared;

namespace Kiln.Engine.Tests.Evaluation;

/// <summary>
/// The shared grammar (src/Shared/Grammar.cs), which the analyzers compile too: SemVer 2.0.0 against the examples of
/// the specification (https://semver.org/spec/v2.0.0.html and the test cases of its official regular expression),
/// names and references against the OCI distribution reference grammar.
/// </summary>
public sealed class GrammarTests
{
    // semver.org's list of valid versions (build metadata included).
    public static readonly TheoryData<string> ValidSemVer =
    [
        "0.0.4", "1.2.3", "10.20.30", "1.1.2-prerelease+meta", "1.1.2+meta", "1.1.2+meta-valid", "1.0.0-alpha", "1.0.0-beta",
        "1.0.0-alpha.beta", "1.0.0-alpha.beta.1", "1.0.0-alpha.1", "1.0.0-alpha0.valid", "1.0.0-alpha.0valid",
        "1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay", "1.0.0-rc.1+build.1", "2.0.0-rc.1+build.123", "1.2.3-beta",
        "10.2.3-DEV-SNAPSHOT", "1.2.3-SNAPSHOT-123", "1.0.0", "2.0.0", "1.1.7", "2.0.0+build.1848", "2.0.1-alpha.1227",
        "1.0.0-alpha+beta", "1.2.3----RC-SNAPSHOT.12.9.1--.12+788", "1.2.3----R-S.12.9.1--.12+meta", "1.2.3----RC-SNAPSHOT.12.9.1--.12",
        "1.0.0+0.build.1-rc.10000aaa-kk-0.1", "99999999999999999999999.999999999999999999.99999999999999999", "1.0.0-0A.is.legal",
        "1.0.0-x.7.z.92", "1.0.0-x-y-z.--", "1.0.0-alpha+001", "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85",
        "1.0.0+21AF26D3----117B344092BD",
    ];

    // semver.org's list of invalid versions, and a few of our own (whitespace, a trailing newline).
    public static readonly TheoryData<string> InvalidSemVer =
    [
        "1", "1.2", "1.2.3-0123", "1.2.3-0123.0123", "1.1.2+.123", "+invalid", "-invalid", "-invalid+invalid", "-invalid.01",
        "alpha", "alpha.beta", "alpha.beta.1", "alpha.1", "alpha+beta", "alpha_beta", "alpha.", "alpha..", "beta", "1.0.0-alpha_beta",
        "-alpha.", "1.0.0-alpha..", "1.0.0-alpha..1", "1.0.0-alpha...1", "1.0.0-alpha....1", "1.0.0-alpha.....1", "1.0.0-alpha......1",
        "1.0.0-alpha.......1", "01.1.1", "1.01.1", "1.1.01", "1.2.3.DEV", "1.2-SNAPSHOT", "1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788",
        "1.2-RC-SNAPSHOT", "-1.0.3-gamma+b7718", "+justmeta", "9.8.7+meta+meta", "9.8.7-whatever+meta+meta",
        "99999999999999999999999.999999999999999999.99999999999999999----RC-SNAPSHOT.12.09.1--------------------------------..12",
        "", " 1.0.0", "1.0.0 ", "1.0.0\n", "v1.0.0", "1.0.0-", "1.0.0+", "1.0.0-é",
    ];

    [Theory]
    [MemberData(nameof(ValidSemVer))]
    public void IsSemVer_SpecificationValidExample_IsAccepted(string version) =>
        Assert.True(Grammar.IsSemVer(version, allowBuildMetadata: true));

    [Theory]
    [MemberData(nameof(InvalidSemVer))]
    public void IsSemVer_SpecificationInvalidExample_IsRejected(string version) =>
        Assert.False(Grammar.IsSemVer(version, allowBuildMetadata: true));

    [Theory]
    [InlineData("1.0.0", nameof(VersionProblem.None))]
    [InlineData("2.0.0-rc.1", nameof(VersionProblem.None))]
    [InlineData("1.0.0+build.5", nameof(VersionProblem.BuildMetadata))]
    [InlineData("1.0.0-rc.1+sha.5114f85", nameof(VersionProblem.BuildMetadata))]
    [InlineData("1.0+build", nameof(VersionProblem.NotSemVer))]
    [InlineData("1.0.0-01", nameof(VersionProblem.NotSemVer))]
    public void CheckVersion_KilnVersion_TellsTheProblem(string version, string expected) =>
        Assert.Equal(expected, Grammar.CheckVersion(version).ToString());

    [Fact]
    public void CheckVersion_LongerThanATag_IsNotAVersion()
    {
        var version = "1.0.0-" + new string('a', 123);
        Assert.Equal(VersionProblem.None, Grammar.CheckVersion(version[..^1]));
        Assert.Equal(VersionProblem.NotSemVer, Grammar.CheckVersion(version));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("shop-api")]
    [InlineData("shop--api")]
    [InlineData("shop.api")]
    [InlineData("shop_api")]
    [InlineData("shop__api")]
    [InlineData("0")]
    [InlineData("a1.b2_c3__d4-e5---f6")]
    public void IsServerName_OnePathComponent_IsAccepted(string name) => Assert.True(Grammar.IsServerName(name));

    [Theory]
    [InlineData("")]
    [InlineData("shop/api")]
    [InlineData("Shop")]
    [InlineData("-shop")]
    [InlineData("shop-")]
    [InlineData("shop.")]
    [InlineData(".shop")]
    [InlineData("shop..api")]
    [InlineData("shop___api")]
    [InlineData("shop._api")]
    [InlineData("shop-.api")]
    [InlineData("shop_-api")]
    [InlineData("shop api")]
    [InlineData("shop\n")]
    [InlineData("shop:1")]
    [InlineData("ｓhop")]
    public void IsServerName_NotOneComponent_IsRejected(string name) => Assert.False(Grammar.IsServerName(name));

    [Fact]
    public void IsServerName_Over128Characters_IsRejected()
    {
        Assert.True(Grammar.IsServerName(new string('a', 128)));
        Assert.False(Grammar.IsServerName(new string('a', 129)));
    }

    [Theory]
    [InlineData("latest", true)]
    [InlineData("1.2.3", true)]
    [InlineData("_x", true)]
    [InlineData("A-b.C_d", true)]
    [InlineData(".x", false)]
    [InlineData("-x", false)]
    [InlineData("", false)]
    [InlineData("a+b", false)]
    [InlineData("a/b", false)]
    public void IsTag_DistributionTagGrammar(string tag, bool expected) => Assert.Equal(expected, Grammar.IsTag(tag));

    [Fact]
    public void IsTag_Over128Characters_IsRejected()
    {
        Assert.True(Grammar.IsTag(new string('a', 128)));
        Assert.False(Grammar.IsTag(new string('a', 129)));
    }

    [Theory]
    [InlineData("docker.io", true)]
    [InlineData("localhost", true)]
    [InlineData("localhost:5000", true)]
    [InlineData("127.0.0.1:5000", true)]
    [InlineData("Registry.Example.com", true)]
    [InlineData("my-registry.local:443", true)]
    [InlineData("[::1]:5000", true)]
    [InlineData("[fe80::1]", true)]
    [InlineData("-bad.io", false)]
    [InlineData("bad-.io", false)]
    [InlineData("a..b", false)]
    [InlineData("host:", false)]
    [InlineData("host:port", false)]
    [InlineData("[]", false)]
    [InlineData("host_name.io", false)]
    [InlineData("", false)]
    public void IsRegistryHost_DomainGrammar(string host, bool expected) => Assert.Equal(expected, Grammar.IsRegistryHost(host));

    [Theory]
    [InlineData("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    [InlineData("sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    [InlineData("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", false)]
    [InlineData("sha256:0123456789abcdef", false)]
    [InlineData("sha384:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", false)]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", false)]
    public void IsDigest_RegisteredAlgorithmsOnly(string digest, bool expected) => Assert.Equal(expected, Grammar.IsDigest(digest));

    // Cases of the distribution project's reference tests (reference_test.go), limited to what a Kiln base may name.
    [Theory]
    [InlineData("test_com", null, "test_com", null)]
    [InlineData("test.com:tag", null, "test.com", "tag")]
    [InlineData("test.com:5000", null, "test.com", "5000")]
    [InlineData("test.com/repo:tag", "test.com", "repo", "tag")]
    [InlineData("test:5000/repo", "test:5000", "repo", null)]
    [InlineData("test:5000/repo:tag", "test:5000", "repo", "tag")]
    [InlineData("lowercase:Uppercase", null, "lowercase", "Uppercase")]
    [InlineData("sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux", null)]
    [InlineData("a/a/a/a", null, "a/a/a/a", null)]
    [InlineData("localhost/repo", "localhost", "repo", null)]
    [InlineData("[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "repo", "tag")]
    public void IsReference_DistributionValidCase_SplitsLikeDistribution(string text, string? domain, string path, string? tag)
    {
        Assert.True(Grammar.IsReference(text, out var problem), problem);
        var parts = Grammar.SplitReference(text);
        Assert.Equal(domain, parts.Domain);
        Assert.Equal(path, parts.Path);
        Assert.Equal(tag, parts.Tag);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData(":justtag", "repository")]
    [InlineData("@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "repository")]
    [InlineData("repo@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", null)]
    [InlineData("validname@invaliddigest:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "digest")]
    [InlineData("Uppercase:tag", "repository")]
    [InlineData("test:5000/Uppercase/lowercase:tag", "repository")]
    [InlineData("aa/asdf$$^/aa", "repository")]
    [InlineData("a/a/a/a/", "repository")]
    [InlineData("foo_bar.com:8080", null)]
    [InlineData("foo_bar.com:8080/repo", "registry host")]
    [InlineData("-foo.com/repo", "registry host")]
    [InlineData("repo:-tag", "tag")]
    public void IsReference_DistributionInvalidCase_NamesThePart(string text, string? part)
    {
        var valid = Grammar.IsReference(text, out var problem);
        if (part is null)
        {
            Assert.True(valid, problem);
            return;
        }

        Assert.False(valid);
        Assert.Contains(part, problem);
    }

    [Fact]
    public void IsRepositoryPath_Over255Characters_IsRejected()
    {
        var path = string.Join('/', Enumerable.Repeat(new string('a', 63), 4));
        Assert.Equal(255, path.Length);
        Assert.True(Grammar.IsRepositoryPath(path));
        Assert.False(Grammar.IsRepositoryPath(path + "a"));
    }

    [Fact]
    public void IsSemVer_PathologicalInput_AnswersAtOnce()
    {
        // The inputs that make backtracking regular expressions time out are linear scans here.
        Assert.False(Grammar.IsSemVer("1.0.0-" + string.Concat(Enumerable.Repeat("a.", 50_000)) + "!", allowBuildMetadata: true));
        Assert.False(Grammar.IsServerName(string.Concat(Enumerable.Repeat("a-", 50_000)) + "!"));
    }
}
