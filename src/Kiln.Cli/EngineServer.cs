using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Kiln.Engine.Diagnostics;
using Kiln.Shared;

namespace Kiln.Cli;

/// <summary>
/// <c>kiln engine-server --socket PATH --idle-seconds N</c>: one engine process that runs the image builds of many
/// <c>dotnet build</c>s, as the compiler server does for <c>csc</c>. A fresh engine process spends most of a small
/// build starting the runtime and compiling its own code; the server has done that once.
/// <para>
/// Kiln's MSBuild task connects to the Unix socket at <c>PATH</c> (in a directory only the user can open) and sends a
/// request: the working directory, the whole environment and the engine's command line. The server runs that command
/// line as <see cref="KilnCli.Run"/> would in a process of its own, with that environment and directory, its standard input
/// the rest of the connection (the <c>go</c> line) and its standard output and error sent back as frames, then the exit
/// code. One build at a time: a request that finds the server busy is told so and the task starts an engine process.
/// </para>
/// <para>
/// Each build loads the spec assembly into its own collectible load context, as a process does. The server stops after
/// <c>N</c> seconds without a build, when its own files change, after a spec evaluation it had to abandon (the spec's
/// thread may still run), and after <see cref="MaxBuilds"/> builds.
/// </para>
/// </summary>
internal static class EngineServer
{
    /// <summary>The command line's first word.</summary>
    public const string Verb = "engine-server";

    private const int MaxBuilds = 500;

    /// <summary>Whether this process is the engine server (a build in it records no JIT profile).</summary>
    public static bool IsServing { get; private set; }

    private static int _busy;
    private static long _lastActivity = Environment.TickCount64;
    private static int _builds;

    public static int Serve(string[] args)
    {
        if (args is not ["--socket", var socketPath, "--idle-seconds", var idleText]
            || !int.TryParse(idleText, NumberStyles.None, CultureInfo.InvariantCulture, out var idleSeconds) || idleSeconds <= 0)
        {
            Edge.Print(new KilnDiagnostic(DiagnosticCodes.CommandLineInvalid, $"Usage: kiln {Verb} --socket PATH --idle-seconds N. The server is started by Kiln's MSBuild tasks, not by people."));
            return ExitCodes.Usage;
        }

        IsServing = true;
        // Between builds nothing may reach the pipes the task started this process with (nobody reads them).
        Console.SetOut(TextWriter.Null);
        Console.SetError(TextWriter.Null);
        Console.SetIn(TextReader.Null);
        try
        {
            // Like the engine process started early, it runs beside the compile the developer waits on.
            Process.GetCurrentProcess().PriorityClass = ProcessPriorityClass.BelowNormal;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or PlatformNotSupportedException or InvalidOperationException)
        {
        }

        var identity = EngineIdentity();
        using var listener = Listen(socketPath);
        if (listener is null)
        {
            return ExitCodes.Ok; // another server answers there, or the place is not private: the tasks start processes
        }

        try
        {
            Loop(listener, TimeSpan.FromSeconds(idleSeconds), identity);
        }
        finally
        {
            listener.Dispose();
            TryDelete(socketPath);
        }

        return ExitCodes.Ok;
    }

    private static void Loop(Socket listener, TimeSpan idle, string identity)
    {
        while (true)
        {
            var accept = listener.AcceptAsync();
            while (!accept.Wait(TimeSpan.FromSeconds(1)))
            {
                if (Volatile.Read(ref _busy) == 0 && ShouldStop(idle, identity))
                {
                    return;
                }
            }

            var connection = accept.Result;
            if (EngineServerProtocol.PeerIsThisUser(connection) != true)
            {
                connection.Dispose(); // another user's process (root, say), or one nobody can tell: nothing, not even an answer
                continue;
            }

            Volatile.Write(ref _lastActivity, Environment.TickCount64); // a build came: the idle time starts again
            if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
            {
                ThreadPool.QueueUserWorkItem(_ => Refuse(connection, "busy with another build"));
                continue;
            }

            if (ShouldStop(idle, identity))
            {
                Refuse(connection, "stopping");
                return;
            }

            new Thread(() =>
            {
                try
                {
                    Handle(connection);
                }
                finally
                {
                    Interlocked.Increment(ref _builds);
                    Volatile.Write(ref _lastActivity, Environment.TickCount64);
                    Volatile.Write(ref _busy, 0);
                }
            })
            { Name = "Kiln engine server build", IsBackground = true }.Start();
        }
    }

