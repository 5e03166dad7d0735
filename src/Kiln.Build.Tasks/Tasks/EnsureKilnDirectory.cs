using System;
using System.IO;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Kiln.Build.Tasks;

/// <summary>
/// Creates a directory Kiln writes its state into and proves that a file can be written there, so that a read-only
/// <c>obj/…/kiln</c> is one coded error naming the directory and the property, not a failure of whichever MSBuild task
/// happens to write first.
/// </summary>
public sealed class EnsureKilnDirectory : Task
{
    /// <summary>The directory (KilnIntermediatePath).</summary>
    [Required]
    public string Directory { get; set; } = "";

    /// <summary>The MSBuild property that names it, for the message.</summary>
    public string PropertyName { get; set; } = "KilnIntermediatePath";

    /// <inheritdoc />
    public override bool Execute()
    {
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            var probe = Path.Combine(Directory, ".kiln-write-probe-" + Guid.NewGuid().ToString("N"));
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            Log.LogError(null, "KILN3030", null, null, 0, 0, 0, 0,
                "Kiln cannot write to its intermediate directory '{0}' ({1}): {2} Make the directory writable (permissions, a read-only mount, an immutable attribute), or set {1} to a writable directory.",
                Directory, PropertyName, e.Message);
            return false;
        }
    }
}
