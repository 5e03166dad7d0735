namespace Kiln.Integration.Tests.Infrastructure;

/// <summary>
/// The environment of a build or CLI run that talks to a registry: its own download cache and Docker config under the
/// test's directory, and no registry credentials from the machine, so that nothing of the machine's leaks in.
/// </summary>
internal static class IsolatedEnvironment
{
    /// <summary>KILN_CACHE = <paramref name="directory"/>/cache, DOCKER_CONFIG = <paramref name="directory"/>/docker,
    /// no KILN_REGISTRY_USERNAME/PASSWORD, and KILN_SIGNING_KEY = <paramref name="signingKey"/> (unset when null).</summary>
    public static Dictionary<string, string?> For(string directory, string? signingKey = null) => new()
    {
        ["KILN_SIGNING_KEY"] = signingKey,
        ["KILN_CACHE"] = Path.Combine(directory, "cache"),
        ["DOCKER_CONFIG"] = Path.Combine(directory, "docker"),
        ["KILN_REGISTRY_USERNAME"] = null,
        ["KILN_REGISTRY_PASSWORD"] = null,
    };
}
