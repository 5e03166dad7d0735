namespace Kiln.Oci.IO;

/// <summary>
/// Writes files so that a reader (or a crash) sees either the old content or the new, never half of it: the content
/// goes to a temp file beside the target (or where the caller says, on the same file system), is flushed to disk,
/// and only then renamed over the target. A failure deletes the temp file and leaves the target as it was.
/// </summary>
public static class AtomicFile
{
    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/>.</summary>
    /// <param name="tempPath">Where to write first (same file system as the target); by default beside it.</param>
    public static void Write(string path, ReadOnlySpan<byte> content, string? tempPath = null)
    {
        var temp = Prepare(path, tempPath);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
                Commit(stream, path);
            }
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="content"/> unless it is a regular file holding exactly
    /// those bytes already: a rebuild that changes nothing in an artifact then neither syncs nor renames it (nor moves
    /// its time). A link in its place is always replaced by a file.
    /// </summary>
    /// <returns>Whether the file was written.</returns>
    public static bool WriteIfChanged(string path, ReadOnlySpan<byte> content)
    {
        try
        {
            var existing = new FileInfo(path);
            if (existing.Exists && existing.LinkTarget is null && existing.Length == content.Length && File.ReadAllBytes(path).AsSpan().SequenceEqual(content))
            {
                return false;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Unreadable: written anew, which reports what is wrong if that fails too.
        }

        Write(path, content);
        return true;
    }

    /// <summary>Replaces <paramref name="path"/> with what <paramref name="write"/> writes; if it throws, nothing is replaced.</summary>
    /// <param name="tempPath">Where to write first (same file system as the target); by default beside it.</param>
    public static void Write(string path, Action<Stream> write, string? tempPath = null)
    {
        ArgumentNullException.ThrowIfNull(write);
        var temp = Prepare(path, tempPath);
        try
        {
            using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 256 * 1024);
            write(stream);
            Commit(stream, path);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>
    /// Flushes a written temp file to disk, closes it, and renames it to <paramref name="path"/> (replacing it): the
    /// flush comes first so that a crash after the rename cannot leave a named file with missing content.
    /// </summary>
    public static void Commit(FileStream temp, string path)
    {
        ArgumentNullException.ThrowIfNull(temp);
        temp.Flush(flushToDisk: true);
        var name = temp.Name;
        temp.Dispose();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.Move(name, path, overwrite: true);
    }

    /// <summary>Flushes a written temp file to disk and closes it, for a caller that renames it later (after checks).</summary>
    public static void Seal(FileStream temp)
    {
        ArgumentNullException.ThrowIfNull(temp);
        temp.Flush(flushToDisk: true);
        temp.Dispose();
    }

    private static string Prepare(string path, string? tempPath)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        return tempPath ?? $"{full}.tmp-{Guid.NewGuid():N}";
    }
}
