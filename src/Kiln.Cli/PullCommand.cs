using System.CommandLine;
using Kiln.Engine;
using Kiln.Engine.Registry;

namespace Kiln.Cli;

/// <summary><c>kiln pull REFERENCE@DIGEST</c>: warms the shared cache with a base image (what a build would pull).</summary>
internal static class PullCommand
{
    public static Command Create()
    {
        var reference = new Argument<string>("reference") { Description = "registry/repository[:tag]@sha256:…" };
        var cache = new Option<string?>("--cache-dir") { Description = "The shared cache (default: KILN_CACHE, else ~/.cache/kiln)." };
        var insecure = new Option<string[]>("--insecure-registry") { Description = "A registry that may be reached over plain HTTP (loopback always may)." };
        var key = new Option<string?>("--key") { Description = "PEM public key: also require Kiln provenance signed with it (as KilnBaseVerificationKey does for builds)." };
        var command = new Command("pull", "Pull a base image pinned by digest into Kiln's shared cache, verifying every blob.") { reference, cache, insecure, key };
        command.SetAction(result => Edge.Run(() =>
        {
            var directory = result.GetValue(cache) is { Length: > 0 } c ? c : EngineCommand.DefaultCacheDirectory();
            var manifest = KilnEngine.Pull(result.GetValue(reference)!, Path.GetFullPath(directory), RegistryEdge.Settings(result.GetValue(insecure)), TransferLog.Lines(line => Console.Out.WriteLine($"kiln: {line}")), result.GetValue(key) is { Length: > 0 } k ? Path.GetFullPath(k) : null);
            Console.Out.WriteLine($"kiln: {result.GetValue(reference)} -> {manifest.Digest} in the cache {directory}{(result.GetValue(key) is { Length: > 0 } ? ", provenance verified with the key" : "")}");
            return Edge.Ok;
        }));
        return command;
    }
}
