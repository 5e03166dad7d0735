using System.Globalization;
using Spectre.Console;

namespace Kiln.Cli;

/// <summary>
/// How a verb prints its human-readable result: boxes, colours and shortened digests on a terminal; on a pipe or a
/// file (<see cref="Console.IsOutputRedirected"/>) plain lines, one row each, columns separated by a tab, digests in
/// full, so that <c>cut</c>, <c>awk</c> and <c>grep</c> work. --json is the stable shape for programs.
/// </summary>
internal static class CliOutput
{
    /// <summary>Whether standard output is a terminal (not redirected): only then are tables drawn and digests shortened.</summary>
    public static bool IsTerminal => !Console.IsOutputRedirected;

    /// <summary>Whether progress may be drawn: on a terminal of standard error (progress never goes to standard output).</summary>
    public static bool ProgressOnTerminal => !Console.IsErrorRedirected;

    /// <summary>Spectre's console on standard error, for progress bars (never mixed into the result on standard output).</summary>
    public static IAnsiConsole ErrorConsole { get; } = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    /// <summary>A digest as shown: <c>sha256:0123456789ab…</c> on a terminal, in full otherwise.</summary>
    public static string Digest(string? digest) =>
        digest is null ? "-" : IsTerminal && digest.Length > 19 ? digest[..19] + "…" : digest;

    /// <summary>A line of the result on standard output, without markup.</summary>
    public static void Line(string text) => Console.Out.WriteLine(text);

    /// <summary>A line with Spectre markup on a terminal; <paramref name="plain"/> otherwise.</summary>
    public static void Line(string markup, string plain)
    {
        if (IsTerminal)
        {
            AnsiConsole.MarkupLine(markup);
        }
        else
        {
            Console.Out.WriteLine(plain);
        }
    }

    /// <summary>Renders rows as a table (terminal) or as tab-separated lines with a header line (otherwise).</summary>
    public static void Table(IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string>> rows)
    {
        if (IsTerminal)
        {
            var table = new Table().Border(TableBorder.Rounded).AddColumns(columns.Select(Markup.Escape).ToArray());
            foreach (var row in rows)
            {
                table.AddRow(row.Select(Markup.Escape).ToArray());
            }

            AnsiConsole.Write(table);
            return;
        }

        Console.Out.WriteLine(string.Join('\t', columns));
        foreach (var row in rows)
        {
            // A cell never spans lines or columns on a pipe: newlines and tabs inside become "; " and a space.
            Console.Out.WriteLine(string.Join('\t', row.Select(cell => cell.ReplaceLineEndings("; ").Replace('\t', ' '))));
        }
    }

    /// <summary>An integer as text, invariant.</summary>
    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
