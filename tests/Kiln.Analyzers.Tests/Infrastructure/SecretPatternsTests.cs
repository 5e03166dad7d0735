using System.Text.RegularExpressions;
using Kiln.Analyzers.Infrastructure;

namespace Kiln.Analyzers.Tests.Infrastructure;

/// <summary>
/// The hand-written secret scanners against the regular expressions they replace: same answer on known secrets, on
/// near-misses and on many generated strings built from the pieces the patterns look for.
/// </summary>
public sealed class SecretPatternsTests
{
    // The rule's former patterns, in its order of precedence.
    private static readonly (Regex Pattern, string What)[] Reference =
    [
        (new Regex(@"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----", RegexOptions.CultureInvariant), "a private key"),
        (new Regex(@"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", RegexOptions.CultureInvariant), "an AWS access key id"),
        (new Regex(@"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b", RegexOptions.CultureInvariant), "a GitHub token"),
        (new Regex(@"\bxox[abprs]-[A-Za-z0-9-]{10,}", RegexOptions.CultureInvariant), "a Slack token"),
        (new Regex(@"\b(?:sk|rk)_live_[0-9A-Za-z]{16,}", RegexOptions.CultureInvariant), "a Stripe key"),
        (new Regex(@"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+", RegexOptions.CultureInvariant), "a JSON web token"),
        (new Regex(@"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s:@$%{]+@", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase), "credentials in a URL"),
        (new Regex(@"\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret)\s*[=:]\s*[^\s;,'""$%{<]{3,}", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase), "a password or key assignment"),
    ];

    private static readonly Regex SecretName = new("PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

    private static string? ReferenceFind(string text)
    {
        if (text.Length < 8 || text.IndexOfAny(['-', '_', '=', ':', '.', 'A']) < 0)
        {
            return null;
        }

        return Reference.FirstOrDefault(p => p.Pattern.IsMatch(text)).What;
    }

    [Theory]
    [InlineData("-----BEGIN RSA PRIVATE KEY-----\nMIIE", "a private key")]
    [InlineData("-----BEGIN PRIVATE KEY-----", "a private key")]
    [InlineData("-----BEGIN OPENSSH PRIVATE KEY-----", "a private key")]
    [InlineData("-----BEGIN PUBLIC KEY-----", null)]
    [InlineData("AKIAIOSFODNN7EXAMPLE", "an AWS access key id")]
    [InlineData("xAKIAIOSFODNN7EXAMPLE", null)]
    [InlineData("AKIAIOSFODNN7EXAMPLEX", null)]
    [InlineData("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "a GitHub token")]
    [InlineData("ghp_abcdefghijklmnopqrstuvwxyz012345678_", null)]
    [InlineData("github_pat_11ABCDEFG0123456789_abcdef", "a GitHub token")]
    [InlineData("xoxb-1234567890-abc", "a Slack token")]
    [InlineData("sk_live_0123456789abcdefABCD", "a Stripe key")]
    [InlineData("sk_test_0123456789abcdefABCD", null)]
    [InlineData("eyJhbGciOiJI.eyJzdWIiOiIx.sig", "a JSON web token")]
    [InlineData("postgres://app:hunter2@db:5432/app", "credentials in a URL")]
    [InlineData("postgres://app:${PASSWORD}@db:5432/app", null)]
    [InlineData("https://example.com/path", null)]
    [InlineData("password=hunter2", "a password or key assignment")]
    [InlineData("API-KEY: abcdef", "a password or key assignment")]
    [InlineData("db_password=hunter2", null)]
    [InlineData("password=$SECRET", null)]
    [InlineData("/app/Shop.Api", null)]
    public void Find_KnownShapes_AgreeWithTheFormerPatterns(string text, string? expected)
    {
        Assert.Equal(expected, SecretPatterns.Find(text));
        Assert.Equal(ReferenceFind(text), SecretPatterns.Find(text));
    }

    [Fact]
    public void Find_GeneratedStrings_AgreeWithTheFormerPatterns()
    {
        string[] pieces =
        [
            "-----BEGIN ", "RSA ", "PRIVATE KEY-----", "AKIA", "ASIA", "IOSFODNN7EXAMPLE", "ghp_", "github_pat_", "xoxb-", "sk_live_", "rk_live_",
            "eyJ", "abcdefgh", "ABCDEFGH", "01234567", ".", "://", "postgres", "http", "user", ":", "@", "pass", "password", "pwd", "api_key",
            "Api-Key", "secret", "=", " ", "_", "-", "$", "{", "/", "é", "x", "9", "\n",
        ];
        var random = new Random(20261130);
        var disagreements = new List<string>();
        for (var n = 0; n < 20_000; n++)
        {
            var text = string.Concat(Enumerable.Range(0, random.Next(1, 12)).Select(_ => pieces[random.Next(pieces.Length)]));
            if (ReferenceFind(text) != SecretPatterns.Find(text))
            {
                disagreements.Add(text);
            }
        }

        Assert.Empty(disagreements);
    }

    [Theory]
    [InlineData("DB_PASSWORD", true)]
    [InlineData("GITHUB_TOKEN", true)]
    [InlineData("STRIPE_APIKEY", true)]
    [InlineData("signing_private_key", true)]
    [InlineData("AWS_ACCESS_KEY_ID", true)]
    [InlineData("CREDENTIALS_FILE", true)]
    [InlineData("ASPNETCORE_URLS", false)]
    [InlineData("API-KEY", false)]
    public void IsSecretName_AgreesWithTheFormerPattern(string name, bool expected)
    {
        Assert.Equal(expected, SecretPatterns.IsSecretName(name));
        Assert.Equal(SecretName.IsMatch(name), SecretPatterns.IsSecretName(name));
    }
}
