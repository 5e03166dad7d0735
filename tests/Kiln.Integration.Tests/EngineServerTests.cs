using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Kiln.Integration.Tests.Infrastructure;
using Kiln.Oci;
using Kiln.Shared;
using Kiln.Tests.Shared;
using Xunit;

namespace Kiln.Integration.Tests;

/// <summary>
/// The engine server: image builds of many <c>dotnet build</c>s run in one engine process, found by its socket in
/// XDG_RUNTIME_DIR/kiln. Every test gives its builds an XDG_RUNTIME_DIR of its own, so its server is its own (not the one
/// other tests share), and stops the servers it started by their process ids.
/// </summary>
[Collection(KilnCollection.Name)]
public sealed class EngineServerTests(KilnPackage package) : IDisposable
{
    private readonly string _runtime = Directory.CreateTempSubdirectory("kiln-server-it-").FullName;
    private readonly HashSet<int> _servers = [];

    public void Dispose()
    {
        foreach (var pid in _servers)
        {
            Stop(pid);
        }

        Directory.Delete(_runtime, recursive: true);
    }

    /// <summary>What the task logs when the server runs a build (the process id follows).</summary>
    internal const string RanInServer = "Kiln: running the image build (engine server, process ";

    private FixtureProject Fixture(string? directory = null) =>
        BuildTests.TwoServerFixture(package, directory).WithEnvironment("XDG_RUNTIME_DIR", _runtime);

    private int ServerOf(string output) => Track(ServerProcess(output));

    private int Track(int pid)
    {
        _servers.Add(pid);
        return pid;
    }

    /// <summary>The engine server's process id from a build's log (the build ran in it).</summary>
    internal static int ServerProcess(string output)
    {
        var start = output.IndexOf(RanInServer, StringComparison.Ordinal);
        Assert.True(start >= 0, "the build did not run in the engine server:\n" + output);
        start += RanInServer.Length;
        return int.Parse(output[start..output.IndexOf(')', start)], CultureInfo.InvariantCulture);
    }

