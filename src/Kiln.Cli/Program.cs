using System.CommandLine;
using Kiln.Cli;
using Kiln.Engine.Diagnostics;

// The engine server (started by Kiln's MSBuild tasks, see EngineServer) runs the engine verb for many builds in one
// process; every other command line is one run of the CLI.
if (args is [EngineServer.Verb, ..])
{
    // Exit, not return: a thread some spec code started and left running must not keep the process alive.
    Environment.Exit(EngineServer.Serve(args[1..]));
}

return KilnCli.Run(args);

/// <summary>The command line: one run of a verb.</summary>
internal static class KilnCli
{
    /// <summary>Parses <paramref name="args"/> and runs the verb; the process's exit code.</summary>
    public static int Run(string[] args)
    {
        // The engine process Kiln's MSBuild tasks start on every build builds only its own command tree: the other
        // verbs' trees cost start-up (JIT) each time, and a line that starts with 'engine' can only mean the engine.
        var engineOnly = args is ["engine", ..];
        if (engineOnly)
        {
            SourceState.Prefetch(args);
        }

        var root = engineOnly ? EngineRoot ??= Root([EngineCommand.Create()]) : Root(AllCommands());

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // A usage error is not a verdict: its own exit code (64), a coded line per problem on standard error, and a
            // pointer to the help instead of the whole help text on standard output (which a script would take for a
            // result).
            var verb = parsed.CommandResult.Command == root ? "kiln" : $"kiln {parsed.CommandResult.Command.Name}";
            foreach (var error in parsed.Errors)
            {
                Edge.Print(new KilnDiagnostic(DiagnosticCodes.CommandLineInvalid, $"{error.Message} Run '{verb} --help' for the usage."));
            }

            return ExitCodes.Usage;
        }

        return parsed.Invoke();
    }

    /// <summary>The engine verb's tree, made once: the engine server parses every build's command line with it.</summary>
    private static RootCommand? EngineRoot;

    private static RootCommand Root(Command[] commands)
    {
        var root = new RootCommand("kiln: immutable servers from typed C# specs. Build images, inspect them, and more.");
        foreach (var command in commands)
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    private static Command[] AllCommands() =>
    [
        BuildCommand.Create(),
        InspectCommand.Create(),
        DiffCommand.Create(),
        VerifyCommand.Create(),
        FsckCommand.Create(),
        VerifyImageCommand.Create(),
        QueryCommand.Create(),
        HistoryCommand.Create(),
        LockCommand.Create(),
        PushCommand.Create(),
        ExportCommand.Create(),
        PullCommand.Create(),
        PlanCommand.Create(),
        RunCommand.Create(),
        OutdatedCommand.Create(),
        BumpCommand.Create(),
        InitCommand.Create(),
        EngineCommand.Create(),
    ];
}
