using System.CommandLine;
using Kiln.Cli;

var root = new RootCommand("kiln: immutable servers from typed C# specs. Build images, inspect them, and more.")
{
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
};

return root.Parse(args).Invoke();
