// The engine server's wire protocol and identity, for both of its ends: the server (kiln engine-server, in the CLI) and
// the MSBuild tasks that send it image builds. Linked as source into both, so that they can never disagree.
// Only netstandard2.0 BCL APIs and no language feature that needs a runtime polyfill.
using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Kiln.Shared;

/// <summary>
/// One build is one connection. The task sends a request (a 4-byte little-endian length, then <see cref="Greeting"/>,
/// the working directory, the environment and the arguments as <see cref="BinaryWriter"/> strings); the server answers
/// with frames (a kind byte, a 4-byte little-endian length, UTF-8 text): <see cref="Started"/> or <see cref="Busy"/>
/// first, then output and error lines, then <see cref="Exited"/>. After the request, the rest of the task's side is the
/// build's standard input.
/// </summary>
internal static class EngineServerProtocol
{
    /// <summary>The first string of a request: another version's task or server is never understood as this one.</summary>
    public const string Greeting = "kiln-engine-server 1";

    /// <summary>Frame kinds, server to task: started (the server's process id), output line, error line, exit code, busy (why).</summary>
    public const byte Started = (byte)'S', OutputLine = (byte)'O', ErrorLine = (byte)'E', Exited = (byte)'X', Busy = (byte)'B';

    /// <summary>The largest request or frame either side accepts.</summary>
    public const int MaxMessageBytes = 16 << 20;

    /// <summary>
    /// The engine's own files in <paramref name="directory"/> (name, size, time): they name a server's socket on the
    /// task's side, and a server whose files were replaced stops.
    /// </summary>
    public static string EngineIdentity(string directory)
    {
        var text = new StringBuilder();
        foreach (var name in new[] { "kiln.dll", "Kiln.Engine.dll", "Kiln.Oci.dll", "Kiln.Spec.dll" })
        {
            var file = new FileInfo(Path.Combine(directory, name));
            text.Append(name).Append(':').Append(file.Exists ? file.Length + ":" + file.LastWriteTimeUtc.Ticks : "-").Append(';');
        }

        return text.ToString();
    }

    /// <summary>The request for one build, length first, ready to write.</summary>
    public static byte[] EncodeRequest(string workingDirectory, IReadOnlyList<KeyValuePair<string, string>> environment, IReadOnlyList<string> arguments)
    {
        using var body = new MemoryStream();
        using (var writer = new BinaryWriter(body, new UTF8Encoding(false), leaveOpen: true))
        {
            writer.Write(0); // the length, written below
            writer.Write(Greeting);
            writer.Write(workingDirectory);
            writer.Write(environment.Count);
            foreach (var pair in environment)
            {
                writer.Write(pair.Key);
                writer.Write(pair.Value);
            }

            writer.Write(arguments.Count);
            foreach (var argument in arguments)
            {
                writer.Write(argument);
            }
        }

        var request = body.ToArray();
        WriteInt32(request, 0, request.Length - 4);
        return request;
    }

    /// <summary>Reads one request from <paramref name="stream"/>; <see cref="InvalidDataException"/> when it is not one of this version.</summary>
    public static (string WorkingDirectory, List<KeyValuePair<string, string>> Environment, string[] Arguments) ReadRequest(Stream stream)
    {
        var length = ReadInt32(ReadExactly(stream, 4), 0);
        if (length <= 0 || length > MaxMessageBytes)
        {
            throw new InvalidDataException("bad request length");
        }

        using var reader = new BinaryReader(new MemoryStream(ReadExactly(stream, length)), Encoding.UTF8);
        if (reader.ReadString() != Greeting)
        {
            throw new InvalidDataException("another protocol");
        }

        var directory = reader.ReadString();
        var environment = new List<KeyValuePair<string, string>>();
        for (var count = reader.ReadInt32(); count > 0; count--)
        {
            environment.Add(new KeyValuePair<string, string>(reader.ReadString(), reader.ReadString()));
        }

        var arguments = new string[reader.ReadInt32()];
        for (var i = 0; i < arguments.Length; i++)
        {
            arguments[i] = reader.ReadString();
        }

        return (directory, environment, arguments);
    }

    /// <summary>One frame, ready to write.</summary>
    public static byte[] EncodeFrame(byte kind, string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var frame = new byte[5 + payload.Length];
        frame[0] = kind;
        WriteInt32(frame, 1, payload.Length);
        Array.Copy(payload, 0, frame, 5, payload.Length);
        return frame;
    }

    /// <summary>Reads one frame from <paramref name="stream"/>.</summary>
    public static (byte Kind, string Text) ReadFrame(Stream stream)
    {
        var header = ReadExactly(stream, 5);
        var length = ReadInt32(header, 1);
        if (length < 0 || length > MaxMessageBytes)
        {
            throw new InvalidDataException("the engine server sent a malformed frame");
        }

        return (header[0], Encoding.UTF8.GetString(ReadExactly(stream, length)));
    }

    /// <summary>
    /// Whether the process at the other end of <paramref name="socket"/> (a connected Unix socket) runs as this process's
    /// user, as the kernel tells it (SO_PEERCRED on Linux, getpeereid elsewhere): a build sends its whole environment,
    /// credentials included, and trusts the images it gets back, so neither end talks to another user's process, whatever
    /// the modes of the socket and its directory. Null when it cannot be told (no such call on this platform): neither
    /// end then trusts the other.
    /// </summary>
    public static bool? PeerIsThisUser(Socket socket)
    {
        try
        {
            var fd = (int)socket.Handle;
            uint peer;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                const int SolSocket = 1, SoPeerCred = 17; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
                var credentials = new byte[12];
                var length = (uint)credentials.Length;
                if (getsockopt(fd, SolSocket, SoPeerCred, credentials, ref length) != 0 || length < 8)
                {
                    return null;
                }

                peer = (uint)ReadInt32(credentials, 4);
            }
            else if (getpeereid(fd, out peer, out _) != 0)
            {
                return null;
            }

            return peer == geteuid();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or ObjectDisposedException)
        {
            return null;
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getsockopt(int socket, int level, int option, byte[] value, ref uint length);

    [DllImport("libc", SetLastError = true)]
    private static extern int getpeereid(int socket, out uint user, out uint group);

    [DllImport("libc")]
    private static extern uint geteuid();

    private static byte[] ReadExactly(Stream stream, int count)
    {
        var buffer = new byte[count];
        for (var read = 0; read < count;)
        {
            var n = stream.Read(buffer, read, count - read);
            if (n == 0)
            {
                throw new EndOfStreamException("the connection ended");
            }

            read += n;
        }

        return buffer;
    }

    private static int ReadInt32(byte[] buffer, int offset) =>
        buffer[offset] | buffer[offset + 1] << 8 | buffer[offset + 2] << 16 | buffer[offset + 3] << 24;

    private static void WriteInt32(byte[] buffer, int offset, int value)
    {
        buffer[offset] = (byte)value;
        buffer[offset + 1] = (byte)(value >> 8);
        buffer[offset + 2] = (byte)(value >> 16);
        buffer[offset + 3] = (byte)(value >> 24);
    }
}
