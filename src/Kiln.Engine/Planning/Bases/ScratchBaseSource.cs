using Kiln.Engine.Evaluation;
using Kiln.Oci;

namespace Kiln.Engine.Planning.Bases;

/// <summary><c>BaseImage.Scratch</c>: the empty base, the same on every platform.</summary>
internal sealed class ScratchBaseSource : IBaseSource
{
    public string Key(ResolvedServer server, Platform platform) => "scratch";

    public BasePlan Resolve(ResolvedServer server, Platform platform) => BasePlan.Scratch;
}
