using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Kiln.Tests.Registry;

/// <summary>
/// A CNCF distribution registry (Debian package docker-registry) for one test: its own storage directory, a free
/// 127.0.0.1 port, optional htpasswd basic auth and TLS. Stopped by its own process id. Shared (linked) by the OCI
/// and integration test projects.
/// </summary>
internal sealed class RegistryServer : IDisposable
{
    private readonly string _config;
    private Process? _process;

    private RegistryServer(string directory, int port, string config, bool tls)
    {
        Directory = directory;
        Port = port;
        _config = config;
        Tls = tls;
    }

    /// <summary>The registry binary, or null when docker-registry is not installed.</summary>
    public static string? Binary => new[] { "/usr/bin/docker-registry", "/usr/local/bin/docker-registry", "/usr/sbin/docker-registry" }.FirstOrDefault(File.Exists);

    public string Directory { get; }

    public int Port { get; }

    public bool Tls { get; }

    /// <summary>host:port, as in an image reference.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public string StorageDirectory => Path.Combine(Directory, "storage");

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>
    /// Starts a registry; <paramref name="htpasswd"/> enables basic auth, a certificate/key pair TLS. Without
    /// docker-registry the test is skipped loudly (failed under KILN_REQUIRE_TOOLS=1).
    /// </summary>
    public static RegistryServer Start(string? htpasswd = null, string? certificate = null, string? key = null, int? port = null)
    {
        if (Binary is null)
        {
            Kiln.Tests.Shared.ToolPolicy.Unavailable("'docker-registry' is not installed (apt-get install -y docker-registry); this test runs a real registry.");
        }

        var directory = Path.Combine(Path.GetTempPath(), "kiln-registry-" + Guid.NewGuid().ToString("N")[..10]);
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "storage"));
        var chosen = port ?? LoopbackListener.FreePort();
        var config = Path.Combine(directory, "config.yml");
        var auth = htpasswd is null ? "" : $"auth:\n  htpasswd:\n    realm: kiln-test\n    path: {htpasswd}\n";
        var tls = certificate is null ? "" : $"  tls:\n    certificate: {certificate}\n    key: {key}\n";
        File.WriteAllText(config, $"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {Path.Combine(directory, "storage")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{chosen}
              secret: kiln-test-secret
            {tls}
            """ + auth);
        var server = new RegistryServer(directory, chosen, config, certificate is not null);
        server.Resume();
        return server;
    }

    /// <summary>Starts the registry process again (same port, same storage).</summary>
    public void Resume()
    {
        var start = new ProcessStartInfo(Binary!, ["serve", _config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"docker-registry exited with {_process.ExitCode} at start (config {_config}).");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new InvalidOperationException($"docker-registry did not listen on {Host} within 20 s.");
    }

    /// <summary>Stops the registry by its process id (storage is kept, so <see cref="Resume"/> brings it back).</summary>
    public void Stop()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(10_000);
            }

            process.Dispose();
            _process = null;
        }
    }

    public void Dispose()
    {
        Stop();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Writes an htpasswd file (bcrypt) with one user, using apache2-utils' htpasswd; null when not installed.</summary>
    public static string? Htpasswd(string directory, string user, string password)
    {
        var tool = new[] { "/usr/bin/htpasswd", "/usr/sbin/htpasswd" }.FirstOrDefault(File.Exists);
        if (tool is null)
        {
            return null;
        }

        var start = new ProcessStartInfo(tool, ["-Bbn", user, password]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        var line = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var path = Path.Combine(directory, "htpasswd");
        System.IO.Directory.CreateDirectory(directory);
        File.WriteAllText(path, line);
        return path;
    }

    /// <summary>A self-signed certificate for 127.0.0.1 (openssl); returns (certificate, key) paths, or null without openssl.</summary>
    public static (string Certificate, string Key)? SelfSignedCertificate(string directory)
    {
        var tool = new[] { "/usr/bin/openssl" }.FirstOrDefault(File.Exists);
        if (tool is null)
        {
            return null;
        }

        System.IO.Directory.CreateDirectory(directory);
        var certificate = Path.Combine(directory, "cert.pem");
        var key = Path.Combine(directory, "key.pem");
        var start = new ProcessStartInfo(tool, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? (certificate, key) : null;
    }
}
