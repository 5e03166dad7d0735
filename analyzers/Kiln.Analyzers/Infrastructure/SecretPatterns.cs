using System;
using System.Globalization;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>
/// Recognises the shapes of well-known secrets in a string: private keys, cloud and SaaS tokens, JSON web tokens,
/// credentials in a URL and <c>password=…</c> assignments. Hand-written scanners, linear in the text: no regular
/// expression, so no timeout that could hide a secret or slow the compiler on a loaded machine.
/// </summary>
internal static class SecretPatterns
{
    // Every pattern needs one of these characters; most strings in a spec (paths, names) have none and are skipped.
    private static readonly char[] Triggers = ['-', '_', '=', ':', '.', 'A'];

    private static readonly string[] AssignmentKeys =
    [
        "password", "passwd", "pwd", "secret", "apikey", "api_key", "api-key", "accesstoken", "access_token", "access-token",
        "authtoken", "auth_token", "auth-token", "clientsecret", "client_secret", "client-secret",
    ];

    private static readonly string[] SecretNameParts =
    [
        "PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "API_KEY", "PRIVATEKEY", "PRIVATE_KEY", "ACCESSKEY", "ACCESS_KEY", "CREDENTIAL",
    ];

    /// <summary>What <paramref name="text"/> looks like ("a private key"…), or null when it looks like no secret.</summary>
    public static string? Find(string text)
    {
        if (text.Length < 8 || text.IndexOfAny(Triggers) < 0)
        {
            return null;
        }

        if (HasPrivateKey(text))
        {
            return "a private key";
        }

        if (HasAwsKeyId(text))
        {
            return "an AWS access key id";
        }

        if (HasGitHubToken(text))
        {
            return "a GitHub token";
        }

        if (HasPrefixedRun(text, "xox", "abprs", "-", 10, c => IsAsciiAlphaNumeric(c) || c == '-', requireEndBoundary: false))
        {
            return "a Slack token";
        }

        if (HasPrefixedRun(text, "sk_live_", null, null, 16, IsAsciiAlphaNumeric, requireEndBoundary: false)
            || HasPrefixedRun(text, "rk_live_", null, null, 16, IsAsciiAlphaNumeric, requireEndBoundary: false))
        {
            return "a Stripe key";
        }

        if (HasJsonWebToken(text))
        {
            return "a JSON web token";
        }

        if (HasUrlCredentials(text))
        {
            return "credentials in a URL";
        }

        return HasAssignment(text) ? "a password or key assignment" : null;
    }

