using Xunit;

namespace Kiln.Integration.Tests.Infrastructure;

/// <summary>
/// External tools the tests use as independent judges. A missing tool skips the test loudly; under CI
/// (KILN_REQUIRE_TOOLS=1) it fails it instead, so that a missing install step cannot pass for green.
/// </summary>
internal static class Tools
{
    public static bool Required => Environment.GetEnvironmentVariable("KILN_REQUIRE_TOOLS") == "1";

    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin"])
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    /// <summary>The tool's path; skips (or, under KILN_REQUIRE_TOOLS=1, fails) when it is not installed.</summary>
    public static string Require(string name, string package)
    {
        var path = Find(name);
        if (path is not null)
        {
            return path;
        }

        var message = $"'{name}' is not installed (Debian package {package}); this test needs it as an independent check.";
        if (Required)
        {
            throw new Xunit.Sdk.XunitException(message + " KILN_REQUIRE_TOOLS=1, so this is a failure.");
        }

        Skip.If(true, "SKIPPED LOUDLY: " + message + " Install it: apt-get install -y " + package);
        return "";
    }
}
