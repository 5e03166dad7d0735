using Kiln.Tests.Shared;

namespace Kiln.Integration.Tests.Infrastructure;

/// <summary>
/// External tools the tests use as independent judges. A missing tool skips the test loudly; under CI
/// (KILN_REQUIRE_TOOLS=1) it fails it instead, so that a missing install step cannot pass for green.
/// </summary>
internal static class Tools
{
    public static bool Required => ToolPolicy.Required;

    public static string? Find(string name) => ToolPolicy.Find(name);

    /// <summary>The tool's path; skips (or, under KILN_REQUIRE_TOOLS=1, fails) when it is not installed.</summary>
    public static string Require(string name, string package) => ToolPolicy.Require(name, package, "this test needs it as an independent check");
}
