using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using Kiln.Shared;

namespace Kiln.Build.Tasks;

/// <summary>
/// One image build run by the engine server (<c>kiln engine-server</c>, see the engine's EngineServer): the task's side
/// of the Unix socket. <see cref="Open"/> connects, starting the server when none answers, and sends the build; the
/// server answers with the build's output lines and its exit code, as a process would.
/// </summary>
internal sealed class EngineServerConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private Thread? _reader;
    private int _exitCode = -1;
    private volatile bool _killed;

    private EngineServerConnection(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>The server's process id.</summary>
    public int ProcessId { get; private set; }

    /// <summary>
    /// The socket of the server for <paramref name="enginePath"/> run by <paramref name="dotnetHost"/>: named by both and
    /// by the engine's files, so that another Kiln version or a rebuilt engine gets a server of its own. It lies in a
    /// directory only the user may open ($XDG_RUNTIME_DIR/kiln, else ~/.cache/kiln/servers); null where there is none,
    /// or on Windows.
    /// </summary>
    public static string? SocketPath(string enginePath, string dotnetHost)
    {
        if (Path.DirectorySeparatorChar == '\\' || EndPointType is null)
        {
            return null;
        }

        string? directory = null;
        if (Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } runtime && Path.IsPathRooted(runtime) && Directory.Exists(runtime))
        {
            directory = Path.Combine(runtime, "kiln");
        }
        else if (Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } home && Path.IsPathRooted(home))
        {
            directory = Path.Combine(home, ".cache", "kiln", "servers");
        }

        if (directory is null)
        {
            return null;
        }

        var engine = Path.GetFullPath(enginePath);
        var identity = new StringBuilder(engine).Append('|').Append(dotnetHost).Append('|')
            .Append(EngineServerProtocol.EngineIdentity(Path.GetDirectoryName(engine)!));

        // What the server's process reads once, at its start, rather than per build: the variables native code reads
        // (OpenSSL's certificate locations) and the proxy settings .NET's HTTP stack takes once per process. A build
        // with other values gets a server of its own instead of one that would not honour them.
        foreach (var name in ProcessWideVariables)
        {
            identity.Append('|').Append(name).Append('=').Append(Environment.GetEnvironmentVariable(name));
        }

        var path = Path.Combine(directory, "engine-" + SpecUpToDateRecord.Hash(identity.ToString()) + ".sock");
        return Encoding.UTF8.GetByteCount(path) < 100 ? path : null; // a Unix socket's path has at most 107 bytes
    }

    /// <summary>
    /// Sends the build (<paramref name="arguments"/> after the engine's path, in <paramref name="workingDirectory"/>, with
    /// <paramref name="environment"/>) to the server at <paramref name="socketPath"/>, starting it with
    /// <paramref name="startServer"/> when none answers. Null, with the reason in <paramref name="why"/>, when the server
    /// cannot take it (busy with another build, not startable): the caller starts a process instead.
    /// </summary>
    public static EngineServerConnection? Open(string socketPath, Func<Process?> startServer, string workingDirectory, IEnumerable<KeyValuePair<string, string?>> environment, IReadOnlyList<string> arguments, out string why, out bool foreign)
    {
        foreign = false;
        try
        {
            return OpenOrThrow(socketPath, startServer, workingDirectory, environment, arguments, out why);
        }
        catch (UntrustedServerException e)
        {
            foreign = e.Foreign;
            why = foreign
                ? $"the process answering on its socket {socketPath} runs as another user, so this build sends it nothing; remove that socket, or build with -p:KilnEngineServer=false"
                : "this platform cannot tell which user runs the process answering on its socket";
            return null;
        }
    }

    private static EngineServerConnection? OpenOrThrow(string socketPath, Func<Process?> startServer, string workingDirectory, IEnumerable<KeyValuePair<string, string?>> environment, IReadOnlyList<string> arguments, out string why)
    {
        var socket = Connect(socketPath);
        if (socket is null)
        {
            using (var server = startServer())
            {
                if (server is null)
                {
                    why = "the engine server could not be started";
                    return null;
                }

                // Up to the runtime's start and the socket's bind: some tenths of a second.
                var waited = Stopwatch.StartNew();
                while (socket is null && waited.Elapsed < TimeSpan.FromSeconds(10))
                {
                    Thread.Sleep(20);
                    socket = Connect(socketPath);
                    if (socket is null && server.HasExited)
                    {
                        socket = Connect(socketPath); // it found another server there, which may now answer
                        break;
                    }
                }
            }

            if (socket is null)
            {
                why = "the engine server did not answer";
                return null;
            }
        }

        try
        {
            var connection = new EngineServerConnection(socket);
            try
            {
                connection.Send(environment, workingDirectory, arguments);
            }
            catch (IOException)
            {
                // A server that says no (busy, stopping) may close before it has read all of the request: its answer
                // is still there to read.
            }

            socket.ReceiveTimeout = 30_000; // a server that takes the build answers at once
            var (kind, text) = connection.ReadFrame();
            socket.ReceiveTimeout = 0;
            if (kind == EngineServerProtocol.Started && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var processId))
            {
                why = "";
                connection.ProcessId = processId;
                return connection;
            }

            connection.Dispose();
            why = kind == EngineServerProtocol.Busy ? "the engine server is " + text : "the engine server did not take the build";
            return null;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidDataException)
        {
            socket.Dispose();
            why = "the engine server did not take the build (" + e.Message + ")";
            return null;
        }
    }

    /// <summary>Reads the build's output on a thread of its own: lines to <paramref name="receive"/>, then null once for each stream.</summary>
    public void StartReading(Action<bool, string?> receive)
    {
        _reader = new Thread(() =>
        {
            try
            {
                while (true)
                {
                    var (kind, text) = ReadFrame();
                    if (kind == EngineServerProtocol.OutputLine || kind == EngineServerProtocol.ErrorLine)
                    {
                        receive(kind == EngineServerProtocol.ErrorLine, text);
                    }
                    else if (kind == EngineServerProtocol.Exited)
                    {
                        _exitCode = int.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                        break;
                    }
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or FormatException or InvalidDataException)
            {
                if (!_killed)
                {
                    receive(true, $"kiln : error KILN4060: The Kiln engine server (process {ProcessId}) ended the image build without a result ({e.Message}). Nothing half-written is left: build again, which starts a new server, or build with -p:KilnEngineServer=false to run the engine in a process of its own.");
                    _exitCode = 1;
                }
            }
            finally
            {
                receive(false, null);
                receive(true, null);
            }
        })
        { IsBackground = true, Name = "Kiln engine server output" };
        _reader.Start();
    }

    /// <summary>The build's standard input: <paramref name="line"/>, then its end.</summary>
    public void SendLineAndClose(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        _socket.Send(bytes);
        _socket.Shutdown(SocketShutdown.Send);
    }

    /// <summary>Ends the build's standard input (an engine waiting for the publish stops without writing).</summary>
    public void CloseInput()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Waits for the exit code (at most <paramref name="timeout"/>; false when it did not come).</summary>
    public bool WaitForExit(TimeSpan timeout) => _reader is null || _reader.Join(timeout);

    /// <summary>The build's exit code, once <see cref="WaitForExit"/> returned true.</summary>
    public int ExitCode => _exitCode;

    /// <summary>Lets go of the build (cancelled): the server sees the connection end.</summary>
    public void Kill()
    {
        _killed = true;
        Dispose();
    }

    public void Dispose()
    {
        try
        {
            _stream.Dispose();
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
        }
    }

    private static Socket? Connect(string socketPath)
    {
        if (!File.Exists(socketPath))
        {
            return null;
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect((EndPoint)Activator.CreateInstance(EndPointType!, socketPath)!);
            // Another user's server (a socket planted in a directory that is not ours, or a build run as root with
            // another user's XDG_RUNTIME_DIR), or one the kernel cannot name: it gets nothing of this build, not even
            // the request, and the build runs a process.
            var sameUser = EngineServerProtocol.PeerIsThisUser(socket);
            if (sameUser != true)
            {
                socket.Dispose();
                throw new UntrustedServerException(foreign: sameUser == false);
            }

            return socket;
        }
        catch (Exception e) when (e is SocketException or IOException or System.Reflection.TargetInvocationException or ArgumentException)
        {
            socket.Dispose();
            return null;
        }
    }

    /// <summary>A process answered on the socket that is not this user's (<see cref="Foreign"/>), or whose user the platform cannot tell.</summary>
    private sealed class UntrustedServerException(bool foreign) : Exception
    {
        public bool Foreign { get; } = foreign;
    }

    private static readonly string[] ProcessWideVariables =
    [
        "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy",
    ];

    /// <summary>UnixDomainSocketEndPoint: in every .NET that runs dotnet build, not in netstandard2.0's surface (nor in .NET Framework's MSBuild).</summary>
    private static readonly Type? EndPointType = Type.GetType("System.Net.Sockets.UnixDomainSocketEndPoint, System.Net.Sockets", throwOnError: false);

    private void Send(IEnumerable<KeyValuePair<string, string?>> environment, string workingDirectory, IReadOnlyList<string> arguments)
    {
        var variables = new List<KeyValuePair<string, string>>();
        foreach (var pair in environment)
        {
            if (pair.Value is not null)
            {
                variables.Add(new KeyValuePair<string, string>(pair.Key, pair.Value));
            }
        }

        var request = EngineServerProtocol.EncodeRequest(workingDirectory, variables, arguments);
        _stream.Write(request, 0, request.Length);
    }

    private (byte Kind, string Text) ReadFrame() => EngineServerProtocol.ReadFrame(_stream);

    /// <summary>
    /// Splits a command line as the .NET runtime does for a process it starts on Unix (spaces and tabs separate, double
    /// quotes group and two of them inside quotes are one, backslashes escape a quote), so that the server gets exactly
    /// the arguments a process would have.
    /// </summary>
    public static List<string> SplitArguments(string commandLine)
    {
        var arguments = new List<string>();
        for (var i = 0; i < commandLine.Length; i++)
        {
            while (i < commandLine.Length && commandLine[i] is ' ' or '\t')
            {
                i++;
            }

            if (i == commandLine.Length)
            {
                break;
            }

            arguments.Add(NextArgument(commandLine, ref i));
        }

        return arguments;
    }

    private static string NextArgument(string text, ref int i)
    {
        var argument = new StringBuilder();
        var inQuotes = false;
        while (i < text.Length)
        {
            var backslashes = 0;
            while (i < text.Length && text[i] == '\\')
            {
                i++;
                backslashes++;
            }

            if (backslashes > 0)
            {
                if (i >= text.Length || text[i] != '"')
                {
                    argument.Append('\\', backslashes);
                }
                else
                {
                    argument.Append('\\', backslashes / 2);
                    if (backslashes % 2 != 0)
                    {
                        argument.Append('"');
                        i++;
                    }
                }

                continue;
            }

            var c = text[i];
            if (c == '"')
            {
                if (inQuotes && i < text.Length - 1 && text[i + 1] == '"')
                {
                    argument.Append('"');
                    i++;
                }
                else
                {
                    inQuotes = !inQuotes;
                }

                i++;
                continue;
            }

            if (c is ' ' or '\t' && !inQuotes)
            {
                break;
            }

            argument.Append(c);
            i++;
        }

        return argument.ToString();
    }
}
