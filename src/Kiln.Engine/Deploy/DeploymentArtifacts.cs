using System.Collections.Immutable;
using System.Text;
using Kiln.Engine.Diagnostics;
using Kiln.Engine.Evaluation;
using Kiln.Engine.IO;
using Kiln.Shared;

namespace Kiln.Engine.Deploy;

/// <summary>
/// Writes <c>deploy/&lt;deployment&gt;/*.yaml</c> under the output directory: one file per Kubernetes object, so that
/// <c>kubectl apply -f deploy/&lt;deployment&gt;/</c> applies exactly this build. Files are replaced atomically, and files
/// (and deployment directories) this build no longer renders are removed so that nothing stale gets applied.
/// </summary>
internal static class DeploymentArtifacts
{
    public const string Directory = "deploy";

    /// <summary>Checks KilnRegistry and KilnRepositoryPrefix before anything is written, by the reference grammar every
    /// image reference Kiln reads or writes follows (src/Shared/Grammar.cs), so that a rendered reference always parses.</summary>
    public static void ValidateSettings(string? registry, string? repositoryPrefix)
    {
        if (!string.IsNullOrEmpty(registry) && !IsRegistry(registry.TrimEnd('/')))
        {
            throw new KilnException(DiagnosticCodes.InvalidRegistry, $"KilnRegistry '{registry}' is not a registry host (host[:port], no scheme, lower case), for example 'registry.example.com' or '127.0.0.1:5000'.");
        }

        if (!string.IsNullOrEmpty(repositoryPrefix) && !Grammar.IsRepositoryPath(repositoryPrefix.Trim('/')))
        {
            throw new KilnException(DiagnosticCodes.InvalidRegistry, $"KilnRepositoryPrefix '{repositoryPrefix}' is not a repository path (lower-case segments separated by '/'), for example 'acme/shop'.");
        }
    }

    /// <summary>host[:port] with an optional repository path, as a registry prefix appears in an image reference; the host
    /// in lower case, as it is written into every rendered reference.</summary>
    private static bool IsRegistry(string value)
    {
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        var host = slash < 0 ? value : value[..slash];
        return !host.Any(char.IsAsciiLetterUpper)
            && Grammar.IsRegistryHost(host)
            && (slash < 0 || Grammar.IsRepositoryPath(value[(slash + 1)..]));
    }

    /// <summary>Renders and writes every deployment; returns the files written, relative to <paramref name="output"/>.</summary>
    /// <param name="verificationKeyPem">The public key deployments' images must be signed with (KilnVerificationKey): also writes an admission policy per deployment.</param>
    public static ImmutableArray<string> Write(string output, ImmutableArray<ResolvedDeployment> deployments, IReadOnlyDictionary<string, DeployedImage> images, string? registry, string? repositoryPrefix, string? verificationKeyPem = null)
    {
        var root = Path.Combine(output, Directory);
        var written = ImmutableArray.CreateBuilder<string>();
        foreach (var deployment in deployments)
        {
            var documents = KubernetesRenderer.Render(deployment, images, registry, repositoryPrefix);
            if (verificationKeyPem is not null)
            {
                documents = documents.Add(AdmissionPolicy.Render(deployment, images, registry, repositoryPrefix, verificationKeyPem));
            }

            var directory = Path.Combine(root, deployment.Name);
            System.IO.Directory.CreateDirectory(directory);
            foreach (var document in documents)
            {
                AtomicFile.WriteIfChanged(Path.Combine(directory, document.FileName), Encoding.UTF8.GetBytes(document.Yaml));
                written.Add($"{Directory}/{deployment.Name}/{document.FileName}");
            }

            var keep = documents.Select(d => d.FileName).ToHashSet(StringComparer.Ordinal);
            foreach (var stale in System.IO.Directory.EnumerateFiles(directory).Where(f => !keep.Contains(Path.GetFileName(f))))
            {
                File.Delete(stale);
            }
        }

        if (System.IO.Directory.Exists(root))
        {
            var names = deployments.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var stale in System.IO.Directory.EnumerateDirectories(root).Where(d => !names.Contains(Path.GetFileName(d))))
            {
                System.IO.Directory.Delete(stale, recursive: true);
            }
        }

        return written.ToImmutable();
    }
}
