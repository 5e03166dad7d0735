using System.Collections.Immutable;
using Kiln.Spec;

namespace Shop.Specs;

/// <summary>
/// The base every Shop server runs on: Debian bookworm packages, just what a self-contained .NET app needs (the C and
/// C++ runtimes, zlib, CA certificates), no shell and no package manager. kiln.lock.json pins the exact versions.
/// </summary>
internal static class ShopBase
{
    public static BaseImage Runtime { get; } =
        BaseImage.Debian("bookworm", ["libc6", "libgcc-s1", "libstdc++6", "zlib1g", "ca-certificates"]);

    /// <summary>The runtime a server is published for: self-contained, so that the base needs no .NET packages.</summary>
    public const string RuntimeIdentifier = "linux-x64";
}
