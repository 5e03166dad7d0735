using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Registry;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln pull REFERENCE@DIGEST</c>: warms the shared cache with a base image (what a build would pull). A cached
/// image is still confirmed with the registry, unless <c>--offline</c> asks for the cache alone.
/// </summary>
internal static class PullCommand
{
    public static Command Create()
    {
        var reference = new Argument<string>("reference") { Description = "registry/repository[:tag]@sha256:…" };
        var cache = new Option<string?>("--cache-dir") { Description = "The shared cache (default: KILN_CACHE, else ~/.cache/kiln)." };
        var insecure = new Option<string[]>("--insecure-registry") { Description = "A registry that may be reached over plain HTTP (loopback always may)." };
        var key = new Option<string?>("--key") { Description = "PEM public key: also require Kiln provenance signed with it (as KilnBaseVerificationKey does for builds)." };
        var offline = new Option<bool>("--offline") { Description = "Ask no registry: succeed only when the image is already complete in the cache." };
        var platform = PlatformEdge.Option();
        var json = new Option<bool>("--json") { Description = "Print the pulled image as JSON." };
        var command = new Command("pull", "Pull a base image pinned by digest into Kiln's shared cache, verifying every blob.") { reference, cache, insecure, key, offline, platform, json };
        command.SetAction(result => Edge.Run(() =>
        {
            var directory = Path.GetFullPath(result.GetValue(cache) is { Length: > 0 } c ? c : EngineCommand.DefaultCacheDirectory());
            var verificationKey = result.GetValue(key) is { Length: > 0 } k ? Path.GetFullPath(k) : null;
            var chosen = PlatformEdge.Parse(result.GetValue(platform));
            var manifest = KilnEngine.Pull(result.GetValue(reference)!, directory, RegistryEdge.Settings(result.GetValue(insecure)), TransferLog.Lines(Edge.Status), result.GetValue(offline), verificationKey, chosen);
            if (result.GetValue(json))
            {
                CliJson.Write(new PullOutput(result.GetValue(reference)!, manifest.Digest.ToString(), manifest.MediaType, manifest.Size, directory, verificationKey is not null) { Platform = chosen.ToString() });
            }
            else
            {
                CliOutput.Line($"{result.GetValue(reference)}\t{manifest.Digest}");
                Edge.Status($"{chosen} image in the cache {directory}{(verificationKey is not null ? ", provenance verified with the key" : "")}");
            }

            return Edge.Ok;
        }));
        return command;
    }

    /// <summary>The --json shape of <c>kiln pull</c>: the platform's image manifest now in the cache.</summary>
    internal sealed record PullOutput(string Reference, string Digest, string MediaType, long Size, string Cache, bool ProvenanceVerified)
    {
        /// <summary>The platform whose image was pulled (os/architecture[/variant]).</summary>
        public string Platform { get; init; } = "linux/amd64";
    }
}
