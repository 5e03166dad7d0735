using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Kiln.Build.Tasks;

/// <summary>
/// Runs the Kiln engine in its own process (<c>dotnet kiln.dll engine …</c>). The user's spec assembly is therefore
/// loaded outside the MSBuild node: every build sees the current spec, no file stays locked, and the task loads in any
/// MSBuild (dotnet build, Visual Studio). The engine prints coded errors in the canonical form, which this task logs as
/// MSBuild errors with their file and line.
/// </summary>
public abstract class KilnToolTask : ToolTask
{
    /// <summary>The engine's kiln.dll.</summary>
    [Required]
    public string EnginePath { get; set; } = "";

    /// <summary>The dotnet host to run the engine with (MSBuild's DOTNET_HOST_PATH by default).</summary>
    public string? DotnetHostPath { get; set; }

    /// <summary>KilnEngineServer: run image builds in the engine server (one engine process kept between builds).</summary>
    public bool EngineServer { get; set; }

    /// <summary>KilnEngineServerIdleTimeout: seconds the engine server waits for another build before it stops.</summary>
    public string? EngineServerIdleTimeout { get; set; }

    /// <inheritdoc />
    protected override string ToolName => "dotnet";

    /// <inheritdoc />
    protected override MessageImportance StandardOutputLoggingImportance => MessageImportance.Normal;

    /// <inheritdoc />
    protected override string GenerateFullPathToTool()
    {
        if (!string.IsNullOrEmpty(DotnetHostPath) && File.Exists(DotnetHostPath))
        {
            return DotnetHostPath!;
        }

        var fromEnvironment = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(fromEnvironment) && File.Exists(fromEnvironment) ? fromEnvironment! : ToolName;
    }

    /// <inheritdoc />
    protected override System.Diagnostics.ProcessStartInfo GetProcessStartInfo(string pathToTool, string commandLineCommands, string responseFileSwitch)
    {
        var start = base.GetProcessStartInfo(pathToTool, commandLineCommands, responseFileSwitch);

        // The runtime's LTTng tracepoint provider is a shared library loaded at every start-up; the engine is started
        // on every image build and traced through its own output, so it goes without (unless the user asks for it).
        if (!start.Environment.ContainsKey("DOTNET_LTTng"))
        {
            start.Environment["DOTNET_LTTng"] = "0";
        }

        // The engine records a multicore JIT profile per verb, and the runtime writes it out at exit (thousands of
        // small writes, some tens of milliseconds that MSBuild waits for). A profile newer than the engine is only
        // played back; a missing one, or one older than the engine, is recorded again.
        if (JitProfile is { } profile && !start.Environment.ContainsKey(NoProfileGather) && IsNewerThanEngine(profile))
        {
            start.Environment[NoProfileGather] = "1";
        }

        return start;
    }

    private const string NoProfileGather = "DOTNET_MultiCoreJitNoProfileGather";

    /// <summary>The engine's multicore JIT profile for this run, when the task knows where the engine keeps it.</summary>
    protected virtual string? JitProfile => null;

    /// <summary>Where the engine keeps the profile of <paramref name="verb"/>: engine-VERB.jitprofile in the intermediate directory (the engine's own naming).</summary>
    protected static string? JitProfileIn(string? intermediateDirectory, string verb) =>
        string.IsNullOrEmpty(intermediateDirectory) ? null : Path.Combine(intermediateDirectory, $"engine-{verb}.jitprofile");

    private bool IsNewerThanEngine(string profile)
    {
        try
        {
            var recorded = File.GetLastWriteTimeUtc(profile);
            var engineDirectory = Path.GetDirectoryName(Path.GetFullPath(EnginePath));
            return File.Exists(profile)
                && engineDirectory is not null
                && Directory.EnumerateFiles(engineDirectory, "*.dll").All(dll => File.GetLastWriteTimeUtc(dll) < recorded);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return false; // recorded again
        }
    }

    /// <summary>
    /// The engine server this task's image build may run in (null when KilnEngineServer is off, or where there is no
    /// private place for its socket): found by its socket, started when none answers.
    /// </summary>
    internal PrestartedEngine.EngineServer? EngineServerFor()
    {
        if (!EngineServer || !TryParseIdleTimeout(out var idleSeconds))
        {
            return null;
        }

        var host = GenerateFullPathToTool();
        var socket = EngineServerConnection.SocketPath(EnginePath, host);
        if (socket is null)
        {
            return null;
        }

        var start = GetProcessStartInfo(host, "", null!);
        return new PrestartedEngine.EngineServer(socket, () => StartEngineServer(start, socket, idleSeconds), EnginePath);
    }

    /// <summary>
    /// Runs <paramref name="commandLine"/> in the engine server: the task's result, or null when the server is off or
    /// did not take it (the caller then starts the engine process, as without a server).
    /// </summary>
    protected bool? RunInEngineServer(string commandLine)
    {
        if (EngineServerFor() is not { } server)
        {
            return null;
        }

        var engine = PrestartedEngine.Start(GetProcessStartInfo(GenerateFullPathToTool(), commandLine, null!), server, processIfRefused: false);
        if (engine.WaitForStart() is not null || !engine.InServer)
        {
            LogServerRefusal(engine.Note ?? "it could not be started", engine.NoteIsWarning);
            engine.Dispose();
            return null;
        }

        return RunAttached(engine, startedEarly: false);
    }

