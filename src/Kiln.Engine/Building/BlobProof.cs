using Kiln.Oci;

namespace Kiln.Engine.Building;

/// <summary>
/// Decides whether a blob already in a layout may be reused: only when its digest is proven, either because the
/// file is unchanged since Kiln wrote (or last hashed) it, by its <see cref="BlobStamp"/>, or because it hashes
/// to its digest again.
/// </summary>
internal static class BlobProof
{
    /// <summary>The blob's current stamp when it is proven; null when it is missing or corrupt (then rewrite it).</summary>
    /// <param name="recorded">The stamp recorded when the blob was written or last verified, if any.</param>
    /// <param name="corrupt">True when the blob exists but its content is not what its digest says.</param>
    public static BlobStamp? Prove(OciLayout layout, Descriptor blob, string? recorded, out bool corrupt)
    {
        corrupt = false;
        var current = layout.StampOf(blob.Digest);
        if (current is null)
        {
            return null;
        }

        if (current.Value.Size == blob.Size && BlobStamp.Parse(recorded) == current && current.Value.Inode != 0)
        {
            return current;
        }

        if (layout.VerifyBlob(blob.Digest, blob.Size))
        {
            return layout.StampOf(blob.Digest);
        }

        corrupt = true;
        return null;
    }
}
