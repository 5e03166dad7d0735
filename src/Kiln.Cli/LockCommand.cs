using System.CommandLine;
using System.Diagnostics;
using Kiln.Engine.Diagnostics;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln lock --update [PROJECT]</c>: the explicit act of accepting new content under a locked version (and
/// re-resolving pinned package sets). It runs the project's build with KilnUpdateLock=true, so that the lock is
/// written by the same build that produced the digests it records.
/// </summary>
internal static class LockCommand
{
    public static Command Create()
    {
        var project = new Argument<string>("project") { Description = "The spec project (directory or .csproj).", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => "." };
        var update = new Option<bool>("--update") { Description = "Accept the content this build produces for every version, and re-resolve pinned inputs." };
        var configuration = new Option<string>("--configuration", "-c") { DefaultValueFactory = _ => "Release", Description = "The configuration whose images the lock records (KilnLockConfiguration; Release by default)." };
        var command = new Command("lock", "Update kiln.lock.json explicitly: 'kiln lock --update' accepts changed content under a version.") { project, update, configuration };
        command.SetAction(result => Edge.Run(() =>
        {
            if (!result.GetValue(update))
            {
                throw new KilnException(DiagnosticCodes.InvalidLockMode, "'kiln lock' changes the lock only when asked: run 'kiln lock --update' to accept the content this build produces under its versions. To see the lock, use 'kiln history NAME'.");
            }

            var start = new ProcessStartInfo("dotnet") { UseShellExecute = false };
            foreach (var argument in new[] { "build", result.GetValue(project)!, "-c", result.GetValue(configuration)!, "-p:KilnUpdateLock=true", "-p:KilnLockMode=Update", "-nologo" })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            process.WaitForExit();
            return process.ExitCode == 0 ? Edge.Ok : Edge.Failed;
        }));
        return command;
    }
}
