using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Kiln.Build.Tasks;

/// <summary>
/// The spec project's fast up-to-date check, before its <c>Build</c>: when nothing its compile and its copy to the
/// output directory read has changed since its last successful build, and its outputs are as that build left them,
/// the targets sets <c>CoreBuildDependsOn</c> to almost nothing, so that an unchanged spec project costs a few
/// milliseconds instead of the ~140 targets of an up-to-date SDK build.
/// </summary>
/// <remarks>
/// What is compared (a record of the last build, <see cref="SpecUpToDateRecord"/>):
/// <list type="bullet">
/// <item>every global property, every environment variable (except the few below that the .NET CLI and the shell
/// change from run to run), and the listed properties the compile reads (each by name and a hash of its value);</item>
/// <item>each input file's length and last-write time, compared for equality, not for "newer than": the project file,
/// the newest of its imports (MSBuild puts it in <c>MSBuildAllProjects</c>), sources, resources, additional and
/// analyzer config files, references by path, the assets file, files copied to the output, and the
/// <c>.editorconfig</c> files the compiler would look for above each source; an added or removed file changes the
/// list;</item>
/// <item>each file the last build wrote (<c>FileWrites</c>): unchanged and present.</item>
/// </list>
/// Anything else (no record, a record another version of Kiln wrote, an unreadable record) means "not up to date".
/// The record is removed before a build that is not skipped and written again only after its <c>CoreBuild</c>
/// succeeded, so a failed or killed build leaves none. A file changed within the file system's time stamp resolution
/// before the check is not recorded as seen (the next build compiles again): an edit in the same clock tick would
/// otherwise be missed.
/// </remarks>
public sealed class CheckKilnSpecUpToDate : Task
{
    /// <summary>The record of the last successful build (<c>obj/…/&lt;project&gt;.kiln-uptodate</c>).</summary>
    [Required]
    public string StateFile { get; set; } = "";

    /// <summary>The files the build reads.</summary>
    public ITaskItem[] Inputs { get; set; } = [];

    /// <summary>The source files: the compiler reads the <c>.editorconfig</c> files in their directories and above.</summary>
    public ITaskItem[] Sources { get; set; } = [];

    /// <summary>Properties the compile reads, one <c>NAME=VALUE</c> line each.</summary>
    public string PropertyLines { get; set; } = "";

    /// <summary>More properties the compile reads, each with its value in the metadata <c>Value</c>.</summary>
    public ITaskItem[] Properties { get; set; } = [];

    /// <summary>True: the last build's outputs stand; the project's compile targets need not run.</summary>
    [Output]
    public bool UpToDate { get; set; }

