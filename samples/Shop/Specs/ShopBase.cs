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

    /// <summary>
    /// The platforms every Shop server is built for: x64 and Arm nodes run side by side. Each platform gets its own
    /// Debian packages and its own self-contained publish (linux-x64, linux-arm64); the image index tagged
    /// <c>name:version</c> lets each node pull its own.
    /// </summary>
    public static ImmutableArray<Platform> Platforms { get; } = [Platform.LinuxAmd64, Platform.LinuxArm64];
}