    private PrestartedEngine? _attached;

    /// <summary>Lets <paramref name="engine"/> go on and logs its output as the engine process's; the task's result.</summary>
    private protected bool RunAttached(PrestartedEngine engine, bool startedEarly)
    {
        using (engine)
        {
            _attached = engine;
            if (engine.Note is { } note)
            {
                LogServerRefusal(note, engine.NoteIsWarning);
            }

            Log.LogMessage(MessageImportance.Normal, startedEarly ? "Kiln: continuing the image build started during the publish ({0})." : "Kiln: running the image build ({0}).", engine.Where);
            engine.Go();
            foreach (var (error, line) in engine.Lines)
            {
                LogEventsFromTextOutput(line, error ? StandardErrorLoggingImportance : StandardOutputLoggingImportance);
            }

            var exitCode = engine.WaitForExit();
            _attached = null;
            return exitCode == 0 ? !Log.HasLoggedErrors : LogEngineFailure(exitCode);
        }
    }

    private void LogServerRefusal(string why, bool warning)
    {
        if (warning)
        {
            Log.LogWarning(null, "KILN4062", null, null, 0, 0, 0, 0, "The Kiln engine server was not used: {0}. The image build runs in a process of its own.", why);
        }
        else
        {
            Log.LogMessage(MessageImportance.Normal, "Kiln: the engine server did not take the image build ({0}).", why);
        }
    }

    /// <inheritdoc />
    public override void Cancel()
    {
        _attached?.Kill();
        base.Cancel();
    }

    private Process? StartEngineServer(ProcessStartInfo start, string socket, int idleSeconds)
    {
        var arguments = new CommandLineBuilder();
        arguments.AppendSwitch("exec");
        arguments.AppendFileNameIfNotNull(EnginePath);
        arguments.AppendSwitch("engine-server");
        arguments.AppendSwitchIfNotNull("--socket ", socket);
        arguments.AppendSwitchIfNotNull("--idle-seconds ", idleSeconds.ToString(CultureInfo.InvariantCulture));
        start.Arguments = arguments.ToString();
        start.UseShellExecute = false;
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = "/"; // it outlives this build: it must not hold on to the project's directory
        start.Environment.Remove(NoProfileGather);
        try
        {
            var server = Process.Start(start);
            if (server is not null)
            {
                // It writes nothing there (and outlives this build): nothing of this build's may stay tied to it.
                server.StandardInput.Close();
                server.StandardOutput.Close();
                server.StandardError.Close();
            }

            return server;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }

    private bool TryParseIdleTimeout(out int seconds)
    {
        seconds = DefaultIdleSeconds;
        return string.IsNullOrWhiteSpace(EngineServerIdleTimeout)
            || (int.TryParse(EngineServerIdleTimeout!.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out seconds) && seconds is > 0 and <= 86_400);
    }

    private const int DefaultIdleSeconds = 600;

    /// <inheritdoc />
    protected override bool ValidateParameters()
    {
        if (EngineServer && !TryParseIdleTimeout(out _))
        {
            Log.LogError(null, "KILN4061", null, null, 0, 0, 0, 0,
                "KilnEngineServerIdleTimeout is '{0}', which is not a whole number of seconds from 1 to 86400. Set it to how long the engine server waits for the next build (default {1}), or leave it empty.", EngineServerIdleTimeout, DefaultIdleSeconds);
            return false;
        }

        if (!File.Exists(EnginePath))
        {
            Log.LogError(null, "KILN4003", null, null, 0, 0, 0, 0,
                "The Kiln engine was not found at '{0}'. Restore the Kiln.Build package again, or set KilnEnginePath to the engine's kiln.dll.", EnginePath);
            return false;
        }

        return true;
    }

    /// <inheritdoc />
    protected override void LogEventsFromTextOutput(string singleLine, MessageImportance messageImportance)
    {
        // A build that waits for another one must say so at the default verbosity, or it looks hung.
        if (singleLine.StartsWith(WaitingPrefix, StringComparison.Ordinal))
        {
            Log.LogMessage(MessageImportance.High, singleLine);
            return;
        }

        base.LogEventsFromTextOutput(singleLine, messageImportance);
    }

    private const string WaitingPrefix = "kiln: waiting for another Kiln build";

    /// <inheritdoc />
    protected override bool HandleTaskExecutionErrors() => LogEngineFailure(ExitCode);

    /// <summary>After the engine exited with <paramref name="exitCode"/> (not 0): false, with an error unless the engine logged one.</summary>
    protected bool LogEngineFailure(int exitCode)
    {
        if (Log.HasLoggedErrors)
        {
            return false; // the engine already said what is wrong, with its KILN code
        }

        Log.LogError(null, "KILN3001", null, null, 0, 0, 0, 0,
            "The Kiln engine exited with code {0} without reporting an error. Run the build with -v:detailed to see its output.", exitCode);
        return false;
    }
}