    /// <inheritdoc />
    public override bool Execute()
    {
        try
        {
            var snapshot = SpecUpToDateRecord.Take(PropertyValues(), GlobalProperties(), Inputs, Sources);
            var reason = SpecUpToDateRecord.Compare(StateFile, snapshot);
            UpToDate = reason is null;
            if (UpToDate)
            {
                Log.LogMessage(MessageImportance.Normal, "Kiln: the spec project is up to date (nothing its compile reads changed since its last build); not running its compile targets. KilnSpecUpToDateCheck=false turns this check off.");
                return true;
            }

            Log.LogMessage(MessageImportance.Normal, "Kiln: building the spec project: {0}.", reason);
            SpecUpToDateRecord.Forget(StateFile);
            if (snapshot.RecentlyChanged is { } recent)
            {
                Log.LogMessage(MessageImportance.Normal, "Kiln: '{0}' changed too recently to tell a later change from it by its time stamp; the next build compiles the spec project again.", recent);
            }
            else
            {
                SpecUpToDateRecord.WritePending(StateFile, snapshot);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Any failure here (an unreadable file, a path the platform refuses) only costs the skip: the project
            // builds as usual, slower, never wrong.
            UpToDate = false;
            Log.LogMessage(MessageImportance.Normal, "Kiln: could not check whether the spec project is up to date ({0}); building it.", e.Message);
            SpecUpToDateRecord.Forget(StateFile);
        }

        return true;
    }

    private IEnumerable<KeyValuePair<string, string>> PropertyValues()
    {
        foreach (var line in PropertyLines.Split(['\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            var text = line.Trim();
            var equals = text.IndexOf('=');
            if (equals > 0)
            {
                yield return new(text.Substring(0, equals), text.Substring(equals + 1));
            }
        }

        foreach (var property in Properties)
        {
            yield return new(property.ItemSpec, property.GetMetadata("Value"));
        }
    }

    private IEnumerable<KeyValuePair<string, string>> GlobalProperties() =>
        BuildEngine is IBuildEngine6 engine ? engine.GetGlobalProperties() : [];
}

/// <summary>
/// Completes the record <see cref="CheckKilnSpecUpToDate"/> started, at the end of a successful <c>CoreBuild</c>: the
/// files the build wrote, as they are now.
/// </summary>
public sealed class RecordKilnSpecUpToDate : Task
{
    /// <summary>The record's path, as given to <see cref="CheckKilnSpecUpToDate"/>.</summary>
    [Required]
    public string StateFile { get; set; } = "";

    /// <summary>The files the build wrote (<c>FileWrites</c>); those that exist are recorded.</summary>
    public ITaskItem[] Outputs { get; set; } = [];

    /// <inheritdoc />
    public override bool Execute()
    {
        try
        {
            SpecUpToDateRecord.Complete(StateFile, Outputs.Select(o => o.GetMetadata("FullPath")));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.LogMessage(MessageImportance.Normal, "Kiln: could not record the spec project's build ({0}); its next build compiles it again.", e.Message);
            SpecUpToDateRecord.Forget(StateFile);
        }

        return true;
    }
}

/// <summary>
/// The record behind <see cref="CheckKilnSpecUpToDate"/>: one line per fact, compared line by line. Values are stored
/// as hashes (an environment variable may hold a secret); names and paths in clear, so that a difference can be named.
/// </summary>
internal static class SpecUpToDateRecord
{
    private const string Header = "kiln-spec-uptodate 1";

    /// <summary>Set by the .NET CLI or the shell for each run, and read by nothing a compile depends on.</summary>
    private static readonly HashSet<string> VolatileEnvironment = new(StringComparer.Ordinal) { "_", "OLDPWD", "_MSBUILDTLENABLED" };

    private static readonly StringComparer PathComparer =
        Path.DirectorySeparatorChar == '\\' ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

    internal sealed class Snapshot(List<string> lines, string? recentlyChanged)
    {
        public List<string> Lines { get; } = lines;

        /// <summary>An input whose time stamp is too close to now to rely on, if any.</summary>
        public string? RecentlyChanged { get; } = recentlyChanged;
    }

    public static Snapshot Take(IEnumerable<KeyValuePair<string, string>> properties, IEnumerable<KeyValuePair<string, string>> globals, ITaskItem[] inputs, ITaskItem[] sources)
    {
        // Causes before effects: a changed environment variable is named, not the property it changed.
        var lines = new List<string> { Header };
        foreach (var global in globals.OrderBy(g => g.Key, StringComparer.OrdinalIgnoreCase))
        {
            lines.Add("global " + global.Key + " " + Hash(global.Value));
        }

        var environment = Environment.GetEnvironmentVariables();
        foreach (var name in environment.Keys.Cast<string>().Where(n => !VolatileEnvironment.Contains(n)).OrderBy(n => n, StringComparer.Ordinal))
        {
            lines.Add("environment " + name + " " + Hash(environment[name] as string ?? ""));
        }

        foreach (var property in properties)
        {
            // Off Windows, MSBuild turns a path's backslashes into slashes only once the path exists (bin\ before
            // the first build, bin/ after it): the same value to the build, so one spelling here.
            var value = property.Value;
            lines.Add("property " + property.Key + " " + Hash(Path.DirectorySeparatorChar == '/' ? value.Replace('\\', '/') : value));
        }

        var files = new SortedSet<string>(PathComparer);
        foreach (var input in inputs)
        {
            if (input.ItemSpec.Length > 0)
            {
                files.Add(input.GetMetadata("FullPath"));
            }
        }

        // The compiler reads every .editorconfig from a source's directory up to the root (or one with root = true):
        // one created or edited there changes diagnostics, so each place counts, found or not.
        var directories = new HashSet<string>(PathComparer);
        foreach (var source in sources)
        {
            for (var directory = Path.GetDirectoryName(source.GetMetadata("FullPath")); !string.IsNullOrEmpty(directory) && directories.Add(directory); directory = Path.GetDirectoryName(directory))
            {
                files.Add(Path.Combine(directory, ".editorconfig"));
            }
        }

        var now = DateTime.UtcNow;
        string? recent = null;
        foreach (var file in files)
        {
            var info = new FileInfo(file);
            if (!info.Exists)
            {
                lines.Add("input - - " + file);
                continue;
            }

            var written = info.LastWriteTimeUtc;
            lines.Add("input " + info.Length + " " + written.Ticks + " " + file);
            // A file written again later could keep the same time only within the time stamps' resolution. A time with
            // no fraction of a second comes from a file system that keeps whole seconds (or two, FAT). Finer ones (ext4,
            // XFS, btrfs, APFS, NTFS) stamp files with the kernel's coarse clock, one tick behind at most (10 ms at the
            // slowest Linux tick rate), so two ticks apart is later for certain. The window must stay short: restore
            // writes the project's nuget.g.* imports some 0.1 s before this check, and a file too recent to record
            // costs the next build its skip.
            var resolution = written.Ticks % TimeSpan.TicksPerSecond == 0 ? TimeSpan.FromSeconds(2) : TimeSpan.FromMilliseconds(20);
            if (recent is null && written > now - resolution)
            {
                recent = file;
            }
        }

        return new Snapshot(lines, recent);
    }

    /// <summary>Null when the record matches the snapshot and the recorded outputs are unchanged; otherwise why not.</summary>
    public static string? Compare(string stateFile, Snapshot snapshot)
    {
        if (!File.Exists(stateFile))
        {
            return "no record of an earlier build of it";
        }

        var recorded = File.ReadAllLines(stateFile);
        if (recorded.Length == 0 || recorded[0] != Header)
        {
            return "its record was written by another version of Kiln";
        }

        var facts = recorded.TakeWhile(l => !l.StartsWith("output ", StringComparison.Ordinal)).ToList();
        var outputs = recorded.Skip(facts.Count).ToList();
        if (outputs.Count == 0)
        {
            return "its record names no output";
        }

        if (!facts.SequenceEqual(snapshot.Lines, StringComparer.Ordinal))
        {
            return Difference(facts, snapshot.Lines);
        }

        foreach (var line in outputs)
        {
            var path = PathOf(line);
            if (path is null || line != OutputLine(path))
            {
                return "'" + (path ?? line) + "', written by its last build, changed or is gone";
            }
        }

        return null;
    }

    public static void WritePending(string stateFile, Snapshot snapshot)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(stateFile))!);
        File.WriteAllLines(stateFile + ".pending", snapshot.Lines);
    }

