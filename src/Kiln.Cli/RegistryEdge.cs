using System.Collections.Immutable;
using Kiln.Engine.Registry;
using Kiln.Oci.Registry;

namespace Kiln.Cli;

/// <summary>
/// Where registry access comes from at the edge: DOCKER_CONFIG (else ~/.docker)/config.json, KILN_REGISTRY_USERNAME /
/// KILN_REGISTRY_PASSWORD (optionally only for KILN_REGISTRY_HOST), KILN_REGISTRY_CA_FILE, and insecure registries
/// from options or KILN_INSECURE_REGISTRIES. The engine is handed the result and never reads the environment.
/// </summary>
internal static class RegistryEdge
{
    public static RegistrySettings Settings(IEnumerable<string>? insecure)
    {
        var dockerDirectory = Environment.GetEnvironmentVariable("DOCKER_CONFIG") is { Length: > 0 } d
            ? d
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker");
        var user = Environment.GetEnvironmentVariable("KILN_REGISTRY_USERNAME");
        var password = Environment.GetEnvironmentVariable("KILN_REGISTRY_PASSWORD");
        var list = (insecure ?? [])
            .Concat((Environment.GetEnvironmentVariable("KILN_INSECURE_REGISTRIES") ?? "").Split([';', ',', ' '], StringSplitOptions.RemoveEmptyEntries))
            .SelectMany(s => s.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Distinct(StringComparer.OrdinalIgnoreCase);
        return new RegistrySettings
        {
            DockerConfigPath = DockerConfigCredentials.PathIn(dockerDirectory),
            EnvironmentCredential = !string.IsNullOrEmpty(user) && !string.IsNullOrEmpty(password) ? new RegistryCredential(user, password) : null,
            EnvironmentCredentialRegistry = Environment.GetEnvironmentVariable("KILN_REGISTRY_HOST") is { Length: > 0 } host ? host : null,
            CaCertificateFile = Environment.GetEnvironmentVariable("KILN_REGISTRY_CA_FILE") is { Length: > 0 } ca ? ca : null,
            InsecureRegistries = [.. list],
        };
    }
}
