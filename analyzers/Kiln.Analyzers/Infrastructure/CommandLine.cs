using System;
using System.Collections.Generic;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>Splits the constant parts of an argv (exec form, or a shell command) into words, good enough to spot programs.</summary>
internal static class CommandLine
{
    private static readonly char[] Separators = [' ', '\t', '\r', '\n', ';', '&', '|', '(', ')', '`', '"', '\'', '{', '}', '<', '>'];

    public static List<string> Words(IEnumerable<string> argv)
    {
        var words = new List<string>();
        foreach (var arg in argv)
        {
            foreach (var word in arg.Split(Separators, StringSplitOptions.RemoveEmptyEntries))
            {
                words.Add(word.StartsWith("$", StringComparison.Ordinal) ? word.TrimStart('$') : word);
            }
        }

        return words;
    }

    /// <summary>The file name of a program path: <c>/usr/bin/apt-get</c> gives <c>apt-get</c>.</summary>
    public static string ProgramName(string word)
    {
        var slash = word.LastIndexOf('/');
        return slash >= 0 ? word.Substring(slash + 1) : word;
    }
}