    public static void Complete(string stateFile, IEnumerable<string> outputs)
    {
        var pending = stateFile + ".pending";
        if (!File.Exists(pending))
        {
            return;
        }

        var lines = File.ReadAllLines(pending).ToList();
        var written = new SortedSet<string>(outputs.Where(o => o.Length > 0 && File.Exists(o)), PathComparer);
        if (written.Count == 0)
        {
            Forget(stateFile);
            return;
        }

        lines.AddRange(written.Select(OutputLine));
        var temporary = stateFile + ".tmp";
        File.WriteAllLines(temporary, lines);
        File.Delete(stateFile);
        File.Move(temporary, stateFile);
        File.Delete(pending);
    }

    public static void Forget(string stateFile)
    {
        try
        {
            File.Delete(stateFile);
            File.Delete(stateFile + ".pending");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A record left behind still lists the outputs of its build with their times: it matches only inputs and
            // outputs that are exactly as that build left them, which is what it says.
        }
    }

    private static string OutputLine(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? "output " + info.Length + " " + info.LastWriteTimeUtc.Ticks + " " + path : "output - - " + path;
    }

    /// <summary>The path of an <c>input</c> or <c>output</c> line (after its length and time).</summary>
    private static string? PathOf(string line)
    {
        var parts = line.Split([' '], 4);
        return parts.Length == 4 ? parts[3] : null;
    }

    private static string Difference(List<string> recorded, List<string> now)
    {
        static string Kind(string line) => line.Substring(0, line.IndexOf(' '));
        static string Key(string line) => Kind(line) == "input" ? "input " + PathOf(line) : line.Substring(0, line.LastIndexOf(' '));
        var before = recorded.Skip(1).GroupBy(Key).ToDictionary(g => g.Key, g => g.First());
        var after = now.Skip(1).GroupBy(Key).ToDictionary(g => g.Key, g => g.First());
        // Kind by kind, in the order of the record, so that the first difference named is the cause.
        foreach (var kind in now.Skip(1).Concat(recorded.Skip(1)).Select(Kind).Distinct())
        {
            foreach (var line in now.Skip(1).Where(l => Kind(l) == kind))
            {
                var key = Key(line);
                if (!before.TryGetValue(key, out var old))
                {
                    return Describe(key) + " is new";
                }

                if (old != line)
                {
                    return Describe(key) + " changed";
                }
            }

            var gone = before.Keys.FirstOrDefault(k => k.StartsWith(kind + " ", StringComparison.Ordinal) && !after.ContainsKey(k));
            if (gone is not null)
            {
                return Describe(gone) + " is gone";
            }
        }

        return "its record lists other facts";
    }

    private static string Describe(string key)
    {
        var space = key.IndexOf(' ');
        var kind = key.Substring(0, space);
        var name = key.Substring(space + 1);
        return kind switch
        {
            "property" => "the property " + name,
            "global" => "the global property " + name,
            "environment" => "the environment variable " + name,
            _ => "'" + name + "'",
        };
    }

    /// <summary>
    /// FNV-1a, 64 bits, of the value's UTF-16 code units: enough to tell a changed value (this is no defence against
    /// someone who can write obj/), cheap, and it needs no cryptography provider (loading one costs a build some 30 ms).
    /// </summary>
    internal static string Hash(string value)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in value)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }
}
