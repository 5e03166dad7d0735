using System.Collections.Immutable;
using Kiln.Engine.Diagnostics;

namespace Kiln.Engine.Planning;

/// <summary>
/// The directories layer sources may come from: the spec project's directory, plus the roots the user allowed with
/// KilnInputRoots (<c>kiln build --input-root</c>). A source is inside when its real path, every symlink resolved, is
/// under one of them, so that neither <c>../</c>, an absolute path nor a link can pull a host file into an image.
/// </summary>
internal sealed class InputRoots
{
    private static readonly StringComparison PathComparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    private InputRoots(ImmutableArray<string> declared, ImmutableArray<string> real)
    {
        Declared = declared;
        Real = real;
    }

    /// <summary>The roots as written (full paths, symlinks not resolved).</summary>
    public ImmutableArray<string> Declared { get; }

    /// <summary>The roots with every symlink resolved.</summary>
    public ImmutableArray<string> Real { get; }

    /// <summary>The project directory and every extra root, relative ones resolved against the project directory.</summary>
    /// <exception cref="KilnException">An extra root is not an existing directory.</exception>
    public static InputRoots Create(string projectDirectory, IEnumerable<string> extraRoots)
    {
        var project = Path.GetFullPath(projectDirectory);
        var declared = new List<string> { project };
        var diagnostics = new DiagnosticBag();
        foreach (var root in extraRoots.Where(r => !string.IsNullOrWhiteSpace(r)).Select(r => r.Trim()))
        {
            var full = Path.GetFullPath(Path.Combine(project, root));
            if (!Directory.Exists(full))
            {
                diagnostics.Error(DiagnosticCodes.InvalidInputRoot, $"KilnInputRoots names '{root}', which is not a directory (looked for '{full}'). Fix the path (a relative root is relative to the spec project's directory) or remove it.");
                continue;
            }

            declared.Add(full);
        }

        diagnostics.ThrowIfErrors();
        var real = declared.Select(d => RealPath.TryResolve(d, out _) ?? d);
        return new InputRoots([.. declared], [.. real]);
    }

    /// <summary>Whether <paramref name="realPath"/> (already resolved) is one of the roots or under one.</summary>
    public bool ContainsReal(string realPath) => Real.Any(root => IsUnder(realPath, root));

    /// <summary>Whether <paramref name="path"/>, taken as written, is one of the roots or under one.</summary>
    public bool ContainsDeclared(string path) => Declared.Any(root => IsUnder(path, root)) || ContainsReal(path);

    /// <summary>For messages: the roots a source may come from.</summary>
    public string Describe() => string.Join(", ", Declared.Select(r => $"'{r}'"));

    /// <summary>Whether <paramref name="path"/> is <paramref name="root"/> or below it (both full, normalised paths).</summary>
    public static bool IsUnder(string path, string root)
    {
        var trimmed = Path.TrimEndingDirectorySeparator(root); // leaves a bare root ("/") as it is
        if (path.Equals(trimmed, PathComparison))
        {
            return true;
        }

        var prefix = Path.EndsInDirectorySeparator(trimmed) ? trimmed : trimmed + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, PathComparison);
    }
}

/// <summary>Resolves every symlink of a path, as the kernel would, counting links so that a loop ends.</summary>
internal static class RealPath
{
    /// <summary>Linux's limit on links followed in one lookup (MAXSYMLINKS); more means a loop.</summary>
    private const int MaxLinks = 40;

    /// <summary>
    /// <paramref name="fullPath"/> with every symlink resolved; components from the first missing one on are kept as
    /// written. Null when following links did not end (a loop), with the link where it gave up in <paramref name="loopAt"/>.
    /// </summary>
    public static string? TryResolve(string fullPath, out string? loopAt)
    {
        loopAt = null;
        var root = Path.GetPathRoot(fullPath) ?? "";
        var pending = new Stack<string>(Split(fullPath[root.Length..]).Reverse());
        var current = root;
        var links = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            var next = Path.Combine(current, part);
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }

            if (++links > MaxLinks)
            {
                loopAt = next;
                return null;
            }

            foreach (var piece in Split(target).Reverse())
            {
                pending.Push(piece);
            }

            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target) ?? root;
            }
        }

        return current;
    }

    private static string[] Split(string path) => path.Split(['/', Path.DirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
}