    /// <summary>Whether an environment variable's name says it holds a secret (<c>DB_PASSWORD</c>, <c>API_TOKEN</c>…).</summary>
    public static bool IsSecretName(string name)
    {
        foreach (var part in SecretNameParts)
        {
            if (name.IndexOf(part, StringComparison.OrdinalIgnoreCase) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    // -----BEGIN (WORD )*PRIVATE KEY-----
    private static bool HasPrivateKey(string text)
    {
        const string begin = "-----BEGIN ";
        for (var start = text.IndexOf(begin, StringComparison.Ordinal); start >= 0; start = text.IndexOf(begin, start + 1, StringComparison.Ordinal))
        {
            var i = start + begin.Length;
            while (true)
            {
                if (string.CompareOrdinal(text, i, "PRIVATE KEY-----", 0, 16) == 0)
                {
                    return true;
                }

                var word = i;
                while (i < text.Length && ((text[i] >= 'A' && text[i] <= 'Z') || IsDigit(text[i])))
                {
                    i++;
                }

                if (i == word || i >= text.Length || text[i] != ' ')
                {
                    break;
                }

                i++;
            }
        }

        return false;
    }

    // (AKIA|ASIA) and 16 of [0-9A-Z], as a whole word.
    private static bool HasAwsKeyId(string text)
    {
        for (var i = 0; i + 20 <= text.Length; i++)
        {
            if (!IsWordStart(text, i) || string.CompareOrdinal(text, i + 2, "IA", 0, 2) != 0 || text[i] != 'A' || (text[i + 1] != 'K' && text[i + 1] != 'S'))
            {
                continue;
            }

            var j = i + 4;
            while (j < i + 20 && (IsDigit(text[j]) || (text[j] >= 'A' && text[j] <= 'Z')))
            {
                j++;
            }

            if (j == i + 20 && (j == text.Length || !IsWordChar(text[j])))
            {
                return true;
            }
        }

        return false;
    }

    // gh[pousr]_ and 36 or more alphanumerics, or github_pat_ and 22 or more of [A-Za-z0-9_], as a whole word.
    private static bool HasGitHubToken(string text) =>
        HasPrefixedRun(text, "gh", "pousr", "_", 36, IsAsciiAlphaNumeric, requireEndBoundary: true)
        || HasPrefixedRun(text, "github_pat_", null, null, 22, c => IsAsciiAlphaNumeric(c) || c == '_', requireEndBoundary: true);

    /// <summary>
    /// A word-start <paramref name="prefix"/>, then one of <paramref name="oneOf"/> (if given), then
    /// <paramref name="separator"/> (if given), then at least <paramref name="minimum"/> characters of <paramref name="body"/>.
    /// </summary>
    private static bool HasPrefixedRun(string text, string prefix, string? oneOf, string? separator, int minimum, Func<char, bool> body, bool requireEndBoundary)
    {
        for (var start = text.IndexOf(prefix, StringComparison.Ordinal); start >= 0; start = text.IndexOf(prefix, start + 1, StringComparison.Ordinal))
        {
            if (!IsWordStart(text, start))
            {
                continue;
            }

            var i = start + prefix.Length;
            if (oneOf is not null)
            {
                if (i >= text.Length || oneOf.IndexOf(text[i]) < 0)
                {
                    continue;
                }

                i++;
            }

            if (separator is not null)
            {
                if (string.CompareOrdinal(text, i, separator, 0, separator.Length) != 0)
                {
                    continue;
                }

                i += separator.Length;
            }

            var run = i;
            while (i < text.Length && body(text[i]))
            {
                i++;
            }

            if (i - run >= minimum && (!requireEndBoundary || i == text.Length || !IsWordChar(text[i])))
            {
                return true;
            }
        }

        return false;
    }

    // eyJ…(8+).eyJ…(8+).…(1+) over [A-Za-z0-9_-], starting a word.
    private static bool HasJsonWebToken(string text)
    {
        for (var start = text.IndexOf("eyJ", StringComparison.Ordinal); start >= 0; start = text.IndexOf("eyJ", start + 1, StringComparison.Ordinal))
        {
            if (!IsWordStart(text, start))
            {
                continue;
            }

            var i = start + 3;
            if (Run(text, ref i, IsBase64Url) < 8 || !Expect(text, ref i, ".eyJ") || Run(text, ref i, IsBase64Url) < 8 || !Expect(text, ref i, ".") || Run(text, ref i, IsBase64Url) < 1)
            {
                continue;
            }

            return true;
        }

        return false;
    }

    // scheme://user:password@ (scheme starting with a letter, any case).
    private static bool HasUrlCredentials(string text)
    {
        for (var separator = text.IndexOf("://", StringComparison.Ordinal); separator >= 0; separator = text.IndexOf("://", separator + 1, StringComparison.Ordinal))
        {
            var hasLetter = false;
            for (var s = separator - 1; s >= 0 && (IsAsciiAlphaNumeric(text[s]) || text[s] is '+' or '.' or '-'); s--)
            {
                hasLetter |= IsAsciiLetter(text[s]);
            }

            if (!hasLetter)
            {
                continue;
            }

            var i = separator + 3;
            if (Run(text, ref i, c => !(c is '/' or ':' or '@' || char.IsWhiteSpace(c))) < 1 || !Expect(text, ref i, ":")
                || Run(text, ref i, c => !(c is '/' or ':' or '@' or '$' or '%' or '{' || char.IsWhiteSpace(c))) < 1 || !Expect(text, ref i, "@"))
            {
                continue;
            }

            return true;
        }

        return false;
    }

    // A key such as password or api_key starting a word, then optional spaces, '=' or ':', optional spaces and 3 or more value characters.
    private static bool HasAssignment(string text)
    {
        foreach (var key in AssignmentKeys)
        {
            for (var start = text.IndexOf(key, StringComparison.OrdinalIgnoreCase); start >= 0; start = text.IndexOf(key, start + 1, StringComparison.OrdinalIgnoreCase))
            {
                if (!IsWordStart(text, start))
                {
                    continue;
                }

                var i = start + key.Length;
                Run(text, ref i, char.IsWhiteSpace);
                if (i >= text.Length || (text[i] != '=' && text[i] != ':'))
                {
                    continue;
                }

                i++;
                Run(text, ref i, char.IsWhiteSpace);
                if (Run(text, ref i, c => !(c is ';' or ',' or '\'' or '"' or '$' or '%' or '{' or '<' || char.IsWhiteSpace(c))) >= 3)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static int Run(string text, ref int i, Func<char, bool> accept)
    {
        var start = i;
        while (i < text.Length && accept(text[i]))
        {
            i++;
        }

        return i - start;
    }

    private static bool Expect(string text, ref int i, string expected)
    {
        if (string.CompareOrdinal(text, i, expected, 0, expected.Length) != 0 || i + expected.Length > text.Length)
        {
            return false;
        }

        i += expected.Length;
        return true;
    }

    /// <summary>A regular expression's <c>\b</c> before a word character: the start, or a non-word character before.</summary>
    private static bool IsWordStart(string text, int i) => i == 0 || !IsWordChar(text[i - 1]);

    /// <summary>A regular expression's <c>\w</c>: letters, decimal digits, non-spacing marks and connector punctuation ('_').</summary>
    private static bool IsWordChar(char c) =>
        char.IsLetterOrDigit(c) || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.ConnectorPunctuation;

    private static bool IsBase64Url(char c) => IsAsciiAlphaNumeric(c) || c == '_' || c == '-';

    private static bool IsDigit(char c) => c >= '0' && c <= '9';

    private static bool IsAsciiLetter(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

    private static bool IsAsciiAlphaNumeric(char c) => IsAsciiLetter(c) || IsDigit(c);
}
