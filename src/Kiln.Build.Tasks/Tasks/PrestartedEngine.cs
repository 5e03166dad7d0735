using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading.Tasks;

namespace Kiln.Build.Tasks;

/// <summary>
/// An engine image build started while MSBuild still publishes (<c>engine build --wait-for-publish</c>): it starts up,
/// evaluates the specs and resolves the bases meanwhile, then waits for a line on its standard input. Its output is
/// kept until a task takes it over (<see cref="Go"/>), or it is called off by closing its input (<see cref="Dispose"/>,
/// also what MSBuild does with it at the end of a build that failed before). It runs in the engine server when one takes
/// it (<see cref="EngineServer"/>), else in a process of its own. An image build started without a publish to wait for
/// is handed to the engine server the same way (<see cref="KilnToolTask.RunInEngineServer"/>).
/// </summary>
internal sealed class PrestartedEngine : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<(bool Error, string Line)> _lines = new();
    private Task _started = Task.CompletedTask;
    private int _openStreams = 2;
    private int _went;
    private EngineServerConnection? _server;
    private bool _processStarted;

    private PrestartedEngine(Process process) => _process = process;

    /// <summary>Where an engine build may run in the engine server: the server's socket and how to start the server.</summary>
    internal sealed class EngineServer(string socketPath, Func<Process?> start, string enginePath)
    {
        public string SocketPath { get; } = socketPath;

        public Func<Process?> Start { get; } = start;

        public string EnginePath { get; } = enginePath;
    }

    /// <summary>The key a build registers it under: the same engine command line finds it again.</summary>
    public static string KeyFor(string commandLine) => "Kiln.Build.PrestartedImageBuild|" + commandLine;

    /// <summary>The switch that makes an engine build wait for the go-ahead.</summary>
    public const string WaitSwitch = "--wait-for-publish";

    /// <summary>
    /// Starts <paramref name="start"/> with its input, output and error redirected, on a pool thread: starting a process
    /// from the MSBuild node takes milliseconds (the fork of a large process, the pipes) that MSBuild spends going on to
    /// the publish instead. <see cref="WaitForStart"/> waits for it. With <paramref name="server"/> the build goes to the
    /// engine server if it takes it (<see cref="Note"/> says why not); else, unless <paramref name="processIfRefused"/>
    /// is false, to a process.
    /// </summary>
    public static PrestartedEngine Start(ProcessStartInfo start, EngineServer? server = null, bool processIfRefused = true)
    {
        start.UseShellExecute = false;
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.StandardOutputEncoding = Encoding.UTF8;
        start.StandardErrorEncoding = Encoding.UTF8;
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var engine = new PrestartedEngine(process);
        process.OutputDataReceived += (_, e) => engine.Receive(false, e.Data);
        process.ErrorDataReceived += (_, e) => engine.Receive(true, e.Data);
        engine._started = Task.Run(() =>
        {
            if (server is not null && (engine.TryServer(start, server) || !processIfRefused))
            {
                return;
            }

            process.Start();
            engine._processStarted = true;
            try
            {
                // It runs beside the compiler of the publish it waits for: that compile is what the developer waits on.
                process.PriorityClass = ProcessPriorityClass.BelowNormal;
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or PlatformNotSupportedException)
            {
                // Not allowed here, or it exited already: it runs at the normal priority.
            }

            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        });
        return engine;
    }

    /// <summary>Waits until the process is started: null once it is, else why it could not be.</summary>
    public string? WaitForStart()
    {
        try
        {
            _started.GetAwaiter().GetResult();
            return null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return e.Message;
        }
    }

    /// <summary>Where it runs, for the log (once <see cref="WaitForStart"/> said it started).</summary>
    public string Where => _server is { } server ? $"engine server, process {server.ProcessId}" : $"process {_process.Id}";

    /// <summary>Whether it runs in the engine server (once <see cref="WaitForStart"/> said it started).</summary>
    public bool InServer => _server is not null;

    /// <summary>Why the engine server did not take it, for the log; null when it did or was not asked.</summary>
    public string? Note { get; private set; }

    /// <summary>Whether <see cref="Note"/> is a warning: another user's process answered on the server's socket.</summary>
    public bool NoteIsWarning { get; private set; }

    private bool TryServer(ProcessStartInfo start, EngineServer server)
    {
        var arguments = EngineServerConnection.SplitArguments(start.Arguments);
        if (arguments.Count < 3 || arguments[0] != "exec" || arguments[1] != server.EnginePath)
        {
            Note = "its command line is not the engine's";
            return false;
        }

        var environment = new List<KeyValuePair<string, string?>>(start.Environment);
        var directory = string.IsNullOrEmpty(start.WorkingDirectory) ? Directory.GetCurrentDirectory() : start.WorkingDirectory;
        _server = EngineServerConnection.Open(server.SocketPath, server.Start, directory, environment, arguments.GetRange(2, arguments.Count - 2), out var why, out var foreign);
        if (_server is null)
        {
            Note = why;
            NoteIsWarning = foreign;
            return false;
        }

        _server.StartReading(Receive);
        return true;
    }

    /// <summary>
    /// Lets the build continue (the publish has finished), once: a later call does nothing. A process that already
    /// exited is left as it is.
    /// </summary>
    public void Go()
    {
        if (System.Threading.Interlocked.Exchange(ref _went, 1) == 1)
        {
            return;
        }

        try
        {
            if (_server is not null)
            {
                _server.SendLineAndClose("go");
                return;
            }

            _process.StandardInput.WriteLine("go");
            _process.StandardInput.Close();
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // The server ended the build already: its output says why.
        }
        catch (IOException)
        {
            // It exited already (an evaluation error, say): its output says why.
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>Every line of output and error, in the order they came, until the process has closed both.</summary>
    public IEnumerable<(bool Error, string Line)> Lines => _lines.GetConsumingEnumerable();

    /// <summary>Waits for the process to end and gives its exit code.</summary>
    public int WaitForExit()
    {
        if (_server is not null)
        {
            _server.WaitForExit(System.Threading.Timeout.InfiniteTimeSpan);
            return _server.ExitCode;
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>
    /// Stops it at once (the build was cancelled). A build in the engine server is let go of: the server stops it at its
    /// wait for the publish, or finishes it (its artifacts are written whole or not at all).
    /// </summary>
    public void Kill()
    {
        if (_server is not null)
        {
            _server.Kill();
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }

    /// <summary>
    /// Calls it off: the end of its input makes the engine stop before it reads the published output or writes
    /// anything; one that does not stop soon is killed.
    /// </summary>
    public void Dispose()
    {
        try
        {
            if (WaitForStart() is null && _server is not null)
            {
                _server.CloseInput();
                if (!_server.WaitForExit(TimeSpan.FromSeconds(30)))
                {
                    _server.Kill();
                }

                _server.Dispose();
            }
            else if (WaitForStart() is null && _processStarted && !_process.HasExited)
            {
                try
                {
                    _process.StandardInput.Close();
                }
                catch (IOException)
                {
                }

                if (!_process.WaitForExit(30_000))
                {
                    Kill();
                }
            }
        }
        catch (InvalidOperationException)
        {
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void Receive(bool error, string? line)
    {
        try
        {
            if (line is not null)
            {
                _lines.Add((error, line));
            }
            else if (System.Threading.Interlocked.Decrement(ref _openStreams) == 0)
            {
                _lines.CompleteAdding();
            }
        }
        catch (InvalidOperationException)
        {
            // Output after the build let go of it (a called-off engine saying goodbye): nobody reads it any more.
        }
    }
}
