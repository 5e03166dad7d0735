using System.Collections.Immutable;

namespace Kiln.Analyzers.Infrastructure;

/// <summary>What a shell-form command looks like, and when it can be rewritten in exec form without changing its meaning.</summary>
internal static class ShellForm
{
    public static readonly ImmutableArray<string> Shells = ["sh", "bash", "ash", "dash", "zsh", "ksh", "busybox"];

    /// <summary>Characters that make the shell do work (expansion, quoting, redirection, control flow) that exec form would not.</summary>
    private const string Metacharacters = "$`;&|<>()*?[]{}~\"'\\#=!\n\r";

    /// <summary>Splits <paramref name="command"/> into argv if it is plain words the shell would pass through unchanged.</summary>
    public static bool TrySplitPlainCommand(string command, out ImmutableArray<string> argv)
    {
        argv = default;
        if (command.IndexOfAny(Metacharacters.ToCharArray()) >= 0)
        {
            return false;
        }

        var words = command.Split([' ', '\t'], System.StringSplitOptions.RemoveEmptyEntries);
        var start = words.Length > 0 && words[0] == "exec" ? 1 : 0;
        if (words.Length - start == 0)
        {
            return false;
        }

        argv = ImmutableArray.Create(words, start, words.Length - start);
        return true;
    }
}