    /// <summary>Stops a server a test started (SIGKILL), if it is still there.</summary>
    internal static void Stop(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
            process.WaitForExit(10_000);
        }
        catch (ArgumentException)
        {
            // gone already
        }
        catch (InvalidOperationException)
        {
        }
    }

    [Fact]
    public void Build_InTheEngineServer_SameImagesAsAnEngineProcess_AndTheNextBuildReusesItWithTheEditedSpec()
    {
        // A space in the path: the server must get the arguments a process would (the command line is split the same way).
        var root = Path.Combine(package.Root, "projects", "in server " + Guid.NewGuid().ToString("N")[..8]);
        var inProcess = BuildTests.TwoServerFixture(package, Path.Combine(root, "process")).WithoutEngineServer();
        var inServer = Fixture(Path.Combine(root, "server"));

        var processBuild = inProcess.BuildOk();
        var first = inServer.BuildOk();

        Assert.DoesNotContain("(engine server, process", processBuild.Output, StringComparison.Ordinal);
        var server = ServerOf(first.Output);
        Assert.Equal(Sorted(inProcess.ReadRelease().Digests), Sorted(inServer.ReadRelease().Digests));

        // Its socket is the user's only: a private directory, a socket only the user may connect to.
        var directory = Path.Combine(_runtime, "kiln");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory));
        var socket = Assert.Single(Directory.GetFiles(directory, "engine-*.sock"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket));

        // The spec edited: the same server builds with the new spec assembly, not types cached from the first build.
        inServer.Specs(BuildTests.TwoServers.Replace("new(\"MODE\", \"production\")", "new(\"MODE\", \"canary\")", StringComparison.Ordinal));
        var second = inServer.BuildOk();

        Assert.Equal(server, ServerOf(second.Output));
        var after = inServer.ReadRelease().Digests["fixture-api:1.2.3"];
        var layout = OciLayout.Open(inServer.LayoutDirectory);
        Assert.Contains("MODE=canary", layout.ReadConfig(layout.ReadManifest(Digest.Parse(after)).Config.Digest).Config.Env);

        // Between builds the server holds no file of the project open (the spec assembly is read into memory).
        Assert.Empty(OpenFilesUnder(server, inServer.Directory));
    }

    [Fact]
    public void Build_ServerBusy_AnotherBuildRunsItsOwnEngine_ServerKilled_TheBuildInItFailsWithKiln4060_AndTheNextBuildStartsANewOne()
    {
        var waiting = Fixture();
        var server = ServerOf(waiting.BuildOk().Output);
        var release = File.ReadAllText(waiting.ReleasePath);
        waiting.Write("files/settings.json", "{ \"mode\": \"after the crash\" }\n");

        Process build;
        StringBuilder output;
        // The output directory's lock, held by this test: the build in the server waits for it, and the server is busy.
        using (new FileStream(Path.Combine(waiting.OutputDirectory, ".kiln-build.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            File.WriteAllText(Path.Combine(waiting.OutputDirectory, ".kiln-build.owner"), $"{Environment.ProcessId}\n");
            build = ProcessRunner.Start("dotnet", ["build", waiting.Directory, "-nologo", "-v:n", "-nodeReuse:false"], waiting.Directory, waiting.BuildEnvironment(null), out output);
            var watch = Stopwatch.StartNew();
            while (!build.HasExited && !Text(output).Contains("waiting for another Kiln build", StringComparison.Ordinal) && watch.Elapsed < TimeSpan.FromMinutes(4))
            {
                Thread.Sleep(50);
            }

            Assert.False(build.HasExited, "the build did not wait for the lock:\n" + Text(output));
            Assert.Equal(server, ServerProcess(Text(output)));

            // Another project's build meanwhile: the server is busy, so that build runs its engine in a process.
            var other = Fixture();
            var otherBuild = other.BuildOk();
            Assert.True(otherBuild.Output.Contains("Kiln: the engine server did not take the image build (the engine server is busy with another build)", StringComparison.Ordinal), KilnLines(otherBuild.Output));
            Assert.DoesNotContain(RanInServer, otherBuild.Output, StringComparison.Ordinal);
            Assert.Equal(2, other.ReadRelease().Digests.Count);

            // The server dies while the build waits in it: SIGKILL, no handler, no cleanup.
            Stop(server);
            Assert.True(build.WaitForExit(TimeSpan.FromMinutes(2)), "the build did not end after its engine server died:\n" + Text(output));
            build.WaitForExit();
        }

        var text = Text(output);
        Assert.True(build.ExitCode != 0, text);
        Assert.Contains("error KILN4060", text, StringComparison.Ordinal);
        Assert.Contains($"engine server (process {server})", text, StringComparison.Ordinal);
        Assert.Equal(release, File.ReadAllText(waiting.ReleasePath));
        build.Dispose();

        // The dead server's socket is still there; the next build finds nobody answering and starts a new server.
        var next = waiting.BuildOk();
        Assert.NotEqual(server, ServerOf(next.Output));
        Assert.Equal("{ \"mode\": \"after the crash\" }\n", EntryPointTests.ReadFileFromImage(waiting.LayoutDirectory, waiting.ReadRelease().Digests["fixture-api:1.2.3"], "app/settings.json"));
    }

    [Fact]
    public void Build_EngineServerIdleTimeout_StopsTheServerAndRemovesItsSocket_AndABadValueIsKiln4061()
    {
        var fixture = Fixture().WithEnvironment("KilnEngineServerIdleTimeout", "2");
        var server = ServerOf(fixture.BuildOk().Output);
        var socket = Assert.Single(Directory.GetFiles(Path.Combine(_runtime, "kiln"), "engine-*.sock"));

        var watch = Stopwatch.StartNew();
        while (Running(server) && watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            Thread.Sleep(100);
        }

        Assert.False(Running(server), "the engine server did not stop after 2 s without a build");
        Assert.False(File.Exists(socket), "the stopped server left its socket");

        fixture.Write("files/settings.json", "{ \"mode\": \"bad timeout\" }\n");
        var bad = fixture.Build("-p:KilnEngineServerIdleTimeout=soon");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("error KILN4061", bad.Output, StringComparison.Ordinal);
        Assert.Contains("KilnEngineServerIdleTimeout is 'soon'", bad.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// A build run as root with another user's XDG_RUNTIME_DIR (<c>sudo -E</c>), where that user runs a server on the
    /// socket the build looks for: the build sends it nothing and warns (KILN4062), and the server answers no root build.
    /// The other user is nobody (65534); the test needs root to be both.
    /// </summary>
    [SkippableFact]
    public void Build_AnotherUsersProcessOnTheSocket_GetsNothing_TheBuildWarnsKiln4062AndRunsItsEngine_AndThatServerAnswersNoOtherUser()
    {
        if (Environment.UserName != "root")
        {
            ToolPolicy.Unavailable("this test runs a server as another user (nobody), which needs root");
        }

        var setpriv = Tools.Require("setpriv", "util-linux");
        var fixture = Fixture();
        var ownServer = ServerOf(fixture.BuildOk().Output);
        var socketName = Path.GetFileName(Assert.Single(Directory.GetFiles(Path.Combine(_runtime, "kiln"), "engine-*.sock")));

        // nobody's runtime directory, and in it a Kiln engine server of nobody's on the very socket name the build uses
        // (the name does not depend on the directory). The engine is copied to a directory the user nobody can read.
        var others = Directory.CreateTempSubdirectory("kiln-server-nobody-").FullName;
        try
        {
            var runtime = Path.Combine(others, "runtime");
            var engine = Path.Combine(others, "engine");
            Directory.CreateDirectory(runtime);
            CopyDirectory(Path.GetDirectoryName(KilnCli.EnginePath(package))!, engine);
            File.SetUnixFileMode(others, (UnixFileMode)0b111_101_101);
            var chown = ProcessRunner.Run("chown", ["-R", "65534:65534", runtime], others);
            Assert.True(chown.ExitCode == 0, chown.ToString());
            var socket = Path.Combine(runtime, "kiln", socketName);
            using var foreign = ProcessRunner.Start(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", "exec", Path.Combine(engine, "kiln.dll"), "engine-server", "--socket", socket, "--idle-seconds", "120"], others,
                new Dictionary<string, string?> { ["HOME"] = others, ["DOTNET_CLI_HOME"] = others, ["DOTNET_NOLOGO"] = "1" }, out var foreignOutput);
            Track(foreign.Id);
            var watch = Stopwatch.StartNew();
            while (!File.Exists(socket) && !foreign.HasExited && watch.Elapsed < TimeSpan.FromSeconds(30))
            {
                Thread.Sleep(50);
            }

            Assert.True(File.Exists(socket), "nobody's engine server did not start:\n" + Text(foreignOutput));

            // The server: a request from root gets no answer at all; the same request to root's own server gets one.
            Assert.Null(RawRequest(socket));
            Assert.Equal((EngineServerProtocol.Busy, "only image builds run in the engine server"), RawRequest(Path.Combine(_runtime, "kiln", socketName)));

            // The build: root, with nobody's XDG_RUNTIME_DIR. It warns and builds in a process; nobody's server ran nothing.
            fixture.Write("files/settings.json", "{ \"mode\": \"not through nobody\" }\n");
            var build = fixture.WithEnvironment("XDG_RUNTIME_DIR", runtime).BuildOk();
            Assert.Contains("warning KILN4062", build.Output, StringComparison.Ordinal);
            Assert.Contains(socket, build.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(RanInServer, build.Output, StringComparison.Ordinal);
            Assert.Equal("{ \"mode\": \"not through nobody\" }\n", EntryPointTests.ReadFileFromImage(fixture.LayoutDirectory, fixture.ReadRelease().Digests["fixture-api:1.2.3"], "app/settings.json"));
            Assert.False(foreign.HasExited, "nobody's server stopped: " + Text(foreignOutput));
            Assert.True(Running(ownServer));
        }
        finally
        {
            Directory.Delete(others, recursive: true);
        }
    }

    /// <summary>
    /// Sends one request straight to the socket (arguments that are not an image build) and reads the first frame of the
    /// answer: null when the server closed the connection without one.
    /// </summary>
    private static (byte Kind, string Text)? RawRequest(string socketPath)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        socket.ReceiveTimeout = 30_000;
        using var stream = new NetworkStream(socket);
        stream.Write(EngineServerProtocol.EncodeRequest("/", [new("PATH", "/usr/bin:/bin")], ["version"]));
        try
        {
            return EngineServerProtocol.ReadFrame(stream);
        }
        catch (IOException)
        {
            return null; // closed (or reset, the request unread) without a frame
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }

    /// <summary>The lines of a build's output that mention Kiln, for an assertion's message.</summary>
    internal static string KilnLines(string output) =>
        string.Join('\n', output.Split('\n').Where(l => l.Contains("Kiln", StringComparison.OrdinalIgnoreCase) && l.Length < 2000));

    private static bool Running(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);

    private static List<string> Sorted(IReadOnlyDictionary<string, string> digests) =>
        [.. digests.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => $"{d.Key}={d.Value}")];

    /// <summary>The files under <paramref name="directory"/> that process <paramref name="pid"/> holds open.</summary>
    private static List<string> OpenFilesUnder(int pid, string directory)
    {
        var open = new List<string>();
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith(directory, StringComparison.Ordinal))
                {
                    open.Add(target);
                }
            }
            catch (IOException)
            {
                // closed meanwhile
            }
        }

        return open;
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}
