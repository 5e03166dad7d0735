using System.Collections.Immutable;

namespace Kiln.Engine.Diagnostics;

/// <summary>Where in the user's source a problem is.</summary>
/// <param name="File">The absolute path of the source file.</param>
/// <param name="Line">The 1-based line, or 0 when unknown.</param>
public sealed record SourceLocation(string File, int Line);

/// <summary>One coded problem: what is wrong, where, and what to do.</summary>
public sealed record KilnDiagnostic(string Code, string Message, SourceLocation? Location = null, bool IsWarning = false)
{
    /// <summary>The canonical MSBuild form (<c>file(line): error KILN2004: …</c>) that IDEs and MSBuild's loggers parse.</summary>
    public string ToCanonicalString()
    {
        var origin = Location is null ? "kiln" : Location.Line > 0 ? $"{Location.File}({Location.Line})" : Location.File;
        return $"{origin} : {(IsWarning ? "warning" : "error")} {Code}: {Message}";
    }
}

/// <summary>
/// A problem the user can fix, carrying one or more coded diagnostics. The edges (MSBuild task, CLI) turn it into coded
/// messages; nothing else catches it.
/// </summary>
public sealed class KilnException : Exception
{
    public KilnException(string code, string message, SourceLocation? location = null, Exception? inner = null)
        : base($"{code}: {message}", inner) => Diagnostics = [new KilnDiagnostic(code, message, location)];

    public KilnException(IEnumerable<KilnDiagnostic> diagnostics)
        : base(string.Join(Environment.NewLine, diagnostics.Select(d => $"{d.Code}: {d.Message}"))) => Diagnostics = [.. diagnostics];

    /// <summary>Every problem found; validation reports them all at once rather than the first.</summary>
    public ImmutableArray<KilnDiagnostic> Diagnostics { get; }
}

/// <summary>Collects problems while validating so that all of them are reported together.</summary>
internal sealed class DiagnosticBag
{
    private readonly List<KilnDiagnostic> _items = [];

    public bool HasErrors => _items.Any(d => !d.IsWarning);

    public IReadOnlyList<KilnDiagnostic> Items => _items;

    public void Error(string code, string message, SourceLocation? location = null) => _items.Add(new(code, message, location));

    public void Warning(string code, string message, SourceLocation? location = null) => _items.Add(new(code, message, location, IsWarning: true));

    public void AddRange(IEnumerable<KilnDiagnostic> diagnostics) => _items.AddRange(diagnostics);

    /// <summary>Throws every error collected so far, if any.</summary>
    public void ThrowIfErrors()
    {
        if (HasErrors)
        {
            throw new KilnException(_items.Where(d => !d.IsWarning));
        }
    }
}
