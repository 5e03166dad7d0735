using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Xunit;

namespace Kiln.Tests.Shared;

/// <summary>
/// The one policy for tests that need a tool nobody here wrote (runc, skopeo, gpg, npm…): a missing tool skips the
/// test loudly, naming what to install; under CI (KILN_REQUIRE_TOOLS=1) it fails it instead, so that a missing
/// install step cannot pass for green. Linked into every test project that needs it.
/// </summary>
internal static class ToolPolicy
{
    public static bool Required => Environment.GetEnvironmentVariable("KILN_REQUIRE_TOOLS") == "1";

    /// <summary>The tool's path on PATH (and the sbin directories, where runc lives), or null.</summary>
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin"])
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);

    /// <summary>
    /// The path of <paramref name="name"/>; when it is not installed, skips the test loudly naming the package to
    /// install, or fails it under KILN_REQUIRE_TOOLS=1.
    /// </summary>
    /// <param name="package">The Debian package that provides the tool.</param>
    /// <param name="use">What the test needs the tool for, for the message.</param>
    public static string Require(string name, string package, string use = "this test needs it")
    {
        var path = Find(name);
        if (path is null)
        {
            Unavailable($"'{name}' is not installed (apt-get install -y {package}); {use}.");
        }

        return path;
    }

    /// <summary>
    /// The same policy for a test attribute, which decides at discovery (a <c>[Fact]</c>'s Skip): the loud skip reason
    /// when one of <paramref name="tools"/> is missing, or null when all are there or under KILN_REQUIRE_TOOLS=1 (the test
    /// then runs and fails on the missing tool).
    /// </summary>
    public static string? SkipReason(params string[] tools)
    {
        var missing = tools.Where(t => Find(t) is null).ToList();
        return missing.Count == 0 || Required
            ? null
            : $"SKIPPED LOUDLY: {string.Join(", ", missing)} not installed (set KILN_REQUIRE_TOOLS=1 to fail instead).";
    }

    /// <summary>Skips the test loudly with <paramref name="message"/>, or fails it under KILN_REQUIRE_TOOLS=1.</summary>
    [DoesNotReturn]
    public static void Unavailable(string message)
    {
        if (Required)
        {
            throw new Xunit.Sdk.XunitException(message + " KILN_REQUIRE_TOOLS=1, so this is a failure.");
        }

        Skip.If(true, "SKIPPED LOUDLY: " + message);
        throw new UnreachableException();
    }
}
