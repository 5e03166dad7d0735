using System.Globalization;
using Kiln.Engine.Diagnostics;

namespace Kiln.Engine.IO;

/// <summary>
/// An inter-process lock on one artifact directory (<c>KilnOutputPath</c>): image builds and pushes of the same
/// directory run one after the other, whichever process (MSBuild node, <c>dotnet msbuild</c>, CI job) starts them.
/// </summary>
/// <remarks>
/// The lock is <c>.kiln-build.lock</c> in the directory, opened with <see cref="FileShare.None"/>: an OS lock (flock on
/// Unix, a share mode on Windows) that the OS releases when the holder exits, so a killed build never leaves a stale
/// lock. The file itself stays: deleting it on release would let a waiter that already opened the old file and a
/// newcomer that creates a new one both believe they hold the lock. The holder's process id goes to a second file,
/// <c>.kiln-build.owner</c>, because waiters cannot read a file held with <see cref="FileShare.None"/>; it only feeds
/// the waiting message.
/// </remarks>
public sealed class OutputDirectoryLock : IDisposable
{
    /// <summary>The lock file's name in the locked directory.</summary>
    public const string LockFileName = ".kiln-build.lock";

    /// <summary>The name of the file that says which process holds the lock.</summary>
    public const string OwnerFileName = ".kiln-build.owner";

    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(100);

    private readonly FileStream _file;

    private OutputDirectoryLock(FileStream file) => _file = file;

    /// <summary>
    /// Takes the lock on <paramref name="directory"/> (created if missing), waiting at most <paramref name="timeout"/>
    /// for another process to release it. <paramref name="log"/> hears once that the build waits, and for whom.
    /// </summary>
    /// <param name="directory">The artifact directory.</param>
    /// <param name="timeout">How long to wait for another holder.</param>
    /// <param name="processId">This process's id, recorded for the next waiter.</param>
    /// <param name="time">The clock the bounded wait is measured with.</param>
    /// <param name="log">Where the waiting message goes.</param>
    /// <exception cref="KilnException">KILN3060: the wait exceeded <paramref name="timeout"/>.</exception>
    /// <exception cref="IOException">The directory or lock file cannot be created.</exception>
    public static OutputDirectoryLock Acquire(string directory, TimeSpan timeout, int processId, TimeProvider time, Action<string>? log)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(time);
        Directory.CreateDirectory(directory);
        var lockPath = Path.Combine(directory, LockFileName);
        var ownerPath = Path.Combine(directory, OwnerFileName);
        var started = time.GetTimestamp();
        var waiting = false;
        while (true)
        {
            if (TryOpen(lockPath) is { } file)
            {
                // Best effort: the id only names the holder in another build's waiting message.
                AtomicFile.Write(ownerPath, System.Text.Encoding.UTF8.GetBytes(processId.ToString(CultureInfo.InvariantCulture) + "\n"));
                return new OutputDirectoryLock(file);
            }

            var owner = ReadOwner(ownerPath);
            if (!waiting)
            {
                waiting = true;
                log?.Invoke($"waiting for another Kiln build of {directory}{(owner is null ? "" : $" (pid {owner})")} to finish (at most {timeout.TotalSeconds:0} s)");
            }

            if (time.GetElapsedTime(started) >= timeout)
            {
                throw new KilnException(
                    DiagnosticCodes.BuildLockTimedOut,
                    $"Another Kiln build{(owner is null ? "" : $" (pid {owner})")} has held '{lockPath}' for more than {timeout.TotalSeconds:0} s, so this build did not start. Wait for it to finish (or stop it), then build again; if builds of this directory legitimately take longer, raise KilnBuildLockTimeout (seconds).");
            }

            WaitFor(time, RetryInterval);
        }
    }

    /// <summary>Releases the lock (the OS also does when the process exits).</summary>
    public void Dispose() => _file.Dispose();

    private static FileStream? TryOpen(string path)
    {
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Held by another process (a sharing violation); any other I/O problem fails the same way again below.
            return null;
        }
    }

    private static string? ReadOwner(string path)
    {
        try
        {
            var text = File.ReadAllText(path).Trim();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? text : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void WaitFor(TimeProvider time, TimeSpan delay)
    {
        using var wake = new ManualResetEventSlim();
        using var timer = time.CreateTimer(_ => wake.Set(), null, delay, Timeout.InfiniteTimeSpan);
        wake.Wait();
    }
}
