using System.Text.RegularExpressions;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>Regular-expression checks that cannot hang the compiler: a length cap, and a timeout counted as no match.</summary>
internal static class BoundedRegex
{
    /// <summary>Whether <paramref name="value"/> is at most <paramref name="maxLength"/> characters and matches <paramref name="pattern"/>.</summary>
    public static bool IsMatchWithin(this Regex pattern, string value, int maxLength)
    {
        try
        {
            return value.Length <= maxLength && pattern.IsMatch(value);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
