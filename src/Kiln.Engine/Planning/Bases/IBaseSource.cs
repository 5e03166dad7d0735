using Kiln.Engine.Evaluation;
using Kiln.Oci;

namespace Kiln.Engine.Planning.Bases;

/// <summary>
/// One kind of base image (scratch, OCI layout, archive, registry, Debian packages): finds or builds the base a server
/// names, for one platform. <see cref="BaseSources"/> maps a spec's <c>BaseImage</c> kind to its source.
/// </summary>
/// <remarks>
/// Every build is linux/amd64 today; the platform is a parameter so that a multi-platform build asks each base for
/// each of its platforms without changing this interface.
/// </remarks>
internal interface IBaseSource
{
    /// <summary>
    /// Identifies the base <paramref name="server"/> names on <paramref name="platform"/>: servers with the same key
    /// share one resolution within a plan.
    /// </summary>
    string Key(ResolvedServer server, Platform platform);

    /// <summary>The base of <paramref name="server"/> for <paramref name="platform"/>; throws a coded <see cref="Diagnostics.KilnException"/> for anything the user can fix.</summary>
    BasePlan Resolve(ResolvedServer server, Platform platform);
}