    private static bool ShouldStop(TimeSpan idle, string identity) =>
        Environment.TickCount64 - Volatile.Read(ref _lastActivity) > idle.TotalMilliseconds
        || Volatile.Read(ref _builds) >= MaxBuilds
        || Kiln.Engine.Evaluation.SpecEvaluator.AbandonedEvaluations > 0
        || EngineIdentity() != identity;

    /// <summary>The engine's own files (name, size, time): a server whose files were replaced stops.</summary>
    private static string EngineIdentity() => EngineServerProtocol.EngineIdentity(AppContext.BaseDirectory);

    /// <summary>
    /// Binds the socket in its directory, which must be private to the user (created so when missing). A socket file
    /// that nobody answers on (a server that was killed) is replaced; one that answers belongs to a live server, and this
    /// one stops.
    /// </summary>
    private static Socket? Listen(string socketPath)
    {
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        if (OperatingSystem.IsWindows())
        {
            return null; // the tasks use the server on Unix only
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(socketPath))!;
        UnixFileMode mode;
        try
        {
            Directory.CreateDirectory(directory, Private);
            mode = File.GetUnixFileMode(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        if ((mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            return null; // someone else may have put a socket there
        }

        if ((mode & ~Private) != 0)
        {
            // Made by something else with the umask: the user's own directory is made private (nobody else could
            // write into it); another's cannot be changed, and this place gets no server.
            try
            {
                File.SetUnixFileMode(directory, Private);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }

            if ((File.GetUnixFileMode(directory) & ~Private) != 0)
            {
                return null;
            }
        }

        for (var attempt = 0; attempt < 2; attempt++)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Bind(new UnixDomainSocketEndPoint(socketPath));
                File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                socket.Listen(16);
                return socket;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && attempt == 0)
            {
                socket.Dispose();
                if (Answers(socketPath))
                {
                    return null;
                }

                TryDelete(socketPath);
            }
            catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
            {
                socket.Dispose();
                return null;
            }
        }

        return null;
    }

    private static bool Answers(string socketPath)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Says no to a build: after its request is read, so that the task's write of it does not fail first.</summary>
    private static void Refuse(Socket connection, string why)
    {
        using (connection)
        {
            try
            {
                connection.ReceiveTimeout = 5_000;
                using var stream = new NetworkStream(connection, ownsSocket: false);
                _ = Request.Read(stream);
                new FrameSink(stream).Send(EngineServerProtocol.Busy, why);
            }
            catch (Exception e) when (e is IOException or SocketException or InvalidDataException or EndOfStreamException)
            {
            }
        }
    }

    /// <summary>Runs one build: the request, then the engine's command line with the request's environment, directory and streams.</summary>
    private static void Handle(Socket connection)
    {
        using var stream = new NetworkStream(connection, ownsSocket: true);
        var sink = new FrameSink(stream);
        Request request;
        try
        {
            request = Request.Read(stream);
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException or EndOfStreamException)
        {
            return; // not a task of this version: it gets no answer and starts a process
        }

        if (request.Arguments is not ["engine", "build", ..])
        {
            sink.Send(EngineServerProtocol.Busy, "only image builds run in the engine server");
            return;
        }

        sink.Send(EngineServerProtocol.Started, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var output = new FrameWriter(sink, EngineServerProtocol.OutputLine);
        var error = new FrameWriter(sink, EngineServerProtocol.ErrorLine);
        int code;
        try
        {
            request.Apply();
            Console.SetOut(output);
            Console.SetError(error);
            Console.SetIn(new StreamReader(stream, new UTF8Encoding(false), false, 256, leaveOpen: true));
            code = KilnCli.Run(request.Arguments);
        }
        catch (Exception e)
        {
            // What Edge.Run did not catch (it catches what a verb throws): the process would have died with this.
            error.WriteLine(new KilnDiagnostic(DiagnosticCodes.InternalError, $"Kiln's engine server failed unexpectedly: {e.GetType().Name}: {e.Message} This is a bug in Kiln; please report it. Building with -p:KilnEngineServer=false runs the engine in a process of its own.").ToCanonicalString());
            code = ExitCodes.InternalError;
        }
        finally
        {
            Console.Out.Flush();
            Console.Error.Flush();
            Console.SetOut(TextWriter.Null);
            Console.SetError(TextWriter.Null);
            Console.SetIn(TextReader.Null);
        }

        output.Close();
        error.Close();
        sink.Send(EngineServerProtocol.Exited, code.ToString(CultureInfo.InvariantCulture));
        // The build's spec load context and buffers go now, while the server waits, not during the next build.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>A build's request (<see cref="EngineServerProtocol"/>): the working directory, the environment, the arguments.</summary>
    private sealed record Request(string WorkingDirectory, IReadOnlyList<KeyValuePair<string, string>> Environment, string[] Arguments)
    {
        public static Request Read(Stream stream)
        {
            var (directory, environment, arguments) = EngineServerProtocol.ReadRequest(stream);
            return new Request(directory, environment, arguments);
        }

        /// <summary>Makes the process's environment and working directory the request's, as a process started for it would have.</summary>
        public void Apply()
        {
            var wanted = Environment.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            foreach (var name in System.Environment.GetEnvironmentVariables().Keys.Cast<string>().ToList())
            {
                if (!wanted.ContainsKey(name))
                {
                    System.Environment.SetEnvironmentVariable(name, null);
                }
            }

            foreach (var (name, value) in wanted)
            {
                if (System.Environment.GetEnvironmentVariable(name) != value)
                {
                    System.Environment.SetEnvironmentVariable(name, value);
                }
            }

            Directory.SetCurrentDirectory(WorkingDirectory);
        }
    }

    /// <summary>Frames to the task: a kind byte, a 4-byte little-endian length, UTF-8 text. Once the task is gone, frames are dropped.</summary>
    private sealed class FrameSink(Stream stream)
    {
        private readonly Lock _gate = new();
        private bool _broken;

        public void Send(byte kind, string text)
        {
            var frame = EngineServerProtocol.EncodeFrame(kind, text);
            lock (_gate)
            {
                if (_broken)
                {
                    return;
                }

                try
                {
                    stream.Write(frame);
                }
                catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
                {
                    // The build went away (cancelled): the engine finishes as a process would have been killed, writing
                    // its artifacts atomically or not at all.
                    _broken = true;
                }
            }
        }
    }

    /// <summary>A standard stream of the build: every line one frame.</summary>
    private sealed class FrameWriter(FrameSink sink, byte kind) : TextWriter
    {
        private readonly StringBuilder _line = new();

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            lock (_line)
            {
                if (value == '\n')
                {
                    var text = _line.ToString().TrimEnd('\r');
                    _line.Clear();
                    sink.Send(kind, text);
                }
                else
                {
                    _line.Append(value);
                }
            }
        }

        public override void Write(string? value)
        {
            foreach (var c in value ?? "")
            {
                Write(c);
            }
        }

        protected override void Dispose(bool disposing)
        {
            lock (_line)
            {
                if (_line.Length > 0)
                {
                    sink.Send(kind, _line.ToString());
                    _line.Clear();
                }
            }

            base.Dispose(disposing);
        }
    }
}
