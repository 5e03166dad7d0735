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
/// also what MSBuild does with it at the end of a build that failed before).
/// </summary>
internal sealed class PrestartedEngine : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<(bool Error, string Line)> _lines = new();
    private Task _started = Task.CompletedTask;
    private int _openStreams = 2;
    private int _went;

    private PrestartedEngine(Process process) => _process = process;

    /// <summary>The key a build registers it under: the same engine command line finds it again.</summary>
    public static string KeyFor(string commandLine) => "Kiln.Build.PrestartedImageBuild|" + commandLine;

    /// <summary>The switch that makes an engine build wait for the go-ahead.</summary>
    public const string WaitSwitch = "--wait-for-publish";

    /// <summary>
    /// Starts <paramref name="start"/> with its input, output and error redirected, on a pool thread: starting a process
    /// from the MSBuild node takes milliseconds (the fork of a large process, the pipes) that MSBuild spends going on to
    /// the publish instead. <see cref="WaitForStart"/> waits for it.
    /// </summary>
    public static PrestartedEngine Start(ProcessStartInfo start)
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
            process.Start();
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

    /// <summary>The engine's process id, for the log (once <see cref="WaitForStart"/> said it started).</summary>
    public int ProcessId => _process.Id;

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
            _process.StandardInput.WriteLine("go");
            _process.StandardInput.Close();
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
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Stops it at once (the build was cancelled).</summary>
    public void Kill()
    {
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
            if (WaitForStart() is null && !_process.HasExited)
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
