using System.Collections.Immutable;

namespace Kiln.Spec;

/// <summary>The program a container starts, in exec form: a path and its arguments, no shell in between.</summary>
public sealed record Entrypoint
{
    /// <summary>An exec-form entrypoint: <c>new("/app/Shop.Api", "--urls", "http://+:8080")</c>.</summary>
    public Entrypoint(string program, params string[] arguments)
    {
        Program = program;
        Arguments = [.. arguments];
    }

    /// <summary>The absolute path of the program.</summary>
    public string Program { get; }

    /// <summary>The fixed arguments.</summary>
    public ImmutableArray<string> Arguments { get; }

    /// <summary>A shell-form command run through <c>/bin/sh -c</c>. Prefer exec form: signals reach the server, and no shell is needed in the image.</summary>
    public static Entrypoint Shell(string command) => new("/bin/sh", "-c", command);

    /// <summary>The full argument vector.</summary>
    public ImmutableArray<string> ToArgv() => [Program, .. Arguments];
}
